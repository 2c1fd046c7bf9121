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

#include "meta/joins.hpp"

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

inline std::string_view on_delete_sql(on_delete d) {
    switch (d) {
        case on_delete::cascade: return " ON DELETE CASCADE";
        case on_delete::set_null: return " ON DELETE SET NULL";
        case on_delete::restrict: return " ON DELETE RESTRICT";
        default: return "";
    }
}

/// CREATE TABLE and CREATE INDEX statements of model T (join tables apart).
template <class T>
std::vector<std::string> table_ddl(const engine::Dialect& d) {
    const ModelMeta& m = meta<T>();
    std::vector<std::string> out;
    std::string ddl = "CREATE TABLE IF NOT EXISTS " + m.table + " (\n";
    std::vector<std::string> indexes;
    bool first = true;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (has_column<E>) {
            if (!first) ddl += ",\n";
            first = false;
            ddl += "  " + quote(e.column) + " ";
            if constexpr (E::kind == entry_kind::pk) {
                ddl += d.auto_primary_key;
            } else if constexpr (E::kind == entry_kind::field) {
                using V = typename E::value_type;
                ddl += ddl_type(d, column_traits<V>::storage);
                if (!column_traits<V>::nullable) ddl += " NOT NULL";
                if (e.unique) ddl += " UNIQUE";
                if (e.indexed && !e.unique)
                    indexes.push_back("CREATE INDEX IF NOT EXISTS " +
                                      quote(m.raw_table + "_" + std::string(e.column) + "_idx") +
                                      " ON " + m.table + " (" + quote(e.column) + ")");
            } else {
                using Target = typename E::target;
                ddl += d.integer_type;
                if (!e.nullable) ddl += " NOT NULL";
                if constexpr (E::kind == entry_kind::one_to_one) ddl += " UNIQUE";
                ddl += " REFERENCES " + quote(model<Target>.name) + " (" +
                       quote(entry<Target, 0>().column) + ")";
                ddl += on_delete_sql(e.deletion);
                if constexpr (E::kind == entry_kind::foreign_key)
                    indexes.push_back("CREATE INDEX IF NOT EXISTS " +
                                      quote(m.raw_table + "_" + std::string(e.column) + "_idx") +
                                      " ON " + m.table + " (" + quote(e.column) + ")");
            }
        }
    });
    ddl += "\n)";
    out.push_back(std::move(ddl));
    for (auto& s : indexes) out.push_back(std::move(s));
    return out;
}

/// The join tables T owns (automatic many-to-many only).
template <class T>
std::vector<std::string> join_ddl(const engine::Dialect& d) {
    std::vector<std::string> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>) {
                using Target = typename E::target;
                const JoinInfo& j = join_info<T, I>();
                const std::string key_type(d.integer_type);
                out.push_back("CREATE TABLE IF NOT EXISTS " + j.table + " (\n  \"id\" " +
                              std::string(d.auto_primary_key) + ",\n  " + j.src_column + " " +
                              key_type + " NOT NULL REFERENCES " + meta<T>().table + " (" +
                              meta<T>().pk + ") ON DELETE CASCADE,\n  " + j.dst_column + " " +
                              key_type + " NOT NULL REFERENCES " + meta<Target>().table + " (" +
                              meta<Target>().pk + ") ON DELETE CASCADE,\n  UNIQUE (" +
                              j.src_column + ", " + j.dst_column + ")\n)");
                // The UNIQUE index serves lookups by src; the other direction needs its own.
                out.push_back("CREATE INDEX IF NOT EXISTS " +
                              quote(j.raw_table + "_" + j.raw_dst + "_idx") + " ON " + j.table +
                              " (" + j.dst_column + ")");
            }
        }
    });
    return out;
}

template <class T>
std::vector<std::string> join_tables_of() {
    std::vector<std::string> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::many_to_many) {
            if constexpr (std::is_void_v<typename E::through>) out.push_back(join_info<T, I>().table);
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
template <class... Ts>
std::vector<std::size_t> dependency_order() {
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
template <class... Ts>
std::vector<std::string> schema_sql(const engine::Dialect& d) {
    std::vector<std::string> out;
    const auto order = dependency_order<Ts...>();
    using Fn = std::vector<std::string> (*)(const engine::Dialect&);
    const Fn tables[] = {&table_ddl<Ts>...};
    const Fn joins[] = {&join_ddl<Ts>...};
    for (auto i : order)
        for (auto& s : tables[i](d)) out.push_back(std::move(s));
    for (auto i : order)
        for (auto& s : joins[i](d)) out.push_back(std::move(s));
    return out;
}

}  // namespace loom::detail
