// The definitions of anchor.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of anchor.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL Anchor::Anchor(const RelationInfo* info, std::shared_ptr<const void> keep) noexcept
    : info_(info), keep_(std::move(keep)), storage_(this) {
    // Loom is building relation caches: no assignment is running on this thread.
    release_deferred();
}

LOOM_DECL Anchor::~Anchor() {
    keep_.reset();  // the objects first: their back references still name back_
    delete back_;
    if (hold_) hold_->release(true);
}

LOOM_DECL const Anchor* Anchor::make_back(const RelationInfo* info) {
    if (!back_) {
        back_ = new Anchor(info);
        back_->owner_ = this;
        back_->storage_ = parent_;
    }
    return back_;
}

LOOM_DECL DeferredReleases::~DeferredReleases() {
    release_all();
    alive_ = false;
}

LOOM_DECL void DeferredReleases::add(const Anchor* a, bool external) noexcept {
    if (!alive_) {  // the thread is ending: nothing can be running an assignment
        a->release(external);
        return;
    }
    try {
        pending_.push_back({a, external});
    } catch (...) {
        // Out of memory: keep the reference (a leak) rather than free an object that an
        // assignment may still be reading.
        return;
    }
    if (pending_.size() >= compact_at_) compact();
}

LOOM_DECL void DeferredReleases::release_all() noexcept {
    while (!pending_.empty()) {
        // Releasing may destroy objects, which never assign, but take the list first.
        std::vector<Entry> now;
        now.swap(pending_);
        for (const Entry& e : now) e.anchor->release(e.external);
    }
    compact_at_ = first_compaction;
}

LOOM_DECL void DeferredReleases::compact() noexcept {
    std::sort(pending_.begin(), pending_.end());
    std::size_t kept = 0;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
        if (kept > 0 && pending_[kept - 1] == pending_[i])
            pending_[i].anchor->release(pending_[i].external);
        else
            pending_[kept++] = pending_[i];
    }
    pending_.resize(kept);
    compact_at_ = std::max(first_compaction, 2 * kept);
}

LOOM_DECL DeferredReleases& deferred_releases() noexcept {
    static thread_local DeferredReleases list;
    return list;
}

LOOM_DECL void release_after_assignment(const Anchor* a, bool external) noexcept {
    deferred_releases().add(a, external);
}

LOOM_DECL void release_deferred() noexcept {
    deferred_releases().release_all();
}

}  // namespace loom::detail
