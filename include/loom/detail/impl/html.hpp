// The definitions of html.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of html.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL void append_html(std::string& out, std::string_view s) {
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

LOOM_DECL std::string html_escape(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    append_html(out, s);
    return out;
}

}  // namespace loom::detail
