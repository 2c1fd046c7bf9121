// Compile-time names of types and data members, for error messages. Parsed out of
// __PRETTY_FUNCTION__ (GCC and Clang spell it "[with T = ns::Book; ...]" / "[T = ns::Book]").
#pragma once

#include <string_view>

namespace loom::detail {

constexpr std::string_view pretty_arg(std::string_view pretty, std::string_view key) {
    auto pos = pretty.find(key);
    if (pos == std::string_view::npos) return pretty;
    pretty.remove_prefix(pos + key.size());
    auto end = pretty.find_first_of(";]");
    return pretty.substr(0, end);
}

template <class T> constexpr std::string_view raw_type_name() {
    return pretty_arg(__PRETTY_FUNCTION__, "T = ");
}

/// "Book" for `ns::Book`: the name without its namespaces (templates keep their arguments).
template <class T> constexpr std::string_view type_name() {
    std::string_view full = raw_type_name<T>();
    auto lt = full.find('<');
    auto head = full.substr(0, lt);
    auto colon = head.rfind("::");
    return colon == std::string_view::npos ? full : full.substr(colon + 2);
}

template <auto M> constexpr std::string_view raw_member_name() {
    return pretty_arg(__PRETTY_FUNCTION__, "M = ");
}

/// "authors" for `&ns::Book::authors`.
template <auto M> constexpr std::string_view member_name() {
    std::string_view full = raw_member_name<M>();
    auto colon = full.rfind("::");
    return colon == std::string_view::npos ? full : full.substr(colon + 2);
}

}  // namespace loom::detail
