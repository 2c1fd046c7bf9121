// loom/m2m.hpp - many-to-many writes for one object (part of <loom/database.hpp>, which
// includes it): db.m2m(book, &Book::authors) returns an M2MManager whose add / remove / set / clear
// change the join table and keep the object's loaded cache true. Works from either side
// (&Author::books too).
//
//     db.m2m(dune, &Book::authors).add(herbert);
//     db.m2m(dune, &Book::authors).set(std::vector{herbert, anderson});   // one transaction
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_set>
#include <vector>

#include "detail/config.hpp"
#include "detail/meta/joins.hpp"
#include "detail/meta/object_io.hpp"
#include "detail/session.hpp"
#include "detail/std_light.hpp"
#include "relations.hpp"

namespace loom {

namespace detail {
/// The statements db.m2m runs on one relation, and its name for messages ("Book::authors").
struct M2MStatements {
    std::string relation, add, remove, clear;
};
/// The M2MStatements of relation `member` of model `owner`, joined as `rj` says (null: the
/// member is no relation of its descriptor); a UsageError unless it is a many-to-many through
/// an automatic join table.
LOOM_DECL M2MStatements m2m_statements(const RelationJoin* rj, const ModelMeta& owner,
                                       std::string_view member);

/// A loaded list gains the objects at `added` (each a const T*) it lacks: `same(a, b)` tells
/// whether two objects have one primary key, `copy(a)` makes the copy the list keeps.
LOOM_DECL void m2m_cache_add(ListCache& list, std::span<const void* const> added,
                             bool (*same)(const void*, const void*),
                             std::shared_ptr<const void> (*copy)(const void*));
template <class T> bool same_key(const void* a, const void* b) {
    return primary_key_of(*object_at<T>(a)) == primary_key_of(*object_at<T>(b));
}
template <class T> std::shared_ptr<const void> copy_object(const void* a) {
    return std::make_shared<const T>(*object_at<T>(a));
}

}  // namespace detail

/// Many-to-many writes for one object and one relation (see Database::m2m).
template <class Owner, class Target> class M2MManager {
public:
    /// The many-to-many (or Reverse side of one) `member` of `obj`.
    template <class Rel>
    M2MManager(Database& db, Owner& obj, Rel Owner::*member)
        : db_(detail::session_of(db)), obj_(obj), cache_(obj.*member) {
        static_assert(
            std::is_same_v<Rel, ManyToMany<Target>> || std::is_same_v<Rel, Reverse<Target>>,
            "db.m2m: the member must be a ManyToMany, or the Reverse side of one");
        const detail::RelationJoin* rj = nullptr;
        std::string_view name;
        detail::visit_entry(member, [&](auto i) {
            rj = &detail::relation_join<Owner, decltype(i)::value>();
            name = detail::member_name_of<Owner, decltype(i)::value>();
        });
        detail::M2MStatements st = detail::m2m_statements(rj, detail::meta<Owner>(), name);
        relation_ = std::move(st.relation);
        add_sql_ = std::move(st.add);
        remove_sql_ = std::move(st.remove);
        clear_sql_ = std::move(st.clear);
    }

    /// Links the objects (already linked ones are kept once).
    template <class... More> M2MManager& add(const Target& first, const More&... more) {
        std::vector<const Target*> v{&first, &more...};
        detail::Session::Call call(db_);
        add_all(v);
        call.finish();
        return *this;
    }
    template <std::ranges::input_range R> M2MManager& add(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        detail::Session::Call call(db_);
        add_all(v);
        call.finish();
        return *this;
    }

    /// Unlinks the objects (ones not linked are ignored).
    template <class... More> M2MManager& remove(const Target& first, const More&... more) {
        std::vector<const Target*> v{&first, &more...};
        detail::Session::Call call(db_);
        remove_all(v);
        call.finish();
        return *this;
    }
    template <std::ranges::input_range R> M2MManager& remove(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        detail::Session::Call call(db_);
        remove_all(v);
        call.finish();
        return *this;
    }

    /// Unlinks everything.
    M2MManager& clear() {
        detail::Session::Call call(db_);
        clear_rows();
        call.finish();
        return *this;
    }

    /// Makes the linked set exactly `targets`, in one transaction.
    template <std::ranges::input_range R> M2MManager& set(const R& targets) {
        std::vector<const Target*> v;
        for (const Target& t : targets) v.push_back(&t);
        for (auto* t : v) check_saved(*t);
        const bool was_loaded = cache_.loaded();
        // `targets` may be this very list (or objects it alone keeps alive): hold them while
        // clear() empties it.
        const detail::AnchorRef hold(detail::relation_access::anchor(cache_));
        detail::Session::Call call(db_);
        {
            detail::Session::TransactionScope sp(db_);
            delete_all_links();
            insert_links(v);
            sp.commit();
        }
        // Only now, with the links committed: a failure above leaves the loaded list as the
        // database still has it.
        if (was_loaded) {
            detail::relation_access::replace(cache_, {});
            cache_add(v);
        }
        call.finish();
        return *this;
    }

private:
    void clear_rows() {
        delete_all_links();
        if (cache_.loaded()) detail::relation_access::replace(cache_, {});
    }
    void delete_all_links() {
        const auto& key = owner_key();
        db_.execute(
            clear_sql_, [&](detail::Binder& b) { b.key(key); }, "m2m clear");
    }
    const detail::key_of<Owner>& owner_key() const {
        const auto& key = detail::primary_key_of(obj_);
        if (detail::key_unset(key))
            throw UsageError(relation_ + ": insert the " + detail::meta<Owner>().name +
                             " before linking objects to it");
        return key;
    }
    void check_saved(const Target& t) const {
        if (detail::key_unset(detail::primary_key_of(t)))
            throw UsageError(relation_ + ": insert the " + detail::meta<Target>().name +
                             " before linking it");
    }
    void add_all(const std::vector<const Target*>& v) {
        insert_links(v);
        cache_add(v);
    }
    void insert_links(const std::vector<const Target*>& v) {
        const auto& key = owner_key();
        for (auto* t : v) check_saved(*t);
        detail::Session::TransactionScope sp(db_);
        for (auto* t : v)
            db_.execute(
                add_sql_,
                [&](detail::Binder& b) {
                    b.key(key);
                    b.key(detail::primary_key_of(*t));
                },
                "m2m add");
        sp.commit();
    }
    /// The loaded list (if loaded) gains the targets it lacks.
    void cache_add(const std::vector<const Target*>& v) {
        if (!cache_.loaded()) return;
        // The targets' addresses, as the list keeps them.
        const std::unique_ptr<const void*[]> added(new const void*[v.size()]);
        for (std::size_t i = 0; i < v.size(); ++i) added[i] = v[i];
        detail::m2m_cache_add(detail::relation_access::cache(cache_), {added.get(), v.size()},
                              &detail::same_key<Target>, &detail::copy_object<Target>);
    }
    void remove_all(const std::vector<const Target*>& v) {
        const auto& key = owner_key();
        {
            detail::Session::TransactionScope sp(db_);
            for (auto* t : v)
                db_.execute(
                    remove_sql_,
                    [&](detail::Binder& b) {
                        b.key(key);
                        b.key(detail::primary_key_of(*t));
                    },
                    "m2m remove");
            sp.commit();
        }
        if (!cache_.loaded()) return;
        std::unordered_set<detail::key_of<Target>> gone;
        for (auto* t : v) gone.insert(detail::primary_key_of(*t));
        std::vector<const void*> items;  // each a const Target*
        for (const void* x : detail::relation_access::items(cache_))
            if (gone.count(detail::primary_key_of(*detail::object_at<Target>(x))) == 0)
                items.push_back(x);
        detail::relation_access::replace(cache_, std::move(items));
    }

    detail::Session& db_;
    Owner& obj_;
    RelatedList<Target>& cache_;
    std::string relation_;
    std::string add_sql_, remove_sql_, clear_sql_;
};

template <class Owner, class Rel>
M2MManager(Database&, Owner&, Rel Owner::*) -> M2MManager<Owner, typename Rel::target_type>;

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/m2m.hpp"
#endif
