// Hash maps from keys to 32-bit slots, for stitching prefetched rows to their parents. For
// std::int64_t keys, an open-addressing map much lighter than std::unordered_map (two flat
// arrays, no node allocation); for other key types (std::string...), one over std::hash.
// KeyIndexFor<K> picks the one for a key type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <unordered_map>
#include <vector>

namespace loom::detail {

class KeyIndex {
public:
    static constexpr std::uint32_t npos = 0xffffffffu;

    explicit KeyIndex(std::size_t expected = 0) { rehash(expected); }

    /// The slot stored for `key`, inserting `slot` if absent; `inserted` tells which.
    std::uint32_t insert(std::int64_t key, std::uint32_t slot, bool& inserted) {
        if ((size_ + 1) * 2 > cells_.size()) rehash(size_ * 2 + 8);
        std::size_t i = bucket(key);
        while (true) {
            Cell& c = cells_[i];
            if (c.slot == npos) {
                c.key = key;
                c.slot = slot;
                ++size_;
                inserted = true;
                return slot;
            }
            if (c.key == key) {
                inserted = false;
                return c.slot;
            }
            i = (i + 1) & mask_;
        }
    }
    std::uint32_t find(std::int64_t key) const noexcept {
        std::size_t i = bucket(key);
        while (true) {
            const Cell& c = cells_[i];
            if (c.slot == npos) return npos;
            if (c.key == key) return c.slot;
            i = (i + 1) & mask_;
        }
    }

private:
    struct Cell {
        std::int64_t key;
        std::uint32_t slot;
    };
    std::size_t bucket(std::int64_t key) const noexcept {
        return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >>
                                        shift_);
    }
    void rehash(std::size_t expected) {
        std::size_t cap = 16;
        unsigned bits = 4;
        while (cap < expected * 2) {
            cap <<= 1;
            ++bits;
        }
        std::vector<Cell> old = std::move(cells_);
        cells_.assign(cap, Cell{0, npos});
        mask_ = cap - 1;
        shift_ = 64 - bits;
        size_ = 0;
        for (const Cell& c : old) {
            if (c.slot == npos) continue;
            bool ins;
            insert(c.key, c.slot, ins);
        }
    }

    std::vector<Cell> cells_;
    std::size_t mask_ = 0;
    unsigned shift_ = 60;
    std::size_t size_ = 0;
};

/// The same interface over any hashable, equality-comparable key type.
template <class K> class HashKeyIndex {
public:
    static constexpr std::uint32_t npos = KeyIndex::npos;

    explicit HashKeyIndex(std::size_t expected = 0) { map_.reserve(expected); }

    std::uint32_t insert(const K& key, std::uint32_t slot, bool& inserted) {
        auto [it, fresh] = map_.try_emplace(key, slot);
        inserted = fresh;
        return it->second;
    }
    std::uint32_t find(const K& key) const {
        const auto it = map_.find(key);
        return it == map_.end() ? npos : it->second;
    }

private:
    std::unordered_map<K, std::uint32_t> map_;
};

template <class K>
using KeyIndexFor = std::conditional_t<std::is_same_v<K, std::int64_t>, KeyIndex, HashKeyIndex<K>>;

}  // namespace loom::detail
