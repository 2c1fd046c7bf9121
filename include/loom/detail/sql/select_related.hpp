// select_related: a forward relation filled by a LEFT JOIN in the base query, its target's
// columns read from the same row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

#include "../meta/object_io.hpp"
#include "tokens.hpp"

namespace loom::detail {

template <class T>
struct SelectRelatedReader {
    virtual ~SelectRelatedReader() = default;
    virtual void read(const Statement& s, int first, T& obj) = 0;
};

/// One forward relation filled by a JOIN in the base query.
template <class T>
struct SelectRelatedBase {
    virtual ~SelectRelatedBase() = default;
    virtual std::size_t index() const = 0;
    virtual JoinStep step() const = 0;
    virtual const ModelMeta& target() const = 0;
    virtual std::unique_ptr<SelectRelatedReader<T>> reader() const = 0;
};

template <class T, std::size_t I>
struct SelectRelated final : SelectRelatedBase<T> {
    using E = entry_t<T, I>;
    using Target = typename E::target;
    std::size_t index() const override { return I; }
    JoinStep step() const override {
        return {quote(entry<T, I>().column), meta<Target>().table, meta<Target>().pk};
    }
    const ModelMeta& target() const override { return meta<Target>(); }

    struct Reader final : SelectRelatedReader<T> {
        std::shared_ptr<std::deque<Target>> block = std::make_shared<std::deque<Target>>();
        // Every joined object of this relation is kept alive by one anchor.
        AnchorRef anchor{new Anchor(&relation_info<T, I>, block)};
        std::unordered_map<std::int64_t, Target*> seen;
        void read(const Statement& s, int first, T& obj) override {
            auto& rel = static_cast<ForeignKey<Target>&>(obj.*(entry<T, I>().member));
            if (s.is_null(first)) {
                // No joined row: a NULL key, or a key that matches nothing (as prefetch does,
                // that is an error, not a silent nullptr).
                if (const auto id = rel.id())
                    throw_dangling_key(meta<T>().name + "::" + std::string(member_name_of<T, I>()),
                                       entry<T, I>().column, *id, meta<Target>().name);
                relation_access::set(rel, static_cast<const Target*>(nullptr), anchor.get());
                return;
            }
            const std::int64_t key = s.column_int(first);
            auto [it, fresh] = seen.try_emplace(key, nullptr);
            if (fresh) {
                block->emplace_back();
                read_object(s, first, block->back());
                it->second = &block->back();
            }
            relation_access::set(rel, static_cast<const Target*>(it->second), anchor.get());
        }
    };
    std::unique_ptr<SelectRelatedReader<T>> reader() const override {
        return std::make_unique<Reader>();
    }
};

template <class T, class M>
std::shared_ptr<const SelectRelatedBase<T>> make_select_related(M T::*member) {
    static_assert(std::is_base_of_v<ForeignKey<typename M::target_type>, M>,
                  "select_related: only ForeignKey and OneToOne members can be joined; use "
                  "prefetch_related for ManyToMany and Reverse members");
    std::shared_ptr<const SelectRelatedBase<T>> out;
    visit_entry(member, [&](auto i) { out = std::make_shared<SelectRelated<T, decltype(i)::value>>(); });
    if (!out)
        throw UsageError("select_related: the member is not declared in the descriptor of " +
                         meta<T>().name);
    return out;
}

}  // namespace loom::detail
