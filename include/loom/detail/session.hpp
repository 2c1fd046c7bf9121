// Session: the engine-neutral heart of a Database. It owns the engine's connection and a cache
// of prepared statements, runs every statement (binding, counting, telling listeners), and
// keeps the transaction stack. The QuerySet, the SQL builder and the prefetch engine run SQL
// only through a Session.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "std_light.hpp"
#include "../errors.hpp"
#include "../options.hpp"
#include "binder.hpp"
#include "engine/engine.hpp"

namespace loom {
class Database;
}

namespace loom::detail {

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

    Session(std::unique_ptr<engine::Connection> conn, const std::string& path, Options options)
        : options_(options), path_(path), conn_(std::move(conn)) {}
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { cache_.clear(); }

    const Options& options() const noexcept { return options_; }
    Options& options() noexcept { return options_; }
    const std::string& path() const noexcept { return path_; }
    engine::Connection& connection() noexcept { return *conn_; }
    const engine::Dialect& dialect() const noexcept { return conn_->dialect(); }

    // ---- running statements ----------------------------------------------------------------

    Handle prepare(std::string_view sql) {
        auto it = cache_.find(sql);
        if (it == cache_.end()) {
            if (cache_.size() >= options_.statement_cache) evict_idle();
            it = cache_.emplace(std::string(sql), Entry{conn_->prepare(sql), false}).first;
        }
        Entry& e = it->second;
        if (e.busy) return Handle(conn_->prepare(sql));
        e.busy = true;
        return Handle(e.stmt.get(), &e);
    }
    std::size_t cached_statements() const noexcept { return cache_.size(); }

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
        auto stmt = prepare(sql);
        const bool observed = !listeners_.empty();
        std::vector<Value> params;
        Binder binder(*stmt, observed ? &params : nullptr);
        std::int64_t rows = 0;
        const auto start = observed ? std::chrono::steady_clock::now()
                                    : std::chrono::steady_clock::time_point{};
        try {
            bind(binder);
            while (stmt->step()) {
                ++rows;
                on_row(static_cast<const Statement&>(*stmt));
            }
        } catch (const std::exception& e) {
            ++query_count_;
            if (observed) notify(*stmt, params, start, rows, origin, e.what());
            throw;
        }
        ++query_count_;
        if (observed) notify(*stmt, params, start, rows, origin, {});
        return rows;
    }
    /// Runs one statement with these parameters.
    template <class OnRow>
    std::int64_t run(const SqlText& q, OnRow&& on_row, std::string_view origin = {}) {
        return run(q.sql, bind_all(q.params), std::forward<OnRow>(on_row), origin);
    }
    /// Runs a statement that returns no rows; returns the rows it changed.
    template <class Bind>
    std::int64_t execute(std::string_view sql, Bind&& bind, std::string_view origin = {}) {
        run(sql, std::forward<Bind>(bind), [](const Statement&) {}, origin);
        return conn_->changes();
    }
    std::int64_t execute(std::string_view sql, std::string_view origin = {}) {
        return execute(sql, [](Binder&) {}, origin);
    }

    std::int64_t last_insert_id() const noexcept { return conn_->last_insert_id(); }
    std::int64_t query_count() const noexcept { return query_count_; }
    void reset_query_count() noexcept { query_count_ = 0; }

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
        return conn_->supports_key_arrays() ? options_.json_keys_above
                                            : std::numeric_limits<std::size_t>::max();
    }

    // ---- listeners ----------------------------------------------------------------------------

    std::uint64_t add_listener(QueryListener l) {
        const auto id = ++next_listener_;
        listeners_.emplace_back(id, std::move(l));
        return id;
    }
    void set_hook(QueryListener hook) {
        remove_listener(0);
        if (hook) listeners_.emplace_back(0, std::move(hook));
    }
    void remove_listener(std::uint64_t id) {
        std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
    }

    /// Labels the statements run while alive (the origin listeners see), and gives them one
    /// scope number.
    class OriginScope {
    public:
        OriginScope(Session& s, std::string_view o)
            : s_(s), saved_(s.origin_), saved_scope_(s.scope_) {
            s.origin_ = o;
            s.scope_ = ++s.next_scope_;
        }
        ~OriginScope() {
            s_.origin_ = saved_;
            s_.scope_ = saved_scope_;
        }
        OriginScope(const OriginScope&) = delete;
        OriginScope& operator=(const OriginScope&) = delete;

    private:
        Session& s_;
        std::string_view saved_;
        std::uint64_t saved_scope_;
    };

    // ---- transactions -------------------------------------------------------------------------

    int depth() const noexcept { return depth_; }
    /// The label listeners see for statements run now ("load" inside an explicit load).
    std::string_view origin() const noexcept { return origin_; }

    /// A transaction, or a savepoint inside one, that rolls back unless committed. Public
    /// loom::Transaction and every multi-statement write use it.
    class TransactionScope {
    public:
        explicit TransactionScope(Session& s) : s_(s), depth_(s.depth_ + 1) { s.begin(); }
        TransactionScope(const TransactionScope&) = delete;
        TransactionScope& operator=(const TransactionScope&) = delete;
        ~TransactionScope() {
            if (!done_) s_.rollback_noexcept();
        }
        void commit() {
            check("commit");
            s_.commit();
            done_ = true;
        }
        void rollback() {
            check("rollback");
            done_ = true;
            s_.rollback();
        }
        bool active() const noexcept { return !done_; }

    private:
        void check(const char* what) const {
            if (done_) throw UsageError(std::string(what) + ": this transaction already ended");
            if (s_.depth_ != depth_)
                throw UsageError(std::string(what) +
                                 ": a nested transaction is still open; end it first");
        }
        Session& s_;
        int depth_;
        bool done_ = false;
    };

    /// While alive, the statements of one QuerySet evaluation (the base query and every
    /// prefetch level) read one snapshot of the database, so a write committed by another
    /// connection in between is seen by all of them or by none: a read transaction, not
    /// counted and not shown to listeners as queries. Does nothing when `wanted` is false or a
    /// transaction is already open.
    class ReadSnapshot {
    public:
        ReadSnapshot(Session& s, bool wanted) : s_(s) {
            if (!wanted || s.depth_ != 0 || s.conn_->in_transaction()) return;
            s.conn_->exec(std::string(s.conn_->begin_snapshot_sql()));
            active_ = true;
        }
        ~ReadSnapshot() {
            auto& c = *s_.conn_;
            if (active_ && c.in_transaction() && !c.exec_noexcept("COMMIT"))
                c.exec_noexcept("ROLLBACK");
        }
        ReadSnapshot(const ReadSnapshot&) = delete;
        ReadSnapshot& operator=(const ReadSnapshot&) = delete;

    private:
        Session& s_;
        bool active_ = false;
    };

private:
    void begin() {
        if (depth_ == 0)
            execute(conn_->begin_sql());
        else
            execute("SAVEPOINT loom_" + std::to_string(depth_));
        ++depth_;
    }
    void commit() {
        if (depth_ == 1)
            execute("COMMIT");
        else
            execute("RELEASE loom_" + std::to_string(depth_ - 1));
        --depth_;
    }
    void rollback() {
        --depth_;
        if (depth_ == 0) {
            execute("ROLLBACK");
        } else {
            const std::string name = "loom_" + std::to_string(depth_);
            execute("ROLLBACK TO " + name);
            execute("RELEASE " + name);
        }
    }
    void rollback_noexcept() noexcept {
        try {
            rollback();
        } catch (...) {
            // The engine may have rolled back already (SQLite does after a full disk); leave
            // nothing open.
            if (depth_ == 0 && conn_->in_transaction()) conn_->exec_noexcept("ROLLBACK");
        }
    }

    void evict_idle() {
        for (auto it = cache_.begin(); it != cache_.end();) {
            if (!it->second.busy)
                it = cache_.erase(it);
            else
                ++it;
        }
    }

    void notify(const Statement& stmt, const std::vector<Value>& params,
                std::chrono::steady_clock::time_point start, std::int64_t rows,
                std::string_view origin, std::string_view error) {
        QueryEvent ev;
        ev.sql = stmt.sql();
        ev.params = params;
        ev.duration = std::chrono::steady_clock::now() - start;
        ev.rows = rows;
        ev.read_only = stmt.read_only();
        ev.changes = error.empty() && !ev.read_only ? conn_->changes() : 0;
        ev.origin = origin.empty() ? origin_ : origin;
        ev.error = error;
        ev.scope = origin.empty() ? scope_ : 0;
        // Copy: a listener may subscribe or unsubscribe others while we call it.
        auto listeners = listeners_;
        for (auto& [id, fn] : listeners) fn(ev);
    }

    Options options_;
    std::string path_;
    std::unique_ptr<engine::Connection> conn_;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> cache_;
    std::int64_t query_count_ = 0;
    int depth_ = 0;
    std::string_view origin_;
    std::uint64_t scope_ = 0, next_scope_ = 0;
    std::uint64_t next_listener_ = 0;
    std::vector<std::pair<std::uint64_t, QueryListener>> listeners_;
};

/// The Session of a Database (defined in database.hpp).
Session& session_of(Database& db) noexcept;

}  // namespace loom::detail
