// Schema options of fields that act on writes (issue 17): loom::default_value for a member never
// set (an empty std::optional), and auto_now_add / auto_now timestamps. Called by the write
// paths of Database before they bind an object; also the SQL literal of a DEFAULT for the DDL.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include "../std_light.hpp"

#include "../column.hpp"
#include "../config.hpp"
#include "descriptor.hpp"

namespace loom::detail {

/// The DEFAULT of a column as an SQL literal (schema text from the descriptor: a text literal
/// is quoted with its quotes doubled). Empty when there is none.
LOOM_DECL std::string sql_literal(const default_literal& d);

/// The value of default `d` as a member of type X (its storage type's value for an adapted X).
template <class X> X from_literal(const default_literal& d) {
    if constexpr (adapted<X>) {
        using S = typename ::loom::column_type<X>::storage;
        return ::loom::column_type<X>::from_storage(from_literal<S>(d));
    } else if constexpr (std::is_same_v<X, std::string>) {
        return std::string(d.text);
    } else if constexpr (std::is_arithmetic_v<X> || std::is_enum_v<X>) {
        if (d.kind == default_literal::kind_t::real) return static_cast<X>(d.real);
        if constexpr (std::is_enum_v<X>)
            return static_cast<X>(static_cast<std::underlying_type_t<X>>(d.integer));
        else
            return static_cast<X>(d.integer);
    } else {
        return X{};
    }
}

template <class T> constexpr bool has_auto_now() {
    bool any = false;
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::field)
            if (entry<T, decltype(i)::value>().auto_time_kind == auto_time::on_write) any = true;
    });
    return any;
}

/// Sets a time member to `now` (one instant for every auto_now member of one write).
template <class V> void set_now(V& member, std::chrono::system_clock::time_point now) {
    using B = typename strip_opt<V>::type;
    if constexpr (requires { typename B::clock; }) {
        member = std::chrono::floor<typename B::duration>(now);
    }
}

/// Before an insert: empty std::optional members with a default get it (so the row holds the
/// column's DEFAULT, not NULL, and the object says what the row holds), and auto_now /
/// auto_now_add members get the current time.
template <class T> void prepare_insert(T& obj) {
    // Read the clock only for a model with a time member (not on every insert), once per write.
    std::optional<std::chrono::system_clock::time_point> now;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (E::kind == entry_kind::field) {
            const auto& e = entry<T, I>();
            using V = typename E::value_type;
            auto& m = obj.*(e.member);
            if (e.auto_time_kind != auto_time::none) {
                if (!now) now = std::chrono::system_clock::now();
                set_now(m, *now);
            } else if constexpr (is_optional<V>::value) {
                if (!m && e.default_value.kind != default_literal::kind_t::none)
                    m = from_literal<typename V::value_type>(e.default_value);
            }
        }
    });
}

/// Before an update: auto_now members get the current time.
template <class T> void prepare_update(T& obj) {
    if constexpr (has_auto_now<T>()) {
        const auto now = std::chrono::system_clock::now();
        for_each_index<T>([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using E = entry_t<T, I>;
            if constexpr (E::kind == entry_kind::field) {
                const auto& e = entry<T, I>();
                if (e.auto_time_kind == auto_time::on_write) set_now(obj.*(e.member), now);
            }
        });
    }
}

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/defaults.hpp"
#endif
