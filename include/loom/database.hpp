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

#include "detail/config.hpp"
#include "detail/engine/open.hpp"
#include "detail/meta/object_io.hpp"
#include "detail/prefetch/engine.hpp"
#include "detail/router.hpp"
#include "detail/schema.hpp"
#include "detail/session.hpp"
#include "detail/std_light.hpp"
#include "errors.hpp"
#include "m2m.hpp"
#include "options.hpp"
#include "types.hpp"

namespace loom {

namespace detail {

/// Database::check_schema's implementation, defined in <loom/migrate.hpp> (opt-in: not part of
/// <loom/loom.hpp>). Without that header, check_schema does not compile and says why.
template <class Db> struct schema_check {
    template <class... Ts> static void check(Db&) {
        static_assert(sizeof(Db) == 0,
                      "db.check_schema<...>() needs #include <loom/migrate.hpp> (schema checks "
                      "and migrations are opt-in: <loom/loom.hpp> does not include them)");
    }
};

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

/// The name of a Database's own server, for QuerySet::use(loom::primary).
inline constexpr std::string_view primary = "primary";

// ---- issue 17 (writes): upsert options ----------------------------------------------------

/// bulk_insert(objects, loom::on_conflict_ignore): rows that would break a UNIQUE or PRIMARY
/// KEY constraint are skipped (`INSERT ... ON CONFLICT DO NOTHING`).
struct on_conflict_ignore_t {};
inline constexpr on_conflict_ignore_t on_conflict_ignore{};

/// bulk_insert(objects, loom::on_conflict_update(&T::a, ...)): a row whose values in the named
/// columns (a UNIQUE constraint over exactly them; none: the primary key) exist already has its
/// other columns updated instead (`INSERT ... ON CONFLICT (a, ...) DO UPDATE`).
template <class T, class... M> struct on_conflict_update_t { std::tuple<M T::*...> columns; };
template <class T, class... M> on_conflict_update_t<T, M...> on_conflict_update(M T::*... columns) {
    return {{columns...}};
}

/// What get_or_create and update_or_create return: the object as its row now is (with its
/// key), and whether this call inserted it.
template <class T> struct CreateResult {
    T object;
    bool created = false;
};
// ---- end of upsert options ----------------------------------------------------------------

/// A connection to one database (a SQLite file, or ":memory:"). Not thread-safe: use one
/// Database per thread. A Database (or a QuerySet of it) used by a second thread while the first
/// is inside it is refused with a UsageError, not a crash.
class Database {
public:
    /// Opens (and by default creates) the SQLite file at `path`; ":memory:" for a private
    /// in-memory database. Foreign keys are enforced. Throws CantOpenError, NotADatabaseError.
    /// A `postgresql://` (or `postgres://`) URI connects to a PostgreSQL server instead, when
    /// the program includes <loom/postgres.hpp> (docs/engines.md).
    explicit Database(const std::string& path, Options options = {});
    ~Database();

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
    /// Times the connection waited for a database server since it was opened: every statement,
    /// prepare and transaction control is one, a pipeline of several statements one in all
    /// (PostgreSQL); always 0 on SQLite, which runs in the process.
    ///
    ///     const auto before = db.round_trips();
    ///     for (const Book& b : books) { ... }      // evaluates the QuerySet
    ///     std::printf("%lld round trips\n", static_cast<long long>(db.round_trips() - before));
    std::int64_t round_trips() const noexcept { return session_.round_trips(); }

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
    /// Worker connections open for prefetch levels at the same time (at most
    /// Options::prefetch_workers; opened when first needed, none on ":memory:").
    std::size_t worker_connections() const noexcept { return session_.worker_connections(); }

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
        Subscription(Subscription&& o) noexcept;
        Subscription& operator=(Subscription&& o) noexcept;
        ~Subscription();
        void reset();

    private:
        friend class Database;
        Subscription(detail::Session* s, std::uint64_t id);
        detail::Session* s_ = nullptr;
        std::uint64_t id_ = 0;
    };

    /// Calls `listener` after every statement until the returned Subscription is destroyed.
    /// With no listener, running a statement costs one extra branch.
    [[nodiscard]] Subscription on_query(QueryListener listener);
    /// Sets (or with nullptr clears) the one persistent hook, e.g. a logger.
    void set_query_hook(QueryListener hook);

    // ---- read replicas ---------------------------------------------------------------------

    /// Adds a read replica named `name`, reached through `url` (a PostgreSQL streaming
    /// replica, or any database the same engine opens). From then on a QuerySet evaluated
    /// outside a transaction reads from the replicas in turn (round-robin), its prefetch levels
    /// on the same replica and snapshot as its base query; writes, everything inside a
    /// transaction, and reads made while read-your-writes holds go to the primary;
    /// `qs.use("name")` or `qs.use(loom::primary)` names the server. The replica is connected
    /// at its first read; one the router chose that refuses or loses the connection is skipped
    /// for a while (set_replica_retry) and the read runs on the next replica, or the primary.
    /// Statements run on a replica are counted by query_count() and seen by listeners with
    /// QueryEvent::server set to `name`. See docs/engines.md, "Read replicas".
    ///
    ///     loom::Database db{"postgresql://app@primary/shop"};
    ///     db.add_replica("replica1", "postgresql://app@replica1/shop");
    void add_replica(std::string name, const std::string& url);
    /// The names of the replicas, in the order they were added.
    std::vector<std::string> replica_names() const;
    /// Reads stay on the primary for `window` after each statement that wrote through this
    /// Database (0, the default: no window). A replica that lags less than the window never
    /// serves a read older than this Database's own writes.
    void set_read_your_writes_window(std::chrono::milliseconds window) noexcept {
        router_.set_window(window);
    }
    /// How long a replica the router found unreachable is left out before it is tried again
    /// (default 5 s).
    void set_replica_retry(std::chrono::milliseconds retry) noexcept { router_.set_retry(retry); }

    /// While alive, a write through this Database sends every later read to the primary, until
    /// the guard (the outermost, when nested) is destroyed: the reads of one request see its own
    /// writes, whatever the replicas' lag. Reads before the first write still go to replicas.
    ///
    ///     {
    ///         auto ryw = db.read_your_writes();
    ///         db.insert(order);                     // primary
    ///         auto mine = db.objects<Order>()...;   // primary: sees the order
    ///     }
    class ReadYourWrites {
    public:
        ReadYourWrites(ReadYourWrites&& o) noexcept;
        ReadYourWrites& operator=(ReadYourWrites&&) = delete;
        ~ReadYourWrites();

    private:
        friend class Database;
        ReadYourWrites(detail::Router& r, const detail::Session& s);
        detail::Router* r_;
    };
    [[nodiscard]] ReadYourWrites read_your_writes();

    // ---- schema ----------------------------------------------------------------------------

    /// Creates the tables of the given models (FK targets first), an index on every FK column,
    /// and the join tables of their many-to-many relations. Tables that exist are left as they
    /// are: loom never alters or drops data behind your back. All or nothing.
    template <class... Ts> void create_tables() {
        const auto models = detail::schema_models<Ts...>();
        create_model_tables(models.data(), models.size());
    }

    /// Drops the tables of the given models and their join tables (dependents first; on
    /// PostgreSQL in one statement, so that foreign keys forming a cycle among them are no
    /// obstacle). All or nothing.
    template <class... Ts> void drop_tables() {
        const auto models = detail::schema_models<Ts...>();
        drop_model_tables(models.data(), models.size());
    }

    /// The DDL create_tables<Ts...>() would run, for review or migrations tools.
    template <class... Ts> std::vector<std::string> schema_sql() const {
        return detail::schema_sql<Ts...>(session_.dialect());
    }

    /// Compares the live schema with the models' and throws loom::SchemaError listing every
    /// difference (tables, columns, types, NULL-ness, keys, foreign keys, UNIQUE, indexes, join
    /// tables). Defined in <loom/migrate.hpp>, which you include yourself (it is not part of
    /// <loom/loom.hpp>);
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
    /// Sets its loom::auto_now members to the current time first.
    template <class T> void update(T& obj) {
        using U = std::remove_const_t<T>;
        static_assert(!detail::versioned<U> || !std::is_const_v<T>,
                      "db.update: a model with a loom::version column is updated through a "
                      "non-const object (update bumps its version)");
        static_assert(!detail::has_auto_now<U>() || !std::is_const_v<T>,
                      "db.update: this model has loom::auto_now members, which update sets: "
                      "pass a non-const object");
        if constexpr (!std::is_const_v<T>) detail::prepare_update(obj);
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
        // ` THEN ?`, or ` THEN CAST(? AS <column type>)` for an engine that types a CASE by its
        // values (Dialect::cast_case_values: PostgreSQL reads an all-NULL CASE as text).
        std::vector<std::string> thens;
        const detail::engine::Dialect& dialect = session_.dialect();
        const detail::engine::TableInfo table =
            dialect.cast_case_values ? detail::table_info<U>() : detail::engine::TableInfo{};
        auto add = [&](auto member) {
            detail::visit_column(member, "bulk_update", [&](auto i) {
                const auto& column = detail::entry<U, decltype(i)::value>().column;
                names.push_back(detail::quote(column));
                const detail::engine::ColumnInfo* info = table.column(column);
                thens.push_back(!info ? std::string(" THEN ?")
                                      : " THEN CAST(? AS " +
                                            std::string(info->declared_type.empty()
                                                            ? detail::engine::type_sql(
                                                                  dialect, info->type, info->kind)
                                                            : info->declared_type) +
                                            ")");
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
                for (std::size_t c = 0; c < names.size(); ++c) {
                    sql += (c ? ", " : "") + names[c] + " = CASE " + m.pk;
                    for (std::size_t r = 0; r < n; ++r) sql += " WHEN ?" + thens[c];
                    sql += " END";
                }
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
        detail::prepare_update(obj);
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
            // Name what still refers to the row: the rows the engine finds (looked up only now),
            // else the restrict keys the descriptors declare.
            std::vector<std::string> refs;
            if constexpr (detail::auto_key<T>)
                refs = session_.connection().rows_referring_to(m.raw_table, key);
            const bool found = !refs.empty();
            if (!found) refs = detail::restrict_references<T>();
            throw ConstraintError(std::string(e.what()) + ": " +
                                      detail::still_referred_to(
                                          m.name + " " + std::string(detail::entry<T, 0>().column) +
                                              "=" + detail::key_text(key),
                                          refs, found),
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

    // ---- issue 17 (writes): upsert, get_or_create, update_or_create ------------------------

    /// Inserts `obj`, or, when a row with the same values in the `conflict` columns exists (a
    /// UNIQUE constraint over exactly those columns; none named: the primary key), updates that
    /// row's other columns with `obj`'s values, in one statement that concurrent writers cannot
    /// race (`INSERT ... ON CONFLICT (...) DO UPDATE ... RETURNING key`). Sets `obj`'s key to
    /// the row's.
    ///
    ///     db.upsert(user, &User::email);
    template <class T, class... M> void upsert(T& obj, M T::*... conflict) {
        detail::Session::Call call(session_);
        upsert_row(obj, conflict_target<T>(conflict...), true, "upsert");
        detail::bind_relations(obj);
        call.finish();
    }

    /// The row whose `lookup` columns hold the values `proto` has, or `proto` inserted when
    /// there is none: {object, created}. Race-safe under concurrent writers when the lookup
    /// columns are a UNIQUE constraint (loom::unique, unique_together; none named: the primary
    /// key), which the database then requires: a writer that loses the race to insert reads
    /// the winner's row. One query when the row exists, two when this call inserts it.
    ///
    ///     auto [tag, created] = db.get_or_create(Tag{.name = "c++"}, &Tag::name);
    template <class T, class... M> CreateResult<T> get_or_create(T proto, M T::*... lookup) {
        const std::string target = conflict_target<T>(lookup...);
        detail::Session::Call call(session_);
        CreateResult<T> out;
        if (auto found = find_by(proto, lookup...)) {
            out.object = std::move(*found);
        } else if (upsert_row(proto, target, false, "get_or_create")) {
            detail::bind_relations(proto);
            out.object = std::move(proto);
            out.created = true;
        } else if (auto winner = find_by(proto, lookup...)) {  // another writer was first
            out.object = std::move(*winner);
        } else {
            throw ConflictError("get_or_create: a " + detail::meta<T>().name +
                                " row with these values was inserted and removed again by "
                                "other writers meanwhile; try again");
        }
        call.finish();
        return out;
    }

    /// Inserts `proto`, or, when a row with its values in the `lookup` columns exists (a UNIQUE
    /// constraint over exactly them; none named: the primary key), writes `proto`'s other
    /// columns to that row: {object, created}. One statement either way
    /// (`INSERT ... ON CONFLICT (...) DO UPDATE ... RETURNING key`); `created` is told by a
    /// read of the key before it, in the same transaction (BEGIN IMMEDIATE on SQLite, so no
    /// other writer runs between them).
    ///
    ///     auto [user, created] = db.update_or_create(User{.email = e, .name = n}, &User::email);
    template <class T, class... M> CreateResult<T> update_or_create(T proto, M T::*... lookup) {
        const std::string target = conflict_target<T>(lookup...);
        detail::Session::Call call(session_);
        CreateResult<T> out;
        {
            detail::Session::TransactionScope tx(session_);
            const bool existed = find_by(proto, lookup...).has_value();
            upsert_row(proto, target, true, "update_or_create");
            tx.commit();
            out.created = !existed;
        }
        detail::bind_relations(proto);
        out.object = std::move(proto);
        call.finish();
        return out;
    }

    /// bulk_insert that skips the objects whose row would break a UNIQUE or PRIMARY KEY
    /// constraint: returns how many were inserted; the skipped objects keep their key as it
    /// was (0 for a key the database assigns).
    template <std::ranges::forward_range R>
    requires std::is_lvalue_reference_v<std::ranges::range_reference_t<R>> std::size_t bulk_insert(
        R&& objs, on_conflict_ignore_t) {
        using U = detail::range_model_t<R>;
        return bulk_upsert<U>(objs, std::string(), false);
    }

    /// bulk_insert that updates the row of an object whose values in the named columns exist
    /// already (see on_conflict_update); every object gets its row's key. Returns the number of
    /// objects written (inserted or updated).
    template <std::ranges::forward_range R, class T, class... M>
    requires std::is_lvalue_reference_v<std::ranges::range_reference_t<R>> std::size_t bulk_insert(
        R&& objs, on_conflict_update_t<T, M...> how) {
        using U = detail::range_model_t<R>;
        static_assert(std::is_same_v<U, T>,
                      "bulk_insert: loom::on_conflict_update names members of another model");
        const std::string target =
            std::apply([](auto... c) { return conflict_target<U>(c...); }, how.columns);
        return bulk_upsert<U>(objs, target, true);
    }
    // ---- end of upsert ---------------------------------------------------------------------

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
    friend detail::Router& detail::router_of(Database& db) noexcept;

    /// INSERTs the row of `obj`; true when the database assigned its key.
    template <class T> bool insert_row(T& obj, std::string_view origin) {
        detail::prepare_insert(obj);  // defaults for members never set, auto_now(_add)
        auto& id = detail::primary_key_ref(obj);
        const bool with_pk = !detail::key_unset(id);
        std::int64_t chosen_key = 0;
        if constexpr (detail::auto_key<T>)
            if (with_pk) chosen_key = id;
        std::optional<std::int64_t> assigned;
        try {
            assigned = insert_statement(
                detail::meta<T>(), detail::entry<T, 0>().column, detail::auto_key<T>, with_pk,
                chosen_key,
                [](detail::Binder& b, const void* o, bool pk) {
                    detail::bind_object(b, *static_cast<const T*>(o), pk);
                },
                &obj, origin);
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        }
        if constexpr (detail::auto_key<T>)
            if (!with_pk) id = *assigned;
        return !with_pk;
    }
    /// create_tables<Ts...>() and drop_tables<Ts...>() for the models at `models`.
    void create_model_tables(const detail::SchemaModel* models, std::size_t count);
    void drop_model_tables(const detail::SchemaModel* models, std::size_t count);
    /// The statement of insert_row, apart from the object's type: checks that the row will
    /// have a key, runs the INSERT (`bind` binds the object's values), and returns the key the
    /// database assigned (always set for an auto key the object did not have). `chosen_key`:
    /// an auto key the program gave the object.
    std::optional<std::int64_t> insert_statement(const detail::ModelMeta& m,
                                                 std::string_view pk_column, bool auto_key,
                                                 bool with_pk, std::int64_t chosen_key,
                                                 void (*bind)(detail::Binder&, const void*, bool),
                                                 const void* obj, std::string_view origin);
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
    // ---- issue 17 (writes): upsert helpers --------------------------------------------------

    /// "(c1, c2)": the conflict target of the named columns, or of the primary key.
    template <class T, class... M> static std::string conflict_target(M T::*... columns) {
        if constexpr (sizeof...(M) == 0) {
            return "(" + detail::meta<T>().pk + ")";
        } else {
            std::string out = "(";
            std::size_t k = 0;
            auto add = [&](auto member) {
                bool found = detail::visit_entry(member, [&](auto i) {
                    constexpr std::size_t I = decltype(i)::value;
                    using E = detail::entry_t<T, I>;
                    if constexpr (!detail::has_column<E>)
                        throw UsageError("upsert: " + detail::meta<T>().name +
                                         "::" + std::string(detail::member_name_of<T, I>()) +
                                         " is a relation without a column; name columns");
                    else
                        out += (k++ ? ", " : "") + detail::quote(detail::entry<T, I>().column);
                });
                if (!found)
                    throw UsageError(
                        "upsert: a member named is not declared in the descriptor "
                        "of " +
                        detail::meta<T>().name);
            };
            (add(columns), ...);
            return out + ")";
        }
    }

    /// The row whose `lookup` columns (none: the primary key) hold `proto`'s values.
    template <class T, class... M> std::optional<T> find_by(const T& proto, M T::*... lookup) {
        const auto& m = detail::meta<T>();
        std::string sql = "SELECT " + m.select_list(m.table) + " FROM " + m.table + " WHERE ";
        std::size_t k = 0;
        if constexpr (sizeof...(M) == 0) {
            sql += m.pk + " = ?";
        } else {
            auto add = [&](auto member) {
                detail::visit_entry(member, [&](auto i) {
                    sql += std::string(k++ ? " AND " : "") + m.table + "." +
                           detail::quote(detail::entry<T, decltype(i)::value>().column) + " = ?";
                });
            };
            (add(lookup), ...);
        }
        std::optional<T> out;
        session_.run(
            sql,
            [&](detail::Binder& b) {
                if constexpr (sizeof...(M) == 0) {
                    b.key(detail::primary_key_of(proto));
                } else {
                    auto bind = [&](auto member) {
                        detail::visit_entry(member, [&](auto i) {
                            constexpr std::size_t I = decltype(i)::value;
                            using E = detail::entry_t<T, I>;
                            const auto& value = proto.*(detail::entry<T, I>().member);
                            if constexpr (E::kind == detail::entry_kind::field ||
                                          E::kind == detail::entry_kind::pk)
                                b.key(value);
                            else if constexpr (detail::has_column<E>)
                                b.key(value.id());
                        });
                    };
                    (bind(lookup), ...);
                }
            },
            [&](const detail::Statement& s) {
                if (!out) detail::read_object(s, 0, out.emplace());
            },
            "get_or_create");
        return out;
    }

    /// INSERT ... ON CONFLICT <target> DO UPDATE (every other column, `update`) or DO NOTHING,
    /// RETURNING the key, which `obj` gets. False when nothing was written (DO NOTHING hit).
    /// An empty target: any conflict (DO NOTHING only).
    template <class T>
    bool upsert_row(T& obj, const std::string& target, bool update, std::string_view origin) {
        const auto& m = detail::meta<T>();
        auto& id = detail::primary_key_ref(obj);
        const bool with_pk = !detail::key_unset(id);
        if constexpr (!detail::auto_key<T>)
            if (!with_pk)
                throw UsageError(std::string(origin) + ": " + m.name + "." +
                                 std::string(detail::entry<T, 0>().column) +
                                 " is empty: give the object its key first. Nothing was written");
        std::string sql =
            (with_pk ? m.insert_with_pk_sql : m.insert_sql) + " ON CONFLICT " + target;
        // A loom::version column: inserted as insert writes it (the object's value), and
        // bumped from the row's own value by the update branch; either way the row's version
        // comes back with its key, so the object can be updated (and a copy read before is
        // stale). An upsert names its row by the conflict columns, not by a version it read,
        // so it does not check one.
        std::string version_column;
        if constexpr (detail::versioned<T>)
            version_column = detail::quote(detail::entry<T, detail::version_index<T>()>().column);
        std::string sets;
        if (update)
            for (std::size_t c = 1; c < m.columns.size(); ++c) {
                if (target.find(m.columns[c]) != std::string::npos) continue;
                sets += (sets.empty() ? "" : ", ") + m.columns[c] + " = ";
                sets += m.columns[c] == version_column ? m.table + "." + m.columns[c] + " + 1"
                                                       : "excluded." + m.columns[c];
            }
        sql += sets.empty() ? " DO NOTHING" : " DO UPDATE SET " + sets;
        sql += " RETURNING " + m.pk;
        if constexpr (detail::versioned<T>) sql += ", " + version_column;
        bool wrote = false;
        std::optional<detail::key_of<T>> key;
        std::int64_t version = 0;
        try {
            session_.run(
                sql, [&](detail::Binder& b) { detail::bind_object(b, obj, with_pk); },
                [&](const detail::Statement& s) {
                    wrote = true;
                    if constexpr (detail::auto_key<T>) key = s.column_int(0);
                    if constexpr (detail::versioned<T>) version = s.column_int(1);
                },
                origin);
        } catch (const ConstraintError& e) {
            explain_foreign_key(e, obj);
            throw;
        } catch (const DatabaseError& e) {
            const std::string what = e.what();
            if (what.find(session_.dialect().no_conflict_target) == std::string::npos) throw;
            throw UsageError(std::string(origin) + ": the columns " + target + " of " + m.name +
                             " are not a UNIQUE constraint (declare them loom::unique or "
                             "unique_together), so a conflict on them cannot be detected");
        }
        if constexpr (detail::auto_key<T>)
            if (key) id = *key;
        if constexpr (detail::versioned<T>)
            if (wrote)
                version_ref(obj) =
                    static_cast<std::remove_cvref_t<decltype(version_of(obj))>>(version);
        return wrote;
    }

    template <class U, class R>
    std::size_t bulk_upsert(R& objs, const std::string& target, bool update) {
        detail::Session::Call call(session_);
        std::vector<std::pair<detail::key_of<U>*, detail::key_of<U>>> before;
        std::vector<std::int64_t> versions;  // a loom::version column's values before
        std::size_t written = 0;
        try {
            detail::Session::TransactionScope tx(session_);
            for (U& obj : objs) {
                before.emplace_back(&detail::primary_key_ref(obj), detail::primary_key_of(obj));
                if constexpr (detail::versioned<U>)
                    versions.push_back(static_cast<std::int64_t>(version_of(obj)));
                if (upsert_row(obj, target, update, "bulk_insert")) ++written;
            }
            tx.commit();
        } catch (...) {
            std::size_t k = 0;
            for (U& obj : objs) {
                if (k == before.size()) break;
                *before[k].first = before[k].second;
                if constexpr (detail::versioned<U>)
                    version_ref(obj) =
                        static_cast<std::remove_cvref_t<decltype(version_of(obj))>>(versions[k]);
                ++k;
            }
            throw;
        }
        for (U& obj : objs) detail::bind_relations(obj);
        call.finish();
        return written;
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
        if (e.kind() == ConstraintError::Kind::foreign_key)
            add_hint(e, detail::foreign_key_hint(obj));
    }
    /// Throws `e` with `hint` added to its message, unless the hint is empty.
    static void add_hint(const ConstraintError& e, const std::string& hint);
    /// The path, or the URI without its password.
    static std::string shown_path(const std::string& path);
    static void check_width(const detail::Statement& s, std::size_t n) {
        if (static_cast<std::size_t>(s.column_count()) != n)
            throw UsageError("db.query: the result has " + std::to_string(s.column_count()) +
                             " columns where " + std::to_string(n) +
                             " were asked for (while running: " + detail::sql_excerpt(s.sql()) +
                             ")");
    }

    detail::Session session_;
    detail::Router router_;  // after session_: replicas' sessions refer to it
};

inline detail::Router& detail::router_of(Database& db) noexcept {
    return db.router_;
}

inline detail::Session& detail::session_of(Database& db) noexcept {
    return db.session_;
}

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/database.hpp"
#endif
