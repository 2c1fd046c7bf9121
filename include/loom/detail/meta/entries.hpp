// The data a model descriptor is made of: one entry per member (primary key, field, foreign
// key, one-to-one, many-to-many, reverse side) and the table holding them. Built by the DSL in
// <loom/model.hpp>; read by the visitors in descriptor.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "../../fwd.hpp"

namespace loom {

/// What the database does to rows that point at a deleted row (mirrored into the DDL).
enum class on_delete { restrict, cascade, set_null, no_action };

/// Options for field / foreign_key / one_to_one.
struct nullable_t {};
inline constexpr nullable_t nullable{};
struct unique_t {};
inline constexpr unique_t unique{};
struct indexed_t {};
inline constexpr indexed_t indexed{};

// ---- schema options of a field (issue 17, types branch) --------------------------------------
namespace detail {
/// A column DEFAULT as a constant: written into the DDL as an SQL literal, and the value an
/// insert writes for an empty std::optional member (see loom::default_value).
struct default_literal {
    enum class kind_t { none, integer, real, text } kind = kind_t::none;
    std::int64_t integer = 0;
    double real = 0;
    std::string_view text;
};
enum class auto_time { none, on_insert, on_write };
}  // namespace detail

/// `loom::field(&Post::status, "status", loom::default_value("draft"))`: the column's DEFAULT
/// (in CREATE TABLE), and what an insert writes for the member when it is an empty
/// std::optional (a value never set). Takes integers, enums, bool, floating point and string
/// literals.
template <class U> struct default_value_t { detail::default_literal literal; };
template <class U> constexpr default_value_t<U> default_value(U v) {
    detail::default_literal d;
    if constexpr (std::is_same_v<U, bool>) {
        d.kind = detail::default_literal::kind_t::integer;
        d.integer = v ? 1 : 0;
    } else if constexpr (std::is_enum_v<U>) {
        d.kind = detail::default_literal::kind_t::integer;
        d.integer = static_cast<std::int64_t>(v);
    } else if constexpr (std::is_integral_v<U>) {
        d.kind = detail::default_literal::kind_t::integer;
        d.integer = static_cast<std::int64_t>(v);
    } else if constexpr (std::is_floating_point_v<U>) {
        d.kind = detail::default_literal::kind_t::real;
        d.real = static_cast<double>(v);
    } else {
        static_assert(std::is_convertible_v<U, std::string_view>,
                      "loom::default_value: takes an integer, enum, bool, floating-point value "
                      "or a string literal");
        d.kind = detail::default_literal::kind_t::text;
        d.text = std::string_view(v);
    }
    return {d};
}

/// Field options for a std::chrono::sys_time member (or std::optional of one): set to the
/// current time by insert (auto_now_add), or by insert and update (auto_now), as Django's.
struct auto_now_add_t {};
inline constexpr auto_now_add_t auto_now_add{};
struct auto_now_t {};
inline constexpr auto_now_t auto_now{};

namespace detail {

struct no_model {};

enum class entry_kind { pk, field, foreign_key, one_to_one, many_to_many, reverse };

template <class Owner, class K = std::int64_t> struct pk_entry {
    using owner = Owner;
    using value_type = K;
    static constexpr entry_kind kind = entry_kind::pk;
    K Owner::*member;
    std::string_view column;
};

template <class Owner, class V> struct field_entry {
    using owner = Owner;
    using value_type = V;
    static constexpr entry_kind kind = entry_kind::field;
    V Owner::*member;
    std::string_view column;
    bool unique = false;
    bool indexed = false;
    // -- schema options (issue 17, types branch): loom::default_value, auto_now(_add) --
    default_literal default_value{};
    auto_time auto_time_kind = auto_time::none;
};

template <class M> struct forward_target {};
template <class T, class K> struct forward_target<ForeignKey<T, K>> {
    using type = T;
    using key = K;
    static constexpr bool one_to_one = false;
};
template <class T, class K> struct forward_target<OneToOne<T, K>> {
    using type = T;
    using key = K;
    static constexpr bool one_to_one = true;
};

template <class Owner, class M> struct fk_entry {
    using owner = Owner;
    using member_type = M;
    using target = typename forward_target<M>::type;
    using key_type = typename forward_target<M>::key;
    static constexpr entry_kind kind =
        forward_target<M>::one_to_one ? entry_kind::one_to_one : entry_kind::foreign_key;
    M Owner::*member;
    std::string_view column;
    on_delete deletion = on_delete::restrict;
    bool nullable = false;
};

/// Through = void: an automatic join table named `table` with columns src/dst (empty = default
/// `<owner table>_id` / `<target table>_id`, `from_`/`to_` prefixed for self-references).
template <class Owner, class Target, class Through = void> struct m2m_entry {
    using owner = Owner;
    using target = Target;
    using through = Through;
    static constexpr entry_kind kind = entry_kind::many_to_many;
    ManyToMany<Target> Owner::*member;
    std::string_view table;
    std::string_view src_column;
    std::string_view dst_column;
};

template <class Owner, class Target, class Through>
requires(!std::is_void_v<Through>) struct m2m_entry<Owner, Target, Through> {
    using owner = Owner;
    using target = Target;
    using through = Through;
    static constexpr entry_kind kind = entry_kind::many_to_many;
    ManyToMany<Target> Owner::*member;
    ForeignKey<Owner> Through::*src;
    ForeignKey<Target> Through::*dst;
};

/// The other side of a forward relation `Fwd Target::*forward`.
template <class Owner, class M, class Target, class Fwd> struct reverse_entry {
    using owner = Owner;
    using member_type = M;
    using target = Target;
    using forward_type = Fwd;
    static constexpr entry_kind kind = entry_kind::reverse;
    M Owner::*member;
    Fwd Target::*forward;
};

/// The columns of one UNIQUE constraint (or index) over several columns.
struct unique_columns {
    std::array<std::string_view, 8> columns{};
    std::size_t size = 0;
};

/// A named CHECK constraint (issue 17, types branch).
struct check_entry {
    std::string_view name;
    std::string_view sql;
};

constexpr bool check_name_ok(std::string_view n) {
    if (n.empty()) return false;
    for (char c : n)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return false;
    return true;
}

/// One SQL expression: brackets balance outside quotes, every quote closes, and nothing could
/// end the statement or hide the rest of it (`;`, `--`, `/*`).
constexpr bool check_sql_ok(std::string_view s) {
    int depth = 0;
    char quote = 0;
    bool any = false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        if (quote) {
            if (c == quote) quote = 0;  // a doubled quote closes and reopens: still balanced
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            any = true;
        } else if (c == '(') {
            ++depth;
        } else if (c == ')') {
            if (--depth < 0) return false;
        } else if (c == ';') {
            return false;
        } else if ((c == '-' || c == '/') && i + 1 < s.size() &&
                   s[i + 1] == (c == '-' ? '-' : '*')) {
            return false;
        } else if (c != ' ') {
            any = true;
        }
    }
    return any && depth == 0 && quote == 0;
}

template <class Owner, class... Entries> struct table_desc {
    using owner = Owner;
    std::string_view name;
    std::tuple<Entries...> entries;
    std::array<unique_columns, 8> uniques{};
    std::size_t unique_count = 0;
    // -- schema entries (issue 17, types branch): composite indexes, CHECK constraints --
    std::array<unique_columns, 8> indexes{};
    std::size_t index_count = 0;
    std::array<check_entry, 8> checks{};
    std::size_t check_count = 0;

    /// An index over several columns, in order:
    /// `return loom::table("post", ...).index(&Post::created_at, &Post::status);`
    template <class... M> constexpr table_desc index(M Owner::*... members) const {
        static_assert(sizeof...(M) >= 1 && sizeof...(M) <= 8,
                      "loom::table(...).index: name 1 to 8 members");
        table_desc out = *this;
        if (out.index_count == out.indexes.size()) throw "loom: index at most 8 times per table";
        unique_columns& u = out.indexes[out.index_count++];
        ((u.columns[u.size++] = column_of(members,
                                          "loom: index names a member that is not a "
                                          "column here")),
         ...);
        return out;
    }

    /// A named CHECK constraint: `.check("rating_range", "rating BETWEEN 0 AND 5")`. The text
    /// is SQL written by the descriptor's author (schema, not user input: never build it from
    /// values at run time); it is checked at compile time to be one expression (balanced
    /// brackets and quotes, no `;`, no comment) and the name to be an identifier.
    constexpr table_desc check(std::string_view name, std::string_view sql) const {
        if (!check_name_ok(name)) throw "loom: check() needs a name of letters, digits and _";
        if (!check_sql_ok(sql))
            throw "loom: check() SQL must be one expression: balanced brackets and quotes, no "
                  "semicolon, no comment";
        table_desc out = *this;
        if (out.check_count == out.checks.size()) throw "loom: check at most 8 times per table";
        out.checks[out.check_count++] = check_entry{name, sql};
        return out;
    }

    /// A UNIQUE constraint over several columns (fields or foreign keys of this descriptor):
    /// `return loom::table("book", ...).unique_together(&Book::title, &Book::year);`
    template <class... M> constexpr table_desc unique_together(M Owner::*... members) const {
        static_assert(sizeof...(M) >= 2 && sizeof...(M) <= 8,
                      "loom::table(...).unique_together: name 2 to 8 members (one member: "
                      "loom::field(..., loom::unique))");
        table_desc out = *this;
        if (out.unique_count == out.uniques.size())
            throw "loom: unique_together at most 8 times per table";
        unique_columns& u = out.uniques[out.unique_count++];
        ((u.columns[u.size++] = column_of(members)), ...);
        return out;
    }

private:
    template <class M>
    constexpr std::string_view column_of(
        M Owner::*m, const char* error =
                         "loom: unique_together names a member that is not a column here") const {
        std::string_view found;
        std::apply(
            [&](const auto&... e) {
                (
                    [&](const auto& one) {
                        using E = std::remove_cvref_t<decltype(one)>;
                        if constexpr (requires { one.column; } &&
                                      std::is_same_v<decltype(one.member), M Owner::*>) {
                            if (E::kind != entry_kind::pk && one.member == m) found = one.column;
                        }
                    }(e),
                    ...);
            },
            entries);
        // The message is one source line: the compiler shows it as the error's context.
        if (found.empty()) throw error;
        return found;
    }
};

// ---- issue 17 (keys and writes): optimistic locking --------------------------------------
/// loom::version(&T::member): an integer column that update and remove check and bump. A
/// field in every other respect (it is read, written and created as one).
template <class Owner, class V> struct version_entry : field_entry<Owner, V> {
    static constexpr bool is_version = true;
};
template <class E>
concept version_column = requires {
    E::is_version;
};
// ---- end of the optimistic locking block --------------------------------------------------

template <class Through, class A, class B> struct through_t {
    ForeignKey<A> Through::*src;
    ForeignKey<B> Through::*dst;
};

template <class T> struct is_table : std::false_type {};
template <class O, class... E> struct is_table<table_desc<O, E...>> : std::true_type {};

template <class T> struct is_relation_member : std::false_type {};
template <class T, class K> struct is_relation_member<ForeignKey<T, K>> : std::true_type {};
template <class T, class K> struct is_relation_member<OneToOne<T, K>> : std::true_type {};
template <class T> struct is_relation_member<ManyToMany<T>> : std::true_type {};
template <class T> struct is_relation_member<Reverse<T>> : std::true_type {};
template <class T> struct is_relation_member<ReverseOne<T>> : std::true_type {};

}  // namespace detail
}  // namespace loom
