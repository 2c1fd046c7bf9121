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
    ColumnDef(std::string name, ColumnType type) {
        spec_.info.name = std::move(name);
        spec_.info.not_null = true;
        switch (type) {
        case ColumnType::integer:
            spec_.info.type = detail::engine::TypeClass::integer;
            break;
        case ColumnType::real:
            spec_.info.type = detail::engine::TypeClass::real;
            break;
        case ColumnType::text:
            spec_.info.type = detail::engine::TypeClass::text;
            break;
        default:
            spec_.info.type = detail::engine::TypeClass::blob;
            break;
        }
    }

    /// NULL allowed.
    ColumnDef& nullable(bool yes = true) {
        spec_.info.not_null = !yes;
        return *this;
    }
    /// A UNIQUE constraint on this column.
    ColumnDef& unique(bool yes = true) {
        spec_.unique = yes;
        return *this;
    }
    /// A foreign key to `table` (its column `column`), with the given on_delete rule.
    ColumnDef& references(std::string table, on_delete rule = on_delete::restrict,
                          std::string column = "id") {
        detail::engine::ForeignKeyInfo f;
        f.columns = {spec_.info.name};
        f.table = std::move(table);
        f.to = {std::move(column)};
        f.on_delete = detail::on_delete_word(rule);
        spec_.references = std::move(f);
        return *this;
    }
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
inline ColumnDef primary_key(std::string name = "id") {
    ColumnDef c(std::move(name), ColumnType::integer);
    c.spec_.info.not_null = false;  // the engine's key type says what it needs
    c.spec_.info.auto_key = true;
    return c;
}

/// One step of a migration. Made by the functions below; describe() says it in words, cpp()
/// writes the C++ that makes it.
class Operation {
public:
    std::string describe() const { return spec_->describe(); }
    std::string cpp() const { return spec_->cpp(); }

private:
    friend struct detail::access;
    explicit Operation(std::shared_ptr<const detail::migrate::Op> op) : spec_(std::move(op)) {}
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
inline Operation create_table(std::string name, std::vector<ColumnDef> columns,
                              std::vector<std::vector<std::string>> unique_together = {}) {
    detail::engine::TableInfo t;
    t.name = std::move(name);
    for (const auto& c : columns) {
        const auto& s = detail::access::spec(c);
        if (t.column(s.info.name))
            throw UsageError("loom::create_table(\"" + t.name + "\"): two columns are named " +
                             s.info.name);
        if (s.fill)
            throw UsageError("loom::create_table(\"" + t.name + "\"): column " + s.info.name +
                             " has a fill value, which only a column added to a table with rows "
                             "needs");
        if (s.info.auto_key) t.primary_key = {s.info.name};
        detail::migrate::put_column(t, s);
    }
    for (auto& u : unique_together) t.uniques.push_back(std::move(u));
    return detail::migrate::make_op<detail::migrate::CreateTables>(
        std::vector<detail::engine::TableInfo>{std::move(t)});
}

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
inline Operation drop_table(std::string table) {
    return detail::migrate::make_op<detail::migrate::DropTable>(std::move(table));
}
inline Operation rename_table(std::string from, std::string to) {
    return detail::migrate::make_op<detail::migrate::RenameTable>(std::move(from), std::move(to));
}
/// Adds a column; a NOT NULL one needs .fill(value) for the rows there.
inline Operation add_column(std::string table, ColumnDef column) {
    return detail::migrate::make_op<detail::migrate::AddColumn>(std::move(table),
                                                                detail::access::spec(column));
}
/// Drops a column and its values (and the one-column index, UNIQUE or foreign key on it).
inline Operation drop_column(std::string table, std::string column) {
    return detail::migrate::make_op<detail::migrate::DropColumn>(std::move(table),
                                                                 std::move(column));
}
inline Operation rename_column(std::string table, std::string from, std::string to) {
    return detail::migrate::make_op<detail::migrate::RenameColumn>(std::move(table),
                                                                   std::move(from), std::move(to));
}
/// Changes a column to this definition: type, NULL-ness, UNIQUE, foreign key. Values are
/// copied and checked: one that does not convert to the new type fails the migration.
inline Operation alter_column(std::string table, ColumnDef column) {
    return detail::migrate::make_op<detail::migrate::AlterColumn>(std::move(table),
                                                                  detail::access::spec(column));
}
/// An index named `<table>_<columns>_idx` unless `name` is given.
inline Operation add_index(std::string table, std::vector<std::string> columns,
                           std::string name = {}) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::add_index, std::move(table), std::move(columns),
        std::move(name));
}
/// Drops the index on exactly these columns (the one named `name`, when given).
inline Operation drop_index(std::string table, std::vector<std::string> columns,
                            std::string name = {}) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::drop_index, std::move(table), std::move(columns),
        std::move(name));
}
/// A UNIQUE constraint over these columns; rows that break it fail the migration.
inline Operation add_unique(std::string table, std::vector<std::string> columns) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::add_unique, std::move(table), std::move(columns),
        std::string());
}
inline Operation drop_unique(std::string table, std::vector<std::string> columns) {
    return detail::migrate::make_op<detail::migrate::Constraint>(
        detail::migrate::Constraint::Kind::drop_unique, std::move(table), std::move(columns),
        std::string());
}
/// One SQL statement with `args` bound to its `?` placeholders. loom does not know what it
/// changes: keep schema changes it can describe in the operations above.
template <class... Args> Operation raw_sql(std::string sql, const Args&... args) {
    return detail::migrate::make_op<detail::migrate::RawSql>(
        std::move(sql), std::vector<Value>{detail::migrate::value_of(args)...});
}
/// C++ run inside the migration's transaction, given the Database (queries, writes, raw SQL).
/// The checksum covers its name, not its code: rename the step when its meaning changes.
inline Operation data_step(std::string name, std::function<void(Database&)> fn) {
    return detail::migrate::make_op<detail::migrate::DataStep>(std::move(name), std::move(fn));
}

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
    std::string text() const {
        std::string out = "-- " + name + " (checksum " + checksum + ")\n";
        if (foreign_keys_off)
            out += "-- foreign keys off while it runs, all of them checked before COMMIT\n";
        for (const auto& s : statements) {
            out += s.sql;
            if (s.sql.rfind("--", 0) != 0) out += ";";
            if (!s.params.empty()) {
                out += "  -- parameters:";
                for (const auto& p : s.params) {
                    out += ' ';
                    out += detail::migrate::value_sql(p);
                }
            }
            out += "\n";
        }
        return out;
    }
};

/// The program's migrations, in the order they apply.
class Migrations {
public:
    Migrations(std::vector<Migration> list) : list_(std::move(list)) {
        for (std::size_t i = 0; i < list_.size(); ++i) {
            if (list_[i].name.empty())
                throw UsageError("loom::Migrations: a migration has no name");
            if (list_[i].operations.empty())
                throw UsageError("loom::Migrations: migration '" + list_[i].name +
                                 "' has no operations");
            for (std::size_t j = 0; j < i; ++j)
                if (list_[j].name == list_[i].name)
                    throw UsageError("loom::Migrations: two migrations are named '" +
                                     list_[i].name + "'");
        }
    }

    const std::vector<Migration>& list() const noexcept { return list_; }

    /// The checksum of migration `name`'s operations.
    std::string checksum(std::string_view name) const { return checksum_of(at(name)); }

    /// Applies the pending migrations in order, each in its own transaction with its row in
    /// loom_migrations (created when missing), and returns their names. A migration applies
    /// completely or not at all: on failure it rolls back and MigrationError says which
    /// operation failed and why; the migrations before it stay applied. Another process
    /// applying the same list waits for the lock (Options::busy_timeout_ms) and skips what it
    /// finds applied. Throws MigrationError when an applied migration has changed, or the
    /// history names one this list does not have, or has a gap.
    std::vector<std::string> apply(Database& db) const {
        auto& s = detail::session_of(db);
        detail::migrate::SessionRunner runner(s, "migrate");
        const auto editor = detail::migrate::editor_for(s.dialect());
        db.create_tables<AppliedMigration>();
        const auto applied = read_history(db);
        check_history(applied);
        // Statements cached before a schema change may not run after it (PostgreSQL's
        // prepared statements), nor after one rolled back: prepared again when next used.
        struct Forget {
            detail::Session& s;
            ~Forget() { s.forget_statements(); }
        } forget{s};
        std::vector<std::string> done;
        for (const auto& m : list_)
            if (!find(applied, m.name) && apply_one(db, s, runner, *editor, m))
                done.push_back(m.name);
        return done;
    }

    /// The SQL apply would run for the pending migrations, without running it (the database is
    /// only read). Each migration is planned on the schema the ones before it leave; a data
    /// step or raw SQL is assumed to leave the schema as it was.
    std::vector<PlannedMigration> plan(Database& db) const {
        auto& s = detail::session_of(db);
        detail::migrate::SessionRunner runner(s, "migrate");
        const auto editor = detail::migrate::editor_for(s.dialect());
        const auto applied = history(db);
        check_history(applied);
        detail::migrate::Context ctx(*editor, runner, nullptr);
        std::vector<PlannedMigration> out;
        for (const auto& m : list_) {
            if (find(applied, m.name)) continue;
            PlannedMigration p;
            p.name = m.name;
            p.checksum = checksum_of(m);
            p.foreign_keys_off = rebuilds(m) && editor->rebuild_needs_foreign_keys_off();
            ctx.planned.clear();
            run_operations(ctx, m);
            for (const auto& op : m.operations) p.operations.push_back(op.describe());
            p.statements = std::move(ctx.planned);
            out.push_back(std::move(p));
        }
        return out;
    }

    /// The migrations applied to this database, oldest first (none when it has no history
    /// table; reading creates nothing).
    std::vector<AppliedMigration> history(Database& db) const {
        auto& s = detail::session_of(db);
        detail::migrate::SessionRunner runner(s, "migrate");
        if (!detail::migrate::editor_for(s.dialect())->read_table(runner, "loom_migrations"))
            return {};
        return read_history(db);
    }

    /// Records the migrations up to and including `name` as applied without running them: for
    /// a database whose schema was made before it had migrations (by create_tables). Check
    /// first that the schema is what they would make (db.check_schema).
    void adopt(Database& db, std::string_view name) const {
        const Migration& last = at(name);
        db.create_tables<AppliedMigration>();
        db.transaction([&] {
            const auto applied = read_history(db);
            check_history(applied);
            for (const auto& m : list_) {
                if (!find(applied, m.name)) {
                    AppliedMigration rec{0, m.name, checksum_of(m), detail::migrate::utc_now()};
                    db.insert(rec);
                }
                if (&m == &last) break;
            }
        });
    }

private:
    const Migration& at(std::string_view name) const {
        for (const auto& m : list_)
            if (m.name == name) return m;
        throw UsageError("loom::Migrations: no migration is named '" + std::string(name) + "'");
    }
    static std::vector<std::shared_ptr<const detail::migrate::Op>> ops_of(const Migration& m) {
        std::vector<std::shared_ptr<const detail::migrate::Op>> ops;
        for (const auto& op : m.operations) ops.push_back(detail::access::spec(op));
        return ops;
    }
    static std::string checksum_of(const Migration& m) {
        return detail::migrate::checksum(ops_of(m));
    }
    static bool rebuilds(const Migration& m) {
        for (const auto& op : m.operations)
            if (detail::access::spec(op)->rebuilds()) return true;
        return false;
    }
    static const AppliedMigration* find(const std::vector<AppliedMigration>& h,
                                        std::string_view name) {
        for (const auto& a : h)
            if (a.name == name) return &a;
        return nullptr;
    }
    static std::vector<AppliedMigration> read_history(Database& db) {
        return db.query<AppliedMigration>(
            "SELECT id, name, checksum, applied_at FROM loom_migrations ORDER BY id");
    }

    void check_changed(const AppliedMigration& a, const Migration& m) const {
        const std::string now = checksum_of(m);
        if (a.checksum != now)
            throw MigrationError(
                "migration '" + m.name + "' changed after it was applied on " + a.applied_at +
                    " (checksum then " + a.checksum + ", now " + now +
                    "): an applied migration must not change; put the change in a new migration "
                    "(a create_tables<...>() operation follows its models: freeze it with the "
                    "operations loom::diff prints for an empty database)",
                m.name);
    }

    void check_history(const std::vector<AppliedMigration>& applied) const {
        for (const auto& a : applied) {
            const Migration* m = nullptr;
            for (const auto& x : list_)
                if (x.name == a.name) m = &x;
            if (!m)
                throw MigrationError("the database has migration '" + a.name + "' (applied on " +
                                         a.applied_at +
                                         "), which this program's list does not have: was it "
                                         "renamed or removed, or did a newer program migrate "
                                         "this database?",
                                     a.name);
            check_changed(a, *m);
        }
        for (std::size_t i = 0; i < list_.size(); ++i) {
            if (find(applied, list_[i].name)) continue;
            for (std::size_t j = i + 1; j < list_.size(); ++j)
                if (find(applied, list_[j].name))
                    throw MigrationError("migration '" + list_[i].name + "' is not applied, but '" +
                                             list_[j].name +
                                             "', after it in the list, is: migrations apply in "
                                             "order (was it inserted before applied ones?)",
                                         list_[i].name);
        }
    }

    static void run_operations(detail::migrate::Context& ctx, const Migration& m) {
        const auto n = m.operations.size();
        for (std::size_t i = 0; i < n; ++i) {
            const auto& op = *detail::access::spec(m.operations[i]);
            try {
                ctx.forget();
                op.run(ctx);
            } catch (const std::exception& e) {
                throw MigrationError("migration '" + m.name + "', operation " +
                                         std::to_string(i + 1) + " of " + std::to_string(n) + " (" +
                                         op.describe() + "): " + e.what(),
                                     m.name);
            }
        }
    }

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
                   detail::engine::SchemaEditor& editor, const Migration& m) const {
        ForeignKeysOff fk(s, runner, editor, m);
        detail::Session::TransactionScope tx(s);
        for (const auto& step : editor.lock_history("loom_migrations"))
            runner.execute(step.sql, step.params);
        // Under the write lock: another process may have applied it while this one waited.
        const auto applied = db.query<AppliedMigration>(
            "SELECT id, name, checksum, applied_at FROM loom_migrations WHERE name = ?", m.name);
        if (!applied.empty()) {
            check_changed(applied.front(), m);
            tx.commit();
            return false;
        }
        detail::migrate::Context ctx(editor, runner, &db);
        run_operations(ctx, m);
        if (fk.active()) {
            const auto bad = editor.foreign_key_violations(runner, 5);
            if (!bad.empty()) {
                std::string list;
                for (const auto& b : bad) list += (list.empty() ? "" : "; ") + b;
                throw MigrationError("migration '" + m.name +
                                         "': foreign keys point at missing rows after it (" + list +
                                         "); it was rolled back",
                                     m.name);
            }
        }
        AppliedMigration rec{0, m.name, checksum_of(m), detail::migrate::utc_now()};
        db.insert(rec);
        tx.commit();
        return true;
    }

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
    std::string cpp() const {
        std::string out;
        for (const auto& op : operations) out += (out.empty() ? "" : ",\n") + op.cpp();
        return out;
    }
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
