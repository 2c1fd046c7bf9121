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

#include "detail/engine/sqlite/connection.hpp"
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

/// The model type of a range of objects (bulk_update).
template <class R> using range_model_t = std::remove_cvref_t<std::ranges::range_reference_t<R>>;

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
    explicit Database(const std::string& path, Options options = {})
        : session_(std::make_unique<detail::sqlite::Connection>(path, options), path, options) {}

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
    /// With a loom::version column: only while the row still has the object's version, which
    /// it bumps (in the row and in `obj`); ConflictError, writing nothing, when another writer
    /// changed the row first.
    template <class T> void update(T& obj) {
        using U = std::remove_const_t<T>;
        static_assert(!detail::versioned<U> || !std::is_const_v<T>,
                      "db.update: a model with a loom::version column is updated through a "
                      "non-const object (update bumps its version)");
        detail::Session::Call call(session_);
        const std::int64_t n = update_row(static_cast<const U&>(obj), "update");
        if (n == 0) missing_row(static_cast<const U&>(obj), "update");
        if constexpr (detail::versioned<U>) ++version_ref(obj);
        call.finish();
    }

    // ---- issue 17 (writes): partial and bulk updates ---------------------------------------

    /// Writes only the named columns (fields and foreign keys) of `obj` to its row, in one
    /// statement; the other columns keep what the row holds. A loom::version column is checked
    /// and bumped as by update(obj).
    ///
    ///     post.title = "Better title";
    ///     db.update(post, &Post::title);   // UPDATE "post" SET "title" = ? WHERE "id" = ?
    template <class T, class M, class... Ms>
    void update(T& obj, M std::remove_const_t<T>::*first, Ms std::remove_const_t<T>::*... more) {
        using U = std::remove_const_t<T>;
        static_assert(!detail::versioned<U> || !std::is_const_v<T>,
                      "db.update: a model with a loom::version column is updated through a "
                      "non-const object (update bumps its version)");
        const auto& m = detail::meta<U>();
        const U& o = obj;
        std::string sql = "UPDATE " + m.table + " SET ";
        std::size_t k = 0;
        auto add = [&](auto member) {
            detail::visit_column(member, "update", [&](auto i) {
                sql += (k++ ? ", " : "") +
                       detail::quote(detail::entry<U, decltype(i)::value>().column) + " = ?";
            });
        };
        add(first);
        (add(more), ...);
        if constexpr (detail::versioned<U>) {
            const std::string v =
                detail::quote(detail::entry<U, detail::version_index<U>()>().column);
            sql += ", " + v + " = " + v + " + 1 WHERE " + m.pk + " = ? AND " + v + " = ?";
        } else {
            sql += " WHERE " + m.pk + " = ?";
        }
        detail::Session::Call call(session_);
        std::int64_t n = 0;
        try {
            n = session_.execute(
                sql,
                [&](detail::Binder& b) {
                    detail::bind_member(b, o, first);
                    (detail::bind_member(b, o, more), ...);
                    b.key(detail::primary_key_of(o));
                    if constexpr (detail::versioned<U>) b(version_of(o));
                },
                "update");
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, o);
            throw;
        }
        if (n == 0) missing_row(o, "update");
        if constexpr (detail::versioned<U>) ++version_ref(obj);
        call.finish();
    }

    /// Writes the named columns of every object to its row, with one UPDATE per batch of
    /// objects (`SET col = CASE key WHEN ? THEN ? ... END ... WHERE key IN (...)`, as many
    /// objects as the variable limit and Options::batch_size allow), all in one transaction.
    /// Objects whose row is gone are skipped (the count returned says how many rows changed);
    /// with a loom::version column, an object whose row is at another version is a
    /// ConflictError and nothing is written.
    ///
    ///     db.bulk_update(posts, &Post::title, &Post::rating);
    template <std::ranges::forward_range R, class M, class... Ms>
    requires std::is_lvalue_reference_v<std::ranges::range_reference_t<R>> std::int64_t bulk_update(
        R&& objs, M detail::range_model_t<R>::*first, Ms detail::range_model_t<R>::*... more) {
        using U = detail::range_model_t<R>;
        const auto& m = detail::meta<U>();
        constexpr bool versioned = detail::versioned<U>;
        std::vector<U*> all;
        for (auto& o : objs) all.push_back(&o);
        if (all.empty()) return 0;
        constexpr std::size_t columns = 1 + sizeof...(Ms);
        const std::size_t per_row = 2 * columns + 1 + (versioned ? 2 : 0);
        std::size_t batch = static_cast<std::size_t>(session_.variable_limit()) / per_row;
        if (session_.options().batch_size) batch = std::min(batch, session_.options().batch_size);
        if (batch == 0)
            throw UsageError("bulk_update: one object binds " + std::to_string(per_row) +
                             " parameters, more than the connection's variable limit");
        std::vector<std::string> names;
        auto add = [&](auto member) {
            detail::visit_column(member, "bulk_update", [&](auto i) {
                names.push_back(detail::quote(detail::entry<U, decltype(i)::value>().column));
            });
        };
        add(first);
        (add(more), ...);
        std::string v;
        if constexpr (versioned)
            v = detail::quote(detail::entry<U, detail::version_index<U>()>().column);
        detail::Session::Call call(session_);
        std::int64_t changed = 0;
        {
            detail::Session::TransactionScope tx(session_);
            for (std::size_t at = 0; at < all.size(); at += batch) {
                const std::size_t n = std::min(batch, all.size() - at);
                const std::span<U* const> rows(all.data() + at, n);
                std::string cases;
                for (std::size_t r = 0; r < n; ++r) cases += " WHEN ? THEN ?";
                std::string sql = "UPDATE " + m.table + " SET ";
                for (std::size_t c = 0; c < names.size(); ++c)
                    sql += (c ? ", " : "") + names[c] + " = CASE " + m.pk + cases + " END";
                if constexpr (versioned) sql += ", " + v + " = " + v + " + 1";
                sql += " WHERE " + m.pk + " IN (";
                for (std::size_t r = 0; r < n; ++r) sql += r ? ", ?" : "?";
                sql += ")";
                if constexpr (versioned) sql += " AND " + v + " = CASE " + m.pk + cases + " END";
                const std::int64_t done = session_.execute(
                    sql,
                    [&](detail::Binder& b) {
                        auto column = [&](auto member) {
                            for (U* o : rows) {
                                b.key(detail::primary_key_of(*o));
                                detail::bind_member(b, static_cast<const U&>(*o), member);
                            }
                        };
                        column(first);
                        (column(more), ...);
                        for (U* o : rows) b.key(detail::primary_key_of(*o));
                        if constexpr (versioned) {
                            for (U* o : rows) {
                                b.key(detail::primary_key_of(*o));
                                b(version_of(*o));
                            }
                        }
                    },
                    "bulk_update");
                if constexpr (versioned) {
                    if (done != static_cast<std::int64_t>(n))
                        throw ConflictError(
                            "bulk_update: " + std::to_string(static_cast<std::int64_t>(n) - done) +
                            " of " + std::to_string(n) + " " + m.name +
                            " rows were changed or removed by another writer since they were "
                            "read (their version differs); nothing was written");
                }
                changed += done;
            }
            tx.commit();
        }
        if constexpr (versioned)
            for (U* o : all) ++version_ref(*o);
        call.finish();
        return changed;
    }
    // ---- end of partial and bulk updates ---------------------------------------------------

    /// Inserts `obj` when its key is 0, else updates its row (inserting it if it is gone).
    template <class T> void save(T& obj) {
        if (detail::key_unset(detail::primary_key_of(obj))) return insert(obj);
        detail::Session::Call call(session_);
        {
            detail::Session::TransactionScope tx(session_);
            if (update_row(static_cast<const T&>(obj), "save") == 0) {
                if constexpr (detail::versioned<T>)
                    if (row_exists(obj)) conflict(obj, "save");
                insert(obj);
            } else if constexpr (detail::versioned<T>) {
                ++version_ref(obj);
            }
            tx.commit();
        }
        call.finish();
    }

    /// Deletes the row of `obj` (the database applies on_delete rules) and sets its key to 0
    /// (an empty key for keys that are not integers). Returns false when there was no such row.
    template <class T> bool remove(T& obj) {
        const auto& m = detail::meta<T>();
        const auto& key = detail::primary_key_of(obj);
        detail::Session::Call call(session_);
        std::int64_t n = 0;
        try {
            if constexpr (detail::versioned<T>) {
                static const std::string sql =
                    m.delete_sql + " AND " +
                    detail::quote(detail::entry<T, detail::version_index<T>()>().column) + " = ?";
                n = session_.execute(
                    sql,
                    [&](detail::Binder& b) {
                        b.key(key);
                        b(version_of(obj));
                    },
                    "remove");
                if (n == 0 && row_exists(obj)) conflict(obj, "remove");
            } else {
                n = session_.execute(
                    m.delete_sql, [&](detail::Binder& b) { b.key(key); }, "remove");
            }
        } catch (const ConstraintError& e) {
            if (e.kind() != ConstraintError::Kind::foreign_key) throw;
            // Name what still refers to the row (looked up only now, by the engine).
            std::vector<std::string> refs;
            if constexpr (detail::auto_key<T>)
                refs = session_.connection().rows_referring_to(m.raw_table, key);
            if (refs.empty()) throw;
            std::string list;
            for (const auto& r : refs) list += (list.empty() ? "" : ", ") + r;
            throw ConstraintError(std::string(e.what()) + ": " + m.name + " " +
                                      std::string(detail::entry<T, 0>().column) + "=" +
                                      detail::key_text(key) + " is still referred to by " +
                                      (refs.size() == 1 ? "a row of " : "rows of ") + list +
                                      " (a restrict foreign key); delete or reassign those rows "
                                      "first, or declare the foreign key on_delete::cascade or "
                                      "set_null",
                                  e.code(), e.kind());
        }
        detail::primary_key_ref(obj) = detail::key_of<T>{};
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
                if (insert_row(obj, "bulk_insert")) {
                    if constexpr (detail::auto_key<std::remove_cvref_t<decltype(obj)>>)
                        assigned.push_back(&detail::primary_key_ref(obj));
                }
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
        auto& id = detail::primary_key_ref(obj);
        const bool with_pk = !detail::key_unset(id);
        if constexpr (!detail::auto_key<T>) {
            if (!with_pk)
                throw UsageError(std::string(origin) + ": " + m.name + "." +
                                 std::string(detail::entry<T, 0>().column) +
                                 " is empty: a key that is not an integer is never assigned by "
                                 "the database; give the object its key before inserting it. "
                                 "Nothing was inserted");
        } else if (!with_pk &&
                   !session_.assigns_keys(&m, m.raw_table, detail::entry<T, 0>().column))
            throw DataError(std::string(origin) + ": " + m.name + "." +
                            std::string(detail::entry<T, 0>().column) + " (table " + m.table +
                            "): the database does not fill in this key column on insert (on "
                            "SQLite only a column declared INTEGER PRIMARY KEY is; one declared "
                            "INT PRIMARY KEY, say, is left NULL), so the new row would have no "
                            "key; declare the column INTEGER PRIMARY KEY, or give the object its "
                            "key before inserting it. Nothing was inserted");
        // A key the database assigns is read back as the dialect says: with RETURNING (the
        // row's own key), or as the connection's last insert id.
        std::optional<std::int64_t> assigned;
        try {
            const auto bind = [&](detail::Binder& b) { detail::bind_object(b, obj, with_pk); };
            if (with_pk) {
                session_.execute(m.insert_with_pk_sql, bind, origin);
            } else if (session_.dialect().insert_returning) {
                session_.run(
                    m.insert_returning_sql, bind,
                    [&](const detail::Statement& s) {
                        if (!s.is_null(0)) assigned = s.column_int(0);
                    },
                    origin);
            } else {
                session_.execute(m.insert_sql, bind, origin);
                assigned = session_.last_insert_id();
            }
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        }
        if constexpr (detail::auto_key<T>) {
            if (!with_pk) {
                // Checked before the INSERT (assigns_keys); a NULL key here is a table that
                // changed under us.
                if (!assigned)
                    throw DataError(std::string(origin) + ": " + m.name +
                                    ": the database returned no key for the new row");
                id = *assigned;
            }
        }
        return !with_pk;
    }
    /// UPDATEs every column of `obj`'s row; with a version column, only at the object's
    /// version, writing it plus one. Returns the rows changed.
    template <class T> std::int64_t update_row(const T& obj, std::string_view origin) {
        try {
            if constexpr (detail::versioned<T>) {
                static const std::string sql =
                    detail::meta<T>().update_sql + " AND " +
                    detail::quote(detail::entry<T, detail::version_index<T>()>().column) + " = ?";
                return session_.execute(
                    sql,
                    [&](detail::Binder& b) {
                        detail::bind_object(b, obj, false, 1);
                        b.key(detail::primary_key_of(obj));
                        b(version_of(obj));
                    },
                    origin);
            }
            return session_.execute(
                detail::meta<T>().update_sql,
                [&](detail::Binder& b) {
                    detail::bind_object(b, obj, false);
                    b.key(detail::primary_key_of(obj));
                },
                origin);
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        }
    }
    // ---- issue 17 (writes): optimistic locking helpers --------------------------------------
    template <class T> static const auto& version_of(const T& obj) {
        return obj.*(detail::entry<T, detail::version_index<T>()>().member);
    }
    template <class T> static auto& version_ref(T& obj) {
        return obj.*(detail::entry<T, detail::version_index<T>()>().member);
    }
    template <class T> bool row_exists(const T& obj) {
        const auto& m = detail::meta<T>();
        static const std::string sql = "SELECT 1 FROM " + m.table + " WHERE " + m.pk + " = ?";
        bool found = false;
        session_.run(
            sql, [&](detail::Binder& b) { b.key(detail::primary_key_of(obj)); },
            [&](const detail::Statement&) { found = true; }, "version check");
        return found;
    }
    template <class T> [[noreturn]] void conflict(const T& obj, std::string_view origin) {
        const auto& m = detail::meta<T>();
        throw ConflictError(std::string(origin) + ": " + m.name + " " +
                            std::string(detail::entry<T, 0>().column) + "=" +
                            detail::key_text(detail::primary_key_of(obj)) +
                            " was changed by another writer since it was read (its version is no "
                            "longer " +
                            std::to_string(version_of(obj)) +
                            "); nothing was written: read it again and reapply the change");
    }
    /// An UPDATE that changed no row: a conflict (versioned, the row is there) or no row.
    template <class T> void missing_row(const T& obj, std::string_view origin) {
        if constexpr (detail::versioned<T>)
            if (row_exists(obj)) conflict(obj, origin);
        const auto& m = detail::meta<T>();
        throw DoesNotExist(std::string(origin) + ": no " + m.name + " with " + m.pk + " = " +
                           detail::key_text(detail::primary_key_of(obj)) +
                           " (insert it first, or use save)");
    }

    /// Rethrows a FOREIGN KEY failure of a write of `obj` naming the key columns it set.
    template <class T> static void explain_foreign_key(const ConstraintError& e, const T& obj) {
        if (e.kind() != ConstraintError::Kind::foreign_key) return;
        const std::string hint = detail::foreign_key_hint(obj);
        if (!hint.empty())
            throw ConstraintError(std::string(e.what()) + ": " + hint, e.code(), e.kind());
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
