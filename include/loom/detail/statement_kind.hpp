// loom/detail/statement_kind.hpp - what kind of statement an SQL text is, judged from the text
// alone: a read (SELECT, WITH ... SELECT, EXPLAIN, VALUES, a PRAGMA that sets nothing) or
// transaction control (BEGIN, COMMIT, ...). One heuristic for the whole library: the query
// logger, the N+1 guard and Database's `changes` all ask here. (Where a prepared statement is at
// hand, sqlite3_stmt_readonly() is exact; this is for the text of an already-run statement.)
#pragma once

#include <cstddef>
#include <string_view>

namespace loom::detail {

/// Skips whitespace and SQL comments (`-- ...` to the end of the line, `/* ... */`) from `at`.
constexpr std::size_t skip_sql_space(std::string_view sql, std::size_t at) noexcept {
    while (at < sql.size()) {
        const char c = sql[at];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            ++at;
        } else if (sql.substr(at, 2) == "--") {
            const auto nl = sql.find('\n', at);
            at = nl == std::string_view::npos ? sql.size() : nl + 1;
        } else if (sql.substr(at, 2) == "/*") {
            const auto end = sql.find("*/", at + 2);
            at = end == std::string_view::npos ? sql.size() : end + 2;
        } else {
            break;
        }
    }
    return at;
}

constexpr bool is_sql_word_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
}

/// The word (identifier or keyword characters) starting at `at`; empty when none does.
constexpr std::string_view sql_word_at(std::string_view sql, std::size_t at) noexcept {
    std::size_t end = at;
    while (end < sql.size() && is_sql_word_char(sql[end])) ++end;
    return sql.substr(at, end - at);
}

/// ASCII case-insensitive equality with an upper-case keyword.
constexpr bool sql_keyword_is(std::string_view word, std::string_view upper) noexcept {
    if (word.size() != upper.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
        char c = word[k];
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (c != upper[k]) return false;
    }
    return true;
}

/// The statement's first keyword (after whitespace and comments), as written.
constexpr std::string_view first_sql_keyword(std::string_view sql) noexcept {
    return sql_word_at(sql, skip_sql_space(sql, 0));
}

/// BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE: never part of an N+1 pattern.
constexpr bool is_transaction_control(std::string_view sql) noexcept {
    const std::string_view first = first_sql_keyword(sql);
    for (std::string_view k : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
        if (sql_keyword_is(first, k)) return true;
    return false;
}

}  // namespace loom::detail
