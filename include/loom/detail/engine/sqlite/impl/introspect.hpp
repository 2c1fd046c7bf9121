// The definitions of introspect.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::sqlite {

LOOM_DECL engine::TypeClass type_class_of(std::string_view declared) {
    std::string up(declared);
    for (char& c : up)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    auto has = [&](std::string_view w) { return up.find(w) != std::string::npos; };
    if (has("INT")) return engine::TypeClass::integer;
    if (has("CHAR") || has("CLOB") || has("TEXT")) return engine::TypeClass::text;
    if (has("BLOB") || up.empty()) return engine::TypeClass::blob;
    if (has("REAL") || has("FLOA") || has("DOUB")) return engine::TypeClass::real;
    return engine::TypeClass::other;
}

LOOM_DECL std::vector<SqlWord> sql_words(std::string_view sql) {
    std::vector<SqlWord> out;
    int depth = 0;
    bool closed = false;
    std::size_t i = 0;
    while (i < sql.size()) {
        const char c = sql[i];
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            const char end = c == '[' ? ']' : c;
            ++i;
            while (i < sql.size()) {
                if (sql[i] == end) {
                    if (end != ']' && i + 1 < sql.size() && sql[i + 1] == end) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                ++i;
            }
            ++i;
        } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
            while (i < sql.size() && sql[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
            const auto e = sql.find("*/", i + 2);
            i = e == std::string_view::npos ? sql.size() : e + 2;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_') {
            std::string w;
            while (i < sql.size() &&
                   ((sql[i] >= 'A' && sql[i] <= 'Z') || (sql[i] >= 'a' && sql[i] <= 'z') ||
                    sql[i] == '_' || (sql[i] >= '0' && sql[i] <= '9'))) {
                char x = sql[i++];
                if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
                w += x;
            }
            out.push_back({std::move(w), closed});
        } else {
            if (c == '(') ++depth;
            if (c == ')' && --depth == 0) closed = true;
            ++i;
        }
    }
    return out;
}

LOOM_DECL std::vector<std::string> table_names(engine::Runner& r) {
    std::vector<std::string> out;
    r.query(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' "
        "ESCAPE '\\' ORDER BY rowid",
        {}, [&](const engine::Statement& s) { out.emplace_back(s.column_text(0)); });
    return out;
}

LOOM_DECL std::optional<engine::TableInfo> read_table(engine::Runner& r, std::string_view name) {
    engine::TableInfo t;
    std::string create_sql;
    bool found = false;
    std::vector<std::pair<std::string, std::string>> index_sql;  // name, CREATE INDEX
    r.query(
        "SELECT type, name, sql FROM sqlite_schema WHERE tbl_name = ? COLLATE NOCASE AND "
        "type IN ('table', 'index') ORDER BY rowid",
        {std::string(name)}, [&](const engine::Statement& s) {
            if (s.column_text(0) == "table") {
                found = true;
                t.name = std::string(s.column_text(1));
                create_sql = std::string(s.column_text(2));
            } else if (!s.is_null(2)) {
                index_sql.emplace_back(std::string(s.column_text(1)),
                                       std::string(s.column_text(2)));
            }
        });
    if (!found) return std::nullopt;
    const std::vector<Value> param{t.name};

    // Columns; a generated column (hidden 2 or 3) cannot be copied by a rebuild.
    std::vector<std::pair<int, std::string>> pk;  // position in the key, column
    r.query("SELECT name, type, \"notnull\", dflt_value, pk, hidden FROM pragma_table_xinfo(?)",
            param, [&](const engine::Statement& s) {
                const auto hidden = s.column_int(5);
                if (hidden == 1) return;  // a virtual table's hidden column
                engine::ColumnInfo c;
                c.name = std::string(s.column_text(0));
                c.declared_type = std::string(s.column_text(1));
                c.type = type_class_of(c.declared_type);
                c.not_null = s.column_int(2) != 0;
                if (!s.is_null(3)) c.default_sql = std::string(s.column_text(3));
                if (const auto k = s.column_int(4); k > 0)
                    pk.emplace_back(static_cast<int>(k), c.name);
                if (hidden == 2 || hidden == 3)
                    t.unsupported.push_back("a generated column (" + c.name + ")");
                t.columns.push_back(std::move(c));
            });
    std::sort(pk.begin(), pk.end());
    for (auto& [k, col] : pk) t.primary_key.push_back(col);

    bool autoincrement = false;
    bool without_rowid = false;
    for (const auto& w : sql_words(create_sql)) {
        if (w.word == "AUTOINCREMENT") autoincrement = true;
        if (w.word == "CHECK") t.unsupported.push_back("a CHECK constraint");
        if (w.word == "COLLATE") t.unsupported.push_back("a COLLATE clause");
        if (w.word == "DEFERRABLE") t.unsupported.push_back("a DEFERRABLE foreign key");
        if (w.word == "CONFLICT") t.unsupported.push_back("an ON CONFLICT clause");
        if (w.after_body && w.word == "WITHOUT") without_rowid = true;
        if (w.after_body && w.word == "STRICT") t.unsupported.push_back("STRICT typing");
    }
    if (without_rowid) t.unsupported.push_back("WITHOUT ROWID");
    if (t.primary_key.size() == 1)
        if (auto* c = t.column(t.primary_key[0]); c && autoincrement) {
            c->auto_key = true;
            c->not_null = false;
        }

    // Foreign keys, one entry per constraint (several rows for several columns).
    int current = -1;
    bool to_pk = true;
    r.query(
        "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete FROM "
        "pragma_foreign_key_list(?) ORDER BY id, seq",
        param, [&](const engine::Statement& s) {
            const int id = static_cast<int>(s.column_int(0));
            if (id != current) {
                if (current >= 0 && to_pk) t.foreign_keys.back().to.clear();
                current = id;
                to_pk = true;
                engine::ForeignKeyInfo f;
                f.table = std::string(s.column_text(1));
                f.on_update = std::string(s.column_text(4));
                f.on_delete = std::string(s.column_text(5));
                t.foreign_keys.push_back(std::move(f));
            }
            auto& f = t.foreign_keys.back();
            f.columns.emplace_back(s.column_text(2));
            if (s.is_null(3)) {
                f.to.emplace_back();
            } else {
                to_pk = false;
                f.to.emplace_back(s.column_text(3));
            }
        });
    if (current >= 0 && to_pk) t.foreign_keys.back().to.clear();

    // UNIQUE constraints (origin 'u') and CREATE INDEX indexes (origin 'c'), with their
    // columns (NULL for an expression).
    std::string last;
    r.query(
        "SELECT il.name, il.\"unique\", il.origin, ii.name FROM pragma_index_list(?) AS il "
        "JOIN pragma_index_info(il.name) AS ii ORDER BY il.seq, ii.seqno",
        param, [&](const engine::Statement& s) {
            const std::string iname(s.column_text(0));
            const std::string origin(s.column_text(2));
            const std::string col = s.is_null(3) ? std::string() : std::string(s.column_text(3));
            const bool fresh = iname != last;
            last = iname;
            if (origin == "u") {
                if (fresh) t.uniques.emplace_back();
                t.uniques.back().push_back(col);
            } else if (origin == "c") {
                if (fresh) {
                    engine::IndexInfo i;
                    i.name = iname;
                    i.unique = s.column_int(1) != 0;
                    for (auto& [n, sql] : index_sql)
                        if (n == iname) i.sql = sql;
                    t.indexes.push_back(std::move(i));
                }
                t.indexes.back().columns.push_back(col);
            }
        });
    return t;
}

}  // namespace loom::detail::sqlite
