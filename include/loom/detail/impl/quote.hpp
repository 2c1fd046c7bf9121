// The definitions of quote.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of quote.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL std::string quote(std::string_view id) {
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
