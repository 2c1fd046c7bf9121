// Anchor and RelationWord: how a relation member stays one pointer wide. The relation caches that
// one prefetch level fills all point at the same Anchor, which keeps that level's objects (and,
// for to-many relations, the one array their item lists are slices of) alive. A member holds a
// single tagged word: the relation's static RelationInfo while it is not loaded, the Anchor
// (intrusively counted, shared by every copy) once it is.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "../fwd.hpp"

namespace loom::detail {

/// What a relation member knows about itself once its object came from (or went to) the
/// database: names for messages, and how to load it explicitly.
struct RelationInfo {
    std::string_view owner;   // "Book"
    std::string_view member;  // "authors"
    std::string_view target;  // "Author"
    void (*load)(Database& db, void* relation, std::int64_t owner_key);
};

/// Keeps the objects of loaded relation caches alive; shared by all the caches of one level
/// and by every copy of them. Counted intrusively (one pointer per member, one atomic
/// increment per copy, like a shared_ptr).
class Anchor {
public:
    explicit Anchor(const RelationInfo* info, std::shared_ptr<const void> keep = nullptr) noexcept
        : info_(info), keep_(std::move(keep)) {}
    Anchor(const Anchor&) = delete;
    Anchor& operator=(const Anchor&) = delete;
    virtual ~Anchor() = default;

    const RelationInfo* info() const noexcept { return info_; }
    void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() const noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

private:
    const RelationInfo* info_;
    std::shared_ptr<const void> keep_;  // the level's block of objects
    mutable std::atomic<std::size_t> refs_{0};
};

/// An owning reference to an Anchor (for the engine while it fills a level, and for anchors
/// that keep older ones alive).
class AnchorRef {
public:
    AnchorRef() noexcept = default;
    explicit AnchorRef(const Anchor* a) noexcept : p_(a) {
        if (p_) p_->retain();
    }
    AnchorRef(const AnchorRef& o) noexcept : AnchorRef(o.p_) {}
    AnchorRef(AnchorRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    AnchorRef& operator=(AnchorRef o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~AnchorRef() {
        if (p_) p_->release();
    }
    const Anchor* get() const noexcept { return p_; }

private:
    const Anchor* p_ = nullptr;
};

/// The anchor of to-many relation caches: each list is a slice of `items`. A prefetch level
/// fills one array for all its lists; a list edited by db.m2m(...) gets an anchor of its own
/// (`edited`) that keeps the level's anchor (`base`, whose objects it may still list) and the
/// copies edits added alive. Edits never chain: the next edit takes over `base` and the copies
/// still listed, so memory stays linear in the list however often it is edited.
template <class T>
class ListAnchor final : public Anchor {
public:
    using Anchor::Anchor;
    std::vector<const T*> items;
    bool edited = false;
    AnchorRef base;                                // the prefetch level's anchor, if any
    std::vector<std::shared_ptr<const T>> copies;  // objects edits added
};

/// One word: a RelationInfo* (not loaded) or an Anchor* (loaded, bit 0 set), plus one flag bit
/// for the member's own use (ForeignKey: "the key is set"). Copies share the anchor.
class RelationWord {
    static constexpr std::uintptr_t loaded_bit = 1, flag_bit = 2, pointer_mask = ~std::uintptr_t{3};
    static_assert(alignof(RelationInfo) >= 4 && alignof(Anchor) >= 4);

public:
    RelationWord() noexcept = default;
    RelationWord(const RelationWord& o) noexcept : w_(o.w_) {
        if (const Anchor* a = anchor()) a->retain();
    }
    RelationWord(RelationWord&& o) noexcept : w_(o.w_) { o.w_ = o.unloaded(); }
    RelationWord& operator=(const RelationWord& o) noexcept {
        RelationWord t(o);
        std::swap(w_, t.w_);
        return *this;
    }
    RelationWord& operator=(RelationWord&& o) noexcept {
        RelationWord t(std::move(o));
        std::swap(w_, t.w_);
        return *this;
    }
    ~RelationWord() {
        if (const Anchor* a = anchor()) a->release();
    }

    bool loaded() const noexcept { return (w_ & loaded_bit) != 0; }
    const Anchor* anchor() const noexcept {
        return loaded() ? reinterpret_cast<const Anchor*>(w_ & pointer_mask) : nullptr;
    }
    const RelationInfo* info() const noexcept {
        if (const Anchor* a = anchor()) return a->info();
        return reinterpret_cast<const RelationInfo*>(w_ & pointer_mask);
    }
    bool flag() const noexcept { return (w_ & flag_bit) != 0; }
    void set_flag(bool on) noexcept { w_ = on ? (w_ | flag_bit) : (w_ & ~flag_bit); }

    /// Names the relation. A loaded one is left alone: its anchor names it.
    void bind(const RelationInfo* info) noexcept {
        if (loaded()) return;
        w_ = reinterpret_cast<std::uintptr_t>(info) | (w_ & flag_bit);
    }
    /// Marks the relation loaded, anchored by `a` (never null).
    void load(const Anchor* a) noexcept {
        a->retain();
        unload();
        w_ = reinterpret_cast<std::uintptr_t>(a) | loaded_bit | (w_ & flag_bit);
    }
    /// Back to not loaded; the relation keeps its name.
    void unload() noexcept {
        if (const Anchor* a = anchor()) {
            w_ = unloaded();
            a->release();
        }
    }

private:
    std::uintptr_t unloaded() const noexcept {
        return reinterpret_cast<std::uintptr_t>(info()) | (w_ & flag_bit);
    }

    std::uintptr_t w_ = 0;
};

}  // namespace loom::detail
