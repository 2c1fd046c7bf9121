// loom/expr.hpp - typed column expressions for filters, ordering, updates and aggregates.
//
//     loom::col(&Book::year) >= 2000
//     loom::col(&Book::publisher, &Publisher::name) == "Penguin"     // across a ForeignKey
//     loom::col(&Post::tags, &Tag::name) == "rust"                   // across a to-many: EXISTS
//     loom::col(&Post::likes) > loom::col(&Post::views) / 10         // expressions (Django's F)
//     loom::col(&Author::name).istarts_with("le") && !loom::col(&Author::born).is_null()
//     loom::exists(db.objects<Comment>().filter(loom::col(&Comment::post) ==
//     loom::outer(&Post::id))) loom::desc(loom::count(&Post::likes))                          // a
//     per-row count loom::set(&Post::views, loom::col(&Post::views) + 1)
//     qs.aggregate(loom::count(), loom::avg(&Post::rating))
//
// A column compared with a value of the wrong kind (a string against an integer column), two
// columns of unrelated kinds, or an aggregate of a non-numeric column does not compile. Every
// value becomes a bound parameter; identifiers come only from the descriptors.
#pragma once

#include <concepts>
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

#include "detail/column.hpp"
#include "detail/config.hpp"
#include "detail/meta/descriptor.hpp"
#include "detail/meta/joins.hpp"
#include "detail/sql/condition.hpp"
#include "detail/sql/select.hpp"
#include "detail/std_light.hpp"

namespace loom {

template <class Root> class Expr;
template <class Root, class V> class Column;
template <class Root> class OrderTerm;
template <class Root> class Assignment;

namespace detail {

/// The type a member's column holds as loom::col sees it: the member's own type for a field,
/// ForeignKey<T> for a ForeignKey or OneToOne (a key, compared with keys or with T objects).
template <class M> struct member_value { using type = M; };
template <class T, class K> struct member_value<OneToOne<T, K>> { using type = ForeignKey<T, K>; };

template <class T> struct is_fk : std::false_type {};
template <class T, class K> struct is_fk<ForeignKey<T, K>> : std::true_type {};

/// What a value of a Column<R, V> reads back as (values_list, aggregate, scalar).
template <class V> struct column_result { using type = V; };
template <class T, class K> struct column_result<ForeignKey<T, K>> {
    using type = std::optional<K>;
};

template <class M> struct is_to_many_member : std::false_type {};
template <class T> struct is_to_many_member<ManyToMany<T>> : std::true_type {};
template <class T> struct is_to_many_member<Reverse<T>> : std::true_type {};

template <class M> struct is_reverse_one : std::false_type {};
template <class T> struct is_reverse_one<ReverseOne<T>> : std::true_type {};

template <class V> struct strip_optional { using type = V; };
template <class V> struct strip_optional<std::optional<V>> { using type = V; };
template <class V> using base_t = typename strip_optional<V>::type;

/// V as values compare with it: a key is an integer.
template <class V> struct compare_as { using type = V; };
template <class T, class K> struct compare_as<ForeignKey<T, K>> { using type = K; };
template <class V> using compare_t = typename compare_as<base_t<V>>::type;

template <class V>
inline constexpr bool numeric_v =
    (std::integral<base_t<V>> && !std::same_as<base_t<V>, bool>) || std::floating_point<base_t<V>>;

template <class X> struct pointee;
template <class Owner, class M> struct pointee<M Owner::*> {
    using owner = Owner;
    using type = M;
};

template <class X> inline constexpr bool is_column_v = false;
template <class R, class V> inline constexpr bool is_column_v<Column<R, V>> = true;

template <class X> struct column_parts;
template <class R, class V> struct column_parts<Column<R, V>> {
    using root = R;
    using value = V;
};

template <class R1, class R2>
inline constexpr bool roots_agree =
    std::is_same_v<R1, R2> || std::is_void_v<R1> || std::is_void_v<R2>;
template <class R1, class R2> using common_root = std::conditional_t<std::is_void_v<R1>, R2, R1>;

/// A value of type U can be compared with (or stored in) a column of type V.
template <class V, class U> constexpr bool comparable_value() {
    using W = std::remove_cvref_t<U>;
    if constexpr (std::is_same_v<W, std::nullopt_t>) {
        return true;
    } else if constexpr (is_optional<W>::value) {
        return comparable_value<V, typename W::value_type>();
    } else if constexpr (is_fk<base_t<V>>::value) {
        using T = typename base_t<V>::target_type;
        using K = typename base_t<V>::key_type;
        return accepts_value<K, W>() || std::is_same_v<W, T> ||
               std::is_same_v<W, ForeignKey<T, K>> || std::is_same_v<W, OneToOne<T, K>>;
    } else {
        return accepts_value<V, W>();
    }
}

/// Two columns of types A and B can be compared (or one stored in the other): numbers with
/// numbers, keys with keys to the same model or with integers (primary keys), else one kind.
template <class A, class B> constexpr bool comparable_columns() {
    using X = base_t<A>;
    using Y = base_t<B>;
    if constexpr (is_fk<X>::value && is_fk<Y>::value)
        return std::is_same_v<X, Y>;
    else if constexpr (is_fk<X>::value)
        return accepts_value<typename X::key_type, Y>();
    else if constexpr (is_fk<Y>::value)
        return accepts_value<typename Y::key_type, X>();
    else if constexpr (numeric_v<X> && numeric_v<Y>)
        return true;
    else
        return std::is_same_v<X, Y>;
}

/// The bound value for `v` compared with a V column, or nullopt for NULL (std::nullopt, an
/// empty std::optional, a NULL ForeignKey). An object compared with a key column is its
/// primary key; an object never inserted (key 0) is a UsageError.
template <class V, class U> std::optional<Value> value_or_null(const U& v) {
    using W = std::remove_cvref_t<U>;
    if constexpr (std::is_same_v<W, std::nullopt_t>) {
        return std::nullopt;
    } else if constexpr (is_optional<W>::value) {
        if (!v) return std::nullopt;
        return value_or_null<V>(*v);
    } else if constexpr (is_fk<base_t<V>>::value) {
        using T = typename base_t<V>::target_type;
        using K = typename base_t<V>::key_type;
        if constexpr (std::is_same_v<W, T>) {
            const auto& id = primary_key_of(v);
            if (key_unset(id))
                throw UsageError("loom::col: the " + meta<T>().name +
                                 " compared with a key column was never inserted (its primary key "
                                 "is " +
                                 key_text(id) + "); insert it first");
            return column_traits<K>::value(id);
        } else if constexpr (std::is_same_v<W, ForeignKey<T, K>> ||
                             std::is_same_v<W, OneToOne<T, K>>) {
            if (const auto id = v.id()) return column_traits<K>::value(*id);
            return std::nullopt;
        } else {
            return to_value<K>(v);
        }
    } else {
        return to_value<V>(v);
    }
}

/// The column of member `m` (its key column for a ForeignKey or OneToOne).
/// The expression of column `column` (unquoted; empty: the member is not in the descriptor of
/// `model`, an error) of the queried model.
LOOM_DECL ValueExpr column_expr(std::string_view column, bool nullable, const std::string& model);

template <class Owner, class M> ValueExpr column_of(M Owner::*m) {
    static_assert(!is_to_many_member<M>::value && !is_reverse_one<M>::value,
                  "loom::col: a ManyToMany, Reverse or ReverseOne member has no column; name a "
                  "column of the other model through it (loom::col(&Post::tags, &Tag::name)), "
                  "count it (loom::count(&Post::tags)), or prefetch it");
    std::string_view column;
    bool nullable = is_optional<M>::value;
    visit_entry(m, [&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<Owner, I>;
        if constexpr (has_column<E>) {
            column = entry<Owner, I>().column;
            if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one)
                nullable = entry<Owner, I>().nullable;
        }
    });
    return column_expr(column, nullable, meta<Owner>().name);
}

/// Relation member `m` of Owner as a hop of a column path.
template <class Owner, class M> const JoinStep& hop_of(M Owner::*m) {
    const JoinStep* out = nullptr;
    visit_entry(m, [&](auto i) { out = &relation_hop<Owner, decltype(i)::value>(); });
    if (!out)
        throw UsageError("loom::col: this relation of " + meta<Owner>().name +
                         " is not declared in its descriptor");
    return *out;
}

template <class R, class V> Column<R, V> make_column(ValueExpr e) {
    return access::make<Column<R, V>>(std::move(e));
}
template <class R> Expr<R> make_expr(CondPtr c) {
    return access::make<Expr<R>>(std::move(c));
}

/// `(a op b)`.
LOOM_DECL ValueExpr binary(const ValueExpr& a, const char* op, const ValueExpr& b);
LOOM_DECL ValueExpr bound(Value v);

/// The result type of arithmetic between A and B: integers give a 64-bit integer, anything
/// with a floating-point operand a double, and a std::optional when either may be NULL.
template <class A, class B> struct arith_result {
    using R = std::conditional_t<std::floating_point<base_t<A>> || std::floating_point<base_t<B>>,
                                 double, std::int64_t>;
    using type =
        std::conditional_t<is_optional<A>::value || is_optional<B>::value, std::optional<R>, R>;
};

template <class R, class V, class U>
auto arithmetic(const Column<R, V>& a, const char* op, const U& v);
template <class R1, class V1, class R2, class V2>
auto arithmetic(const Column<R1, V1>& a, const char* op, const Column<R2, V2>& b);
template <class R1, class V1, class R2, class V2>
Expr<common_root<R1, R2>> compare_columns(const char* op, const Column<R1, V1>& a,
                                          const Column<R2, V2>& b, bool negate = false);

}  // namespace detail

/// A boolean condition over model Root, built from columns. Expr<void> (loom::exists of a
/// QuerySet, conditions on loom::outer columns only) fits a condition over any model.
template <class Root> class Expr {
public:
    template <class R>
    requires(std::is_void_v<R> && !std::is_void_v<Root>) Expr(const Expr<R>& e)
        : spec_(detail::access::spec(e)) {}

    friend Expr operator&&(const Expr& a, const Expr& b) {
        return Expr(detail::make_join(detail::Cond::all, a.spec_, b.spec_));
    }
    friend Expr operator||(const Expr& a, const Expr& b) {
        return Expr(detail::make_join(detail::Cond::any, a.spec_, b.spec_));
    }
    /// Two-valued, as Django's exclude(): a row whose condition is NULL (a NULL column) does
    /// not match `a`, so it matches `!a`.
    friend Expr operator!(const Expr& a) { return Expr(detail::make_not(a.spec_)); }

private:
    friend struct detail::access;
    explicit Expr(detail::CondPtr c) : spec_(std::move(c)) {}
    detail::CondPtr spec_;
};

/// A typed value of model Root holding values of type V: a column (possibly reached through
/// relations), arithmetic on columns, an aggregate or a subquery. Made by loom::col and the
/// functions below; Root is void for values that fit any model (loom::outer, loom::count(),
/// loom::scalar).
template <class Root, class V> class Column {
public:
    using root_type = Root;
    using value_type = typename detail::column_result<V>::type;

    // ---- comparisons with values ---------------------------------------------------------
    // `== std::nullopt` (or an empty std::optional, a NULL ForeignKey) is IS NULL. `!=` is the
    // negation of `==`: it keeps the rows whose column is NULL, as exclude() does.
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator==(const Column& c, const U& v) {
        return c.eq(v, false);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator!=(const Column& c, const U& v) {
        return c.eq(v, true);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator<(const Column& c, const U& v) {
        return c.cmp(" < ", v);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator<=(const Column& c, const U& v) {
        return c.cmp(" <= ", v);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator>(const Column& c, const U& v) {
        return c.cmp(" > ", v);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend Expr<Root> operator>=(const Column& c, const U& v) {
        return c.cmp(" >= ", v);
    }

    // ---- arithmetic (numeric columns) ------------------------------------------------------
    template <class U>
    requires(!detail::is_column_v<U>) friend auto operator+(const Column& c, const U& v) {
        return detail::arithmetic(c, " + ", v);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend auto operator-(const Column& c, const U& v) {
        return detail::arithmetic(c, " - ", v);
    }
    template <class U>
    requires(!detail::is_column_v<U>) friend auto operator*(const Column& c, const U& v) {
        return detail::arithmetic(c, " * ", v);
    }
    /// Integer columns divide as integers (truncating), as in SQLite and PostgreSQL.
    template <class U>
    requires(!detail::is_column_v<U>) friend auto operator/(const Column& c, const U& v) {
        return detail::arithmetic(c, " / ", v);
    }
    friend Column operator-(const Column& c) {
        static_assert(detail::numeric_v<V>, "loom: arithmetic (+ - * /) needs numeric columns");
        detail::ValueExpr e = c.spec_;
        e.tokens.clear();
        detail::append(e.tokens, "(-");
        detail::append(e.tokens, c.spec_.tokens);
        detail::append(e.tokens, ")");
        return Column(std::move(e));
    }

    /// The same value read as a std::optional: for a column reached through a nullable
    /// ForeignKey (`col(&Post::category, &Category::name).optional()`), which is NULL when the
    /// key is, in values_list and aggregate results.
    auto optional() const {
        using O = std::conditional_t<detail::is_fk<detail::base_t<V>>::value, V,
                                     std::optional<detail::base_t<V>>>;
        detail::ValueExpr e = spec_;
        e.nullable = true;
        return detail::make_column<Root, O>(std::move(e));
    }

    /// IN (values...). An empty range matches nothing (and runs valid SQL).
    template <std::ranges::input_range R>
    requires detail::value_for<std::ranges::range_value_t<R>, detail::compare_t<V>> Expr<Root> in(
        const R& values)
    const { return in_impl(values, false); }
    template <detail::value_for<detail::compare_t<V>> U>
    Expr<Root> in(std::initializer_list<U> values) const {
        return in_impl(values, false);
    }
    /// NOT IN (values...): the negation of in() (a NULL column matches). An empty range
    /// matches everything.
    template <std::ranges::input_range R>
    requires detail::value_for<std::ranges::range_value_t<R>, detail::compare_t<V>> Expr<Root>
    not_in(const R& values)
    const { return in_impl(values, true); }
    template <detail::value_for<detail::compare_t<V>> U>
    Expr<Root> not_in(std::initializer_list<U> values) const {
        return in_impl(values, true);
    }

    /// IN (SELECT <primary key> FROM ...): the rows whose key (a ForeignKey to U, or an
    /// integer column) is one of the QuerySet's primary keys, in one query. The QuerySet may
    /// be correlated with this one through loom::outer columns.
    template <class U> Expr<Root> in(const QuerySet<U>& qs) const { return in_query(qs, false); }
    template <class U> Expr<Root> not_in(const QuerySet<U>& qs) const { return in_query(qs, true); }

    /// The JSON value at a key path of a JSON column (<loom/json.hpp>), compared with strings,
    /// numbers and bool: `loom::col(&User::settings).json("theme") == "dark"`,
    /// `.json("limits", "daily") > 10`, `.json("tags", 0) == "new"` (an integer is an array
    /// index). The path and the value are bound parameters; a missing key is NULL (matches
    /// `== std::nullopt`). Keys may not contain `"`.
    template <class... K>
    requires(sizeof...(K) >= 1 &&
             ((std::convertible_to<const K&, std::string_view> || std::integral<K>)&&...))
        Column<Root, std::optional<detail::json_scalar>> json(const K&... keys)
    const requires(detail::column_kind_of<detail::base_t<V>>() == column_kind::json) {
        std::vector<std::string> path;
        [[maybe_unused]] auto step = [&path](const auto& k) {
            using KT = std::remove_cvref_t<decltype(k)>;
            if constexpr (std::integral<KT>) {
                if (k < 0) throw UsageError("json(): an array index must not be negative");
                path.push_back(std::string("i") + std::to_string(k));
            } else {
                const std::string_view key(k);
                if (key.find('"') != std::string_view::npos || key.find('\0') != key.npos)
                    throw UsageError(std::string("json(): the key '") + std::string(key) +
                                     "' contains a double quote or NUL byte, which a JSON path "
                                     "cannot name");
                path.push_back(std::string("k") + std::string(key));
            }
        };
        (step(keys), ...);
        detail::ValueExpr e;
        detail::append_json_path(e.tokens, spec_.tokens, std::move(path));
        e.nullable = true;
        e.many = spec_.many;
        return detail::make_column<Root, std::optional<detail::json_scalar>>(std::move(e));
    }

    Expr<Root> is_null() const { return unary(" IS NULL"); }
    Expr<Root> is_not_null() const { return unary(" IS NOT NULL"); }

    /// lo <= column <= hi.
    template <detail::value_for<detail::compare_t<V>> U, detail::value_for<detail::compare_t<V>> W>
    Expr<Root> between(const U& lo, const W& hi) const {
        detail::Tokens t = spec_.tokens;
        detail::append(t, " BETWEEN ");
        detail::append(t, detail::to_value<detail::compare_t<V>>(lo));
        detail::append(t, " AND ");
        detail::append(t, detail::to_value<detail::compare_t<V>>(hi));
        return leaf(std::move(t));
    }

    /// SQL LIKE as written: `%` and `_` are wildcards and `\` escapes them; the pattern is
    /// not escaped (use contains/istarts_with... to match text as it is). SQLite's LIKE is
    /// ASCII case-insensitive, PostgreSQL's case-sensitive.
    Expr<Root> like(
        std::string_view pattern) const requires std::is_same_v<detail::base_t<V>, std::string> {
        if (pattern.find('\0') != std::string_view::npos)
            throw UsageError(
                "like(): the pattern contains a NUL byte, where SQLite's LIKE stops "
                "reading it; use contains(), starts_with(), ends_with() or == to "
                "match bytes exactly");
        detail::Tokens t = spec_.tokens;
        detail::append(t, " LIKE ");
        detail::append(t, Value{std::string(pattern)});
        detail::append(t, " ESCAPE '\\'");
        return leaf(std::move(t));
    }
    /// Case-sensitive, byte-exact substring test (no wildcards: `%` and `_` are plain bytes).
    Expr<Root> contains(
        std::string_view needle) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::contains, needle, nullptr);
    }
    /// Case-sensitive, byte-exact prefix test.
    Expr<Root> starts_with(
        std::string_view prefix) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::starts_with, prefix, nullptr);
    }
    /// Case-sensitive, byte-exact suffix test.
    Expr<Root> ends_with(
        std::string_view suffix) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::ends_with, suffix, nullptr);
    }
    /// Case-insensitive equality (Django's iexact). SQLite folds ASCII letters only.
    Expr<Root> iexact(
        std::string_view text) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::iexact, text, "iexact");
    }
    /// Case-insensitive substring test; `%` and `_` in `text` are plain characters.
    Expr<Root> icontains(
        std::string_view text) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::icontains, text, "icontains");
    }
    /// Case-insensitive prefix test.
    Expr<Root> istarts_with(
        std::string_view text) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::istarts_with, text, "istarts_with");
    }
    /// Case-insensitive suffix test.
    Expr<Root> iends_with(
        std::string_view text) const requires std::is_same_v<detail::base_t<V>, std::string> {
        return text_test(detail::TextTest::iends_with, text, "iends_with");
    }

private:
    friend struct detail::access;
    explicit Column(detail::ValueExpr e) : spec_(std::move(e)) {}

    Expr<Root> leaf(detail::Tokens t) const {
        return detail::make_expr<Root>(detail::make_leaf(std::move(t), spec_.aggregate));
    }
    Expr<Root> unary(const char* op) const {
        detail::Tokens t = spec_.tokens;
        detail::append(t, op);
        return leaf(std::move(t));
    }
    template <class U> Expr<Root> eq(const U& v, bool negate) const {
        if constexpr (!detail::comparable_value<V, U>()) {
            static_assert(detail::comparable_value<V, U>(),
                          "loom::col: the value's type does not match the column's type (an "
                          "integer column takes integers, a text column strings, a bool column "
                          "bool, an enum column its enum, a ForeignKey<T> keys or T objects); "
                          "convert the value explicitly");
            return unary("");
        } else {
            const std::optional<Value> value = detail::value_or_null<V>(v);
            if (!value) return unary(negate ? " IS NOT NULL" : " IS NULL");
            detail::Tokens t = spec_.tokens;
            detail::append(t, " = ");
            detail::append(t, *value);
            if (!negate) return leaf(std::move(t));
            detail::Tokens plain;
            if (spec_.nullable) detail::append(plain, "(");
            detail::append(plain, spec_.tokens);
            detail::append(plain, " <> ");
            detail::append(plain, *value);
            if (spec_.nullable) {
                detail::append(plain, " OR ");
                detail::append(plain, spec_.tokens);
                detail::append(plain, " IS NULL)");
            }
            return detail::make_expr<Root>(detail::make_not(
                detail::make_leaf(std::move(t), spec_.aggregate), std::move(plain)));
        }
    }
    template <class U> Expr<Root> cmp(const char* op, const U& v) const {
        using W = std::remove_cvref_t<U>;
        if constexpr (std::is_same_v<W, std::nullopt_t>) {
            static_assert(!std::is_same_v<W, std::nullopt_t>,
                          "loom::col: only == and != compare with std::nullopt (IS NULL, IS NOT "
                          "NULL); <, <=, > and >= need a value");
            return unary("");
        } else if constexpr (!detail::comparable_value<V, U>()) {
            static_assert(detail::comparable_value<V, U>(),
                          "loom::col: the value's type does not match the column's type (an "
                          "integer column takes integers, a text column strings, a bool column "
                          "bool, an enum column its enum, a ForeignKey<T> keys or T objects); "
                          "convert the value explicitly");
            return unary("");
        } else {
            const std::optional<Value> value = detail::value_or_null<V>(v);
            if (!value)
                throw UsageError(std::string("loom::col: compared with NULL by") + op +
                                 "(an empty std::optional or a NULL key), which matches no row; "
                                 "test is_null(), or compare with a value");
            detail::Tokens t = spec_.tokens;
            detail::append(t, op);
            detail::append(t, *value);
            return leaf(std::move(t));
        }
    }
    template <class R> Expr<Root> in_impl(const R& values, bool negate) const {
        using C = detail::compare_t<V>;
        std::vector<Value> list;
        for (const auto& v : values) list.push_back(detail::to_value<C>(v));
        if (list.empty()) {
            detail::Tokens t;
            detail::append(t, negate ? "TRUE" : "FALSE");
            return leaf(std::move(t));
        }
        detail::Tokens t = spec_.tokens;
        if (std::all_of(list.begin(), list.end(),
                        [](const Value& v) { return std::holds_alternative<std::int64_t>(v); })) {
            // Integers: a key list, bound as one array parameter when long (see
            // Options::json_keys_above), so no list is too long for the variable limit.
            std::vector<std::int64_t> ints;
            ints.reserve(list.size());
            for (const Value& v : list) ints.push_back(std::get<std::int64_t>(v));
            detail::append(t, std::move(ints));
        } else {
            detail::append(t, " IN (");
            for (std::size_t i = 0; i < list.size(); ++i) {
                if (i) detail::append(t, ", ");
                detail::append(t, std::move(list[i]));
            }
            detail::append(t, ")");
        }
        return negated_in(std::move(t), negate);
    }
    Expr<Root> negated_in(detail::Tokens t, bool negate) const {
        if (!negate) return leaf(std::move(t));
        // NOT IN, keeping NULL columns: the spelling of !in(...) for a column of this query.
        detail::Tokens plain;
        if (spec_.nullable) detail::append(plain, "(");
        for (const auto& k : t) {
            plain.push_back(k);
            if (k.kind == detail::Token::text && (k.sql == " IN " || k.sql == " IN ("))
                plain.back().sql = k.sql == " IN " ? " NOT IN " : " NOT IN (";
            if (k.kind == detail::Token::key_list) plain.back().negated = true;
        }
        if (spec_.nullable) {
            detail::append(plain, " OR ");
            detail::append(plain, spec_.tokens);
            detail::append(plain, " IS NULL)");
        }
        return detail::make_expr<Root>(
            detail::make_not(detail::make_leaf(std::move(t), spec_.aggregate), std::move(plain)));
    }
    template <class U> Expr<Root> in_query(const QuerySet<U>& qs, bool negate) const {
        using B = detail::base_t<V>;
        constexpr bool keys = detail::is_fk<B>::value
                                  ? std::is_same_v<typename detail::base_t<V>::target_type, U>
                                  : (std::integral<B> && !std::same_as<B, bool>);
        static_assert(keys,
                      "loom::col(...).in(queryset): the column must be a ForeignKey to the "
                      "QuerySet's model, or an integer column, compared with the QuerySet's "
                      "primary keys");
        auto node = std::make_shared<detail::StateSubquery<U>>();
        node->mode = detail::StateSubquery<U>::keys;
        node->state = detail::access::state(qs);
        detail::Tokens t = spec_.tokens;
        detail::append(t, " IN ");
        detail::append(t, std::shared_ptr<const detail::SqlNode>(std::move(node)));
        return negated_in(std::move(t), negate);
    }
    Expr<Root> text_test(detail::TextTest test, std::string_view value, const char* name) const {
        if (name && value.find('\0') != std::string_view::npos)
            throw UsageError(std::string(name) +
                             "(): the text contains a NUL byte, which case-insensitive matching "
                             "cannot handle; use contains(), starts_with(), ends_with() or == to "
                             "match bytes exactly");
        detail::Tokens t;
        detail::append_text_test(t, spec_.tokens, test, std::string(value));
        return leaf(std::move(t));
    }

    detail::ValueExpr spec_;
};

namespace detail {

template <class R, class V, class U>
auto arithmetic(const Column<R, V>& a, const char* op, const U& v) {
    using W = std::remove_cvref_t<U>;
    constexpr bool ok = numeric_v<V> && numeric_v<W> && !is_optional<W>::value;
    static_assert(ok,
                  "loom: arithmetic (+ - * /) needs numeric columns and numeric values "
                  "(integers or floating point)");
    using Out = typename arith_result<V, W>::type;
    if constexpr (ok) {
        using Val = std::conditional_t<std::floating_point<W>, double, std::int64_t>;
        return make_column<R, Out>(binary(access::spec(a), op, bound(to_value<Val>(v))));
    } else {
        return make_column<R, Out>(access::spec(a));
    }
}

template <class R1, class V1, class R2, class V2>
auto arithmetic(const Column<R1, V1>& a, const char* op, const Column<R2, V2>& b) {
    static_assert(roots_agree<R1, R2>,
                  "loom: the two columns belong to different models; combine columns of one "
                  "model (reach others through relations: loom::col(&Post::author, &User::karma)), "
                  "or the enclosing query's row with loom::outer(...)");
    static_assert(numeric_v<V1> && numeric_v<V2>,
                  "loom: arithmetic (+ - * /) needs numeric columns and numeric values "
                  "(integers or floating point)");
    using Out = typename arith_result<V1, V2>::type;
    return make_column<common_root<R1, R2>, Out>(binary(access::spec(a), op, access::spec(b)));
}

template <class R1, class V1, class R2, class V2>
Expr<common_root<R1, R2>> compare_columns(const char* op, const Column<R1, V1>& a,
                                          const Column<R2, V2>& b, bool negate) {
    using Root = common_root<R1, R2>;
    static_assert(roots_agree<R1, R2>,
                  "loom: the two columns belong to different models; compare columns of one "
                  "model (reach others through relations: loom::col(&Post::author, &User::name)), "
                  "or the enclosing query's row with loom::outer(...)");
    static_assert(comparable_columns<V1, V2>(),
                  "loom: the two columns hold unrelated types (a number and a string, keys to "
                  "different models...); compare columns of the same kind");
    const ValueExpr& x = access::spec(a);
    const ValueExpr& y = access::spec(b);
    Tokens t = x.tokens;
    append(t, op);
    append(t, y.tokens);
    const bool aggregate = x.aggregate || y.aggregate;
    if (!negate) return make_expr<Root>(make_leaf(std::move(t), aggregate));
    Tokens plain;
    if (!x.nullable && !y.nullable) {
        plain = x.tokens;
        append(plain, " <> ");
        append(plain, y.tokens);
    }
    return make_expr<Root>(make_not(make_leaf(std::move(t), aggregate), std::move(plain)));
}

}  // namespace detail

// ---- comparisons and arithmetic between two columns -------------------------------------------
// Every operator works between columns of one model (or with a loom::outer column); `!=` is
// the negation of `==` (a row where either side is NULL matches it).

template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator==(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" = ", a, b);
}
template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator!=(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" = ", a, b, true);
}
template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator<(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" < ", a, b);
}
template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator<=(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" <= ", a, b);
}
template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator>(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" > ", a, b);
}
template <class R1, class V1, class R2, class V2>
Expr<detail::common_root<R1, R2>> operator>=(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::compare_columns(" >= ", a, b);
}
template <class R1, class V1, class R2, class V2>
auto operator+(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::arithmetic(a, " + ", b);
}
template <class R1, class V1, class R2, class V2>
auto operator-(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::arithmetic(a, " - ", b);
}
template <class R1, class V1, class R2, class V2>
auto operator*(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::arithmetic(a, " * ", b);
}
template <class R1, class V1, class R2, class V2>
auto operator/(const Column<R1, V1>& a, const Column<R2, V2>& b) {
    return detail::arithmetic(a, " / ", b);
}

// ---- columns ------------------------------------------------------------------------------------

/// The column of a member: `col(&Book::year)`, or through relations:
/// `col(&Book::publisher, &Publisher::name)` (forward: a LEFT JOIN), `col(&Post::tags,
/// &Tag::name)` (to-many: conditions on it become EXISTS, see docs/queries.md). A ForeignKey
/// member is its key column, compared with keys or with objects of its model.
template <class Owner, class M> auto col(M Owner::*m) {
    return detail::make_column<Owner, typename detail::member_value<M>::type>(detail::column_of(m));
}

template <class Owner, class Rel, class... Rest>
requires(sizeof...(Rest) > 0) auto col(Rel Owner::*first, Rest... rest) {
    static_assert(detail::is_relation_member<Rel>::value,
                  "loom::col: every step but the last must be a relation member (ForeignKey, "
                  "OneToOne, ManyToMany, Reverse or ReverseOne)");
    using Next = typename Rel::target_type;
    auto inner = col(rest...);
    using Inner = detail::column_parts<decltype(inner)>;
    static_assert(std::is_same_v<typename Inner::root, Next>,
                  "loom::col: each step must start at the model the previous relation points to");
    detail::ValueExpr e = detail::access::spec(inner);
    const detail::JoinStep& step = detail::hop_of(first);
    for (auto& t : e.tokens)
        if (t.kind == detail::Token::column) t.col.path.insert(t.col.path.begin(), step);
    e.nullable = e.nullable || step.nullable;
    if (step.kind == detail::JoinStep::many) e.many = step.name;
    return detail::make_column<Owner, typename Inner::value>(std::move(e));
}

/// A column of the row of the enclosing query, inside a subquery (loom::exists, in(queryset),
/// loom::scalar): `loom::outer(&Post::id)`, or through relations like loom::col. Naming a model
/// other than the enclosing query's is a UsageError when the query is built.
template <class... Steps> auto outer(Steps... steps) {
    auto c = col(steps...);
    using Parts = detail::column_parts<decltype(c)>;
    detail::ValueExpr e = detail::access::spec(c);
    for (auto& t : e.tokens)
        if (t.kind == detail::Token::column) {
            t.col.outer = 1;
            t.col.model = detail::meta<typename Parts::root>().name;
        }
    return detail::make_column<void, typename Parts::value>(std::move(e));
}

// ---- subqueries ---------------------------------------------------------------------------------

/// EXISTS (the QuerySet's rows): `loom::exists(db.objects<Comment>().filter(
/// loom::col(&Comment::post) == loom::outer(&Post::id)))`; `!loom::exists(...)` is NOT EXISTS.
template <class U> Expr<void> exists(const QuerySet<U>& qs) {
    auto node = std::make_shared<detail::StateSubquery<U>>();
    node->mode = detail::StateSubquery<U>::exists;
    node->state = detail::access::state(qs);
    detail::Tokens t;
    detail::append(t, std::shared_ptr<const detail::SqlNode>(std::move(node)));
    return detail::make_expr<void>(detail::make_leaf(std::move(t)));
}

/// The row has at least one related row: `loom::exists(&Post::comments)`;
/// `!loom::exists(&Post::comments)` is a post with no comments.
template <class Owner, class Rel> Expr<Owner> exists(Rel Owner::*relation) {
    static_assert(detail::is_to_many_member<Rel>::value || detail::is_reverse_one<Rel>::value,
                  "loom::exists(&Model::relation): the member must be a ManyToMany, Reverse or "
                  "ReverseOne (a ForeignKey is simply col(&Model::key).is_not_null())");
    auto node = std::make_shared<detail::HopSubquery>();
    node->hop = detail::hop_of(relation);
    node->model = node->hop.target;
    detail::Tokens t;
    detail::append(t, std::shared_ptr<const detail::SqlNode>(std::move(node)));
    return detail::make_expr<Owner>(detail::make_leaf(std::move(t)));
}

/// One value computed by a QuerySet, usable in filters, order_by, values_list and update: an
/// aggregate over its rows (`loom::scalar(comments, loom::max(&Comment::score))`), or a
/// column of its first row in its order. NULL (an empty std::optional) when no row matches.
template <class U, class R, class V>
Column<void, std::optional<detail::base_t<typename detail::column_result<V>::type>>> scalar(
    const QuerySet<U>& qs, const Column<R, V>& value) {
    static_assert(std::is_same_v<R, U> || std::is_void_v<R>,
                  "loom::scalar: the value must be a column of the QuerySet's model");
    auto node = std::make_shared<detail::StateSubquery<U>>();
    node->mode = detail::StateSubquery<U>::value;
    node->state = detail::access::state(qs);
    node->selected = detail::access::spec(value);
    if (!node->selected.many.empty())
        throw UsageError("loom::scalar: the value crosses the to-many relation " +
                         node->selected.many + "; aggregate it instead");
    detail::ValueExpr e;
    detail::append(e.tokens, std::shared_ptr<const detail::SqlNode>(std::move(node)));
    e.nullable = true;
    return detail::make_column<
        void, std::optional<detail::base_t<typename detail::column_result<V>::type>>>(std::move(e));
}
template <class U, class M> auto scalar(const QuerySet<U>& qs, M U::*member) {
    return scalar(qs, col(member));
}

// ---- aggregates ---------------------------------------------------------------------------------
// Group aggregates (count(), sum(&Post::rating)...) summarize the rows of a QuerySet:
// qs.aggregate(...), the groups of a grouped values_list, having() and order_by there.
// Per-row aggregates of a to-many relation (count(&Post::comments), sum(&Post::comments,
// &Comment::score)) are one value per row, usable anywhere a column is: filter, order_by,
// values_list ("top 5 posts by likes" is one query).

namespace detail {

template <class Out, class R>
Column<R, Out> group_aggregate(const char* name, const char* open, const ValueExpr& e,
                               bool nullable) {
    if (e.aggregate)
        throw UsageError(
            std::string("loom::") + name +
            ": the value is an aggregate already (an aggregate of an aggregate); "
            "aggregate a column, or a per-row count such as loom::count(&Post::likes)");
    if (!e.many.empty())
        throw UsageError(std::string("loom::") + name +
                         ": the column crosses the to-many "
                         "relation " +
                         e.many +
                         ", where each row has many values; aggregate "
                         "them per row with loom::" +
                         name + "(&" + e.many + ", ...)");
    ValueExpr out;
    append(out.tokens, open);
    append(out.tokens, e.tokens);
    append(out.tokens, ")");
    out.aggregate = true;
    out.nullable = nullable;
    return make_column<R, Out>(std::move(out));
}

template <class Out, class Owner, class Rel>
Column<Owner, Out> relation_aggregate(Rel Owner::*relation, const char* open, const Tokens& value,
                                      const char* close, const CondPtr& only, bool nullable) {
    static_assert(is_to_many_member<Rel>::value,
                  "loom: a per-row aggregate needs a to-many relation (a ManyToMany or Reverse "
                  "member)");
    auto node = std::make_shared<HopSubquery>();
    node->exists = false;
    node->hop = hop_of(relation);
    node->model = node->hop.target;
    append(node->select, open);
    append(node->select, value);
    append(node->select, close);
    if (only) {
        if (only->aggregate)
            throw UsageError("loom::count: the condition on the related rows uses an aggregate");
        node->cond = lower(*only);
    }
    ValueExpr e;
    append(e.tokens, std::shared_ptr<const SqlNode>(std::move(node)));
    e.nullable = nullable;
    return make_column<Owner, Out>(std::move(e));
}

template <class V>
using sum_t =
    std::optional<std::conditional_t<std::floating_point<base_t<V>>, double, std::int64_t>>;
template <class V> using extreme_t = std::optional<base_t<typename column_result<V>::type>>;

template <class V> constexpr void check_numeric(const char*) {
    static_assert(numeric_v<V>,
                  "loom: sum() and avg() need a numeric column (an integer or floating-point "
                  "member); min() and max() take any column");
}

template <class Owner, class M> auto as_col(M Owner::*m) {
    return col(m);
}
template <class R, class V> const Column<R, V>& as_col(const Column<R, V>& c) {
    return c;
}

}  // namespace detail

/// COUNT(*): the number of rows (of each group in a grouped values_list).
LOOM_DECL Column<void, std::int64_t> count();
/// COUNT(column): the rows where the column is not NULL; or, given a to-many relation
/// member, the number of related rows of each row (`loom::count(&Post::comments)`, a per-row
/// value: filter, order or read it like a column).
template <class X> auto count(const X& what) {
    if constexpr (std::is_member_object_pointer_v<X>) {
        using Rel = typename detail::pointee<X>::type;
        if constexpr (detail::is_to_many_member<Rel>::value) {
            return detail::relation_aggregate<std::int64_t>(what, "COUNT(*)", {}, "", nullptr,
                                                            false);
        } else {
            return detail::group_aggregate<std::int64_t, typename detail::pointee<X>::owner>(
                "count", "COUNT(", detail::access::spec(col(what)), false);
        }
    } else {
        using P = detail::column_parts<X>;
        return detail::group_aggregate<std::int64_t, typename P::root>(
            "count", "COUNT(", detail::access::spec(what), false);
    }
}
/// The number of related rows of each row that match `only` (a condition on the related
/// model): `loom::count(&Post::comments, loom::col(&Comment::score) > 3)`.
template <class Owner, class Rel, class R>
Column<Owner, std::int64_t> count(Rel Owner::*relation, const Expr<R>& only) {
    static_assert(std::is_same_v<R, typename Rel::target_type> || std::is_void_v<R>,
                  "loom::count(&Model::relation, condition): the condition must be over the "
                  "related model");
    return detail::relation_aggregate<std::int64_t>(relation, "COUNT(*)", {}, "",
                                                    detail::access::spec(only), false);
}
/// COUNT(DISTINCT column).
template <class X> auto count_distinct(const X& what) {
    const auto& c = detail::as_col(what);
    using P = detail::column_parts<std::remove_cvref_t<decltype(c)>>;
    return detail::group_aggregate<std::int64_t, typename P::root>(
        "count_distinct", "COUNT(DISTINCT ", detail::access::spec(c), false);
}

/// SUM(column): NULL (an empty std::optional) over no rows.
template <class X> auto sum(const X& what) {
    const auto& c = detail::as_col(what);
    using P = detail::column_parts<std::remove_cvref_t<decltype(c)>>;
    detail::check_numeric<typename P::value>("sum");
    return detail::group_aggregate<detail::sum_t<typename P::value>, typename P::root>(
        "sum", "SUM(", detail::access::spec(c), true);
}
/// AVG(column), a double; NULL over no rows.
template <class X> auto avg(const X& what) {
    const auto& c = detail::as_col(what);
    using P = detail::column_parts<std::remove_cvref_t<decltype(c)>>;
    detail::check_numeric<typename P::value>("avg");
    return detail::group_aggregate<std::optional<double>, typename P::root>(
        "avg", "AVG(", detail::access::spec(c), true);
}
/// MIN(column); NULL over no rows.
template <class X> auto min(const X& what) {
    const auto& c = detail::as_col(what);
    using P = detail::column_parts<std::remove_cvref_t<decltype(c)>>;
    return detail::group_aggregate<detail::extreme_t<typename P::value>, typename P::root>(
        "min", "MIN(", detail::access::spec(c), true);
}
/// MAX(column); NULL over no rows.
template <class X> auto max(const X& what) {
    const auto& c = detail::as_col(what);
    using P = detail::column_parts<std::remove_cvref_t<decltype(c)>>;
    return detail::group_aggregate<detail::extreme_t<typename P::value>, typename P::root>(
        "max", "MAX(", detail::access::spec(c), true);
}

namespace detail {
template <class Owner, class Rel, class X> auto relation_value(Rel Owner::*, const X& what) {
    const auto& c = as_col(what);
    using P = column_parts<std::remove_cvref_t<decltype(c)>>;
    static_assert(std::is_same_v<typename P::root, typename Rel::target_type>,
                  "loom: the column of a per-row aggregate must belong to the related model "
                  "(loom::sum(&Post::comments, &Comment::score))");
    return c;
}
}  // namespace detail

/// Per-row aggregates of a to-many relation: the SUM, AVG, MIN or MAX of a column of each
/// row's related rows (`loom::sum(&Post::comments, &Comment::score)`); NULL for a row with
/// none.
template <class Owner, class Rel, class X> auto sum(Rel Owner::*relation, const X& what) {
    const auto& c = detail::relation_value(relation, what);
    using V = typename detail::column_parts<std::remove_cvref_t<decltype(c)>>::value;
    detail::check_numeric<V>("sum");
    return detail::relation_aggregate<detail::sum_t<V>>(
        relation, "SUM(", detail::access::spec(c).tokens, ")", nullptr, true);
}
template <class Owner, class Rel, class X> auto avg(Rel Owner::*relation, const X& what) {
    const auto& c = detail::relation_value(relation, what);
    using V = typename detail::column_parts<std::remove_cvref_t<decltype(c)>>::value;
    detail::check_numeric<V>("avg");
    return detail::relation_aggregate<std::optional<double>>(
        relation, "AVG(", detail::access::spec(c).tokens, ")", nullptr, true);
}
template <class Owner, class Rel, class X> auto min(Rel Owner::*relation, const X& what) {
    const auto& c = detail::relation_value(relation, what);
    using V = typename detail::column_parts<std::remove_cvref_t<decltype(c)>>::value;
    return detail::relation_aggregate<detail::extreme_t<V>>(
        relation, "MIN(", detail::access::spec(c).tokens, ")", nullptr, true);
}
template <class Owner, class Rel, class X> auto max(Rel Owner::*relation, const X& what) {
    const auto& c = detail::relation_value(relation, what);
    using V = typename detail::column_parts<std::remove_cvref_t<decltype(c)>>::value;
    return detail::relation_aggregate<detail::extreme_t<V>>(
        relation, "MAX(", detail::access::spec(c).tokens, ")", nullptr, true);
}

// ---- order
// ----------------------------------------------------------------------------------------

/// One ORDER BY term: loom::asc(...) or loom::desc(...), optionally .nulls_first() or
/// .nulls_last() (else the engine's default: SQLite sorts NULLs first ascending).
template <class Root> class OrderTerm {
public:
    OrderTerm nulls_first() const {
        OrderTerm t = *this;
        t.spec_.nulls = -1;
        return t;
    }
    OrderTerm nulls_last() const {
        OrderTerm t = *this;
        t.spec_.nulls = 1;
        return t;
    }

private:
    friend struct detail::access;
    explicit OrderTerm(detail::OrderSpec spec) : spec_(std::move(spec)) {}
    detail::OrderSpec spec_;
};

template <class Owner, class M> OrderTerm<Owner> asc(M Owner::*m) {
    return detail::access::make<OrderTerm<Owner>>(detail::OrderSpec{detail::column_of(m), false});
}
template <class Owner, class M> OrderTerm<Owner> desc(M Owner::*m) {
    return detail::access::make<OrderTerm<Owner>>(detail::OrderSpec{detail::column_of(m), true});
}
template <class Root, class V> OrderTerm<Root> asc(const Column<Root, V>& c) {
    return detail::access::make<OrderTerm<Root>>(detail::OrderSpec{detail::access::spec(c), false});
}
template <class Root, class V> OrderTerm<Root> desc(const Column<Root, V>& c) {
    return detail::access::make<OrderTerm<Root>>(detail::OrderSpec{detail::access::spec(c), true});
}

// ---- update
// ---------------------------------------------------------------------------------------

/// One `column = value` of QuerySet::update: loom::set(&Post::views, 0),
/// loom::set(&Post::views, loom::col(&Post::views) + 1).
namespace detail {
struct AssignSpec {
    std::string column;  // quoted
    ValueExpr value;
};
}  // namespace detail

template <class Root> class Assignment {
private:
    friend struct detail::access;
    explicit Assignment(detail::AssignSpec spec) : spec_(std::move(spec)) {}
    detail::AssignSpec spec_;
};

template <class Owner, class M, class U> Assignment<Owner> set(M Owner::*m, const U& v) {
    using V = typename detail::member_value<M>::type;
    using W = std::remove_cvref_t<U>;
    detail::ValueExpr target = detail::column_of(m);
    std::string column = target.tokens.front().col.column;
    detail::ValueExpr value;
    if constexpr (detail::is_column_v<W>) {
        using P = detail::column_parts<W>;
        static_assert(detail::roots_agree<Owner, typename P::root>,
                      "loom::set: the value is a column of another model; use the row's own "
                      "columns");
        static_assert(detail::comparable_columns<V, typename P::value>(),
                      "loom::set: the value's type does not match the column's type");
        value = detail::access::spec(v);
        if (value.aggregate)
            throw UsageError(
                "loom::set: an aggregate cannot be assigned to a column; use a "
                "per-row value (loom::count(&Post::likes)) or loom::scalar(...)");
    } else {
        constexpr bool null = std::is_same_v<W, std::nullopt_t>;
        constexpr bool can_be_null = detail::is_optional<V>::value || detail::is_fk<V>::value;
        static_assert(!null || can_be_null,
                      "loom::set: only a std::optional member or a ForeignKey can be set to NULL");
        static_assert(null || detail::comparable_value<V, U>(),
                      "loom::set: the value's type does not match the column's type");
        if constexpr (detail::is_optional<W>::value)
            static_assert(can_be_null,
                          "loom::set: a std::optional value can be stored only in a std::optional "
                          "member or a ForeignKey");
        if constexpr (!null || can_be_null) {
            const std::optional<Value> x = detail::value_or_null<V>(v);
            detail::append(value.tokens, x ? *x : Value{nullptr});
        }
    }
    return detail::access::make<Assignment<Owner>>(
        detail::AssignSpec{std::move(column), std::move(value)});
}

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/expr.hpp"
#endif
