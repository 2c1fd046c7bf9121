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
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ranges>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "model.hpp"
#include "value.hpp"

namespace loom {
namespace detail {

/// One forward hop (a ForeignKey or OneToOne) from one table to another.
struct JoinStep {
    std::string fk_column;  // quoted, on the table we come from
    std::string table;      // quoted target table
    std::string pk;         // quoted target primary key
};

struct ColumnRef {
    std::vector<JoinStep> path;  // empty: a column of the queried model
    std::string column;          // quoted
};

struct Token {
    enum Kind { text, column, param } kind;
    std::string sql;  // text
    ColumnRef col;    // column
    Value value;      // param
};

using Tokens = std::vector<Token>;

inline void append(Tokens& t, std::string s) { t.push_back({Token::text, std::move(s), {}, {}}); }
inline void append(Tokens& t, const char* s) { append(t, std::string(s)); }
inline void append(Tokens& t, const ColumnRef& c) { t.push_back({Token::column, {}, c, {}}); }
inline void append(Tokens& t, Value v) { t.push_back({Token::param, {}, {}, std::move(v)}); }
inline void append(Tokens& t, const Tokens& more) { t.insert(t.end(), more.begin(), more.end()); }

/// An in()/not_in() list of more integers than this is bound as one JSON array,
/// `IN (SELECT value FROM json_each(?))`: one parameter, whatever the connection's variable
/// limit, and one statement shape for every long list.
inline constexpr std::size_t json_list_above = 512;

/// `[1,2,3]`: keys as a JSON array, for `IN (SELECT value FROM json_each(?))`.
inline std::string json_array(std::span<const std::int64_t> keys) {
    std::string out;
    out.reserve(keys.size() * 8 + 2);
    out += '[';
    char buf[24];
    for (std::size_t i = 0; i < keys.size(); ++i) {
        if (i) out += ',';
        const auto r = std::to_chars(buf, buf + sizeof buf, keys[i]);
        out.append(buf, r.ptr);
    }
    out += ']';
    return out;
}

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
    const std::size_t i = index_of_member<Owner>(m);
    if (i == entry_count<Owner>)
        throw UsageError("loom::col: this member of " + meta<Owner>().name +
                         " is not declared in its descriptor");
    std::string column;
    for_each_index<Owner>([&](auto idx) {
        constexpr std::size_t I = decltype(idx)::value;
        using E = entry_t<Owner, I>;
        if constexpr (has_column<E>)
            if (I == i) column = quote(entry<Owner, I>().column);
    });
    return {{}, std::move(column)};
}

template <class T, class Owner, class M>
JoinStep join_step(M Owner::*m) {
    return {column_of(m).column, meta<T>().table, meta<T>().pk};
}

template <class M> struct forward_target {};
template <class T> struct forward_target<ForeignKey<T>> { using type = T; };
template <class T> struct forward_target<OneToOne<T>> { using type = T; };

}  // namespace detail

template <class Root> struct Expr;

/// A boolean condition over model Root, built from columns.
template <class Root>
struct Expr {
    detail::Tokens tokens;

    friend Expr operator&&(const Expr& a, const Expr& b) { return combine(a, " AND ", b); }
    friend Expr operator||(const Expr& a, const Expr& b) { return combine(a, " OR ", b); }
    friend Expr operator!(const Expr& a) {
        Expr r;
        // Two-valued, as Django's exclude(): a row whose condition is NULL (a NULL column)
        // does not match `a`, so it matches `!a`.
        detail::append(r.tokens, "NOT COALESCE((");
        detail::append(r.tokens, a.tokens);
        detail::append(r.tokens, "), 0)");
        return r;
    }

private:
    static Expr combine(const Expr& a, const char* op, const Expr& b) {
        Expr r;
        detail::append(r.tokens, "(");
        detail::append(r.tokens, a.tokens);
        detail::append(r.tokens, std::string(")") + op + "(");
        detail::append(r.tokens, b.tokens);
        detail::append(r.tokens, ")");
        return r;
    }
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

    explicit Column(detail::ColumnRef ref) : ref_(std::move(ref)) {}
    const detail::ColumnRef& ref() const noexcept { return ref_; }

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
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, " BETWEEN ");
        detail::append(e.tokens, detail::to_value<V>(lo));
        detail::append(e.tokens, " AND ");
        detail::append(e.tokens, detail::to_value<V>(hi));
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
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, " LIKE ");
        detail::append(e.tokens, Value{std::string(pattern)});
        detail::append(e.tokens, " ESCAPE '\\'");
        return e;
    }
    /// Case-sensitive, byte-exact substring test (no wildcards: `%` and `_` are plain bytes).
    Expr<Root> contains(std::string_view needle) const
        requires std::is_same_v<typename detail::value_category<V>::type, std::string>
    {
        Expr<Root> e;
        detail::append(e.tokens, "instr(CAST(");
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, " AS BLOB), CAST(");
        detail::append(e.tokens, Value{std::string(needle)});
        detail::append(e.tokens, " AS BLOB)) > 0");
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
            detail::append(e.tokens, ref_);
            detail::append(e.tokens, op);
            detail::append(e.tokens, detail::to_value<V>(v));
        }
        return e;
    }
    template <class W>
    Expr<Root> cmp_col(const char* op, const Column<Root, W>& b) const {
        Expr<Root> e;
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, op);
        detail::append(e.tokens, b.ref());
        return e;
    }
    Expr<Root> unary(const char* op) const {
        Expr<Root> e;
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, op);
        return e;
    }
    template <class R>
    Expr<Root> in_impl(const R& values, bool negate) const {
        std::vector<Value> list;
        for (const auto& v : values) list.push_back(detail::to_value<V>(v));
        Expr<Root> e;
        if (list.empty()) {
            detail::append(e.tokens, negate ? "1" : "0");
            return e;
        }
        detail::append(e.tokens, ref_);
        const auto is_int = [](const Value& v) { return std::holds_alternative<std::int64_t>(v); };
        if (list.size() > detail::json_list_above && std::ranges::all_of(list, is_int)) {
            std::vector<std::int64_t> ints;
            ints.reserve(list.size());
            for (const Value& v : list) ints.push_back(std::get<std::int64_t>(v));
            detail::append(e.tokens, negate ? " NOT IN (SELECT value FROM json_each("
                                            : " IN (SELECT value FROM json_each(");
            detail::append(e.tokens, Value{detail::json_array(ints)});
            detail::append(e.tokens, "))");
            return e;
        }
        detail::append(e.tokens, negate ? " NOT IN (" : " IN (");
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (i) detail::append(e.tokens, ", ");
            detail::append(e.tokens, std::move(list[i]));
        }
        detail::append(e.tokens, ")");
        return e;
    }
    Expr<Root> affix(std::string_view s, const std::string& start) const {
        Expr<Root> e;
        if (s.empty()) {
            detail::append(e.tokens, ref_);
            detail::append(e.tokens, " IS NOT NULL");
            return e;
        }
        detail::append(e.tokens, "substr(CAST(");
        detail::append(e.tokens, ref_);
        detail::append(e.tokens, " AS BLOB), " + start + ", " + std::to_string(s.size()) +
                                     ") = CAST(");
        detail::append(e.tokens, Value{std::string(s)});
        detail::append(e.tokens, " AS BLOB)");
        return e;
    }

    detail::ColumnRef ref_;
};

/// The column of a member: `col(&Book::year)`, or through forward relations:
/// `col(&Book::publisher, &Publisher::name)`. A ForeignKey member is its key column.
template <class Owner, class M>
Column<Owner, typename detail::member_value<M>::type> col(M Owner::*m) {
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
    detail::ColumnRef ref = inner.ref();
    ref.path.insert(ref.path.begin(), detail::join_step<Next>(first));
    return Column<Owner, typename Inner::value_type>(std::move(ref));
}

/// One ORDER BY term.
template <class Root>
struct OrderTerm {
    detail::ColumnRef col;
    bool descending = false;
};

template <class Owner, class M>
OrderTerm<Owner> asc(M Owner::*m) { return {col(m).ref(), false}; }
template <class Owner, class M>
OrderTerm<Owner> desc(M Owner::*m) { return {col(m).ref(), true}; }
template <class Root, class V>
OrderTerm<Root> asc(const Column<Root, V>& c) { return {c.ref(), false}; }
template <class Root, class V>
OrderTerm<Root> desc(const Column<Root, V>& c) { return {c.ref(), true}; }

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
