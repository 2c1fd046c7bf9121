// loom/model.hpp - compile-time model descriptors: one per model, a constexpr function named
// loom_model in the model's own namespace (found by argument-dependent lookup):
//
//     constexpr auto loom_model(loom::model_of<Book>) {
//         return loom::table("book",
//             loom::pk(&Book::id),
//             loom::field(&Book::title, "title"),
//             loom::foreign_key(&Book::publisher, "publisher_id", loom::on_delete::cascade),
//             loom::many_to_many(&Book::authors, "book_authors"),
//             loom::reverse(&Book::reviews, &Review::book));
//     }
//
// The function is looked up in the model's namespace, so a model may be named Profile, Path,
// Value, Transaction... like one of loom's own types. (A specialization of loom::model<T> works
// too, but names inside it are looked up in namespace loom first.)
//
// Descriptors are checked when a model is first used (create_tables, objects, insert...): a
// member of another model, a relation to a model without a descriptor, a reverse side that
// names no forward side or a duplicate column is a static_assert with a readable message.
#pragma once

#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>
#include "detail/std_light.hpp"

#include "detail/column.hpp"
#include "detail/meta/entries.hpp"
#include "detail/type_name.hpp"

namespace loom {

/// The tag a descriptor function takes: `constexpr auto loom_model(loom::model_of<Book>)`.
template <class T> struct model_of { using type = T; };

namespace detail {
// Stops unqualified lookup here: loom_model is found in the model's namespace only.
void loom_model() = delete;

template <class T>
concept described_by_function = requires {
    loom_model(model_of<T>{});
};

template <class T> constexpr auto describe() {
    if constexpr (described_by_function<T>)
        return loom_model(model_of<T>{});
    else
        return no_model{};
}
}  // namespace detail

/// The descriptor of model T: what its loom_model function returns.
template <class T> inline constexpr auto model = detail::describe<T>();

namespace detail {
// ---- keys (issue 17: non-integer primary keys) -------------------------------------------

/// The type of T's primary key: std::int64_t, std::string, or another key type. (std::int64_t
/// for a struct without a descriptor, so that the descriptor check's static_assert is what the
/// user reads.)
template <class T> struct key_of_impl { using type = std::int64_t; };
template <class T>
requires requires {
    model<T>.entries;
}
struct key_of_impl<T> {
    using type = typename std::remove_cvref_t<decltype(std::get<0>(model<T>.entries))>::value_type;
};
template <class T> using key_of = typename key_of_impl<T>::type;

/// A type loom can use as a primary key: std::int64_t (assigned by the database), or a column
/// type that is not NULL-able, not a number, and can be compared and hashed (std::string, a
/// UUID held as text...), which the application assigns.
template <class K>
concept key_type = std::same_as<K, std::int64_t> ||
    (column_type<K> && !is_optional<K>::value && !std::is_arithmetic_v<K> && !std::is_enum_v<K> &&
     std::equality_comparable<K> && requires(const K& k) {
         { std::hash<K>{}(k) } -> std::convertible_to<std::size_t>;
     });

template <class T> const key_of<T>& primary_key_of(const T& obj) {
    return obj.*(std::get<0>(model<T>.entries).member);
}

template <class T> key_of<T>& primary_key_ref(T& obj) {
    return obj.*(std::get<0>(model<T>.entries).member);
}

/// True for a key never given: 0, or an empty string (a default-constructed key).
template <class K> bool key_unset(const K& k) {
    if constexpr (std::same_as<K, std::int64_t>)
        return k == 0;
    else
        return k == K{};
}

/// A key as messages show it: 42, or 'abc'; a key of a loom::column_type<K> adapter as its
/// stored integer or text ('5a5a5a5a-...' for a UUID stored as text).
template <class K> std::string key_text(const K& k) {
    if constexpr (std::same_as<K, std::int64_t>) {
        return std::to_string(k);
    } else if constexpr (std::is_convertible_v<const K&, std::string_view>) {
        return "'" + std::string(std::string_view(k)) + "'";
    } else {
        if constexpr (adapted<K>) {
            using S = typename ::loom::column_type<K>::storage;
            if constexpr (std::same_as<S, std::int64_t> || std::same_as<S, std::string>) {
                try {
                    return key_text(S(::loom::column_type<K>::to_storage(k)));
                } catch (const std::exception&) {
                    // a value the adapter cannot store: named by its type below
                }
            }
        }
        return "(a " + std::string(type_name<K>()) + " key)";
    }
}

/// Whether the database assigns T's keys on insert (an integer key), or the application does.
template <class T> inline constexpr bool auto_key = std::same_as<key_of<T>, std::int64_t>;

}  // namespace detail

namespace detail {
/// M is a ForeignKey<T, K> (one_to_one false) or a OneToOne<T, K> (true), for any key type K.
template <class M, class T, bool one_to_one> struct is_forward_to : std::false_type {};
template <class T, class K> struct is_forward_to<ForeignKey<T, K>, T, false> : std::true_type {};
template <class T, class K> struct is_forward_to<OneToOne<T, K>, T, true> : std::true_type {};
}  // namespace detail

/// The type of model T's primary key (std::int64_t unless its pk() names another member type).
template <class T> using primary_key_t = detail::key_of<T>;

/// A table: its name, then `pk(...)` first, then fields and relations.
template <class Owner, class K, class... Rest>
constexpr auto table(std::string_view name, detail::pk_entry<Owner, K> pk, Rest... rest) {
    static_assert((std::is_same_v<typename Rest::owner, Owner> && ...),
                  "loom::table: every member in a descriptor must belong to the model of its "
                  "pk(); one of them is a member of another struct");
    return detail::table_desc<Owner, detail::pk_entry<Owner, K>, Rest...>{name, {pk, rest...}};
}

/// The primary key: a std::int64_t, assigned by the database on insert; or a std::string (or
/// another key type: hashable, comparable, stored as text or a blob) that the application
/// assigns before inserting. A ForeignKey to a model with such a key names the key type:
/// `loom::ForeignKey<Country, std::string>`.
template <class Owner, class K>
constexpr detail::pk_entry<Owner, K> pk(K Owner::*member, std::string_view column = "id") {
    static_assert(detail::key_type<K>,
                  "loom::pk: the primary key must be a std::int64_t (assigned by the database) "
                  "or a non-NULL-able, non-numeric column type loom can compare and hash, such "
                  "as std::string (assigned by the application)");
    return {member, column};
}

namespace detail {
template <class T> struct is_default_value : std::false_type {};
template <class U> struct is_default_value<default_value_t<U>> : std::true_type { using arg = U; };

template <class T> struct is_sys_time : std::false_type {};
template <class D>
struct is_sys_time<std::chrono::time_point<std::chrono::system_clock, D>> : std::true_type {};

/// The type a default literal is checked against: the storage type of an adapted member.
template <class V> constexpr auto default_target() {
    using B = typename strip_opt<V>::type;
    if constexpr (adapted<B>)
        return std::type_identity<typename ::loom::column_type<B>::storage>{};
    else
        return std::type_identity<B>{};
}

template <class V, class Opt> constexpr void check_field_option() {
    if constexpr (is_default_value<Opt>::value) {
        using Target = typename decltype(default_target<V>())::type;
        using U = typename is_default_value<Opt>::arg;
        static_assert(accepts_value<Target, U>(),
                      "loom::default_value: the value's type does not fit the member's column "
                      "(an integer column takes integers, a text column a string literal...)");
    } else if constexpr (std::is_same_v<Opt, auto_now_t> || std::is_same_v<Opt, auto_now_add_t>) {
        static_assert(is_sys_time<typename strip_opt<V>::type>::value,
                      "loom::auto_now / loom::auto_now_add: the member must be a "
                      "std::chrono::sys_time (sys_seconds, sys_time<milliseconds>...) or a "
                      "std::optional of one");
    } else {
        static_assert(std::is_same_v<Opt, unique_t> || std::is_same_v<Opt, indexed_t>,
                      "loom::field: options are loom::unique, loom::indexed, "
                      "loom::default_value(v), loom::auto_now and loom::auto_now_add");
    }
}
}  // namespace detail

/// A plain column. Options: loom::unique, loom::indexed, loom::default_value(v),
/// loom::auto_now_add, loom::auto_now.
template <class Owner, class V, class... Opts>
constexpr auto field(V Owner::*member, std::string_view column, Opts... opts) {
    static_assert(!detail::is_relation_member<V>::value,
                  "loom::field: this member is a relation; declare it with loom::foreign_key, "
                  "loom::one_to_one, loom::many_to_many or loom::reverse");
    static_assert(detail::column_type<V>,
                  "loom::field: unsupported member type; use bool, an integer type, an enum, "
                  "float/double, std::string, loom::Blob, a std::chrono type, std::optional of "
                  "one of those, or specialize loom::column_type<T> for it (docs/types.md)");
    (detail::check_field_option<V, Opts>(), ...);
    detail::field_entry<Owner, V> e{member, column, (std::is_same_v<Opts, unique_t> || ...),
                                    (std::is_same_v<Opts, indexed_t> || ...)};
    [[maybe_unused]] auto apply = [&e](auto opt) {
        using O = decltype(opt);
        if constexpr (detail::is_default_value<O>::value)
            e.default_value = opt.literal;
        else if constexpr (std::is_same_v<O, auto_now_add_t>)
            e.auto_time_kind = detail::auto_time::on_insert;
        else if constexpr (std::is_same_v<O, auto_now_t>)
            e.auto_time_kind = detail::auto_time::on_write;
    };
    (apply(opts), ...);
    return e;
}

namespace detail {
template <class Owner, class M, class... Opts>
constexpr fk_entry<Owner, M> make_fk(M Owner::*member, std::string_view column, Opts... opts) {
    static_assert(((std::is_same_v<Opts, on_delete> || std::is_same_v<Opts, nullable_t>)&&...),
                  "loom::foreign_key / loom::one_to_one: options are a loom::on_delete value and "
                  "loom::nullable");
    fk_entry<Owner, M> e{member, column, on_delete::restrict, false};
    [[maybe_unused]] auto apply = [&e](auto opt) {
        if constexpr (std::is_same_v<decltype(opt), on_delete>) {
            e.deletion = opt;
            if (opt == on_delete::set_null) e.nullable = true;
        } else {
            e.nullable = true;
        }
    };
    (apply(opts), ...);
    return e;
}
}  // namespace detail

/// A many-to-one column `column` referencing T's primary key. Options: a loom::on_delete
/// (default restrict) and loom::nullable (implied by on_delete::set_null).
template <class Owner, class T, class K, class... Opts>
constexpr auto foreign_key(ForeignKey<T, K> Owner::*member, std::string_view column, Opts... opts) {
    return detail::make_fk(member, column, opts...);
}

/// A one-to-one column: a foreign key with a UNIQUE constraint.
template <class Owner, class T, class K, class... Opts>
constexpr auto one_to_one(OneToOne<T, K> Owner::*member, std::string_view column, Opts... opts) {
    return detail::make_fk(member, column, opts...);
}

/// A many-to-many relation through an automatic join table `join_table`, with columns
/// `<owner table>_id` and `<target table>_id` unless named.
template <class Owner, class T>
constexpr auto many_to_many(ManyToMany<T> Owner::*member, std::string_view join_table,
                            std::string_view owner_column = {},
                            std::string_view target_column = {}) {
    return detail::m2m_entry<Owner, T>{member, join_table, owner_column, target_column};
}

/// Names the explicit through model of a many-to-many: its two ForeignKey members.
template <class Through, class A, class B>
constexpr detail::through_t<Through, A, B> through(ForeignKey<A> Through::*owner_side,
                                                   ForeignKey<B> Through::*target_side) {
    return {owner_side, target_side};
}

/// A many-to-many relation through an explicit model (which may carry its own fields).
template <class Owner, class T, class Through, class A, class B>
constexpr auto many_to_many(ManyToMany<T> Owner::*member, detail::through_t<Through, A, B> t) {
    static_assert(std::is_same_v<A, Owner>,
                  "loom::through: the first member must be the ForeignKey to the owning model");
    static_assert(std::is_same_v<B, T>,
                  "loom::through: the second member must be the ForeignKey to the target model");
    return detail::m2m_entry<Owner, T, Through>{member, t.src, t.dst};
}

// ---- issue 17 (keys and writes): optimistic locking --------------------------------------
/// A version column for optimistic locking (Rails' lock_version): `update` and `remove` run
/// only while the row still has the object's version, and `update` bumps it by one; when
/// another writer got there first they throw loom::ConflictError and write nothing.
///
///     loom::version(&Post::version)   // std::int64_t version = 0;
template <class Owner, class V>
constexpr auto version(V Owner::*member, std::string_view column = "version") {
    static_assert(std::is_integral_v<V> && !std::is_same_v<V, bool>,
                  "loom::version: the version member must be an integer (std::int64_t "
                  "version = 0;)");
    return detail::version_entry<Owner, V>{{member, column}};
}
// ---- end of the optimistic locking block --------------------------------------------------

/// The reverse side of a forward relation declared on T: Reverse<T> for a ForeignKey or a
/// ManyToMany, ReverseOne<T> for a OneToOne.
template <class Owner, class M, class T, class Fwd>
constexpr auto reverse(M Owner::*member, Fwd T::*forward) {
    constexpr bool fk_side =
        detail::is_forward_to<Fwd, Owner, false>::value || std::is_same_v<Fwd, ManyToMany<Owner>>;
    constexpr bool one_side = detail::is_forward_to<Fwd, Owner, true>::value;
    static_assert(fk_side || one_side,
                  "loom::reverse: the second member must be a ForeignKey, OneToOne or ManyToMany "
                  "of the other model that points back at this model");
    if constexpr (fk_side)
        static_assert(std::is_same_v<M, Reverse<T>>,
                      "loom::reverse: the reverse side of a ForeignKey or ManyToMany must be a "
                      "loom::Reverse<T> member");
    if constexpr (one_side)
        static_assert(std::is_same_v<M, ReverseOne<T>>,
                      "loom::reverse: the reverse side of a OneToOne must be a loom::ReverseOne<T> "
                      "member");
    return detail::reverse_entry<Owner, M, T, Fwd>{member, forward};
}
}  // namespace loom
