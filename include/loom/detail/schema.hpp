// Schema: the CREATE TABLE / CREATE INDEX statements of models and their join tables, in the
// engine's dialect, and the order models are created and dropped in.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "column.hpp"
#include "config.hpp"
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
LOOM_DECL std::string on_delete_word(on_delete d);

LOOM_DECL engine::TypeClass type_class(Storage s);

/// The storage of T's key column (and of every column that refers to it).
template <class T> engine::TypeClass key_class() {
    if constexpr (auto_key<T>)
        return engine::TypeClass::integer;
    else
        return type_class(column_traits<key_of<T>>::storage);
}

/// The table of model T as its descriptor defines it: columns, keys, constraints, indexes.
template <class T> engine::TableInfo table_info() {
    engine::TableInfo t;
    t.name = std::string(model<T>.name);
    auto index_on = [&](std::string_view column) {
        engine::IndexInfo i;
        i.columns = {std::string(column)};
        i.name = engine::index_name(t.name, i.columns);
        t.indexes.push_back(std::move(i));
    };
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (has_column<E>) {
            engine::ColumnInfo c;
            c.name = std::string(e.column);
            if constexpr (E::kind == entry_kind::pk) {
                c.type = key_class<T>();
                c.auto_key = auto_key<T>;
                c.not_null = !auto_key<T>;
                t.primary_key.push_back(c.name);
                t.columns.push_back(std::move(c));
            } else if constexpr (E::kind == entry_kind::field) {
                using V = typename E::value_type;
                c.type = type_class(column_traits<V>::storage);
                c.not_null = !column_traits<V>::nullable;
                c.kind = column_kind_of<V>();
                c.default_sql = sql_literal(e.default_value);
                t.columns.push_back(c);
                if (e.unique) t.uniques.push_back({c.name});
                if (e.indexed && !e.unique) index_on(e.column);
            } else {
                using Target = typename E::target;
                c.type = key_class<Target>();
                c.not_null = !e.nullable;
                t.columns.push_back(c);
                if constexpr (E::kind == entry_kind::one_to_one) t.uniques.push_back({c.name});
                engine::ForeignKeyInfo f;
                f.columns = {c.name};
                f.table = std::string(model<Target>.name);
                f.to = {std::string(entry<Target, 0>().column)};
                f.on_delete = on_delete_word(e.deletion);
                t.foreign_keys.push_back(std::move(f));
                if constexpr (E::kind == entry_kind::foreign_key) index_on(e.column);
            }
        }
    });
    for (std::size_t u = 0; u < model<T>.unique_count; ++u) {
        const auto& cols = model<T>.uniques[u];
        std::vector<std::string> names;
        for (std::size_t k = 0; k < cols.size; ++k) names.emplace_back(cols.columns[k]);
        t.uniques.push_back(std::move(names));
    }
    // Composite indexes and CHECK constraints (issue 17).
    for (std::size_t x = 0; x < model<T>.index_count; ++x) {
        const auto& cols = model<T>.indexes[x];
        engine::IndexInfo i;
        for (std::size_t k = 0; k < cols.size; ++k) i.columns.emplace_back(cols.columns[k]);
        i.name = engine::index_name(t.name, i.columns);
        if (!t.index_on(i.columns)) t.indexes.push_back(std::move(i));
    }
    for (std::size_t x = 0; x < model<T>.check_count; ++x)
        t.checks.emplace_back(std::string(model<T>.checks[x].name),
                              std::string(model<T>.checks[x].sql));
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

/// Models in an order where every model comes after the models its foreign keys point at
/// (self-references and cycles keep the order given).
template <class... Ts> std::vector<std::size_t> dependency_order() {
    constexpr std::size_t N = sizeof...(Ts);
    using Pack = std::tuple<Ts...>;
    std::vector<std::vector<std::size_t>> deps(N);
    std::size_t k = 0;
    ((add_dependencies<Ts, Pack>(deps[k], k), ++k), ...);
    std::vector<std::size_t> order;
    std::vector<int> state(N, 0);  // 0 new, 1 visiting, 2 done
    std::function<void(std::size_t)> visit = [&](std::size_t n) {
        if (state[n] != 0) return;  // done, or a cycle: keep the given order
        state[n] = 1;
        for (auto d : deps[n]) visit(d);
        state[n] = 2;
        order.push_back(n);
    };
    for (std::size_t n = 0; n < N; ++n) visit(n);
    return order;
}

/// The DDL that creates the given models' tables (FK targets first), then their join tables.
/// A foreign key that closes a cycle (House -> Room -> House) points at a table created after
/// its own: inline on an engine that allows that (SQLite), else added by
/// Dialect::add_foreign_key once every table exists (PostgreSQL).
template <class... Ts> std::vector<std::string> schema_sql(const engine::Dialect& d) {
    std::vector<std::string> out, added;
    const auto order = dependency_order<Ts...>();
    using InfoFn = engine::TableInfo (*)();
    const InfoFn tables[] = {&table_info<Ts>...};
    using Fn = std::vector<std::string> (*)(const engine::Dialect&);
    const Fn joins[] = {&join_ddl<Ts>...};
    const std::string names[] = {std::string(model<Ts>.name)...};
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

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/schema.hpp"
#endif
