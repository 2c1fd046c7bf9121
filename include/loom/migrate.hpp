// loom/migrate.hpp - schema evolution: checking the live schema against the models, migrations
// as code that never lose a row, and an autodetector that drafts them.
//
//     db.check_schema<Publisher, Author, Book>();      // at start-up: throws loom::SchemaError
//
//     const loom::Migrations migrations{{
//         {"0001_initial", {loom::create_tables<Publisher, Author, Book>()}},
//         {"0002_book_pages", {loom::add_column("book", loom::column<int>("pages").fill(0))}},
//     }};
//     migrations.apply(db);                            // the pending ones, each in a transaction
//     for (const auto& m : migrations.plan(db)) fmt::print("{}", m.text());   // SQL, not run
//
//     loom::Diff d = loom::diff<Publisher, Author, Book>(db);   // development: draft the next one
//     fmt::print("{}\n", d.cpp());
//
// docs/migrations.md has the workflow and a comparison with Django's. Opt-in: <loom/loom.hpp>
// does not include this header (it would add about a second to every translation unit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "database.hpp"
#include "detail/config.hpp"
#include "detail/migrate/compare.hpp"
#include "detail/migrate/runner.hpp"
#include "errors.hpp"
#include "model.hpp"
#include "types.hpp"

namespace loom {

// ---- columns and operations -------------------------------------------------------------------

/// A column's storage class, as a migration writes it (the engine's Dialect names the type).
enum class ColumnType { integer, real, text, blob };

/// A column as a migration writes it: written down once, it stays what it is when the models
/// change later. NOT NULL unless nullable().
class ColumnDef {
public:
    ColumnDef(std::string name, ColumnType type);

    /// NULL allowed.
    ColumnDef& nullable(bool yes = true);
    /// A UNIQUE constraint on this column.
    ColumnDef& unique(bool yes = true);
    /// A foreign key to `table` (its column `column`), with the given on_delete rule.
    ColumnDef& references(std::string table, on_delete rule = on_delete::restrict,
                          std::string column = "id");
    /// The value the rows already there get: when the column is added, or, for a column made
    /// NOT NULL, in place of NULL. Bound as a parameter; the schema keeps no DEFAULT.
    template <class V> ColumnDef& fill(const V& value) {
        Value v = detail::migrate::value_of(value);
        using detail::engine::TypeClass;
        const auto t = spec_.info.type;
        const bool fits = v.index() == 0 || (t == TypeClass::integer && v.index() == 1) ||
                          (t == TypeClass::real && (v.index() == 1 || v.index() == 2)) ||
                          (t == TypeClass::text && v.index() == 3) ||
                          (t == TypeClass::blob && v.index() == 4);
        if (!fits)
            throw UsageError("loom::ColumnDef(\"" + spec_.info.name +
                             "\").fill: the value's type " + "does not match the column's type, " +
                             std::string(detail::engine::type_class_name(t)));
        spec_.fill = std::move(v);
        return *this;
    }

    const std::string& name() const noexcept { return spec_.info.name; }

private:
    friend struct detail::access;
    friend ColumnDef primary_key(std::string name);
    detail::migrate::ColumnSpec spec_;
};

/// A column for values of member type V: `column<int>("pages")`, `column<std::optional<
/// std::string>>("subtitle")` (nullable), `column<loom::Blob>("cover")`.
template <class V> ColumnDef column(std::string name) {
    static_assert(detail::column_type<V>,
                  "loom::column<V>: V must be a type loom maps to a column (bool, integers, "
                  "enums, float/double, std::string, loom::Blob, std::optional of those)");
    constexpr auto s = detail::column_traits<V>::storage;
    ColumnDef c(std::move(name), s == detail::Storage::integer ? ColumnType::integer
                                 : s == detail::Storage::real  ? ColumnType::real
                                 : s == detail::Storage::text  ? ColumnType::text
                                                               : ColumnType::blob);
    c.nullable(detail::column_traits<V>::nullable);
    return c;
}

/// The auto-assigned 64-bit integer key every loom model has.
LOOM_DECL ColumnDef primary_key(std::string name = "id");

/// One step of a migration. Made by the functions below; describe() says it in words, cpp()
/// writes the C++ that makes it.
class Operation {
public:
    std::string describe() const;
    std::string cpp() const;

private:
    friend struct detail::access;
    explicit Operation(std::shared_ptr<const detail::migrate::Op> op);
    std::shared_ptr<const detail::migrate::Op> spec_;
};

namespace detail::migrate {
template <class O, class... A> Operation make_op(A&&... a) {
    return access::make<Operation>(
        std::shared_ptr<const Op>(std::make_shared<O>(std::forward<A>(a)...)));
}
}  // namespace detail::migrate

/// A table with these columns and UNIQUE constraints over several columns (its indexes are
/// operations of their own: add_index).
LOOM_DECL Operation create_table(std::string name, std::vector<ColumnDef> columns,
                                 std::vector<std::vector<std::string>> unique_together = {});

/// The tables of these models as their descriptors are now (FK targets first), with their
/// indexes and join tables: what db.create_tables<Ts...>() makes. The operation follows the
/// models, so its checksum changes when they do: once the models change again, freeze it
/// (replace it with the operations loom::diff prints against an empty database).
template <class... Ts> Operation create_tables() {
    return detail::migrate::make_op<detail::migrate::CreateTables>(detail::model_tables<Ts...>());
}

/// Drops a table and its rows. (SQLite: with foreign keys off; a table whose rows are still
/// referenced fails the migration's foreign key check, which rolls it back. PostgreSQL: a table
/// another table's foreign key refers to cannot be dropped before that table or key.)
LOOM_DECL Operation drop_table(std::string table);
LOOM_DECL Operation rename_table(std::string from, std::string to);
/// Adds a column; a NOT NULL one needs .fill(value) for the rows there.
LOOM_DECL Operation add_column(std::string table, ColumnDef column);
/// Drops a column and its values (and the one-column index, UNIQUE or foreign key on it).
LOOM_DECL Operation drop_column(std::string table, std::string column);
LOOM_DECL Operation rename_column(std::string table, std::string from, std::string to);
/// Changes a column to this definition: type, NULL-ness, UNIQUE, foreign key. Values are
/// copied and checked: one that does not convert to the new type fails the migration.
LOOM_DECL Operation alter_column(std::string table, ColumnDef column);
/// An index named `<table>_<columns>_idx` unless `name` is given.
LOOM_DECL Operation add_index(std::string table, std::vector<std::string> columns,
                              std::string name = {});
/// Drops the index on exactly these columns (the one named `name`, when given).
LOOM_DECL Operation drop_index(std::string table, std::vector<std::string> columns,
                               std::string name = {});
/// A UNIQUE constraint over these columns; rows that break it fail the migration.
LOOM_DECL Operation add_unique(std::string table, std::vector<std::string> columns);
LOOM_DECL Operation drop_unique(std::string table, std::vector<std::string> columns);
/// One SQL statement with `args` bound to its `?` placeholders. loom does not know what it
/// changes: keep schema changes it can describe in the operations above.
template <class... Args> Operation raw_sql(std::string sql, const Args&... args) {
    return detail::migrate::make_op<detail::migrate::RawSql>(
        std::move(sql), std::vector<Value>{detail::migrate::value_of(args)...});
}
/// C++ run inside the migration's transaction, given the Database (queries, writes, raw SQL).
/// The checksum covers its name, not its code: rename the step when its meaning changes.
LOOM_DECL Operation data_step(std::string name, std::function<void(Database&)> fn);

// ---- migrations -------------------------------------------------------------------------------

/// A named, ordered list of operations, applied in one transaction.
struct Migration {
    std::string name;
    std::vector<Operation> operations;
};

/// A row of the history table, loom_migrations: a migration applied to this database.
struct AppliedMigration {
    std::int64_t id = 0;
    std::string name;
    std::string checksum;    // of its operations when it was applied
    std::string applied_at;  // UTC, 2024-05-01T12:00:00Z
};

constexpr auto loom_model(model_of<AppliedMigration>) {
    return table("loom_migrations", pk(&AppliedMigration::id),
                 field(&AppliedMigration::name, "name", unique),
                 field(&AppliedMigration::checksum, "checksum"),
                 field(&AppliedMigration::applied_at, "applied_at"));
}

/// What apply would run for one pending migration (Migrations::plan).
struct PlannedMigration {
    std::string name;
    std::string checksum;
    /// SQLite: the migration rebuilds or drops a table, so it runs with foreign keys off
    /// (switched outside its transaction) and checks them all before it commits.
    bool foreign_keys_off = false;
    std::vector<std::string> operations;  // in words
    /// The statements, in order (a data step is a `-- data step` comment line).
    std::vector<SqlText> statements;

    /// The plan as an SQL script, each statement's parameters in a comment after it.
    std::string text() const;
};

/// The program's migrations, in the order they apply.
class Migrations {
public:
    Migrations(std::vector<Migration> list);

    const std::vector<Migration>& list() const noexcept { return list_; }

    /// The checksum of migration `name`'s operations.
    std::string checksum(std::string_view name) const;

    /// Applies the pending migrations in order, each in its own transaction with its row in
    /// loom_migrations (created when missing), and returns their names. A migration applies
    /// completely or not at all: on failure it rolls back and MigrationError says which
    /// operation failed and why; the migrations before it stay applied. Another process
    /// applying the same list waits for the lock (Options::busy_timeout_ms) and skips what it
    /// finds applied. Throws MigrationError when an applied migration has changed, or the
    /// history names one this list does not have, or has a gap.
    std::vector<std::string> apply(Database& db) const;

    /// The SQL apply would run for the pending migrations, without running it (the database is
    /// only read). Each migration is planned on the schema the ones before it leave; a data
    /// step or raw SQL is assumed to leave the schema as it was.
    std::vector<PlannedMigration> plan(Database& db) const;

    /// The migrations applied to this database, oldest first (none when it has no history
    /// table; reading creates nothing).
    std::vector<AppliedMigration> history(Database& db) const;

    /// Records the migrations up to and including `name` as applied without running them: for
    /// a database whose schema was made before it had migrations (by create_tables). Check
    /// first that the schema is what they would make (db.check_schema).
    void adopt(Database& db, std::string_view name) const;

private:
    const Migration& at(std::string_view name) const;
    static std::vector<std::shared_ptr<const detail::migrate::Op>> ops_of(const Migration& m);
    static std::string checksum_of(const Migration& m);
    static bool rebuilds(const Migration& m);
    static const AppliedMigration* find(const std::vector<AppliedMigration>& h,
                                        std::string_view name);
    static std::vector<AppliedMigration> read_history(Database& db);

    void check_changed(const AppliedMigration& a, const Migration& m) const;

    void check_history(const std::vector<AppliedMigration>& applied) const;

    static void run_operations(detail::migrate::Context& ctx, const Migration& m);

    /// Switches foreign keys off for a migration that needs it, and back on when done.
    class ForeignKeysOff {
    public:
        ForeignKeysOff(detail::Session& s, detail::engine::Runner& r,
                       detail::engine::SchemaEditor& e, const Migration& m)
            : r_(r), e_(e) {
            if (!rebuilds(m) || !e.rebuild_needs_foreign_keys_off()) return;
            if (s.depth() > 0)
                throw UsageError("apply: migration '" + m.name +
                                 "' rebuilds or drops a table, which needs foreign keys off, and "
                                 "they cannot be switched inside a transaction: call apply "
                                 "outside db.transaction");
            active_ = true;
            if (!e.foreign_keys_enabled(r)) return;
            r.execute(e.foreign_keys_sql(false), {});
            restore_ = true;
        }
        ~ForeignKeysOff() {
            if (!restore_) return;
            try {
                r_.execute(e_.foreign_keys_sql(true), {});
            } catch (...) {
                // The connection stays open with foreign keys off only if even this fails;
                // nothing better can be done in a destructor.
            }
        }
        bool active() const noexcept { return active_; }
        ForeignKeysOff(const ForeignKeysOff&) = delete;
        ForeignKeysOff& operator=(const ForeignKeysOff&) = delete;

    private:
        detail::engine::Runner& r_;
        detail::engine::SchemaEditor& e_;
        bool active_ = false, restore_ = false;
    };

    /// Applies one migration unless it is applied already; true when this call applied it.
    bool apply_one(Database& db, detail::Session& s, detail::engine::Runner& runner,
                   detail::engine::SchemaEditor& editor, const Migration& m) const;

    std::vector<Migration> list_;
};

// ---- schema check ----------------------------------------------------------------------------

/// How the live schema compares with the models (schema_report).
struct SchemaReport {
    /// What stops the models working with this database, or weakens what they declare: a
    /// missing table, column, key, foreign key, UNIQUE or index, a different type or
    /// NULL-ness, an extra NOT NULL column loom's inserts would not fill.
    std::vector<std::string> differences;
    /// What the database has beyond the models that does not stop them: an extra index, an
    /// extra column that may be NULL or has a default.
    std::vector<std::string> notes;
    bool ok() const noexcept { return differences.empty(); }
};

/// Compares the live schema with the models' (their tables and join tables): tables, columns,
/// types, NULL-ness, primary keys, foreign keys, UNIQUE constraints, indexes. About 4 queries
/// per table; nothing is written.
template <class... Ts> SchemaReport schema_report(Database& db) {
    auto& s = detail::session_of(db);
    detail::migrate::SessionRunner runner(s, "check_schema");
    const auto editor = detail::migrate::editor_for(s.dialect());
    detail::migrate::Report r;
    for (const auto& t : detail::model_tables<Ts...>()) {
        const auto have = editor->read_table(runner, t.name);
        detail::migrate::report_table(t, have ? &*have : nullptr, r);
    }
    return SchemaReport{std::move(r.differences), std::move(r.notes)};
}

namespace detail {
template <> struct schema_check<Database> {
    template <class... Ts> static void check(Database& db) {
        SchemaReport r = schema_report<Ts...>(db);
        if (r.ok()) return;
        std::string what = "the database schema does not match the models (" +
                           std::to_string(r.differences.size()) +
                           (r.differences.size() == 1 ? " difference):" : " differences):");
        for (const auto& d : r.differences) what += "\n  " + d;
        what += "\nmigrate the database (loom::Migrations; loom::diff drafts the operations)";
        throw SchemaError(what, std::move(r.differences));
    }
};
}  // namespace detail

// ---- the autodetector -------------------------------------------------------------------------

/// What loom::diff may do beyond additive changes; each entry names one change explicitly.
struct DiffOptions {
    /// Columns ("book.subtitle"), tables ("old_table") and indexes (by name) to drop, with
    /// their data.
    std::vector<std::string> drop;
    /// Renames, old name to new: {"book.name", "title"} (a column), {"books", "book"} (a table).
    std::vector<std::pair<std::string, std::string>> rename;
    /// Values for rows that have none: a NOT NULL column added, or NULLs of a column made NOT
    /// NULL ({"book.pages", 0}). nullptr: there are none (the migration fails if there are).
    std::vector<std::pair<std::string, Value>> fill;
    /// Columns whose type may change to one that may not hold every old value ("book.year").
    std::vector<std::string> change_type;
};

/// The operations that turn the live schema into the models' (loom::diff).
struct Diff {
    std::vector<Operation> operations;
    /// Changes not made into operations because they could lose data or are ambiguous, each in
    /// words with the DiffOptions entry that would allow it.
    std::vector<std::string> unresolved;
    bool complete() const noexcept { return unresolved.empty(); }
    /// The operations as C++, for a Migration in the program's list.
    std::string cpp() const;
};

/// For development: the operations that turn this database's schema into the models' (their
/// tables and join tables; other tables are left alone unless DiffOptions::drop names them).
/// Additive changes come directly; drops, renames, type changes that may not convert and NOT
/// NULL without a value only when `options` names them, else they are listed in
/// Diff::unresolved. Nothing is written; review the operations, then put them in a Migration.
template <class... Ts> Diff diff(Database& db, const DiffOptions& options = {}) {
    auto& s = detail::session_of(db);
    detail::migrate::SessionRunner runner(s, "diff");
    const auto editor = detail::migrate::editor_for(s.dialect());
    detail::migrate::Allowed allowed{options.drop, options.rename, options.fill,
                                     options.change_type};
    auto found = detail::migrate::detect(detail::model_tables<Ts...>(), *editor, runner, allowed);
    Diff d;
    for (auto& op : found.ops)
        d.operations.push_back(detail::access::make<Operation>(std::move(op)));
    d.unresolved = std::move(found.unresolved);
    return d;
}

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/migrate.hpp"
#endif
