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
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || static_cast<unsigned char>(c) >= 0x80;
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

/// For `WITH ...`: the first keyword at parenthesis depth 0 that starts the main statement
/// (SELECT, VALUES, INSERT, REPLACE, UPDATE, DELETE), skipping the common table expressions,
/// string literals, quoted identifiers and comments. Empty when there is none.
constexpr std::string_view main_keyword_after_with(std::string_view sql) noexcept {
    int depth = 0;
    std::size_t at = skip_sql_space(sql, 0);
    at += sql_word_at(sql, at).size();  // WITH
    while (at < sql.size()) {
        at = skip_sql_space(sql, at);
        if (at >= sql.size()) break;
        const char c = sql[at];
        if (c == '\'' || c == '"' || c == '`' || c == '[') {
            const char close = c == '[' ? ']' : c;
            const auto end = sql.find(close, at + 1);  // a doubled quote reads as two literals
            at = end == std::string_view::npos ? sql.size() : end + 1;
        } else if (c == '(') {
            ++depth;
            ++at;
        } else if (c == ')') {
            --depth;
            ++at;
        } else if (is_sql_word_char(c)) {
            const std::string_view w = sql_word_at(sql, at);
            if (depth == 0)
                for (std::string_view k : {"SELECT", "VALUES", "INSERT", "REPLACE", "UPDATE",
                                           "DELETE"})
                    if (sql_keyword_is(w, k)) return w;
            at += w.size();
        } else {
            ++at;
        }
    }
    return {};
}

/// Whether the statement only reads: SELECT, VALUES, EXPLAIN (never runs what it explains),
/// WITH ... SELECT (not WITH ... INSERT/UPDATE/DELETE), and PRAGMA without `=` (a query such as
/// `PRAGMA table_info(book)`; `PRAGMA foreign_keys = ON` sets). Leading whitespace, comments
/// and the keywords' case do not matter.
///
///     is_read_statement("  select 1")                                   // true
///     is_read_statement("WITH d AS (SELECT 1) DELETE FROM t WHERE ...")  // false
constexpr bool is_read_statement(std::string_view sql) noexcept {
    const std::string_view first = first_sql_keyword(sql);
    if (sql_keyword_is(first, "SELECT") || sql_keyword_is(first, "VALUES") ||
        sql_keyword_is(first, "EXPLAIN"))
        return true;
    if (sql_keyword_is(first, "WITH")) {
        const std::string_view main = main_keyword_after_with(sql);
        return sql_keyword_is(main, "SELECT") || sql_keyword_is(main, "VALUES");
    }
    if (sql_keyword_is(first, "PRAGMA")) return sql.find('=') == std::string_view::npos;
    return false;
}

/// BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE: never part of an N+1 pattern.
constexpr bool is_transaction_control(std::string_view sql) noexcept {
    const std::string_view first = first_sql_keyword(sql);
    for (std::string_view k : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
        if (sql_keyword_is(first, k)) return true;
    return false;
}

}  // namespace loom::detail
