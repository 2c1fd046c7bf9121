// The prefetch engine's unit: one prefetched relation (or count) of a model, with the
// relations nested under it. A QuerySet keeps a list of them; evaluation runs each on the rows.
//
// A level runs in three phases: plan (keys, SQL and parameters from the parents, on the
// evaluating thread), fetch (its statements run and their rows read into the level's own
// objects: Session::fetch_together, possibly on a worker connection and thread, beside its
// siblings), stitch (the parents' caches filled, on the evaluating thread, in plan order), and
// the stitch plans the nested levels on what it loaded. run_levels drives them breadth-first:
// every level whose parents are loaded is in one batch.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../anchor.hpp"
#include "../config.hpp"
#include "../session.hpp"
#include "../std_light.hpp"

namespace loom::detail {

/// The objects a prefetch level loads into and, for each, the anchor whose storage keeps it
/// alive and in place (a QuerySet's rows, a level's block): the only parents whose children
/// get a back reference to them (see anchor.hpp). Objects of the caller's (a vector given to
/// prefetch_related_objects, a chunk, one object given to load) have none: they may move.
template <class Owner> struct Parents {
    std::span<Owner* const> objects;         // one pointer each, unless they are `run`
    std::span<const Anchor* const> holders;  // empty (see `held_by`), or one per object
    /// The objects when they are one array (a QuerySet's rows): no pointer each.
    std::span<Owner> run;
    /// With no `holders`: the anchor that keeps every object (null: none has one).
    const Anchor* held_by = nullptr;

    Parents() = default;
    Parents(std::span<Owner* const> o, std::span<const Anchor* const> h = {}) noexcept
        : objects(o), holders(h) {}

    std::size_t size() const noexcept { return run.data() ? run.size() : objects.size(); }
    Owner* object(std::size_t i) const noexcept { return run.data() ? &run[i] : objects[i]; }
    const Anchor* holder(std::size_t i) const noexcept {
        return holders.empty() ? held_by : holders[i];
    }
};

/// One planned level: fetched by Session::fetch_together, then stitched.
struct Level : LevelFetch {
    /// Kept alive while this level and the levels planned from it exist: another database's
    /// read snapshot (a Prefetch's queryset of another Database).
    std::shared_ptr<void> keep;
    /// The anchor of the level whose objects are this level's parents.
    AnchorRef parent_anchor;

    /// Fills the parents' caches with what the fetch read (the evaluating thread, after
    /// every level of the batch fetched without error), then appends to `next` the nested
    /// levels planned on the objects it loaded.
    virtual void stitch(std::vector<std::unique_ptr<Level>>& next) = 0;
};

/// Fetches and stitches `batch`, then the levels it planned, breadth-first, until none is
/// left: each batch in one Session::fetch_together.
LOOM_DECL void run_levels(Session& s, std::vector<std::unique_ptr<Level>> batch);

/// What a prefetch node is whatever its owner model: one type, so that the lists of every model
/// (and their shared_ptr and vector code) are compiled once, not once a model.
struct PrefetchNodeBase {
    virtual ~PrefetchNodeBase() = default;
    /// A copy, of the same owner model.
    virtual std::unique_ptr<PrefetchNodeBase> clone() const = 0;
    /// True when both load the same relation into the same member.
    virtual bool same_slot(const PrefetchNodeBase& other) const = 0;
    /// Merges `other`'s nested relations (and queryset, if this has none) into this node.
    virtual void merge(const PrefetchNodeBase& other) = 0;
    /// Counts this node at `depth` of `per_depth`, and its nested nodes below.
    virtual void count_levels(std::vector<std::size_t>& per_depth, std::size_t depth) const {
        if (per_depth.size() <= depth) per_depth.resize(depth + 1);
        ++per_depth[depth];
    }
    /// "Book::authors"
    virtual std::string describe() const = 0;
    /// The query plan of this level and the levels below, one line per level.
    virtual void explain(Session& s, std::vector<std::string>& out,
                         const std::string& prefix) const = 0;
    /// True for nodes that compute values (annotate_count) rather than load relations:
    /// prefetch_related(loom::none) keeps them.
    virtual bool annotation() const { return false; }
};

/// A prefetch node of relations of Owner: the one typed step, planning a level on parents.
template <class Owner> struct PrefetchNode : PrefetchNodeBase {
    /// Plans this level for `parents` (see the top of this file); `s` is the parents'
    /// database.
    virtual std::unique_ptr<Level> plan(Session& s, Parents<Owner> parents) const = 0;
    /// Plans and runs this level and the levels below on `parents` (objects the caller owns).
    void run(Session& s, std::span<Owner* const> parents) const {
        std::vector<std::unique_ptr<Level>> batch;
        batch.push_back(plan(s, Parents<Owner>(parents)));
        run_levels(s, std::move(batch));
    }
};

/// A list of prefetch nodes, every one of them a PrefetchNode<Owner> of the list's owner: the
/// functions that add to a list take a PrefetchNode<Owner> (or a node of that owner's
/// clone()), and run_prefetches<Owner> relies on it. One vector type for every model.
using NodeList = std::vector<std::shared_ptr<const PrefetchNodeBase>>;
template <class Owner> using PrefetchList = NodeList;

/// Adds `node` to `list` (nodes of one owner), merged into the node of the same slot if there
/// is one.
LOOM_DECL void merge_prefetch(NodeList& list, const PrefetchNodeBase& node);

/// The most levels of `list` that can be in one batch (levels at one depth): how many may
/// run at the same time.
LOOM_DECL std::size_t prefetch_width(const NodeList& list);

/// The node of `list` (a list of Owner's nodes) as what it is.
template <class Owner> const PrefetchNode<Owner>& typed_node(const PrefetchNodeBase& node) {
    return static_cast<const PrefetchNode<Owner>&>(node);
}

/// Runs every node of `list` on `parents`.
template <class Owner>
void run_prefetches(Session& s, const NodeList& list, Parents<Owner> parents) {
    if (parents.size() == 0 || list.empty()) return;
    std::vector<std::unique_ptr<Level>> batch;
    batch.reserve(list.size());
    for (auto& node : list) batch.push_back(typed_node<Owner>(*node).plan(s, parents));
    run_levels(s, std::move(batch));
}

/// Runs every node of `list` on `parents` (objects the caller owns).
template <class Owner>
void run_prefetches(Session& s, const NodeList& list, std::span<Owner* const> parents) {
    run_prefetches<Owner>(s, list, Parents<Owner>(parents));
}

/// Runs every node of `list` on the rows a RowsAnchor keeps (a QuerySet's result).
template <class Owner>
void run_prefetches(Session& s, const NodeList& list, RowsAnchor<Owner>& rows) {
    Parents<Owner> parents;
    parents.run = rows.rows;
    parents.held_by = &rows;
    run_prefetches<Owner>(s, list, parents);
}

}  // namespace loom::detail

LOOM_EXTERN_TEMPLATE(class std::vector<std::shared_ptr<const loom::detail::PrefetchNodeBase>>);
LOOM_EXTERN_TEMPLATE(class std::unique_ptr<loom::detail::Level>);
// std::unique_ptr<Level> is move-only: the std::vector members loom calls.
LOOM_EXTERN_MOVE_ONLY_VECTOR(std::unique_ptr<loom::detail::Level>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/node.hpp"
#endif
