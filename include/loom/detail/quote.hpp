// quote(): how loom writes an identifier into SQL. One place, used by the descriptors' SQL and
// by the schema catalogue (detail/engine/catalog.hpp) alike.
#pragma once

#include <string>
#include <string_view>

namespace loom::detail {

/// `"name"` with embedded quotes doubled: identifiers come only from descriptors, but are
/// quoted anyway so reserved words ("order", "group") work as names.
inline std::string quote(std::string_view id) {
    std::string out;
    out.reserve(id.size() + 2);
    out += '"';
    for (char c : id) {
        if (c == '"') out += '"';
        out += c;
    }
    out += '"';
    return out;
}

}  // namespace loom::detail
