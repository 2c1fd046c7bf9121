// The definitions of schema.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail {

LOOM_DECL std::string on_delete_word(on_delete d) {
    switch (d) {
    case on_delete::cascade:
        return "CASCADE";
    case on_delete::set_null:
        return "SET NULL";
    case on_delete::restrict:
        return "RESTRICT";
    default:
        return "NO ACTION";
    }
}

LOOM_DECL engine::TypeClass type_class(Storage s) {
    switch (s) {
    case Storage::integer:
        return engine::TypeClass::integer;
    case Storage::real:
        return engine::TypeClass::real;
    case Storage::text:
        return engine::TypeClass::text;
    default:
        return engine::TypeClass::blob;
    }
}

LOOM_DECL engine::TableInfo table_info(std::string_view table, std::span<const ColumnSpec> columns,
                                       std::span<const unique_columns> uniques,
                                       std::span<const unique_columns> indexes,
                                       std::span<const check_entry> checks) {
    engine::TableInfo t;
    t.name = std::string(table);
    auto index_on = [&](std::string_view column) {
        engine::IndexInfo i;
        i.columns = {std::string(column)};
        i.name = engine::index_name(t.name, i.columns);
        t.indexes.push_back(std::move(i));
    };
    for (const ColumnSpec& spec : columns) {
        engine::ColumnInfo c;
        c.name = std::string(spec.name);
        c.type = type_class(spec.storage);
        c.not_null = spec.not_null;
        if (spec.kind == entry_kind::pk) {
            c.auto_key = spec.auto_key;
            t.primary_key.push_back(c.name);
            t.columns.push_back(std::move(c));
        } else if (spec.kind == entry_kind::field) {
            c.kind = spec.kind_of_text;
            c.default_sql = sql_literal(spec.default_value);
            t.columns.push_back(c);
            if (spec.unique) t.uniques.push_back({c.name});
            if (spec.indexed && !spec.unique) index_on(spec.name);
        } else {
            t.columns.push_back(c);
            if (spec.kind == entry_kind::one_to_one) t.uniques.push_back({c.name});
            engine::ForeignKeyInfo f;
            f.columns = {c.name};
            f.table = std::string(spec.target_table);
            f.to = {std::string(spec.target_column)};
            f.on_delete = on_delete_word(spec.deletion);
            t.foreign_keys.push_back(std::move(f));
            if (spec.kind == entry_kind::foreign_key) index_on(spec.name);
        }
    }
    for (const unique_columns& cols : uniques) {
        std::vector<std::string> names;
        for (std::size_t k = 0; k < cols.size; ++k) names.emplace_back(cols.columns[k]);
        t.uniques.push_back(std::move(names));
    }
    // Composite indexes and CHECK constraints (issue 17).
    for (const unique_columns& cols : indexes) {
        engine::IndexInfo i;
        for (std::size_t k = 0; k < cols.size; ++k) i.columns.emplace_back(cols.columns[k]);
        i.name = engine::index_name(t.name, i.columns);
        if (!t.index_on(i.columns)) t.indexes.push_back(std::move(i));
    }
    for (const check_entry& c : checks)
        t.checks.emplace_back(std::string(c.name), std::string(c.sql));
    return t;
}

LOOM_DECL engine::TableInfo join_table_info(const JoinInfo& j, std::string_view owner_table,
                                            std::string_view owner_pk, Storage owner_key,
                                            std::string_view target_table,
                                            std::string_view target_pk, Storage target_key) {
    engine::TableInfo t;
    t.name = j.raw_table;
    engine::ColumnInfo id;
    id.name = "id";
    id.type = engine::TypeClass::integer;
    id.auto_key = true;
    t.columns.push_back(std::move(id));
    t.primary_key = {"id"};
    auto side = [&](const std::string& col, std::string_view target, std::string_view pk,
                    Storage key) {
        engine::ColumnInfo c;
        c.name = col;
        c.type = type_class(key);
        c.not_null = true;
        t.columns.push_back(std::move(c));
        engine::ForeignKeyInfo f;
        f.columns = {col};
        f.table = std::string(target);
        f.to = {std::string(pk)};
        f.on_delete = "CASCADE";
        t.foreign_keys.push_back(std::move(f));
    };
    side(j.raw_src, owner_table, owner_pk, owner_key);
    side(j.raw_dst, target_table, target_pk, target_key);
    t.uniques.push_back({j.raw_src, j.raw_dst});
    // The UNIQUE index serves lookups by src; the other direction needs its own.
    engine::IndexInfo idx;
    idx.columns = {j.raw_dst};
    idx.name = engine::index_name(t.name, idx.columns);
    t.indexes.push_back(std::move(idx));
    return t;
}

LOOM_DECL std::vector<engine::TableInfo> SchemaModel::join_tables() const {
    std::vector<engine::TableInfo> out;
    out.reserve(join_count);
    for (const JoinTableSpec& j : std::span(joins, join_count))
        out.push_back(
            join_table_info(j.join(), name, pk, key, j.target_table, j.target_pk, j.target_key));
    return out;
}

LOOM_DECL std::vector<std::size_t> dependency_order(std::span<const SchemaModel> models) {
    std::vector<std::size_t> order;
    std::vector<int> state(models.size(), 0);  // 0 new, 1 visiting, 2 done
    auto visit = [&](auto& self, std::size_t n) -> void {
        if (state[n] != 0) return;  // done, or a cycle: keep the given order
        state[n] = 1;
        for (std::size_t k = 0; k < models[n].dependency_count; ++k)
            self(self, models[n].dependencies[k]);
        state[n] = 2;
        order.push_back(n);
    };
    for (std::size_t n = 0; n < models.size(); ++n) visit(visit, n);
    return order;
}

LOOM_DECL std::vector<std::string> schema_sql(std::span<const SchemaModel> models,
                                              const engine::Dialect& d) {
    std::vector<std::string> out, added;
    const auto order = dependency_order(models);
    std::vector<std::string> created;
    auto in_pack = [&](const std::string& n) {
        return std::any_of(models.begin(), models.end(),
                           [&](const SchemaModel& m) { return engine::same_name(m.name, n); });
    };
    auto create = [&](const engine::TableInfo& t) {  // CREATE TABLE, then its indexes
        out.push_back(engine::create_table_sql(t, d, true));
        for (const auto& ix : t.indexes) out.push_back(engine::create_index_sql(ix, t.name, true));
    };
    auto was_created = [&](const std::string& n) {
        return std::any_of(created.begin(), created.end(),
                           [&](const std::string& x) { return engine::same_name(x, n); });
    };
    for (auto i : order) {
        engine::TableInfo t = models[i].table();
        if (d.add_foreign_key) {
            for (auto f = t.foreign_keys.begin(); f != t.foreign_keys.end();) {
                if (!engine::same_name(f->table, t.name) && in_pack(f->table) &&
                    !was_created(f->table)) {
                    std::string name = t.name;
                    for (const auto& c : f->columns) name += "_" + c;
                    added.push_back(d.add_foreign_key(t.name, name + "_fkey",
                                                      "FOREIGN KEY (" +
                                                          engine::column_list(f->columns) + ") " +
                                                          engine::references_sql(*f)));
                    f = t.foreign_keys.erase(f);
                } else {
                    ++f;
                }
            }
        }
        created.push_back(t.name);
        create(t);
    }
    for (auto& s : added) out.push_back(std::move(s));
    for (auto i : order)
        for (const auto& t : models[i].join_tables()) create(t);
    return out;
}

LOOM_DECL std::vector<engine::TableInfo> model_tables(std::span<const SchemaModel> models) {
    std::vector<engine::TableInfo> out;
    const auto order = dependency_order(models);
    for (auto i : order) out.push_back(models[i].table());
    for (auto i : order)
        for (auto& t : models[i].join_tables()) out.push_back(std::move(t));
    return out;
}

LOOM_DECL std::vector<std::string> drop_order(std::span<const SchemaModel> models) {
    const auto order = dependency_order(models);
    std::vector<std::string> names;
    for (auto i : order)
        for (const JoinTableSpec& j : std::span(models[i].joins, models[i].join_count))
            names.push_back(j.join().table);  // quoted
    for (auto it = order.rbegin(); it != order.rend(); ++it)
        names.push_back(quote(models[*it].name));
    return names;
}

}  // namespace loom::detail
