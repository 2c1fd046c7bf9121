// loom/lookup.hpp - prefetch paths in Django's spelling, checked at compile time against the
// descriptors: loom::lookup<Book, "authors__books__publisher">() is the same Path as
// loom::path(&Book::authors, &Author::books, &Book::publisher). A name that is not a relation
// of the model reached so far does not compile.
#pragma once

#include <cstddef>
#include <string_view>

#include "detail/std_light.hpp"
#include "prefetch.hpp"

namespace loom {

/// A string usable as a template argument: lookup<Book, "authors__books">.
template <std::size_t N> struct fixed_string {
    char chars[N]{};
    constexpr fixed_string(const char (&s)[N]) { std::copy_n(s, N, chars); }
    constexpr std::string_view view() const { return {chars, N - 1}; }
};

namespace detail {

/// The index of the relation entry of T named `name` (entry_count<T> when none).
template <class T> constexpr std::size_t relation_named(std::string_view name) {
    std::size_t found = entry_count<T>;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (is_relation_entry<entry_t<T, I>>) {
            if (found == entry_count<T> && member_name_of<T, I>() == name) found = I;
        }
    });
    return found;
}

constexpr std::string_view lookup_head(std::string_view s) {
    return s.substr(0, s.find("__"));
}
constexpr std::string_view lookup_tail(std::string_view s) {
    const auto p = s.find("__");
    return p == std::string_view::npos ? std::string_view{} : s.substr(p + 2);
}

template <class T, fixed_string S, std::size_t Skip> auto lookup_chain() {
    constexpr std::string_view rest = S.view().substr(Skip);
    constexpr std::string_view head = lookup_head(rest);
    constexpr std::size_t I = relation_named<T>(head);
    static_assert(I < entry_count<T>,
                  "loom::lookup: a step of the path names no relation of the model reached so far "
                  "(steps are relation member names joined by \"__\", as in Django)");
    if constexpr (I < entry_count<T>) {
        auto node = make_node(entry<T, I>().member);
        if constexpr (!lookup_tail(rest).empty()) {
            using Target = typename entry_t<T, I>::target;
            auto child = lookup_chain<Target, S, Skip + head.size() + 2>();
            node->children.push_back(as_shared_node(std::move(child)));
        }
        return node;
    } else {
        return std::unique_ptr<PrefetchNodeBase>();
    }
}

}  // namespace detail

/// The prefetch path spelled as in Django: lookup<Book, "authors__books">().
template <class T, fixed_string S> Path<T> lookup() {
    static_assert(!S.view().empty(), "loom::lookup: the path is empty");
    auto node = detail::lookup_chain<T, S, 0>();
    return detail::access::make<Path<T>>(detail::as_shared_node(std::move(node)));
}

}  // namespace loom
