// The prefetch engine: for each prefetched relation, collect the distinct keys of the objects
// loaded so far, run ONE query per chunk of keys (chunks only past the connection's variable
// limit or the batch size; long lists as one array parameter), and stitch the rows into each
// object's relation cache through a hash index. Related objects of one level live in one
// block that every cache of the level shares (through one Anchor); nested levels run on what
// a level loaded. A relation is a LevelSpec (its data) run by a RelLevel of its target
// (level.hpp); only reading the parents is typed by the relation's owner. annotate_count runs
// here too, as a node that counts instead of loading.
#pragma once

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
#include "../std_light.hpp"
#include "block.hpp"
#include "key_index.hpp"
#include "level.hpp"
#include "node.hpp"

namespace loom::detail {

/// What a member that Prefetch(&Owner::member, ...).into(...) filled reports: the relation it
/// was loaded from, and no loader (the member is not in the descriptor).
template <class T, std::size_t I>
inline const RelationInfo into_relation_info{.owner = type_name<T>(),
                                             .member = member_name_of<T, I>(),
                                             .target = type_name<typename entry_t<T, I>::target>(),
                                             .into = true};

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

/// The shape of relation I of Owner, as the prefetch engine sees it.
template <class Owner, std::size_t I> struct relation_shape {
    using E = entry_t<Owner, I>;
    using Rel = std::remove_cvref_t<decltype(std::declval<Owner&>().*(entry<Owner, I>().member))>;
    using Target = typename Rel::target_type;

    static constexpr bool forward =
        E::kind == entry_kind::foreign_key || E::kind == entry_kind::one_to_one;
    static constexpr bool reverse_of_m2m = [] {
        if constexpr (E::kind == entry_kind::reverse)
            return std::is_same_v<typename E::forward_type, ManyToMany<Owner>>;
        else
            return false;
    }();
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
};

/// A forward one-to-one: points `target`'s ReverseOne at `owner` (LevelSpec::set_back).
template <class Owner, std::size_t I>
void set_back_of(void* target, const void* owner, const Anchor* back) {
    using S = relation_shape<Owner, I>;
    using Target = typename S::Target;
    auto& rev = static_cast<Target*>(target)->*(entry<Target, S::back_index>().member);
    // A target shared by several parents (possible only without the UNIQUE constraint) points
    // back at the first.
    if (!rev.loaded() || relation_access::anchor(rev) != back)
        relation_access::set(rev, static_cast<const Owner*>(owner), back, true);
}

/// A reverse key: points each child's ForeignKey at its parent (LevelSpec::set_backs).
template <class Owner, std::size_t I>
void set_backs_of(void* block, const std::uint32_t* link, const std::uint32_t* first_parent,
                  const ParentObjects& parents, const Anchor* back) {
    using S = relation_shape<Owner, I>;
    using Target = typename S::Target;
    std::size_t i = 0;
    for (Target& child : *static_cast<StableBlock<Target>*>(block)) {
        auto& fk = static_cast<ForeignKey<Owner, key_of<Owner>>&>(
            child.*(entry<Target, S::back_index>().member));
        const std::uint32_t k = link[i++];
        relation_access::set_back(
            fk, static_cast<const Owner*>(parents.owner(first_parent ? first_parent[k] : k)), back);
    }
}

template <class Owner, std::size_t I> constexpr LevelSpec make_spec() {
    using S = relation_shape<Owner, I>;
    using Target = typename S::Target;
    LevelSpec s;
    s.info = &relation_info<Owner, I>;
    s.into_info = &into_relation_info<Owner, I>;
    s.join = &relation_join<Owner, I>;
    if constexpr (S::forward) {
        s.column = entry<Owner, I>().column;
        s.kind = LevelKind::forward;
    } else if constexpr (std::is_same_v<typename S::Rel, ReverseOne<Target>>) {
        s.kind = LevelKind::reverse_one;
    }
    s.shared_targets = S::E::kind == entry_kind::many_to_many || S::reverse_of_m2m;
    if constexpr (S::has_back) {
        s.back_info = &relation_info<Target, S::back_index>;
        if constexpr (S::back_to_parent)
            s.set_backs = &set_backs_of<Owner, I>;
        else
            s.set_back = &set_back_of<Owner, I>;
    }
    return s;
}

/// The LevelSpec of relation I of Owner.
template <class Owner, std::size_t I> inline constexpr LevelSpec level_spec = make_spec<Owner, I>();

/// The prefetch node of a relation member of type Rel of Owner (which one: its spec). Only
/// reading the parents is typed by Owner; the level it plans is a RelLevel of the target.
template <class Owner, class Rel> struct RelNodeT final : PrefetchNode<Owner>, RelNodeBase {
    using Target = typename Rel::target_type;
    static constexpr bool forward = requires { typename Rel::key_type; };
    // The keys a level looks up: the targets' keys for a forward relation, else the parents'.
    using Key = std::conditional_t<forward, key_of<Target>, key_of<Owner>>;

    Rel Owner::*relation = nullptr;  // the relation member
    Rel Owner::*slot = nullptr;      // where the rows go (the relation, or into(...))

    std::unique_ptr<PrefetchNodeBase> clone() const override {
        return std::unique_ptr<PrefetchNodeBase>(new RelNodeT(*this));
    }
    bool same_slot(const PrefetchNodeBase& other) const override {
        if (typeid(*this) != typeid(other)) return false;
        const auto& o = static_cast<const RelNodeT&>(other);
        return o.spec == this->spec && o.slot == slot;
    }
    void merge(const PrefetchNodeBase& other) override {
        this->merge_data(static_cast<const RelNodeT&>(other), meta<Target>());
    }
    std::string describe() const override { return this->spec->describe(); }
    void count_levels(std::vector<std::size_t>& per_depth, std::size_t depth) const override {
        PrefetchNodeBase::count_levels(per_depth, depth);
        this->count_children(per_depth, depth + 1);
    }

    std::unique_ptr<Level> plan(Session& parents_db, Parents<Owner> parents) const override {
        // Typed as a Level from the start: no smart pointer instantiated per level type.
        std::unique_ptr<Level> level(new RelLevel<Target, Key, forward>(*this, parents_db));
        auto& l = static_cast<RelLevel<Target, Key, forward>&>(*level);
        const std::size_t n = parents.size();
        l.begin_parents(parents.run.data(), sizeof(Owner), n);
        for (std::size_t i = 0; i < n; ++i) {
            Owner* p = parents.object(i);
            Rel& rel = p->*slot;
            if (this->skip_loaded && rel.loaded()) {
                // Loaded already (select_related, an earlier prefetch_related_objects): no
                // query for it, but nested levels still run on what it holds.
                if (!this->children.empty()) l.collect_loaded(cache_of(rel));
                continue;
            }
            // A forward key is read from the relation member, whatever member it goes into.
            std::optional<Key> key;
            if constexpr (forward)
                key = (p->*relation).id();
            else
                key = primary_key_of(*p);
            l.add_parent(i, p, cache_of(rel), cache_of(p->*relation), std::move(key),
                         parents.holder(i));
        }
        l.plan_queries();
        return level;
    }

    void explain(Session& parents_db, std::vector<std::string>& out,
                 const std::string& prefix) const override {
        explain_level<Target, Key>(*this, parents_db, out, prefix);
    }
};

// rel.load(db) (relations.hpp): a relation names its spec; the member's load() picks the
// level (its target, and the key type when the member knows it), so that naming a relation
// compiles no level.
template <class T, std::size_t I> const LevelSpec& spec_of() {
    return level_spec<T, I>;
}

template <class Target, class Key, bool Forward> struct RelationLoader {
    static void load(Database& db, const RelationInfo& info, void* cache, std::optional<Key> key) {
        load_one<Target, Key, Forward>(session_of(db), info.spec(), cache, std::move(key));
    }
};

template <class T, std::size_t I> void load_by_key_of(Database& db, void* cache, const void* key) {
    RelationLoader<typename entry_t<T, I>::target, key_of<T>, false>::load(
        db, relation_info<T, I>, cache, *static_cast<const key_of<T>*>(key));
}

/// An owning pointer to a prefetch node of type Node, held as a PrefetchNodeBase: one
/// std::unique_ptr type for every node type (its code is compiled once, not once a relation).
template <class Node> class NodePtr {
public:
    explicit NodePtr(Node* node = nullptr) noexcept : p_(node) {}
    Node* operator->() const noexcept { return static_cast<Node*>(p_.get()); }
    Node& operator*() const noexcept { return *operator->(); }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    operator std::unique_ptr<PrefetchNodeBase>() && noexcept { return std::move(p_); }
    Node* release() noexcept { return static_cast<Node*>(p_.release()); }

private:
    std::unique_ptr<PrefetchNodeBase> p_;
};

/// The prefetch node for one relation member.
template <class Owner, class Rel> NodePtr<RelNodeT<Owner, Rel>> make_node(Rel Owner::*member) {
    static_assert(is_relation_member<Rel>::value,
                  "prefetch_related: this member is not a relation (ForeignKey, OneToOne, "
                  "ManyToMany, Reverse or ReverseOne)");
    static_assert(has_model<Owner>,
                  "prefetch_related: the model that owns this member has no loom::model "
                  "descriptor");
    static_assert(declared_with_type<Owner, Rel>(),
                  "prefetch_related: this relation member is not declared in its model's "
                  "descriptor");
    NodePtr<RelNodeT<Owner, Rel>> out;
    visit_entry(member, [&](auto i) {
        out = NodePtr<RelNodeT<Owner, Rel>>(new RelNodeT<Owner, Rel>());
        out->spec = &level_spec<Owner, decltype(i)::value>;
    });
    if (!out)
        throw UsageError("prefetch_related: the member is not declared in the descriptor of " +
                         meta<Owner>().name);
    out->relation = out->slot = member;
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

/// A node as the lists hold it, deleted through its PrefetchNodeBase (one deleter for every
/// model and relation).
inline std::shared_ptr<const PrefetchNodeBase> as_shared_node(std::unique_ptr<PrefetchNodeBase> n) {
    return n;
}

template <class M, class... Ms> auto make_chain(M m, Ms... ms) {
    auto node = make_node(m);
    if constexpr (sizeof...(Ms) > 0) {
        auto child = make_chain(ms...);
        node->children.push_back(as_shared_node(std::move(child)));
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
    bool same_slot(const PrefetchNodeBase& other) const override {
        const auto* o = dynamic_cast<const CountNodeT*>(&other);
        return o && o->into == into;
    }
    void merge(const PrefetchNodeBase& other_base) override {
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

    std::unique_ptr<PrefetchNodeBase> clone() const override {
        return std::unique_ptr<PrefetchNodeBase>(new CountNode(*this));
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
        const std::size_t n = level.size();
        l.parents.resize(n);
        for (std::size_t p = 0; p < n; ++p) l.parents[p] = level.object(p);
        // Distinct keys (the same object may be given twice).
        l.by_key = KeyIndexFor<Key>(n);
        std::vector<Key> distinct;
        l.key_at.resize(n);
        for (std::size_t p = 0; p < n; ++p) {
            bool fresh;
            l.key_at[p] = l.by_key.insert(primary_key_of(*l.parents[p]),
                                          static_cast<std::uint32_t>(distinct.size()), fresh);
            if (fresh) distinct.push_back(primary_key_of(*l.parents[p]));
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
