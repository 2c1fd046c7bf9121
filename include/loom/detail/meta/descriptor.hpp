// Descriptor visitors: walking a model's entries, finding the entry of a member (one place),
// the checks every descriptor passes, and the run-time facts (ModelMeta) built from it once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "../../relations.hpp"
#include "../config.hpp"
#include "../quote.hpp"
#include "../type_name.hpp"

namespace loom {
namespace detail {

template <class T>
inline constexpr bool has_model = is_table<std::remove_cvref_t<decltype(model<T>)>>::value;

template <class T> using model_type = std::remove_cvref_t<decltype(model<T>)>;

template <class T>
constexpr std::size_t entry_count = std::tuple_size_v<decltype(model<T>.entries)>;

template <class T, std::size_t I>
using entry_t = std::tuple_element_t<I, decltype(model<T>.entries)>;

template <class T, std::size_t I> constexpr const auto& entry() {
    return std::get<I>(model<T>.entries);
}

template <class T, class F> constexpr void for_each_index(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }
    (std::make_index_sequence<entry_count<T>>{});
}

template <class E>
constexpr bool has_column = E::kind == entry_kind::pk || E::kind == entry_kind::field ||
                            E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one;

template <class E>
constexpr bool is_relation_entry =
    E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one ||
    E::kind == entry_kind::many_to_many || E::kind == entry_kind::reverse;

template <class E> constexpr bool target_has_model() {
    if constexpr (is_relation_entry<E>)
        return has_model<typename E::target>;
    else
        return true;
}

/// Calls f(std::integral_constant<std::size_t, I>{}) for the entry of T that declares member
/// `m`; returns false when no entry does. The one place that maps a member to its entry.
template <class T, class M, class F> constexpr bool visit_entry(M T::*m, F&& f) {
    bool found = false;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<T, I>().member), M T::*>) {
            if (!found && entry<T, I>().member == m) {
                found = true;
                f(i);
            }
        }
    });
    return found;
}

/// Index of the entry of T whose member is `m` (entry_count<T> when none).
template <class T, class M> constexpr std::size_t index_of_member(M T::*m) {
    std::size_t found = entry_count<T>;
    visit_entry(m, [&](auto i) { found = decltype(i)::value; });
    return found;
}

/// True when some entry of Owner declares a member of type Rel.
template <class Owner, class Rel> constexpr bool declared_with_type() {
    bool any = false;
    for_each_index<Owner>([&](auto i) {
        if constexpr (std::is_same_v<decltype(entry<Owner, decltype(i)::value>().member),
                                     Rel Owner::*>)
            any = true;
    });
    return any;
}

template <class T, class E> constexpr bool reverse_names_forward(const E& e) {
    if constexpr (E::kind == entry_kind::reverse) {
        using Target = typename E::target;
        return index_of_member<Target>(e.forward) < entry_count<Target>;
    } else {
        return true;
    }
}

/// A ForeignKey<Target, K> / OneToOne<Target, K> names Target's own key type.
template <class E> constexpr bool key_type_matches() {
    if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one)
        return std::is_same_v<typename E::key_type, key_of<typename E::target>>;
    else
        return true;
}

template <class T> constexpr bool columns_unique() {
    std::array<std::string_view, entry_count<T>> cols{};
    std::size_t n = 0;
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (has_column<E>) cols[n++] = entry<T, decltype(i)::value>().column;
    });
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t b = a + 1; b < n; ++b)
            if (cols[a] == cols[b]) return false;
    return true;
}

template <class T> constexpr bool members_unique() {
    bool ok = true;
    for_each_index<T>([&](auto i) {
        for_each_index<T>([&](auto j) {
            constexpr std::size_t I = decltype(i)::value, J = decltype(j)::value;
            if constexpr (I < J && std::is_same_v<decltype(entry<T, I>().member),
                                                  decltype(entry<T, J>().member)>) {
                if (entry<T, I>().member == entry<T, J>().member) ok = false;
            }
        });
    });
    return ok;
}

/// The index of T's loom::version entry, or entry_count<T> when it has none.
template <class T> constexpr std::size_t version_index() {
    std::size_t found = entry_count<T>;
    for_each_index<T>([&](auto i) {
        if constexpr (version_column<entry_t<T, decltype(i)::value>>)
            if (found == entry_count<T>) found = decltype(i)::value;
    });
    return found;
}
template <class T> constexpr std::size_t version_count() {
    std::size_t n = 0;
    for_each_index<T>([&](auto i) {
        if constexpr (version_column<entry_t<T, decltype(i)::value>>) ++n;
    });
    return n;
}
/// T has a loom::version column.
template <class T> inline constexpr bool versioned = version_index<T>() < entry_count<T>;

/// The descriptor checks, each with its own message. Instantiated on first use of a model.
template <class T> constexpr bool validate() {
    if constexpr (!has_model<T>) {
        static_assert(has_model<T>,
                      "loom: this model has no descriptor. Declare one in the model's namespace: "
                      "constexpr auto loom_model(loom::model_of<T>) { return loom::table(...); }");
        return false;
    } else {
        using D = model_type<T>;
        static_assert(std::is_same_v<typename D::owner, T>,
                      "loom: the members in the descriptor of T belong to another struct than T");
        constexpr bool targets = []<std::size_t... I>(std::index_sequence<I...>) {
            return (target_has_model<entry_t<T, I>>() && ...);
        }
        (std::make_index_sequence<entry_count<T>>{});
        static_assert(targets,
                      "loom: a relation in this descriptor points at a model that has no "
                      "descriptor; declare loom_model(loom::model_of<Target>) as well");
        if constexpr (targets) {
            constexpr bool reverses = []<std::size_t... I>(std::index_sequence<I...>) {
                return (reverse_names_forward<T>(entry<T, I>()) && ...);
            }
            (std::make_index_sequence<entry_count<T>>{});
            static_assert(reverses,
                          "loom::reverse: the forward member it names is not declared in the "
                          "other model's descriptor (add loom::foreign_key, loom::one_to_one or "
                          "loom::many_to_many for it there)");
        }
        if constexpr (targets) {
            constexpr bool keys = []<std::size_t... I>(std::index_sequence<I...>) {
                return (key_type_matches<entry_t<T, I>>() && ...);
            }
            (std::make_index_sequence<entry_count<T>>{});
            static_assert(keys,
                          "loom::foreign_key / loom::one_to_one: the key type K of a "
                          "ForeignKey<Target, K> or OneToOne<Target, K> must be the type of "
                          "Target's primary key (for a std::string key: "
                          "loom::ForeignKey<Target, std::string>)");
        }
        static_assert(columns_unique<T>(),
                      "loom: two entries in this descriptor use the same column name");
        static_assert(members_unique<T>(), "loom: a member is declared twice in this descriptor");
        static_assert(version_count<T>() <= 1,
                      "loom::version: a model has at most one version column");
        return true;
    }
}

template <class T> inline constexpr bool validated = validate<T>();

/// Run-time facts about a model, built once from its descriptor.
struct ModelMeta {
    std::string name;                  // "Book"
    std::string table;                 // quoted table name
    std::string raw_table;             // unquoted
    std::string pk;                    // quoted pk column
    std::vector<std::string> columns;  // quoted, in select order (pk first)
    std::string insert_sql;            // without the pk
    std::string insert_with_pk_sql;    // with the pk
    std::string insert_returning_sql;  // without the pk, RETURNING it
    std::string update_sql;            // SET every column but the pk, WHERE pk = ?
    std::string delete_sql;
    std::size_t column_count() const { return columns.size(); }

    /// `alias."c1", alias."c2", ...`
    std::string select_list(std::string_view alias) const;
};

/// The ModelMeta of a model of that name and table with those columns (pk first).
LOOM_DECL ModelMeta make_model_meta(std::string_view name, std::string_view table,
                                    std::span<const std::string_view> columns);

/// The columns of model T, in select order (pk first).
template <class T> constexpr auto column_names() {
    constexpr std::size_t n = [] {
        std::size_t count = 0;
        for_each_index<T>([&](auto i) { count += has_column<entry_t<T, decltype(i)::value>>; });
        return count;
    }();
    std::array<std::string_view, n> out{};
    std::size_t k = 0;
    for_each_index<T>([&](auto i) {
        if constexpr (has_column<entry_t<T, decltype(i)::value>>)
            out[k++] = entry<T, decltype(i)::value>().column;
    });
    return out;
}
template <class T> inline constexpr auto column_names_v = column_names<T>();

template <class T> const ModelMeta& meta() {
    static_assert(validated<T>);
    static const ModelMeta m = make_model_meta(type_name<T>(), model<T>.name, column_names_v<T>);
    return m;
}

template <class T, std::size_t I> constexpr std::string_view member_name_of() {
    return member_name<entry<T, I>().member>();
}

}  // namespace detail
}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/descriptor.hpp"
#endif
