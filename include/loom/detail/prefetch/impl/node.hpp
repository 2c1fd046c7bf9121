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

}  // namespace loom::detail
