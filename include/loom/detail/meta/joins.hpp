// How relations join: the join table of a many-to-many (JoinInfo), and, for every relation,
// the one description of how its rows are found from the parents' keys (RelationJoin), used by
// the prefetch engine, annotate_count and many-to-many writes alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "../config.hpp"
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

    /// The quoted column that points at the side a relation starts from (`reversed`: the
    /// relation is the ManyToMany's Reverse, which starts from its target), and the other one.
    const std::string& from_column(bool reversed) const noexcept {
        return reversed ? dst_column : src_column;
    }
    const std::string& to_column(bool reversed) const noexcept {
        return reversed ? src_column : dst_column;
    }
};

/// The JoinInfo of an automatic many-to-many from `owner_table` to `target_table` (`table`,
/// `src_column`, `dst_column`: the descriptor's names, empty for the defaults; `self`: a
/// model related to itself).
LOOM_DECL JoinInfo automatic_join_info(std::string_view owner_table, std::string_view target_table,
                                       bool self, std::string_view table,
                                       std::string_view src_column, std::string_view dst_column);
/// The JoinInfo of a many-to-many through a model of its own (table and its two key columns).
LOOM_DECL JoinInfo through_join_info(std::string_view table, std::string_view src_column,
                                     std::string_view dst_column);

template <class T, std::size_t I> const JoinInfo& join_info() {
    using E = entry_t<T, I>;
    using Target = typename E::target;
    static const JoinInfo info = [] {
        const auto& e = entry<T, I>();
        if constexpr (std::is_void_v<typename E::through>) {
            return automatic_join_info(model<T>.name, model<Target>.name, std::is_same_v<T, Target>,
                                       e.table, e.src_column, e.dst_column);
        } else {
            using Th = typename E::through;
            return through_join_info(model<Th>.name, entry<Th, index_of_member<Th>(e.src)>().column,
                                     entry<Th, index_of_member<Th>(e.dst)>().column);
        }
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

/// How relation I of Owner reaches its target, with no C++ type left in it: the input of
/// relation_join and relation_hop, built by code compiled once.
struct RelationShape {
    /// forward: a ForeignKey or OneToOne (the owner holds the key); many: a many-to-many from
    /// either side; reverse: a Reverse of a ForeignKey or OneToOne (the target holds the key).
    enum Kind { forward, many, reverse } kind = forward;
    bool one_to_one = false;           // forward or reverse of a OneToOne
    bool nullable = false;             // forward: the key may be NULL
    std::string_view column;           // forward: the owner's key column; reverse: the target's
    const JoinInfo* join = nullptr;    // many: the join table
    bool reversed = false;             // many: the owner is the join table's target side
    const ModelMeta* owner = nullptr;  // the model the relation is declared on
    const ModelMeta* target = nullptr;
    std::string_view member;  // the relation's member name ("tags")
};

template <class Owner, std::size_t I> RelationShape relation_route() {
    using E = entry_t<Owner, I>;
    using Target = typename E::target;
    RelationShape r;
    r.owner = &meta<Owner>();
    r.target = &meta<Target>();
    r.member = member_name_of<Owner, I>();
    if constexpr (E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one) {
        r.kind = RelationShape::forward;
        r.one_to_one = E::kind == entry_kind::one_to_one;
        r.column = entry<Owner, I>().column;
        r.nullable = entry<Owner, I>().nullable;
    } else if constexpr (E::kind == entry_kind::many_to_many) {
        r.kind = RelationShape::many;
        r.join = &join_info<Owner, I>();
    } else {
        constexpr std::size_t F = index_of_member<Target>(entry<Owner, I>().forward);
        using FE = entry_t<Target, F>;
        if constexpr (FE::kind == entry_kind::many_to_many) {
            r.kind = RelationShape::many;
            r.join = &join_info<Target, F>();
            r.reversed = true;
        } else {
            r.kind = RelationShape::reverse;
            r.one_to_one = FE::kind == entry_kind::one_to_one;
            r.column = entry<Target, F>().column;
        }
    }
    return r;
}

LOOM_DECL RelationJoin make_relation_join(const RelationShape& shape);
LOOM_DECL JoinStep make_relation_hop(const RelationShape& shape);

template <class Owner, std::size_t I> const RelationJoin& relation_join() {
    static const RelationJoin rj = make_relation_join(relation_route<Owner, I>());
    return rj;
}

/// Relation I of Owner as one hop of a column path (loom::col(&Post::tags, &Tag::name)): a
/// forward key, the reverse of a one-to-one, or a to-many hop (a reverse key or a join table).
/// The same columns relation_join uses, without its aliases.
template <class Owner, std::size_t I> const JoinStep& relation_hop() {
    static const JoinStep step = make_relation_hop(relation_route<Owner, I>());
    return step;
}

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/joins.hpp"
#endif
