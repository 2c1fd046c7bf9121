// Renderer: turns tokens into SQL text and parameters, assigning table aliases to join paths
// (t0 is the queried table; a subquery nested one level deeper uses u0, u1..., the next v0...)
// and writing the JOINs they need; resolving loom::outer columns in the enclosing queries; and
// the one way a column is tested against a list of keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "../../errors.hpp"
#include "../session.hpp"
#include "../std_light.hpp"
#include "tokens.hpp"

namespace loom::detail {

/// Appends ` IN (?, ?, ...)` (` NOT IN` when `negated`) with one parameter per key, or the
/// dialect's test against one array parameter holding all of them (` = ANY(?::bigint[])`).
inline void append_key_list(std::string& sql, std::vector<Value>& params,
                            std::span<const std::int64_t> keys, Session* session, bool array,
                            bool negated = false) {
    if (array && session && session->dialect().key_array_test) {
        session->dialect().key_array_test(false, negated, sql);
        params.emplace_back(session->connection().key_array(keys));
        return;
    }
    sql += negated ? " NOT IN (" : " IN (";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.emplace_back(keys[i]);
    }
    sql += ')';
}

/// The same for keys of any type: text keys (each a std::string Value) may be one array
/// parameter; other keys are bound one by one.
inline void append_key_list(std::string& sql, std::vector<Value>& params,
                            std::span<const Value> keys, Session* session = nullptr,
                            bool array = false) {
    const bool text = std::all_of(keys.begin(), keys.end(), [](const Value& v) {
        return std::holds_alternative<std::string>(v);
    });
    if (array && text && session && session->dialect().key_array_test) {
        std::vector<std::string> texts;
        texts.reserve(keys.size());
        for (const Value& v : keys) texts.push_back(std::get<std::string>(v));
        session->dialect().key_array_test(true, false, sql);
        params.emplace_back(session->connection().key_array(std::span<const std::string>(texts)));
        return;
    }
    sql += " IN (";
    for (std::size_t i = 0; i < keys.size(); ++i) {
        sql += i ? ", ?" : "?";
        params.push_back(keys[i]);
    }
    sql += ')';
}

class Renderer {
public:
    /// `session` decides how long key lists are bound and writes the engine's text tests;
    /// without one (comparing two queries' SQL) key lists are always parameter lists.
    explicit Renderer(Session* session = nullptr, std::string model = {})
        : session_(session), model_(std::move(model)) {}
    /// The renderer of a subquery written inside another query's SQL, `depth` levels deep:
    /// its own aliases, loom::outer columns resolved by `outer`, whose root model is
    /// `outer`'s... and `model` the name of this query's root model.
    Renderer(Session* session, Renderer* outer, int depth, std::string model)
        : session_(session), outer_(outer), depth_(depth), model_(std::move(model)) {
        prefix_ = depth < 4 ? std::string(1, "tuvw"[depth]) : "s" + std::to_string(depth) + "_";
    }

    /// A renderer for a subquery of this query that belongs to the same level (its outer
    /// columns are this query's).
    Renderer sibling() const { return Renderer(session_, outer_, depth_ + 1, model_); }

    /// Aliases of the root table and of the join table of a many-to-many subquery.
    std::string root() const { return root_.empty() ? prefix_ + "0" : root_; }
    /// Names the root table by `alias` instead (an UPDATE's own table).
    void set_root(std::string alias) { root_ = std::move(alias); }
    std::string through_alias() const { return prefix_ + "j"; }
    int depth() const noexcept { return depth_; }
    const std::string& model() const noexcept { return model_; }
    /// Renders to-many hops as inner JOINs (inside an aggregate subquery); elsewhere a to-many
    /// hop in a column is a UsageError (it would repeat rows).
    void allow_many(bool on) noexcept { allow_many_ = on; }

    /// The renderer `n` queries out (0: this one).
    Renderer& up(int n) {
        Renderer* r = this;
        for (int i = 0; i < n; ++i) {
            if (!r->outer_)
                throw UsageError(
                    "loom::outer: the column names an enclosing query, but the "
                    "query it is used in is not a subquery (use it inside "
                    "loom::exists(...), in(...) or loom::scalar(...))");
            r = r->outer_;
        }
        return *r;
    }

    std::string alias_for(const std::vector<JoinStep>& path) {
        std::string parent = root(), key;
        for (const auto& step : path) {
            key += step.key();
            std::string alias;
            for (const auto& [k, a] : aliases_)
                if (k == key) alias = a;
            if (alias.empty()) {
                alias = prefix_ + std::to_string(aliases_.size() + 1);
                aliases_.emplace_back(key, alias);
                switch (step.kind) {
                case JoinStep::forward:
                    joins_ += " LEFT JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                              step.pk + " = " + parent + "." + step.fk_column;
                    break;
                case JoinStep::reverse_one:
                    joins_ += " LEFT JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                              step.dst_fk + " = " + parent + "." + step.src_key;
                    break;
                case JoinStep::many:
                    if (!allow_many_)
                        throw UsageError(
                            "loom::col: " + step.name +
                            " is a to-many relation: here it would repeat each row once per "
                            "related row; filter on it (a condition becomes EXISTS), or "
                            "aggregate it (loom::count(&" +
                            step.name + "), loom::sum(...))");
                    if (step.through.empty()) {
                        joins_ += " JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                                  step.dst_fk + " = " + parent + "." + step.src_key;
                    } else {
                        const std::string j = alias + "j";
                        joins_ += " JOIN " + step.through + " AS " + j + " ON " + j + "." +
                                  step.through_src + " = " + parent + "." + step.src_key +
                                  " JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                                  step.pk + " = " + j + "." + step.through_dst;
                    }
                    break;
                }
            }
            parent = alias;
        }
        return parent;
    }
    std::string column(const ColumnRef& c) {
        if (c.outer == 0) return alias_for(c.path) + "." + c.column;
        Renderer& r = up(c.outer);
        if (!c.model.empty() && !r.model_.empty() && c.model != r.model_)
            throw UsageError("loom::outer: the column belongs to " + c.model +
                             ", but the enclosing query is over " + r.model_);
        return r.alias_for(c.path) + "." + c.column;
    }

    void render(const Tokens& tokens, std::string& sql, std::vector<Value>& params) {
        std::vector<std::size_t> tests;  // where each open text test's operand starts
        for (std::size_t i = 0; i < tokens.size(); ++i) {
            const Token& t = tokens[i];
            switch (t.kind) {
            case Token::text:
                sql += t.sql;
                break;
            case Token::column:
                sql += column(t.col);
                break;
            case Token::param:
                sql += '?';
                params.push_back(t.value);
                break;
            case Token::key_list:
                append_key_list(sql, params, t.keys, session_,
                                session_ && t.keys.size() > session_->key_array_above(), t.negated);
                break;
            case Token::subquery:
                t.node->render(*this, t.hop, sql, params);
                break;
            case Token::test_begin:
            case Token::json_begin:
                tests.push_back(sql.size());
                break;
            case Token::json_end: {
                const std::size_t at = tests.back();
                tests.pop_back();
                const std::string operand = sql.substr(at);
                sql.resize(at);
                std::string path;
                if (session_ && session_->dialect().json_extract) {
                    session_->dialect().json_extract(operand, t.path, json_use(tokens, i), path,
                                                     sql);
                } else {  // no engine: a stable spelling, for comparing queries
                    for (const auto& step : t.path) path += "/" + step;
                    sql += "json_path(" + operand + ", ?)";
                }
                params.emplace_back(std::move(path));
                break;
            }
            case Token::test_end: {
                // The operand's SQL was written in place (its parameters, if any, are
                // already in order: the dialect writes the operand before the value).
                const std::size_t at = tests.back();
                tests.pop_back();
                const std::string operand = sql.substr(at);
                sql.resize(at);
                std::string value = std::get<std::string>(t.value);
                if (session_ && session_->dialect().text_test) {
                    if (session_->dialect().text_test(t.test, operand, value, sql))
                        params.emplace_back(std::move(value));
                } else {  // no engine: a stable spelling, for comparing queries
                    sql += "text_test" + std::to_string(static_cast<int>(t.test)) + "(" + operand +
                           ", ?)";
                    params.emplace_back(std::move(value));
                }
                break;
            }
            }
        }
    }
    /// What the JSON path ending at tokens[i] is compared with: the value of the parameter
    /// (or key list) right after its operator (`= ?`, `IN (?, ...)`, `BETWEEN ? AND ?`).
    static engine::JsonUse json_use(const Tokens& tokens, std::size_t i) {
        if (i + 1 < tokens.size() && tokens[i + 1].kind == Token::key_list)
            return engine::JsonUse::number;
        if (i + 2 >= tokens.size() || tokens[i + 1].kind != Token::text)
            return engine::JsonUse::any;
        const Token& next = tokens[i + 2];
        if (next.kind != Token::param) return engine::JsonUse::any;
        if (std::holds_alternative<std::string>(next.value)) return engine::JsonUse::text;
        if (std::holds_alternative<std::int64_t>(next.value) ||
            std::holds_alternative<double>(next.value))
            return engine::JsonUse::number;
        return engine::JsonUse::any;
    }
    const std::string& joins() const noexcept { return joins_; }
    Session* session() const noexcept { return session_; }

private:
    Session* session_;
    Renderer* outer_ = nullptr;
    int depth_ = 0;
    std::string prefix_ = "t";
    std::string root_;
    std::string model_;
    bool allow_many_ = false;
    std::vector<std::pair<std::string, std::string>> aliases_;
    std::string joins_;
};

}  // namespace loom::detail
