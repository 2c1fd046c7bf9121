// How relations join: the join table of a many-to-many (JoinInfo), and, for every relation,
// the one description of how its rows are found from the parents' keys (RelationJoin), used by
// the prefetch engine, annotate_count and many-to-many writes alike.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

#include "../sql/tokens.hpp"
#include "descriptor.hpp"

namespace loom::detail {

/// The names of a many-to-many's join table and columns, resolved at run time (they may depend
/// on the other model's table name, which is not usable while descriptors are being defined).
struct JoinInfo {
    std::string table;       // quoted
    std::string src_column;  // quoted, points at the owner of the ManyToMany
    std::string dst_column;  // quoted, points at the target
    std::string raw_table, raw_src, raw_dst;
    bool explicit_through = false;
};

template <class T, std::size_t I> const JoinInfo& join_info() {
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
                j.raw_dst =
                    e.dst_column.empty() ? "to_" + target_table + "_id" : std::string(e.dst_column);
            } else {
                j.raw_src = e.src_column.empty() ? owner_table + "_id" : std::string(e.src_column);
                j.raw_dst = e.dst_column.empty() ? target_table + "_id" : std::string(e.dst_column);
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

/// How the rows of relation I of Owner are found from the parents' keys, in a query whose
/// table (alias t0) is the relation's target.
struct RelationJoin {
    /// The column holding a parent's key: the target's primary key for a forward relation,
    /// the target's foreign key column for a reverse one, a join table column (alias j) for a
    /// many-to-many.
    std::string key;
    /// " JOIN <join table> AS j ON j.<target side> = t0.<pk>" for a many-to-many, else empty.
    std::string join;
    /// A ForeignKey or OneToOne: the parent holds the key.
    bool forward = false;
    /// Many-to-many: its join table, and whether Owner is its target side (the Reverse of a
    /// ManyToMany); null for other relations.
    const JoinInfo* through = nullptr;
    bool reversed = false;
};

template <class Owner, std::size_t I> const RelationJoin& relation_join() {
    static const RelationJoin rj = [] {
        using E = entry_t<Owner, I>;
        using Target = typename E::target;
        const std::string t0_pk = "t0." + meta<Target>().pk;
        RelationJoin r;
        auto across = [&](const JoinInfo& j, bool reversed) {
            const std::string& mine = reversed ? j.dst_column : j.src_column;
            const std::string& theirs = reversed ? j.src_column : j.dst_column;
            r.key = "j." + mine;
            r.join = " JOIN " + j.table + " AS j ON j." + theirs + " = " + t0_pk;
            r.through = &j;
            r.reversed = reversed;
        };
        if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
            r.key = t0_pk;
            r.forward = true;
        } else if constexpr (E::kind == entry_kind::many_to_many) {
            across(join_info<Owner, I>(), false);
        } else {
            constexpr std::size_t F = index_of_member<Target>(entry<Owner, I>().forward);
            if constexpr (entry_t<Target, F>::kind == entry_kind::many_to_many)
                across(join_info<Target, F>(), true);
            else
                r.key = "t0." + quote(entry<Target, F>().column);
        }
        return r;
    }();
    return rj;
}

/// Relation I of Owner as one hop of a column path (loom::col(&Post::tags, &Tag::name)): a
/// forward key, the reverse of a one-to-one, or a to-many hop (a reverse key or a join table).
/// The same columns relation_join uses, without its aliases.
template <class Owner, std::size_t I> const JoinStep& relation_hop() {
    static const JoinStep step = [] {
        using E = entry_t<Owner, I>;
        using Target = typename E::target;
        JoinStep s;
        s.table = meta<Target>().table;
        s.pk = meta<Target>().pk;
        s.target = meta<Target>().name;
        s.name = meta<Owner>().name + "::" + std::string(member_name_of<Owner, I>());
        s.src_key = meta<Owner>().pk;
        auto across = [&](const JoinInfo& j, bool reversed) {
            s.kind = JoinStep::many;
            s.through = j.table;
            s.through_src = reversed ? j.dst_column : j.src_column;
            s.through_dst = reversed ? j.src_column : j.dst_column;
        };
        if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
            s.kind = JoinStep::forward;
            s.fk_column = quote(entry<Owner, I>().column);
            s.nullable = entry<Owner, I>().nullable;
            s.src_key.clear();
        } else if constexpr (E::kind == entry_kind::many_to_many) {
            across(join_info<Owner, I>(), false);
        } else {
            constexpr std::size_t F = index_of_member<Target>(entry<Owner, I>().forward);
            using FE = entry_t<Target, F>;
            if constexpr (FE::kind == entry_kind::many_to_many) {
                across(join_info<Target, F>(), true);
            } else {
                s.kind =
                    FE::kind == entry_kind::one_to_one ? JoinStep::reverse_one : JoinStep::many;
                s.dst_fk = quote(entry<Target, F>().column);
                s.nullable = true;
            }
        }
        return s;
    }();
    return step;
}

}  // namespace loom::detail
