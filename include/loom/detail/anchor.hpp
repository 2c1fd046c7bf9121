// Anchor and RelationWord: how a relation member stays one pointer wide. The relation caches that
// one prefetch level fills all point at the same Anchor, which keeps that level's objects (and,
// for to-many relations, the one array their item lists are slices of) alive. A member holds a
// single tagged word: the relation's static RelationInfo while it is not loaded, the Anchor
// (intrusively counted, shared by every copy) once it is.
//
// Ownership, and why there are no cycles. A level's objects are owned by one anchor (their
// storage); the relation words of objects that live in storage loom owns (a level's block, a
// QuerySet's rows) are *internal*, every other word (your objects, your copies) is *external*.
// A back reference (a child's ForeignKey to the parent a reverse level loaded it for) points
// the other way, so it must not own its parent: the word in the child is internal and counts
// nothing. What keeps the parent alive is the rule that an anchor with a `parent` holds it while
// at least one external word refers to it: while nothing outside refers to a level, the level is
// reachable only through its parents, which are then alive; as soon as a copy is taken outside,
// the copy keeps the parents alive too, and lets go when it goes.
//
// Assignment defers releases. `b = b.authors[0].books[0]` copies a Book from a block that only
// `b.authors` keeps alive: releasing `b.authors`' old anchor on the spot would free the source
// before `b.reviews` is copied from it. A word's assignment therefore hands its old anchor to a
// per-thread list, released the next time loom builds relation caches (a new Anchor) or when
// the thread ends: never while an assignment is running. The list is kept free of duplicates,
// so it never holds more than the anchors that already exist.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>
#include <vector>

#include "../fwd.hpp"
#include "config.hpp"
#include "std_light.hpp"

namespace loom::detail {

struct LevelSpec;

/// What a relation member knows about itself once its object came from (or went to) the
/// database: names for messages, and how to load it explicitly.
struct alignas(16) RelationInfo {
    std::string_view owner;   // "Book"
    std::string_view member;  // "authors"
    std::string_view target;  // "Author"
    /// The relation's LevelSpec, which rel.load(db) runs: the member's load() (a template,
    /// compiled only where it is called) runs the level of its target from it, so that naming
    /// a relation (every object read or written) compiles no loader. Null for `into`.
    const LevelSpec& (*spec)() = nullptr;
    /// Loads a to-many or ReverseOne member whose owner's key is not a std::int64_t (the key's
    /// type is known only here, not to the member): `key` is a const key_of<Owner>* (see
    /// KeyedWord). Null for every other relation.
    void (*load_by_key)(Database& db, void* relation, const void* key) = nullptr;
    /// Set for a member that Prefetch(&Owner::member, ...).into(...) filled: a member the
    /// descriptor does not declare, which load(db) cannot fill (`spec` is null).
    bool into = false;
};

class Anchor;
LOOM_DECL void release_after_assignment(const Anchor* a, bool external) noexcept;
LOOM_DECL void release_deferred() noexcept;

/// Keeps the objects of loaded relation caches alive; shared by all the caches of one level
/// and by every copy of them. Counted intrusively (one pointer per member, one atomic
/// increment per copy, like a shared_ptr).
class alignas(16) Anchor {
public:
    explicit Anchor(const RelationInfo* info, std::shared_ptr<const void> keep = nullptr) noexcept;
    Anchor(const Anchor&) = delete;
    Anchor& operator=(const Anchor&) = delete;
    LOOM_DECL virtual ~Anchor();

    const RelationInfo* info() const noexcept { return info_; }

    /// One more word refers to this anchor; `external` when the word is not inside storage
    /// loom owns. A back reference anchor counts only external words, on its owner.
    void retain(bool external = true) const noexcept {
        if (owner_) {
            if (external) owner_->retain(true);
            return;
        }
        refs_.fetch_add(1, std::memory_order_relaxed);
        if (external && parent_ && ext_.fetch_add(1, std::memory_order_acq_rel) == 0)
            parent_->retain(true);
    }
    void release(bool external = true) const noexcept {
        if (owner_) {
            if (external) owner_->release(true);
            return;
        }
        // The parent goes first, while this anchor is still counted (letting the parent go
        // may free objects whose internal words refer to this anchor).
        if (external && parent_ && ext_.fetch_sub(1, std::memory_order_acq_rel) == 1)
            parent_->release(true);
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

    // ---- set by the prefetch engine while it builds a level, before any word refers to it ----

    /// Holds `parent` while external words refer to this anchor (see the header comment).
    /// Every internal word that refers to this anchor must live in `parent`'s storage. Set
    /// before anything refers to this anchor.
    void set_parent(const Anchor* parent) noexcept { parent_ = parent; }
    /// Keeps `a` alive as long as this anchor lives (a level's storage, for the anchors of its
    /// groups of parents).
    void hold(const Anchor* a) noexcept {
        a->retain(true);
        if (hold_) hold_->release(true);
        hold_ = a;
    }
    /// The anchor whose lifetime bounds the objects this anchor's caches point at: itself for
    /// a level's storage or a QuerySet's rows, a group's anchor for the objects it lists, the
    /// parents' storage for a back reference; null when they live in mixed storage (a list a
    /// many-to-many edit rebuilt).
    const Anchor* storage() const noexcept { return storage_; }
    void set_storage(const Anchor* s) noexcept { storage_ = s; }
    /// The anchor of the back references into this anchor's parents (children's ForeignKey
    /// to the parent they were loaded for), named by `info`; owned by this anchor, which
    /// counts its external references. Its storage is the parents' storage.
    const Anchor* make_back(const RelationInfo* info);

private:
    const RelationInfo* info_;
    std::shared_ptr<const void> keep_;  // the level's block of objects
    const Anchor* parent_ = nullptr;    // held while external words refer to this anchor
    const Anchor* hold_ = nullptr;      // held while this anchor lives
    const Anchor* storage_;
    Anchor* back_ = nullptr;         // owned
    const Anchor* owner_ = nullptr;  // set on a back reference anchor: its owner counts
    mutable std::atomic<std::size_t> refs_{0};
    mutable std::atomic<std::size_t> ext_{0};
};

/// An owning reference to an Anchor (for the engine while it fills a level, for anchors that
/// keep older ones alive, and for a QuerySet's rows). Counts as an external word.
class AnchorRef {
public:
    AnchorRef() noexcept = default;
    explicit AnchorRef(const Anchor* a) noexcept : p_(a) {
        if (p_) p_->retain(true);
    }
    AnchorRef(const AnchorRef& o) noexcept : AnchorRef(o.p_) {}
    AnchorRef(AnchorRef&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    AnchorRef& operator=(AnchorRef o) noexcept {
        std::swap(p_, o.p_);
        return *this;
    }
    ~AnchorRef() {
        if (p_) p_->release(true);
    }
    const Anchor* get() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }

private:
    const Anchor* p_ = nullptr;
};

/// The anchor of to-many relation caches: each list is a slice of `items` (each a const T*, for
/// the list's T: the type is the list's, not the anchor's, so that filling and editing lists is
/// compiled once, not once a model). A prefetch level fills one array for all its lists; a list
/// edited by db.m2m(...) gets an anchor of its own (`edited`) that keeps the level's anchor
/// (`base`, whose objects it may still list) and the copies edits added alive. Edits never
/// chain: the next edit takes over `base` and the copies still listed, so memory stays linear in
/// the list however often it is edited.
class ListAnchor final : public Anchor {
public:
    using Anchor::Anchor;
    std::vector<const void*> items;
    bool edited = false;
    AnchorRef base;                                   // the prefetch level's anchor, if any
    std::vector<std::shared_ptr<const void>> copies;  // objects edits added
};

/// The storage of a QuerySet's rows: the rows a prefetch level's back references point at.
template <class T> class RowsAnchor final : public Anchor {
public:
    RowsAnchor() noexcept : Anchor(nullptr) {}
    std::vector<T> rows;
};

/// The anchors whose release an assignment deferred (see the header comment), per thread.
class DeferredReleases {
    struct Entry {
        const Anchor* anchor;
        bool external;
        friend bool operator<(const Entry& a, const Entry& b) {
            return a.anchor != b.anchor ? std::less<const Anchor*>{}(a.anchor, b.anchor)
                                        : a.external < b.external;
        }
        friend bool operator==(const Entry& a, const Entry& b) = default;
    };

public:
    DeferredReleases() = default;
    DeferredReleases(const DeferredReleases&) = delete;
    DeferredReleases& operator=(const DeferredReleases&) = delete;
    ~DeferredReleases();

    void add(const Anchor* a, bool external) noexcept;
    void release_all() noexcept;

private:
    static constexpr std::size_t first_compaction = 64;

    /// Drops duplicate entries: one pending reference per anchor keeps it alive, so the
    /// others can go now. Bounds the list by the number of anchors that exist.
    void compact() noexcept;

    std::vector<Entry> pending_;
    std::size_t compact_at_ = first_compaction;
    bool alive_ = true;
};

LOOM_DECL DeferredReleases& deferred_releases() noexcept;

/// One word: a RelationInfo* (not loaded) or an Anchor* (loaded, bit 0 set), one flag bit for
/// the member's own use (ForeignKey: "the key is set"), one bit for a loaded word inside
/// storage loom owns (internal: see the header comment), and one more bit for the member's
/// own use that only a loaded word keeps (ForeignKey: "no target object"). Copies share the
/// anchor and are always external.
class RelationWord {
    static constexpr std::uintptr_t loaded_bit = 1, flag_bit = 2, internal_bit = 4, mark_bit = 8,
                                    pointer_mask = ~std::uintptr_t{15};
    static_assert(alignof(RelationInfo) >= 16 && alignof(Anchor) >= 16);

public:
    RelationWord() noexcept = default;
    RelationWord(const RelationWord& o) noexcept : w_(o.w_ & ~internal_bit) {
        if (const Anchor* a = anchor()) a->retain(true);
    }
    RelationWord(RelationWord&& o) noexcept : w_(o.w_ & ~internal_bit) {
        if (o.internal())
            anchor()->retain(true);  // loom's storage is not moved from: copy
        else
            o.w_ = o.unloaded();
    }
    RelationWord& operator=(const RelationWord& o) noexcept {
        if (this == &o) return *this;
        const std::uintptr_t old = w_;
        w_ = o.w_ & ~internal_bit;
        if (const Anchor* a = anchor()) a->retain(true);
        defer(old);
        return *this;
    }
    RelationWord& operator=(RelationWord&& o) noexcept {
        if (this == &o) return *this;
        if (o.internal()) return *this = static_cast<const RelationWord&>(o);
        const std::uintptr_t old = w_;
        w_ = o.w_;
        o.w_ = o.unloaded();
        defer(old);
        return *this;
    }
    ~RelationWord() {
        if (const Anchor* a = anchor()) a->release(!internal());
    }

    bool loaded() const noexcept { return (w_ & loaded_bit) != 0; }
    bool internal() const noexcept { return (w_ & internal_bit) != 0; }
    const Anchor* anchor() const noexcept {
        return loaded() ? reinterpret_cast<const Anchor*>(w_ & pointer_mask) : nullptr;
    }
    const RelationInfo* info() const noexcept {
        if (const Anchor* a = anchor()) return a->info();
        return reinterpret_cast<const RelationInfo*>(w_ & pointer_mask);
    }
    bool flag() const noexcept { return (w_ & flag_bit) != 0; }
    void set_flag(bool on) noexcept { w_ = on ? (w_ | flag_bit) : (w_ & ~flag_bit); }
    /// The loaded word's second bit (false while not loaded; unload() clears it).
    bool mark() const noexcept { return (w_ & mark_bit) != 0; }
    void set_mark(bool on) noexcept {
        if (loaded()) w_ = on ? (w_ | mark_bit) : (w_ & ~mark_bit);
    }

    /// Names the relation. A loaded one is left alone: its anchor names it.
    void bind(const RelationInfo* info) noexcept {
        if (loaded()) return;
        w_ = reinterpret_cast<std::uintptr_t>(info) | (w_ & flag_bit);
    }
    /// Marks the relation loaded, anchored by `a` (never null); `internal` for a word inside
    /// storage loom owns (a level's block, a QuerySet's rows).
    void load(const Anchor* a, bool internal = false) noexcept {
        a->retain(!internal);
        unload();
        w_ = reinterpret_cast<std::uintptr_t>(a) | loaded_bit | (internal ? internal_bit : 0) |
             (w_ & flag_bit);
    }
    /// Back to not loaded; the relation keeps its name.
    void unload() noexcept {
        if (const Anchor* a = anchor()) {
            const bool external = !internal();
            w_ = unloaded();
            a->release(external);
        }
    }

private:
    std::uintptr_t unloaded() const noexcept {
        return reinterpret_cast<std::uintptr_t>(info()) | (w_ & flag_bit);
    }
    /// Releases the anchor a word held before an assignment: at once when the word now holds
    /// the same one (it cannot go), else later (see the header comment).
    void defer(std::uintptr_t old) const noexcept {
        if (!(old & loaded_bit)) return;
        const auto* a = reinterpret_cast<const Anchor*>(old & pointer_mask);
        if (a == anchor())
            a->release(!(old & internal_bit));
        else
            release_after_assignment(a, !(old & internal_bit));
    }

    std::uintptr_t w_ = 0;
};

/// An owner's key that is not a std::int64_t (a text or UUID key), kept by the to-many and
/// ReverseOne members of one object read from the database, and by their copies, so that
/// `member.load(db)` knows whose rows to load. Counted like an anchor; holds only the key.
class KeyBox {
public:
    KeyBox() noexcept = default;
    KeyBox(const KeyBox&) = delete;
    KeyBox& operator=(const KeyBox&) = delete;
    virtual ~KeyBox() = default;

    /// The key (a const K*, for the K the box was made with).
    virtual const void* key() const noexcept = 0;
    void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() const noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
    }

private:
    mutable std::atomic<std::size_t> refs_{1};  // its maker's reference
};

template <class K> class KeyBoxOf final : public KeyBox {
public:
    explicit KeyBoxOf(K k) : value_(std::move(k)) {}
    const void* key() const noexcept override { return &value_; }

private:
    K value_;
};

/// The relation word of a to-many or ReverseOne member, with its owner's key for load(): the
/// std::int64_t itself, or, when the word's flag bit is set (a bit these members have no
/// other use for), a counted KeyBox. Integer keys cost one bit test per copy and destruction.
class KeyedWord : public RelationWord {
public:
    KeyedWord() noexcept = default;
    KeyedWord(const KeyedWord& o) noexcept : RelationWord(o), key_(o.key_) { retain(); }
    KeyedWord(KeyedWord&& o) noexcept : RelationWord(std::move(o)), key_(o.key_) {
        retain();  // the source keeps its key too (a moved-from relation can still load)
    }
    KeyedWord& operator=(const KeyedWord& o) noexcept {
        if (this == &o) return *this;
        const Key old = key_;
        const bool boxed = flag();
        RelationWord::operator=(o);
        key_ = o.key_;
        retain();
        if (boxed) old.box->release();
        return *this;
    }
    KeyedWord& operator=(KeyedWord&& o) noexcept {
        if (this == &o) return *this;
        const Key old = key_;
        const bool boxed = flag();
        RelationWord::operator=(std::move(o));
        key_ = o.key_;
        retain();
        if (boxed) old.box->release();
        return *this;
    }
    ~KeyedWord() {
        if (flag()) key_.box->release();
    }

    /// The owner's key as load(db) passes it on: a const std::int64_t*, or the KeyBox's
    /// const K* (then RelationInfo::load_by_key loads).
    const void* owner_key() const noexcept { return flag() ? key_.box->key() : &key_.id; }
    void set_owner_key(std::int64_t id) noexcept {
        drop();
        key_.id = id;
    }
    /// Shares `box` (taking a reference).
    void set_owner_key(const KeyBox* box) noexcept {
        box->retain();
        drop();
        key_.box = box;
        set_flag(true);
    }

private:
    union Key {
        std::int64_t id = 0;
        const KeyBox* box;
    };
    void retain() const noexcept {
        if (flag()) key_.box->retain();
    }
    void drop() noexcept {
        if (!flag()) return;
        key_.box->release();
        set_flag(false);
    }
    Key key_{};
};

}  // namespace loom::detail

LOOM_EXTERN_TEMPLATE(class std::vector<const loom::detail::Anchor*>);
LOOM_EXTERN_TEMPLATE(class std::vector<std::pair<const void*, const loom::detail::Anchor*>>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/anchor.hpp"
#endif
