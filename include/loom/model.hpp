// loom/model.hpp - compile-time model descriptors. One per model, as a specialization of
// loom::model<T>:
//
//     template <> inline constexpr auto loom::model<Book> = loom::table("book",
//         loom::pk(&Book::id),
//         loom::field(&Book::title, "title"),
//         loom::foreign_key(&Book::publisher, "publisher_id", loom::on_delete::cascade),
//         loom::many_to_many(&Book::authors, "book_authors"),
//         loom::reverse(&Book::reviews, &Review::book));
//
// Descriptors are checked when a model is first used (create_tables, objects, insert...): a
// member of another model, a relation to a model without a descriptor, a reverse side that
// names no forward side or a duplicate column is a static_assert with a readable message.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/type_name.hpp"
#include "relations.hpp"
#include "value.hpp"

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

namespace detail {

struct no_model {};

enum class entry_kind { pk, field, foreign_key, one_to_one, many_to_many, reverse };

template <class Owner>
struct pk_entry {
    using owner = Owner;
    static constexpr entry_kind kind = entry_kind::pk;
    std::int64_t Owner::*member;
    std::string_view column;
};

template <class Owner, class V>
struct field_entry {
    using owner = Owner;
    using value_type = V;
    static constexpr entry_kind kind = entry_kind::field;
    V Owner::*member;
    std::string_view column;
    bool unique = false;
    bool indexed = false;
};

template <class Owner, class M>
struct fk_entry {
    using owner = Owner;
    using member_type = M;
    using target = typename M::target_type;
    static constexpr entry_kind kind = std::is_same_v<M, OneToOne<target>>
                                           ? entry_kind::one_to_one
                                           : entry_kind::foreign_key;
    M Owner::*member;
    std::string_view column;
    on_delete deletion = on_delete::restrict;
    bool nullable = false;
};

/// Through = void: an automatic join table named `table` with columns src/dst (empty = default
/// `<owner table>_id` / `<target table>_id`, `from_`/`to_` prefixed for self-references).
template <class Owner, class Target, class Through = void>
struct m2m_entry {
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
    requires(!std::is_void_v<Through>)
struct m2m_entry<Owner, Target, Through> {
    using owner = Owner;
    using target = Target;
    using through = Through;
    static constexpr entry_kind kind = entry_kind::many_to_many;
    ManyToMany<Target> Owner::*member;
    ForeignKey<Owner> Through::*src;
    ForeignKey<Target> Through::*dst;
};

/// The other side of a forward relation `Fwd Target::*forward`.
template <class Owner, class M, class Target, class Fwd>
struct reverse_entry {
    using owner = Owner;
    using member_type = M;
    using target = Target;
    using forward_type = Fwd;
    static constexpr entry_kind kind = entry_kind::reverse;
    M Owner::*member;
    Fwd Target::*forward;
};

template <class Owner, class... Entries>
struct table_desc {
    using owner = Owner;
    std::string_view name;
    std::tuple<Entries...> entries;
};

template <class Through, class A, class B>
struct through_t {
    ForeignKey<A> Through::*src;
    ForeignKey<B> Through::*dst;
};

template <class T> struct is_table : std::false_type {};
template <class O, class... E> struct is_table<table_desc<O, E...>> : std::true_type {};

template <class T> struct is_relation_member : std::false_type {};
template <class T> struct is_relation_member<ForeignKey<T>> : std::true_type {};
template <class T> struct is_relation_member<OneToOne<T>> : std::true_type {};
template <class T> struct is_relation_member<ManyToMany<T>> : std::true_type {};
template <class T> struct is_relation_member<Reverse<T>> : std::true_type {};
template <class T> struct is_relation_member<ReverseOne<T>> : std::true_type {};

}  // namespace detail

/// The descriptor of model T. Specialize it once per model with loom::table(...).
template <class T>
inline constexpr auto model = detail::no_model{};

/// A table: its name, then `pk(...)` first, then fields and relations.
template <class Owner, class... Rest>
constexpr auto table(std::string_view name, detail::pk_entry<Owner> pk, Rest... rest) {
    static_assert((std::is_same_v<typename Rest::owner, Owner> && ...),
                  "loom::table: every member in a descriptor must belong to the model of its "
                  "pk(); one of them is a member of another struct");
    return detail::table_desc<Owner, detail::pk_entry<Owner>, Rest...>{name, {pk, rest...}};
}

/// The primary key: a 64-bit integer, autoincremented by the database.
template <class Owner>
constexpr detail::pk_entry<Owner> pk(std::int64_t Owner::*member, std::string_view column = "id") {
    return {member, column};
}

/// A plain column. Options: loom::unique, loom::indexed.
template <class Owner, class V, class... Opts>
constexpr auto field(V Owner::*member, std::string_view column, Opts...) {
    static_assert(!detail::is_relation_member<V>::value,
                  "loom::field: this member is a relation; declare it with loom::foreign_key, "
                  "loom::one_to_one, loom::many_to_many or loom::reverse");
    static_assert(detail::column_type<V>,
                  "loom::field: unsupported member type; use bool, an integer type, an enum, "
                  "float/double, std::string, loom::Blob or std::optional of one of those");
    static_assert(((std::is_same_v<Opts, unique_t> || std::is_same_v<Opts, indexed_t>) && ...),
                  "loom::field: options are loom::unique and loom::indexed");
    return detail::field_entry<Owner, V>{member, column,
                                         (std::is_same_v<Opts, unique_t> || ...),
                                         (std::is_same_v<Opts, indexed_t> || ...)};
}

namespace detail {
template <class Owner, class M, class... Opts>
constexpr fk_entry<Owner, M> make_fk(M Owner::*member, std::string_view column, Opts... opts) {
    static_assert(((std::is_same_v<Opts, on_delete> || std::is_same_v<Opts, nullable_t>) && ...),
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
template <class Owner, class T, class... Opts>
constexpr auto foreign_key(ForeignKey<T> Owner::*member, std::string_view column, Opts... opts) {
    return detail::make_fk(member, column, opts...);
}

/// A one-to-one column: a foreign key with a UNIQUE constraint.
template <class Owner, class T, class... Opts>
constexpr auto one_to_one(OneToOne<T> Owner::*member, std::string_view column, Opts... opts) {
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

/// The reverse side of a forward relation declared on T: Reverse<T> for a ForeignKey or a
/// ManyToMany, ReverseOne<T> for a OneToOne.
template <class Owner, class M, class T, class Fwd>
constexpr auto reverse(M Owner::*member, Fwd T::*forward) {
    constexpr bool fk_side = std::is_same_v<Fwd, ForeignKey<Owner>> ||
                             std::is_same_v<Fwd, ManyToMany<Owner>>;
    constexpr bool one_side = std::is_same_v<Fwd, OneToOne<Owner>>;
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

namespace detail {

template <class T>
inline constexpr bool has_model = is_table<std::remove_cvref_t<decltype(model<T>)>>::value;

template <class T>
using model_type = std::remove_cvref_t<decltype(model<T>)>;

template <class T>
constexpr std::size_t entry_count = std::tuple_size_v<decltype(model<T>.entries)>;

template <class T, std::size_t I>
using entry_t = std::tuple_element_t<I, decltype(model<T>.entries)>;

template <class T, std::size_t I>
constexpr const auto& entry() {
    return std::get<I>(model<T>.entries);
}

template <class T, class F>
constexpr void for_each_index(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f(std::integral_constant<std::size_t, I>{}), ...);
    }(std::make_index_sequence<entry_count<T>>{});
}

template <class E>
constexpr bool has_column = E::kind == entry_kind::pk || E::kind == entry_kind::field ||
                            E::kind == entry_kind::foreign_key ||
                            E::kind == entry_kind::one_to_one;

template <class E>
constexpr bool is_relation_entry = E::kind == entry_kind::foreign_key ||
                                   E::kind == entry_kind::one_to_one ||
                                   E::kind == entry_kind::many_to_many ||
                                   E::kind == entry_kind::reverse;

template <class E>
constexpr bool target_has_model() {
    if constexpr (is_relation_entry<E>)
        return has_model<typename E::target>;
    else
        return true;
}

/// Index of the entry of T whose member is `m` (entry_count<T> when none).
template <class T, class M>
constexpr std::size_t index_of_member(M T::*m) {
    std::size_t found = entry_count<T>;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<T, I>().member), M T::*>) {
            if (found == entry_count<T> && entry<T, I>().member == m) found = I;
        }
    });
    return found;
}

template <class T, class E>
constexpr bool reverse_names_forward(const E& e) {
    if constexpr (E::kind == entry_kind::reverse) {
        using Target = typename E::target;
        return index_of_member<Target>(e.forward) < entry_count<Target>;
    } else {
        return true;
    }
}

template <class T>
constexpr bool columns_unique() {
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

template <class T>
constexpr bool members_unique() {
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

/// The descriptor checks, each with its own message. Instantiated on first use of a model.
template <class T>
constexpr bool validate() {
    if constexpr (!has_model<T>) {
        static_assert(has_model<T>,
                      "loom: this model has no descriptor. Declare one with "
                      "template <> inline constexpr auto loom::model<T> = loom::table(...)");
        return false;
    } else {
        using D = model_type<T>;
        static_assert(std::is_same_v<typename D::owner, T>,
                      "loom: the members in loom::model<T> belong to another struct than T");
        constexpr bool targets = []<std::size_t... I>(std::index_sequence<I...>) {
            return (target_has_model<entry_t<T, I>>() && ...);
        }(std::make_index_sequence<entry_count<T>>{});
        static_assert(targets,
                      "loom: a relation in this descriptor points at a model that has no "
                      "descriptor; declare loom::model<Target> as well");
        if constexpr (targets) {
            constexpr bool reverses = []<std::size_t... I>(std::index_sequence<I...>) {
                return (reverse_names_forward<T>(entry<T, I>()) && ...);
            }(std::make_index_sequence<entry_count<T>>{});
            static_assert(reverses,
                          "loom::reverse: the forward member it names is not declared in the "
                          "other model's descriptor (add loom::foreign_key, loom::one_to_one or "
                          "loom::many_to_many for it there)");
        }
        static_assert(columns_unique<T>(),
                      "loom: two entries in this descriptor use the same column name");
        static_assert(members_unique<T>(),
                      "loom: a member is declared twice in this descriptor");
        return true;
    }
}

template <class T>
inline constexpr bool validated = validate<T>();

/// `"name"` with embedded quotes doubled: identifiers come only from descriptors, but are
/// quoted anyway so reserved words ("order", "group") work as names.
inline std::string quote(std::string_view id) {
    std::string out;
    out.reserve(id.size() + 2);
    out += '"';
    for (char c : id) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

template <class T>
std::int64_t primary_key_of(const T& obj) {
    return obj.*(std::get<0>(model<T>.entries).member);
}

template <class T>
std::int64_t& primary_key_ref(T& obj) {
    return obj.*(std::get<0>(model<T>.entries).member);
}

/// The names of a many-to-many's join table and columns, resolved at run time (they may depend
/// on the other model's table name, which is not usable while descriptors are being defined).
struct JoinInfo {
    std::string table;       // quoted
    std::string src_column;  // quoted, points at the owner of the ManyToMany
    std::string dst_column;  // quoted, points at the target
    std::string raw_table, raw_src, raw_dst;
    bool explicit_through = false;
};

template <class T, std::size_t I>
const JoinInfo& join_info() {
    static const JoinInfo info = [] {
        using E = entry_t<T, I>;
        using Target = typename E::target;
        const auto& e = entry<T, I>();
        JoinInfo j;
        if constexpr (std::is_void_v<typename E::through>) {
            const std::string owner_table(model<T>.name), target_table(model<Target>.name);
            j.raw_table = std::string(e.table);
            if (std::is_same_v<T, Target>) {
                j.raw_src = e.src_column.empty() ? "from_" + owner_table + "_id"
                                                 : std::string(e.src_column);
                j.raw_dst = e.dst_column.empty() ? "to_" + target_table + "_id"
                                                 : std::string(e.dst_column);
            } else {
                j.raw_src = e.src_column.empty() ? owner_table + "_id" : std::string(e.src_column);
                j.raw_dst =
                    e.dst_column.empty() ? target_table + "_id" : std::string(e.dst_column);
            }
        } else {
            using Th = typename E::through;
            j.explicit_through = true;
            j.raw_table = std::string(model<Th>.name);
            j.raw_src = std::string(entry<Th, index_of_member<Th>(e.src)>().column);
            j.raw_dst = std::string(entry<Th, index_of_member<Th>(e.dst)>().column);
        }
        j.table = quote(j.raw_table);
        j.src_column = quote(j.raw_src);
        j.dst_column = quote(j.raw_dst);
        return j;
    }();
    return info;
}

/// Run-time facts about a model, built once from its descriptor.
struct ModelMeta {
    std::string name;         // "Book"
    std::string table;        // quoted table name
    std::string raw_table;    // unquoted
    std::string pk;           // quoted pk column
    std::vector<std::string> columns;  // quoted, in select order (pk first)
    std::string insert_sql;            // without the pk
    std::string insert_with_pk_sql;    // with the pk
    std::string update_sql;            // SET every column but the pk, WHERE pk = ?
    std::string delete_sql;
    std::size_t column_count() const { return columns.size(); }

    /// `alias."c1", alias."c2", ...`
    std::string select_list(std::string_view alias) const {
        std::string out;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            if (i) out += ", ";
            out += alias;
            out += '.';
            out += columns[i];
        }
        return out;
    }
};

template <class T>
const ModelMeta& meta() {
    static_assert(validated<T>);
    static const ModelMeta m = [] {
        ModelMeta r;
        r.name = std::string(type_name<T>());
        r.raw_table = std::string(model<T>.name);
        r.table = quote(model<T>.name);
        for_each_index<T>([&](auto i) {
            using E = entry_t<T, decltype(i)::value>;
            if constexpr (has_column<E>)
                r.columns.push_back(quote(entry<T, decltype(i)::value>().column));
        });
        r.pk = r.columns.front();
        std::string cols, qs, sets;
        for (std::size_t c = 1; c < r.columns.size(); ++c) {
            if (c > 1) {
                cols += ", ";
                qs += ", ";
                sets += ", ";
            }
            cols += r.columns[c];
            qs += "?";
            sets += r.columns[c] + " = ?";
        }
        if (r.columns.size() == 1) {
            r.insert_sql = "INSERT INTO " + r.table + " DEFAULT VALUES";
            r.update_sql = "UPDATE " + r.table + " SET " + r.pk + " = " + r.pk + " WHERE " +
                           r.pk + " = ?";
        } else {
            r.insert_sql = "INSERT INTO " + r.table + " (" + cols + ") VALUES (" + qs + ")";
            r.update_sql = "UPDATE " + r.table + " SET " + sets + " WHERE " + r.pk + " = ?";
        }
        r.insert_with_pk_sql = "INSERT INTO " + r.table + " (" + r.pk +
                               (r.columns.size() > 1 ? ", " + cols : std::string()) +
                               ") VALUES (?" + (r.columns.size() > 1 ? ", " + qs : "") + ")";
        r.delete_sql = "DELETE FROM " + r.table + " WHERE " + r.pk + " = ?";
        return r;
    }();
    return m;
}

template <class T, std::size_t I>
constexpr std::string_view member_name_of() {
    return member_name<entry<T, I>().member>();
}

/// Loads relation I of T for one object (defined by the prefetch engine).
template <class T, std::size_t I>
void load_relation(Database& db, void* relation, std::int64_t owner_key);

template <class T, std::size_t I>
inline const RelationInfo relation_info{type_name<T>(), member_name_of<T, I>(),
                                        type_name<typename entry_t<T, I>::target>(),
                                        &load_relation<T, I>};

/// Gives every relation member of `obj` its name and loader (done for objects read from, or
/// written to, the database).
template <class T>
void bind_relations(T& obj) {
    const std::int64_t key = primary_key_of(obj);
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (is_relation_entry<E>)
            relation_access::bind(obj.*(entry<T, I>().member), &relation_info<T, I>, key);
    });
}

/// Reads the columns of T from `s` starting at column `first`, in meta<T>().columns order.
template <class T>
void read_object(const Statement& s, int first, T& obj) {
    int c = first;
    std::int64_t key = 0;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (E::kind == entry_kind::pk) {
            key = s.column_int(c);
            obj.*(e.member) = key;
            ++c;
        } else if constexpr (E::kind == entry_kind::field) {
            if (const char* why = read_column(s, c, obj.*(e.member))) {
                throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                " (row " + std::string(entry<T, 0>().column) + "=" +
                                std::to_string(key) + "): " + why + ", found " +
                                describe_stored(s, c));
            }
            ++c;
        } else if constexpr (has_column<E>) {
            const int t = s.column_type(c);
            if (t == SQLITE_NULL)
                relation_access::set_key(obj.*(e.member), std::nullopt);
            else if (t == SQLITE_INTEGER)
                relation_access::set_key(obj.*(e.member), s.column_int(c));
            else
                throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                " (row " + std::string(entry<T, 0>().column) + "=" +
                                std::to_string(key) + "): expected an INTEGER key, found " +
                                describe_stored(s, c));
            ++c;
        }
    });
    bind_relations(obj);
}

}  // namespace detail
}  // namespace loom
