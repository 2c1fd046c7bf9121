// Session: the engine-neutral heart of a Database. It owns the engine's connection and a cache
// of prepared statements, runs every statement (binding, counting, telling listeners), and
// keeps the transaction stack. The QuerySet, the SQL builder and the prefetch engine run SQL
// only through a Session.
//
// What it guards, for every statement:
// - one thread at a time: a second thread using the Database while the first is inside it gets
//   a UsageError instead of a crash or another query's rows;
// - a transaction the engine ended by itself (SQLite rolls back on a full disk) stays ended:
//   every later statement of it throws TransactionAborted until its outermost scope ends, so no
//   later write slips into autocommit;
// - a database file deleted, moved or replaced while open is refused before a write, at BEGIN
//   and at COMMIT (in WAL mode SQLite would accept the writes and lose them);
// - listeners observe: one that throws after a statement that changed something does not undo
//   or misreport it (see ListenerError).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "../options.hpp"
#include "binder.hpp"
#include "config.hpp"
#include "engine/engine.hpp"
#include "excerpt.hpp"
#include "statement_kind.hpp"
#include "std_light.hpp"
#include "workers.hpp"

namespace loom {
class Database;
}

namespace loom::detail {

class Session;

/// One prefetch level's fetch phase: its statements (planned on the evaluating thread from the
/// parents' keys) and how it reads their rows into its own objects. Session::fetch_together
/// runs a batch of them; each level's stitch phase (filling the parents' caches) comes after,
/// on the evaluating thread, in plan order (detail/prefetch/node.hpp).
struct LevelFetch {
    LevelFetch() = default;
    LevelFetch(const LevelFetch&) = delete;
    LevelFetch& operator=(const LevelFetch&) = delete;
    virtual ~LevelFetch() = default;

    /// The database the statements read: null for the batch's own (fetch_together's); another
    /// for a Prefetch whose queryset belongs to another Database.
    Session* session = nullptr;
    /// What listeners see as the origin ("prefetch Book::authors").
    std::string origin;
    /// The statements, in order (one per chunk of keys); none when there is nothing to look up.
    std::vector<SqlText> statements;

    /// Reads one result row into the level's own objects. May run on a worker thread, beside
    /// other levels' row(): it touches nothing but this level's data (no parent, no cache, no
    /// Session).
    virtual void row(const Statement& s) = 0;
    /// After the last row, on the same thread: checks what was read (a key with no row...);
    /// what it throws is the level's error.
    LOOM_DECL virtual void fetched();
};

/// A statement a session ran on another thread (a chunk loaded ahead), held until the
/// caller's thread reports it (Session::replay): a QueryEvent that owns what it shows.
struct HeldEvent {
    HeldEvent(const QueryEvent& e, std::uint64_t batch_);
    /// The event again, viewing this one's strings and values (scope, server and connection
    /// are the replaying session's to set).
    QueryEvent event() const;

    std::string sql;
    std::vector<Value> params;
    std::chrono::nanoseconds duration{};
    std::int64_t rows = 0;
    bool read_only = true;
    std::string origin, error, serial;
    std::uint64_t scope = 0;
    std::chrono::steady_clock::time_point start{};
    int connection = 0;
    /// Non-zero for the statements of one batch of levels reported together (a listener's
    /// exception is thrown after the whole batch, as Session::report does).
    std::uint64_t batch = 0;
};

/// Thrown (not a std::exception: nothing on the way catches it as an error) when the thread
/// that loads a chunk ahead is about to use another Session than its own: a Prefetch whose
/// QuerySet reads another Database, which belongs to the caller's thread. Nothing of that
/// Session was touched; the chunk is loaded again, serially, on the caller's thread.
struct ReadsElsewhere {};

class Session {
    struct Entry {
        std::unique_ptr<Statement> stmt;
        bool busy = false;
    };
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };

public:
    /// A statement from the cache, marked busy until released: re-entrant use of the same SQL
    /// (a query issued while another with the same text is still stepping) gets a fresh one.
    class Handle {
    public:
        Handle(Statement* s, Entry* e) : stmt_(s), entry_(e) {}
        explicit Handle(std::unique_ptr<Statement> owned)
            : stmt_(owned.get()), owned_(std::move(owned)) {}
        Handle(Handle&& o) noexcept
            : stmt_(std::exchange(o.stmt_, nullptr)),
              entry_(std::exchange(o.entry_, nullptr)),
              owned_(std::move(o.owned_)) {}
        Handle& operator=(Handle&&) = delete;
        ~Handle() {
            if (stmt_) stmt_->reset();
            if (entry_) entry_->busy = false;
        }
        Statement& operator*() const noexcept { return *stmt_; }
        Statement* operator->() const noexcept { return stmt_; }

    private:
        Statement* stmt_;
        Entry* entry_ = nullptr;
        std::unique_ptr<Statement> owned_;
    };

    Session(std::unique_ptr<engine::Connection> conn, const std::string& path, Options options);
    /// A session on a read replica of `root`'s database, named `server`: its statements are
    /// counted by `root`, shown to `root`'s listeners (QueryEvent::server says where they ran),
    /// and it belongs to the thread that uses `root`.
    Session(std::unique_ptr<engine::Connection> conn, const std::string& path, Options options,
            Session& root, std::string server);
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session();

    const Options& options() const noexcept { return options_; }
    Options& options() noexcept { return options_; }
    const std::string& path() const noexcept { return path_; }
    engine::Connection& connection() noexcept { return *conn_; }
    const engine::Dialect& dialect() const noexcept { return conn_->dialect(); }

    // ---- running statements ----------------------------------------------------------------

    /// How to open the connection again after the server closed it (see reconnect_if_lost);
    /// without one, a lost connection stays lost.
    void set_reopen(std::function<std::unique_ptr<engine::Connection>()> reopen);
    /// Outside a transaction, a connection the server closed is replaced by a new one (its
    /// prepared statements with it). Inside one, the loss stands: the transaction is gone and
    /// its scope reports it until it ends. Not a statement listeners see; a failure to connect
    /// is the engine's typed error (CantOpenError).
    void reconnect_if_lost();

    Handle prepare(std::string_view sql);
    /// The statement run() runs: the connection back if the server closed it, then prepared.
    Handle start_statement(std::string_view sql);
    std::size_t cached_statements() const noexcept { return cache_.size(); }
    /// Drops the cached statements not in use: after a schema change, a PostgreSQL statement
    /// prepared before it may no longer run ("cached plan must not change result type").
    void forget_statements() { evict_idle(); }

    /// Binds `params` in order.
    static auto bind_all(const std::vector<Value>& params) {
        return [&params](Binder& b) {
            for (const auto& v : params) b.value(v);
        };
    }

    /// Runs one statement: `bind(Binder&)` binds its parameters, `on_row(const Statement&)`
    /// sees each row. Counts the statement and tells listeners. Returns the number of rows.
    template <class Bind, class OnRow>
    std::int64_t run(std::string_view sql, Bind&& bind, OnRow&& on_row,
                     std::string_view origin = {}) {
        Running r(*this, sql, origin);
        try {
            bind(r.binder);
            while (r.stmt->step()) {
                ++r.rows;
                on_row(static_cast<const Statement&>(*r.stmt));
            }
        } catch (const std::exception& e) {
            r.failed(e);
            throw;
        }
        return r.done();
    }
    /// Runs one statement with these parameters.
    template <class OnRow>
    std::int64_t run(const SqlText& q, OnRow&& on_row, std::string_view origin = {}) {
        return run(q.sql, bind_all(q.params), std::forward<OnRow>(on_row), origin);
    }
    /// Runs a statement that returns no rows; returns the rows it changed.
    template <class Bind>
    std::int64_t execute(std::string_view sql, Bind&& bind, std::string_view origin = {}) {
        run(
            sql, std::forward<Bind>(bind), [](const Statement&) {}, origin);
        return conn_->changes();
    }
    std::int64_t execute(std::string_view sql, std::string_view origin = {});

    std::int64_t last_insert_id() const noexcept { return conn_->last_insert_id(); }
    /// Whether the engine fills in `key_column` of `raw_table` on INSERT; asked once per
    /// model (`model` identifies it: its ModelMeta).
    bool assigns_keys(const void* model, std::string_view raw_table, std::string_view key_column);
    std::int64_t query_count() const noexcept { return query_count_; }

    // ---- servers (read replicas) --------------------------------------------------------------

    /// The session of the primary (this one, unless this is a replica's): the Database whose
    /// statements this session runs. A session that loads chunks ahead names the Database it
    /// loads for, though it counts and reports its statements itself (open_ahead).
    Session& root() noexcept { return loads_for_ ? *loads_for_ : *root_; }
    /// "primary", or the replica's name.
    const std::string& server() const noexcept { return server_; }
    /// Statements that wrote (not read-only to the engine) on this root session, and when the
    /// last one ended.
    std::uint64_t writes() const noexcept { return writes_; }
    std::chrono::steady_clock::time_point last_write() const noexcept { return last_write_; }
    void reset_query_count() noexcept { query_count_ = 0; }
    std::int64_t round_trips() const noexcept { return conn_->round_trips(); }

    // ---- key lists ----------------------------------------------------------------------------

    int variable_limit() const noexcept { return conn_->variable_limit(); }
    void set_variable_limit(int n) { conn_->set_variable_limit(n); }
    /// Most keys per IN list: the batch size if set, else the variable limit.
    std::size_t max_keys_per_query() const noexcept {
        std::size_t lim = static_cast<std::size_t>(std::max(variable_limit(), 1));
        if (options_.batch_size) lim = std::min(lim, options_.batch_size);
        return lim;
    }
    /// Key lists longer than this are bound as one array parameter; SIZE_MAX when the engine
    /// cannot (see Options::json_keys_above).
    std::size_t key_array_above() {
        if (!conn_->supports_key_arrays()) return std::numeric_limits<std::size_t>::max();
        return dialect().key_arrays_always ? 0 : options_.json_keys_above;
    }

    // ---- one thread at a time ----------------------------------------------------------------

    /// Marks the session in use by this thread while alive (re-entrant on one thread). Another
    /// thread that tries to use it meanwhile gets a UsageError: one CAS per statement instead of
    /// two threads stepping one connection at once (a crash, a hang, or another query's rows).
    class Use {
    public:
        explicit Use(Session& s) : s_(s), outer_(s.enter()) {}
        ~Use() {
            if (outer_) s_.root_->owner_.store(std::thread::id{}, std::memory_order_release);
        }
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;

    private:
        Session& s_;
        bool outer_;
    };

    /// One statement as run() runs it, apart from binding and reading its rows: what does
    /// not depend on the caller's callbacks, compiled once instead of once per run() call site.
    class Running {
    public:
        Running(Session& s, std::string_view sql, std::string_view origin);
        Running(const Running&) = delete;
        Running& operator=(const Running&) = delete;
        ~Running();

        /// After an exception from binding, stepping or the caller's row callback.
        void failed(const std::exception& e) noexcept;
        /// After the last row: counts the statement and tells the listeners.
        std::int64_t done();

    private:
        Session& s_;
        const Use use_;

    public:
        const Handle stmt;
        Binder binder{*stmt, nullptr};
        std::int64_t rows = 0;

    private:
        std::string_view sql_, origin_;
        bool reads_ = false, observed_ = false;
        std::vector<Value> params_;
        std::chrono::steady_clock::time_point start_{};
    };

    // ---- calls --------------------------------------------------------------------------------

    /// One loom operation that may run several statements or update the caller's objects after
    /// its statement (insert sets the key, bulk_insert commits...). A listener exception after
    /// a statement that changed something, and that the call's own transaction will not undo,
    /// is held until the outermost Call has finished its work, then thrown as a ListenerError
    /// by finish(): the work stands and is reported as done.
    class Call {
    public:
        explicit Call(Session& s);
        ~Call();
        Call(const Call&) = delete;
        Call& operator=(const Call&) = delete;
        /// The call's work is done: throws the listener error held for it, if any.
        void finish();

    private:
        Use use_;
        Session& s_;
        bool finished_ = false;
    };

    // ---- listeners ----------------------------------------------------------------------------

    std::uint64_t add_listener(QueryListener l);
    void set_hook(QueryListener hook);
    void remove_listener(std::uint64_t id);

    /// Labels the statements run while alive (the origin listeners see), and gives them one
    /// scope number.
    class OriginScope {
    public:
        OriginScope(Session& s, std::string_view o);
        ~OriginScope();
        OriginScope(const OriginScope&) = delete;
        OriginScope& operator=(const OriginScope&) = delete;

    private:
        Use use_;
        Session& s_;
        std::string_view saved_;
        std::uint64_t saved_scope_;
    };

    // ---- transactions -------------------------------------------------------------------------

    int depth() const noexcept { return depth_; }
    /// The label listeners see for statements run now ("load" inside an explicit load).
    std::string_view origin() const noexcept { return origin_; }

    /// A transaction, or a savepoint inside one, that rolls back unless committed. Public
    /// loom::Transaction and every multi-statement write use it. While open, the Database
    /// belongs to the thread that opened it: another thread's statement would join it.
    class TransactionScope {
    public:
        explicit TransactionScope(Session& s);
        TransactionScope(const TransactionScope&) = delete;
        TransactionScope& operator=(const TransactionScope&) = delete;
        ~TransactionScope();
        /// Commits (releases a savepoint). TransactionAborted when the engine already ended
        /// the transaction: nothing of it can be committed (the scope stays open until it is
        /// destroyed or rolled back, which then costs nothing).
        void commit();
        void rollback();
        bool active() const noexcept { return !done_; }

    private:
        void check(const char* what) const;
        Use use_;
        Session& s_;
        int depth_;
        bool done_ = false;
    };

    /// While alive, the statements of one QuerySet evaluation (the base query and every
    /// prefetch level) read one snapshot of the database, so a write committed by another
    /// connection in between is seen by all of them or by none: a read transaction, not
    /// counted and not shown to listeners as queries. Does nothing when `wanted` is false or a
    /// transaction is already open.
    ///
    /// `siblings`: the most prefetch levels that may run at the same time in this evaluation
    /// (prefetch_width()); above 1, worker connections join the snapshot now, before the base
    /// query, so that the levels they run later read what it read (see fetch_together).
    class ReadSnapshot {
    public:
        ReadSnapshot(Session& s, bool wanted, std::size_t siblings = 0);
        ~ReadSnapshot();
        ReadSnapshot(const ReadSnapshot&) = delete;
        ReadSnapshot& operator=(const ReadSnapshot&) = delete;

    private:
        Use use_;  // the whole evaluation belongs to one thread
        Session& s_;
        bool active_ = false;
    };

    // ---- prefetch levels at the same time --------------------------------------------------

    /// Runs the fetch phase of a batch of prefetch levels that depend only on rows already
    /// loaded (siblings), each level's statements in order and its rows read by its row().
    ///
    /// This is the seam between the prefetch engine and the engines: the engine plans and
    /// stitches, this call decides how the statements run.
    /// - SQLite file databases: with worker connections in the evaluation's snapshot
    ///   (ReadSnapshot, or one opened here for this batch when none is open), levels run at
    ///   the same time, one a connection, the evaluating thread taking one too; their
    ///   QueryEvents are held and delivered afterwards on this thread, in plan order.
    /// - Serially, on this connection, in plan order, as statements always run: with no worker
    ///   connection (":memory:", Options::prefetch_workers = 0), inside a
    ///   transaction, when no shared snapshot could be opened (QueryEvent::serial says why).
    /// - PostgreSQL (Connection::runs_together): every level's statements sent in one libpq
    ///   pipeline on this connection, the results read in plan order: one round trip.
    /// A level reading another Database (a Prefetch with that Database's queryset) runs on it,
    /// serially. A level that fails (its statement's error, or what its row() or fetched()
    /// threw) fails the call with that same exception, the first in plan order, after every
    /// level of the batch has ended and every statement that ran was counted and reported;
    /// the caller then stitches nothing.
    void fetch_together(std::span<LevelFetch* const> levels);

    /// Worker connections open now (for tests and the profile).
    std::size_t worker_connections() const noexcept { return pool_ ? pool_->readers.size() : 0; }

    // ---- chunks loaded ahead (chunks(n, loom::ahead)) ------------------------------------------

    /// A session of its own on which another thread loads the next chunk while the caller
    /// works on the current one: a read-only connection to the same database, opened now, with
    /// this session's options (its own worker connections for sibling levels). Its statements
    /// are held (held()), counted and reported by no one until the caller's thread replays
    /// them on this session. Null, with `why` set, when the engine has no second connection
    /// (":memory:", PostgreSQL today) or it could not be opened.
    std::unique_ptr<Session> open_ahead(std::string& why);
    /// An ahead session's statements since the last replay.
    std::vector<HeldEvent>& held() noexcept { return ahead_held_; }
    /// Makes an ahead session read as this one does now (its options, key-list limits).
    void copy_settings_to(Session& ahead) const;

    /// While alive, this thread loads a chunk ahead on `own` and may use no other Session: one
    /// that it tries to enter throws ReadsElsewhere before anything of it is touched.
    class AheadThread {
    public:
        explicit AheadThread(Session& own) noexcept;
        ~AheadThread();
        AheadThread(const AheadThread&) = delete;
        AheadThread& operator=(const AheadThread&) = delete;
    };

    /// Counts and reports on this (the caller's) thread the statements an ahead session ran for
    /// it, in the order they ran, as if they had run here: scopes renumbered, `connection`
    /// added to each one's connection number, this session's server. A listener's exception
    /// stops the replay after it (the statements after it are neither counted nor reported: a
    /// serial run would not have run them; those of its batch of levels, which did run, are)
    /// and is thrown, as Session::run and report() throw it. Consumes `held`.
    void replay(std::vector<HeldEvent>& held, int connection);

    /// While alive, the statements run here say why they did not run elsewhere
    /// (QueryEvent::serial): the base query of a chunk that was not loaded ahead.
    class SerialNote {
    public:
        SerialNote(Session& s, std::string why);
        ~SerialNote();
        SerialNote(const SerialNote&) = delete;
        SerialNote& operator=(const SerialNote&) = delete;

    private:
        Session& s_;
        std::string saved_;
    };

private:
    void fetch_serial(LevelFetch& l);

    /// What a worker connection's (or the evaluating thread's) run of one statement was, held
    /// for listeners.
    struct Ran {
        std::chrono::steady_clock::time_point start;
        std::chrono::nanoseconds duration{};
        std::int64_t rows = 0;
        std::string error;
    };
    struct Outcome {
        std::vector<Ran> ran;
        std::exception_ptr error;
        int connection = 0;
    };

    /// A worker connection and the statements prepared on it.
    struct Reader {
        std::unique_ptr<engine::Connection> conn;
        std::unordered_map<std::string, std::unique_ptr<Statement>, Hash, std::equal_to<>> cache;
        Statement& prepare(std::string_view sql, std::size_t most);
    };
    struct Pool {
        std::vector<Reader> readers;
        bool none = false;  // the engine has no reader for this database
        WorkerThreads threads;
    };

    /// Runs `l`'s statements and reads their rows, recording each run; never throws.
    template <class WithStatement>
    static void fetch_recorded(LevelFetch& l, Outcome& out, WithStatement&& with) noexcept {
        try {
            out.ran.reserve(l.statements.size());
            for (const auto& q : l.statements) {
                Ran& r = out.ran.emplace_back();
                r.start = std::chrono::steady_clock::now();
                try {
                    with(q.sql, [&](Statement& st) {
                        Binder binder(st, nullptr);
                        for (const auto& v : q.params) binder.value(v);
                        while (st.step()) {
                            ++r.rows;
                            l.row(static_cast<const Statement&>(st));
                        }
                    });
                } catch (const std::exception& e) {
                    r.duration = std::chrono::steady_clock::now() - r.start;
                    r.error = e.what();
                    throw;
                }
                r.duration = std::chrono::steady_clock::now() - r.start;
            }
            l.fetched();
        } catch (...) {
            out.error = std::current_exception();
        }
    }

    void run_parallel(const std::vector<LevelFetch*>& levels);

    /// Sends every statement of `levels` to the engine at once (Connection::run_together: one
    /// PostgreSQL pipeline, one round trip), then reads each level's rows in plan order. A
    /// statement's duration is the wait for its own result after the one before it (or after
    /// the batch was sent) plus the reading of its rows, so listeners see each statement with
    /// its own share of the round trip.
    void run_pipelined(const std::vector<LevelFetch*>& levels);

    /// Counts and reports every statement of a batch that ran, in plan order, on this thread;
    /// then throws the first level's error (or else a listener's).
    void report(const std::vector<LevelFetch*>& levels, const std::vector<Outcome>& out);

    /// Opens the evaluation's read snapshot, with up to `readers` worker connections in it.
    void begin_snapshot(std::size_t readers);
    /// Opens worker connections until there are `n` (or the engine has none for this
    /// database); returns how many there are, at most `n`.
    std::size_t open_readers(std::size_t n);
    /// Ends the snapshot begin_snapshot opened, on every connection in it.
    void end_snapshot() noexcept;

    /// The session this thread loads a chunk ahead on (null: none, the usual case).
    static Session*& ahead_thread() noexcept;

    /// Marks transaction-control statements, which check for themselves.
    struct Control {
        explicit Control(Session& s) : s_(s), saved_(std::exchange(s.control_, true)) {}
        ~Control() { s_.control_ = saved_; }
        Session& s_;
        bool saved_;
    };

    void begin();
    void commit();
    void rollback();
    void rollback_noexcept() noexcept;

    bool enter();

    /// Before a statement that is not transaction control.
    void guard(std::string_view sql, bool reads);
    void check_not_aborted(std::string_view sql) const;
    void abort_stack(std::string why, int code);
    /// After a failed statement: did the engine end the transaction with it?
    void failed(const std::exception& e, std::string_view sql) noexcept;

    /// A listener threw after `sql` succeeded.
    void listener_threw(std::string_view sql, bool reads, std::exception_ptr err);
    [[noreturn]] void throw_listener_error(const std::string& sql, std::exception_ptr err);

    void evict_idle();

    /// Tells every listener; returns the first exception one threw (the others still run).
    std::exception_ptr notify(const Statement& stmt, const std::vector<Value>& params,
                              std::chrono::steady_clock::time_point start, std::int64_t rows,
                              std::string_view origin, std::string_view error) noexcept;
    /// Tells every listener about `ev`; returns the first exception one threw.
    std::exception_ptr deliver(const QueryEvent& ev) noexcept;

    Options options_;
    std::string path_;
    std::unique_ptr<engine::Connection> conn_;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
    std::int64_t query_count_ = 0;
    int depth_ = 0;
    bool control_ = false;  // running BEGIN / COMMIT / ROLLBACK / SAVEPOINT / RELEASE
    std::string aborted_;   // why the engine ended the open transaction ("": it did not)
    int aborted_code_ = 0;
    int calls_ = 0;       // Calls in progress
    int call_depth_ = 0;  // the transaction depth when the outermost one began
    struct Held {
        std::string sql;
        std::exception_ptr error;
    } held_;  // a listener's exception waiting for the outermost Call
    std::atomic<std::thread::id> owner_{};
    std::unordered_map<const void*, bool> assigns_keys_;
    std::string_view origin_;
    std::uint64_t scope_ = 0, next_scope_ = 0;
    std::uint64_t next_listener_ = 0;
    std::vector<std::pair<std::uint64_t, QueryListener>> listeners_;
    std::function<std::unique_ptr<engine::Connection>()> reopen_;
    Session* root_ = this;
    std::string server_ = "primary";
    std::uint64_t writes_ = 0;
    std::chrono::steady_clock::time_point last_write_{};
    // Prefetch levels at the same time: worker connections (opened when first needed), how
    // many of them are in the open read snapshot, and why none are when none are.
    std::size_t armed_ = 0;
    bool snapshot_open_ = false;
    std::string serial_why_;
    std::string serial_note_;                // QueryEvent::serial of the statements running now
    Session* loads_for_ = nullptr;           // an ahead session: the Database it loads chunks for
    std::vector<HeldEvent> ahead_held_;      // an ahead session: its statements, not yet replayed
    std::uint64_t batch_ = 0, batches_ = 0;  // the batch of levels report() is reporting
    std::unique_ptr<Pool> pool_;             // last: its threads stop before anything else goes
};

/// The Session of a Database (defined in database.hpp).
Session& session_of(Database& db) noexcept;
class Router;
/// The read router of a Database (defined in database.hpp).
Router& router_of(Database& db) noexcept;

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/session.hpp"
#endif
