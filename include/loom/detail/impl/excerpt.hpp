// The definitions of excerpt.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of excerpt.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL std::string sql_excerpt(std::string_view sql, std::size_t max) {
    std::string out;
    out.reserve(sql.size() < max ? sql.size() : max + 40);
    std::size_t i = 0;
    while (i < sql.size()) {
        if (sql[i] == '?') {
            // Count the placeholders of "?, ?, ?" (any spacing) starting here.
            std::size_t n = 1, end = i + 1, j = i + 1;
            while (true) {
                while (j < sql.size() && sql[j] == ' ') ++j;
                if (j >= sql.size() || sql[j] != ',') break;
                ++j;
                while (j < sql.size() && sql[j] == ' ') ++j;
                if (j >= sql.size() || sql[j] != '?') break;
                ++n;
                end = ++j;
            }
            if (n > 4) {
                out += "?, ?, ?, ... ";
                out += std::to_string(n);
                out += " placeholders";
                i = end;
                continue;
            }
        }
        out += sql[i++];
        if (out.size() > max) break;
    }
    if (i < sql.size()) {
        out.resize(max);
        out += "... (";
        out += std::to_string(sql.size());
        out += " characters)";
    }
    return out;
}

}  // namespace loom::detail
