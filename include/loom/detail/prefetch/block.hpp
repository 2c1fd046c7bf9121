// StableBlock<T>: where one prefetch level keeps the objects it read. Appending never moves an
// object (relation caches point into it): storage grows by segments that double in size, so reading
// n rows costs O(log n) allocations, no copies, and no transient second array. The segments are
// raw memory kept by a base that does not know T (BlockSegments, compiled once); StableBlock<T>
// only constructs, finds and destroys the objects in them.
#pragma once

#include <bit>
#include <cstddef>
#include <iterator>
#include <new>
#include <type_traits>
#include <vector>

#include "../config.hpp"

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

/// A StableBlock's memory: segment k has room for first << k objects. Knows the objects' size
/// and alignment, not their type; the objects are StableBlock's to construct and destroy. A
/// level's block is owned as one: one std::shared_ptr type for every model.
class BlockSegments {
public:
    static constexpr std::size_t first = BlockView::first;

    BlockSegments() = default;
    // The objects may not be copied or moved bytewise.
    BlockSegments(const BlockSegments&) = delete;
    BlockSegments& operator=(const BlockSegments&) = delete;
    LOOM_DECL virtual ~BlockSegments();

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// Objects the segments have room for (what the block reserved).
    std::size_t capacity() const noexcept {
        return starts_.empty() ? 0 : (first << starts_.size()) - first;
    }

protected:
    /// The last segment is full: adds the next, for objects of `size` bytes aligned to `align`.
    void grow(std::size_t size, std::size_t align);

    std::vector<char*> starts_;  // the first object of each segment
    char* next_ = nullptr;       // where the next object goes
    char* end_ = nullptr;        // the end of the last segment
    std::size_t size_ = 0;
    std::size_t align_ = 0;
};

template <class T> class StableBlock : public BlockSegments {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = T&;
        using pointer = T*;

        iterator() = default;
        iterator(char* const* starts, std::size_t segments, std::size_t i)
            : starts_(starts), segments_(segments), i_(i) {
            if (i == 0 && segments) {
                at_ = starts[0];
                end_ = at_ + first * sizeof(T);
            }
        }
        T& operator*() const { return *std::launder(reinterpret_cast<T*>(at_)); }
        T* operator->() const { return &**this; }
        iterator& operator++() {
            ++i_;
            at_ += sizeof(T);
            if (at_ == end_ && seg_ + 1 < segments_) {
                at_ = starts_[++seg_];
                end_ = at_ + (first << seg_) * sizeof(T);
            }
            return *this;
        }
        iterator operator++(int) {
            auto t = *this;
            ++*this;
            return t;
        }
        friend bool operator==(const iterator& a, const iterator& b) { return a.i_ == b.i_; }

    private:
        char* const* starts_ = nullptr;
        std::size_t segments_ = 0, seg_ = 0, i_ = 0;
        char* at_ = nullptr;
        char* end_ = nullptr;
    };

    StableBlock() = default;
    ~StableBlock() override {
        if constexpr (!std::is_trivially_destructible_v<T>)
            for (T& t : *this) t.~T();
    }

    /// Appends a value-initialized object and returns it.
    T& emplace_back() {
        if (next_ == end_) grow(sizeof(T), alignof(T));
        T* t = ::new (static_cast<void*>(next_)) T();
        next_ += sizeof(T);
        ++size_;
        return *t;
    }
    T& back() { return *std::launder(reinterpret_cast<T*>(next_ - sizeof(T))); }
    T& operator[](std::size_t i) {
        return *std::launder(static_cast<T*>(const_cast<void*>(view()[i])));
    }
    /// The objects as addresses (valid until the block grows).
    BlockView view() const noexcept { return BlockView{starts_.data(), sizeof(T)}; }
    iterator begin() { return iterator(starts_.data(), starts_.size(), 0); }
    iterator end() { return iterator(starts_.data(), starts_.size(), size_); }
};

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/block.hpp"
#endif
