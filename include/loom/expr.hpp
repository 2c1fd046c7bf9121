// loom/expr.hpp - typed column expressions for filters, ordering and updates.
//
//     loom::col(&Book::year) >= 2000
//     loom::col(&Book::publisher, &Publisher::name) == "Penguin"     // across a ForeignKey
//     loom::col(&Author::name).starts_with("Le") && !loom::col(&Author::born).is_null()
//     loom::desc(&Book::year)
//     loom::set(&Book::year, 2001)
//
// A column compared with a value of the wrong kind (a string against an integer column) does
// not compile. Every value becomes a bound parameter.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "detail/std_light.hpp"
#include "detail/column.hpp"
#include "detail/meta/descriptor.hpp"
#include "detail/sql/tokens.hpp"

namespace loom {
namespace detail {

template <class M> struct member_value { using type = M; };
template <class T> struct member_value<ForeignKey<T>> { using type = std::optional<std::int64_t>; };
template <class T> struct member_value<OneToOne<T>> { using type = std::optional<std::int64_t>; };

template <class M> struct is_to_many_member : std::false_type {};
template <class T> struct is_to_many_member<ManyToMany<T>> : std::true_type {};
template <class T> struct is_to_many_member<Reverse<T>> : std::true_type {};
template <class T> struct is_to_many_member<ReverseOne<T>> : std::true_type {};

template <class Owner, class M>
ColumnRef column_of(M Owner::*m) {
    static_assert(!is_to_many_member<M>::value,
                  "loom::col: a ManyToMany, Reverse or ReverseOne member has no column; filter on "
                  "the other model, or prefetch it");
    std::string column;
    visit_entry(m, [&](auto i) {
        if constexpr (has_column<entry_t<Owner, decltype(i)::value>>)
            column = quote(entry<Owner, decltype(i)::value>().column);
    });
    if (column.empty())
        throw UsageError("loom::col: this member of " + meta<Owner>().name +
                         " is not declared in its descriptor");
    return {{}, std::move(column)};
}

template <class T, class Owner, class M>
JoinStep join_step(M Owner::*m) {
    return {column_of(m).column, meta<T>().table, meta<T>().pk};
}

}  // namespace detail

template <class Root> class Expr;

/// A boolean condition over model Root, built from columns.
template <class Root>
class Expr {
public:
    friend Expr operator&&(const Expr& a, const Expr& b) { return combine(a, " AND ", b); }
    friend Expr operator||(const Expr& a, const Expr& b) { return combine(a, " OR ", b); }
    friend Expr operator!(const Expr& a) {
        Expr r;
        // Two-valued, as Django's exclude(): a row whose condition is NULL (a NULL column)
        // does not match `a`, so it matches `!a`.
        detail::append(r.tokens_, "NOT COALESCE((");
        detail::append(r.tokens_, a.tokens_);
        detail::append(r.tokens_, "), 0)");
        return r;
    }

private:
    friend struct detail::access;
    template <class, class> friend class Column;
    static Expr combine(const Expr& a, const char* op, const Expr& b) {
        Expr r;
        detail::append(r.tokens_, "(");
        detail::append(r.tokens_, a.tokens_);
        detail::append(r.tokens_, std::string(")") + op + "(");
        detail::append(r.tokens_, b.tokens_);
        detail::append(r.tokens_, ")");
        return r;
    }
    detail::Tokens tokens_;
};

template <class Root, class V> class Column;
namespace detail {
template <class T> inline constexpr bool is_column_v = false;
template <class R, class V> inline constexpr bool is_column_v<Column<R, V>> = true;
}  // namespace detail

/// A typed column of model Root holding values of type V (possibly reached through forward
/// relations). Made by loom::col.
template <class Root, class V>
class Column {
public:
    using root_type = Root;
    using value_type = V;


    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator==(const Column& c, const U& v) { return c.cmp(" = ", v); }
    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator!=(const Column& c, const U& v) { return c.cmp(" <> ", v); }
    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator<(const Column& c, const U& v) { return c.cmp(" < ", v); }
    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator<=(const Column& c, const U& v) { return c.cmp(" <= ", v); }
    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator>(const Column& c, const U& v) { return c.cmp(" > ", v); }
    template <class U> requires(!detail::is_column_v<U>) friend Expr<Root> operator>=(const Column& c, const U& v) { return c.cmp(" >= ", v); }

    /// Column-to-column comparisons (same model, compatible types).
    template <class W> requires detail::value_for<typename detail::value_category<W>::type, V>
    friend Expr<Root> operator==(const Column& a, const Column<Root, W>& b) { return a.cmp_col(" = ", b); }
    template <class W> requires detail::value_for<typename detail::value_category<W>::type, V>
    friend Expr<Root> operator<(const Column& a, const Column<Root, W>& b) { return a.cmp_col(" < ", b); }
    template <class W> requires detail::value_for<typename detail::value_category<W>::type, V>
    friend Expr<Root> operator>(const Column& a, const Column<Root, W>& b) { return a.cmp_col(" > ", b); }

    /// IN (values...). An empty range matches nothing (and runs valid SQL).
    template <std::ranges::input_range R>
        requires detail::value_for<std::ranges::range_value_t<R>, V>
    Expr<Root> in(const R& values) const { return in_impl(values, false); }
    template <detail::value_for<V> U>
    Expr<Root> in(std::initializer_list<U> values) const { return in_impl(values, false); }
    /// NOT IN (values...). An empty range matches everything.
    template <std::ranges::input_range R>
        requires detail::value_for<std::ranges::range_value_t<R>, V>
    Expr<Root> not_in(const R& values) const { return in_impl(values, true); }
    template <detail::value_for<V> U>
    Expr<Root> not_in(std::initializer_list<U> values) const { return in_impl(values, true); }

    Expr<Root> is_null() const { return unary(" IS NULL"); }
    Expr<Root> is_not_null() const { return unary(" IS NOT NULL"); }

    /// lo <= column <= hi.
    template <detail::value_for<V> U, detail::value_for<V> W>
    Expr<Root> between(const U& lo, const W& hi) const {
        Expr<Root> e;
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, " BETWEEN ");
        detail::append(e.tokens_, detail::to_value<V>(lo));
        detail::append(e.tokens_, " AND ");
        detail::append(e.tokens_, detail::to_value<V>(hi));
        return e;
    }

    /// SQL LIKE with `%` and `_` wildcards and `\` as escape; ASCII case-insensitive (SQLite).
    Expr<Root> like(std::string_view pattern) const
        requires std::is_same_v<typename detail::value_category<V>::type, std::string>
    {
        if (pattern.find('\0') != std::string_view::npos)
            throw UsageError("like(): the pattern contains a NUL byte, where SQLite's LIKE stops "
                             "reading it; use contains(), starts_with(), ends_with() or == to "
                             "match bytes exactly");
        Expr<Root> e;
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, " LIKE ");
        detail::append(e.tokens_, Value{std::string(pattern)});
        detail::append(e.tokens_, " ESCAPE '\\'");
        return e;
    }
    /// Case-sensitive, byte-exact substring test (no wildcards: `%` and `_` are plain bytes).
    Expr<Root> contains(std::string_view needle) const
        requires std::is_same_v<typename detail::value_category<V>::type, std::string>
    {
        Expr<Root> e;
        detail::append(e.tokens_, "instr(CAST(");
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, " AS BLOB), CAST(");
        detail::append(e.tokens_, Value{std::string(needle)});
        detail::append(e.tokens_, " AS BLOB)) > 0");
        return e;
    }
    /// Case-sensitive, byte-exact prefix test.
    Expr<Root> starts_with(std::string_view prefix) const
        requires std::is_same_v<typename detail::value_category<V>::type, std::string>
    {
        return affix(prefix, "1");
    }
    /// Case-sensitive, byte-exact suffix test.
    Expr<Root> ends_with(std::string_view suffix) const
        requires std::is_same_v<typename detail::value_category<V>::type, std::string>
    {
        return affix(suffix, "-" + std::to_string(suffix.size()));
    }

private:
    template <class U>
    Expr<Root> cmp(const char* op, const U& v) const {
        Expr<Root> e;
        if constexpr (!detail::value_for<U, V>) {
            static_assert(detail::value_for<U, V>,
                          "loom::col: the value's type does not match the column's type (an "
                          "integer column takes integers, a text column strings, a bool column "
                          "bool, an enum column its enum); convert the value explicitly");
        } else {
            detail::append(e.tokens_, spec_);
            detail::append(e.tokens_, op);
            detail::append(e.tokens_, detail::to_value<V>(v));
        }
        return e;
    }
    template <class W>
    Expr<Root> cmp_col(const char* op, const Column<Root, W>& b) const {
        Expr<Root> e;
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, op);
        detail::append(e.tokens_, b.spec_);
        return e;
    }
    Expr<Root> unary(const char* op) const {
        Expr<Root> e;
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, op);
        return e;
    }
    template <class R>
    Expr<Root> in_impl(const R& values, bool negate) const {
        std::vector<Value> list;
        for (const auto& v : values) list.push_back(detail::to_value<V>(v));
        Expr<Root> e;
        if (list.empty()) {
            detail::append(e.tokens_, negate ? "1" : "0");
            return e;
        }
        detail::append(e.tokens_, spec_);
        if (std::all_of(list.begin(), list.end(),
                        [](const Value& v) { return std::holds_alternative<std::int64_t>(v); })) {
            // Integers: a key list, bound as one array parameter when long (see
            // Options::json_keys_above), so no list is too long for the variable limit.
            std::vector<std::int64_t> ints;
            ints.reserve(list.size());
            for (const Value& v : list) ints.push_back(std::get<std::int64_t>(v));
            detail::append(e.tokens_, negate ? " NOT IN " : " IN ");
            detail::append(e.tokens_, std::move(ints));
            return e;
        }
        detail::append(e.tokens_, negate ? " NOT IN (" : " IN (");
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (i) detail::append(e.tokens_, ", ");
            detail::append(e.tokens_, std::move(list[i]));
        }
        detail::append(e.tokens_, ")");
        return e;
    }
    Expr<Root> affix(std::string_view s, const std::string& start) const {
        Expr<Root> e;
        if (s.empty()) {
            detail::append(e.tokens_, spec_);
            detail::append(e.tokens_, " IS NOT NULL");
            return e;
        }
        detail::append(e.tokens_, "substr(CAST(");
        detail::append(e.tokens_, spec_);
        detail::append(e.tokens_, " AS BLOB), " + start + ", " + std::to_string(s.size()) +
                                     ") = CAST(");
        detail::append(e.tokens_, Value{std::string(s)});
        detail::append(e.tokens_, " AS BLOB)");
        return e;
    }

    friend struct detail::access;
    template <class, class> friend class Column;
    template <class O, class M> friend auto col(M O::*);
    template <class O, class Fk, class... Rest> friend auto col(Fk O::*, Rest...);
    explicit Column(detail::ColumnRef ref) : spec_(std::move(ref)) {}

    detail::ColumnRef spec_;
};

/// The column of a member: `col(&Book::year)`, or through forward relations:
/// `col(&Book::publisher, &Publisher::name)`. A ForeignKey member is its key column.
template <class Owner, class M>
auto col(M Owner::*m) {
    return Column<Owner, typename detail::member_value<M>::type>(detail::column_of(m));
}

template <class Owner, class Fk, class... Rest>
auto col(Fk Owner::*first, Rest... rest) {
    using Next = typename detail::forward_target<Fk>::type;
    auto inner = col(rest...);
    using Inner = decltype(inner);
    static_assert(std::is_same_v<typename Inner::root_type, Next>,
                  "loom::col: each step must start at the model the previous ForeignKey or "
                  "OneToOne points to");
    detail::ColumnRef ref = inner.spec_;
    ref.path.insert(ref.path.begin(), detail::join_step<Next>(first));
    return Column<Owner, typename Inner::value_type>(std::move(ref));
}

/// One ORDER BY term: loom::asc(...) or loom::desc(...).
template <class Root>
class OrderTerm {
private:
    friend struct detail::access;
    explicit OrderTerm(detail::OrderSpec spec) : spec_(std::move(spec)) {}
    detail::OrderSpec spec_;
};

template <class Owner, class M>
OrderTerm<Owner> asc(M Owner::*m) {
    return detail::access::make<OrderTerm<Owner>>(detail::OrderSpec{detail::column_of(m), false});
}
template <class Owner, class M>
OrderTerm<Owner> desc(M Owner::*m) {
    return detail::access::make<OrderTerm<Owner>>(detail::OrderSpec{detail::column_of(m), true});
}
template <class Root, class V>
OrderTerm<Root> asc(const Column<Root, V>& c) {
    return detail::access::make<OrderTerm<Root>>(detail::OrderSpec{detail::access::spec(c), false});
}
template <class Root, class V>
OrderTerm<Root> desc(const Column<Root, V>& c) {
    return detail::access::make<OrderTerm<Root>>(detail::OrderSpec{detail::access::spec(c), true});
}

/// One `column = value` of QuerySet::update.
template <class Root>
struct Assignment {
    std::string column;  // quoted
    Value value;
};

template <class Owner, class M, class U>
    requires detail::value_for<U, typename detail::member_value<M>::type> ||
             std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t>
Assignment<Owner> set(M Owner::*m, const U& v) {
    using V = typename detail::member_value<M>::type;
    if constexpr (std::is_same_v<std::remove_cvref_t<U>, std::nullopt_t>) {
        static_assert(detail::is_optional<V>::value,
                      "loom::set: only a std::optional member or a ForeignKey can be set to NULL");
        return {detail::column_of(m).column, Value{nullptr}};
    } else {
        return {detail::column_of(m).column, detail::to_value<V>(v)};
    }
}

}  // namespace loom
