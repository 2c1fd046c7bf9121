// The prefetch engine: for each prefetched relation, collect the distinct keys of the objects
// loaded so far, run ONE query per chunk of keys (chunks only past the connection's variable
// limit or the batch size; long lists as one array parameter), and stitch the rows into each
// object's relation cache through a hash index. Related objects of one level live in one
// block that every cache of the level shares (through one Anchor); nested levels run on what
// a level loaded. annotate_count runs here too, as a node that counts instead of loading.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "../sql/select.hpp"
#include "block.hpp"
#include "key_index.hpp"
#include "node.hpp"

namespace loom::detail {

/// Two prefetch querysets ask for the same rows: the same SQL and parameters.
template <class T> bool same_query(const QueryState<T>& a, const QueryState<T>& b) {
    if (&a == &b) return true;
    return SelectBuilder<T>(a, nullptr).rows() == SelectBuilder<T>(b, nullptr).rows();
}

/// What a member that Prefetch(&Owner::member, ...).into(...) filled reports: the relation it
/// was loaded from, and no loader (the member is not in the descriptor).
template <class T, std::size_t I>
inline const RelationInfo into_relation_info{type_name<T>(), member_name_of<T, I>(),
                                             type_name<typename entry_t<T, I>::target>(), nullptr,
                                             true};

/// How one level passes its keys to SQL: IN lists of at most `room` keys, each padded to a
/// power of two (repeating the last key) so a few statement shapes serve every count and stay
/// in the statement cache; or, past Database::json_keys_above(), JSON arrays (one parameter
/// each, one statement shape, split only by a batch size).
struct KeyChunks {
    bool json = false;
    std::size_t room = 0;
};

inline KeyChunks plan_key_chunks(Session& s, std::size_t keys, std::size_t own_params,
                                 const std::string& what, bool arrays = true) {
    const auto limit = static_cast<std::size_t>(s.variable_limit());
    if (own_params >= limit)
        throw UsageError(what + ": the queryset alone binds " + std::to_string(own_params) +
                         " parameters, the connection's limit");
    if (arrays && keys > s.key_array_above())
        return {true, s.options().batch_size ? s.options().batch_size : keys};
    return {false, std::min(s.max_keys_per_query(), limit - own_params)};
}

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

template <class Owner, class Rel> struct RelNodeT : PrefetchNode<Owner> {
    using Target = typename Rel::target_type;
    Rel Owner::*relation = nullptr;  // the relation member
    Rel Owner::*slot = nullptr;      // where the rows go (the relation, or into(...))
    std::shared_ptr<const QueryState<Target>> custom;  // Prefetch(..., queryset)
    Session* session = nullptr;  // the database of the Prefetch's queryset (null: the parents')
    PrefetchList<Target> children;
    bool into_other = false;  // Prefetch(...).into(another member)
    bool skip_loaded = true;  // parents whose slot is loaded run no query (db.load: false)

    bool same_slot(const PrefetchNode<Owner>& other) const override {
        if (typeid(*this) != typeid(other)) return false;
        return static_cast<const RelNodeT&>(other).slot == slot;
    }
    void merge(const PrefetchNode<Owner>& other_base) override {
        const auto& other = static_cast<const RelNodeT&>(other_base);
        if (other.custom) {
            if (custom && (session != other.session || !same_query(*custom, *other.custom)))
                throw UsageError("prefetch_related: " + this->describe() +
                                 (into_other ? " (loaded into another member by into(...))" : "") +
                                 " was given two different querysets" +
                                 (session != other.session ? " (of two databases)" : "") +
                                 "; use Prefetch(...).into(...) to load the second one into "
                                 "another member");
            if (!custom) {
                custom = other.custom;
                session = other.session;
            }
        }
        for (auto& c : other.children) merge_prefetch(children, *c);
    }
};

/// The reverse entry of Target whose forward member is entry I of Owner (a one-to-one's
/// ReverseOne side), or entry_count<Target> when Target declares none.
template <class Owner, std::size_t I> constexpr std::size_t reverse_entry_of() {
    using E = entry_t<Owner, I>;
    using Target = typename E::target;
    std::size_t found = entry_count<Target>;
    if constexpr (E::kind == entry_kind::one_to_one) {
        for_each_index<Target>([&](auto j) {
            constexpr std::size_t J = decltype(j)::value;
            if constexpr (entry_t<Target, J>::kind == entry_kind::reverse) {
                if constexpr (std::is_same_v<decltype(entry<Target, J>().forward),
                                             decltype(entry<Owner, I>().member)>) {
                    if (found == entry_count<Target> &&
                        entry<Target, J>().forward == entry<Owner, I>().member)
                        found = J;
                }
            }
        });
    }
    return found;
}

/// One prefetched relation: entry I of Owner's descriptor.
template <class Owner, std::size_t I>
class RelNode final
    : public RelNodeT<Owner, std::remove_cvref_t<decltype(std::declval<Owner&>().*
                                                          (entry<Owner, I>().member))>> {
    using E = entry_t<Owner, I>;
    using Rel = std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>;
    using Base = RelNodeT<Owner, Rel>;
    using Target = typename Rel::target_type;
    // Growing never moves the objects read so far (no copies, no transient 2x peak).
    using Block = StableBlock<Target>;

    static constexpr bool forward =
        E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one;
    // The keys this level looks up: the targets' keys for a forward relation, else the
    // parents' own keys.
    using Key = std::conditional_t<forward, key_of<Target>, key_of<Owner>>;
    using TargetKey = key_of<Target>;
    static constexpr bool to_one = forward || std::is_same_v<Rel, ReverseOne<Target>>;
    static constexpr bool reverse_of_m2m = [] {
        if constexpr (E::kind == entry_kind::reverse)
            return std::is_same_v<typename E::forward_type, ManyToMany<Owner>>;
        else
            return false;
    }();
    // Only across a join table can one target row come back for several parents.
    static constexpr bool shared_targets = E::kind == entry_kind::many_to_many || reverse_of_m2m;

    // Back references (Django fills the known side): the children of a reverse ForeignKey or
    // reverse one-to-one get their forward member pointing at their parent; the target of a
    // forward one-to-one gets its ReverseOne pointing back, when Target declares it.
    static constexpr bool back_to_parent = E::kind == entry_kind::reverse && !reverse_of_m2m;
    static constexpr std::size_t back_index = [] {
        if constexpr (back_to_parent)
            return index_of_member<Target>(entry<Owner, I>().forward);
        else
            return reverse_entry_of<Owner, I>();
    }();
    static constexpr bool has_back = [] {
        if constexpr (back_index < entry_count<Target>) {
            using M = std::remove_cvref_t<decltype(std::declval<Target&>().*
                                                   (entry<Target, back_index>().member))>;
            if constexpr (back_to_parent)
                return std::is_base_of_v<ForeignKey<Owner, key_of<Owner>>, M>;
            else
                return std::is_same_v<M, ReverseOne<Owner>>;
        } else {
            return false;
        }
    }();

    using AnchorType = std::conditional_t<to_one, Anchor, ListAnchor<Target>>;

    /// One planned level of this relation (node.hpp): what plan() took from the parents, then
    /// what the fetch read. row() and fetched() touch only this object's own members.
    struct Planned final : Level {
        const RelNode* node = nullptr;
        Session* db = nullptr;
        // From the parents, parallel: each parent's key (none for a NULL key), its cache, itself.
        std::vector<std::optional<Key>> keys;
        std::vector<Rel*> rels;
        std::vector<Owner*> owners;
        // The one anchor that keeps every parent loaded now alive, if there is one: only then
        // do their children get back references (see anchor.hpp).
        const Anchor* holder = nullptr;
        // Objects of parents whose relation was loaded already: the nested levels run on them.
        std::vector<std::pair<Target*, const Anchor*>> preloaded;
        // Distinct keys in first-seen order; parents sharing a key are chained.
        KeyIndexFor<Key> by_key;
        std::vector<Key> distinct;
        std::vector<std::uint32_t> first_parent, next_parent;
        // What the fetch reads. Growing never moves the objects read so far.
        std::shared_ptr<Block> block = std::make_shared<Block>();
        // (key index, slot) per row. Rows that no other parent shares sit in the block in row
        // order, so their slot is their position and only the key index is kept: 4 bytes a
        // row instead of 8 in the level's largest transient array.
        using Link = std::conditional_t<shared_targets, std::pair<std::uint32_t, std::uint32_t>,
                                        std::uint32_t>;
        std::vector<Link> links;
        /// Calls fn(key index, slot) for each row read, in row order.
        template <class Fn> void each_link(Fn&& fn) const {
            if constexpr (shared_targets) {
                for (auto [k, slot] : links) fn(k, slot);
            } else {
                for (std::uint32_t slot = 0; slot < links.size(); ++slot) fn(links[slot], slot);
            }
        }
        KeyIndexFor<TargetKey> by_pk;
        std::optional<RowReader<Target>> read;
        KeyIndexFor<Key> target_slot;  // forward relations: the slot of each target's key
        AnchorRef anchor;              // made by stitch()

        void row(const Statement& s) override {
            if constexpr (forward) {
                block->emplace_back();
                (*read)(s, 0, block->back());
            } else {
                const std::uint32_t k =
                    by_key.find(read_key<Key>(s, 0, [this] { return node->describe(); }));
                if (k == KeyIndex::npos) return;
                std::uint32_t slot;
                if constexpr (shared_targets) {
                    bool fresh;
                    slot =
                        by_pk.insert(read_key<TargetKey>(s, 1, [this] { return node->describe(); }),
                                     static_cast<std::uint32_t>(block->size()), fresh);
                    if (fresh) {
                        block->emplace_back();
                        (*read)(s, 1, block->back());
                    }
                } else {
                    slot = static_cast<std::uint32_t>(block->size());
                    block->emplace_back();
                    (*read)(s, 1, block->back());
                }
                if constexpr (shared_targets)
                    links.emplace_back(k, slot);
                else
                    links.push_back(k);
            }
        }
        void fetched() override {
            if constexpr (forward) {
                if (distinct.empty()) return;
                target_slot = KeyIndexFor<Key>(block->size());
                for (std::size_t i = 0; i < block->size(); ++i) {
                    bool fresh;
                    target_slot.insert(primary_key_of((*block)[i]), static_cast<std::uint32_t>(i),
                                       fresh);
                }
                // A key with no row (possible only where foreign keys were not enforced) is an
                // error, found before any cache is touched. A Prefetch with its own queryset
                // may leave targets out on purpose: those read as nullptr.
                for (std::size_t p = 0; p < rels.size() && !node->custom; ++p)
                    if (keys[p] && target_slot.find(*keys[p]) == KeyIndex::npos)
                        throw_dangling_key(node->describe(), entry<Owner, I>().column, *keys[p],
                                           meta<Target>().name);
            }
        }
        void stitch(std::vector<std::unique_ptr<Level>>& next) override {
            node->stitch_level(*this, next);
        }
    };

public:
    RelNode() { this->relation = this->slot = entry<Owner, I>().member; }

    std::unique_ptr<PrefetchNode<Owner>> clone() const override {
        return std::make_unique<RelNode>(*this);
    }
    std::string describe() const override {
        return meta<Owner>().name + "::" + std::string(member_name_of<Owner, I>());
    }
    void count_levels(std::vector<std::size_t>& per_depth, std::size_t depth) const override {
        PrefetchNode<Owner>::count_levels(per_depth, depth);
        for (auto& c : this->children) c->count_levels(per_depth, depth + 1);
    }

    std::unique_ptr<Level> plan(Session& parents_db, Parents<Owner> parents) const override {
        auto level = std::make_unique<Planned>();
        Planned& l = *level;
        l.node = this;
        // A Prefetch's queryset reads its own database, as Django's does, in its own snapshot
        // (kept by this level and the levels below it).
        // A Prefetch QuerySet of the parents' own Database reads where the parents were read
        // (the same replica and snapshot).
        Session& db =
            this->session && this->session != &parents_db.root() ? *this->session : parents_db;
        l.db = &db;
        l.session = &db;
        if (&db != &parents_db) l.keep = std::make_shared<Session::ReadSnapshot>(db, true);

        const std::size_t n = parents.objects.size();
        l.keys.reserve(n);
        l.rels.reserve(n);
        l.owners.reserve(n);
        bool one_holder = true;
        for (std::size_t i = 0; i < n; ++i) {
            Owner* p = parents.objects[i];
            Rel& rel = p->*(this->slot);
            if (this->skip_loaded && rel.loaded()) {
                // Loaded already (select_related, an earlier prefetch_related_objects): no
                // query for it, but nested levels still run on what it holds.
                if (!this->children.empty()) collect_loaded(rel, l.preloaded);
                continue;
            }
            // A forward key is read from the relation member, whatever member it goes into.
            if constexpr (forward)
                l.keys.push_back((p->*(entry<Owner, I>().member)).id());
            else
                l.keys.push_back(primary_key_of(*p));
            l.rels.push_back(&rel);
            l.owners.push_back(p);
            const Anchor* h = parents.holder(i);
            if (l.rels.size() == 1)
                l.holder = h;
            else if (h != l.holder)
                one_holder = false;
        }
        if (!one_holder) l.holder = nullptr;
        if (!l.rels.empty()) plan_queries(db, l);
        return level;
    }

    /// Loads one object's relation (Rel::load): `owner_key` is its owner's key (unused for a
    /// forward relation, whose member holds the key).
    static void load_one(Session& db, Rel& rel, const void* owner_key) {
        RelNode node;
        Planned l;
        l.node = &node;
        l.db = &db;
        if constexpr (forward) {
            l.keys.push_back(rel.id());
        } else {
            // The owner's key the member kept when its object was read or written: a
            // std::int64_t, or the key in the object's KeyBox (detail::KeyedWord).
            l.keys.push_back(*static_cast<const key_of<Owner>*>(owner_key));
        }
        l.rels.push_back(&rel);
        l.owners.push_back(nullptr);
        Session::OriginScope scope(db, "load");
        node.plan_queries(db, l);
        LevelFetch* one[] = {&l};
        db.fetch_together(one);
        node.fill(l);
    }

    void explain(Session& parents_db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        // A Prefetch QuerySet of the parents' own Database reads where the parents were read
        // (the same replica and snapshot).
        Session& db =
            this->session && this->session != &parents_db.root() ? *this->session : parents_db;
        const Key sample[] = {Key{}};
        KeyList<Key> list;
        const SqlText q = query_for(db, list, sample, false);
        out.push_back(prefix + describe() + ": " + q.sql);
        explain_into(db, q, out, prefix + "  ");
        for (auto& c : this->children) c->explain(db, out, prefix + "  ");
    }

private:
    const QueryState<Target>& state() const {
        static const QueryState<Target> all;
        return this->custom ? *this->custom : all;
    }

    /// The SELECT for one chunk of keys: the parent key (when it is not the target's own
    /// primary key) leads, the target's columns follow.
    SqlText query_for(Session& db, KeyList<Key>& list, std::span<const Key> keys,
                      bool array) const {
        return SelectBuilder<Target>(state(), &db)
            .for_keys(list.test(&relation_join<Owner, I>(), keys, array, to_one));
    }

    const RelationInfo* info() const noexcept {
        return this->into_other ? &into_relation_info<Owner, I> : &relation_info<Owner, I>;
    }

    /// The plan phase past the parents: the distinct keys, and the statements that look them
    /// up (none when every key is NULL).
    void plan_queries(Session& db, Planned& l) const {
        const auto& keys = l.keys;
        l.by_key = KeyIndexFor<Key>(keys.size());
        if constexpr (!forward) l.next_parent.assign(keys.size(), KeyIndex::npos);
        std::vector<std::uint32_t> last_parent;
        l.distinct.reserve(keys.size());
        for (std::size_t p = 0; p < keys.size(); ++p) {
            if (!keys[p]) continue;
            bool fresh;
            const auto k =
                l.by_key.insert(*keys[p], static_cast<std::uint32_t>(l.distinct.size()), fresh);
            if (fresh) l.distinct.push_back(*keys[p]);
            if constexpr (!forward) {
                // Chain the parents of key k, in parent order (forward relations stitch by
                // target key instead).
                if (fresh) {
                    l.first_parent.push_back(static_cast<std::uint32_t>(p));
                    last_parent.push_back(static_cast<std::uint32_t>(p));
                } else {
                    l.next_parent[last_parent[k]] = static_cast<std::uint32_t>(p);
                    last_parent[k] = static_cast<std::uint32_t>(p);
                }
            }
        }
        if (l.distinct.empty()) return;  // nothing to look up: no query

        // Explicit loads (rel.load(db), db.load) say so in the query log and the N+1 guard.
        l.origin = (db.origin() == "load" ? "load " : "prefetch ") + describe();
        l.by_pk = KeyIndexFor<TargetKey>(shared_targets ? l.distinct.size() : 0);
        l.read.emplace(state());
        // Chunk so that keys + the queryset's own parameters fit the variable limit.
        KeyList<Key> list;
        const std::size_t own_params =
            query_for(db, list, std::span<const Key>{}, false).params.size();
        const KeyChunks plan = plan_key_chunks(db, l.distinct.size(), own_params,
                                               "prefetch " + describe(), key_arrays_for<Key>());
        for_each_key_chunk<Key>(l.distinct, plan, [&](std::span<const Key> chunk, bool json) {
            l.statements.push_back(query_for(db, list, chunk, json));
        });
    }

    /// The stitch phase: the caches, then the nested levels on what was loaded.
    void stitch_level(Planned& l, std::vector<std::unique_ptr<Level>>& next) const {
        if (!l.rels.empty()) fill(l);
        if (this->children.empty()) return;

        std::vector<Target*> targets;
        std::vector<const Anchor*> holders;
        const std::size_t loaded = l.anchor ? l.block->size() : 0;
        targets.reserve(loaded + l.preloaded.size());
        holders.reserve(loaded + l.preloaded.size());
        if (l.anchor)
            for (auto& t : *l.block) {
                targets.push_back(&t);
                holders.push_back(l.anchor.get());
            }
        auto& preloaded = l.preloaded;
        if (!preloaded.empty()) {
            std::sort(preloaded.begin(), preloaded.end(), [](const auto& a, const auto& b) {
                return std::less<Target*>{}(a.first, b.first);
            });
            preloaded.erase(
                std::unique(preloaded.begin(), preloaded.end(),
                            [](const auto& a, const auto& b) { return a.first == b.first; }),
                preloaded.end());
            for (const auto& [t, h] : preloaded) {
                targets.push_back(t);
                holders.push_back(h);
            }
        }
        if (targets.empty()) return;
        for (auto& child : this->children) {
            auto c = child->plan(*l.db, {targets, holders});
            // The nested level keeps what this one kept (another database's snapshot), and
            // this level's anchor, which its parents' back references hang on.
            if (!c->keep) c->keep = l.keep;
            c->parent_anchor = l.anchor;
            next.push_back(std::move(c));
        }
    }

    /// Fills `l.rels` (parallel to `l.keys`, and to `l.owners`, the objects they belong to)
    /// with what the fetch read. `l.holder`: the anchor that keeps every owner alive and in
    /// place, or null (then no back references are made).
    void fill(Planned& l) const {
        const auto& keys = l.keys;
        const auto& rels = l.rels;
        const auto& owners = l.owners;
        const auto& block = l.block;
        // One anchor for every cache this level fills: it keeps the block alive (and, for
        // lists, the one array the lists are slices of). The words of parents that loom keeps
        // (a QuerySet's rows, a level's block) are internal; when one anchor keeps them all,
        // this level holds it while copies of its caches exist, and its children can point
        // back at their parents.
        auto* anchor = new AnchorType(info(), block);
        const bool internal = l.holder != nullptr;
        const Anchor* back = nullptr;
        if constexpr (has_back) {
            if (l.holder) {
                anchor->set_parent(l.holder);  // before any reference to it is counted
                back = anchor->make_back(&relation_info<Target, back_index>);
            }
        }
        l.anchor = AnchorRef(anchor);
        if (l.distinct.empty()) {
            // Nothing to look up: no query, but every cache is loaded (empty or NULL).
            for (std::size_t p = 0; p < rels.size(); ++p) {
                if constexpr (forward)
                    if (this->into_other)
                        relation_access::set_key(static_cast<ForeignKey<Target, Key>&>(*rels[p]),
                                                 keys[p]);
                mark_empty(*rels[p], anchor, internal);
            }
            return;
        }
        const auto& first_parent = l.first_parent;
        const auto& next_parent = l.next_parent;

        // Stitch: the block no longer grows, so pointers into it are stable.
        if constexpr (forward) {
            const auto& target_slot = l.target_slot;
            for (std::size_t p = 0; p < rels.size(); ++p) {
                Target* t = nullptr;
                if (keys[p]) {
                    const auto slot = target_slot.find(*keys[p]);
                    if (slot != KeyIndex::npos) t = &(*block)[slot];
                }
                auto& fk = static_cast<ForeignKey<Target, Key>&>(*rels[p]);
                // A member filled by into(...) mirrors the relation's key, so that is_null()
                // tells a NULL key from a target the Prefetch's queryset left out.
                if (this->into_other) relation_access::set_key(fk, keys[p]);
                relation_access::set(fk, static_cast<const Target*>(t), anchor, internal);
                if constexpr (has_back)
                    if (back && t) {
                        auto& rev = t->*(entry<Target, back_index>().member);
                        // A target shared by several parents (possible only without the
                        // UNIQUE constraint) points back at the first.
                        if (!rev.loaded() || relation_access::anchor(rev) != back)
                            relation_access::set(rev, static_cast<const Owner*>(owners[p]), back,
                                                 true);
                    }
            }
        } else if constexpr (std::is_same_v<Rel, ReverseOne<Target>>) {
            for (Rel* r : rels)
                relation_access::set(*r, static_cast<const Target*>(nullptr), anchor, internal);
            l.each_link([&](std::uint32_t k, std::uint32_t slot) {
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p])
                    relation_access::set(*rels[p], &(*block)[slot], anchor, internal);
                set_back((*block)[slot], owners[first_parent[k]], back);
            });
        } else {
            // Count, then fill one array for the whole level; each list is a slice of it.
            std::vector<std::uint32_t> at(rels.size() + 1, 0);
            l.each_link([&](std::uint32_t k, std::uint32_t) {
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p]) ++at[p + 1];
            });
            for (std::size_t p = 0; p < rels.size(); ++p) at[p + 1] += at[p];
            auto& items = anchor->items;
            items.resize(at.back());
            l.each_link([&](std::uint32_t k, std::uint32_t slot) {
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p])
                    items[at[p]++] = &(*block)[slot];
                if constexpr (back_to_parent)
                    set_back((*block)[slot], owners[first_parent[k]], back);
            });
            // at[p] is now the end of parent p's slice, at[p - 1] its start.
            for (std::size_t p = 0; p < rels.size(); ++p) {
                const std::uint32_t begin = p == 0 ? 0 : at[p - 1];
                relation_access::assign(*rels[p], items.data() + begin, at[p] - begin, anchor,
                                        internal);
            }
        }
    }

    /// A child's forward member, pointed at the parent it was loaded for (no query: its key
    /// is the parent's). `back` is null when the parents have no single holder.
    static void set_back([[maybe_unused]] Target& child, [[maybe_unused]] const Owner* parent,
                         [[maybe_unused]] const Anchor* back) {
        if constexpr (back_to_parent && has_back) {
            if (!back) return;
            auto& fk = child.*(entry<Target, back_index>().member);
            relation_access::set(static_cast<ForeignKey<Owner, key_of<Owner>>&>(fk), parent, back,
                                 true);
        }
    }

    /// The objects an already-loaded relation holds (the engine made them; they are not
    /// const), each with the anchor whose storage keeps it (null when unknown).
    static void collect_loaded(Rel& rel, std::vector<std::pair<Target*, const Anchor*>>& out) {
        const Anchor* a = relation_access::anchor(rel);
        const Anchor* holder = a ? a->storage() : nullptr;
        if constexpr (to_one) {
            if (const Target* t = rel.get()) out.emplace_back(const_cast<Target*>(t), holder);
        } else {
            for (const Target* t : relation_access::items(rel))
                out.emplace_back(const_cast<Target*>(t), holder);
        }
    }

    static void mark_empty(Rel& r, const Anchor* anchor, bool internal) {
        if constexpr (forward)
            relation_access::set(static_cast<ForeignKey<Target, Key>&>(r),
                                 static_cast<const Target*>(nullptr), anchor, internal);
        else if constexpr (std::is_same_v<Rel, ReverseOne<Target>>)
            relation_access::set(r, static_cast<const Target*>(nullptr), anchor, internal);
        else
            relation_access::assign(r, static_cast<const Target* const*>(nullptr), 0, anchor,
                                    internal);
    }
};

template <class T, std::size_t I>
void load_relation(Database& db, void* relation, const void* key) {
    using Rel = std::remove_cvref_t<decltype(std::declval<T&>().*(entry<T, I>().member))>;
    RelNode<T, I>::load_one(session_of(db), *static_cast<Rel*>(relation), key);
}

/// The prefetch node for one relation member.
template <class Owner, class Rel>
std::unique_ptr<RelNodeT<Owner, Rel>> make_node(Rel Owner::*member) {
    static_assert(is_relation_member<Rel>::value,
                  "prefetch_related: this member is not a relation (ForeignKey, OneToOne, "
                  "ManyToMany, Reverse or ReverseOne)");
    static_assert(has_model<Owner>,
                  "prefetch_related: the model that owns this member has no loom::model "
                  "descriptor");
    static_assert(declared_with_type<Owner, Rel>(),
                  "prefetch_related: this relation member is not declared in its model's "
                  "descriptor");
    std::unique_ptr<RelNodeT<Owner, Rel>> out;
    visit_entry(member,
                [&](auto i) { out = std::make_unique<RelNode<Owner, decltype(i)::value>>(); });
    if (!out)
        throw UsageError("prefetch_related: the member is not declared in the descriptor of " +
                         meta<Owner>().name);
    return out;
}

template <class M> struct member_owner;
template <class Owner, class Rel> struct member_owner<Rel Owner::*> {
    using owner = Owner;
    using rel = Rel;
};

template <class M1, class M2> constexpr bool chains() {
    using To = typename member_owner<M1>::rel::target_type;
    return std::is_same_v<To, typename member_owner<M2>::owner>;
}

template <class M, class... Ms> auto make_chain(M m, Ms... ms) {
    auto node = make_node(m);
    if constexpr (sizeof...(Ms) > 0) {
        auto child = make_chain(ms...);
        node->children.push_back(
            std::shared_ptr<const PrefetchNode<typename member_owner<M>::rel::target_type>>(
                std::move(child)));
    }
    return node;
}

// ---- annotate_count, annotate_sum/avg/min/max ------------------------------------------------

/// A per-parent aggregate (a count, a sum...) written into member `into` of each parent;
/// compared across relations so that two different aggregates into one member are caught when
/// the QuerySet is built.
template <class Owner, class C> struct CountNodeT : PrefetchNode<Owner> {
    C Owner::*into = nullptr;
    SqlText signature;  // the query's SQL and parameters with no keys: equal for equal aggregates
    std::string fn = "count";  // count, sum, avg, min, max

    bool annotation() const override { return true; }
    bool same_slot(const PrefetchNode<Owner>& other) const override {
        const auto* o = dynamic_cast<const CountNodeT*>(&other);
        return o && o->into == into;
    }
    void merge(const PrefetchNode<Owner>& other_base) override {
        const auto& other = static_cast<const CountNodeT&>(other_base);
        if (signature == other.signature) return;
        if (fn == "count" && other.fn == "count")
            throw UsageError("annotate_count: " + this->describe() + " and " + other.describe() +
                             " are counted into the same member with different querysets; give "
                             "each count its own member");
        throw UsageError("annotate_" + other.fn + ": " + other.fn + " " + other.describe() +
                         " and " + fn + " " + this->describe() +
                         " are written into the same member; give each aggregate its own member");
    }
};

/// Aggregates relation I of Owner (a Reverse or a ManyToMany, either side) per parent key:
/// `what` (COUNT(*), SUM(t0."score")...) over the related rows of each parent, read into C; a
/// parent with no related rows gets C{} (0, or an empty std::optional).
template <class Owner, std::size_t I, class C> class CountNode final : public CountNodeT<Owner, C> {
    using E = entry_t<Owner, I>;
    using Key = key_of<Owner>;
    using Rel = std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>;
    using Target = typename Rel::target_type;

public:
    std::shared_ptr<const QueryState<Target>> only;
    std::string what = "COUNT(*)";

    std::unique_ptr<PrefetchNode<Owner>> clone() const override {
        return std::make_unique<CountNode>(*this);
    }
    std::string describe() const override {
        return meta<Owner>().name + "::" + std::string(member_name_of<Owner, I>());
    }
    /// One planned aggregate: the distinct parent keys, then the value read for each.
    struct Planned final : Level {
        const CountNode* node = nullptr;
        std::vector<Owner*> parents;
        KeyIndexFor<Key> by_key;
        std::vector<std::uint32_t> key_at;  // parallel to parents: the index of its key
        std::vector<C> values;              // one per distinct key

        void row(const Statement& s) override {
            const Key key = read_key<Key>(s, 0, [&] { return origin; });
            const std::uint32_t k = by_key.find(key);
            if (k == KeyIndex::npos) return;
            if (const char* why = read_column(s, 1, values[k]))
                throw DataError("annotate_" + node->fn + " " + node->describe() + ": " +
                                node->what + " of key " + key_text(key) + ": " + why + ", found " +
                                describe_stored(s, 1));
        }
        void stitch(std::vector<std::unique_ptr<Level>>&) override {
            // A parent with no related rows gets C{}.
            for (std::size_t p = 0; p < parents.size(); ++p)
                parents[p]->*(node->into) = values.empty() ? C{} : values[key_at[p]];
        }
    };

    std::unique_ptr<Level> plan(Session& db, Parents<Owner> level) const override {
        auto planned = std::make_unique<Planned>();
        Planned& l = *planned;
        l.node = this;
        const std::span<Owner* const> parents = level.objects;
        l.parents.assign(parents.begin(), parents.end());
        // Distinct keys (the same object may be given twice).
        l.by_key = KeyIndexFor<Key>(parents.size());
        std::vector<Key> distinct;
        l.key_at.resize(parents.size());
        for (std::size_t p = 0; p < parents.size(); ++p) {
            bool fresh;
            l.key_at[p] = l.by_key.insert(primary_key_of(*parents[p]),
                                          static_cast<std::uint32_t>(distinct.size()), fresh);
            if (fresh) distinct.push_back(primary_key_of(*parents[p]));
        }
        if (distinct.empty()) return planned;
        l.values.assign(distinct.size(), C{});

        l.origin = this->fn + " " + describe();
        const KeyChunks plan =
            plan_key_chunks(db, distinct.size(), this->signature.params.size(),
                            "annotate_" + this->fn + " " + describe(), key_arrays_for<Key>());
        KeyList<Key> list;
        for_each_key_chunk<Key>(distinct, plan, [&](std::span<const Key> chunk, bool json) {
            l.statements.push_back(count_sql(&db, list, chunk, json));
        });
        return planned;
    }

    void explain(Session& db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        const Key sample[] = {Key{}};
        KeyList<Key> list;
        const SqlText q = count_sql(&db, list, sample);
        out.push_back(prefix + this->fn + " " + describe() + ": " + q.sql);
        explain_into(db, q, out, prefix + "  ");
    }

    /// SELECT <parent key>, <what> FROM <target> [JOIN <join table>] WHERE ... GROUP BY key.
    SqlText count_sql(Session* db, KeyList<Key>& list, std::span<const Key> keys,
                      bool array = false) const {
        static const QueryState<Target> all;
        return SelectBuilder<Target>(only ? *only : all, db)
            .aggregate_for_keys(list.test(&relation_join<Owner, I>(), keys, array, false), what);
    }
};

/// The node of annotate_<fn>: `what` (an aggregate over the related model's rows, alias t0)
/// of relation `relation` into member `into`, over the rows `only` keeps (all when null).
template <class Owner, class Rel, class C, class Target>
std::shared_ptr<const PrefetchNode<Owner>> make_aggregate_node(
    Rel Owner::*relation, C Owner::*into, std::shared_ptr<const QueryState<Target>> only,
    const std::string& fn, const std::string& what) {
    static_assert(std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>,
                  "annotate_count/sum/avg/min/max: only a to-many relation (a loom::ManyToMany or "
                  "loom::Reverse member) can be aggregated per parent");
    static_assert(declared_with_type<Owner, Rel>(),
                  "annotate_count/sum/avg/min/max: this relation member is not declared in its "
                  "model's descriptor");
    if (index_of_member<Owner>(into) < entry_count<Owner>)
        throw UsageError("annotate_" + fn + ": the " + (fn == "count" ? "count" : "result") +
                         " member is a column of " + meta<Owner>().name + "'s descriptor; " +
                         (fn == "count" ? "count" : "write the " + fn) +
                         " into a plain member that loom::model<" + meta<Owner>().name +
                         "> does not declare");
    std::shared_ptr<CountNodeT<Owner, C>> out;
    visit_entry(relation, [&](auto i) {
        auto node = std::make_shared<CountNode<Owner, decltype(i)::value, C>>();
        node->only = only;
        node->what = what;
        node->fn = fn;
        KeyList<detail::key_of<Owner>> list;
        node->signature = node->count_sql(nullptr, list, {});
        out = std::move(node);
    });
    if (!out)
        throw UsageError("annotate_" + fn + ": the relation is not declared in the descriptor of " +
                         meta<Owner>().name);
    if (only && only->bounds.sliced())
        throw UsageError("annotate_" + fn + "(" + out->describe() +
                         "): the QuerySet that filters the " + (fn == "count" ? "count" : fn) +
                         " is sliced; a" + (fn == "avg" ? "n " : " ") + fn +
                         " uses only its filters");
    out->into = into;
    return out;
}

template <class Owner, class Rel, class C, class Target>
std::shared_ptr<const PrefetchNode<Owner>> make_count_node(
    Rel Owner::*relation, C Owner::*into, std::shared_ptr<const QueryState<Target>> only) {
    static_assert(std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>,
                  "annotate_count: only a to-many relation (a loom::ManyToMany or loom::Reverse "
                  "member) can be counted");
    static_assert(std::is_integral_v<C> && !std::is_same_v<C, bool>,
                  "annotate_count: the count goes into an integer member, like "
                  "std::int64_t book_count = 0;");
    return make_aggregate_node<Owner, Rel, C, Target>(relation, into, std::move(only), "count",
                                                      "COUNT(*)");
}

}  // namespace loom::detail
