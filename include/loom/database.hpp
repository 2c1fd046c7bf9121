// loom/database.hpp - loom::Database: a SQLite connection with a statement cache, a query
// counter and query listeners; schema creation; insert / update / remove / save / bulk_insert;
// many-to-many writes through db.m2m(obj, &Model::member).
//
//     loom::Database db{"books.db"};          // or ":memory:"
//     db.create_tables<Publisher, Author, Book, Review>();
//     Book b{.title = "Dune"};
//     db.insert(b);                           // b.id is set
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <unordered_set>
#include <utility>
#include <vector>

#include "detail/sqlite.hpp"
#include "errors.hpp"
#include "model.hpp"
#include "value.hpp"

namespace loom {

/// What a query listener sees for every statement loom runs.
struct QueryEvent {
    std::string_view sql;
    std::span<const Value> params;
    std::chrono::nanoseconds duration{};
    std::int64_t rows = 0;          // rows returned
    std::int64_t changes = 0;       // rows written (INSERT/UPDATE/DELETE)
    std::string_view origin;        // "Book" (a QuerySet), "prefetch Book::authors", "insert"...
    std::string_view error;         // the error message when the statement failed
    /// Statements sharing a non-zero scope were issued by one evaluation step (the base query
    /// of a QuerySet, or every chunk of one prefetch level); 0 outside any such step.
    std::uint64_t scope = 0;
};

using QueryListener = std::function<void(const QueryEvent&)>;

/// How to open a database.
struct Options {
    /// How long a statement waits for a lock held by another connection before BusyError.
    int busy_timeout_ms = 5000;
    /// Switch the file to write-ahead logging (readers no longer block the writer).
    bool wal = false;
    /// Open read-only: every write throws ReadOnlyError.
    bool read_only = false;
    /// Create the file when it does not exist.
    bool create = true;
    /// Most keys in one prefetch IN list (0: the connection's variable limit).
    std::size_t batch_size = 0;
    /// A prefetch level with more keys than this binds them as one JSON array,
    /// `IN (SELECT value FROM json_each(?))`: one statement for any number of keys (no
    /// variable limit, no chunks), and a plan SQLite keeps on the key's index. Fewer keys go
    /// in `IN (?, ?, ...)`. SIZE_MAX: always parameter lists. Without SQLite's JSON functions
    /// (a build with SQLITE_OMIT_JSON) loom uses parameter lists whatever this says.
    std::size_t json_keys_above = 512;
    /// Prepared statements kept for reuse.
    std::size_t statement_cache = 256;
};

template <class T> class QuerySet;
template <class Owner, class Target> class M2MManager;

namespace detail {

/// Binds values in order, recording them for listeners when someone listens.
class Binder {
public:
    Binder(Statement& s, std::vector<Value>* record) : stmt_(s), record_(record) {}

    template <class V>
    void operator()(const V& v) {
        ++index_;
        column_traits<V>::bind(stmt_, index_, v);
        if (record_) record_->push_back(column_traits<V>::value(v));
    }
    void value(const Value& v) {
        ++index_;
        bind_value(stmt_, index_, v);
        if (record_) record_->push_back(v);
    }
    void key(std::optional<std::int64_t> k) {
        if (k)
            integer(*k);
        else
            value(Value{nullptr});
    }
    void integer(std::int64_t v) {
        ++index_;
        stmt_.bind_int(index_, v);
        if (record_) record_->push_back(v);
    }
    int count() const noexcept { return index_; }

private:
    Statement& stmt_;
    std::vector<Value>* record_;
    int index_ = 0;
};

/// Binds every column of `obj` but the pk (and the pk first when `with_pk`).
template <class T>
void bind_object(Binder& b, const T& obj, bool with_pk) {
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (E::kind == entry_kind::pk) {
            if (with_pk) b.integer(obj.*(e.member));
        } else if constexpr (E::kind == entry_kind::field) {
            b(obj.*(e.member));
        } else if constexpr (has_column<E>) {
            b.key((obj.*(e.member)).id());
        }
    });
}

template <class U, class Pack> struct index_in;
template <class U, class... Ts> struct index_in<U, std::tuple<Ts...>> {
    static constexpr std::size_t value = [] {
        constexpr bool same[] = {std::is_same_v<U, Ts>..., false};
        for (std::size_t i = 0; i < sizeof...(Ts); ++i)
            if (same[i]) return i;
        return sizeof...(Ts);
    }();
};

inline std::string_view on_delete_sql(on_delete d) {
    switch (d) {
        case on_delete::cascade: return " ON DELETE CASCADE";
        case on_delete::set_null: return " ON DELETE SET NULL";
        case on_delete::restrict: return " ON DELETE RESTRICT";
        default: return "";
    }
}

/// CREATE TABLE and CREATE INDEX statements of model T (join tables apart).
template <class T>
std::vector<std::string> table_ddl() {
    const ModelMeta& m = meta<T>();
    std::vector<std::string> out;
    std::string ddl = "CREATE TABLE IF NOT EXISTS " + m.table + " (\n";
    std::vector<std::string> indexes;
    bool first = true;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (has_column<E>) {
            if (!first) ddl += ",\n";
            first = false;
            ddl += "  " + quote(e.column) + " ";
            if constexpr (E::kind == entry_kind::pk) {
                ddl += "INTEGER PRIMARY KEY AUTOINCREMENT";
            } else if constexpr (E::kind == entry_kind::field) {
                using V = typename E::value_type;
                ddl += column_traits<V>::sql_type;
                if (!column_traits<V>::nullable) ddl += " NOT NULL";
                if (e.unique) ddl += " UNIQUE";
                if (e.indexed && !e.unique)
                    indexes.push_back("CREATE INDEX IF NOT EXISTS " +
                                      quote(m.raw_table + "_" + std::string(e.column) + "_idx") +
                                      " ON " + m.table + " (" + quote(e.column) + ")");
            } else {
                using Target = typename E::target;
                ddl += "INTEGER";
                if (!e.nullable) ddl += " NOT NULL";
                if constexpr (E::kind == entry_kind::one_to_one) ddl += " UNIQUE";
                ddl += " REFERENCES " + quote(model<Target>.name) + " (" +
                       quote(entry<Target, 0>().column) + ")";
                ddl += on_delete_sql(e.deletion);
                if constexpr (E::kind == entry_kind::foreign_key)
                    indexes.push_back("CREATE INDEX IF NOT EXISTS " +
                                      quote(m.raw_table + "_" + std::string(e.column) + "_idx") +
                                      " ON " + m.table + " (" + quote(e.column) + ")");
            }
        }
    });
    ddl += "\n)";
    out.push_back(std::move(ddl));
    for (auto& s : indexes) out.push_back(std::move(s));
    return out;
}

/// The join tables T owns (automatic many-to-many only).
template <class T>
std::vector<std::string> join_ddl() {
    std::vector<std::string> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>) {
                using Target = typename E::target;
                const JoinInfo& j = join_info<T, I>();
                out.push_back("CREATE TABLE IF NOT EXISTS " + j.table + " (\n  \"id\" INTEGER "
                              "PRIMARY KEY AUTOINCREMENT,\n  " + j.src_column +
                              " INTEGER NOT NULL REFERENCES " + meta<T>().table + " (" +
                              meta<T>().pk + ") ON DELETE CASCADE,\n  " + j.dst_column +
                              " INTEGER NOT NULL REFERENCES " + meta<Target>().table + " (" +
                              meta<Target>().pk + ") ON DELETE CASCADE,\n  UNIQUE (" +
                              j.src_column + ", " + j.dst_column + ")\n)");
                // The UNIQUE index serves lookups by src; the other direction needs its own.
                out.push_back("CREATE INDEX IF NOT EXISTS " +
                              quote(j.raw_table + "_" + j.raw_dst + "_idx") + " ON " + j.table +
                              " (" + j.dst_column + ")");
            }
        }
    });
    return out;
}

template <class T>
std::vector<std::string> join_tables_of() {
    std::vector<std::string> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>) out.push_back(join_info<T, I>().table);
        }
    });
    return out;
}

template <class T, class Pack>
void add_dependencies(std::vector<std::size_t>& out, std::size_t self) {
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
            constexpr std::size_t d = index_in<typename E::target, Pack>::value;
            if (d != std::tuple_size_v<Pack> && d != self) out.push_back(d);
        }
    });
}

/// Models in an order where every model comes after the models its foreign keys point at
/// (self-references and cycles keep the order given).
template <class... Ts>
std::vector<std::size_t> dependency_order() {
    constexpr std::size_t N = sizeof...(Ts);
    using Pack = std::tuple<Ts...>;
    std::vector<std::vector<std::size_t>> deps(N);
    std::size_t k = 0;
    ((add_dependencies<Ts, Pack>(deps[k], k), ++k), ...);
    std::vector<std::size_t> order;
    std::vector<int> state(N, 0);  // 0 new, 1 visiting, 2 done
    std::function<void(std::size_t)> visit = [&](std::size_t n) {
        if (state[n] != 0) return;  // done, or a cycle: keep the given order
        state[n] = 1;
        for (auto d : deps[n]) visit(d);
        state[n] = 2;
        order.push_back(n);
    };
    for (std::size_t n = 0; n < N; ++n) visit(n);
    return order;
}

}  // namespace detail

/// A connection to one SQLite database. Not thread-safe: use one Database per thread.
class Database {
public:
    /// Opens (and by default creates) the file at `path`; ":memory:" for a private in-memory
    /// database. Foreign keys are enforced. Throws CantOpenError, NotADatabaseError.
    explicit Database(const std::string& path, Options options = {})
        : options_(options), path_(path), conn_(path, open_flags(options)) {
        conn_.set_cache_capacity(options.statement_cache);
        sqlite3* h = conn_.native();
        sqlite3_busy_timeout(h, options.busy_timeout_ms);
        try {
            conn_.exec("PRAGMA foreign_keys = ON");
            // Reading the schema fails now, not at the first query, if this is not a database.
            conn_.exec("SELECT count(*) FROM sqlite_master");
            if (options.wal) conn_.exec("PRAGMA journal_mode = WAL");
        } catch (const NotADatabaseError& e) {
            if ((e.code() & 0xff) == SQLITE_CORRUPT)  // a database, damaged: the message says so
                throw NotADatabaseError("'" + path + "': " + e.what(), e.code());
            throw NotADatabaseError("'" + path + "' is not a SQLite database (" + e.what() +
                                        "): check the path, or restore the file from a backup",
                                    e.code());
        }
        variable_limit_ = sqlite3_limit(h, SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    }

    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    const std::string& path() const noexcept { return path_; }
    const Options& options() const noexcept { return options_; }
    sqlite3* native_handle() const noexcept { return conn_.native(); }

    // ---- queries ---------------------------------------------------------------------------

    /// A QuerySet over all rows of T. Nothing runs until it is iterated or asked for a result.
    template <class T>
    QuerySet<T> objects();

    /// Statements run on this connection since it was opened (or since reset_query_count()).
    std::int64_t query_count() const noexcept { return query_count_; }
    void reset_query_count() noexcept { query_count_ = 0; }

    /// The connection's limit on bound parameters per statement (SQLITE_LIMIT_VARIABLE_NUMBER).
    int variable_limit() const noexcept { return variable_limit_; }
    /// Lowers (or raises, up to SQLite's compile-time maximum) the variable limit.
    void set_variable_limit(int n) {
        sqlite3_limit(conn_.native(), SQLITE_LIMIT_VARIABLE_NUMBER, n);
        variable_limit_ = sqlite3_limit(conn_.native(), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    }
    /// Most keys per prefetch IN list: the batch size if set, else the variable limit.
    std::size_t max_keys_per_query() const noexcept {
        std::size_t lim = static_cast<std::size_t>(std::max(variable_limit_, 1));
        if (options_.batch_size) lim = std::min(lim, options_.batch_size);
        return lim;
    }
    void set_batch_size(std::size_t n) noexcept { options_.batch_size = n; }
    /// Options::batch_size (0: none).
    std::size_t batch_size() const noexcept { return options_.batch_size; }
    /// The key count above which prefetch levels use a JSON key array (see
    /// Options::json_keys_above); SIZE_MAX when this SQLite has no json_each.
    std::size_t json_keys_above() {
        if (!json_each_) {
            // Preparing is enough to know: the function exists or the statement fails.
            sqlite3_stmt* s = nullptr;
            const int rc = sqlite3_prepare_v2(conn_.native(), "SELECT value FROM json_each(?)",
                                              -1, &s, nullptr);
            const bool missing = rc != SQLITE_OK &&
                                 std::string_view(sqlite3_errmsg(conn_.native())).find("json_each") !=
                                     std::string_view::npos;
            sqlite3_finalize(s);
            // Remember only a definite answer (a busy or out-of-memory failure asks again).
            if (rc != SQLITE_OK && !missing) return std::numeric_limits<std::size_t>::max();
            json_each_ = rc == SQLITE_OK;
        }
        return *json_each_ ? options_.json_keys_above : std::numeric_limits<std::size_t>::max();
    }
    void set_json_keys_above(std::size_t n) noexcept { options_.json_keys_above = n; }

    /// Prepared statements currently cached.
    std::size_t cached_statements() const noexcept { return conn_.cached_statements(); }

    // ---- listeners -------------------------------------------------------------------------

    /// Removes its listener when destroyed.
    class Subscription {
    public:
        Subscription() = default;
        Subscription(Database* db, std::uint64_t id) : db_(db), id_(id) {}
        Subscription(Subscription&& o) noexcept
            : db_(std::exchange(o.db_, nullptr)), id_(o.id_) {}
        Subscription& operator=(Subscription&& o) noexcept {
            if (this != &o) {
                reset();
                db_ = std::exchange(o.db_, nullptr);
                id_ = o.id_;
            }
            return *this;
        }
        ~Subscription() { reset(); }
        void reset() {
            if (db_) db_->remove_listener(id_);
            db_ = nullptr;
        }

    private:
        Database* db_ = nullptr;
        std::uint64_t id_ = 0;
    };

    /// Calls `listener` after every statement until the returned Subscription is destroyed.
    /// With no listener, running a statement costs one extra branch.
    [[nodiscard]] Subscription on_query(QueryListener listener) {
        const auto id = ++next_listener_;
        listeners_.emplace_back(id, std::move(listener));
        return Subscription(this, id);
    }
    /// Sets (or with nullptr clears) the one persistent hook, e.g. a logger.
    void set_query_hook(QueryListener hook) {
        remove_listener(0);
        if (hook) listeners_.emplace_back(0, std::move(hook));
    }

    // ---- running statements ----------------------------------------------------------------

    /// Runs one statement: `bind(Binder&)` binds its parameters, `on_row(const Statement&)`
    /// sees each row. Counts the statement and tells listeners. Returns the number of rows.
    template <class Bind, class OnRow>
    std::int64_t run(std::string_view sql, Bind&& bind, OnRow&& on_row,
                     std::string_view origin = {}) {
        auto stmt = conn_.prepare(sql);
        const bool observed = !listeners_.empty();
        std::vector<Value> params;
        detail::Binder binder(*stmt, observed ? &params : nullptr);
        std::int64_t rows = 0;
        const auto start = observed ? std::chrono::steady_clock::now()
                                    : std::chrono::steady_clock::time_point{};
        try {
            bind(binder);
            while (stmt->step()) {
                ++rows;
                on_row(static_cast<const detail::Statement&>(*stmt));
            }
        } catch (const std::exception& e) {
            ++query_count_;
            if (observed) notify(sql, params, start, rows, origin, e.what());
            throw;
        }
        ++query_count_;
        if (observed) notify(sql, params, start, rows, origin, {});
        return rows;
    }

    /// Runs a statement that returns no rows; returns the rows it changed.
    template <class Bind>
    std::int64_t execute(std::string_view sql, Bind&& bind, std::string_view origin = {}) {
        run(sql, std::forward<Bind>(bind), [](const detail::Statement&) {}, origin);
        return sqlite3_changes64(conn_.native());
    }
    std::int64_t execute(std::string_view sql) {
        return execute(sql, [](detail::Binder&) {});
    }

    /// The current origin label given to listeners (set by QuerySet evaluation).
    std::string_view origin() const noexcept { return origin_; }
    class OriginScope {
    public:
        OriginScope(Database& db, std::string_view o)
            : db_(db), saved_(db.origin_), saved_scope_(db.scope_) {
            db.origin_ = o;
            db.scope_ = ++db.next_scope_;
        }
        ~OriginScope() {
            db_.origin_ = saved_;
            db_.scope_ = saved_scope_;
        }
        OriginScope(const OriginScope&) = delete;
        OriginScope& operator=(const OriginScope&) = delete;

    private:
        Database& db_;
        std::string_view saved_;
        std::uint64_t saved_scope_;
    };

    /// While alive, the statements of one QuerySet evaluation (the base query and every
    /// prefetch level) read one snapshot of the database, so a write committed by another
    /// connection in between is seen by all of them or by none: a read transaction (BEGIN
    /// DEFERRED ... COMMIT), not counted and not shown to listeners as queries. Does nothing
    /// when `wanted` is false or a transaction is already open.
    class ReadSnapshot {
    public:
        ReadSnapshot(Database& db, bool wanted) : db_(db) {
            if (!wanted || db.depth_ != 0 || !sqlite3_get_autocommit(db.conn_.native())) return;
            db.conn_.exec("BEGIN DEFERRED");
            active_ = true;
        }
        ~ReadSnapshot() {
            sqlite3* h = db_.conn_.native();
            if (active_ && !sqlite3_get_autocommit(h) &&
                sqlite3_exec(h, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
                sqlite3_exec(h, "ROLLBACK", nullptr, nullptr, nullptr);
        }
        ReadSnapshot(const ReadSnapshot&) = delete;
        ReadSnapshot& operator=(const ReadSnapshot&) = delete;

    private:
        Database& db_;
        bool active_ = false;
    };

    // ---- schema ----------------------------------------------------------------------------

    /// Creates the tables of the given models (FK targets first), an index on every FK column,
    /// and the join tables of their many-to-many relations. Tables that exist are left as they
    /// are: loom never alters or drops data behind your back. All or nothing.
    template <class... Ts>
    void create_tables();

    /// Drops the tables of the given models and their join tables (dependents first).
    template <class... Ts>
    void drop_tables();

    /// The DDL create_tables<Ts...>() would run, for review or migrations tools.
    template <class... Ts>
    std::vector<std::string> schema_sql() {
        std::vector<std::string> out;
        const auto order = detail::dependency_order<Ts...>();
        using Fn = std::vector<std::string> (*)();
        const Fn tables[] = {&detail::table_ddl<Ts>...};
        const Fn joins[] = {&detail::join_ddl<Ts>...};
        for (auto i : order)
            for (auto& s : tables[i]()) out.push_back(std::move(s));
        for (auto i : order)
            for (auto& s : joins[i]()) out.push_back(std::move(s));
        return out;
    }

    // ---- writes ----------------------------------------------------------------------------

    /// Inserts `obj` and sets its primary key (an explicit non-zero key is kept).
    template <class T>
    void insert(T& obj) {
        const auto& m = detail::meta<T>();
        std::int64_t& id = detail::primary_key_ref(obj);
        const bool with_pk = id != 0;
        execute(with_pk ? m.insert_with_pk_sql : m.insert_sql,
                [&](detail::Binder& b) { detail::bind_object(b, obj, with_pk); }, "insert");
        if (!with_pk) id = sqlite3_last_insert_rowid(conn_.native());
        detail::bind_relations(obj);
    }

    /// Writes every column of `obj` to its row. Throws DoesNotExist when no row has its key.
    template <class T>
    void update(const T& obj) {
        const auto& m = detail::meta<T>();
        const auto n = execute(
            m.update_sql,
            [&](detail::Binder& b) {
                detail::bind_object(b, obj, false);
                b.integer(detail::primary_key_of(obj));
            },
            "update");
        if (n == 0)
            throw DoesNotExist("update: no " + m.name + " with " + m.pk + " = " +
                               std::to_string(detail::primary_key_of(obj)) +
                               " (insert it first, or use save)");
    }

    /// Inserts `obj` when its key is 0, else updates its row (inserting it if it is gone).
    template <class T>
    void save(T& obj) {
        if (detail::primary_key_of(obj) == 0) return insert(obj);
        const auto& m = detail::meta<T>();
        Savepoint sp(*this);
        const auto n = execute(
            m.update_sql,
            [&](detail::Binder& b) {
                detail::bind_object(b, obj, false);
                b.integer(detail::primary_key_of(obj));
            },
            "save");
        if (n == 0) insert(obj);
        sp.commit();
    }

    /// Deletes the row of `obj` (the database applies on_delete rules) and sets its key to 0.
    /// Returns false when there was no such row.
    template <class T>
    bool remove(T& obj) {
        const auto n = execute(
            detail::meta<T>().delete_sql,
            [&](detail::Binder& b) { b.integer(detail::primary_key_of(obj)); }, "remove");
        detail::primary_key_ref(obj) = 0;
        return n > 0;
    }

    /// Inserts every object in one transaction with one reused statement, setting their keys.
    /// On error nothing is written and the keys are left as they were.
    template <std::ranges::forward_range R>
        requires std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>
    void bulk_insert(R&& objs) {
        using T = std::remove_cvref_t<std::ranges::range_value_t<R>>;
        const auto& m = detail::meta<T>();
        std::vector<std::int64_t*> assigned;
        try {
            Savepoint sp(*this);
            for (auto& obj : objs) {
                std::int64_t& id = detail::primary_key_ref(obj);
                const bool with_pk = id != 0;
                execute(with_pk ? m.insert_with_pk_sql : m.insert_sql,
                        [&](detail::Binder& b) { detail::bind_object(b, obj, with_pk); },
                        "bulk_insert");
                if (!with_pk) {
                    id = sqlite3_last_insert_rowid(conn_.native());
                    assigned.push_back(&id);
                }
            }
            sp.commit();
        } catch (...) {
            for (auto* id : assigned) *id = 0;
            throw;
        }
        for (auto& obj : objs) detail::bind_relations(obj);
    }

    /// Many-to-many writes for one object: db.m2m(book, &Book::authors).add(author).
    /// Works from either side (&Author::books too) and keeps the object's loaded cache true.
    template <class Owner, class Rel>
    auto m2m(Owner& obj, Rel Owner::*member);

    // ---- transactions (see transaction.hpp) -----------------------------------------------

    /// Runs `fn` in a transaction (a savepoint when one is already open): commits when it
    /// returns, rolls back and rethrows when it throws.
    template <class Fn>
    decltype(auto) transaction(Fn&& fn);

    /// Open transaction levels (0: none; 2: a savepoint inside a transaction).
    int transaction_depth() const noexcept { return depth_; }

    /// Loads relation `member` of one object with one query, visible in the query log.
    template <class T, class Rel>
    void load(T& obj, Rel T::*member);

private:
    friend class Transaction;
    template <class Owner, class Target> friend class M2MManager;

    /// Internal all-or-nothing scope used by writes that run several statements.
    class Savepoint {
    public:
        explicit Savepoint(Database& db) : db_(db) { db.begin(); }
        void commit() {
            db_.commit();
            done_ = true;
        }
        ~Savepoint() {
            if (!done_) db_.rollback_noexcept();
        }
        Savepoint(const Savepoint&) = delete;
        Savepoint& operator=(const Savepoint&) = delete;

    private:
        Database& db_;
        bool done_ = false;
    };

    static int open_flags(const Options& o) {
        int f = o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
        if (o.create && !o.read_only) f |= SQLITE_OPEN_CREATE;
        return f | SQLITE_OPEN_NOMUTEX;
    }

    // A transaction on a file takes the write lock at BEGIN (IMMEDIATE), so one that reads and
    // then writes waits for other writers through the busy timeout instead of failing with
    // SQLITE_BUSY at the lock upgrade (a deadlock SQLite cannot wait out, or in WAL mode a stale
    // snapshot). :memory: (no other connection) and read-only connections: plain BEGIN.
    void begin() {
        if (depth_ == 0)
            execute(options_.read_only || path_.empty() || path_ == ":memory:" ? "BEGIN"
                                                                               : "BEGIN IMMEDIATE");
        else
            execute("SAVEPOINT loom_" + std::to_string(depth_));
        ++depth_;
    }
    void commit() {
        if (depth_ == 0) throw UsageError("commit: no transaction is open");
        if (depth_ == 1)
            execute("COMMIT");
        else
            execute("RELEASE loom_" + std::to_string(depth_ - 1));
        --depth_;
    }
    void rollback() {
        if (depth_ == 0) throw UsageError("rollback: no transaction is open");
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
            // SQLite may have rolled back already (e.g. after SQLITE_FULL); nothing is left open.
            if (depth_ == 0 && !sqlite3_get_autocommit(conn_.native())) {
                sqlite3_exec(conn_.native(), "ROLLBACK", nullptr, nullptr, nullptr);
            }
        }
    }

    void remove_listener(std::uint64_t id) {
        std::erase_if(listeners_, [id](const auto& l) { return l.first == id; });
    }
    void notify(std::string_view sql, const std::vector<Value>& params,
                std::chrono::steady_clock::time_point start, std::int64_t rows,
                std::string_view origin, std::string_view error) {
        QueryEvent ev;
        ev.sql = sql;
        ev.params = params;
        ev.duration = std::chrono::steady_clock::now() - start;
        ev.rows = rows;
        ev.changes = error.empty() && !sqlite3_stmt_readonly_sql(sql) ? sqlite3_changes64(conn_.native()) : 0;
        ev.origin = origin.empty() ? origin_ : origin;
        ev.error = error;
        ev.scope = origin.empty() ? scope_ : 0;
        // Copy: a listener may subscribe or unsubscribe others while we call it.
        auto listeners = listeners_;
        for (auto& [id, fn] : listeners) fn(ev);
    }
    bool sqlite3_stmt_readonly_sql(std::string_view sql) const noexcept {
        return sql.starts_with("SELECT") || sql.starts_with("WITH") || sql.starts_with("EXPLAIN");
    }

    Options options_;
    std::string path_;
    detail::Connection conn_;
    int variable_limit_ = 999;
    std::optional<bool> json_each_;  // whether json_each exists, once asked
    std::int64_t query_count_ = 0;
    int depth_ = 0;
    std::string_view origin_;
    std::uint64_t scope_ = 0, next_scope_ = 0;
    std::uint64_t next_listener_ = 0;
    std::vector<std::pair<std::uint64_t, QueryListener>> listeners_;
};

template <class... Ts>
void Database::create_tables() {
    const auto statements = schema_sql<Ts...>();
    Savepoint sp(*this);
    for (const auto& s : statements) execute(s);
    sp.commit();
}

template <class... Ts>
void Database::drop_tables() {
    const auto order = detail::dependency_order<Ts...>();
    using Fn = std::vector<std::string> (*)();
    const Fn joins[] = {&detail::join_tables_of<Ts>...};
    const std::string tables[] = {detail::meta<Ts>().table...};
    Savepoint sp(*this);
    for (auto i : order)
        for (auto& j : joins[i]()) execute("DROP TABLE IF EXISTS " + j);
    for (auto it = order.rbegin(); it != order.rend(); ++it)
        execute("DROP TABLE IF EXISTS " + tables[*it]);
    sp.commit();
}

/// Many-to-many writes for one object and one relation (see Database::m2m).
template <class Owner, class Target>
class M2MManager {
public:
    M2MManager(Database& db, Owner& obj, RelatedList<Target>& cache, const detail::JoinInfo& j,
               bool reversed, std::string relation)
        : db_(db), obj_(obj), cache_(cache), relation_(std::move(relation)) {
        if (j.explicit_through)
            throw UsageError(relation_ + " goes through the model stored in " + j.table +
                             "; insert or remove rows of that model instead");
        const std::string& owner_col = reversed ? j.dst_column : j.src_column;
        const std::string& target_col = reversed ? j.src_column : j.dst_column;
        add_sql_ = "INSERT OR IGNORE INTO " + j.table + " (" + owner_col + ", " + target_col +
                   ") VALUES (?, ?)";
        remove_sql_ = "DELETE FROM " + j.table + " WHERE " + owner_col + " = ? AND " +
                      target_col + " = ?";
        clear_sql_ = "DELETE FROM " + j.table + " WHERE " + owner_col + " = ?";
    }

    /// Links the objects (already linked ones are kept once).
    template <class... More>
    M2MManager& add(const Target& first, const More&... more) {
        std::vector<const Target*> v{&first, &more...};
        add_all(v);
        return *this;
    }
    template <std::ranges::input_range R>
    M2MManager& add(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        add_all(v);
        return *this;
    }

    /// Unlinks the objects (ones not linked are ignored).
    template <class... More>
    M2MManager& remove(const Target& first, const More&... more) {
        std::vector<const Target*> v{&first, &more...};
        remove_all(v);
        return *this;
    }
    template <std::ranges::input_range R>
    M2MManager& remove(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        remove_all(v);
        return *this;
    }

    /// Unlinks everything.
    M2MManager& clear() {
        const auto key = owner_key();
        db_.execute(clear_sql_, [&](detail::Binder& b) { b.integer(key); }, "m2m clear");
        if (cache_.loaded()) detail::relation_access::replace(cache_, {});
        return *this;
    }

    /// Makes the linked set exactly `targets`, in one transaction.
    template <std::ranges::input_range R>
    M2MManager& set(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        for (auto* t : v) check_saved(*t);
        const bool was_loaded = cache_.loaded();
        // `targets` may be this very list (or objects it alone keeps alive): hold them while
        // clear() empties it.
        const detail::AnchorRef hold(detail::relation_access::anchor(cache_));
        {
            Database::Savepoint sp(db_);
            clear();
            add_all(v);
            sp.commit();
        }
        if (!was_loaded) detail::relation_access::unload(cache_);
        return *this;
    }

private:
    std::int64_t owner_key() const {
        const auto key = detail::primary_key_of(obj_);
        if (key == 0)
            throw UsageError(relation_ + ": insert the " + detail::meta<Owner>().name +
                             " before linking objects to it");
        return key;
    }
    void check_saved(const Target& t) const {
        if (detail::primary_key_of(t) == 0)
            throw UsageError(relation_ + ": insert the " + detail::meta<Target>().name +
                             " before linking it");
    }
    void add_all(const std::vector<const Target*>& v) {
        const auto key = owner_key();
        for (auto* t : v) check_saved(*t);
        {
            Database::Savepoint sp(db_);
            for (auto* t : v)
                db_.execute(add_sql_,
                            [&](detail::Binder& b) {
                                b.integer(key);
                                b.integer(detail::primary_key_of(*t));
                            },
                            "m2m add");
            sp.commit();
        }
        if (!cache_.loaded()) return;
        const auto loaded = detail::relation_access::items(cache_);
        std::vector<const Target*> items(loaded.begin(), loaded.end());
        std::vector<std::shared_ptr<const Target>> copies;
        for (auto* t : v) {
            const auto id = detail::primary_key_of(*t);
            const bool present = std::any_of(items.begin(), items.end(), [&](const Target* x) {
                return detail::primary_key_of(*x) == id;
            });
            if (present) continue;
            copies.push_back(std::make_shared<const Target>(*t));
            items.push_back(copies.back().get());
        }
        detail::relation_access::replace(cache_, std::move(items), std::move(copies));
    }
    void remove_all(const std::vector<const Target*>& v) {
        const auto key = owner_key();
        {
            Database::Savepoint sp(db_);
            for (auto* t : v)
                db_.execute(remove_sql_,
                            [&](detail::Binder& b) {
                                b.integer(key);
                                b.integer(detail::primary_key_of(*t));
                            },
                            "m2m remove");
            sp.commit();
        }
        if (!cache_.loaded()) return;
        std::unordered_set<std::int64_t> gone;
        for (auto* t : v) gone.insert(detail::primary_key_of(*t));
        std::vector<const Target*> items;
        for (const Target* x : detail::relation_access::items(cache_))
            if (gone.count(detail::primary_key_of(*x)) == 0) items.push_back(x);
        detail::relation_access::replace(cache_, std::move(items));
    }

    Database& db_;
    Owner& obj_;
    RelatedList<Target>& cache_;
    std::string relation_;
    std::string add_sql_, remove_sql_, clear_sql_;
};

template <class Owner, class Rel>
auto Database::m2m(Owner& obj, Rel Owner::*member) {
    using Target = typename Rel::target_type;
    static_assert(std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>,
                  "db.m2m: the member must be a ManyToMany, or the Reverse side of one");
    const detail::JoinInfo* join = nullptr;
    bool reversed = false;
    std::string name;
    detail::for_each_index<Owner>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = detail::entry_t<Owner, I>;
        if constexpr (std::is_same_v<decltype(detail::entry<Owner, I>().member), Rel Owner::*>) {
            if (join || detail::entry<Owner, I>().member != member) return;
            name = std::string(detail::type_name<Owner>()) + "::" +
                   std::string(detail::member_name_of<Owner, I>());
            if constexpr (E::kind == detail::entry_kind::many_to_many) {
                join = &detail::join_info<Owner, I>();
            } else if constexpr (E::kind == detail::entry_kind::reverse) {
                if constexpr (std::is_same_v<typename E::forward_type, ManyToMany<Owner>>) {
                    constexpr std::size_t F =
                        detail::index_of_member<Target>(detail::entry<Owner, I>().forward);
                    join = &detail::join_info<Target, F>();
                    reversed = true;
                }
            }
        }
    });
    if (!join)
        throw UsageError("db.m2m: the member is not a many-to-many relation declared in the "
                         "descriptor of " + detail::meta<Owner>().name);
    return M2MManager<Owner, Target>(*this, obj, obj.*member, *join, reversed, name);
}

}  // namespace loom
