// The definitions of defaults.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of defaults.hpp only.
#pragma once

#include <charconv>

namespace loom::detail {

LOOM_DECL std::string sql_literal(const default_literal& d) {
    switch (d.kind) {
    case default_literal::kind_t::integer:
        return std::to_string(d.integer);
    case default_literal::kind_t::real: {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, d.real);
        std::string s(buf, r.ptr);
        if (s.find_first_of(".en") == std::string::npos) s += ".0";  // stays REAL
        return s;
    }
    case default_literal::kind_t::text: {
        std::string s = "'";
        for (char c : d.text) {
            if (c == '\'') s += '\'';
            s += c;
        }
        return s + "'";
    }
    default:
        return {};
    }
}

}  // namespace loom::detail
