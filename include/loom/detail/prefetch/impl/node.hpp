// The definitions of node.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of node.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL void run_levels(Session& s, std::vector<std::unique_ptr<Level>> batch) {
    std::vector<LevelFetch*> fetch;
    while (!batch.empty()) {
        fetch.clear();
        for (auto& l : batch) fetch.push_back(l.get());
        s.fetch_together(fetch);
        std::vector<std::unique_ptr<Level>> next;
        for (auto& l : batch) {
            l->stitch(next);
            // Its keys, indexes and links go now, so that the next level's stitching can
            // reuse their memory (a lower peak; what it loaded lives on in its anchor).
            l.reset();
        }
        batch = std::move(next);
    }
}

LOOM_DECL void merge_prefetch(NodeList& list, const PrefetchNodeBase& node) {
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

LOOM_DECL std::size_t prefetch_width(const NodeList& list) {
    std::vector<std::size_t> per_depth;
    for (auto& node : list) node->count_levels(per_depth, 0);
    std::size_t widest = 0;
    for (std::size_t n : per_depth) widest = n > widest ? n : widest;
    return widest;
}

}  // namespace loom::detail
