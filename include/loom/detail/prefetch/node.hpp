// The prefetch engine's unit: one prefetched relation (or count) of a model, with the
// relations nested under it. A QuerySet keeps a list of them; evaluation runs each on the rows.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "../session.hpp"

namespace loom::detail {

template <class Owner>
struct PrefetchNode {
    virtual ~PrefetchNode() = default;
    virtual std::unique_ptr<PrefetchNode> clone() const = 0;
    /// True when both load the same relation into the same member.
    virtual bool same_slot(const PrefetchNode& other) const = 0;
    /// Merges `other`'s nested relations (and queryset, if this has none) into this node.
    virtual void merge(const PrefetchNode& other) = 0;
    /// Loads the relation for every parent, then the nested relations on what it loaded.
    virtual void run(Session& s, std::span<Owner* const> parents) const = 0;
    /// "Book::authors"
    virtual std::string describe() const = 0;
    /// The query plan of this level and the levels below, one line per level.
    virtual void explain(Session& s, std::vector<std::string>& out,
                         const std::string& prefix) const = 0;
    /// True for nodes that compute values (annotate_count) rather than load relations:
    /// prefetch_related(loom::none) keeps them.
    virtual bool annotation() const { return false; }
};

template <class Owner>
using PrefetchList = std::vector<std::shared_ptr<const PrefetchNode<Owner>>>;

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

/// Runs every node of `list` on `parents`.
template <class Owner>
void run_prefetches(Session& s, const PrefetchList<Owner>& list, std::span<Owner* const> parents) {
    if (parents.empty()) return;
    for (auto& node : list) node->run(s, parents);
}

}  // namespace loom::detail
