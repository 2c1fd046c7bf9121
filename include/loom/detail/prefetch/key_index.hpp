// Maps from keys to 32-bit slots, for stitching prefetched rows to their parents. For
// std::int64_t keys, a flat array while the keys are nearly contiguous, else an open-addressing
// hash map (both much lighter than std::unordered_map: no node allocation); for other key types
// (std::string...), one over std::hash.
// KeyIndexFor<K> picks the one for a key type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "../config.hpp"
#include "../std_light.hpp"

namespace loom::detail {

class KeyIndex {
public:
    static constexpr std::uint32_t npos = 0xffffffffu;

    /// `expected`: about how many keys will be inserted (a hint for the first allocation).
    explicit KeyIndex(std::size_t expected = 0) : expected_(expected) {}

    /// The slot stored for `key`, inserting `slot` if absent; `inserted` tells which.
    std::uint32_t insert(std::int64_t key, std::uint32_t slot, bool& inserted) {
        if (dense_) {
            std::uint64_t off = offset(key);
            if (off >= table_.size()) {
                if (!widen(key)) {
                    to_hash();
                    return hash_insert(key, slot, inserted);
                }
                off = offset(key);
            }
            std::uint32_t& s = table_[off];
            if (s == npos) {
                s = slot;
                ++size_;
                inserted = true;
                return slot;
            }
            inserted = false;
            return s;
        }
        return hash_insert(key, slot, inserted);
    }
    std::uint32_t find(std::int64_t key) const noexcept {
        if (dense_) {
            const std::uint64_t off = offset(key);
            return off < table_.size() ? table_[off] : npos;
        }
        std::size_t i = bucket(key);
        while (true) {
            const Cell& c = cells_[i];
            if (c.slot == npos) return npos;
            if (c.key == key) return c.slot;
            i = (i + 1) & mask_;
        }
    }

private:
    // Two representations. Keys that come from one sequence (auto-assigned primary keys) are
    // nearly contiguous: while the keys seen span at most about eight slots a key, the index
    // is a flat array from key - base_ to slot (4 bytes a slot, read in key order when the
    // rows come in key order, so no hashing and few cache misses). The first key that would
    // stretch the span past that turns it into an open-addressing hash map (16 bytes a cell,
    // load factor at most 1/2), for sparse or scattered keys.
    struct Cell {
        std::int64_t key;
        std::uint32_t slot;
    };

    std::uint64_t offset(std::int64_t key) const noexcept {
        return static_cast<std::uint64_t>(key) - static_cast<std::uint64_t>(base_);
    }
    /// The most slots the flat array may have for the keys expected: no more memory than
    /// the hash map would take.
    std::uint64_t dense_limit() const noexcept {
        const std::uint64_t n = std::max<std::uint64_t>(size_ + 1, expected_);
        return 8 * n + 64;
    }
    /// Grows the flat array so that it covers `key`; false when the span would pass the limit.
    bool widen(std::int64_t key);
    void to_hash();

    std::uint32_t hash_insert(std::int64_t key, std::uint32_t slot, bool& inserted) {
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
    std::size_t bucket(std::int64_t key) const noexcept {
        return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >>
                                        shift_);
    }
    void rehash(std::size_t expected);

    bool dense_ = true;
    std::size_t expected_ = 0;
    std::size_t size_ = 0;
    // Flat array (dense_).
    std::int64_t base_ = 0;
    std::vector<std::uint32_t> table_;
    // Hash map (!dense_).
    std::vector<Cell> cells_;
    std::size_t mask_ = 0;
    unsigned shift_ = 60;
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

// Cell is private: access is not checked in an explicit instantiation.
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::KeyIndex::Cell>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/key_index.hpp"
#endif
