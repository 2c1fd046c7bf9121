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
    bool widen(std::int64_t key) {
        const auto k = static_cast<std::uint64_t>(key);
        if (table_.empty()) {
            // The first key: room for the keys expected after it.
            const std::uint64_t want = std::max<std::uint64_t>(expected_ + expected_ / 4, 16);
            base_ = key;
            table_.assign(static_cast<std::size_t>(std::min(want, dense_limit())), npos);
            return true;
        }
        const auto lo = static_cast<std::uint64_t>(base_);
        const std::uint64_t n = table_.size();
        const std::uint64_t limit = dense_limit();
        // Below the range: key..lo+n; above it: lo..key. Distances in unsigned arithmetic are
        // exact for any two int64 values, the ordering is the signed one.
        const bool below = key < base_;
        const std::uint64_t need = below ? (lo - k) + n : (k - lo) + 1;
        if (need > limit) return false;
        std::uint64_t grown = std::min(std::max(need, 2 * n), limit);
        std::vector<std::uint32_t> t(static_cast<std::size_t>(grown), npos);
        const std::uint64_t shift = below ? grown - n : 0;
        std::copy(table_.begin(), table_.end(), t.begin() + static_cast<std::ptrdiff_t>(shift));
        table_ = std::move(t);
        base_ = static_cast<std::int64_t>(lo - shift);
        return true;
    }
    void to_hash() {
        std::vector<std::uint32_t> t = std::move(table_);
        table_.clear();
        dense_ = false;
        const std::size_t n = size_;
        size_ = 0;
        rehash(std::max<std::size_t>(n * 2, expected_));
        for (std::size_t i = 0; i < t.size(); ++i) {
            if (t[i] == npos) continue;
            bool ins;
            hash_insert(static_cast<std::int64_t>(static_cast<std::uint64_t>(base_) + i), t[i],
                        ins);
        }
    }

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
            hash_insert(c.key, c.slot, ins);
        }
    }

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
