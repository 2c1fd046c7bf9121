// The definitions of key_index.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of key_index.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL bool KeyIndex::widen(std::int64_t key) {
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

LOOM_DECL void KeyIndex::to_hash() {
    std::vector<std::uint32_t> t = std::move(table_);
    table_.clear();
    dense_ = false;
    const std::size_t n = size_;
    size_ = 0;
    rehash(std::max<std::size_t>(n * 2, expected_));
    for (std::size_t i = 0; i < t.size(); ++i) {
        if (t[i] == npos) continue;
        bool ins;
        hash_insert(static_cast<std::int64_t>(static_cast<std::uint64_t>(base_) + i), t[i], ins);
    }
}

LOOM_DECL void KeyIndex::rehash(std::size_t expected) {
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

}  // namespace loom::detail
