// The definitions of tokens.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail {

LOOM_DEFAULT_VALUE(JoinStep);
LOOM_DEFAULT_VALUE(ColumnRef);
LOOM_DEFAULT_VALUE(Token);
LOOM_DEFAULT_VALUE(ValueExpr);

LOOM_DECL std::string JoinStep::key() const {
    return std::to_string(static_cast<int>(kind)) + fk_column + '>' + table + '|' + dst_fk + '|' +
           through + '|' + through_src + '|';
}

LOOM_DECL void append(Tokens& t, std::string s) {
    Token k{Token::text};
    k.sql = std::move(s);
    t.push_back(std::move(k));
}

LOOM_DECL void append(Tokens& t, const char* s) {
    append(t, std::string(s));
}

LOOM_DECL void append(Tokens& t, const ColumnRef& c) {
    Token k{Token::column};
    k.col = c;
    t.push_back(std::move(k));
}

LOOM_DECL void append(Tokens& t, Value v) {
    Token k{Token::param};
    k.value = std::move(v);
    t.push_back(std::move(k));
}

LOOM_DECL void append(Tokens& t, std::vector<std::int64_t> keys) {
    Token k{Token::key_list};
    k.keys = std::move(keys);
    t.push_back(std::move(k));
}

LOOM_DECL void append(Tokens& t, std::shared_ptr<const SqlNode> node) {
    Token k{Token::subquery};
    k.node = std::move(node);
    t.push_back(std::move(k));
}

LOOM_DECL void append(Tokens& t, const Tokens& more) {
    // Not t.insert(t.end(), ...): vector's range insert is constexpr in C++20, and instantiating
    // it for Token (copy, move_backward, uninitialized copy) cost every TU ~0.3 s of parsing.
    t.reserve(t.size() + more.size());
    for (const Token& k : more) t.push_back(k);
}

LOOM_DECL void append_text_test(Tokens& t, const Tokens& what, TextTest test, std::string value) {
    t.push_back(Token{Token::test_begin});
    append(t, what);
    Token end{Token::test_end};
    end.value = std::move(value);
    end.test = test;
    t.push_back(std::move(end));
}

LOOM_DECL void append_json_path(Tokens& t, const Tokens& what, std::vector<std::string> path) {
    t.push_back(Token{Token::json_begin});
    append(t, what);
    Token end{Token::json_end};
    end.path = std::move(path);
    t.push_back(std::move(end));
}

LOOM_DECL const ColumnRef* plain_column(const Tokens& t) noexcept {
    if (t.size() != 1 || t[0].kind != Token::column) return nullptr;
    const ColumnRef& c = t[0].col;
    return c.path.empty() && c.outer == 0 ? &c : nullptr;
}

}  // namespace loom::detail
