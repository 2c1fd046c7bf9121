// The definitions of binder.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of binder.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL void Binder::record(const Value& v) {
    record_->push_back(v);
}

LOOM_DECL void Binder::record(Value&& v) {
    record_->push_back(std::move(v));
}

}  // namespace loom::detail
