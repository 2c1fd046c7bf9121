// Moving objects to and from rows: reading a model's columns from a result row, binding its
// columns for a write, and naming its relation members (what they report and how they load).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "../../relations.hpp"
#include "../binder.hpp"
#include "../config.hpp"
#include "descriptor.hpp"

namespace loom::detail {

// Defined by the prefetch engine: the LevelSpec of relation I of T, and rel.load(db) of a
// member that loads by a key of T that is not a std::int64_t.
template <class T, std::size_t I> const LevelSpec& spec_of();
template <class T, std::size_t I> void load_by_key_of(Database& db, void* cache, const void* key);

/// RelationInfo::load_by_key for relation I of T: set only where the member cannot name the
/// key's type itself (a to-many or ReverseOne member of a model whose key is not an integer).
template <class T, std::size_t I>
constexpr auto by_key_loader() -> void (*)(Database&, void*, const void*) {
    constexpr entry_kind kind = entry_t<T, I>::kind;
    if constexpr (!auto_key<T> && (kind == entry_kind::many_to_many || kind == entry_kind::reverse))
        return &load_by_key_of<T, I>;
    else
        return nullptr;
}

template <class T, std::size_t I>
inline const RelationInfo relation_info{type_name<T>(), member_name_of<T, I>(),
                                        type_name<typename entry_t<T, I>::target>(), &spec_of<T, I>,
                                        by_key_loader<T, I>()};

/// T has a member that loads by its owner's key (a ManyToMany, Reverse or ReverseOne).
template <class T> constexpr bool loads_by_owner_key() {
    bool any = false;
    for_each_index<T>([&](auto i) {
        using E = entry_t<T, decltype(i)::value>;
        if constexpr (E::kind == entry_kind::many_to_many || E::kind == entry_kind::reverse)
            any = true;
    });
    return any;
}

/// Gives every relation member of `obj` its name and loader (done for objects read from, or
/// written to, the database).
template <class T> void bind_relations(T& obj) {
    auto bind_all = [&obj](auto key) {
        for_each_index<T>([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using E = entry_t<T, I>;
            if constexpr (is_relation_entry<E>)
                relation_access::bind(obj.*(entry<T, I>().member), &relation_info<T, I>, key);
        });
    };
    // The members that load by their owner's key (to-many, ReverseOne) keep it: an integer
    // as it is, another key in one KeyBox the object's members share.
    if constexpr (auto_key<T>) {
        bind_all(primary_key_of(obj));
    } else if constexpr (loads_by_owner_key<T>()) {
        const KeyBox* box = new KeyBoxOf<key_of<T>>(primary_key_of(obj));
        bind_all(box);
        box->release();
    } else {
        bind_all(std::int64_t{0});
    }
}

/// Throws the DataError of a column read_object_at could not read: "Model.column (row
/// pk=key): <lead><why>, found <what is stored>" (no "(row ...)" for the primary key itself).
/// Out of line, so that each model's reading code carries a call, not the message's building.
[[noreturn]] LOOM_DECL void throw_read_error(std::string_view model, std::string_view column,
                                             std::string_view pk_column, const std::string* key,
                                             std::string_view lead, std::string_view why,
                                             const Statement& s, int c);

/// Reads the columns of T from `s`: model column k (in meta<T>().columns order) is result
/// column at(k).
template <class T, class At> void read_object_at(const Statement& s, At at, T& obj) {
    int k = 0, c = 0;
    // The failure of column `column`: `lead` and `why` say what was wrong.
    const auto fail = [&](std::string_view column, bool row, std::string_view lead,
                          std::string_view why) {
        const std::string key = row ? key_text(primary_key_of(obj)) : std::string();
        throw_read_error(type_name<T>(), column, entry<T, 0>().column, row ? &key : nullptr, lead,
                         why, s, c);
    };
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (has_column<E>) c = at(k++);
        if constexpr (E::kind == entry_kind::pk) {
            if constexpr (auto_key<T>) {
                // One call to the engine per cell: its type and value together.
                const engine::CellValue v = s.cell(c);
                if (v.type != engine::Cell::integer)
                    fail(e.column, false, "", "expected an INTEGER primary key");
                obj.*(e.member) = v.integer;
            } else if (const char* why = read_column(s.cell(c), obj.*(e.member))) {
                fail(e.column, false, "a primary key: ", why);
            }
        } else if constexpr (E::kind == entry_kind::field) {
            if (const char* why = read_column(s.cell(c), obj.*(e.member)))
                fail(e.column, true, "", why);
        } else if constexpr (has_column<E>) {
            using K = typename E::key_type;
            const engine::CellValue v = s.cell(c);
            if (v.type == engine::Cell::null) {
                relation_access::set_key(obj.*(e.member), std::optional<K>());
            } else if constexpr (std::same_as<K, std::int64_t>) {
                if (v.type != engine::Cell::integer)
                    fail(e.column, true, "", "expected an INTEGER key");
                relation_access::set_key(obj.*(e.member), std::optional<K>(v.integer));
            } else {
                std::optional<K> key;
                if (const char* why = read_column(v, key)) fail(e.column, true, "a key: ", why);
                relation_access::set_key(obj.*(e.member), std::move(key));
            }
        }
    });
    bind_relations(obj);
}

/// Reads the columns of T from `s` starting at column `first`, in meta<T>().columns order.
template <class T> void read_object(const Statement& s, int first, T& obj) {
    read_object_at(
        s, [first](int k) { return first + k; }, obj);
}

/// One foreign key column a failed write set: `column` ("Book.publisher_id"), the key as
/// messages show it, the target model's name, and whether the key is an unset one (0, '').
struct KeySet {
    std::string column, key, target;
    bool unset = false;
};

/// For a FOREIGN KEY failure of a write that set the key columns `set` (the engine names no
/// column): a key of 0 points at an object never inserted; when only one key is set, it is the
/// one that matches no row. Empty when no key was set. The one text for insert, update, save,
/// bulk writes and QuerySet::update.
LOOM_DECL std::string missing_key_hint(const std::vector<KeySet>& set);

/// Adds the KeySet of `owner`'s key column `column`, set to `key`, pointing at `target`.
LOOM_DECL void add_key_set(std::vector<KeySet>& set, const ModelMeta& owner,
                           std::string_view column, std::string key, const ModelMeta& target,
                           bool unset);

/// For a FOREIGN KEY failure writing `obj`: the key columns it set (see missing_key_hint).
template <class T> std::string foreign_key_hint(const T& obj) {
    std::vector<KeySet> set;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (has_column<E> && E::kind != entry_kind::pk && E::kind != entry_kind::field) {
            const auto& e = entry<T, I>();
            const auto id = (obj.*(e.member)).id();
            if (!id) return;
            add_key_set(set, meta<T>(), e.column, key_text(*id), meta<typename E::target>(),
                        key_unset(*id));
        }
    });
    return missing_key_hint(set);
}

/// The restrict foreign keys T's descriptor knows refer to its rows, as `"jar"."shelf_id"`: the
/// forward sides its loom::reverse entries name, and the owner side of its explicit
/// many-to-many through models (automatic join tables cascade). What the message of a refused
/// delete names when the engine cannot tell which rows refer (a non-integer key, a bulk remove,
/// a PostgreSQL transaction the error aborted): taken from descriptors, the same on every engine.
template <class T> std::vector<std::string> restrict_references() {
    std::vector<std::string> out;
    auto add = [&](std::string_view table, std::string_view column, on_delete rule) {
        if (rule != on_delete::restrict && rule != on_delete::no_action) return;
        std::string r = quote(table) + "." + quote(column);
        for (const auto& x : out)
            if (x == r) return;
        out.push_back(std::move(r));
    };
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (E::kind == entry_kind::reverse) {
            using Target = typename E::target;
            visit_entry(e.forward, [&](auto j) {
                using F = entry_t<Target, decltype(j)::value>;
                const auto& f = entry<Target, decltype(j)::value>();
                if constexpr (F::kind != entry_kind::many_to_many) {
                    add(model<Target>.name, f.column, f.deletion);
                } else if constexpr (!std::is_void_v<typename F::through>) {
                    using Through = typename F::through;  // its ForeignKey to T
                    visit_entry(f.dst, [&](auto k) {
                        const auto& g = entry<Through, decltype(k)::value>();
                        add(model<Through>.name, g.column, g.deletion);
                    });
                }
            });
        } else if constexpr (E::kind == entry_kind::many_to_many) {
            using Through = typename E::through;
            if constexpr (!std::is_void_v<Through>)
                visit_entry(e.src, [&](auto j) {
                    const auto& f = entry<Through, decltype(j)::value>();
                    add(model<Through>.name, f.column, f.deletion);
                });
        }
    });
    return out;
}

/// What loom adds to a delete (or a key change) that a restrict foreign key refused: `what`
/// ("Shelf id=1", "a Shelf row this remove() matches") is still referred to by `refs`, the
/// referring columns; `found` when the engine found rows in each, else they are the ones the
/// descriptors declare (any of them may be the one). The one text for db.remove and the bulk
/// QuerySet::remove / update.
LOOM_DECL std::string still_referred_to(std::string_view what, const std::vector<std::string>& refs,
                                        bool found);

/// Binds every column of `obj` but the pk (and the pk first when `with_pk`); a loom::version
/// column binds its value plus `bump`.
template <class T> void bind_object(Binder& b, const T& obj, bool with_pk, int bump = 0) {
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        const auto& e = entry<T, I>();
        if constexpr (E::kind == entry_kind::pk) {
            if (with_pk) b.key(obj.*(e.member));
        } else if constexpr (version_column<E>) {
            b(static_cast<typename E::value_type>(obj.*(e.member) + bump));
        } else if constexpr (E::kind == entry_kind::field) {
            b(obj.*(e.member));
        } else if constexpr (has_column<E>) {
            b.key((obj.*(e.member)).id());
        }
    });
}

/// Calls f(I) for the entry of column member `m` of T; a UsageError names `what` when `m` is
/// not a column of T's descriptor, or is its primary key.
template <class T, class M, class F> void visit_column(M T::*m, const char* what, F&& f) {
    const bool found = visit_entry(m, [&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (!has_column<E>)
            throw UsageError(std::string(what) + ": " + meta<T>().name +
                             "::" + std::string(member_name_of<T, I>()) +
                             " is not a column (a relation without one); name fields and foreign "
                             "keys");
        else if constexpr (E::kind == entry_kind::pk)
            throw UsageError(std::string(what) + ": the primary key of " + meta<T>().name +
                             " cannot be updated; insert a new row instead");
        else if constexpr (version_column<E>)
            throw UsageError(std::string(what) + ": " + meta<T>().name +
                             "::" + std::string(member_name_of<T, I>()) +
                             " is the loom::version column: loom bumps it; leave it out");
        else
            f(i);
    });
    if (!found)
        throw UsageError(std::string(what) +
                         ": a member named is not declared in the "
                         "descriptor of " +
                         meta<T>().name);
}

/// Binds the column of member `m` of `obj` (a field, or a foreign key's key).
template <class T, class M> void bind_member(Binder& b, const T& obj, M T::*m) {
    visit_column(m, "update", [&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        // Through the entry's member (the same as m), so that each branch depends on I.
        if constexpr (E::kind == entry_kind::field)
            b(obj.*(entry<T, I>().member));
        else
            b.key((obj.*(entry<T, I>().member)).id());
    });
}

}  // namespace loom::detail

LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::KeySet>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/object_io.hpp"
#endif
