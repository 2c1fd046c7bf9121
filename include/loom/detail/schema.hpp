// Schema: the CREATE TABLE / CREATE INDEX statements of models and their join tables, in the
// engine's dialect, and the order models are created and dropped in.
#pragma once

#include <array>
#include <cstddef>
#include <span>
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

/// The models of Pack that T's foreign keys and one-to-ones point at (by position in Pack;
/// T itself and models outside Pack left out).
template <class T, class Pack> struct pack_dependencies {
    std::array<std::size_t, entry_count<T> + 1> at{};
    std::size_t size = 0;
};
template <class T, class Pack> constexpr pack_dependencies<T, Pack> dependencies_in() {
    pack_dependencies<T, Pack> out;
    constexpr std::size_t self = index_in<T, Pack>::value;
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
            constexpr std::size_t d = index_in<typename E::target, Pack>::value;
            if (d != std::tuple_size_v<Pack> && d != self) out.at[out.size++] = d;
        }
    });
    return out;
}
template <class T, class Pack>
inline constexpr pack_dependencies<T, Pack> dependencies_in_v = dependencies_in<T, Pack>();

/// The SQL word of an on_delete rule (as the database reports it back).
LOOM_DECL std::string on_delete_word(on_delete d);

LOOM_DECL engine::TypeClass type_class(Storage s);

/// The storage of T's key column (and of every column that refers to it).
template <class T> constexpr Storage key_storage() {
    if constexpr (auto_key<T>)
        return Storage::integer;
    else
        return column_traits<key_of<T>>::storage;
}

/// One column of a model as its descriptor declares it, with no C++ type left in it: the
/// input of table_info(), so that a model's table is built by code compiled once.
struct ColumnSpec {
    std::string_view name;
    entry_kind kind = entry_kind::field;  // pk, field, foreign_key or one_to_one
    Storage storage = Storage::blob;
    bool not_null = false;
    bool auto_key = false;
    column_kind kind_of_text = column_kind::plain;
    default_literal default_value;
    bool unique = false;
    bool indexed = false;
    // A foreign key or one-to-one: the table and primary key column it points at.
    std::string_view target_table;
    std::string_view target_column;
    on_delete deletion = on_delete::restrict;
};

/// The columns of model T, in select order (pk first).
template <class T> constexpr auto column_specs() {
    constexpr std::size_t n = [] {
        std::size_t count = 0;
        for_each_index<T>([&](auto i) { count += has_column<entry_t<T, decltype(i)::value>>; });
        return count;
    }();
    std::array<ColumnSpec, n> out{};
    std::size_t k = 0;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (has_column<E>) {
            ColumnSpec& c = out[k++];
            c.name = e.column;
            c.kind = E::kind;
            if constexpr (E::kind == entry_kind::pk) {
                c.storage = key_storage<T>();
                c.auto_key = auto_key<T>;
                c.not_null = !auto_key<T>;
            } else if constexpr (E::kind == entry_kind::field) {
                using V = typename E::value_type;
                c.storage = column_traits<V>::storage;
                c.not_null = !column_traits<V>::nullable;
                c.kind_of_text = column_kind_of<V>();
                c.default_value = e.default_value;
                c.unique = e.unique;
                c.indexed = e.indexed;
            } else {
                using Target = typename E::target;
                c.storage = key_storage<Target>();
                c.not_null = !e.nullable;
                c.target_table = model<Target>.name;
                c.target_column = entry<Target, 0>().column;
                c.deletion = e.deletion;
            }
        }
    });
    return out;
}
template <class T> inline constexpr auto column_specs_v = column_specs<T>();

/// The table of a model from its columns and its table-level entries: columns, keys,
/// constraints, indexes.
LOOM_DECL engine::TableInfo table_info(std::string_view table, std::span<const ColumnSpec> columns,
                                       std::span<const unique_columns> uniques,
                                       std::span<const unique_columns> indexes,
                                       std::span<const check_entry> checks);

/// The table of model T as its descriptor defines it: columns, keys, constraints, indexes.
template <class T> engine::TableInfo table_info() {
    const auto& m = model<T>;
    return table_info(m.name, column_specs_v<T>, {m.uniques.data(), m.unique_count},
                      {m.indexes.data(), m.index_count}, {m.checks.data(), m.check_count});
}

/// The join table of an automatic many-to-many: an auto key, a column for each side (a
/// foreign key to its table, CASCADE), unique together, and an index on the target side.
LOOM_DECL engine::TableInfo join_table_info(const JoinInfo& j, std::string_view owner_table,
                                            std::string_view owner_pk, Storage owner_key,
                                            std::string_view target_table,
                                            std::string_view target_pk, Storage target_key);

/// An automatic many-to-many of a model, with no C++ type left in it: its join table's names
/// (a function: they are built when first asked for) and the table it points at.
struct JoinTableSpec {
    const JoinInfo& (*join)() = nullptr;
    std::string_view target_table, target_pk;
    Storage target_key = Storage::integer;
};

/// The automatic many-to-many relations of model T, in declaration order.
template <class T> constexpr auto join_table_specs() {
    constexpr auto automatic = [](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::many_to_many)
            return std::is_void_v<typename E::through>;
        else
            return false;
    };
    constexpr std::size_t n = [&] {
        std::size_t count = 0;
        for_each_index<T>([&](auto i) { count += automatic(i); });
        return count;
    }();
    std::array<JoinTableSpec, n> out{};
    std::size_t k = 0;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (automatic(i)) {
            using Target = typename entry_t<T, I>::target;
            out[k++] = JoinTableSpec{&join_info<T, I>, model<Target>.name,
                                     entry<Target, 0>().column, key_storage<Target>()};
        }
    });
    return out;
}
template <class T> inline constexpr auto join_table_specs_v = join_table_specs<T>();

/// What the schema code compiled once needs of each model of a pack (create_tables<Ts...>,
/// drop_tables<Ts...>, the migrations): a function that builds its table, its table name,
/// primary key and key storage, its automatic many-to-many relations, and the models of the
/// pack its foreign keys point at.
struct SchemaModel {
    engine::TableInfo (*table)();
    std::string_view name;  // unquoted
    std::string_view pk;    // unquoted
    Storage key;
    const JoinTableSpec* joins;
    std::size_t join_count;
    const std::size_t* dependencies;
    std::size_t dependency_count;

    /// The join tables the model owns.
    std::vector<engine::TableInfo> join_tables() const;
};

template <class... Ts> std::array<SchemaModel, sizeof...(Ts)> schema_models() {
    using Pack = std::tuple<Ts...>;
    return {SchemaModel{&table_info<Ts>, model<Ts>.name, entry<Ts, 0>().column, key_storage<Ts>(),
                        join_table_specs_v<Ts>.data(), join_table_specs_v<Ts>.size(),
                        dependencies_in_v<Ts, Pack>.at.data(),
                        dependencies_in_v<Ts, Pack>.size}...};
}

/// Models in an order where every model comes after the models its foreign keys point at
/// (self-references and cycles keep the order given).
LOOM_DECL std::vector<std::size_t> dependency_order(std::span<const SchemaModel> models);

/// The DDL that creates the given models' tables (FK targets first), then their join tables.
/// A foreign key that closes a cycle (House -> Room -> House) points at a table created after
/// its own: inline on an engine that allows that (SQLite), else added by
/// Dialect::add_foreign_key once every table exists (PostgreSQL).
LOOM_DECL std::vector<std::string> schema_sql(std::span<const SchemaModel> models,
                                              const engine::Dialect& d);

/// The tables of the given models (FK targets first), then their join tables: the schema
/// create_tables<Ts...>() makes, which check_schema and the migrations' autodetector compare
/// with a live database.
LOOM_DECL std::vector<engine::TableInfo> model_tables(std::span<const SchemaModel> models);

/// The quoted tables drop_tables<Ts...>() drops, in order: join tables, then dependents
/// before the tables they point at.
LOOM_DECL std::vector<std::string> drop_order(std::span<const SchemaModel> models);

template <class... Ts> std::vector<std::string> schema_sql(const engine::Dialect& d) {
    return schema_sql(schema_models<Ts...>(), d);
}

template <class... Ts> std::vector<engine::TableInfo> model_tables() {
    return model_tables(schema_models<Ts...>());
}

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/schema.hpp"
#endif
