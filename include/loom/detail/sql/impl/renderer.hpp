// The definitions of renderer.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail {

LOOM_DECL void append_key_list(std::string& sql, std::vector<Value>& params,
                               std::span<const std::int64_t> keys, Session* session, bool array,
                               bool negated) {
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

LOOM_DECL void append_key_list(std::string& sql, std::vector<Value>& params,
                               std::span<const Value> keys, Session* session, bool array) {
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

LOOM_DECL Renderer::Renderer(Session* session, std::string model)
    : session_(session), model_(std::move(model)) {}

LOOM_DECL Renderer::Renderer(Session* session, Renderer* outer, int depth, std::string model)
    : session_(session), outer_(outer), depth_(depth), model_(std::move(model)) {
    prefix_ = depth < 4 ? std::string(1, "tuvw"[depth]) : "s" + std::to_string(depth) + "_";
}

LOOM_DECL Renderer::~Renderer() = default;
LOOM_DECL Renderer::Renderer(const Renderer&) = default;
LOOM_DECL Renderer::Renderer(Renderer&&) noexcept = default;
LOOM_DECL Renderer& Renderer::operator=(const Renderer&) = default;
LOOM_DECL Renderer& Renderer::operator=(Renderer&&) noexcept = default;

LOOM_DECL Renderer Renderer::sibling() const {
    return Renderer(session_, outer_, depth_ + 1, model_);
}

LOOM_DECL std::string Renderer::root() const {
    return root_.empty() ? prefix_ + "0" : root_;
}

LOOM_DECL void Renderer::set_root(std::string alias) {
    root_ = std::move(alias);
}

LOOM_DECL std::string Renderer::through_alias() const {
    return prefix_ + "j";
}

LOOM_DECL Renderer& Renderer::up(int n) {
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

LOOM_DECL std::string Renderer::alias_for(const std::vector<JoinStep>& path) {
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
                              step.through_src + " = " + parent + "." + step.src_key + " JOIN " +
                              step.table + " AS " + alias + " ON " + alias + "." + step.pk + " = " +
                              j + "." + step.through_dst;
                }
                break;
            }
        }
        parent = alias;
    }
    return parent;
}

LOOM_DECL std::string Renderer::column(const ColumnRef& c) {
    if (c.outer == 0) return alias_for(c.path) + "." + c.column;
    Renderer& r = up(c.outer);
    if (!c.model.empty() && !r.model_.empty() && c.model != r.model_)
        throw UsageError("loom::outer: the column belongs to " + c.model +
                         ", but the enclosing query is over " + r.model_);
    return r.alias_for(c.path) + "." + c.column;
}

LOOM_DECL void Renderer::render(const Tokens& tokens, std::string& sql,
                                std::vector<Value>& params) {
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
                session_->dialect().json_extract(operand, t.path, json_use(tokens, i), path, sql);
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
                sql +=
                    "text_test" + std::to_string(static_cast<int>(t.test)) + "(" + operand + ", ?)";
                params.emplace_back(std::move(value));
            }
            break;
        }
        }
    }
}

LOOM_DECL engine::JsonUse Renderer::json_use(const Tokens& tokens, std::size_t i) {
    if (i + 1 < tokens.size() && tokens[i + 1].kind == Token::key_list)
        return engine::JsonUse::number;
    if (i + 2 >= tokens.size() || tokens[i + 1].kind != Token::text) return engine::JsonUse::any;
    const Token& next = tokens[i + 2];
    if (next.kind != Token::param) return engine::JsonUse::any;
    if (std::holds_alternative<std::string>(next.value)) return engine::JsonUse::text;
    if (std::holds_alternative<std::int64_t>(next.value) ||
        std::holds_alternative<double>(next.value))
        return engine::JsonUse::number;
    return engine::JsonUse::any;
}

}  // namespace loom::detail
