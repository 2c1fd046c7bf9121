// loom/relations.hpp - the relation members a model declares: ForeignKey<T>, OneToOne<T>,
// ManyToMany<T>, Reverse<T> (the other side of a ForeignKey or a ManyToMany) and ReverseOne<T>
// (the other side of a OneToOne). Each holds its key (if it has one) and a cache that
// prefetch_related, select_related or an explicit load() fills. Reading a relation that was not
// loaded throws loom::NotLoaded: loom never runs a query behind your back.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "detail/anchor.hpp"
#include "detail/config.hpp"
#include "detail/type_name.hpp"
#include "errors.hpp"
#include "fwd.hpp"
#include "model.hpp"

namespace loom {
namespace detail {

/// "Book::authors", or "Book::authors (loaded into another member by Prefetch(...).into(...))".
LOOM_DECL std::string relation_name(const RelationInfo& info);

[[noreturn]] LOOM_DECL void throw_not_loaded(const RelationInfo* info, std::string_view kind,
                                             std::string_view target);

/// load(db) on a member that cannot load itself: one not bound to a descriptor entry, or one
/// that a Prefetch(...).into(...) filled.
[[noreturn]] LOOM_DECL void throw_cannot_load(const RelationInfo* info, std::string_view kind,
                                              std::string_view target);

/// A forward key whose target row is missing (written while foreign keys were not enforced):
/// what prefetch_related and select_related both report.
[[noreturn]] LOOM_DECL void throw_dangling_key_text(const std::string& relation,
                                                    std::string_view column, const std::string& key,
                                                    std::string_view target);
template <class K>
[[noreturn]] void throw_dangling_key(const std::string& relation, std::string_view column,
                                     const K& key, std::string_view target) {
    throw_dangling_key_text(relation, column, key_text(key), target);
}

/// Dereferencing a loaded ReverseOne that holds no object (DoesNotExist).
[[noreturn]] LOOM_DECL void throw_no_related(const RelationInfo* info);

/// Dereferencing a ForeignKey that holds no object: `has_key` with the key as `key` (the
/// target was filtered out by a Prefetch's QuerySet), else a NULL key.
[[noreturn]] LOOM_DECL void throw_null_key(const RelationInfo* info, const std::string& key,
                                           bool has_key, std::string_view target);

struct relation_access;

/// RelationLoader<Target, Key, Forward>::load(db, info, cache, key) runs rel.load(db) for the
/// relation `info` names: one level of Target keyed by Key (the target's key for a forward
/// relation, else the owner's) for the one cache `cache`. Instantiated only where a member's
/// load(db) is called; defined by the prefetch engine, which <loom/database.hpp> (or
/// <loom/loom.hpp>) includes. Only declared here, so that calling rel.load(db) in a file that does
/// not include <loom/database.hpp> is a compile error here ("incomplete type RelationLoader"), not
/// an undefined reference at link time.
template <class Target, class Key, bool Forward> struct RelationLoader;

/// load(db) of a member that loads by its owner's key (a to-many or ReverseOne member): an
/// integer key is in the member's word; another is boxed, and only its RelationInfo knows the
/// key's type.
template <class Target>
void load_by_owner_key(Database& db, const RelationInfo& info, void* cache, const KeyedWord& word) {
    if (info.load_by_key) return info.load_by_key(db, cache, word.owner_key());
    RelationLoader<Target, std::int64_t, false>::load(
        db, info, cache, *static_cast<const std::int64_t*>(word.owner_key()));
}

/// The state of a to-many member (RelatedList<T>) whatever its T, which the prefetch engine and
/// db.m2m(...) write through this type (compiled once, not once a model): a slice of an array
/// of objects (each a const T*) that the word's anchor keeps alive (one array per prefetch
/// level, not one allocation per list), and the relation word with the owner's key (for
/// load()). 32 bytes. The word comes last: assigning from a list that only this list's anchor
/// keeps alive (boss.reports = boss.reports[0].reports) copies the slice before the old anchor
/// goes.
struct ListCache {
    const void* const* data = nullptr;
    std::uint32_t size = 0;
    KeyedWord word;
};

/// The state of a ReverseOne<T> whatever its T: the object (a const T*, or null) and the word.
struct OneCache {
    const void* obj = nullptr;
    KeyedWord word;
};

/// The T object at `p`, an address a relation cache keeps (a T in a prefetch level's block, in
/// a QuerySet's rows, or a copy an edit added).
template <class T> const T* object_at(const void* p) noexcept {
    return std::launder(static_cast<const T*>(p));
}

}  // namespace detail

/// A many-to-one link: the column `<name>_id` plus a cache of the object it points to.
/// Assign an id or an object; read through `->`, `*` or `get()` once loaded.
///
///     book.publisher = penguin;            // or = penguin.id
///     db.insert(book);
///     auto books = db.objects<Book>().prefetch_related(&Book::publisher);
///     books.first()->publisher->name;      // no query
///
/// K is the type of T's primary key: `loom::ForeignKey<Country, std::string>` for a model
/// whose key is a std::string.
template <class T, class K> class ForeignKey {
public:
    using target_type = T;
    using key_type = K;

    ForeignKey() = default;
    ForeignKey(K id) {
        slot_.id = std::move(id);
        word_.set_flag(true);
    }
    ForeignKey(std::nullopt_t) {}
    ForeignKey(const T& obj) : ForeignKey(detail::primary_key_of(obj)) {}

    // A loaded target (compact layout: in place of the key) stays alive as long as the word's
    // anchor does, so a copy copies the slot; a move that empties the source's word gives the
    // source its key back.
    ForeignKey(const ForeignKey&) = default;
    ForeignKey(ForeignKey&& o) noexcept(std::is_nothrow_move_constructible_v<K>)
        : slot_(std::move(o.slot_)), word_(std::move(o.word_)) {
        o.moved_from(*this);
    }
    ForeignKey& operator=(const ForeignKey&) = default;
    ForeignKey& operator=(ForeignKey&& o) noexcept(std::is_nothrow_move_assignable_v<K>) {
        if (this == &o) return *this;
        slot_ = std::move(o.slot_);
        word_ = std::move(o.word_);
        o.moved_from(*this);
        return *this;
    }
    ~ForeignKey() = default;

    ForeignKey& operator=(K id) {
        set_id(id);
        return *this;
    }
    ForeignKey& operator=(std::nullopt_t) {
        set_id(std::nullopt);
        return *this;
    }
    ForeignKey& operator=(const T& obj) {
        set_id(detail::primary_key_of(obj));
        return *this;
    }

    /// The stored key; empty when the column is NULL.
    std::optional<K> id() const noexcept(std::is_nothrow_copy_constructible_v<K>) {
        return word_.flag() ? std::optional<K>(key()) : std::nullopt;
    }
    bool is_null() const noexcept { return !word_.flag(); }
    /// True once the target was fetched (by prefetch_related, select_related or load()).
    bool loaded() const noexcept { return word_.loaded(); }

    /// The related object, or nullptr when the key is NULL. Throws NotLoaded if not loaded.
    const T* get() const {
        if (!word_.loaded())
            detail::throw_not_loaded(word_.info(), "ForeignKey", detail::type_name<T>());
        return target();
    }
    const T& operator*() const {
        const T* p = get();
        if (!p) throw_null();
        return *p;
    }
    const T* operator->() const { return &**this; }

    /// Fetches the related object now, with one query visible in the query log.
    void load(Database& db) {
        const detail::RelationInfo* info = word_.info();
        if (!info || !info->spec)
            detail::throw_cannot_load(info, "ForeignKey", detail::type_name<T>());
        detail::RelationLoader<T, K, true>::load(db, *info, this, id());
    }

    friend bool operator==(const ForeignKey& a, const ForeignKey& b) {
        return a.word_.flag() == b.word_.flag() && (!a.word_.flag() || a.key() == b.key());
    }

private:
    friend struct detail::relation_access;

    // An integer key shares its word with the loaded target, whose primary key it is: 16 bytes
    // (the slot, and one word that is the relation's name while not loaded and the anchor
    // keeping the target alive once loaded). Other keys keep both: the key, the target, the
    // word. The word's flag bit: the key is set; its mark bit (loaded only): the key is set
    // but names no loaded object (a Prefetch's QuerySet left the row out), so the slot holds
    // the key.
    static constexpr bool compact = std::is_same_v<K, std::int64_t>;
    struct Narrow {
        K id = 0;  // the key, or the target's address while holds_target()
    };
    struct Wide {
        K id{};
        const T* obj = nullptr;
    };
    using Slot = std::conditional_t<compact, Narrow, Wide>;

    /// True while the slot holds the target instead of the key (compact layout).
    bool holds_target() const noexcept {
        return compact && word_.loaded() && word_.flag() && !word_.mark();
    }
    const T* stored_target() const noexcept {
        if constexpr (compact)
            return reinterpret_cast<const T*>(static_cast<std::uintptr_t>(slot_.id));
        else
            return slot_.obj;
    }
    void store_target(const T* obj) noexcept {
        if constexpr (compact)
            slot_.id = static_cast<K>(reinterpret_cast<std::uintptr_t>(obj));
        else
            slot_.obj = obj;
    }
    /// The loaded target (a NULL key's slot is 0, a null pointer).
    const T* target() const noexcept {
        if constexpr (compact)
            return word_.mark() ? nullptr : stored_target();
        else
            return slot_.obj;
    }
    /// The key, when flag() is set.
    const K& key() const noexcept {
        if constexpr (compact) {
            if (holds_target()) {
                static_assert(std::is_same_v<detail::key_of<T>, K>,
                              "ForeignKey<T, K>: K must be the type of T's primary key");
                return detail::primary_key_of(*stored_target());
            }
        }
        return slot_.id;
    }
    /// After `to` took this relation's word by a move: a word left not loaded holds the key.
    void moved_from(const ForeignKey& to) noexcept {
        if constexpr (compact)
            if (to.holds_target() && !word_.loaded()) slot_.id = to.key();
    }
    void set_id(std::optional<K> id) {
        word_.unload();
        slot_ = Slot{};
        if (id) slot_.id = std::move(*id);
        word_.set_flag(id.has_value());
    }
    /// Sets the key as read from a row; a loaded target the new key does not name is dropped.
    void set_key(std::optional<K> id) {
        if (word_.loaded()) [[unlikely]] {
            if (id == this->id()) return;
            word_.unload();
            slot_ = Slot{};
        }
        slot_.id = id ? std::move(*id) : K{};
        word_.set_flag(id.has_value());
    }
    /// Loads the relation: `obj` (null for a NULL key, or for a key whose row a Prefetch's
    /// QuerySet left out) kept alive by `anchor`.
    void set_target(const T* obj, const detail::Anchor* anchor, bool internal) noexcept {
        if constexpr (compact)
            if (word_.loaded()) [[unlikely]]
                unload_keeping_key();
        word_.load(anchor, internal);
        if (!compact || obj)
            store_target(obj);
        else if (word_.flag())
            word_.set_mark(true);
    }
    /// Back to not loaded, the slot holding the key again.
    void unload_keeping_key() noexcept {
        const K k = holds_target() ? key() : slot_.id;
        word_.unload();
        slot_.id = k;
    }
    [[noreturn]] void throw_null() const {
        // A key, but no object: a Prefetch's QuerySet left the row out.
        detail::throw_null_key(word_.info(), word_.flag() ? detail::key_text(key()) : std::string(),
                               word_.flag(), detail::type_name<T>());
    }

    Slot slot_{};
    detail::RelationWord word_;
};

/// A one-to-one link: a ForeignKey whose column is UNIQUE. The other side is ReverseOne<T>.
template <class T, class K> class OneToOne : public ForeignKey<T, K> {
public:
    using ForeignKey<T, K>::ForeignKey;
    using ForeignKey<T, K>::operator=;
};

/// The shared behaviour of the to-many sides (ManyToMany<T>, Reverse<T>): a loaded, ordered
/// list of related objects, iterated as `const T&`.
template <class T> class RelatedList {
public:
    using value_type = T;

    class iterator {
    public:
        using iterator_concept = std::random_access_iterator_tag;
        using iterator_category = std::random_access_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = const T&;
        using pointer = const T*;

        iterator() = default;
        explicit iterator(const void* const* p) : p_(p) {}
        const T& operator*() const { return *detail::object_at<T>(*p_); }
        const T* operator->() const { return detail::object_at<T>(*p_); }
        const T& operator[](difference_type n) const { return *detail::object_at<T>(p_[n]); }
        iterator& operator++() {
            ++p_;
            return *this;
        }
        iterator operator++(int) {
            auto t = *this;
            ++p_;
            return t;
        }
        iterator& operator--() {
            --p_;
            return *this;
        }
        iterator operator--(int) {
            auto t = *this;
            --p_;
            return t;
        }
        iterator& operator+=(difference_type n) {
            p_ += n;
            return *this;
        }
        iterator& operator-=(difference_type n) {
            p_ -= n;
            return *this;
        }
        friend iterator operator+(iterator i, difference_type n) { return i += n; }
        friend iterator operator+(difference_type n, iterator i) { return i += n; }
        friend iterator operator-(iterator i, difference_type n) { return i -= n; }
        friend difference_type operator-(iterator a, iterator b) { return a.p_ - b.p_; }
        friend bool operator==(iterator a, iterator b) { return a.p_ == b.p_; }
        friend auto operator<=>(iterator a, iterator b) { return a.p_ <=> b.p_; }

    private:
        const void* const* p_ = nullptr;
    };
    using const_iterator = iterator;

    bool loaded() const noexcept { return cache_.word.loaded(); }
    iterator begin() const { return iterator(checked().data); }
    iterator end() const {
        const auto& c = checked();
        return iterator(c.data + c.size);
    }
    std::size_t size() const { return checked().size; }
    bool empty() const { return checked().size == 0; }
    const T& operator[](std::size_t i) const { return *detail::object_at<T>(checked().data[i]); }
    const T& front() const { return *detail::object_at<T>(checked().data[0]); }
    const T& back() const {
        const auto& c = checked();
        return *detail::object_at<T>(c.data[c.size - 1]);
    }

    /// Fetches the related objects now, with one query visible in the query log.
    void load(Database& db) {
        const detail::RelationInfo* info = cache_.word.info();
        if (!info || !info->spec)
            detail::throw_cannot_load(info, "relation", detail::type_name<T>());
        detail::load_by_owner_key<T>(db, *info, &cache_, cache_.word);
    }

protected:
    RelatedList() = default;

private:
    friend struct detail::relation_access;
    const detail::ListCache& checked() const {
        if (!cache_.word.loaded())
            detail::throw_not_loaded(cache_.word.info(), "relation", detail::type_name<T>());
        return cache_;
    }

    detail::ListCache cache_;  // what the engine fills, whatever T
};

/// A many-to-many link through a join table (automatic, or an explicit through model).
/// Change it with db.m2m(obj, &Model::member).add/remove/set/clear, which keep a loaded cache true.
template <class T> class ManyToMany : public RelatedList<T> {
public:
    using target_type = T;
    ManyToMany() = default;
    ManyToMany(const ManyToMany&) = default;
    ManyToMany(ManyToMany&&) noexcept = default;
    ManyToMany& operator=(const ManyToMany&) = default;
    ManyToMany& operator=(ManyToMany&&) noexcept = default;
    ~ManyToMany() = default;
};

/// The other side of a ForeignKey (the reviews of a book) or of a ManyToMany (the books of an
/// author). Declared with loom::reverse(&Owner::member, &Target::forward_member).
template <class T> class Reverse : public RelatedList<T> {
public:
    using target_type = T;
    Reverse() = default;
    Reverse(const Reverse&) = default;
    Reverse(Reverse&&) noexcept = default;
    Reverse& operator=(const Reverse&) = default;
    Reverse& operator=(Reverse&&) noexcept = default;
    ~Reverse() = default;
};

/// The other side of a OneToOne: at most one object.
template <class T> class ReverseOne {
public:
    using target_type = T;

    bool loaded() const noexcept { return cache_.word.loaded(); }
    /// The related object, or nullptr when there is none. Throws NotLoaded if not loaded.
    const T* get() const {
        if (!cache_.word.loaded())
            detail::throw_not_loaded(cache_.word.info(), "ReverseOne", detail::type_name<T>());
        return cache_.obj ? detail::object_at<T>(cache_.obj) : nullptr;
    }
    bool has_value() const { return get() != nullptr; }
    const T& operator*() const {
        const T* p = get();
        if (!p) detail::throw_no_related(cache_.word.info());
        return *p;
    }
    const T* operator->() const { return &**this; }

    void load(Database& db) {
        const detail::RelationInfo* info = cache_.word.info();
        if (!info || !info->spec)
            detail::throw_cannot_load(info, "ReverseOne", detail::type_name<T>());
        detail::load_by_owner_key<T>(db, *info, &cache_, cache_.word);
    }

private:
    friend struct detail::relation_access;
    detail::OneCache cache_;  // the object, and the word with the owner's key (for load())
};

namespace detail {

/// The prefetch engine's door into relation caches.
struct relation_access {
    /// The state of a to-many or ReverseOne member, whatever its target: what the engine's
    /// caches are (LevelCore fills them; see ListCache).
    template <class T> static ListCache& cache(RelatedList<T>& r) noexcept { return r.cache_; }
    template <class T> static OneCache& cache(ReverseOne<T>& r) noexcept { return r.cache_; }

    /// Names a relation member; `key` is its owner's key (a std::int64_t, or a KeyBox* shared
    /// by the members of one object), kept by the members that load by it.
    template <class T, class K, class Key>
    static void bind(ForeignKey<T, K>& r, const RelationInfo* info, Key) noexcept {
        r.word_.bind(info);
    }
    template <class T, class Key>
    static void bind(RelatedList<T>& r, const RelationInfo* info, Key key) noexcept {
        r.cache_.word.bind(info);
        r.cache_.word.set_owner_key(key);
    }
    template <class T, class Key>
    static void bind(ReverseOne<T>& r, const RelationInfo* info, Key key) noexcept {
        r.cache_.word.bind(info);
        r.cache_.word.set_owner_key(key);
    }

    template <class T, class K> static const Anchor* anchor(const ForeignKey<T, K>& r) noexcept {
        return r.word_.anchor();
    }
    template <class T> static const Anchor* anchor(const RelatedList<T>& r) noexcept {
        return r.cache_.word.anchor();
    }
    template <class T> static const Anchor* anchor(const ReverseOne<T>& r) noexcept {
        return r.cache_.word.anchor();
    }

    /// Sets the stored key as read from a row (a loaded cache stays if the key names its object).
    template <class T, class K> static void set_key(ForeignKey<T, K>& r, std::optional<K> key) {
        r.set_key(std::move(key));
    }

    /// Loads a to-one relation: `obj` (may be null) kept alive by `anchor`; `internal` for a
    /// member of an object in storage loom owns (see anchor.hpp).
    template <class T, class K>
    static void set(ForeignKey<T, K>& r, const T* obj, const Anchor* anchor,
                    bool internal = false) noexcept {
        if (r.word_.loaded() || !obj) [[unlikely]]
            return r.set_target(obj, anchor, internal);
        r.word_.load(anchor, internal);
        r.store_target(obj);
    }
    /// A child's back reference to the parent it was loaded for (`owner`, never null), inside
    /// storage loom owns: set() with a short path for a word not loaded yet.
    template <class T, class K>
    static void set_back(ForeignKey<T, K>& r, const T* owner, const Anchor* back) noexcept {
        if (r.word_.loaded()) [[unlikely]]
            return r.set_target(owner, back, true);
        r.word_.load(back, true);
        r.store_target(owner);
    }
    template <class T>
    static void set(ReverseOne<T>& r, const T* obj, const Anchor* anchor,
                    bool internal = false) noexcept {
        set(r.cache_, obj, anchor, internal);
    }
    /// A ReverseOne's state: `obj` (a const T*, or null).
    static void set(OneCache& c, const void* obj, const Anchor* anchor,
                    bool internal = false) noexcept {
        c.word.load(anchor, internal);
        c.obj = obj;
    }

    /// Loads a to-many relation: `n` objects (each a const T*) at `items`, an array that
    /// `anchor` keeps alive.
    static void assign(ListCache& c, const void* const* items, std::size_t n, const Anchor* anchor,
                       bool internal = false) noexcept {
        c.word.load(anchor, internal);
        c.data = items;
        c.size = static_cast<std::uint32_t>(n);
    }
    /// The loaded objects (each a const T*; empty when not loaded).
    template <class T> static std::span<const void* const> items(const RelatedList<T>& r) noexcept {
        return items(r.cache_);
    }
    static std::span<const void* const> items(const ListCache& c) noexcept {
        if (!c.word.loaded()) return {};
        return {c.data, c.size};
    }

    /// Replaces a loaded list with `items` (each a const T*: an edit through db.m2m): a new
    /// anchor holds them, with the prefetch level's anchor (whose objects some items may be),
    /// the copies earlier edits added that are still listed, and the new `copies`. An empty
    /// list keeps nothing.
    template <class T>
    static void replace(RelatedList<T>& r, std::vector<const void*> items,
                        std::vector<std::shared_ptr<const void>> copies = {}) {
        replace(r.cache_, std::move(items), std::move(copies));
    }
    LOOM_DECL static void replace(ListCache& c, std::vector<const void*> items,
                                  std::vector<std::shared_ptr<const void>> copies);
};

}  // namespace detail
}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/relations.hpp"
#endif
