// quote(): how loom writes an identifier into SQL. One place, used by the descriptors' SQL and
// by the schema catalogue (detail/engine/catalog.hpp) alike.
#pragma once

#include <string>
#include <string_view>

#include "config.hpp"

namespace loom::detail {

/// `"name"` with embedded quotes doubled: identifiers come only from descriptors, but are
/// quoted anyway so reserved words ("order", "group") work as names.
LOOM_DECL std::string quote(std::string_view id);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/quote.hpp"
#endif
