// Schema: the CREATE TABLE / CREATE INDEX statements of models and their join tables, in the
// engine's dialect, and the order models are created and dropped in.
#pragma once

#include <cstddef>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "column.hpp"
#include "engine/catalog.hpp"
#include "meta/defaults.hpp"
#include "meta/joins.hpp"
#include "std_light.hpp"

namespace loom::detail {

template <class U, class Pack> struct index_in;
template <class U, class... Ts> struct index_in<U, std::tuple<Ts...>> {
    static constexpr std::size_t value = [] {
        constexpr bool same[] = {std::is_same_v<U, Ts>..., false};
        for (std::size_t i = 0; i < sizeof...(Ts); ++i)
            if (same[i]) return i;
        return sizeof...(Ts);
    }();
};

/// The SQL word of an on_delete rule (as the database reports it back).
inline std::string on_delete_word(on_delete d) {
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

inline engine::TypeClass type_class(Storage s) {
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

/// The storage of T's key column (and of every column that refers to it).
template <class T> engine::TypeClass key_class() {
    if constexpr (auto_key<T>)
        return engine::TypeClass::integer;
    else
        return type_class(column_traits<key_of<T>>::storage);
}

/// The table of model T as its descriptor defines it: columns, keys, constraints, indexes.
/// table_info's steps apart from the model's types, compiled once. An index on one column.
inline void add_index_on(engine::TableInfo& t, std::string_view column) {
    engine::IndexInfo i;
    i.columns = {std::string(column)};
    i.name = engine::index_name(t.name, i.columns);
    t.indexes.push_back(std::move(i));
}
/// The primary key column.
inline void add_key_column(engine::TableInfo& t, std::string_view name, engine::TypeClass type,
                           bool auto_key) {
    engine::ColumnInfo c;
    c.name = std::string(name);
    c.type = type;
    c.auto_key = auto_key;
    c.not_null = !auto_key;
    t.primary_key.push_back(c.name);
    t.columns.push_back(std::move(c));
}
/// A field's column.
inline void add_field_column(engine::TableInfo& t, std::string_view name, engine::TypeClass type,
                             bool not_null, column_kind kind, std::string default_sql, bool unique,
                             bool indexed) {
    engine::ColumnInfo c;
    c.name = std::string(name);
    c.type = type;
    c.not_null = not_null;
    c.kind = kind;
    c.default_sql = std::move(default_sql);
    t.columns.push_back(c);
    if (unique) t.uniques.push_back({c.name});
    if (indexed && !unique) add_index_on(t, name);
}
/// A foreign key's (or one-to-one's) column, pointing at `target_pk` of `target`.
inline void add_key_reference(engine::TableInfo& t, std::string_view name, engine::TypeClass type,
                              bool not_null, bool one_to_one, std::string_view target,
                              std::string_view target_pk, on_delete deletion) {
    engine::ColumnInfo c;
    c.name = std::string(name);
    c.type = type;
    c.not_null = not_null;
    t.columns.push_back(c);
    if (one_to_one) t.uniques.push_back({c.name});
    engine::ForeignKeyInfo f;
    f.columns = {c.name};
    f.table = std::string(target);
    f.to = {std::string(target_pk)};
    f.on_delete = on_delete_word(deletion);
    t.foreign_keys.push_back(std::move(f));
    if (!one_to_one) add_index_on(t, name);
}
/// The descriptor's table-wide UNIQUE constraints, composite indexes and CHECK constraints.
inline void add_table_constraints(engine::TableInfo& t, std::span<const unique_columns> uniques,
                                  std::span<const unique_columns> indexes,
                                  std::span<const check_entry> checks) {
    for (const auto& cols : uniques) {
        std::vector<std::string> names;
        for (std::size_t k = 0; k < cols.size; ++k) names.emplace_back(cols.columns[k]);
        t.uniques.push_back(std::move(names));
    }
    // Composite indexes and CHECK constraints (issue 17).
    for (const auto& cols : indexes) {
        engine::IndexInfo i;
        for (std::size_t k = 0; k < cols.size; ++k) i.columns.emplace_back(cols.columns[k]);
        i.name = engine::index_name(t.name, i.columns);
        if (!t.index_on(i.columns)) t.indexes.push_back(std::move(i));
    }
    for (const auto& c : checks) t.checks.emplace_back(std::string(c.name), std::string(c.sql));
}

template <class T> engine::TableInfo table_info() {
    engine::TableInfo t;
    t.name = std::string(model<T>.name);
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (E::kind == entry_kind::pk) {
            add_key_column(t, e.column, key_class<T>(), auto_key<T>);
        } else if constexpr (E::kind == entry_kind::field) {
            using V = typename E::value_type;
            add_field_column(t, e.column, type_class(column_traits<V>::storage),
                             !column_traits<V>::nullable, column_kind_of<V>(),
                             sql_literal(e.default_value), e.unique, e.indexed);
        } else if constexpr (has_column<E>) {
            using Target = typename E::target;
            add_key_reference(t, e.column, key_class<Target>(), !e.nullable,
                              E::kind == entry_kind::one_to_one, model<Target>.name,
                              entry<Target, 0>().column, e.deletion);
        }
    });
    constexpr const auto& m = model<T>;
    add_table_constraints(t, std::span(m.uniques.data(), m.unique_count),
                          std::span(m.indexes.data(), m.index_count),
                          std::span(m.checks.data(), m.check_count));
    return t;
}

/// The join tables T owns (automatic many-to-many only).
template <class T> std::vector<engine::TableInfo> join_table_infos() {
    std::vector<engine::TableInfo> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>) {
                using Target = typename E::target;
                const JoinInfo& j = join_info<T, I>();
                engine::TableInfo t;
                t.name = j.raw_table;
                engine::ColumnInfo id;
                id.name = "id";
                id.type = engine::TypeClass::integer;
                id.auto_key = true;
                t.columns.push_back(std::move(id));
                t.primary_key = {"id"};
                auto side = [&](const std::string& col, std::string_view target,
                                std::string_view target_pk, engine::TypeClass type) {
                    engine::ColumnInfo c;
                    c.name = col;
                    c.type = type;
                    c.not_null = true;
                    t.columns.push_back(std::move(c));
                    engine::ForeignKeyInfo f;
                    f.columns = {col};
                    f.table = std::string(target);
                    f.to = {std::string(target_pk)};
                    f.on_delete = "CASCADE";
                    t.foreign_keys.push_back(std::move(f));
                };
                side(j.raw_src, model<T>.name, entry<T, 0>().column, key_class<T>());
                side(j.raw_dst, model<Target>.name, entry<Target, 0>().column, key_class<Target>());
                t.uniques.push_back({j.raw_src, j.raw_dst});
                // The UNIQUE index serves lookups by src; the other direction needs its own.
                engine::IndexInfo idx;
                idx.columns = {j.raw_dst};
                idx.name = engine::index_name(t.name, idx.columns);
                t.indexes.push_back(std::move(idx));
                out.push_back(std::move(t));
            }
        }
    });
    return out;
}

/// CREATE TABLE and CREATE INDEX statements of model T (join tables apart).
template <class T> std::vector<std::string> table_ddl(const engine::Dialect& d) {
    const engine::TableInfo t = table_info<T>();
    std::vector<std::string> out{engine::create_table_sql(t, d, true)};
    for (const auto& i : t.indexes) out.push_back(engine::create_index_sql(i, t.name, true));
    return out;
}

/// The join tables T owns (automatic many-to-many only).
template <class T> std::vector<std::string> join_ddl(const engine::Dialect& d) {
    std::vector<std::string> out;
    for (const auto& t : join_table_infos<T>()) {
        out.push_back(engine::create_table_sql(t, d, true));
        for (const auto& i : t.indexes) out.push_back(engine::create_index_sql(i, t.name, true));
    }
    return out;
}

template <class T> std::vector<std::string> join_tables_of() {
    std::vector<std::string> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>)
                out.push_back(join_info<T, I>().table);
        }
    });
    return out;
}

template <class T, class Pack>
void add_dependencies(std::vector<std::size_t>& out, std::size_t self) {
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
            constexpr std::size_t d = index_in<typename E::target, Pack>::value;
            if (d != std::tuple_size_v<Pack> && d != self) out.push_back(d);
        }
    });
}

/// The order of dependency_order, from each model's dependencies (indexes into the list).
inline std::vector<std::size_t> order_by_dependencies(
    const std::vector<std::vector<std::size_t>>& deps) {
    const std::size_t n = deps.size();
    std::vector<std::size_t> order;
    std::vector<int> state(n, 0);  // 0 new, 1 visiting, 2 done
    std::function<void(std::size_t)> visit = [&](std::size_t m) {
        if (state[m] != 0) return;  // done, or a cycle: keep the given order
        state[m] = 1;
        for (auto d : deps[m]) visit(d);
        state[m] = 2;
        order.push_back(m);
    };
    for (std::size_t m = 0; m < n; ++m) visit(m);
    return order;
}

/// Models in an order where every model comes after the models its foreign keys point at
/// (self-references and cycles keep the order given).
template <class... Ts> std::vector<std::size_t> dependency_order() {
    constexpr std::size_t N = sizeof...(Ts);
    using Pack = std::tuple<Ts...>;
    std::vector<std::vector<std::size_t>> deps(N);
    std::size_t k = 0;
    ((add_dependencies<Ts, Pack>(deps[k], k), ++k), ...);
    return order_by_dependencies(deps);
}

/// schema_sql apart from the models' types: `tables[i]()` is model i's table, `joins[i](d)` the
/// DDL of its join tables, `names[i]` its table name; `order` the order to create them in.
inline std::vector<std::string> schema_sql_of(
    const engine::Dialect& d, const std::vector<std::size_t>& order,
    std::span<engine::TableInfo (*const)()> tables,
    std::span<std::vector<std::string> (*const)(const engine::Dialect&)> joins,
    std::span<const std::string> names) {
    std::vector<std::string> out, added;
    std::vector<std::string> created;
    auto listed = [](const auto& list, const std::string& n) {
        return std::any_of(std::begin(list), std::end(list),
                           [&](const std::string& x) { return engine::same_name(x, n); });
    };
    for (auto i : order) {
        engine::TableInfo t = tables[i]();
        if (d.add_foreign_key) {
            for (auto f = t.foreign_keys.begin(); f != t.foreign_keys.end();) {
                if (!engine::same_name(f->table, t.name) && listed(names, f->table) &&
                    !listed(created, f->table)) {
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
        out.push_back(engine::create_table_sql(t, d, true));
        for (const auto& ix : t.indexes) out.push_back(engine::create_index_sql(ix, t.name, true));
    }
    for (auto& s : added) out.push_back(std::move(s));
    for (auto i : order)
        for (auto& s : joins[i](d)) out.push_back(std::move(s));
    return out;
}

/// The DDL that creates the given models' tables (FK targets first), then their join tables.
/// A foreign key that closes a cycle (House -> Room -> House) points at a table created after
/// its own: inline on an engine that allows that (SQLite), else added by
/// Dialect::add_foreign_key once every table exists (PostgreSQL).
template <class... Ts> std::vector<std::string> schema_sql(const engine::Dialect& d) {
    using InfoFn = engine::TableInfo (*)();
    const InfoFn tables[] = {&table_info<Ts>...};
    using Fn = std::vector<std::string> (*)(const engine::Dialect&);
    const Fn joins[] = {&join_ddl<Ts>...};
    const std::string names[] = {std::string(model<Ts>.name)...};
    return schema_sql_of(d, dependency_order<Ts...>(), tables, joins, names);
}

/// The tables of the given models (FK targets first), then their join tables: the schema
/// create_tables<Ts...>() makes, which check_schema and the migrations' autodetector compare
/// with a live database.
template <class... Ts> std::vector<engine::TableInfo> model_tables() {
    std::vector<engine::TableInfo> out;
    const auto order = dependency_order<Ts...>();
    using TableFn = engine::TableInfo (*)();
    using JoinFn = std::vector<engine::TableInfo> (*)();
    const TableFn tables[] = {&table_info<Ts>...};
    const JoinFn joins[] = {&join_table_infos<Ts>...};
    for (auto i : order) out.push_back(tables[i]());
    for (auto i : order)
        for (auto& t : joins[i]()) out.push_back(std::move(t));
    return out;
}

}  // namespace loom::detail
