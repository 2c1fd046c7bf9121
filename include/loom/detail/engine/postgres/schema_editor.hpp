// PostgreSQL's side of schema changes: every change in place with ALTER TABLE (ADD / DROP /
// RENAME COLUMN, ALTER COLUMN ... TYPE ... USING, SET / DROP NOT NULL, ADD / DROP CONSTRAINT,
// RENAME TO) and CREATE / DROP INDEX, never a rebuild. DDL is transactional on PostgreSQL: the
// migration's transaction holds all of it, and a failure rolls every statement back.
//
// Before changing anything, checks (queries that must return no row) give the same messages as
// SQLite's rebuild for what would fail: a NOT NULL column without a value for the rows there, a
// NULL in a column made NOT NULL, a value that does not convert to the new type, duplicates
// under a new UNIQUE constraint. What the checks do not foresee fails with PostgreSQL's own
// error (a foreign key the rows break, a table still referred to), which rolls back the same.
//
// Constraints are dropped by the names read from pg_constraint; constraints loom adds are named
// as PostgreSQL names them itself (`book_title_year_key`, `book_publisher_id_fkey`), so that a
// plan can name what an earlier step of it created.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../../../errors.hpp"
#include "../catalog.hpp"
#include "introspect.hpp"

namespace loom::detail::postgres {

class SchemaEditor final : public engine::SchemaEditor {
public:
    explicit SchemaEditor(const engine::Dialect& d) : d_(d) {}

    std::vector<std::string> table_names(engine::Runner& r) override {
        return postgres::table_names(r);
    }
    std::optional<engine::TableInfo> read_table(engine::Runner& r, std::string_view name) override {
        return postgres::read_table(r, d_, name);
    }

    engine::Steps create_table(const engine::TableInfo& t) override {
        engine::Steps out{{engine::create_table_sql(t, d_, false)}};
        for (const auto& i : t.indexes) out.push_back({engine::create_index_sql(i, t.name, false)});
        return out;
    }
    engine::Steps drop_table(const engine::TableInfo& t) override {
        return {{"DROP TABLE " + quote(t.name)}};
    }
    engine::Steps rename_table(const engine::TableInfo& t, std::string_view to) override {
        return {{"ALTER TABLE " + quote(t.name) + " RENAME TO " + quote(to)}};
    }
    engine::Steps rename_column(const engine::TableInfo& t, std::string_view from,
                                std::string_view to) override {
        return {{"ALTER TABLE " + quote(t.name) + " RENAME COLUMN " + quote(from) + " TO " +
                 quote(to)}};
    }

    engine::Steps change_table(engine::Runner& r, const engine::TableInfo& before,
                               const engine::TableInfo& after,
                               const std::vector<engine::ColumnSource>& sources) override {
        (void)r;
        const std::string table = quote(before.name);
        const std::string alter = "ALTER TABLE " + table + " ";
        const std::string row = row_id(before);
        engine::Steps checks, out;

        // Which old column each new one comes from; old columns no new one comes from go.
        std::vector<const engine::ColumnInfo*> old(after.columns.size(), nullptr);
        for (std::size_t i = 0; i < after.columns.size(); ++i)
            if (!sources[i].column.empty()) {
                old[i] = before.column(sources[i].column);
                if (!old[i])
                    throw UsageError("table " + before.name + " has no column " +
                                     sources[i].column);
                if (!engine::same_name(old[i]->name, after.columns[i].name))
                    throw UsageError("table " + before.name + ": column " + old[i]->name +
                                     " cannot become " + after.columns[i].name +
                                     " in this change (rename it first)");
            }
        auto kept = [&](const engine::ColumnInfo& c) {
            for (const auto* o : old)
                if (o == &c) return true;
            return false;
        };

        // ---- checks, on the rows as they are -------------------------------------------------
        for (std::size_t i = 0; i < after.columns.size(); ++i) {
            const auto& c = after.columns[i];
            const auto& src = sources[i];
            if (c.auto_key && (!old[i] || !old[i]->auto_key))
                throw UsageError("loom does not add an auto-assigned key to a table (" +
                                 before.name + "." + c.name + ")");
            if (c.not_null && !c.auto_key && !old[i] && !src.fill)
                checks.push_back({"SELECT count(*) FROM " + table + " HAVING count(*) > 0",
                                  {},
                                  before.name + "." + c.name +
                                      ": NOT NULL, and the table has {} "
                                      "rows that need a value; give the column a .fill(value)"});
            if (!old[i]) continue;
            const std::string q = quote(old[i]->name);
            if (c.not_null && !old[i]->not_null && !old[i]->auto_key && !src.fill)
                checks.push_back({"SELECT " + row + " FROM " + table + " WHERE " + q +
                                      " IS NULL ORDER BY " + row + " LIMIT 1",
                                  {},
                                  before.name + "." + c.name +
                                      ": row {} holds NULL, which NOT NULL does not allow; give "
                                      "the column a .fill(value) for such rows, or update them "
                                      "first"});
            if (const auto bad = unconvertible(*old[i], c); !bad.empty())
                checks.push_back({"SELECT " + row + ", '" +
                                      std::string(engine::type_class_name(old[i]->type)) + "', " +
                                      shown(*old[i]) + " FROM " + table + " WHERE " + bad +
                                      " ORDER BY " + row + " LIMIT 1",
                                  {},
                                  before.name + "." + c.name +
                                      ": row {} holds {} {}, which does not convert to " +
                                      std::string(engine::type_class_name(c.type)) +
                                      "; convert or fix such rows first (a data step before "
                                      "this operation)"});
        }
        for (const auto& u : after.uniques) {
            if (before.has_unique(u)) continue;
            std::string cols, shown_cols, values, not_null;
            bool copied = true;
            for (const auto& col : u) {
                const auto* src = source_of(after, sources, col);
                const auto* o = src && !src->column.empty() ? before.column(src->column) : nullptr;
                if (!o || src->fill) {
                    copied = false;
                    break;
                }
                const std::string q = quote(o->name);
                cols += (cols.empty() ? "" : ", ") + q;
                shown_cols += shown(*o) + ", ";
                values += (values.empty() ? "" : ", ") + col + " = {}";
                not_null += std::string(not_null.empty() ? "" : " AND ") + q + " IS NOT NULL";
            }
            if (!copied) continue;  // the constraint itself reports it
            checks.push_back({"SELECT " + shown_cols + "count(*) FROM " + table + " WHERE " +
                                  not_null + " GROUP BY " + cols +
                                  " HAVING count(*) > 1 ORDER BY " + cols + " LIMIT 1",
                              {},
                              before.name + ": UNIQUE (" + join(u) +
                                  ") does not hold for the rows already there (" + values +
                                  " in {} rows); change or remove the duplicates first"});
        }
        for (auto& c : checks) out.push_back(std::move(c));

        // ---- what goes: foreign keys, UNIQUE constraints, indexes, then columns ---------------
        for (const auto& f : before.foreign_keys)
            if (!has_foreign_key(after, f))
                out.push_back(
                    {alter + "DROP CONSTRAINT " +
                     quote(f.name.empty() ? foreign_key_name(before.name, f.columns) : f.name)});
        for (const auto& u : before.uniques)
            if (!after.has_unique(u)) {
                std::string n = before.unique_name(u);
                if (n.empty()) n = unique_name(before.name, u);
                out.push_back({alter + "DROP CONSTRAINT " + quote(n)});
            }
        for (const auto& i : before.indexes)
            if (!has_index(after, i)) out.push_back({"DROP INDEX " + quote(i.name)});
        for (const auto& c : before.columns)
            if (!kept(c)) out.push_back({alter + "DROP COLUMN " + quote(c.name)});

        // ---- columns that stay: type, NULLs filled, NULL-ness --------------------------------
        for (std::size_t i = 0; i < after.columns.size(); ++i) {
            if (!old[i]) continue;
            const auto& c = after.columns[i];
            const auto& o = *old[i];
            const std::string col = alter + "ALTER COLUMN " + quote(c.name) + " ";
            if (type_changes(o, c)) {
                const std::string type(engine::type_sql(d_, c.type, c.kind));
                // A conversion PostgreSQL has no cast for is only allowed on NULLs (checked).
                const bool via_null =
                    o.type == engine::TypeClass::blob || c.type == engine::TypeClass::blob;
                out.push_back({col + "TYPE " + type + " USING " +
                               (via_null ? "NULL" : quote(o.name)) + "::" + type});
            }
            if (sources[i].fill && !o.auto_key)
                out.push_back({"UPDATE " + table + " SET " + quote(c.name) + " = ? WHERE " +
                                   quote(c.name) + " IS NULL",
                               {*sources[i].fill}});
            if (!c.auto_key && !o.auto_key && c.not_null != o.not_null)
                out.push_back({col + (c.not_null ? "SET NOT NULL" : "DROP NOT NULL")});
        }

        // ---- new columns: added NULL, filled, then NOT NULL ----------------------------------
        for (std::size_t i = 0; i < after.columns.size(); ++i) {
            if (old[i]) continue;
            const auto& c = after.columns[i];
            const bool fill = sources[i].fill.has_value();
            std::string def = quote(c.name) + " " +
                              (c.declared_type.empty() ? std::string(type_sql(d_, c.type, c.kind))
                                                       : c.declared_type);
            if (!c.default_sql.empty()) def += " DEFAULT " + c.default_sql;
            if (c.not_null && !fill) def += " NOT NULL";
            out.push_back({alter + "ADD COLUMN " + def});
            if (fill) {
                out.push_back(
                    {"UPDATE " + table + " SET " + quote(c.name) + " = ?", {*sources[i].fill}});
                if (c.not_null)
                    out.push_back({alter + "ALTER COLUMN " + quote(c.name) + " SET NOT NULL"});
            }
        }

        // ---- what comes: UNIQUE constraints, foreign keys, indexes ---------------------------
        for (const auto& u : after.uniques)
            if (!before.has_unique(u))
                out.push_back({alter + "ADD CONSTRAINT " + quote(unique_name(after.name, u)) +
                               " UNIQUE (" + engine::column_list(u) + ")"});
        for (const auto& f : after.foreign_keys)
            if (!has_foreign_key(before, f))
                out.push_back({alter + "ADD CONSTRAINT " +
                               quote(foreign_key_name(after.name, f.columns)) + " FOREIGN KEY (" +
                               engine::column_list(f.columns) + ") " + engine::references_sql(f)});
        for (const auto& i : after.indexes)
            if (!has_index(before, i))
                out.push_back({engine::create_index_sql(i, after.name, false)});
        return out;
    }

    /// Two programs applying migrations at once: the second waits here until the first
    /// commits, then finds its migration applied (BEGIN takes no lock on PostgreSQL).
    engine::Steps lock_history(std::string_view table) override {
        return {{"LOCK TABLE " + quote(table) + " IN SHARE ROW EXCLUSIVE MODE"}};
    }

    // Nothing to switch: PostgreSQL checks foreign keys as each statement runs, and ALTER TABLE
    // runs no ON DELETE action.
    bool rebuild_needs_foreign_keys_off() const override { return false; }
    bool foreign_keys_enabled(engine::Runner&) override { return true; }
    std::string foreign_keys_sql(bool) const override { return {}; }
    std::vector<std::string> foreign_key_violations(engine::Runner&, std::size_t) override {
        return {};
    }

    /// The name PostgreSQL gives UNIQUE (cols) of `table` (`book_title_year_key`), cut to its
    /// 63-byte identifiers.
    static std::string unique_name(std::string_view table, const std::vector<std::string>& cols) {
        return object_name(table, cols, "key");
    }
    static std::string foreign_key_name(std::string_view table,
                                        const std::vector<std::string>& cols) {
        return object_name(table, cols, "fkey");
    }

private:
    static std::string object_name(std::string_view table, const std::vector<std::string>& cols,
                                   std::string_view suffix) {
        std::string n(table);
        for (const auto& c : cols) n += "_" + c;
        const std::size_t room = 63 - suffix.size() - 1;
        if (n.size() > room) n.resize(room);
        return n + "_" + std::string(suffix);
    }

    /// How a check names a row: its one-column key, else its physical address.
    static std::string row_id(const engine::TableInfo& t) {
        if (t.primary_key.size() == 1) return quote(t.primary_key[0]);
        return "ctid::text";
    }

    /// A value as a message shows it: 'text', 1992, 2.5, X'00FF' (at most 60 characters).
    static std::string shown(const engine::ColumnInfo& c) {
        const std::string q = quote(c.name);
        switch (c.type) {
        case engine::TypeClass::text:
            return "left(quote_literal(" + q + "::text), 60)";
        case engine::TypeClass::blob:
            return "left('X''' || upper(encode(" + q + ", 'hex')) || '''', 60)";
        default:
            return "left(" + q + "::text, 60)";
        }
    }

    static bool type_changes(const engine::ColumnInfo& o, const engine::ColumnInfo& c) {
        return o.type != c.type || (c.kind != column_kind::plain && c.kind != o.kind);
    }

    /// The condition of rows whose value would not convert from `o` to `c` (empty: all do, or
    /// PostgreSQL's cast decides).
    static std::string unconvertible(const engine::ColumnInfo& o, const engine::ColumnInfo& c) {
        using engine::TypeClass;
        if (!type_changes(o, c) || o.type == c.type) return {};
        const std::string q = quote(o.name);
        if (o.type == TypeClass::blob || c.type == TypeClass::blob) return q + " IS NOT NULL";
        if (o.type == TypeClass::text && c.kind == column_kind::plain) {
            if (c.type == TypeClass::integer) return q + " !~ '^\\s*[-+]?[0-9]+\\s*$'";
            if (c.type == TypeClass::real)
                return q +
                       " !~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' "
                       "AND lower(btrim(" +
                       q + ")) NOT IN ('nan', 'infinity', '+infinity', '-infinity')";
        }
        if (o.type == TypeClass::real && c.type == TypeClass::integer)
            return q + " <> trunc(" + q + ")";
        return {};
    }

    static bool has_foreign_key(const engine::TableInfo& t, const engine::ForeignKeyInfo& f) {
        for (const auto& g : t.foreign_keys)
            if (engine::same_names(g.columns, f.columns) && engine::same_name(g.table, f.table) &&
                (g.to.empty() || f.to.empty() || engine::same_names(g.to, f.to)) &&
                engine::same_name(g.on_delete, f.on_delete) &&
                engine::same_name(g.on_update, f.on_update))
                return true;
        return false;
    }
    static bool has_index(const engine::TableInfo& t, const engine::IndexInfo& i) {
        for (const auto& j : t.indexes)
            if (engine::same_name(j.name, i.name)) return true;
        return false;
    }
    static const engine::ColumnSource* source_of(const engine::TableInfo& after,
                                                 const std::vector<engine::ColumnSource>& sources,
                                                 std::string_view col) {
        for (std::size_t i = 0; i < after.columns.size(); ++i)
            if (engine::same_name(after.columns[i].name, col)) return &sources[i];
        return nullptr;
    }
    static std::string join(const std::vector<std::string>& v) {
        std::string out;
        for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
        return out;
    }

    const engine::Dialect& d_;
};

}  // namespace loom::detail::postgres
