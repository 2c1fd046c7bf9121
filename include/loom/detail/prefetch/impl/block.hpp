// The definitions of block.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of block.hpp only.
#pragma once

namespace loom::detail {

// Segments are allocated as std::allocator<T> would: the aligned operator new only for
// over-aligned types.
LOOM_DECL BlockSegments::~BlockSegments() {
    for (char* s : starts_) {
        if (align_ > __STDCPP_DEFAULT_NEW_ALIGNMENT__)
            ::operator delete(s, std::align_val_t(align_));
        else
            ::operator delete(s);
    }
}

LOOM_DECL void BlockSegments::grow(std::size_t size, std::size_t align) {
    const std::size_t k = starts_.size();  // the new segment's number
    const std::size_t room = (first << k) * size;
    starts_.reserve(k + 1);
    align_ = align;
    next_ = static_cast<char*>(align > __STDCPP_DEFAULT_NEW_ALIGNMENT__
                                   ? ::operator new(room, std::align_val_t(align))
                                   : ::operator new(room));
    starts_.push_back(next_);
    end_ = next_ + room;
}

}  // namespace loom::detail
