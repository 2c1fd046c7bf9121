// loom/prefetch.hpp - how to say what prefetch_related loads: relation members
// (&Book::authors), nested paths (loom::path), and loom::Prefetch with its own queryset and an
// optional other target member; and prefetch_related_objects for objects already in hand.
// After the base query runs, each prefetched relation level runs ONE query with the distinct
// keys of the objects loaded so far, and stitches the rows into each object's relation cache
// (the engine is in detail/prefetch/engine.hpp).
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

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "database.hpp"
#include "detail/prefetch/engine.hpp"
#include "detail/std_light.hpp"

namespace loom {

namespace detail {
template <class Q> struct is_queryset : std::false_type {};
template <class T> struct is_queryset<QuerySet<T>> : std::true_type {};
}  // namespace detail

/// A nested prefetch path: path(&Book::authors, &Author::books, &Book::publisher) loads three
/// levels with one query each. Each step must start at the model the previous one leads to.
template <class Root> class Path {
private:
    friend struct detail::access;
    explicit Path(std::shared_ptr<const detail::PrefetchNodeBase> node) : node_(std::move(node)) {}
    std::shared_ptr<const detail::PrefetchNodeBase> node_;  // a PrefetchNode<Root>
};

template <class M, class... Ms> auto path(M first, Ms... rest) {
    static_assert(
        std::is_member_object_pointer_v<M> && (std::is_member_object_pointer_v<Ms> && ...),
        "loom::path: every step must be a pointer to a relation member, like &Book::authors");
    static_assert(
        (detail::is_relation_member<typename detail::member_owner<M>::rel>::value) &&
            (detail::is_relation_member<typename detail::member_owner<Ms>::rel>::value && ...),
        "loom::path: every step must be a relation member (ForeignKey, OneToOne, "
        "ManyToMany, Reverse or ReverseOne)");
    constexpr bool linked = [] {
        using Steps = std::tuple<M, Ms...>;
        return []<std::size_t... I>(std::index_sequence<I...>) {
            return (detail::chains<std::tuple_element_t<I, Steps>,
                                   std::tuple_element_t<I + 1, Steps>>() &&
                    ...);
        }
        (std::make_index_sequence<sizeof...(Ms)>{});
    }();
    static_assert(linked,
                  "loom::path: each step must start at the model the previous step leads to "
                  "(after &Book::authors comes a member of Author)");
    using Root = typename detail::member_owner<M>::owner;
    if constexpr (linked) {
        auto node = detail::make_chain(first, rest...);
        return detail::access::make<Path<Root>>(detail::as_shared_node(std::move(node)));
    } else {
        // unreachable: the static_assert above already failed
        return detail::access::make<Path<Root>>(nullptr);
    }
}

/// A prefetch with its own queryset (filter, order, per-parent limit via slicing, its own
/// prefetch_related), optionally loaded into another member of the same type (Django's to_attr):
///
///     loom::Prefetch(&Book::reviews,
///                    db.objects<Review>().order_by(loom::desc(&Review::rating)).limit(3))
///         .into(&Book::top_reviews)
template <class Owner, class Rel> class Prefetch {
public:
    using Target = typename Rel::target_type;

    /// The related rows come from `qs` (a QuerySet of the related model), run on qs's own
    /// Database, as Django runs a Prefetch's queryset on its own database.
    Prefetch(Rel Owner::*member, const QuerySet<Target>& qs)
        : node_(detail::make_node(member).release()) {
        constexpr bool to_many =
            std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>;
        const auto& state = detail::access::state(qs);
        if (!to_many && state->bounds.sliced())
            throw UsageError("Prefetch(" + node_->describe() +
                             "): a per-parent limit or offset needs a to-many relation");
        for (auto& p : state->prefetch) detail::merge_prefetch(node_->children, *p);
        node_->custom = state;
        node_->session = &detail::session_of(qs.database());
    }
    /// Anything else (values_list(...) rows, a QuerySet of another model) does not compile.
    template <class Q> Prefetch(Rel Owner::*, const Q&) {
        static_assert(detail::is_queryset<Q>::value,
                      "loom::Prefetch needs a model QuerySet of the related model, like "
                      "db.objects<Author>().filter(...): values_list(...) returns plain tuples, "
                      "which cannot fill a relation");
        static_assert(!detail::is_queryset<Q>::value,
                      "loom::Prefetch needs a QuerySet of the related model (for &Book::authors, "
                      "a QuerySet<Author>)");
    }

    /// Loads into `member` instead (another member of the same relation type, which the
    /// descriptor does not declare), leaving the relation's own member untouched: a filtered or
    /// limited prefetch never masquerades as the whole relation. A member of another type, or
    /// of another model, does not compile; a member the descriptor declares (another relation)
    /// is a UsageError, as Django refuses a to_attr that names a field.
    template <class M> Prefetch into(M member) const {
        if constexpr (!std::is_member_object_pointer_v<M>) {
            static_assert(
                std::is_member_object_pointer_v<M>,
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
                if (member != node_->relation) {
                    std::string_view declared;
                    detail::visit_entry(member, [&](auto j) {
                        declared = detail::member_name_of<Owner, decltype(j)::value>();
                    });
                    if (!declared.empty())
                        throw UsageError("Prefetch(" + node_->describe() + ").into(&" +
                                         detail::meta<Owner>().name + "::" + std::string(declared) +
                                         "): " + std::string(declared) +
                                         " is a relation the descriptor of " +
                                         detail::meta<Owner>().name +
                                         " declares; into() takes a member the descriptor does "
                                         "not declare (or the relation itself), so that a "
                                         "prefetch never passes for another relation");
                }
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

private:
    friend struct detail::access;
    std::shared_ptr<detail::RelNodeT<Owner, Rel>> node_;
};

template <class Owner, class Rel, class T>
Prefetch(Rel Owner::*, QuerySet<T>) -> Prefetch<Owner, Rel>;

namespace detail {

/// The model a Path or Prefetch starts at.
template <class P> struct prefetch_owner {};
template <class Root> struct prefetch_owner<Path<Root>> { using type = Root; };
template <class Owner, class Rel> struct prefetch_owner<Prefetch<Owner, Rel>> {
    using type = Owner;
};

template <class T, class P> void add_prefetch(PrefetchList<T>& list, const P& p) {
    if constexpr (std::is_member_object_pointer_v<P>) {
        constexpr bool own = std::is_same_v<typename member_owner<P>::owner, T>;
        constexpr bool relation = is_relation_member<typename member_owner<P>::rel>::value;
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
    } else if constexpr (requires { typename prefetch_owner<P>::type; }) {
        constexpr bool own = std::is_same_v<typename prefetch_owner<P>::type, T>;
        static_assert(own,
                      "prefetch_related: the path or Prefetch starts at another model than the "
                      "QuerySet's");
        if constexpr (own) merge_prefetch(list, access::node(p));
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
    detail::run_prefetches<T>(detail::session_of(db), list, parents);
}

}  // namespace loom
