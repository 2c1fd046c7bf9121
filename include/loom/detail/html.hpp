// loom/detail/html.hpp - HTML text escaping, for the profile report (loom/profile.hpp).
#pragma once

#include <string>
#include <string_view>

namespace loom::detail {

/// Appends `s` with &, <, >, " and ' escaped: safe as element text and in quoted attributes.
inline void append_html(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&#39;";
            break;
        default:
            out += c;
        }
    }
}

inline std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    append_html(out, s);
    return out;
}

}  // namespace loom::detail
