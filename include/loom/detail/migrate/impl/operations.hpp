// The definitions of operations.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

#include <charconv>
#include <cstdio>

namespace loom::detail::migrate {

LOOM_DECL std::string join(const std::vector<std::string>& v, std::string_view sep) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += sep;
        out += v[i];
    }
    return out;
}

LOOM_DECL std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

LOOM_DECL std::string real_text(double v) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, r.ptr);
    if (s.find_first_of(".ein") == std::string::npos) s += ".0";
    return s;
}

LOOM_DECL std::string canonical(const Value& v) {
    switch (v.index()) {
    case 0:
        return "null";
    case 1:
        return "i:" + std::to_string(std::get<1>(v));
    case 2:
        return "r:" + real_text(std::get<2>(v));
    case 3:
        return "t:" + std::to_string(std::get<3>(v).size()) + ":" + std::get<3>(v);
    default: {
        static const char* hex = "0123456789abcdef";
        std::string out = "b:";
        for (auto b : std::get<4>(v)) {
            out += hex[std::to_integer<unsigned>(b) >> 4];
            out += hex[std::to_integer<unsigned>(b) & 15];
        }
        return out;
    }
    }
}

LOOM_DECL std::string canonical(const ColumnInfo& c) {
    std::string s = c.name + " " + lower(engine::type_class_name(c.type));
    if (c.auto_key) s += " auto key";
    if (c.not_null) s += " not null";
    return s;
}

LOOM_DECL std::string canonical(const ForeignKeyInfo& f) {
    return "(" + join(f.columns) + ") -> " + f.table + " (" + join(f.to) + ") on delete " +
           f.on_delete;
}

LOOM_DECL std::string canonical(const TableInfo& t) {
    std::string s = t.name + " {";
    for (const auto& c : t.columns) s += " column " + canonical(c) + ";";
    s += " key (" + join(t.primary_key) + ");";
    for (const auto& u : t.uniques) s += " unique (" + join(u) + ");";
    for (const auto& f : t.foreign_keys) s += " references " + canonical(f) + ";";
    for (const auto& i : t.indexes)
        s += std::string(i.unique ? " unique index " : " index ") + i.name + " (" +
             join(i.columns) + ");";
    return s + " }";
}

LOOM_DECL std::string canonical(const ColumnSpec& c) {
    std::string s = canonical(c.info);
    if (c.unique) s += " unique";
    if (c.references) s += " references " + canonical(*c.references);
    if (c.fill) s += " fill " + canonical(*c.fill);
    return s;
}

LOOM_DECL std::string cpp_string(std::string_view s) {
    std::string out = "\"";
    for (char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
                out += buf;
                out += "\"\"";  // ends the escape: "\x01" "a"
            } else {
                out += c;
            }
        }
    }
    return out + "\"";
}

LOOM_DECL std::string cpp_strings(const std::vector<std::string>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + cpp_string(v[i]);
    return out + "}";
}

LOOM_DECL std::string cpp_value(const Value& v) {
    switch (v.index()) {
    case 0:
        return "nullptr";
    case 1:
        return "std::int64_t{" + std::to_string(std::get<1>(v)) + "}";
    case 2:
        return real_text(std::get<2>(v));
    case 3:
        return "std::string(" + cpp_string(std::get<3>(v)) + ")";
    default: {
        std::string out = "loom::Blob{";
        char buf[24];
        bool first = true;
        for (auto b : std::get<4>(v)) {
            std::snprintf(buf, sizeof buf, "%sstd::byte{0x%02x}", first ? "" : ", ",
                          std::to_integer<unsigned>(b));
            out += buf;
            first = false;
        }
        return out + "}";
    }
    }
}

LOOM_DECL std::string cpp_on_delete(std::string_view rule) {
    if (rule == "CASCADE") return "loom::on_delete::cascade";
    if (rule == "SET NULL") return "loom::on_delete::set_null";
    if (rule == "RESTRICT") return "loom::on_delete::restrict";
    return "loom::on_delete::no_action";
}

LOOM_DECL std::string cpp(const ColumnSpec& c) {
    if (c.info.auto_key) return "loom::primary_key(" + cpp_string(c.info.name) + ")";
    std::string type;
    switch (c.info.type) {
    case engine::TypeClass::integer:
        type = "std::int64_t";
        break;
    case engine::TypeClass::real:
        type = "double";
        break;
    case engine::TypeClass::text:
        type = "std::string";
        break;
    case engine::TypeClass::blob:
        type = "loom::Blob";
        break;
    default:
        type = "double";
        break;
    }
    if (!c.info.not_null) type = "std::optional<" + type + ">";
    std::string s = "loom::column<" + type + ">(" + cpp_string(c.info.name) + ")";
    if (c.unique) s += ".unique()";
    if (c.references) {
        s += ".references(" + cpp_string(c.references->table) + ", " +
             cpp_on_delete(c.references->on_delete);
        if (c.references->to.size() == 1 && c.references->to[0] != "id")
            s += ", " + cpp_string(c.references->to[0]);
        s += ")";
    }
    if (c.fill) s += ".fill(" + cpp_value(*c.fill) + ")";
    return s;
}

LOOM_DECL ColumnSpec spec_of(const TableInfo& t, const ColumnInfo& c) {
    ColumnSpec s;
    s.info = c;
    s.info.declared_type.clear();
    s.info.default_sql.clear();
    s.unique = t.has_unique({c.name});
    if (const auto* f = t.foreign_key(c.name)) s.references = *f;
    return s;
}

LOOM_DECL Context::Context(engine::SchemaEditor& editor, engine::Runner& runner, Database* db)
    : editor(editor), runner(runner), db_(db) {}

LOOM_DECL bool Context::planning() const noexcept {
    return db_ == nullptr;
}

LOOM_DECL Database& Context::database() const {
    return *db_;
}

LOOM_DECL const TableInfo* Context::find(const std::string& name) {
    const std::string key = lower(name);
    auto it = tables_.find(key);
    if (it == tables_.end()) it = tables_.emplace(key, editor.read_table(runner, name)).first;
    return it->second ? &*it->second : nullptr;
}

LOOM_DECL const TableInfo& Context::table(const std::string& name) {
    if (const TableInfo* t = find(name)) return *t;
    throw UsageError("there is no table " + name);
}

LOOM_DECL void Context::set(TableInfo t) {
    const std::string key = lower(t.name);
    tables_[key] = std::move(t);
}

LOOM_DECL void Context::erase(const std::string& name) {
    tables_[lower(name)] = std::nullopt;
}

LOOM_DECL void Context::forget() {
    if (!planning()) tables_.clear();
}

LOOM_DECL void Context::run(const engine::Steps& steps) {
    for (const auto& s : steps) {
        if (planning()) {
            planned.push_back(SqlText{s.sql, s.params});
        } else if (s.fails_with.empty()) {
            runner.execute(s.sql, s.params);
        } else {
            std::optional<std::string> failed;
            runner.query(s.sql, s.params, [&](const Statement& row) {
                if (!failed) failed = fill_in(s.fails_with, row);
            });
            if (failed) throw UsageError(*failed);
        }
    }
}

LOOM_DECL void Context::note(std::string comment) {
    if (planning()) planned.push_back(SqlText{"-- " + std::move(comment), {}});
}

LOOM_DECL std::string Context::fill_in(const std::string& text, const Statement& row) {
    std::string out;
    int cell = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '{' && i + 1 < text.size() && text[i + 1] == '}') {
            out += cell < row.column_count() ? cell_text(row, cell) : "?";
            ++cell;
            ++i;
        } else {
            out += text[i];
        }
    }
    return out;
}

LOOM_DECL std::string Context::cell_text(const Statement& s, int c) {
    switch (s.column_type(c)) {
    case engine::Cell::null:
        return "NULL";
    case engine::Cell::integer:
        return std::to_string(s.column_int(c));
    case engine::Cell::real:
        return real_text(s.column_double(c));
    case engine::Cell::text:
        return std::string(s.column_text(c));
    default:
        return "a BLOB";
    }
}

LOOM_DECL bool Op::rebuilds() const {
    return false;
}

LOOM_DECL std::vector<engine::ColumnSource> same_columns(const TableInfo& t) {
    std::vector<engine::ColumnSource> out;
    for (const auto& c : t.columns) out.push_back({c.name, std::nullopt});
    return out;
}

LOOM_DECL bool contains(const std::vector<std::string>& cols, std::string_view name) {
    for (const auto& c : cols)
        if (engine::same_name(c, name)) return true;
    return false;
}

LOOM_DECL void put_column(TableInfo& t, const ColumnSpec& s) {
    ColumnInfo* c = t.column(s.info.name);
    if (!c) {
        t.columns.push_back(s.info);
        c = &t.columns.back();
    } else {
        const std::string name = c->name;
        *c = s.info;
        c->name = name;
    }
    c->declared_type.clear();
    std::erase_if(t.uniques, [&](const std::vector<std::string>& u) {
        return u.size() == 1 && engine::same_name(u[0], c->name);
    });
    if (s.unique) t.uniques.push_back({c->name});
    std::erase_if(t.foreign_keys, [&](const ForeignKeyInfo& f) {
        return f.columns.size() == 1 && engine::same_name(f.columns[0], c->name);
    });
    if (s.references) {
        ForeignKeyInfo f = *s.references;
        f.columns = {c->name};
        t.foreign_keys.push_back(std::move(f));
    }
}

LOOM_DECL CreateTables::CreateTables(std::vector<TableInfo> tables) : tables_(std::move(tables)) {}

LOOM_DECL std::string CreateTables::describe() const {
    std::vector<std::string> names;
    for (const auto& t : tables_) names.push_back(t.name);
    return (tables_.size() == 1 ? "create table " : "create tables ") + join(names);
}

LOOM_DECL std::string CreateTables::signature() const {
    std::string s = "create";
    for (const auto& t : tables_) {
        s += ' ';  // not " " + canonical(t): GCC 12 -O3 misreports that (-Wrestrict)
        s += canonical(t);
    }
    return s;
}

LOOM_DECL std::string CreateTables::cpp() const {
    std::string out;
    for (const auto& t : tables_) {
        if (!out.empty()) out += ",\n";
        std::vector<std::string> cols;
        for (const auto& c : t.columns) cols.push_back(migrate::cpp(spec_of(t, c)));
        out +=
            "loom::create_table(" + cpp_string(t.name) + ", {\n    " + join(cols, ",\n    ") + "}";
        std::vector<std::string> multi;
        for (const auto& u : t.uniques)
            if (u.size() > 1) multi.push_back(cpp_strings(u));
        if (!multi.empty()) out += ", {" + join(multi) + "}";
        out += ")";
        for (const auto& i : t.indexes)
            out += ",\nloom::add_index(" + cpp_string(t.name) + ", " + cpp_strings(i.columns) + ")";
    }
    return out;
}

LOOM_DECL void CreateTables::run(Context& c) const {
    for (const auto& t : tables_) {
        if (c.find(t.name)) throw UsageError("table " + t.name + " exists already");
        c.run(c.editor.create_table(t));
        c.set(t);
    }
}

LOOM_DECL DropTable::DropTable(std::string table) : table_(std::move(table)) {}

LOOM_DECL std::string DropTable::describe() const {
    return "drop table " + table_;
}

LOOM_DECL std::string DropTable::signature() const {
    return "drop table " + table_;
}

LOOM_DECL std::string DropTable::cpp() const {
    return "loom::drop_table(" + cpp_string(table_) + ")";
}

LOOM_DECL bool DropTable::rebuilds() const {
    return true;
}

LOOM_DECL void DropTable::run(Context& c) const {
    const TableInfo& t = c.table(table_);
    c.run(c.editor.drop_table(t));
    c.erase(table_);
}

LOOM_DECL RenameTable::RenameTable(std::string from, std::string to)
    : from_(std::move(from)), to_(std::move(to)) {}

LOOM_DECL std::string RenameTable::describe() const {
    return "rename table " + from_ + " to " + to_;
}

LOOM_DECL std::string RenameTable::signature() const {
    return "rename table " + from_ + " " + to_;
}

LOOM_DECL std::string RenameTable::cpp() const {
    return "loom::rename_table(" + cpp_string(from_) + ", " + cpp_string(to_) + ")";
}

LOOM_DECL void RenameTable::run(Context& c) const {
    TableInfo t = c.table(from_);
    if (c.find(to_)) throw UsageError("table " + to_ + " exists already");
    c.run(c.editor.rename_table(t, to_));
    c.erase(from_);
    c.each_known([&](TableInfo& other) {
        for (auto& f : other.foreign_keys)
            if (engine::same_name(f.table, from_)) f.table = to_;
    });
    for (auto& f : t.foreign_keys)
        if (engine::same_name(f.table, from_)) f.table = to_;
    t.name = to_;
    c.set(std::move(t));
}

LOOM_DECL AddColumn::AddColumn(std::string table, ColumnSpec column)
    : table_(std::move(table)), col_(std::move(column)) {}

LOOM_DECL std::string AddColumn::describe() const {
    return "add column " + table_ + "." + col_.info.name;
}

LOOM_DECL std::string AddColumn::signature() const {
    return "add column " + table_ + " " + canonical(col_);
}

LOOM_DECL std::string AddColumn::cpp() const {
    return "loom::add_column(" + cpp_string(table_) + ", " + migrate::cpp(col_) + ")";
}

LOOM_DECL bool AddColumn::rebuilds() const {
    return col_.info.not_null || col_.unique || col_.fill;
}

LOOM_DECL void AddColumn::run(Context& c) const {
    const TableInfo& before = c.table(table_);
    if (before.column(col_.info.name))
        throw UsageError("the table has a column " + col_.info.name + " already");
    TableInfo after = before;
    put_column(after, col_);
    auto sources = same_columns(before);
    sources.push_back({std::string(), col_.fill});
    c.run(c.editor.change_table(c.runner, before, after, sources));
    c.set(std::move(after));
}

LOOM_DECL DropColumn::DropColumn(std::string table, std::string column)
    : table_(std::move(table)), column_(std::move(column)) {}

LOOM_DECL std::string DropColumn::describe() const {
    return "drop column " + table_ + "." + column_;
}

LOOM_DECL std::string DropColumn::signature() const {
    return "drop column " + table_ + " " + column_;
}

LOOM_DECL std::string DropColumn::cpp() const {
    return "loom::drop_column(" + cpp_string(table_) + ", " + cpp_string(column_) + ")";
}

LOOM_DECL bool DropColumn::rebuilds() const {
    return true;
}

LOOM_DECL void DropColumn::run(Context& c) const {
    const TableInfo& before = c.table(table_);
    const ColumnInfo* col = before.column(column_);
    if (!col) throw UsageError("the table has no column " + column_);
    if (before.in_primary_key(column_)) throw UsageError("it is the primary key");
    for (const auto& u : before.uniques)
        if (u.size() > 1 && contains(u, column_))
            throw UsageError("it is part of UNIQUE (" + join(u) +
                             "); drop that first (loom::drop_unique)");
    for (const auto& i : before.indexes)
        if (i.columns.size() > 1 && contains(i.columns, column_))
            throw UsageError("it is part of the index " + i.name + " (" + join(i.columns) +
                             "); drop that first (loom::drop_index)");
    for (const auto& f : before.foreign_keys)
        if (f.columns.size() > 1 && contains(f.columns, column_))
            throw UsageError("it is part of a foreign key (" + join(f.columns) + ")");
    TableInfo after = before;
    std::erase_if(after.columns,
                  [&](const ColumnInfo& x) { return engine::same_name(x.name, column_); });
    std::erase_if(after.uniques, [&](const auto& u) { return contains(u, column_); });
    std::erase_if(after.indexes, [&](const IndexInfo& i) { return contains(i.columns, column_); });
    std::erase_if(after.foreign_keys,
                  [&](const ForeignKeyInfo& f) { return contains(f.columns, column_); });
    c.run(c.editor.change_table(c.runner, before, after, same_columns(after)));
    c.set(std::move(after));
}

LOOM_DECL RenameColumn::RenameColumn(std::string table, std::string from, std::string to)
    : table_(std::move(table)), from_(std::move(from)), to_(std::move(to)) {}

LOOM_DECL std::string RenameColumn::describe() const {
    return "rename column " + table_ + "." + from_ + " to " + to_;
}

LOOM_DECL std::string RenameColumn::signature() const {
    return "rename column " + table_ + " " + from_ + " " + to_;
}

LOOM_DECL std::string RenameColumn::cpp() const {
    return "loom::rename_column(" + cpp_string(table_) + ", " + cpp_string(from_) + ", " +
           cpp_string(to_) + ")";
}

LOOM_DECL void RenameColumn::run(Context& c) const {
    TableInfo t = c.table(table_);
    if (!t.column(from_)) throw UsageError("the table has no column " + from_);
    if (t.column(to_)) throw UsageError("the table has a column " + to_ + " already");
    c.run(c.editor.rename_column(t, from_, to_));
    auto rename = [&](std::vector<std::string>& cols) {
        for (auto& x : cols)
            if (engine::same_name(x, from_)) x = to_;
    };
    t.column(from_)->name = to_;
    rename(t.primary_key);
    for (auto& u : t.uniques) rename(u);
    for (auto& u : t.unique_names) rename(u.first);
    for (auto& i : t.indexes) {
        if (contains(i.columns, from_)) i.sql.clear();
        rename(i.columns);
    }
    for (auto& f : t.foreign_keys) {
        rename(f.columns);
        if (engine::same_name(f.table, table_)) rename(f.to);
    }
    c.each_known([&](TableInfo& other) {
        for (auto& f : other.foreign_keys)
            if (engine::same_name(f.table, table_)) rename(f.to);
    });
    c.set(std::move(t));
}

LOOM_DECL AlterColumn::AlterColumn(std::string table, ColumnSpec column)
    : table_(std::move(table)), col_(std::move(column)) {}

LOOM_DECL std::string AlterColumn::describe() const {
    return "alter column " + table_ + "." + col_.info.name;
}

LOOM_DECL std::string AlterColumn::signature() const {
    return "alter column " + table_ + " " + canonical(col_);
}

LOOM_DECL std::string AlterColumn::cpp() const {
    return "loom::alter_column(" + cpp_string(table_) + ", " + migrate::cpp(col_) + ")";
}

LOOM_DECL bool AlterColumn::rebuilds() const {
    return true;
}

LOOM_DECL void AlterColumn::run(Context& c) const {
    const TableInfo& before = c.table(table_);
    if (!before.column(col_.info.name))
        throw UsageError("the table has no column " + col_.info.name);
    if (before.in_primary_key(col_.info.name) || col_.info.auto_key)
        throw UsageError("loom does not change a primary key");
    TableInfo after = before;
    put_column(after, col_);
    auto sources = same_columns(before);
    for (std::size_t i = 0; i < after.columns.size(); ++i)
        if (engine::same_name(after.columns[i].name, col_.info.name)) sources[i].fill = col_.fill;
    c.run(c.editor.change_table(c.runner, before, after, sources));
    c.set(std::move(after));
}

LOOM_DECL Constraint::Constraint(Kind kind, std::string table, std::vector<std::string> columns,
                                 std::string name)
    : kind_(kind), table_(std::move(table)), cols_(std::move(columns)), name_(std::move(name)) {}

LOOM_DECL std::string Constraint::describe() const {
    static const char* what[] = {"add index on ", "drop index on ", "add UNIQUE to ",
                                 "drop UNIQUE from "};
    return what[static_cast<int>(kind_)] + table_ + " (" + join(cols_) + ")";
}

LOOM_DECL std::string Constraint::signature() const {
    static const char* what[] = {"add index", "drop index", "add unique", "drop unique"};
    return what[static_cast<int>(kind_)] + (" " + table_) + " (" + join(cols_) + ")" +
           (name_.empty() ? "" : " " + name_);
}

LOOM_DECL std::string Constraint::cpp() const {
    static const char* what[] = {"loom::add_index(", "loom::drop_index(", "loom::add_unique(",
                                 "loom::drop_unique("};
    std::string s = what[static_cast<int>(kind_)] + cpp_string(table_) + ", " + cpp_strings(cols_);
    if (!name_.empty()) s += ", " + cpp_string(name_);
    return s + ")";
}

LOOM_DECL bool Constraint::rebuilds() const {
    return kind_ == Kind::add_unique || kind_ == Kind::drop_unique;
}

LOOM_DECL void Constraint::run(Context& c) const {
    const TableInfo& before = c.table(table_);
    TableInfo after = before;
    if (kind_ == Kind::add_index || kind_ == Kind::add_unique) {
        if (cols_.empty()) throw UsageError("name at least one column");
        for (const auto& col : cols_)
            if (!before.column(col)) throw UsageError("the table has no column " + col);
    }
    switch (kind_) {
    case Kind::add_index: {
        IndexInfo i;
        i.columns = cols_;
        i.name = name_.empty() ? engine::index_name(table_, cols_) : name_;
        for (const auto& x : before.indexes)
            if (engine::same_name(x.name, i.name))
                throw UsageError("an index named " + i.name + " exists already");
        after.indexes.push_back(std::move(i));
        break;
    }
    case Kind::drop_index: {
        const auto n = std::erase_if(after.indexes, [&](const IndexInfo& i) {
            return engine::same_names(i.columns, cols_) &&
                   (name_.empty() || engine::same_name(i.name, name_));
        });
        if (n == 0) throw UsageError("there is no such index");
        break;
    }
    case Kind::add_unique:
        if (before.has_unique(cols_))
            throw UsageError("the table has that UNIQUE constraint already");
        after.uniques.push_back(cols_);
        break;
    case Kind::drop_unique: {
        const auto n = std::erase_if(after.uniques,
                                     [&](const auto& u) { return engine::same_names(u, cols_); });
        if (n == 0) throw UsageError("there is no such UNIQUE constraint");
        break;
    }
    }
    c.run(c.editor.change_table(c.runner, before, after, same_columns(before)));
    c.set(std::move(after));
}

LOOM_DECL RawSql::RawSql(std::string sql, std::vector<Value> params)
    : sql_(std::move(sql)), params_(std::move(params)) {}

LOOM_DECL std::string RawSql::describe() const {
    return "SQL: " + sql_;
}

LOOM_DECL std::string RawSql::signature() const {
    std::string s = "sql " + std::to_string(sql_.size()) + ":" + sql_;
    for (const auto& p : params_) s += " " + canonical(p);
    return s;
}

LOOM_DECL std::string RawSql::cpp() const {
    std::string s = "loom::raw_sql(" + cpp_string(sql_);
    for (const auto& p : params_) s += ", " + cpp_value(p);
    return s + ")";
}

LOOM_DECL void RawSql::run(Context& c) const {
    c.run({{sql_, params_}});
}

LOOM_DECL DataStep::DataStep(std::string name, std::function<void(Database&)> fn)
    : name_(std::move(name)), fn_(std::move(fn)) {}

LOOM_DECL std::string DataStep::describe() const {
    return "data step: " + name_;
}

LOOM_DECL std::string DataStep::signature() const {
    return "data " + name_;
}

LOOM_DECL std::string DataStep::cpp() const {
    return "loom::data_step(" + cpp_string(name_) + ", [](loom::Database& db) { /* ... */ })";
}

LOOM_DECL void DataStep::run(Context& c) const {
    if (c.planning())
        c.note("data step: " + name_ + " (C++, runs when applied)");
    else
        fn_(c.database());
}

}  // namespace loom::detail::migrate
