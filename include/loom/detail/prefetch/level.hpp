// One prefetched relation's level as shared code. What a level does (plan its keys, read its
// rows, stitch them into the parents' caches) depends on the target model and the key type,
// not on which relation member it fills: a relation is described by a LevelSpec (data, and one
// function for the back references), and every relation to the same model with the same key
// type and direction runs the same RelLevel<Target, Key, Forward> from its spec. Declaring a
// relation (every relation member names its spec, for rel.load(db)) thus costs a spec, not a copy
// of the engine; a level is compiled only where a query prefetches the relation or a member's
// load(db) is called.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "../config.hpp"
#include "../sql/select.hpp"
#include "../std_light.hpp"
#include "block.hpp"
#include "key_index.hpp"
#include "node.hpp"

namespace loom::detail {

/// How one level passes its keys to SQL: IN lists of at most `room` keys, each padded to a
/// power of two (repeating the last key) so a few statement shapes serve every count and stay
/// in the statement cache; or, past Database::json_keys_above(), JSON arrays (one parameter
/// each, one statement shape, split only by a batch size).
struct KeyChunks {
    bool json = false;
    std::size_t room = 0;
};

LOOM_DECL KeyChunks plan_key_chunks(Session& s, std::size_t keys, std::size_t own_params,
                                    const std::string& what, bool arrays = true);

/// Calls fn(keys, json) once per chunk of `distinct`, as `plan` says.
template <class K, class Fn>
void for_each_key_chunk(std::span<const K> distinct, KeyChunks plan, Fn&& fn) {
    std::vector<K> chunk;
    for (std::size_t at = 0; at < distinct.size(); at += plan.room) {
        const std::size_t n = std::min(plan.room, distinct.size() - at);
        if (plan.json) {
            fn(distinct.subspan(at, n), true);
            continue;
        }
        std::size_t padded = 1;
        while (padded < n) padded <<= 1;
        padded = std::min(padded, plan.room);
        chunk.assign(distinct.begin() + static_cast<std::ptrdiff_t>(at),
                     distinct.begin() + static_cast<std::ptrdiff_t>(at + n));
        chunk.resize(padded, chunk.back());
        fn(std::span<const K>(chunk), false);
    }
}

/// Whether keys of type K can be one array parameter: integers, and keys stored as text.
template <class K> constexpr bool key_arrays_for() {
    if constexpr (std::is_same_v<K, std::int64_t>)
        return true;
    else
        return column_traits<K>::storage == Storage::text;
}

/// Keys of type K as the SQL builder takes them: std::int64_t keys as they are (a list or one
/// array parameter), others as Values bound one by one.
template <class K> struct KeyList {
    std::vector<Value> values;
    KeyTest test(const RelationJoin* relation, std::span<const K> keys, bool array, bool to_one) {
        if constexpr (std::is_same_v<K, std::int64_t>) {
            return KeyTest{relation, keys, array, to_one};
        } else {
            values.clear();
            values.reserve(keys.size());
            for (const K& k : keys) values.push_back(column_traits<K>::value(k));
            KeyTest t{relation, {}, array, to_one};
            t.values = values;
            t.typed = true;
            return t;
        }
    }
};

/// Reads the key in result column `c` (a parent key, or a target's primary key); `what()`
/// names the level in the message of a key that does not fit (called only then: this runs
/// once per row).
template <class K, class What> K read_key(const Statement& s, int c, What&& what) {
    if constexpr (std::is_same_v<K, std::int64_t>) {
        return s.column_int(c);
    } else {
        K k{};
        if (const char* why = read_column(s, c, k))
            throw DataError(std::string(what()) + ": a key column: " + why + ", found " +
                            describe_stored(s, c));
        return k;
    }
}

/// Two prefetch querysets of the model `m` ask for the same rows: the same SQL and parameters.
LOOM_DECL bool same_query(const QueryStateData& a, const QueryStateData& b, const ModelMeta& m);

/// A level's parents as it keeps them: each one's object, the cache the level fills at one
/// offset in every object and, for a forward level, the relation that holds the key at another.
/// While the parents are the objects of one array in order (a QuerySet's rows), only the array
/// is kept; else one pointer each (not two: the object and its cache). A cache given alone
/// (rel.load(db)) is its own parent, with no owner object to point back at.
class ParentObjects {
public:
    /// The parents to come are objects of `stride` bytes of the array at `run`, in order (null:
    /// not one array), at most `expected` of them.
    void start(const void* run, std::size_t stride, std::size_t expected) noexcept {
        run_ = static_cast<const char*>(run);
        stride_ = stride;
        expected_ = expected;
    }
    /// Adds object `o`, the `i`th of the array given to start(), with its cache and the relation
    /// that holds its key (a forward level's; else `o`).
    void add(std::size_t i, const void* o, const void* cache, const void* key_relation) {
        if (count_ == 0) {
            cache_at_ = static_cast<const char*>(cache) - static_cast<const char*>(o);
            key_at_ = static_cast<const char*>(key_relation) - static_cast<const char*>(o);
        }
        if (run_ && i != count_) unroll();
        if (!run_) {
            if (listed_.empty()) listed_.reserve(expected_);
            listed_.push_back(o);
        }
        ++count_;
    }
    /// The one parent of rel.load(db): the cache alone.
    void add_cache(void* cache);

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    /// Parent p's object (null for a cache given alone).
    const void* owner(std::size_t p) const noexcept { return owned_ ? object(p) : nullptr; }
    /// Parent p's cache, as cache_of() made it.
    void* cache(std::size_t p) const noexcept {
        return const_cast<char*>(static_cast<const char*>(object(p)) + cache_at_);
    }
    /// The relation that holds parent p's key (a forward level's).
    const void* key_relation(std::size_t p) const noexcept {
        return static_cast<const char*>(object(p)) + key_at_;
    }

private:
    const void* object(std::size_t p) const noexcept {
        return run_ ? run_ + p * stride_ : listed_[p];
    }
    /// A parent was left out: one pointer each from now on.
    void unroll();

    const char* run_ = nullptr;
    std::size_t stride_ = 0, expected_ = 0, count_ = 0;
    std::ptrdiff_t cache_at_ = 0, key_at_ = 0;
    bool owned_ = true;
    std::vector<const void*> listed_;
};

/// The cache a level fills in each parent, by the relation's shape.
enum class LevelKind : std::uint8_t {
    forward,      // a ForeignKey or OneToOne: the parent holds the target's key
    reverse_one,  // a ReverseOne: at most one child per parent
    list,         // a ManyToMany or Reverse: a list per parent
};

/// What a level needs to know of the relation it loads (entry I of Owner): filled once per
/// relation by make_spec<Owner, I>() (engine.hpp), read by RelLevel.
struct LevelSpec {
    const RelationInfo* info = nullptr;       // names; what the caches it fills report
    const RelationInfo* into_info = nullptr;  // the same, for a member into(...) filled
    const RelationJoin& (*join)() = nullptr;  // relation_join<Owner, I>
    std::string_view column;                  // a forward relation's key column (messages)
    LevelKind kind = LevelKind::list;
    bool shared_targets = false;  // across a join table: a target row may serve several parents
    /// The back reference (Django fills the known side): the children of a reverse ForeignKey
    /// or reverse one-to-one point at their parent; the target of a forward one-to-one at its
    /// owner, when the target declares the ReverseOne. Null when there is none.
    const RelationInfo* back_info = nullptr;
    /// A forward one-to-one: points `target` back at `owner` (once per parent).
    void (*set_back)(void* target, const void* owner, const Anchor* back) = nullptr;
    /// A reverse key: points every child in `block` (a StableBlock<Target>, in row order) at
    /// its parent, parents.owner(first_parent[link[i]]) for child i (parents.owner(link[i])
    /// when `first_parent` is null: one parent a key); once per level, so that the loop over
    /// the rows is compiled with the member's type.
    void (*set_backs)(void* block, const std::uint32_t* link, const std::uint32_t* first_parent,
                      const ParentObjects& parents, const Anchor* back) = nullptr;

    /// "Book::authors"
    std::string describe() const;
    bool to_one() const noexcept { return kind != LevelKind::list; }
};

/// The cache of relation member `r` as a level keeps it: a pointer to its ForeignKey<Target, K>
/// (a forward RelLevel casts it back to that type), or to the OneCache of a ReverseOne or the
/// ListCache of a to-many member (which LevelCore fills whatever the target).
template <class Rel> void* cache_of(Rel& r) noexcept {
    using T = typename Rel::target_type;
    if constexpr (requires { typename Rel::key_type; })
        return static_cast<ForeignKey<T, typename Rel::key_type>*>(&r);
    else if constexpr (std::is_same_v<Rel, ReverseOne<T>>)
        return &relation_access::cache(r);
    else
        return &relation_access::cache(static_cast<RelatedList<T>&>(r));
}

/// What a prefetch node of a relation holds whatever its target model and relation: compiled
/// once (its copies and destructor too), not once a relation.
struct RelNodeBase {
    const LevelSpec* spec = nullptr;
    Session* session = nullptr;  // the database of the Prefetch's queryset (null: the parents')
    NodeList children;
    bool into_other = false;  // Prefetch(...).into(another member)
    bool skip_loaded = true;  // parents whose slot is loaded run no query (db.load: false)
    /// Prefetch(..., queryset): the state of a QuerySet of the relation's target (null: all
    /// its rows).
    std::shared_ptr<const QueryStateData> custom;

    RelNodeBase() = default;
    LOOM_DECL RelNodeBase(const RelNodeBase&);
    LOOM_DECL RelNodeBase& operator=(const RelNodeBase&);
    LOOM_DECL ~RelNodeBase();

    /// The database this level reads: a Prefetch's queryset reads its own database, as
    /// Django's does; one of the parents' own Database reads where the parents were read (the
    /// same replica and snapshot).
    Session& database(Session& parents_db) const {
        return session && session != &parents_db.root() ? *session : parents_db;
    }
    /// The queryset the level's rows come from.
    const QueryStateData& state() const;

    /// Counts the nested nodes at `depth` of `per_depth` (PrefetchNodeBase::count_levels).
    void count_children(std::vector<std::size_t>& per_depth, std::size_t depth) const;

protected:
    /// Takes `other`'s queryset (if this has none) and nested relations: the same relation
    /// into the same member, whose target is the model `target`.
    void merge_data(const RelNodeBase& other, const ModelMeta& target);
    /// Takes `other`'s nested relations.
    void merge_children(const RelNodeBase& other);
    /// `other` (the same relation into the same member) has another queryset.
    [[noreturn]] void throw_two_querysets(const RelNodeBase& other) const;
};

/// The SELECT of a level for one chunk of keys, of a queryset of Target at `state`: the parent
/// key (when it is not the target's own primary key) leads, the target's columns follow. The
/// one function of a level's query that knows Target (levels call it through a KeySql).
template <class Target> SqlText key_query(const void* state, Session& db, const KeyTest& keys) {
    return SelectSql(*static_cast<const QueryStateData*>(state), meta<Target>(), &db)
        .for_keys(keys);
}
using KeySql = SqlText (*)(const void* state, Session& db, const KeyTest& keys);

/// Sorts `objects` by address and drops repeats (an object reached from several parents).
LOOM_DECL void sort_unique(std::vector<std::pair<const void*, const Anchor*>>& objects);

/// Each key's parents in parent order, as a key plan chains them: whatever the key type.
struct ParentChains {
    /// Chained: key k's parents are first_parent[k], then next_parent[p] after parent p. While
    /// each parent has a key of its own (the primary keys of distinct parents), key k's one
    /// parent is parent k and neither array is made (`one_each`).
    std::vector<std::uint32_t> first_parent, next_parent;
    bool one_each = true;

    /// Calls fn(p) for each parent p of key k, in parent order.
    template <class Fn> void for_parents(std::uint32_t k, Fn&& fn) const {
        if (one_each) {
            fn(k);
            return;
        }
        for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p]) fn(p);
    }
    /// The first parent of each key (null: key k's is parent k).
    const std::uint32_t* first_parents() const noexcept {
        return one_each ? nullptr : first_parent.data();
    }

protected:
    /// A parent without a key of its own: the chains from now on (the parents so far, `keys`
    /// of them, had one key each, in order).
    void unchain(std::size_t parents, std::size_t keys, std::vector<std::uint32_t>& last_parent);
};

/// The distinct keys of a level's parents, in first-seen order, and (when chained) the parents
/// of each key in parent order: the plan phase's work, shared by every level of one key type.
template <class Key> struct KeyPlan : ParentChains {
    KeyIndexFor<Key> by_key;
    std::vector<Key> distinct;

    /// `keys`: one per parent, none for a NULL key. `chain`: link the parents of each key
    /// (forward levels stitch by target key instead).
    void plan(const std::vector<std::optional<Key>>& keys, bool chain);
};

/// What a planned level does whatever its target and key type (compiled once): the parents,
/// the links the fetch read, the anchor, and the stitching that works on slots and addresses
/// (BlockView) rather than on Target objects. A level is a RelLevel<Target, Key> over a
/// KeyLevel<Key> over this.
class LevelCore : public Level {
public:
    ParentObjects parents;
    // Objects (Target) of parents whose relation was loaded already, each with the anchor
    // whose storage keeps it: the nested levels run on them.
    std::vector<std::pair<const void*, const Anchor*>> preloaded;

    /// Notes the anchor that keeps the parent just added alive (null: none): the one anchor
    /// that keeps every parent alive, if there is one, is the level's holder; only then do
    /// their children get back references (see anchor.hpp).
    void holder_of_last(const Anchor* h) noexcept {
        if (parents.size() == 1)
            holder_ = h;
        else if (h != holder_)
            mixed_holders_ = true;
    }

    LOOM_DECL ~LevelCore() override;

protected:
    LevelCore(const RelNodeBase& node, bool forward, Session& parents_db);

    /// The statements' origin, once the level has keys to look up.
    void name_origin();
    /// How `keys` keys are passed, with `own_params` parameters of the queryset's own.
    KeyChunks chunk_plan(std::size_t keys, std::size_t own_params, bool arrays) const;
    /// Makes `anchor` the level's (the one anchor of every cache it fills); returns the anchor
    /// of the back references to the parents (null: none).
    const Anchor* adopt(Anchor* anchor);
    /// A reverse one-to-one: the slot of each parent's row (KeyIndex::npos: none).
    std::vector<std::uint32_t> one_slots(const ParentChains& chains) const;
    /// A to-many level: at[p + 1] = how many items parent p lists; returns the total.
    std::size_t count_items(const ParentChains& chains, std::vector<std::uint32_t>& at) const;
    /// Writes the address of each item (in `block`) at `items`, every parent's in one slice;
    /// at[p] becomes the end of parent p's slice.
    void place_items(const ParentChains& chains, std::vector<std::uint32_t>& at, const void** items,
                     BlockView block) const;
    /// Keeps the objects an already-loaded ReverseOne or to-many cache (a OneCache or a
    /// ListCache) holds, each with the anchor whose storage keeps it (null when unknown).
    void collect_cached(const void* cache);
    /// Keeps `object` (if any) of a loaded cache whose word holds `anchor` (see collect_cached).
    void keep_loaded(const void* object, const Anchor* anchor) {
        if (object) preloaded.emplace_back(object, anchor ? anchor->storage() : nullptr);
    }
    /// Fills the parents' ReverseOne or to-many caches with what the fetch read (the objects
    /// in `block`, a StableBlock of the target, seen as `view`), under one new anchor named
    /// `info` that keeps `keep` (the block) alive. The keys' parents are `chains`.
    void fill_caches(const RelationInfo* info, std::shared_ptr<const void> keep, void* block,
                     BlockView view, const ParentChains& chains);
    /// The children of a reverse key (never shared: child i is row i) point at their parents.
    void set_backs(void* block, const ParentChains& chains, const Anchor* back) const {
        if (back) spec_.set_backs(block, links_.data(), chains.first_parents(), parents, back);
    }
    /// The anchors of the objects the nested levels run on: the `loaded` objects of the
    /// level's block, then the preloaded ones (sorted by address, without repeats).
    std::vector<const Anchor*> child_holders(std::size_t loaded);
    /// Writes the objects child_holders() listed at `out` (an array of Target*), in its order:
    /// the first `loaded` of `block`, then the preloaded ones.
    void child_objects(void* out, std::size_t loaded, BlockView block) const;
    /// Adds a nested level, planned on this level's objects, to `next`.
    void adopt_child(std::unique_ptr<Level> child, std::vector<std::unique_ptr<Level>>& next) const;

    template <class V> static void release(V& v) noexcept { V().swap(v); }

    const LevelSpec& spec_;
    const bool forward_, shared_;
    Session* db_;
    const Anchor* holder_ = nullptr;
    bool mixed_holders_ = false;
    bool looked_up_ = false;  // some key was not NULL: the level has statements
    // Per row read: the index of its key; with shared targets, and its slot in the block (the
    // other rows sit in the block in row order, so their slot is their position: 4 bytes a
    // row in the level's largest transient array).
    std::vector<std::uint32_t> links_;
    std::vector<std::pair<std::uint32_t, std::uint32_t>> shared_links_;
    AnchorRef anchor_;  // made by fill()

private:
    /// Calls fn(key index, slot) for each row read, in row order.
    template <class Fn> void each_link(Fn&& fn) const {
        if (shared_) {
            for (auto [k, slot] : shared_links_) fn(k, slot);
        } else {
            for (std::uint32_t slot = 0; slot < links_.size(); ++slot) fn(links_[slot], slot);
        }
    }
};

/// What a planned level does with keys of type Key whatever its target: the parents' keys,
/// their plan, and the statements that look them up (compiled once a key type).
template <class Key> class KeyLevel : public LevelCore {
public:
    // From the parents: each one's key (none for a NULL key).
    std::vector<std::optional<Key>> keys;

    /// The parents to come, at most `n` of them: the objects of one array of `stride`-byte
    /// objects at `run`, in order (null: not one array).
    void begin_parents(const void* run, std::size_t stride, std::size_t n);
    /// Adds parent `i` (of the array given to begin_parents()): its object, the cache the level
    /// fills (as cache_of() made it), the relation that holds a forward level's key, its key
    /// (none: NULL), and the anchor that keeps the object alive (null: none).
    void add_parent(std::size_t i, const void* object, void* cache, const void* key_relation,
                    std::optional<Key> key, const Anchor* holder);

    ~KeyLevel() override;

protected:
    using LevelCore::LevelCore;

    /// The plan phase past the parents, up to the distinct keys: false when there is nothing
    /// to look up (no parent, or every key NULL: no query).
    bool plan_keys();
    /// The statements that look the distinct keys up: `sql` on the queryset at `state`.
    void plan_statements(KeySql sql, const void* state);

    KeyPlan<Key> plan_;  // distinct keys; parents sharing a key are chained
};

// KeyPlan's and KeyLevel's functions for keys of any type. Not inline: separately compiled, a
// user's TU takes those of std::int64_t and std::string keys from libloom (their explicit
// instantiations at the end of this file) instead of compiling them.

template <class Key>
void KeyPlan<Key>::plan(const std::vector<std::optional<Key>>& keys, bool chain) {
    by_key = KeyIndexFor<Key>(keys.size());
    std::vector<std::uint32_t> last_parent;
    distinct.reserve(keys.size());
    for (std::size_t p = 0; p < keys.size(); ++p) {
        if (!keys[p]) {
            if (chain && one_each) unchain(keys.size(), distinct.size(), last_parent);
            continue;
        }
        bool fresh;
        const auto k = by_key.insert(*keys[p], static_cast<std::uint32_t>(distinct.size()), fresh);
        if (!chain) {
            if (fresh) distinct.push_back(*keys[p]);
            continue;
        }
        // One key each so far: parents 0..p-1 had keys 0..p-1, so a fresh key is key p.
        if (one_each) {
            if (fresh) {
                distinct.push_back(*keys[p]);
                continue;
            }
            unchain(keys.size(), distinct.size(), last_parent);
        }
        if (fresh) {
            distinct.push_back(*keys[p]);
            first_parent.push_back(static_cast<std::uint32_t>(p));
            last_parent.push_back(static_cast<std::uint32_t>(p));
        } else {
            next_parent[last_parent[k]] = static_cast<std::uint32_t>(p);
            last_parent[k] = static_cast<std::uint32_t>(p);
        }
    }
}

template <class Key> KeyLevel<Key>::~KeyLevel() = default;

template <class Key>
void KeyLevel<Key>::begin_parents(const void* run, std::size_t stride, std::size_t n) {
    keys.reserve(n);
    parents.start(run, stride, n);
}

template <class Key>
void KeyLevel<Key>::add_parent(std::size_t i, const void* object, void* cache,
                               const void* key_relation, std::optional<Key> key,
                               const Anchor* holder) {
    keys.push_back(std::move(key));
    parents.add(i, object, cache, key_relation);
    holder_of_last(holder);
}

template <class Key> bool KeyLevel<Key>::plan_keys() {
    if (mixed_holders_) holder_ = nullptr;
    if (parents.empty()) return false;
    plan_.plan(keys, !forward_);
    // The parents' keys go before the fetch, which reuses their memory: a reverse level
    // finds a row's parents by the key index alone, a forward level reads each parent's
    // key again from its relation (parent_key()) and finds its target by the target's key
    // (target_slot_), so its key index goes too.
    release(keys);
    if (forward_) plan_.by_key = KeyIndexFor<Key>();
    if (plan_.distinct.empty()) return false;
    looked_up_ = true;
    // Explicit loads (rel.load(db), db.load) say so in the query log and the N+1 guard.
    name_origin();
    return true;
}

template <class Key> void KeyLevel<Key>::plan_statements(KeySql sql, const void* state) {
    KeyList<Key> list;
    auto query = [&](std::span<const Key> chunk, bool array) {
        return sql(state, *db_, list.test(&spec_.join(), chunk, array, spec_.to_one()));
    };
    // Chunk so that keys + the queryset's own parameters fit the variable limit.
    const std::size_t own_params = query(std::span<const Key>{}, false).params.size();
    const KeyChunks plan = chunk_plan(plan_.distinct.size(), own_params, key_arrays_for<Key>());
    for_each_key_chunk<Key>(plan_.distinct, plan, [&](std::span<const Key> chunk, bool json) {
        statements.push_back(query(chunk, json));
    });
    release(plan_.distinct);  // the statements hold the keys now
}

/// One planned level of a relation to Target whose keys are of type Key (node.hpp): what the
/// plan took from the parents, then what the fetch read. row() and fetched() touch only this
/// object's own members. The parents' caches are kept as cache_of() made them, their owners
/// as const void* (only the spec's back reference functions look at them): see ParentObjects.
/// Only what touches Target objects is here: reading rows into them, and, for a forward
/// relation (`Forward`: a ForeignKey or OneToOne, whose cache's layout depends on Target),
/// putting them into the caches; the rest is its bases'.
template <class Target, class Key, bool Forward> class RelLevel final : public KeyLevel<Key> {
    using TargetKey = key_of<Target>;
    // Growing never moves the objects read so far (no copies, no transient 2x peak).
    using Block = StableBlock<Target>;
    using Fk = ForeignKey<Target, Key>;  // a forward level's cache
    static_assert(!Forward || std::is_same_v<Key, TargetKey>,
                  "a forward level looks its targets up by their own key");
    using Base = KeyLevel<Key>;
    using Base::db_, Base::holder_, Base::looked_up_, Base::plan_, Base::shared_,
        Base::shared_links_, Base::links_, Base::spec_;

public:
    using Base::parents, Base::preloaded;

    RelLevel(const RelNodeBase& node, Session& parents_db)
        : Base(node, Forward, parents_db), node_(node) {}

    /// Keeps the objects an already-loaded cache holds (the engine made them; they are not
    /// const), each with the anchor whose storage keeps it (null when unknown).
    void collect_loaded(void* cache) {
        if constexpr (Forward) {
            auto& r = *static_cast<Fk*>(cache);
            this->keep_loaded(r.get(), relation_access::anchor(r));
        } else {
            this->collect_cached(cache);
        }
    }

    /// The plan phase past the parents: the distinct keys, and the statements that look them
    /// up (none when every key is NULL).
    void plan_queries() {
        if (!this->plan_keys()) return;
        if constexpr (!Forward)
            by_pk_ = KeyIndexFor<TargetKey>(shared_ ? plan_.distinct.size() : 0);
        read_.emplace(node_.state());
        this->plan_statements(&key_query<Target>, &node_.state());
    }

    void row(const Statement& s) override {
        if constexpr (Forward) {
            block_->emplace_back();
            (*read_)(s, 0, block_->back());
        } else {
            const std::uint32_t k =
                plan_.by_key.find(read_key<Key>(s, 0, [this] { return spec_.describe(); }));
            if (k == KeyIndex::npos) return;
            if (shared_) {
                // Only across a join table can one target row come back for several parents.
                bool fresh;
                const std::uint32_t slot =
                    by_pk_.insert(read_key<TargetKey>(s, 1, [this] { return spec_.describe(); }),
                                  static_cast<std::uint32_t>(block_->size()), fresh);
                if (fresh) {
                    block_->emplace_back();
                    (*read_)(s, 1, block_->back());
                }
                shared_links_.emplace_back(k, slot);
            } else {
                block_->emplace_back();
                (*read_)(s, 1, block_->back());
                links_.push_back(k);
            }
        }
    }

    void fetched() override {
        if constexpr (Forward) {
            if (!looked_up_) return;
            target_slot_ = KeyIndexFor<Key>(block_->size());
            for (std::size_t i = 0; i < block_->size(); ++i) {
                bool fresh;
                target_slot_.insert(primary_key_of((*block_)[i]), static_cast<std::uint32_t>(i),
                                    fresh);
            }
            // A key with no row (possible only where foreign keys were not enforced) is an error,
            // found before any cache is touched. A Prefetch with its own queryset may leave
            // targets out on purpose: those read as nullptr.
            for (std::size_t p = 0; p < parents.size() && !node_.custom; ++p)
                if (const auto key = parent_key(p);
                    key && target_slot_.find(*key) == KeyIndex::npos)
                    throw_dangling_key(spec_.describe(), spec_.column, *key, meta<Target>().name);
        }
    }

    /// The stitch phase: the caches, then the nested levels on what was loaded.
    void stitch(std::vector<std::unique_ptr<Level>>& next) override {
        if (!parents.empty()) fill();
        if (node_.children.empty()) return;

        const std::size_t loaded = this->anchor_ ? block_->size() : 0;
        const std::vector<const Anchor*> holders = this->child_holders(loaded);
        if (holders.empty()) return;
        std::vector<Target*> targets(holders.size());
        this->child_objects(targets.data(), loaded, block_->view());
        for (auto& child : node_.children) {
            // Spans from pointer and size: the range constructors would check the ranges
            // concepts again for every target model.
            this->adopt_child(
                typed_node<Target>(*child).plan(
                    *db_, Parents<Target>(
                              std::span<Target* const>(targets.data(), targets.size()),
                              std::span<const Anchor* const>(holders.data(), holders.size()))),
                next);
        }
    }

    /// Fills the parents' caches with what the fetch read. The holder: the anchor that keeps
    /// every owner alive and in place, or null (then no back references are made).
    void fill() {
        // One anchor for every cache this level fills: it keeps the block alive (and, for
        // lists, the one array the lists are slices of). The words of parents that loom keeps
        // (a QuerySet's rows, a level's block) are internal; when one anchor keeps them all,
        // this level holds it while copies of its caches exist, and its children can point
        // back at their parents.
        const RelationInfo* info = node_.into_other ? spec_.into_info : spec_.info;
        if constexpr (!Forward) {
            this->fill_caches(info, owned_block_, static_cast<void*>(block_), block_->view(),
                              plan_);
        } else {
            auto* anchor = new Anchor(info, owned_block_);
            const bool internal = holder_ != nullptr;
            const Anchor* back = this->adopt(anchor);
            // Stitch (the block no longer grows, so pointers into it are stable). Without keys
            // to look up, no query ran, but every cache is loaded (NULL).
            for (std::size_t p = 0; p < parents.size(); ++p) {
                Target* t = nullptr;
                const auto key = parent_key(p);
                if (key && looked_up_) {
                    const auto slot = target_slot_.find(*key);
                    if (slot != KeyIndex::npos) t = &(*block_)[slot];
                }
                auto& fk = *static_cast<Fk*>(parents.cache(p));
                // A member filled by into(...) mirrors the relation's key, so that is_null()
                // tells a NULL key from a target the Prefetch's queryset left out.
                if (node_.into_other) relation_access::set_key(fk, key);
                relation_access::set(fk, static_cast<const Target*>(t), anchor, internal);
                // A target shared by several parents (possible only without the UNIQUE
                // constraint) points back at the first.
                if (back && t) spec_.set_back(t, parents.owner(p), back);
            }
        }
    }

private:
    /// A forward level's parent p's key, as the plan read it: from the relation that holds it
    /// (parents are not written between the plan and the stitch).
    std::optional<Key> parent_key(std::size_t p) const {
        return static_cast<const Fk*>(parents.key_relation(p))->id();
    }

    const RelNodeBase& node_;
    // What the fetch reads, owned as a BlockSegments (whose shared_ptr is compiled once).
    Block* block_ = new Block();
    std::shared_ptr<BlockSegments> owned_block_{static_cast<BlockSegments*>(block_)};
    KeyIndexFor<TargetKey> by_pk_;  // to-many levels across a join table: each row's slot
    std::optional<RowReader<Target>> read_;
    KeyIndexFor<Key> target_slot_;  // forward relations: the slot of each target's key
};

/// Loads one object's relation (rel.load(db)): `cache` as cache_of() made it, `key` the
/// relation's key (forward) or its owner's.
template <class Target, class Key, bool Forward>
void load_one(Session& db, const LevelSpec& spec, void* cache, std::optional<Key> key) {
    RelNodeBase node;
    node.spec = &spec;
    RelLevel<Target, Key, Forward> l(node, db);
    l.keys.push_back(std::move(key));
    l.parents.add_cache(cache);
    Session::OriginScope scope(db, "load");
    l.plan_queries();
    LevelFetch* one[] = {&l};
    db.fetch_together(one);
    l.fill();
}

/// The lines of explain_level past its query `q` (on `db`): the query plan, the levels below.
LOOM_DECL void explain_lines(const RelNodeBase& node, Session& db, const SqlText& q,
                             std::vector<std::string>& out, const std::string& prefix);

/// explain_level for keys of type Key: the level's query is `sql` on the queryset at `state`.
template <class Key>
void explain_keys(const RelNodeBase& node, KeySql sql, const void* state, Session& parents_db,
                  std::vector<std::string>& out, const std::string& prefix) {
    Session& db = node.database(parents_db);
    const Key sample[] = {Key{}};
    KeyList<Key> list;
    explain_lines(node, db,
                  sql(state, db, list.test(&node.spec->join(), sample, false, node.spec->to_one())),
                  out, prefix);
}

/// The query plan of a node's level and the levels below, one line per level.
template <class Target, class Key>
void explain_level(const RelNodeBase& node, Session& parents_db, std::vector<std::string>& out,
                   const std::string& prefix) {
    explain_keys<Key>(node, &key_query<Target>, &node.state(), parents_db, out, prefix);
}

}  // namespace loom::detail

// The key types of nearly every model: their levels' key handling is compiled once.
LOOM_EXTERN_TEMPLATE(struct loom::detail::KeyPlan<std::int64_t>);
LOOM_EXTERN_TEMPLATE(struct loom::detail::KeyPlan<std::string>);
LOOM_EXTERN_TEMPLATE(class loom::detail::KeyLevel<std::int64_t>);
LOOM_EXTERN_TEMPLATE(class loom::detail::KeyLevel<std::string>);
LOOM_EXTERN_TEMPLATE(void loom::detail::explain_keys<std::int64_t>(
    const loom::detail::RelNodeBase&, loom::detail::KeySql, const void*, loom::detail::Session&,
    std::vector<std::string>&, const std::string&));
LOOM_EXTERN_TEMPLATE(void loom::detail::explain_keys<std::string>(
    const loom::detail::RelNodeBase&, loom::detail::KeySql, const void*, loom::detail::Session&,
    std::vector<std::string>&, const std::string&));

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/level.hpp"
#endif
