// Renderer: turns tokens into SQL text and parameters, assigning table aliases to join paths
// (t0 is the queried table) and writing the LEFT JOINs they need; and the one way a column is
// tested against a list of keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../session.hpp"
#include "tokens.hpp"

namespace loom::detail {

/// Appends `(?, ?, ...)` with one parameter per key, or the dialect's array form with one
/// parameter for all of them.
inline void append_key_list(std::string& sql, std::vector<Value>& params,
                            std::span<const std::int64_t> keys, Session* session, bool array) {
    if (array && session) {
        sql += session->dialect().key_array;
        params.emplace_back(session->connection().key_array(keys));
        return;
    }
    sql += '(';
    for (std::size_t i = 0; i < keys.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.emplace_back(keys[i]);
    }
    sql += ')';
}

class Renderer {
public:
    /// `session` decides how long key lists are bound; without one (comparing two queries'
    /// SQL) they are always parameter lists.
    explicit Renderer(Session* session = nullptr) : session_(session) {}

    std::string alias_for(const std::vector<JoinStep>& path) {
        std::string parent = "t0", key;
        for (const auto& step : path) {
            key += step.fk_column;
            key += '>';
            key += step.table;
            key += '|';
            std::string alias;
            for (const auto& [k, a] : aliases_)
                if (k == key) alias = a;
            if (alias.empty()) {
                alias = "t" + std::to_string(aliases_.size() + 1);
                aliases_.emplace_back(key, alias);
                joins_ += " LEFT JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                          step.pk + " = " + parent + "." + step.fk_column;
            }
            parent = alias;
        }
        return parent;
    }
    std::string column(const ColumnRef& c) { return alias_for(c.path) + "." + c.column; }

    void render(const Tokens& tokens, std::string& sql, std::vector<Value>& params) {
        for (const auto& t : tokens) {
            switch (t.kind) {
                case Token::text: sql += t.sql; break;
                case Token::column: sql += column(t.col); break;
                case Token::param:
                    sql += '?';
                    params.push_back(t.value);
                    break;
                case Token::key_list:
                    append_key_list(sql, params, t.keys, session_,
                                    session_ && t.keys.size() > session_->key_array_above());
                    break;
            }
        }
    }
    const std::string& joins() const noexcept { return joins_; }
    Session* session() const noexcept { return session_; }

private:
    Session* session_;
    std::vector<std::pair<std::string, std::string>> aliases_;
    std::string joins_;
};

}  // namespace loom::detail
