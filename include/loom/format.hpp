// loom/format.hpp - fmt::formatter for loom models: fmt::print("{}", book) / fmt::format("{}",
// book) writes the model's fields, in descriptor order, and a summary of its relations:
//
//     Book{id=1, title="Dune", year=1965, publisher=#3 (loaded), authors=[2 loaded], reviews=[not
//     loaded]}
//
//   - a field is `name=value`, the name that of the member: strings quoted, with escapes (fmt's
//     `{:?}`), an empty optional `null`, a blob `<blob N bytes>`, an enum its integer, a bool
//     true/false, a real as fmt writes it;
//   - a ForeignKey / OneToOne is `#<key> (loaded)`, `#<key> (not loaded)` or `null`;
//   - a ManyToMany / Reverse is `[N loaded]` or `[not loaded]`, a ReverseOne `[1 loaded]`,
//     `[0 loaded]` (loaded: there is none) or `[not loaded]`.
// Formatting never runs a query and never throws NotLoaded. Only members named in the model's
// descriptor are written. The format spec must be empty: `{}`. Opt-in: <loom/loom.hpp> does
// not include it (nor {fmt}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include <fmt/core.h>

#include "detail/format_util.hpp"
#include "detail/meta/descriptor.hpp"
#include "detail/type_name.hpp"
#include "relations.hpp"
#include "types.hpp"

namespace loom::detail {

template <class Out, class V> Out format_member_value(Out out, const V& v) {
    if constexpr (is_optional<V>::value) {
        if (!v) return ::loom::detail::format_into(out, "null");
        return format_member_value(out, *v);
    } else if constexpr (std::is_same_v<V, bool>) {
        return ::loom::detail::format_into(out, "{}", v);
    } else if constexpr (std::is_enum_v<V>) {
        return format_member_value(out, static_cast<std::underlying_type_t<V>>(v));
    } else if constexpr (std::is_integral_v<V>) {
        // Promoted, so that char, signed char and unsigned char print as numbers.
        if constexpr (std::is_signed_v<V>)
            return ::loom::detail::format_into(out, "{}", static_cast<long long>(v));
        else
            return ::loom::detail::format_into(out, "{}", static_cast<unsigned long long>(v));
    } else if constexpr (std::is_floating_point_v<V>) {
        return ::loom::detail::format_into(out, "{}", v);
    } else if constexpr (std::is_same_v<V, Blob>) {
        return ::loom::detail::format_into(out, "<blob {} bytes>", v.size());
    } else {
        static_assert(std::is_convertible_v<const V&, std::string_view>,
                      "loom::format: a field type without a format rule");
        return ::loom::detail::format_into(out, "{:?}", std::string_view(v));
    }
}

template <class Out, class T, class K> Out format_relation(Out out, const ForeignKey<T, K>& r) {
    if (r.is_null()) return ::loom::detail::format_into(out, "null");
    return ::loom::detail::format_into(out, "#{} ({})", *r.id(),
                                       r.loaded() ? "loaded" : "not loaded");
}

template <class Out, class T> Out format_relation(Out out, const RelatedList<T>& r) {
    if (!r.loaded()) return ::loom::detail::format_into(out, "[not loaded]");
    return ::loom::detail::format_into(out, "[{} loaded]", r.size());
}

template <class Out, class T> Out format_relation(Out out, const ReverseOne<T>& r) {
    if (!r.loaded()) return ::loom::detail::format_into(out, "[not loaded]");
    return ::loom::detail::format_into(out, "[{} loaded]", r.get() ? 1 : 0);
}

/// Writes `Type{name=value, ...}` for a model object (see the top of loom/format.hpp).
template <class T, class Out> Out format_model(Out out, const T& obj) {
    out = ::loom::detail::format_into(out, "{}{{", type_name<T>());
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& member = obj.*(entry<T, I>().member);
        out = ::loom::detail::format_into(out, "{}{}=", I == 0 ? "" : ", ", member_name_of<T, I>());
        if constexpr (E::kind == entry_kind::pk || E::kind == entry_kind::field)
            out = format_member_value(out, member);
        else
            out = format_relation(out, member);
    });
    return ::loom::detail::format_into(out, "}}");
}

}  // namespace loom::detail

/// fmt::format("{}", obj) for every type with a loom::model descriptor.
template <class T>
requires loom::detail::has_model<T>
struct fmt::formatter<T, char> {
    constexpr auto parse(fmt::format_parse_context& ctx) -> decltype(ctx.begin()) {
        auto it = ctx.begin();
        if (it != ctx.end() && *it != '}') {
#if FMT_VERSION >= 110000
            fmt::report_error("loom models take no format spec: use {}");
#else
            ctx.on_error("loom models take no format spec: use {}");
#endif
        }
        return it;
    }

    template <class FormatContext>
    auto format(const T& obj, FormatContext& ctx) const -> decltype(ctx.out()) {
        return loom::detail::format_model(ctx.out(), obj);
    }
};
