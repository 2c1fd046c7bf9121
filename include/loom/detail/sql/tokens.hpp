// The pieces a condition is made of before it becomes SQL: text, column references (possibly
// across forward relations, resolved to table aliases when rendered), bound values and key
// lists (bound as one array parameter when long, if the engine can).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "../../types.hpp"

namespace loom::detail {

/// One forward hop (a ForeignKey or OneToOne) from one table to another.
struct JoinStep {
    std::string fk_column;  // quoted, on the table we come from
    std::string table;      // quoted target table
    std::string pk;         // quoted target primary key
};

struct ColumnRef {
    std::vector<JoinStep> path;  // empty: a column of the queried model
    std::string column;          // quoted
};

/// One ORDER BY term.
struct OrderSpec {
    ColumnRef col;
    bool descending = false;
};

struct Token {
    enum Kind { text, column, param, key_list } kind;
    std::string sql;                  // text
    ColumnRef col;                    // column
    Value value;                      // param
    std::vector<std::int64_t> keys;   // key_list: rendered "(?, ?, ...)" or as one array
};

using Tokens = std::vector<Token>;

inline void append(Tokens& t, std::string s) { t.push_back({Token::text, std::move(s), {}, {}, {}}); }
inline void append(Tokens& t, const char* s) { append(t, std::string(s)); }
inline void append(Tokens& t, const ColumnRef& c) { t.push_back({Token::column, {}, c, {}, {}}); }
inline void append(Tokens& t, Value v) { t.push_back({Token::param, {}, {}, std::move(v), {}}); }
inline void append(Tokens& t, std::vector<std::int64_t> keys) {
    t.push_back({Token::key_list, {}, {}, {}, std::move(keys)});
}
inline void append(Tokens& t, const Tokens& more) { t.insert(t.end(), more.begin(), more.end()); }

}  // namespace loom::detail
