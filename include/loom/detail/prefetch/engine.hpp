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
template <class T>
bool same_query(const QueryState<T>& a, const QueryState<T>& b) {
    if (&a == &b) return true;
    return SelectBuilder<T>(a, nullptr).rows() == SelectBuilder<T>(b, nullptr).rows();
}


/// The RelationInfo of the member `slot` of Owner (what a loaded cache of it reports in
/// messages and uses for load()).
template <class Owner, class Rel>
const RelationInfo* relation_info_of(Rel Owner::*slot) noexcept {
    const RelationInfo* out = nullptr;
    visit_entry(slot, [&](auto i) { out = &relation_info<Owner, decltype(i)::value>; });
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

inline KeyChunks plan_key_chunks(Session& s, std::size_t keys, std::size_t own_params,
                                 const std::string& what) {
    const auto limit = static_cast<std::size_t>(s.variable_limit());
    if (own_params >= limit)
        throw UsageError(what + ": the queryset alone binds " + std::to_string(own_params) +
                         " parameters, the connection's limit");
    if (keys > s.key_array_above())
        return {true, s.options().batch_size ? s.options().batch_size : keys};
    return {false, std::min(s.max_keys_per_query(), limit - own_params)};
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
    std::shared_ptr<const QueryState<Target>> custom;  // Prefetch(..., queryset)
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
            if (custom && !same_query(*custom, *other.custom))
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

    void run(Session& db, std::span<Owner* const> parents) const override {
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
    static void load_one(Session& db, Rel& rel, std::int64_t owner_key) {
        RelNode node;
        std::vector<std::optional<std::int64_t>> keys;
        if constexpr (forward)
            keys.push_back(rel.id());
        else
            keys.push_back(owner_key);
        std::vector<Rel*> rels{&rel};
        Session::OriginScope scope(db, "load");
        node.load(db, keys, rels);
    }

    void explain(Session& db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        const std::int64_t sample[] = {0};
        const SqlText q = query_for(db, sample, false);
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
    SqlText query_for(Session& db, std::span<const std::int64_t> keys, bool array) const {
        return SelectBuilder<Target>(state(), &db)
            .for_keys(KeyTest{&relation_join<Owner, I>(), keys, array});
    }

    /// Runs the level's queries for the given keys and fills `rels` (parallel to `keys`).
    std::shared_ptr<Block> load(Session& db, const std::vector<std::optional<std::int64_t>>& keys,
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
        RowReader<Target> read(state());
        // Explicit loads (rel.load(db), db.load) say so in the query log and the N+1 guard.
        const std::string origin =
            (db.origin() == "load" ? "load " : "prefetch ") + describe();
        Session::OriginScope scope(db, origin);

        // Chunk so that keys + the queryset's own parameters fit the variable limit.
        const std::size_t own_params =
            query_for(db, std::span<const std::int64_t>{}, false).params.size();
        const KeyChunks plan =
            plan_key_chunks(db, distinct.size(), own_params, "prefetch " + describe());
        for_each_key_chunk(distinct, plan, [&](std::span<const std::int64_t> chunk, bool json) {
            db.run(query_for(db, chunk, json), [&](const Statement& s) {
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
    RelNode<T, I>::load_one(session_of(db), *static_cast<Rel*>(relation), owner_key);
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
    visit_entry(member, [&](auto i) { out = std::make_unique<RelNode<Owner, decltype(i)::value>>(); });
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

// ---- annotate_count, annotate_sum/avg/min/max ------------------------------------------------

/// A per-parent aggregate (a count, a sum...) written into member `into` of each parent;
/// compared across relations so that two different aggregates into one member are caught when
/// the QuerySet is built.
template <class Owner, class C>
struct CountNodeT : PrefetchNode<Owner> {
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
template <class Owner, std::size_t I, class C>
class CountNode final : public CountNodeT<Owner, C> {
    using E = entry_t<Owner, I>;
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
    void run(Session& db, std::span<Owner* const> parents) const override {
        // Distinct keys (the same object may be given twice); every parent starts at C{}.
        KeyIndex by_key(parents.size());
        std::vector<std::int64_t> distinct;
        std::vector<std::uint32_t> key_of(parents.size());
        for (std::size_t p = 0; p < parents.size(); ++p) {
            parents[p]->*(this->into) = C{};
            bool fresh;
            key_of[p] = by_key.insert(primary_key_of(*parents[p]),
                                      static_cast<std::uint32_t>(distinct.size()), fresh);
            if (fresh) distinct.push_back(primary_key_of(*parents[p]));
        }
        if (distinct.empty()) return;
        std::vector<C> values(distinct.size(), C{});

        const std::string origin = this->fn + " " + describe();
        Session::OriginScope scope(db, origin);
        const KeyChunks plan = plan_key_chunks(db, distinct.size(), this->signature.params.size(),
                                               "annotate_" + this->fn + " " + describe());
        for_each_key_chunk(distinct, plan, [&](std::span<const std::int64_t> chunk, bool json) {
            db.run(count_sql(&db, chunk, json), [&](const Statement& s) {
                       const std::uint32_t k = by_key.find(s.column_int(0));
                       if (k == KeyIndex::npos) return;
                       if (const char* why = read_column(s, 1, values[k]))
                           throw DataError("annotate_" + this->fn + " " + describe() + ": " +
                                           this->what + " of key " +
                                           std::to_string(s.column_int(0)) + ": " + why +
                                           ", found " + describe_stored(s, 1));
                   });
        });
        for (std::size_t p = 0; p < parents.size(); ++p)
            parents[p]->*(this->into) = values[key_of[p]];
    }

    void explain(Session& db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        const std::int64_t sample[] = {0};
        const SqlText q = count_sql(&db, sample);
        out.push_back(prefix + this->fn + " " + describe() + ": " + q.sql);
        explain_into(db, q, out, prefix + "  ");
    }

    /// SELECT <parent key>, <what> FROM <target> [JOIN <join table>] WHERE ... GROUP BY key.
    SqlText count_sql(Session* db, std::span<const std::int64_t> keys, bool array = false) const {
        static const QueryState<Target> all;
        return SelectBuilder<Target>(only ? *only : all, db)
            .aggregate_for_keys(KeyTest{&relation_join<Owner, I>(), keys, array}, what);
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
                         " member is a column of " + meta<Owner>().name +
                         "'s descriptor; " + (fn == "count" ? "count" : "write the " + fn) +
                         " into a plain member that loom::model<" + meta<Owner>().name +
                         "> does not declare");
    std::shared_ptr<CountNodeT<Owner, C>> out;
    visit_entry(relation, [&](auto i) {
        auto node = std::make_shared<CountNode<Owner, decltype(i)::value, C>>();
        node->only = only;
        node->what = what;
        node->fn = fn;
        node->signature = node->count_sql(nullptr, {});
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
