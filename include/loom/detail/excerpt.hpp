// SQL as error messages show it: short whatever the statement's size. A statement with 300,000
// placeholders would otherwise put a megabyte of "?, ?, ..." into every message that names it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace loom::detail {

/// The statement's shape for a message: a run of more than four `?` placeholders in a list is
/// written as its first three and a count (`IN (?, ?, ?, ... 300000 placeholders)`), and what
/// is still longer than `max` characters is cut there and its full length given.
inline std::string sql_excerpt(std::string_view sql, std::size_t max = 400) {
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
