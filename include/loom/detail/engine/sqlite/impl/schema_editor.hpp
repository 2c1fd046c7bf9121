// The definitions of schema_editor.hpp's functions (detail/config.hpp says where they are
// compiled).
#pragma once

namespace loom::detail::sqlite {

LOOM_DECL std::vector<std::string> SchemaEditor::table_names(engine::Runner& r) {
    return sqlite::table_names(r);
}

LOOM_DECL std::optional<engine::TableInfo> SchemaEditor::read_table(engine::Runner& r,
                                                                    std::string_view name) {
    return sqlite::read_table(r, name);
}

LOOM_DECL engine::Steps SchemaEditor::create_table(const engine::TableInfo& t) {
    engine::Steps out{{engine::create_table_sql(t, d_, false)}};
    for (const auto& i : t.indexes) out.push_back({engine::create_index_sql(i, t.name, false)});
    return out;
}

LOOM_DECL engine::Steps SchemaEditor::drop_table(const engine::TableInfo& t) {
    return {{"DROP TABLE " + quote(t.name)}};
}

LOOM_DECL engine::Steps SchemaEditor::rename_table(const engine::TableInfo& t,
                                                   std::string_view to) {
    return {{"ALTER TABLE " + quote(t.name) + " RENAME TO " + quote(to)}};
}

LOOM_DECL engine::Steps SchemaEditor::rename_column(const engine::TableInfo& t,
                                                    std::string_view from, std::string_view to) {
    return {
        {"ALTER TABLE " + quote(t.name) + " RENAME COLUMN " + quote(from) + " TO " + quote(to)}};
}

LOOM_DECL engine::Steps SchemaEditor::change_table(
    engine::Runner& r, const engine::TableInfo& before, const engine::TableInfo& after,
    const std::vector<engine::ColumnSource>& sources) {
    if (body(before) == body(after)) return index_steps(before, after);
    if (appended_column(before, after, sources)) {
        engine::Steps out{{"ALTER TABLE " + quote(before.name) + " ADD COLUMN " +
                           engine::column_sql(after, after.columns.back(), d_)}};
        for (auto& s : index_steps(before, after)) out.push_back(std::move(s));
        return out;
    }
    return rebuild(r, before, after, sources);
}

LOOM_DECL bool SchemaEditor::foreign_keys_enabled(engine::Runner& r) {
    bool on = false;
    r.query("PRAGMA foreign_keys", {},
            [&](const engine::Statement& s) { on = s.column_int(0) != 0; });
    return on;
}

LOOM_DECL std::string SchemaEditor::foreign_keys_sql(bool on) const {
    return on ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF";
}

LOOM_DECL std::vector<std::string> SchemaEditor::foreign_key_violations(engine::Runner& r,
                                                                        std::size_t limit) {
    std::vector<std::string> out;
    r.query(
        "SELECT c.\"table\", c.rowid, f.\"from\", c.parent FROM pragma_foreign_key_check "
        "AS c JOIN pragma_foreign_key_list(c.\"table\") AS f ON f.id = c.fkid AND "
        "f.seq = 0 LIMIT ?",
        {static_cast<std::int64_t>(limit)}, [&](const engine::Statement& s) {
            out.push_back(std::string(s.column_text(0)) + " row " +
                          (s.is_null(1) ? std::string("?") : std::to_string(s.column_int(1))) +
                          ": " + std::string(s.column_text(2)) + " points at no " +
                          std::string(s.column_text(3)) + " row");
        });
    return out;
}

LOOM_DECL std::string SchemaEditor::body(const engine::TableInfo& t) const {
    engine::TableInfo b = t;
    b.name = "t";
    return engine::create_table_sql(b, d_, false);
}

LOOM_DECL engine::Steps SchemaEditor::index_steps(const engine::TableInfo& before,
                                                  const engine::TableInfo& after) {
    engine::Steps out;
    auto in = [](const engine::TableInfo& t, const engine::IndexInfo& i) {
        for (const auto& j : t.indexes)
            if (engine::same_name(j.name, i.name)) return true;
        return false;
    };
    for (const auto& i : before.indexes)
        if (!in(after, i)) out.push_back({"DROP INDEX " + quote(i.name)});
    for (const auto& i : after.indexes)
        if (!in(before, i)) out.push_back({engine::create_index_sql(i, after.name, false)});
    return out;
}

LOOM_DECL bool SchemaEditor::appended_column(
    const engine::TableInfo& before, const engine::TableInfo& after,
    const std::vector<engine::ColumnSource>& sources) const {
    if (after.columns.size() != before.columns.size() + 1) return false;
    const auto& c = after.columns.back();
    if (c.not_null || c.auto_key || after.in_primary_key(c.name)) return false;
    if (!sources.back().column.empty() || sources.back().fill) return false;
    if (after.has_unique({c.name})) return false;
    engine::TableInfo without = after;
    without.columns.pop_back();
    std::erase_if(without.foreign_keys, [&](const engine::ForeignKeyInfo& f) {
        return f.columns.size() == 1 && engine::same_name(f.columns[0], c.name);
    });
    return body(without) == body(before);
}

LOOM_DECL engine::Steps SchemaEditor::rebuild(engine::Runner& r, const engine::TableInfo& before,
                                              const engine::TableInfo& after,
                                              const std::vector<engine::ColumnSource>& sources) {
    if (!before.unsupported.empty()) {
        std::string what;
        for (const auto& u : before.unsupported) what += (what.empty() ? "" : ", ") + u;
        throw UsageError("table " + before.name + " has " + what +
                         ", which loom cannot carry through the rebuild this change needs; "
                         "make the change with raw SQL (loom::raw_sql)");
    }
    const std::string table = quote(before.name);
    const std::string fresh_name = "loom_new_" + before.name;
    const std::string fresh = quote(fresh_name);
    // Dropping the old table with foreign keys on would run its ON DELETE actions (a
    // CASCADE empties the tables that point at it): never rebuild unless they are off.
    engine::Steps out{{"SELECT foreign_keys FROM pragma_foreign_keys WHERE foreign_keys",
                       {},
                       "rebuilding " + before.name +
                           " needs foreign keys off, and they are on (the migration runner "
                           "switches them off before its transaction)"}};

    // Views and triggers: dropped now, recreated at the end (views first: an INSTEAD OF
    // trigger may be on one).
    std::vector<std::pair<std::string, std::string>> views, triggers;  // name, sql
    r.query(
        "SELECT type, name, sql FROM sqlite_schema WHERE type IN ('view', 'trigger') AND "
        "sql IS NOT NULL ORDER BY rowid",
        {}, [&](const engine::Statement& s) {
            auto& list = s.column_text(0) == "view" ? views : triggers;
            list.emplace_back(std::string(s.column_text(1)), std::string(s.column_text(2)));
        });

    // Checks that give a better message than the constraint the copy would trip over.
    for (std::size_t i = 0; i < after.columns.size(); ++i) {
        const auto& c = after.columns[i];
        const auto& src = sources[i];
        const auto* old = src.column.empty() ? nullptr : before.column(src.column);
        if (c.not_null && !c.auto_key && !old && !src.fill)
            out.push_back({"SELECT count(*) FROM " + table + " HAVING count(*) > 0",
                           {},
                           before.name + "." + c.name +
                               ": NOT NULL, and the table has {} "
                               "rows that need a value; give the column a .fill(value)"});
        if (c.not_null && old && !old->not_null && !old->auto_key && !src.fill)
            out.push_back(
                {"SELECT rowid FROM " + table + " WHERE " + quote(old->name) + " IS NULL LIMIT 1",
                 {},
                 before.name + "." + c.name +
                     ": row {} holds NULL, which NOT NULL does not allow; give the "
                     "column a .fill(value) for such rows, or update them first"});
    }
    for (const auto& u : after.uniques) {
        if (has_unique_over(before, u, after, sources)) continue;
        std::string cols, shown, values, not_null;
        bool copied = true;
        for (const auto& col : u) {
            const auto* src = source_of(after, sources, col);
            if (!src || src->column.empty() || src->fill) copied = false;
            if (!copied) break;
            const std::string q = quote(src->column);
            cols += (cols.empty() ? "" : ", ") + q;
            shown += "quote(" + q + "), ";
            values += (values.empty() ? "" : ", ") + col + " = {}";
            not_null += std::string(not_null.empty() ? "" : " AND ") + q + " IS NOT NULL";
        }
        if (!copied) continue;  // the copy's UNIQUE constraint reports it
        out.push_back({"SELECT " + shown + "count(*) FROM " + table + " WHERE " + not_null +
                           " GROUP BY " + cols + " HAVING count(*) > 1 LIMIT 1",
                       {},
                       before.name + ": UNIQUE (" + join(u) +
                           ") does not hold for the rows already there (" + values +
                           " in {} rows); change or remove the duplicates first"});
    }

    for (const auto& [name, sql] : triggers) out.push_back({"DROP TRIGGER " + quote(name)});
    for (const auto& [name, sql] : views) out.push_back({"DROP VIEW " + quote(name)});

    // The new table, filled from the old one.
    out.push_back({engine::create_table_sql(after, d_, false, fresh_name)});
    std::string into, select;
    std::vector<Value> params;
    for (std::size_t i = 0; i < after.columns.size(); ++i) {
        const auto& src = sources[i];
        if (src.column.empty() && !src.fill) continue;
        into += std::string(into.empty() ? "" : ", ") + quote(after.columns[i].name);
        if (!select.empty()) select += ", ";
        if (src.column.empty()) {
            select += "?";
            params.push_back(*src.fill);
        } else if (src.fill) {
            select += "coalesce(" + quote(src.column) + ", ?)";
            params.push_back(*src.fill);
        } else {
            select += quote(src.column);
        }
    }
    if (into.empty())
        throw UsageError("table " + before.name + ": the change keeps none of its columns");
    out.push_back({"INSERT INTO " + fresh + " (" + into + ") SELECT " + select + " FROM " + table,
                   std::move(params)});
    out.push_back({"SELECT a, b FROM (SELECT (SELECT count(*) FROM " + table +
                       ") AS a, (SELECT count(*) FROM " + fresh + ") AS b) WHERE a <> b",
                   {},
                   "rebuilding " + before.name + ": {} rows, but {} copied"});
    for (std::size_t i = 0; i < after.columns.size(); ++i) {
        const auto& c = after.columns[i];
        const auto* old = sources[i].column.empty() ? nullptr : before.column(sources[i].column);
        if (!old || old->type == c.type || c.type == engine::TypeClass::other) continue;
        std::string allowed = "'" + lower(engine::type_class_name(c.type)) + "'";
        if (c.type == engine::TypeClass::real) allowed += ", 'integer'";
        const std::string q = quote(c.name);
        out.push_back({"SELECT rowid, upper(typeof(" + q + ")), substr(quote(" + q +
                           "), 1, 60) FROM " + fresh + " WHERE typeof(" + q + ") NOT IN (" +
                           allowed + ", 'null') LIMIT 1",
                       {},
                       before.name + "." + c.name +
                           ": row {} holds {} {}, which does not "
                           "convert to " +
                           std::string(engine::type_class_name(c.type)) +
                           "; convert or fix such rows first (a data step before this "
                           "operation)"});
    }
    // The AUTOINCREMENT counter: the copy sets the new table's to its largest key, which
    // would hand out again the keys of rows deleted before the rebuild.
    if (!after.columns.empty() && after.columns.front().auto_key) {
        out.push_back(
            {"UPDATE sqlite_sequence SET seq = (SELECT seq FROM sqlite_sequence "
             "WHERE name = ?) WHERE name = ? AND seq < (SELECT seq FROM "
             "sqlite_sequence WHERE name = ?)",
             {before.name, fresh_name, before.name}});
        out.push_back(
            {"INSERT INTO sqlite_sequence (name, seq) SELECT ?, seq FROM "
             "sqlite_sequence WHERE name = ? AND NOT EXISTS (SELECT 1 FROM "
             "sqlite_sequence WHERE name = ?)",
             {fresh_name, before.name, fresh_name}});
    }
    out.push_back({"DROP TABLE " + table});
    out.push_back({"ALTER TABLE " + fresh + " RENAME TO " + table});
    for (const auto& i : after.indexes)
        out.push_back({engine::create_index_sql(i, after.name, false)});
    for (const auto& [name, sql] : views) out.push_back({sql});
    for (const auto& [name, sql] : triggers) out.push_back({sql});
    // SQLite creates a view that names a missing column without a word; reading it is what
    // fails. (A trigger's body is checked only when it fires.)
    for (const auto& [name, sql] : views)
        out.push_back({"SELECT * FROM " + quote(name) + " LIMIT 0"});
    return out;
}

LOOM_DECL const engine::ColumnSource* SchemaEditor::source_of(
    const engine::TableInfo& after, const std::vector<engine::ColumnSource>& sources,
    std::string_view col) {
    for (std::size_t i = 0; i < after.columns.size(); ++i)
        if (engine::same_name(after.columns[i].name, col)) return &sources[i];
    return nullptr;
}

LOOM_DECL bool SchemaEditor::has_unique_over(const engine::TableInfo& before,
                                             const std::vector<std::string>& u,
                                             const engine::TableInfo& after,
                                             const std::vector<engine::ColumnSource>& sources) {
    std::vector<std::string> old;
    for (const auto& col : u) {
        const auto* src = source_of(after, sources, col);
        if (!src || src->column.empty()) return false;
        old.push_back(src->column);
    }
    return before.has_unique(old);
}

LOOM_DECL std::string SchemaEditor::join(const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
    return out;
}

LOOM_DECL std::string SchemaEditor::lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace loom::detail::sqlite
