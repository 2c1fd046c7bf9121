// StableBlock<T>: where one prefetch level keeps the objects it read. Appending never moves an
// object (relation caches point into it): storage grows by segments that double in size, so reading
// n rows costs O(log n) allocations, no copies, and no transient second array.
#pragma once

#include <bit>
#include <cstddef>
#include <iterator>
#include <vector>

namespace loom::detail {

/// The objects of a StableBlock as addresses, whatever their type: what the stitching that
/// needs no more than where each object is (compiled once, not once a model) reads.
struct BlockView {
    static constexpr std::size_t first = 8;  // capacity of segment 0; segment k holds first << k

    const char* const* segments = nullptr;  // the first object of each segment
    std::size_t stride = 0;                 // sizeof an object

    /// The address of object i.
    const void* operator[](std::size_t i) const noexcept {
        const std::size_t j = i + first;  // segment k covers j in [first << k, first << (k + 1))
        const std::size_t k = static_cast<std::size_t>(std::bit_width(j)) -
                              static_cast<std::size_t>(std::bit_width(first));
        return segments[k] + (j - (first << k)) * stride;
    }
};

template <class T> class StableBlock {
    static constexpr std::size_t first = BlockView::first;

public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = T&;
        using pointer = T*;

        iterator() = default;
        iterator(std::vector<std::vector<T>>* segs, std::size_t seg, std::size_t pos)
            : segs_(segs), seg_(seg), pos_(pos) {}
        T& operator*() const { return (*segs_)[seg_][pos_]; }
        T* operator->() const { return &**this; }
        iterator& operator++() {
            if (++pos_ == (*segs_)[seg_].size()) {
                ++seg_;
                pos_ = 0;
            }
            return *this;
        }
        iterator operator++(int) {
            auto t = *this;
            ++*this;
            return t;
        }
        friend bool operator==(const iterator& a, const iterator& b) {
            return a.seg_ == b.seg_ && a.pos_ == b.pos_;
        }

    private:
        std::vector<std::vector<T>>* segs_ = nullptr;
        std::size_t seg_ = 0, pos_ = 0;
    };

    StableBlock() = default;
    // A copy's view() would show the original's objects.
    StableBlock(const StableBlock&) = delete;
    StableBlock& operator=(const StableBlock&) = delete;
    StableBlock(StableBlock&&) noexcept = default;
    StableBlock& operator=(StableBlock&&) noexcept = default;

    /// Appends a default-constructed object and returns it.
    T& emplace_back() {
        if (segs_.empty() || segs_.back().size() == (first << (segs_.size() - 1))) {
            const std::size_t k = segs_.size();  // the new segment's number
            segs_.emplace_back().reserve(first << k);
            starts_.push_back(reinterpret_cast<const char*>(segs_.back().data()));
        }
        ++size_;
        return segs_.back().emplace_back();
    }
    T& back() { return segs_.back().back(); }
    std::size_t size() const noexcept { return size_; }
    /// Objects the segments have room for (what the block reserved).
    std::size_t capacity() const noexcept {
        std::size_t n = 0;
        for (const auto& s : segs_) n += s.capacity();
        return n;
    }
    bool empty() const noexcept { return size_ == 0; }
    T& operator[](std::size_t i) {
        const std::size_t j = i + first;  // segment k covers j in [first << k, first << (k + 1))
        const std::size_t k = static_cast<std::size_t>(std::bit_width(j)) -
                              static_cast<std::size_t>(std::bit_width(first));
        return segs_[k][j - (first << k)];
    }
    /// The objects as addresses (valid until the block grows).
    BlockView view() const noexcept { return BlockView{starts_.data(), sizeof(T)}; }
    iterator begin() { return iterator(&segs_, 0, 0); }
    iterator end() { return iterator(&segs_, segs_.size(), 0); }

private:
    std::vector<std::vector<T>> segs_;
    std::vector<const char*> starts_;  // segs_[k].data(), for view()
    std::size_t size_ = 0;
};

}  // namespace loom::detail
