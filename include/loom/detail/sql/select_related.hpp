// select_related: to-one relations (ForeignKey, OneToOne, ReverseOne) filled by LEFT JOINs in
// the base query, any number of levels deep (select_related(loom::path(&Post::category,
// &Category::parent))), their targets' columns read from the same row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../meta/joins.hpp"
#include "../meta/object_io.hpp"
#include "tokens.hpp"

namespace loom::detail {

/// Reads a joined level (and the levels below it) from a row into an object, the model the
/// chain starts from. One type for every model: a model's row reader keeps its readers in the
/// one std::vector<std::unique_ptr<SelectRelatedReader>> that every model shares.
struct SelectRelatedReader {
    virtual ~SelectRelatedReader() = default;
    virtual void read(const Statement& s, int first, void* obj) = 0;
};

/// std::unique_ptr<SelectRelatedReader>, named through the model it reads into: a type named
/// in a template without its parameters is instantiated while the header is parsed (in every
/// translation unit), this one only with the first model's reader.
template <class T> struct select_reader_ptr { using type = std::unique_ptr<SelectRelatedReader>; };
template <class T> using SelectReaderPtr = typename select_reader_ptr<T>::type;

/// A chain of to-one relations filled by JOINs in the base query: one hop per level, each
/// level's columns after the previous level's. One type whatever model the chain starts from
/// (nothing here depends on it), so that every QueryState's list of chains is one vector type.
struct SelectRelatedChain {
    virtual ~SelectRelatedChain() = default;
    /// The hops from the chain's model, one per level.
    virtual std::vector<JoinStep> path() const = 0;
    /// The model of each level.
    virtual std::vector<const ModelMeta*> targets() const = 0;
    /// Reads into an object of the chain's model.
    virtual std::unique_ptr<SelectRelatedReader> reader() const = 0;

    /// Two chains are the same when their hops are.
    std::string key() const {
        std::string k;
        for (const auto& s : path()) k += s.key();
        return k;
    }
    std::size_t column_count() const {
        std::size_t n = 0;
        for (const ModelMeta* m : targets()) n += m->column_count();
        return n;
    }
};

/// A chain that starts at T: made only by make_select_related<T>, and kept only by T's
/// queries, so the name says the model the type no longer carries.
template <class T> using SelectRelatedBase = SelectRelatedChain;

/// Relation I of T (a ForeignKey, OneToOne or ReverseOne), then the chain `below` (may be
/// null) from its target.
template <class T, std::size_t I> struct SelectRelated final : SelectRelatedBase<T> {
    using Rel = std::remove_cvref_t<decltype(std::declval<T&>().*(entry<T, I>().member))>;
    using Target = typename Rel::target_type;
    static constexpr bool forward = std::is_base_of_v<ForeignKey<Target, key_of<Target>>, Rel>;
    std::shared_ptr<const SelectRelatedBase<Target>> below;

    std::vector<JoinStep> path() const override {
        std::vector<JoinStep> out{relation_hop<T, I>()};
        if (below)
            for (auto& s : below->path()) out.push_back(std::move(s));
        return out;
    }
    std::vector<const ModelMeta*> targets() const override {
        std::vector<const ModelMeta*> out{&meta<Target>()};
        if (below)
            for (const ModelMeta* m : below->targets()) out.push_back(m);
        return out;
    }

    struct Reader final : SelectRelatedReader {
        std::shared_ptr<std::deque<Target>> block = std::make_shared<std::deque<Target>>();
        // Every joined object of this level is kept alive by one anchor.
        AnchorRef anchor{new Anchor(&relation_info<T, I>, block)};
        std::unordered_map<key_of<Target>, Target*> seen;
        SelectReaderPtr<Target> next;  // the level below (from Target), if any
        int width = static_cast<int>(meta<Target>().column_count());

        void read(const Statement& s, int first, void* owner) override {
            auto& rel = static_cast<T*>(owner)->*(entry<T, I>().member);
            if (s.is_null(first)) {
                // No joined row: a NULL key, or a key that matches nothing (as prefetch does,
                // that is an error, not a silent nullptr). The levels below are NULL too.
                if constexpr (forward) {
                    auto& fk = static_cast<ForeignKey<Target, key_of<Target>>&>(rel);
                    if (const auto id = fk.id())
                        throw_dangling_key(
                            meta<T>().name + "::" + std::string(member_name_of<T, I>()),
                            entry<T, I>().column, *id, meta<Target>().name);
                    relation_access::set(fk, static_cast<const Target*>(nullptr), anchor.get());
                } else {
                    relation_access::set(rel, static_cast<const Target*>(nullptr), anchor.get());
                }
                return;
            }
            key_of<Target> key;
            if constexpr (auto_key<Target>) {
                key = s.column_int(first);
            } else if (const char* why = read_column(s, first, key)) {
                throw DataError(meta<T>().name + "::" + std::string(member_name_of<T, I>()) +
                                ": the key of the joined " + meta<Target>().name + ": " + why +
                                ", found " + describe_stored(s, first));
            }
            auto [it, fresh] = seen.try_emplace(std::move(key), nullptr);
            if (fresh) {
                block->emplace_back();
                read_object(s, first, block->back());
                it->second = &block->back();
                if (next) next->read(s, first + width, &block->back());
            }
            if constexpr (forward)
                relation_access::set(static_cast<ForeignKey<Target, key_of<Target>>&>(rel),
                                     static_cast<const Target*>(it->second), anchor.get());
            else
                relation_access::set(rel, static_cast<const Target*>(it->second), anchor.get());
        }
    };
    SelectReaderPtr<T> reader() const override {
        // Into the base's pointer at once: no unique_ptr per reader type.
        SelectReaderPtr<T> out(new Reader());
        if (below) static_cast<Reader&>(*out).next = below->reader();
        return out;
    }
};

template <class M> struct is_to_one_relation : std::false_type {};
template <class X, class K> struct is_to_one_relation<ForeignKey<X, K>> : std::true_type {};
template <class X, class K> struct is_to_one_relation<OneToOne<X, K>> : std::true_type {};
template <class X> struct is_to_one_relation<ReverseOne<X>> : std::true_type {};

/// The chain for one member of T, then `below` from its target.
template <class T, class M>
std::shared_ptr<const SelectRelatedBase<T>> make_select_related(
    M T::*member,
    std::shared_ptr<const SelectRelatedBase<typename M::target_type>> below = nullptr) {
    static_assert(is_to_one_relation<M>::value,
                  "select_related: only ForeignKey, OneToOne and ReverseOne members can be "
                  "joined; use prefetch_related for ManyToMany and Reverse members");
    std::shared_ptr<const SelectRelatedBase<T>> out;
    visit_entry(member, [&](auto i) {
        auto sr = std::make_shared<SelectRelated<T, decltype(i)::value>>();
        sr->below = below;
        out = std::move(sr);
    });
    if (!out)
        throw UsageError("select_related: the member is not declared in the descriptor of " +
                         meta<T>().name);
    return out;
}

}  // namespace loom::detail

LOOM_EXTERN_TEMPLATE(class std::vector<std::shared_ptr<const loom::detail::SelectRelatedChain>>);
LOOM_EXTERN_TEMPLATE(class std::unique_ptr<loom::detail::SelectRelatedReader>);
// std::unique_ptr<SelectRelatedReader> is move-only: the std::vector members loom calls.
LOOM_EXTERN_MOVE_ONLY_VECTOR(std::unique_ptr<loom::detail::SelectRelatedReader>);
