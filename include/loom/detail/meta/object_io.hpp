// Moving objects to and from rows: reading a model's columns from a result row, binding its
// columns for a write, and naming its relation members (what they report and how they load).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "../../relations.hpp"
#include "../binder.hpp"
#include "descriptor.hpp"

namespace loom::detail {

/// Loads relation I of T for one object (defined by the prefetch engine).
template <class T, std::size_t I> void load_relation(Database& db, void* relation, const void* key);

template <class T, std::size_t I>
inline const RelationInfo relation_info{type_name<T>(), member_name_of<T, I>(),
                                        type_name<typename entry_t<T, I>::target>(),
                                        &load_relation<T, I>};

/// Gives every relation member of `obj` its name and loader (done for objects read from, or
/// written to, the database).
template <class T> void bind_relations(T& obj) {
    // Relations keep an integer owner key for load(); other keys load through db.load.
    std::int64_t key = 0;
    if constexpr (auto_key<T>) key = primary_key_of(obj);
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (is_relation_entry<E>)
            relation_access::bind(obj.*(entry<T, I>().member), &relation_info<T, I>, key);
    });
}

/// Reads the columns of T from `s`: model column k (in meta<T>().columns order) is result
/// column at(k).
template <class T, class At> void read_object_at(const Statement& s, At at, T& obj) {
    int k = 0, c = 0;
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
                    throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                    ": expected an INTEGER primary key, found " +
                                    describe_stored(s, c));
                obj.*(e.member) = v.integer;
            } else if (const char* why = read_column(s.cell(c), obj.*(e.member))) {
                throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                ": a primary key: " + why + ", found " + describe_stored(s, c));
            }
        } else if constexpr (E::kind == entry_kind::field) {
            if (const char* why = read_column(s.cell(c), obj.*(e.member))) {
                throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                " (row " + std::string(entry<T, 0>().column) + "=" +
                                key_text(primary_key_of(obj)) + "): " + why + ", found " +
                                describe_stored(s, c));
            }
        } else if constexpr (has_column<E>) {
            using K = typename E::key_type;
            const engine::CellValue v = s.cell(c);
            if (v.type == engine::Cell::null) {
                relation_access::set_key(obj.*(e.member), std::optional<K>());
            } else if constexpr (std::same_as<K, std::int64_t>) {
                if (v.type != engine::Cell::integer)
                    throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                    " (row " + std::string(entry<T, 0>().column) + "=" +
                                    key_text(primary_key_of(obj)) +
                                    "): expected an INTEGER key, found " + describe_stored(s, c));
                relation_access::set_key(obj.*(e.member), std::optional<K>(v.integer));
            } else {
                std::optional<K> key;
                if (const char* why = read_column(v, key))
                    throw DataError(std::string(type_name<T>()) + "." + std::string(e.column) +
                                    " (row " + std::string(entry<T, 0>().column) + "=" +
                                    key_text(primary_key_of(obj)) + "): a key: " + why +
                                    ", found " + describe_stored(s, c));
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

/// For a FOREIGN KEY failure writing `obj` (the engine names no column): the key columns it set.
/// A key of 0 points at an object never inserted; when only one key is set, it is the one that
/// matches no row. Empty when `obj` sets no key.
template <class T> std::string foreign_key_hint(const T& obj) {
    std::string unsaved, keys, target;
    std::size_t n = 0;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (has_column<E> && E::kind != entry_kind::pk && E::kind != entry_kind::field) {
            const auto& e = entry<T, I>();
            const auto id = (obj.*(e.member)).id();
            if (!id) return;
            const std::string column = meta<T>().name + "." + std::string(e.column);
            if (key_unset(*id) && unsaved.empty())
                unsaved = column + " is " + key_text(*id) + ": the " +
                          meta<typename E::target>().name +
                          " it was given was never inserted (insert it first, then assign it)";
            keys += (n++ ? ", " : "") + column + " = " + key_text(*id);
            target = meta<typename E::target>().name;
        }
    });
    if (!unsaved.empty()) return unsaved;
    if (n == 1) return keys + " matches no " + target;
    if (n > 1) return "one of " + keys + " matches no row";
    return {};
}

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
