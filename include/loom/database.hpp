// loom/database.hpp - loom::Database: a connection with a statement cache, a query counter and
// query listeners; schema creation; insert / update / remove / save / bulk_insert; many-to-many
// writes through db.m2m(obj, &Model::member); transactions; and raw SQL that maps rows to
// models or tuples.
//
//     loom::Database db{"books.db"};          // or ":memory:"
//     db.create_tables<Publisher, Author, Book, Review>();
//     Book b{.title = "Dune"};
//     db.insert(b);                           // b.id is set
//     auto n = db.query<std::int64_t>("SELECT count(*) FROM book WHERE year > ?", 1960);
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/engine/open.hpp"
#include "detail/meta/object_io.hpp"
#include "detail/prefetch/engine.hpp"
#include "detail/schema.hpp"
#include "detail/session.hpp"
#include "detail/std_light.hpp"
#include "errors.hpp"
#include "m2m.hpp"
#include "options.hpp"
#include "types.hpp"

namespace loom {

namespace detail {

/// Database::check_schema's implementation, defined in <loom/migrate.hpp>.
template <class Db> struct schema_check;

template <class T> struct is_tuple : std::false_type {};
template <class... Ts> struct is_tuple<std::tuple<Ts...>> : std::true_type {};

/// Binds one argument of raw SQL: a loom::Value, NULL (std::nullopt, nullptr), text (string
/// literals, std::string_view) or any member type loom maps.
template <class A> void bind_arg(Binder& b, const A& a) {
    using U = std::remove_cvref_t<A>;
    if constexpr (std::is_same_v<U, Value>)
        b.value(a);
    else if constexpr (std::is_same_v<U, std::nullopt_t> || std::is_same_v<U, std::nullptr_t>)
        b.value(Value{nullptr});
    else if constexpr (std::is_convertible_v<const U&, std::string_view> &&
                       !std::is_same_v<U, std::string>)
        b(std::string(std::string_view(a)));
    else if constexpr (column_type<U>)
        b(a);
    else
        static_assert(column_type<U>,
                      "db.execute / db.query: an argument's type is not one loom binds (bool, "
                      "integers, enums, float/double, strings, loom::Blob, std::optional of "
                      "those, std::nullopt, loom::Value)");
}

/// Which result column holds each column of model T (by name), checked once per statement.
template <class T> std::vector<int> columns_by_name(const Statement& s) {
    std::vector<std::string_view> wanted;
    for_each_index<T>([&](auto i) {
        if constexpr (has_column<entry_t<T, decltype(i)::value>>)
            wanted.push_back(entry<T, decltype(i)::value>().column);
    });
    std::vector<int> at(wanted.size(), -1);
    std::string extra;
    for (int c = 0; c < s.column_count(); ++c) {
        bool used = false;
        for (std::size_t k = 0; k < wanted.size(); ++k)
            if (at[k] < 0 && engine::same_name(wanted[k], s.column_name(c))) {
                at[k] = c;
                used = true;
                break;
            }
        if (!used) extra += (extra.empty() ? "" : ", ") + std::string(s.column_name(c));
    }
    std::string missing;
    for (std::size_t k = 0; k < wanted.size(); ++k)
        if (at[k] < 0) missing += (missing.empty() ? "" : ", ") + std::string(wanted[k]);
    if (!missing.empty() || !extra.empty())
        throw UsageError(
            "db.query<" + meta<T>().name + ">: the result's columns must be the " + meta<T>().name +
            " columns, by name" + (missing.empty() ? "" : "; missing: " + missing) +
            (extra.empty() ? "" : "; not a column of " + meta<T>().name + ": " + extra) +
            " (while running: " + sql_excerpt(s.sql()) + ")");
    return at;
}

template <class V> void read_cell(const Statement& s, int c, V& out) {
    if (const char* why = read_column(s, c, out))
        throw DataError("db.query: result column " + std::to_string(c) + " (" +
                        std::string(s.column_name(c)) + "): " + why + ", found " +
                        describe_stored(s, c) + " (while running: " + sql_excerpt(s.sql()) + ")");
}

}  // namespace detail

/// A connection to one database (a SQLite file, or ":memory:"). Not thread-safe: use one
/// Database per thread. A Database (or a QuerySet of it) used by a second thread while the first
/// is inside it is refused with a UsageError, not a crash.
class Database {
public:
    /// Opens (and by default creates) the SQLite file at `path`; ":memory:" for a private
    /// in-memory database. Foreign keys are enforced. Throws CantOpenError, NotADatabaseError.
    /// A `postgresql://` (or `postgres://`) URI connects to a PostgreSQL server instead, when
    /// the program includes <loom/postgres.hpp> (docs/engines.md).
    explicit Database(const std::string& path, Options options = {})
        : session_(detail::engine::open(path, options), shown_path(path), options) {}

    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    const std::string& path() const noexcept { return session_.path(); }
    const Options& options() const noexcept { return session_.options(); }

    // ---- queries ---------------------------------------------------------------------------

    /// A QuerySet over all rows of T (include <loom/queryset.hpp>). Nothing runs until it is
    /// iterated or asked for a result.
    template <class T> QuerySet<T> objects() { return QuerySet<T>(*this); }

    /// Statements run on this connection since it was opened (or since reset_query_count()).
    std::int64_t query_count() const noexcept { return session_.query_count(); }
    void reset_query_count() noexcept { session_.reset_query_count(); }

    /// The connection's limit on bound parameters per statement.
    int variable_limit() const noexcept { return session_.variable_limit(); }
    /// Lowers (or raises, up to the engine's compile-time maximum) the variable limit.
    void set_variable_limit(int n) { session_.set_variable_limit(n); }
    /// Most keys per prefetch IN list: the batch size if set, else the variable limit.
    std::size_t max_keys_per_query() const noexcept { return session_.max_keys_per_query(); }
    void set_batch_size(std::size_t n) noexcept { session_.options().batch_size = n; }
    /// Options::batch_size (0: none).
    std::size_t batch_size() const noexcept { return session_.options().batch_size; }
    /// The key count above which key lists are one array parameter (see
    /// Options::json_keys_above); SIZE_MAX when this SQLite has no json_each.
    std::size_t json_keys_above() { return session_.key_array_above(); }
    void set_json_keys_above(std::size_t n) noexcept { session_.options().json_keys_above = n; }

    /// Prepared statements currently cached.
    std::size_t cached_statements() const noexcept { return session_.cached_statements(); }

    // ---- raw SQL ---------------------------------------------------------------------------

    /// Runs one statement with `args` bound to its `?` placeholders, in order; returns the rows
    /// it changed. Counted and shown to listeners like every statement.
    ///
    ///     db.execute("UPDATE book SET year = ? WHERE id = ?", 1966, dune.id);
    template <class... Args> std::int64_t execute(std::string_view sql, const Args&... args) {
        return session_.execute(
            sql, [&](detail::Binder& b) { (detail::bind_arg(b, args), ...); }, "execute");
    }

    /// Runs one query with `args` bound to its `?` placeholders and returns its rows as T:
    /// a model (result columns matched to the model's columns by name; a missing or an extra
    /// column is a UsageError naming it; relations are not loaded but can be, e.g. with
    /// prefetch_related_objects), a std::tuple (columns by position), one column type, or
    /// loom::ResultRow (any columns, by position or name, as Values).
    ///
    ///     auto books = db.query<Book>("SELECT * FROM book WHERE year < ?", 1970);
    ///     auto rows = db.query<std::tuple<std::string, int>>("SELECT title, year FROM book");
    ///     auto n = db.query<std::int64_t>("SELECT count(*) FROM book").front();
    template <class T, class... Args>
    std::vector<T> query(std::string_view sql, const Args&... args) {
        std::vector<T> out;
        std::vector<int> at;
        std::shared_ptr<const std::vector<std::string>> names;
        session_.run(
            sql, [&](detail::Binder& b) { (detail::bind_arg(b, args), ...); },
            [&](const detail::Statement& s) {
                if constexpr (detail::has_model<T>) {
                    static_assert(detail::validated<T>);
                    if (at.empty()) at = detail::columns_by_name<T>(s);
                    detail::read_object_at(
                        s, [&](int k) { return at[static_cast<std::size_t>(k)]; },
                        out.emplace_back());
                } else if constexpr (std::is_same_v<T, ResultRow>) {
                    if (!names) {
                        std::vector<std::string> n;
                        for (int c = 0; c < s.column_count(); ++c) n.emplace_back(s.column_name(c));
                        names = std::make_shared<const std::vector<std::string>>(std::move(n));
                    }
                    std::vector<Value> values;
                    values.reserve(names->size());
                    for (int c = 0; c < s.column_count(); ++c)
                        values.push_back(detail::cell_value(s, c));
                    out.emplace_back(names, std::move(values));
                } else if constexpr (detail::is_tuple<T>::value) {
                    check_width(s, std::tuple_size_v<T>);
                    T row;
                    std::apply(
                        [&](auto&... cell) {
                            int c = 0;
                            (detail::read_cell(s, c++, cell), ...);
                        },
                        row);
                    out.push_back(std::move(row));
                } else {
                    static_assert(detail::column_type<T>,
                                  "db.query<T>: T must be a model, a std::tuple of column "
                                  "types, one column type, or loom::ResultRow");
                    check_width(s, 1);
                    detail::read_cell(s, 0, out.emplace_back());
                }
            },
            "query");
        return out;
    }

    // ---- listeners -------------------------------------------------------------------------

    /// Removes its listener when destroyed.
    class Subscription {
    public:
        Subscription() = default;
        Subscription(Subscription&& o) noexcept : s_(std::exchange(o.s_, nullptr)), id_(o.id_) {}
        Subscription& operator=(Subscription&& o) noexcept {
            if (this != &o) {
                reset();
                s_ = std::exchange(o.s_, nullptr);
                id_ = o.id_;
            }
            return *this;
        }
        ~Subscription() { reset(); }
        void reset() {
            if (s_) s_->remove_listener(id_);
            s_ = nullptr;
        }

    private:
        friend class Database;
        Subscription(detail::Session* s, std::uint64_t id) : s_(s), id_(id) {}
        detail::Session* s_ = nullptr;
        std::uint64_t id_ = 0;
    };

    /// Calls `listener` after every statement until the returned Subscription is destroyed.
    /// With no listener, running a statement costs one extra branch.
    [[nodiscard]] Subscription on_query(QueryListener listener) {
        return Subscription(&session_, session_.add_listener(std::move(listener)));
    }
    /// Sets (or with nullptr clears) the one persistent hook, e.g. a logger.
    void set_query_hook(QueryListener hook) { session_.set_hook(std::move(hook)); }

    // ---- schema ----------------------------------------------------------------------------

    /// Creates the tables of the given models (FK targets first), an index on every FK column,
    /// and the join tables of their many-to-many relations. Tables that exist are left as they
    /// are: loom never alters or drops data behind your back. All or nothing.
    template <class... Ts> void create_tables() {
        const auto statements = schema_sql<Ts...>();
        detail::Session::Call call(session_);
        {
            detail::Session::TransactionScope tx(session_);
            for (const auto& s : statements) session_.execute(s);
            tx.commit();
        }
        call.finish();
    }

    /// Drops the tables of the given models and their join tables (dependents first).
    template <class... Ts> void drop_tables() {
        const auto order = detail::dependency_order<Ts...>();
        using Fn = std::vector<std::string> (*)();
        const Fn joins[] = {&detail::join_tables_of<Ts>...};
        const std::string tables[] = {detail::meta<Ts>().table...};
        detail::Session::Call call(session_);
        {
            detail::Session::TransactionScope tx(session_);
            for (auto i : order)
                for (auto& j : joins[i]()) session_.execute("DROP TABLE IF EXISTS " + j);
            for (auto it = order.rbegin(); it != order.rend(); ++it)
                session_.execute("DROP TABLE IF EXISTS " + tables[*it]);
            tx.commit();
        }
        call.finish();
    }

    /// The DDL create_tables<Ts...>() would run, for review or migrations tools.
    template <class... Ts> std::vector<std::string> schema_sql() const {
        return detail::schema_sql<Ts...>(session_.dialect());
    }

    /// Compares the live schema with the models' and throws loom::SchemaError listing every
    /// difference (tables, columns, types, NULL-ness, keys, foreign keys, UNIQUE, indexes, join
    /// tables). Defined in <loom/migrate.hpp> (part of <loom/loom.hpp>);
    /// loom::schema_report<Ts...>(db) returns the differences instead.
    template <class... Ts, class Db = Database> void check_schema() {
        detail::schema_check<Db>::template check<Ts...>(*this);
    }

    // ---- writes ----------------------------------------------------------------------------

    /// Inserts `obj` and sets its primary key (an explicit non-zero key is kept).
    template <class T> void insert(T& obj) {
        detail::Session::Call call(session_);
        insert_row(obj, "insert");
        detail::bind_relations(obj);
        call.finish();
    }

    /// Writes every column of `obj` to its row. Throws DoesNotExist when no row has its key.
    template <class T> void update(const T& obj) {
        if (update_row(obj, "update") == 0) {
            const auto& m = detail::meta<T>();
            throw DoesNotExist("update: no " + m.name + " with " + m.pk + " = " +
                               std::to_string(detail::primary_key_of(obj)) +
                               " (insert it first, or use save)");
        }
    }

    /// Inserts `obj` when its key is 0, else updates its row (inserting it if it is gone).
    template <class T> void save(T& obj) {
        if (detail::primary_key_of(obj) == 0) return insert(obj);
        detail::Session::Call call(session_);
        {
            detail::Session::TransactionScope tx(session_);
            if (update_row(obj, "save") == 0) insert(obj);
            tx.commit();
        }
        call.finish();
    }

    /// Deletes the row of `obj` (the database applies on_delete rules) and sets its key to 0.
    /// Returns false when there was no such row.
    template <class T> bool remove(T& obj) {
        const auto& m = detail::meta<T>();
        const std::int64_t key = detail::primary_key_of(obj);
        detail::Session::Call call(session_);
        std::int64_t n = 0;
        try {
            n = session_.execute(
                m.delete_sql, [&](detail::Binder& b) { b.integer(key); }, "remove");
        } catch (const ConstraintError& e) {
            if (e.kind() != ConstraintError::Kind::foreign_key) throw;
            // Name what still refers to the row (looked up only now, by the engine).
            const auto refs = session_.connection().rows_referring_to(m.raw_table, key);
            if (refs.empty()) throw;
            std::string list;
            for (const auto& r : refs) list += (list.empty() ? "" : ", ") + r;
            throw ConstraintError(std::string(e.what()) + ": " + m.name + " " +
                                      std::string(detail::entry<T, 0>().column) + "=" +
                                      std::to_string(key) + " is still referred to by " +
                                      (refs.size() == 1 ? "a row of " : "rows of ") + list +
                                      " (a restrict foreign key); delete or reassign those rows "
                                      "first, or declare the foreign key on_delete::cascade or "
                                      "set_null",
                                  e.code(), e.kind());
        }
        detail::primary_key_ref(obj) = 0;
        call.finish();
        return n > 0;
    }

    /// Inserts every object in one transaction with one reused statement, setting their keys.
    /// On error nothing is written and the keys are left as they were.
    template <std::ranges::forward_range R>
    requires std::is_lvalue_reference_v<std::ranges::range_reference_t<R>>
    void bulk_insert(R&& objs) {
        detail::Session::Call call(session_);
        std::vector<std::int64_t*> assigned;
        try {
            detail::Session::TransactionScope tx(session_);
            for (auto& obj : objs)
                if (insert_row(obj, "bulk_insert"))
                    assigned.push_back(&detail::primary_key_ref(obj));
            tx.commit();
        } catch (...) {
            for (auto* id : assigned) *id = 0;
            throw;
        }
        for (auto& obj : objs) detail::bind_relations(obj);
        // A listener that threw after COMMIT is reported only now: the rows are in and the keys
        // stay set (a retry would otherwise insert them twice).
        call.finish();
    }

    /// Many-to-many writes for one object: db.m2m(book, &Book::authors).add(author).
    /// Works from either side (&Author::books too) and keeps the object's loaded cache true.
    template <class Owner, class Rel>
    M2MManager<Owner, typename Rel::target_type> m2m(Owner& obj, Rel Owner::*member) {
        return M2MManager<Owner, typename Rel::target_type>(*this, obj, member);
    }

    /// Loads relation `member` of one object with one query, visible in the query log (it
    /// reads the database again when the relation is loaded already).
    template <class T, class Rel> void load(T& obj, Rel T::*member) {
        T* one[] = {&obj};
        auto node = detail::make_node(member);
        node->skip_loaded = false;
        detail::Session::OriginScope scope(session_, "load");
        node->run(session_, one);
    }

    // ---- transactions ----------------------------------------------------------------------

    /// Runs `fn` in a transaction (a savepoint when one is already open): commits when it
    /// returns, rolls back and rethrows when it throws.
    template <class Fn> decltype(auto) transaction(Fn&& fn) {
        detail::Session::TransactionScope tx(session_);
        if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
            std::forward<Fn>(fn)();
            tx.commit();
        } else {
            decltype(auto) r = std::forward<Fn>(fn)();
            tx.commit();
            return r;
        }
    }

    /// Open transaction levels (0: none; 2: a savepoint inside a transaction).
    int transaction_depth() const noexcept { return session_.depth(); }

private:
    friend detail::Session& detail::session_of(Database& db) noexcept;

    /// INSERTs the row of `obj`; true when the database assigned its key.
    template <class T> bool insert_row(T& obj, std::string_view origin) {
        const auto& m = detail::meta<T>();
        std::int64_t& id = detail::primary_key_ref(obj);
        const bool with_pk = id != 0;
        if (!with_pk && !session_.assigns_keys(&m, m.raw_table, detail::entry<T, 0>().column))
            throw DataError(std::string(origin) + ": " + m.name + "." +
                            std::string(detail::entry<T, 0>().column) + " (table " + m.table +
                            "): the database does not fill in this key column on insert (on "
                            "SQLite only a column declared INTEGER PRIMARY KEY is; one declared "
                            "INT PRIMARY KEY, say, is left NULL), so the new row would have no "
                            "key; declare the column INTEGER PRIMARY KEY, or give the object its "
                            "key before inserting it. Nothing was inserted");
        const bool returning = !with_pk && session_.dialect().returning_keys;
        std::int64_t returned = 0;
        try {
            const auto bind = [&](detail::Binder& b) { detail::bind_object(b, obj, with_pk); };
            if (returning)
                session_.run(
                    m.insert_returning_sql, bind,
                    [&](const detail::Statement& s) { returned = s.column_int(0); }, origin);
            else
                session_.execute(with_pk ? m.insert_with_pk_sql : m.insert_sql, bind, origin);
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        }
        if (!with_pk) id = returning ? returned : session_.last_insert_id();
        if (with_pk)
            session_.connection().explicit_key_inserted(m.raw_table, detail::entry<T, 0>().column,
                                                        id);
        return !with_pk;
    }
    template <class T> std::int64_t update_row(const T& obj, std::string_view origin) {
        try {
            return session_.execute(
                detail::meta<T>().update_sql,
                [&](detail::Binder& b) {
                    detail::bind_object(b, obj, false);
                    b.integer(detail::primary_key_of(obj));
                },
                origin);
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        }
    }
    /// Rethrows a FOREIGN KEY failure of a write of `obj` naming the key columns it set.
    template <class T> static void explain_foreign_key(const ConstraintError& e, const T& obj) {
        if (e.kind() != ConstraintError::Kind::foreign_key) return;
        const std::string hint = detail::foreign_key_hint(obj);
        if (!hint.empty())
            throw ConstraintError(std::string(e.what()) + ": " + hint, e.code(), e.kind());
    }
    /// The path, or the URI without its password.
    static std::string shown_path(const std::string& path) {
        if (!detail::engine::is_postgres_url(path)) return path;
        std::string url = path;
        const auto scheme = url.find("://"), at = url.find('@');
        if (at != std::string::npos && at > scheme) {
            const auto colon = url.find(':', scheme + 3);
            if (colon != std::string::npos && colon < at)
                url.replace(colon + 1, at - colon - 1, "***");
        }
        if (const auto pw = url.find("password="); pw != std::string::npos) {
            const auto end = url.find_first_of("& ", pw);
            url.replace(pw + 9, (end == std::string::npos ? url.size() : end) - pw - 9, "***");
        }
        return url;
    }
    static void check_width(const detail::Statement& s, std::size_t n) {
        if (static_cast<std::size_t>(s.column_count()) != n)
            throw UsageError("db.query: the result has " + std::to_string(s.column_count()) +
                             " columns where " + std::to_string(n) +
                             " were asked for (while running: " + detail::sql_excerpt(s.sql()) +
                             ")");
    }

    detail::Session session_;
};

inline detail::Session& detail::session_of(Database& db) noexcept {
    return db.session_;
}

}  // namespace loom
