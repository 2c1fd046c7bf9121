// The prefetch engine's unit: one prefetched relation (or count) of a model, with the
// relations nested under it. A QuerySet keeps a list of them; evaluation runs each on the rows.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../anchor.hpp"
#include "../session.hpp"

namespace loom::detail {

/// The objects a prefetch level loads into and, for each, the anchor whose storage keeps it
/// alive and in place (a QuerySet's rows, a level's block): the only parents whose children
/// get a back reference to them (see anchor.hpp). Objects of the caller's (a vector given to
/// prefetch_related_objects, a chunk, one object given to load) have none: they may move.
template <class Owner> struct Parents {
    std::span<Owner* const> objects;
    std::span<const Anchor* const> holders;  // empty (none has one), or one per object

    const Anchor* holder(std::size_t i) const noexcept {
        return holders.empty() ? nullptr : holders[i];
    }
};

template <class Owner> struct PrefetchNode {
    virtual ~PrefetchNode() = default;
    virtual std::unique_ptr<PrefetchNode> clone() const = 0;
    /// True when both load the same relation into the same member.
    virtual bool same_slot(const PrefetchNode& other) const = 0;
    /// Merges `other`'s nested relations (and queryset, if this has none) into this node.
    virtual void merge(const PrefetchNode& other) = 0;
    /// Loads the relation for every parent, then the nested relations on what it loaded.
    virtual void run_level(Session& s, Parents<Owner> parents) const = 0;
    /// The same, for objects the caller owns.
    void run(Session& s, std::span<Owner* const> parents) const { run_level(s, {parents, {}}); }
    /// "Book::authors"
    virtual std::string describe() const = 0;
    /// The query plan of this level and the levels below, one line per level.
    virtual void explain(Session& s, std::vector<std::string>& out,
                         const std::string& prefix) const = 0;
    /// True for nodes that compute values (annotate_count) rather than load relations:
    /// prefetch_related(loom::none) keeps them.
    virtual bool annotation() const { return false; }
};

template <class Owner> using PrefetchList = std::vector<std::shared_ptr<const PrefetchNode<Owner>>>;

template <class Owner>
void merge_prefetch(PrefetchList<Owner>& list, const PrefetchNode<Owner>& node) {
    for (auto& existing : list) {
        if (existing->same_slot(node)) {
            auto copy = existing->clone();
            copy->merge(node);
            existing = std::move(copy);
            return;
        }
    }
    list.push_back(node.clone());
}

/// Runs every node of `list` on `parents` (objects the caller owns).
template <class Owner>
void run_prefetches(Session& s, const PrefetchList<Owner>& list, std::span<Owner* const> parents) {
    if (parents.empty()) return;
    for (auto& node : list) node->run(s, parents);
}

/// Runs every node of `list` on the rows a RowsAnchor keeps (a QuerySet's result).
template <class Owner>
void run_prefetches(Session& s, const PrefetchList<Owner>& list, RowsAnchor<Owner>& rows) {
    if (rows.rows.empty() || list.empty()) return;
    std::vector<Owner*> parents;
    parents.reserve(rows.rows.size());
    for (auto& r : rows.rows) parents.push_back(&r);
    const std::vector<const Anchor*> holders(parents.size(), &rows);
    for (auto& node : list) node->run_level(s, {parents, holders});
}

}  // namespace loom::detail
