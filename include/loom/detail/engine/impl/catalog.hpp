// The definitions of catalog.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::engine {

LOOM_DECL bool same_name(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
        if (x != y) return false;
    }
    return true;
}

LOOM_DECL bool same_names(const std::vector<std::string>& a, const std::vector<std::string>& b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(),
                      [](const auto& x, const auto& y) { return same_name(x, y); });
}

LOOM_DECL std::string_view type_class_name(TypeClass t) {
    switch (t) {
    case TypeClass::integer:
        return "INTEGER";
    case TypeClass::real:
        return "REAL";
    case TypeClass::text:
        return "TEXT";
    case TypeClass::blob:
        return "BLOB";
    default:
        return "NUMERIC";
    }
}

LOOM_DECL std::string_view type_sql(const Dialect& d, TypeClass t) {
    switch (t) {
    case TypeClass::integer:
        return d.integer_type;
    case TypeClass::real:
        return d.real_type;
    case TypeClass::text:
        return d.text_type;
    case TypeClass::blob:
        return d.blob_type;
    default:
        return "NUMERIC";
    }
}

LOOM_DECL std::string_view type_sql(const Dialect& d, TypeClass t, column_kind k) {
    std::string_view special;
    if (t == TypeClass::text) {
        if (k == column_kind::timestamp) special = d.timestamp_type;
        if (k == column_kind::date) special = d.date_type;
        if (k == column_kind::json) special = d.json_type;
    }
    return special.empty() ? type_sql(d, t) : special;
}

LOOM_DECL ColumnInfo* TableInfo::column(std::string_view n) {
    for (auto& c : columns)
        if (same_name(c.name, n)) return &c;
    return nullptr;
}

LOOM_DECL const ColumnInfo* TableInfo::column(std::string_view n) const {
    return const_cast<TableInfo*>(this)->column(n);
}

LOOM_DECL const ForeignKeyInfo* TableInfo::foreign_key(std::string_view n) const {
    for (const auto& f : foreign_keys)
        if (f.columns.size() == 1 && same_name(f.columns[0], n)) return &f;
    return nullptr;
}

LOOM_DECL bool TableInfo::has_unique(const std::vector<std::string>& cols) const {
    for (const auto& u : uniques)
        if (same_names(u, cols)) return true;
    return false;
}

LOOM_DECL std::string TableInfo::unique_name(const std::vector<std::string>& cols) const {
    for (const auto& [c, n] : unique_names)
        if (same_names(c, cols)) return n;
    return {};
}

LOOM_DECL const IndexInfo* TableInfo::index_on(const std::vector<std::string>& cols) const {
    for (const auto& i : indexes)
        if (same_names(i.columns, cols)) return &i;
    return nullptr;
}

LOOM_DECL bool TableInfo::in_primary_key(std::string_view n) const {
    for (const auto& p : primary_key)
        if (same_name(p, n)) return true;
    return false;
}

LOOM_DECL std::string column_list(const std::vector<std::string>& cols) {
    std::string out;
    for (std::size_t i = 0; i < cols.size(); ++i) {
        if (i) out += ", ";
        out += quote(cols[i]);
    }
    return out;
}

LOOM_DECL std::string references_sql(const ForeignKeyInfo& f) {
    std::string s = "REFERENCES " + quote(f.table);
    if (!f.to.empty()) s += " (" + column_list(f.to) + ")";
    if (f.on_delete != "NO ACTION") s += " ON DELETE " + f.on_delete;
    if (f.on_update != "NO ACTION") s += " ON UPDATE " + f.on_update;
    return s;
}

LOOM_DECL std::string column_sql(const TableInfo& t, const ColumnInfo& c, const Dialect& d) {
    std::string s = quote(c.name) + " ";
    if (c.auto_key) {
        s += d.auto_primary_key;
    } else {
        s += c.declared_type.empty() ? std::string(type_sql(d, c.type, c.kind)) : c.declared_type;
        if (t.primary_key.size() == 1 && same_name(t.primary_key[0], c.name)) s += " PRIMARY KEY";
        if (c.not_null) s += " NOT NULL";
    }
    if (!c.default_sql.empty()) s += " DEFAULT " + c.default_sql;
    for (const auto& u : t.uniques)
        if (u.size() == 1 && same_name(u[0], c.name)) {
            s += " UNIQUE";
            break;
        }
    if (const ForeignKeyInfo* f = t.foreign_key(c.name)) s += " " + references_sql(*f);
    return s;
}

LOOM_DECL std::string create_table_sql(const TableInfo& t, const Dialect& d, bool if_not_exists,
                                       std::string_view name) {
    std::string s = "CREATE TABLE ";
    if (if_not_exists) s += "IF NOT EXISTS ";
    s += quote(name.empty() ? std::string_view(t.name) : name) + " (\n";
    bool first = true;
    auto line = [&](const std::string& l) {
        if (!first) s += ",\n";
        first = false;
        s += "  " + l;
    };
    for (const auto& c : t.columns) line(column_sql(t, c, d));
    if (t.primary_key.size() > 1) line("PRIMARY KEY (" + column_list(t.primary_key) + ")");
    for (const auto& u : t.uniques)
        if (u.size() > 1) line("UNIQUE (" + column_list(u) + ")");
    for (const auto& f : t.foreign_keys)
        if (f.columns.size() > 1)
            line("FOREIGN KEY (" + column_list(f.columns) + ") " + references_sql(f));
    for (const auto& c : t.checks)
        line("CONSTRAINT " + quote(c.first) + " CHECK (" + c.second + ")");
    s += "\n)";
    return s;
}

LOOM_DECL std::string create_index_sql(const IndexInfo& i, std::string_view table,
                                       bool if_not_exists) {
    if (!i.sql.empty()) return i.sql;
    std::string s = i.unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ";
    if (if_not_exists) s += "IF NOT EXISTS ";
    return s + quote(i.name) + " ON " + quote(table) + " (" + column_list(i.columns) + ")";
}

LOOM_DECL std::string index_name(std::string_view table, const std::vector<std::string>& cols) {
    std::string n(table);
    for (const auto& c : cols) n += "_" + c;
    return n + "_idx";
}

LOOM_DECL Steps SchemaEditor::lock_history(std::string_view table) {
    (void)table;
    return {};
}

}  // namespace loom::detail::engine
