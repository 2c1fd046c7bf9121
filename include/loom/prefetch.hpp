// loom/prefetch.hpp - prefetch_related: after the base query runs, each prefetched relation
// level runs ONE query with the distinct keys of the objects loaded so far in an IN list
// (split into chunks only past the connection's variable limit or the batch size), and the
// rows are stitched into each object's relation cache through a hash index.
//
//     auto books = db.objects<Book>()
//         .prefetch_related(&Book::publisher, &Book::authors)            // 1 query each
//         .prefetch_related(loom::path(&Book::authors, &Author::books))  // 1 more (authors shared)
//         .prefetch_related(loom::Prefetch(&Book::reviews,
//             db.objects<Review>().order_by(loom::desc(&Review::rating)).limit(3)));
//
// Related objects of one level live in one shared block: an author of many books is read once
// and every book points at the same object; copies of a book keep the block alive.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "detail/block.hpp"
#include "detail/key_index.hpp"
#include "queryset.hpp"

namespace loom {
namespace detail {

/// The RelationInfo of the member `slot` of Owner (what a loaded cache of it reports in
/// messages and uses for load()).
template <class Owner, class Rel>
const RelationInfo* relation_info_of(Rel Owner::*slot) noexcept {
    const RelationInfo* out = nullptr;
    for_each_index<Owner>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<Owner, I>().member), Rel Owner::*>)
            if (!out && entry<Owner, I>().member == slot) out = &relation_info<Owner, I>;
    });
    return out;
}

/// How one level passes its keys to SQL: IN lists of at most `room` keys, each padded to a
/// power of two (repeating the last key) so a few statement shapes serve every count and stay
/// in the statement cache; or, past Database::json_keys_above(), JSON arrays (one parameter
/// each, one statement shape, split only by a batch size).
struct KeyChunks {
    bool json = false;
    std::size_t room = 0;
};

inline KeyChunks plan_key_chunks(Database& db, std::size_t keys, std::size_t own_params,
                                 const std::string& what) {
    const auto limit = static_cast<std::size_t>(db.variable_limit());
    if (own_params >= limit)
        throw UsageError(what + ": the queryset alone binds " + std::to_string(own_params) +
                         " parameters, the connection's limit");
    if (keys > db.json_keys_above())
        return {true, db.batch_size() ? db.batch_size() : keys};
    return {false, std::min(db.max_keys_per_query(), limit - own_params)};
}

/// Calls fn(keys, json) once per chunk of `distinct`, as `plan` says.
template <class Fn>
void for_each_key_chunk(std::span<const std::int64_t> distinct, KeyChunks plan, Fn&& fn) {
    std::vector<std::int64_t> chunk;
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
        fn(std::span<const std::int64_t>(chunk), false);
    }
}

template <class Owner, class Rel>
struct RelNodeT : PrefetchNode<Owner> {
    using Target = typename Rel::target_type;
    Rel Owner::*slot = nullptr;              // where the rows go (the relation, or into(...))
    std::optional<QuerySet<Target>> custom;  // Prefetch(..., queryset)
    PrefetchList<Target> children;
    bool into_other = false;   // Prefetch(...).into(another member)
    bool skip_loaded = true;   // parents whose slot is loaded run no query (db.load: false)

    bool same_slot(const PrefetchNode<Owner>& other) const override {
        if (typeid(*this) != typeid(other)) return false;
        return static_cast<const RelNodeT&>(other).slot == slot;
    }
    void merge(const PrefetchNode<Owner>& other_base) override {
        const auto& other = static_cast<const RelNodeT&>(other_base);
        if (other.custom) {
            if (custom && !custom->same_query(*other.custom))
                throw UsageError("prefetch_related: " + this->describe() +
                                 (into_other ? " (loaded into another member by into(...))" : "") +
                                 " was given two different querysets; use Prefetch(...).into(...) "
                                 "to load the second one into another member");
            if (!custom) custom = other.custom;
        }
        for (auto& c : other.children) merge_prefetch(children, *c);
    }
};

/// One prefetched relation: entry I of Owner's descriptor.
template <class Owner, std::size_t I>
class RelNode final : public RelNodeT<Owner, std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>> {
    using E = entry_t<Owner, I>;
    using Rel = std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>;
    using Base = RelNodeT<Owner, Rel>;
    using Target = typename Rel::target_type;
    // Growing never moves the objects read so far (no copies, no transient 2x peak).
    using Block = StableBlock<Target>;

    static constexpr bool forward =
        E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one;
    static constexpr bool to_one = forward || std::is_same_v<Rel, ReverseOne<Target>>;
    static constexpr bool reverse_of_m2m = [] {
        if constexpr (E::kind == entry_kind::reverse)
            return std::is_same_v<typename E::forward_type, ManyToMany<Owner>>;
        else
            return false;
    }();
    // Only across a join table can one target row come back for several parents.
    static constexpr bool shared_targets =
        E::kind == entry_kind::many_to_many || reverse_of_m2m;

public:
    RelNode() { this->slot = entry<Owner, I>().member; }

    std::unique_ptr<PrefetchNode<Owner>> clone() const override {
        return std::make_unique<RelNode>(*this);
    }
    std::string describe() const override {
        return meta<Owner>().name + "::" + std::string(member_name_of<Owner, I>());
    }

    void run(Database& db, std::span<Owner* const> parents) const override {
        std::vector<std::optional<std::int64_t>> keys;
        std::vector<Rel*> rels;
        keys.reserve(parents.size());
        rels.reserve(parents.size());
        std::vector<Target*> preloaded;
        for (Owner* p : parents) {
            Rel& rel = p->*(this->slot);
            if (this->skip_loaded && rel.loaded()) {
                // Loaded already (select_related, an earlier prefetch_related_objects): no
                // query for it, but nested levels still run on what it holds.
                if (!this->children.empty()) collect_loaded(rel, preloaded);
                continue;
            }
            if constexpr (forward)
                keys.push_back(rel.id());
            else
                keys.push_back(primary_key_of(*p));
            rels.push_back(&rel);
        }
        auto block = rels.empty() ? nullptr : load(db, keys, rels);
        if (this->children.empty()) return;
        std::vector<Target*> targets;
        targets.reserve((block ? block->size() : 0) + preloaded.size());
        if (block)
            for (auto& t : *block) targets.push_back(&t);
        if (!preloaded.empty()) {
            std::sort(preloaded.begin(), preloaded.end());
            preloaded.erase(std::unique(preloaded.begin(), preloaded.end()), preloaded.end());
            targets.insert(targets.end(), preloaded.begin(), preloaded.end());
        }
        if (targets.empty()) return;
        for (auto& child : this->children) child->run(db, targets);
    }

    /// Loads one object's relation (Rel::load and Database::load).
    static void load_one(Database& db, Rel& rel, std::int64_t owner_key) {
        RelNode node;
        std::vector<std::optional<std::int64_t>> keys;
        if constexpr (forward)
            keys.push_back(rel.id());
        else
            keys.push_back(owner_key);
        std::vector<Rel*> rels{&rel};
        Database::OriginScope scope(db, "load");
        node.load(db, keys, rels);
    }

    void explain(Database& db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        const std::int64_t sample[] = {0};
        const Query q = query_for(db, sample, false);
        out.push_back(prefix + describe() + ": " + q.sql);
        db.run("EXPLAIN QUERY PLAN " + q.sql,
               [&](Binder& b) {
                   for (const auto& v : q.params) b.value(v);
               },
               [&](const Statement& s) {
                   out.push_back(prefix + "  " + std::string(s.column_text(3)));
               },
               "explain");
        for (auto& c : this->children) c->explain(db, out, prefix + "  ");
    }

private:
    QuerySet<Target> queryset(Database& db) const {
        return this->custom ? *this->custom : QuerySet<Target>(db);
    }

    /// The SELECT for one chunk of keys: the parent key (when it is not the target's own
    /// primary key) leads, the target's columns follow.
    Query query_for(Database& db, std::span<const std::int64_t> keys, bool json) const {
        SelectExtras x;
        x.keys = keys;
        x.json_keys = json;
        const auto& tm = meta<Target>();
        if constexpr (forward) {
            x.key_expr = "t0." + tm.pk;
        } else if constexpr (E::kind == entry_kind::many_to_many) {
            const JoinInfo& j = join_info<Owner, I>();
            x.lead = "j." + j.src_column;
            x.join = " JOIN " + j.table + " AS j ON j." + j.dst_column + " = t0." + tm.pk;
            x.key_expr = x.lead;
        } else {
            constexpr std::size_t F = index_of_member<Target>(entry<Owner, I>().forward);
            using FE = entry_t<Target, F>;
            if constexpr (FE::kind == entry_kind::many_to_many) {
                const JoinInfo& j = join_info<Target, F>();
                x.lead = "j." + j.dst_column;
                x.join = " JOIN " + j.table + " AS j ON j." + j.src_column + " = t0." + tm.pk;
                x.key_expr = x.lead;
            } else {
                x.lead = "t0." + quote(entry<Target, F>().column);
                x.key_expr = x.lead;
            }
        }
        return queryset(db).prefetch_query(x);
    }

    /// Runs the level's queries for the given keys and fills `rels` (parallel to `keys`).
    std::shared_ptr<Block> load(Database& db, const std::vector<std::optional<std::int64_t>>& keys,
                                const std::vector<Rel*>& rels) const {
        // Distinct keys in first-seen order; parents sharing a key are chained.
        KeyIndex by_key(keys.size());
        std::vector<std::int64_t> distinct;
        std::vector<std::uint32_t> first_parent, last_parent;
        std::vector<std::uint32_t> next_parent(forward ? 0 : keys.size(), KeyIndex::npos);
        distinct.reserve(keys.size());
        for (std::size_t p = 0; p < keys.size(); ++p) {
            if (!keys[p]) continue;
            bool fresh;
            const auto k = by_key.insert(*keys[p], static_cast<std::uint32_t>(distinct.size()), fresh);
            if (fresh) distinct.push_back(*keys[p]);
            if constexpr (!forward) {
                // Chain the parents of key k, in parent order (forward relations stitch by
                // target key instead).
                if (fresh) {
                    first_parent.push_back(static_cast<std::uint32_t>(p));
                    last_parent.push_back(static_cast<std::uint32_t>(p));
                } else {
                    next_parent[last_parent[k]] = static_cast<std::uint32_t>(p);
                    last_parent[k] = static_cast<std::uint32_t>(p);
                }
            }
        }

        auto block = std::make_shared<Block>();
        // One anchor for every cache this level fills: it keeps the block alive (and, for
        // lists, the one array the lists are slices of).
        using AnchorType = std::conditional_t<to_one, Anchor, ListAnchor<Target>>;
        auto* anchor = new AnchorType(relation_info_of(this->slot), block);
        const AnchorRef hold(anchor);
        if (distinct.empty()) {
            // Nothing to look up: no query, but every cache is loaded (empty or NULL).
            for (Rel* r : rels) mark_empty(*r, anchor);
            return block;
        }

        std::vector<std::pair<std::uint32_t, std::uint32_t>> links;  // (key index, slot)
        KeyIndex by_pk(shared_targets ? distinct.size() : 0);
        auto qs = queryset(db);
        auto read = qs.row_reader();
        // Explicit loads (rel.load(db), db.load) say so in the query log and the N+1 guard.
        const std::string origin =
            (db.origin() == "load" ? "load " : "prefetch ") + describe();
        Database::OriginScope scope(db, origin);

        // Chunk so that keys + the queryset's own parameters fit the variable limit.
        const std::size_t own_params =
            query_for(db, std::span<const std::int64_t>{}, false).params.size();
        const KeyChunks plan =
            plan_key_chunks(db, distinct.size(), own_params, "prefetch " + describe());
        for_each_key_chunk(distinct, plan, [&](std::span<const std::int64_t> chunk, bool json) {
            const Query q = query_for(db, chunk, json);
            db.run(q.sql,
                   [&](Binder& b) {
                       for (const auto& v : q.params) b.value(v);
                   },
                   [&](const Statement& s) {
                       if constexpr (forward) {
                           block->emplace_back();
                           read(s, 0, block->back());
                       } else {
                           const std::uint32_t k = by_key.find(s.column_int(0));
                           if (k == KeyIndex::npos) return;
                           std::uint32_t slot;
                           if constexpr (shared_targets) {
                               bool fresh;
                               slot = by_pk.insert(s.column_int(1),
                                                   static_cast<std::uint32_t>(block->size()),
                                                   fresh);
                               if (fresh) {
                                   block->emplace_back();
                                   read(s, 1, block->back());
                               }
                           } else {
                               slot = static_cast<std::uint32_t>(block->size());
                               block->emplace_back();
                               read(s, 1, block->back());
                           }
                           links.emplace_back(k, slot);
                       }
                   });
        });

        // Stitch: the block no longer grows, so pointers into it are stable.
        if constexpr (forward) {
            KeyIndex target_slot(block->size());
            for (std::size_t i = 0; i < block->size(); ++i) {
                bool fresh;
                target_slot.insert(primary_key_of((*block)[i]), static_cast<std::uint32_t>(i), fresh);
            }
            // A key with no row (possible only where foreign keys were not enforced) is an
            // error, checked before any cache is touched. A Prefetch with its own queryset
            // may leave targets out on purpose: those read as nullptr.
            for (std::size_t p = 0; p < rels.size() && !this->custom; ++p)
                if (keys[p] && target_slot.find(*keys[p]) == KeyIndex::npos)
                    throw_dangling_key(describe(), entry<Owner, I>().column, *keys[p],
                                       meta<Target>().name);
            for (std::size_t p = 0; p < rels.size(); ++p) {
                const Target* t = nullptr;
                if (keys[p]) {
                    const auto slot = target_slot.find(*keys[p]);
                    if (slot != KeyIndex::npos) t = &(*block)[slot];
                }
                relation_access::set(static_cast<ForeignKey<Target>&>(*rels[p]), t, anchor);
            }
        } else if constexpr (std::is_same_v<Rel, ReverseOne<Target>>) {
            for (Rel* r : rels) relation_access::set(*r, static_cast<const Target*>(nullptr), anchor);
            for (auto [k, slot] : links)
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p])
                    relation_access::set(*rels[p], &(*block)[slot], anchor);
        } else {
            // Count, then fill one array for the whole level; each list is a slice of it.
            std::vector<std::uint32_t> at(rels.size() + 1, 0);
            for (auto [k, slot] : links)
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p]) ++at[p + 1];
            for (std::size_t p = 0; p < rels.size(); ++p) at[p + 1] += at[p];
            auto& items = anchor->items;
            items.resize(at.back());
            for (auto [k, slot] : links)
                for (auto p = first_parent[k]; p != KeyIndex::npos; p = next_parent[p])
                    items[at[p]++] = &(*block)[slot];
            // at[p] is now the end of parent p's slice, at[p - 1] its start.
            for (std::size_t p = 0; p < rels.size(); ++p) {
                const std::uint32_t begin = p == 0 ? 0 : at[p - 1];
                relation_access::assign(*rels[p], items.data() + begin, at[p] - begin, anchor);
            }
        }
        return block;
    }

    /// The objects an already-loaded relation holds (the engine made them; they are not const).
    static void collect_loaded(Rel& rel, std::vector<Target*>& out) {
        if constexpr (to_one) {
            if (const Target* t = rel.get()) out.push_back(const_cast<Target*>(t));
        } else {
            for (const Target* t : relation_access::items(rel)) out.push_back(const_cast<Target*>(t));
        }
    }

    static void mark_empty(Rel& r, const Anchor* anchor) {
        if constexpr (forward)
            relation_access::set(static_cast<ForeignKey<Target>&>(r), static_cast<const Target*>(nullptr), anchor);
        else if constexpr (std::is_same_v<Rel, ReverseOne<Target>>)
            relation_access::set(r, static_cast<const Target*>(nullptr), anchor);
        else
            relation_access::assign(r, static_cast<const Target* const*>(nullptr), 0, anchor);
    }
};

template <class T, std::size_t I>
void load_relation(Database& db, void* relation, std::int64_t owner_key) {
    using Rel = std::remove_cvref_t<decltype(std::declval<T&>().*(entry<T, I>().member))>;
    RelNode<T, I>::load_one(db, *static_cast<Rel*>(relation), owner_key);
}

template <class M> struct relation_member_traits { static constexpr bool value = false; };
template <class X> struct relation_member_traits<ForeignKey<X>> { static constexpr bool value = true; };
template <class X> struct relation_member_traits<OneToOne<X>> { static constexpr bool value = true; };
template <class X> struct relation_member_traits<ManyToMany<X>> { static constexpr bool value = true; };
template <class X> struct relation_member_traits<Reverse<X>> { static constexpr bool value = true; };
template <class X> struct relation_member_traits<ReverseOne<X>> { static constexpr bool value = true; };

template <class Owner, class Rel>
constexpr bool declared_with_type() {
    bool any = false;
    for_each_index<Owner>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<Owner, I>().member), Rel Owner::*>) any = true;
    });
    return any;
}

/// The prefetch node for one relation member.
template <class Owner, class Rel>
std::unique_ptr<RelNodeT<Owner, Rel>> make_node(Rel Owner::*member) {
    static_assert(relation_member_traits<Rel>::value,
                  "prefetch_related: this member is not a relation (ForeignKey, OneToOne, "
                  "ManyToMany, Reverse or ReverseOne)");
    static_assert(has_model<Owner>,
                  "prefetch_related: the model that owns this member has no loom::model "
                  "descriptor");
    static_assert(declared_with_type<Owner, Rel>(),
                  "prefetch_related: this relation member is not declared in its model's "
                  "descriptor");
    std::unique_ptr<RelNodeT<Owner, Rel>> out;
    for_each_index<Owner>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<Owner, I>().member), Rel Owner::*>) {
            if (!out && entry<Owner, I>().member == member) out = std::make_unique<RelNode<Owner, I>>();
        }
    });
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

template <class M1, class M2>
constexpr bool chains() {
    using To = typename member_owner<M1>::rel::target_type;
    return std::is_same_v<To, typename member_owner<M2>::owner>;
}

template <class M, class... Ms>
auto make_chain(M m, Ms... ms) {
    auto node = make_node(m);
    if constexpr (sizeof...(Ms) > 0) {
        auto child = make_chain(ms...);
        node->children.push_back(std::shared_ptr<const PrefetchNode<typename member_owner<M>::rel::target_type>>(std::move(child)));
    }
    return node;
}

// ---- annotate_count --------------------------------------------------------------------------

/// A count written into member `into` of each parent; compared across relations so that two
/// different counts into one member are caught when the QuerySet is built.
template <class Owner, class C>
struct CountNodeT : PrefetchNode<Owner>, Annotation {
    C Owner::*into = nullptr;
    Query signature;  // the count's SQL and parameters with no keys: equal for equal counts

    bool same_slot(const PrefetchNode<Owner>& other) const override {
        const auto* o = dynamic_cast<const CountNodeT*>(&other);
        return o && o->into == into;
    }
    void merge(const PrefetchNode<Owner>& other_base) override {
        const auto& other = static_cast<const CountNodeT&>(other_base);
        if (signature.sql != other.signature.sql || signature.params != other.signature.params)
            throw UsageError("annotate_count: " + this->describe() + " and " + other.describe() +
                             " are counted into the same member with different querysets; give "
                             "each count its own member");
    }
};

/// Counts relation I of Owner (a Reverse or a ManyToMany, either side) per parent key.
template <class Owner, std::size_t I, class C>
class CountNode final : public CountNodeT<Owner, C> {
    using E = entry_t<Owner, I>;
    using Rel = std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>;
    using Target = typename Rel::target_type;

public:
    std::optional<QuerySet<Target>> only;

    std::unique_ptr<PrefetchNode<Owner>> clone() const override {
        return std::make_unique<CountNode>(*this);
    }
    std::string describe() const override {
        return meta<Owner>().name + "::" + std::string(member_name_of<Owner, I>());
    }
    void run(Database& db, std::span<Owner* const> parents) const override {
        // Distinct keys (the same object may be given twice); every parent starts at 0.
        KeyIndex by_key(parents.size());
        std::vector<std::int64_t> distinct;
        std::vector<std::uint32_t> key_of(parents.size());
        for (std::size_t p = 0; p < parents.size(); ++p) {
            parents[p]->*(this->into) = C{0};
            bool fresh;
            key_of[p] = by_key.insert(primary_key_of(*parents[p]),
                                      static_cast<std::uint32_t>(distinct.size()), fresh);
            if (fresh) distinct.push_back(primary_key_of(*parents[p]));
        }
        if (distinct.empty()) return;
        std::vector<std::int64_t> counts(distinct.size(), 0);

        const std::string origin = "count " + describe();
        Database::OriginScope scope(db, origin);
        const KeyChunks plan = plan_key_chunks(db, distinct.size(), this->signature.params.size(),
                                               "annotate_count " + describe());
        for_each_key_chunk(distinct, plan, [&](std::span<const std::int64_t> chunk, bool json) {
            const Query q = count_sql(db, chunk, json);
            db.run(q.sql,
                   [&](Binder& b) {
                       for (const auto& v : q.params) b.value(v);
                   },
                   [&](const Statement& s) {
                       const std::uint32_t k = by_key.find(s.column_int(0));
                       if (k != KeyIndex::npos) counts[k] = s.column_int(1);
                   });
        });
        for (std::size_t p = 0; p < parents.size(); ++p)
            parents[p]->*(this->into) = static_cast<C>(counts[key_of[p]]);
    }

    void explain(Database& db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        const std::int64_t sample[] = {0};
        const Query q = count_sql(db, sample);
        out.push_back(prefix + "count " + describe() + ": " + q.sql);
        db.run("EXPLAIN QUERY PLAN " + q.sql,
               [&](Binder& b) {
                   for (const auto& v : q.params) b.value(v);
               },
               [&](const Statement& s) {
                   out.push_back(prefix + "  " + std::string(s.column_text(3)));
               },
               "explain");
    }

    /// SELECT <parent key>, COUNT(*) FROM <target> [JOIN <join table>] WHERE ... GROUP BY key.
    Query count_sql(Database& db, std::span<const std::int64_t> keys, bool json = false) const {
        SelectExtras x;
        x.keys = keys;
        x.json_keys = json;
        const auto& tm = meta<Target>();
        if constexpr (E::kind == entry_kind::many_to_many) {
            const JoinInfo& j = join_info<Owner, I>();
            x.join = " JOIN " + j.table + " AS j ON j." + j.dst_column + " = t0." + tm.pk;
            x.key_expr = "j." + j.src_column;
        } else {
            constexpr std::size_t F = index_of_member<Target>(entry<Owner, I>().forward);
            using FE = entry_t<Target, F>;
            if constexpr (FE::kind == entry_kind::many_to_many) {
                const JoinInfo& j = join_info<Target, F>();
                x.join = " JOIN " + j.table + " AS j ON j." + j.src_column + " = t0." + tm.pk;
                x.key_expr = "j." + j.dst_column;
            } else {
                x.key_expr = "t0." + quote(entry<Target, F>().column);
            }
        }
        return (only ? *only : QuerySet<Target>(db)).count_query(x);
    }
};

template <class Owner, class Rel, class C, class Target>
std::shared_ptr<const PrefetchNode<Owner>> make_count_node(Database& db, Rel Owner::*relation,
                                                           C Owner::*into,
                                                           const std::optional<QuerySet<Target>>& only) {
    static_assert(std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>,
                  "annotate_count: only a to-many relation (a loom::ManyToMany or loom::Reverse "
                  "member) can be counted");
    static_assert(std::is_integral_v<C> && !std::is_same_v<C, bool>,
                  "annotate_count: the count goes into an integer member, like "
                  "std::int64_t book_count = 0;");
    static_assert(declared_with_type<Owner, Rel>(),
                  "annotate_count: this relation member is not declared in its model's "
                  "descriptor");
    if (index_of_member<Owner>(into) < entry_count<Owner>)
        throw UsageError("annotate_count: the count member is a column of " + meta<Owner>().name +
                         "'s descriptor; count into a plain member that loom::model<" +
                         meta<Owner>().name + "> does not declare");
    std::shared_ptr<CountNodeT<Owner, C>> out;
    for_each_index<Owner>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<Owner, I>().member), Rel Owner::*>) {
            if (!out && entry<Owner, I>().member == relation) {
                auto node = std::make_shared<CountNode<Owner, I, C>>();
                node->only = only;
                node->signature = node->count_sql(db, {});
                out = std::move(node);
            }
        }
    });
    if (!out)
        throw UsageError("annotate_count: the relation is not declared in the descriptor of " +
                         meta<Owner>().name);
    if (only && only->sliced())
        throw UsageError("annotate_count(" + out->describe() +
                         "): the QuerySet that filters the count is sliced; a count uses only "
                         "its filters");
    out->into = into;
    return out;
}

}  // namespace detail

/// A nested prefetch path: path(&Book::authors, &Author::books, &Book::publisher) loads three
/// levels with one query each. Each step must start at the model the previous one leads to.
template <class Root>
class Path {
public:
    explicit Path(std::shared_ptr<const detail::PrefetchNode<Root>> node) : node_(std::move(node)) {}
    const detail::PrefetchNode<Root>& node() const { return *node_; }

private:
    std::shared_ptr<const detail::PrefetchNode<Root>> node_;
};

template <class M, class... Ms>
auto path(M first, Ms... rest) {
    static_assert(std::is_member_object_pointer_v<M> && (std::is_member_object_pointer_v<Ms> && ...),
                  "loom::path: every step must be a pointer to a relation member, like &Book::authors");
    static_assert((detail::relation_member_traits<typename detail::member_owner<M>::rel>::value) &&
                      (detail::relation_member_traits<typename detail::member_owner<Ms>::rel>::value && ...),
                  "loom::path: every step must be a relation member (ForeignKey, OneToOne, "
                  "ManyToMany, Reverse or ReverseOne)");
    constexpr bool linked = [] {
        using Steps = std::tuple<M, Ms...>;
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (detail::chains<std::tuple_element_t<I, Steps>,
                                   std::tuple_element_t<I + 1, Steps>>() && ...);
        }(std::make_index_sequence<sizeof...(Ms)>{});
    }();
    static_assert(linked,
                  "loom::path: each step must start at the model the previous step leads to "
                  "(after &Book::authors comes a member of Author)");
    using Root = typename detail::member_owner<M>::owner;
    if constexpr (linked) {
        auto node = detail::make_chain(first, rest...);
        return Path<Root>(std::shared_ptr<const detail::PrefetchNode<Root>>(std::move(node)));
    } else {
        return Path<Root>(nullptr);  // unreachable: the static_assert above already failed
    }
}

/// A prefetch with its own queryset (filter, order, per-parent limit via slicing, its own
/// prefetch_related), optionally loaded into another member of the same type (Django's to_attr):
///
///     loom::Prefetch(&Book::reviews,
///                    db.objects<Review>().order_by(loom::desc(&Review::rating)).limit(3))
///         .into(&Book::top_reviews)
template <class Owner, class Rel>
class Prefetch {
public:
    using Target = typename Rel::target_type;

    Prefetch(Rel Owner::*member, QuerySet<Target> qs) : node_(detail::make_node(member)) {
        constexpr bool to_many = std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>;
        if (!to_many && qs.sliced())
            throw UsageError("Prefetch(" + node_->describe() +
                             "): a per-parent limit or offset needs a to-many relation");
        for (auto& p : qs.prefetches()) detail::merge_prefetch(node_->children, *p);
        node_->custom = std::move(qs);
    }

    /// Loads into `member` instead (another member of the same relation type, which need not
    /// be in the descriptor), leaving the relation's own member untouched: a filtered or
    /// limited prefetch never masquerades as the whole relation. A member of another type, or
    /// of another model, does not compile.
    template <class M>
    Prefetch into(M member) const {
        if constexpr (!std::is_member_object_pointer_v<M>) {
            static_assert(std::is_member_object_pointer_v<M>,
                          "Prefetch::into: pass a pointer to a data member, like &Book::top_reviews");
            return *this;
        } else {
            using MOwner = typename detail::member_owner<M>::owner;
            using MRel = typename detail::member_owner<M>::rel;
            static_assert(std::is_same_v<MOwner, Owner>,
                          "Prefetch::into: the target member must belong to the model that owns "
                          "the prefetched relation");
            static_assert(std::is_same_v<MRel, Rel> || !std::is_same_v<MOwner, Owner>,
                          "Prefetch::into: the target member must have the prefetched relation's "
                          "type (for &Book::reviews, a loom::Reverse<Review> member)");
            if constexpr (std::is_same_v<MOwner, Owner> && std::is_same_v<MRel, Rel>) {
                Prefetch p = *this;
                p.node_ = std::shared_ptr<detail::RelNodeT<Owner, Rel>>(
                    static_cast<detail::RelNodeT<Owner, Rel>*>(node_->clone().release()));
                p.node_->into_other = p.node_->slot != member;
                p.node_->slot = member;
                return p;
            } else {
                return *this;
            }
        }
    }

    const detail::PrefetchNode<Owner>& node() const { return *node_; }

private:
    std::shared_ptr<detail::RelNodeT<Owner, Rel>> node_;
};

template <class Owner, class Rel, class T>
Prefetch(Rel Owner::*, QuerySet<T>) -> Prefetch<Owner, Rel>;

namespace detail {

template <class T, class P>
void add_prefetch(PrefetchList<T>& list, const P& p) {
    if constexpr (std::is_member_object_pointer_v<P>) {
        constexpr bool own = std::is_same_v<typename member_owner<P>::owner, T>;
        constexpr bool relation = relation_member_traits<typename member_owner<P>::rel>::value;
        static_assert(own,
                      "prefetch_related: the member belongs to another model than the QuerySet's "
                      "(to go deeper, use loom::path(&Book::authors, &Author::books))");
        static_assert(!own || relation,
                      "prefetch_related: this member is not a relation, so there is nothing to "
                      "prefetch; pass a ForeignKey, OneToOne, ManyToMany, Reverse or ReverseOne "
                      "member (a plain field such as &Book::title is read by the query itself)");
        // Guarded so that a failed check above is the only error the user sees.
        if constexpr (own && relation) {
            auto node = make_node(p);
            merge_prefetch(list, *node);
        }
    } else if constexpr (requires { p.node(); }) {
        constexpr bool own = std::is_same_v<std::remove_cvref_t<decltype(p.node())>, PrefetchNode<T>>;
        static_assert(own,
                      "prefetch_related: the path or Prefetch starts at another model than the "
                      "QuerySet's");
        if constexpr (own) merge_prefetch(list, p.node());
    } else {
        static_assert(sizeof(P) == 0,
                      "prefetch_related: pass relation members (&Book::authors), loom::path(...) "
                      "or loom::Prefetch(...)");
    }
}

}  // namespace detail

/// Prefetches relations into objects already in hand (e.g. from to_vector()), as Django's
/// prefetch_related_objects: one query per relation level, whatever the number of objects.
template <std::ranges::range R, class... Paths>
void prefetch_related_objects(Database& db, R& objects, const Paths&... paths) {
    using T = std::remove_cvref_t<std::ranges::range_value_t<R>>;
    detail::PrefetchList<T> list;
    (detail::add_prefetch<T>(list, paths), ...);
    std::vector<T*> parents;
    for (auto& o : objects) parents.push_back(&o);
    if (parents.empty()) return;
    for (auto& n : list) n->run(db, parents);
}

template <class T>
template <class Rel, class C>
QuerySet<T> QuerySet<T>::annotate_count(Rel T::*relation, C T::*into) const {
    QuerySet q = copy();
    const std::optional<QuerySet<typename Rel::target_type>> all;
    detail::merge_prefetch(q.mut().prefetch, *detail::make_count_node(*db_, relation, into, all));
    return q;
}

template <class T>
template <class Rel, class C>
QuerySet<T> QuerySet<T>::annotate_count(Rel T::*relation, C T::*into,
                                        const QuerySet<typename Rel::target_type>& only) const {
    QuerySet q = copy();
    const std::optional<QuerySet<typename Rel::target_type>> filter(only);
    detail::merge_prefetch(q.mut().prefetch,
                           *detail::make_count_node(*db_, relation, into, filter));
    return q;
}

template <class T, class Rel>
void Database::load(T& obj, Rel T::*member) {
    std::vector<T*> one{&obj};
    auto node = detail::make_node(member);
    node->skip_loaded = false;  // an explicit load always reads the database again
    OriginScope scope(*this, "load");
    node->run(*this, one);
}

template <class T>
std::vector<std::string> QuerySet<T>::explain() const {
    std::vector<std::string> out;
    const auto q = sql();
    out.push_back(q.sql);
    db_->run("EXPLAIN QUERY PLAN " + q.sql,
             [&](detail::Binder& b) {
                 for (const auto& v : q.params) b.value(v);
             },
             [&](const detail::Statement& s) { out.push_back("  " + std::string(s.column_text(3))); },
             "explain");
    for (auto& n : state_->prefetch) n->explain(*db_, out, "");
    return out;
}

}  // namespace loom
