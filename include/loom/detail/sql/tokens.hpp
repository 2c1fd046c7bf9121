// The pieces a condition or a value expression is made of before it becomes SQL: text, column
// references (possibly across relations, resolved to table aliases when rendered, possibly of an
// enclosing query), bound values, key lists (bound as one array parameter when long, if the
// engine can), nodes that render themselves (subqueries), and brackets around a text test whose
// SQL the engine's dialect writes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../../types.hpp"
#include "../config.hpp"
#include "../engine/engine.hpp"

namespace loom::detail {

/// One hop from one table to another.
struct JoinStep {
    JoinStep() = default;
    LOOM_OUT_OF_LINE_VALUE(JoinStep);  // copied and destroyed in impl/tokens.hpp

    std::string fk_column;  // forward: quoted key column on the table we come from
    std::string table;      // quoted target table
    std::string pk;         // quoted target primary key
    enum Kind { forward, reverse_one, many } kind = forward;
    bool nullable = false;  // the hop may find no row (a NULL key, or a missing reverse row)
    // reverse_one and many: the target rows that point at the row we come from.
    std::string src_key;  // quoted column of the table we come from (its primary key)
    std::string dst_fk;   // quoted column of the target holding src_key (no join table)
    std::string through;  // many-to-many: quoted join table, its column pointing at the row
    std::string through_src, through_dst;  // we come from, and the one pointing at the target
    std::string name;                      // "Post::tags", for messages
    std::string target;                    // the target model's name ("Tag")

    /// What identifies the hop (two columns naming the same hop share one alias).
    std::string key() const;
};

struct ColumnRef {
    ColumnRef() = default;
    LOOM_OUT_OF_LINE_VALUE(ColumnRef);  // copied and destroyed in impl/tokens.hpp

    std::vector<JoinStep> path;  // empty: a column of the queried model
    std::string column;          // quoted
    int outer = 0;               // loom::outer: a column of the query `outer` levels out
    std::string model;           // loom::outer: the model it names (checked when rendered)
};

class Renderer;

/// A piece of SQL that renders itself: a subquery, or a subquery made from a to-many path.
/// `hop` counts the subqueries it was moved into after it was made (its correlation, and its
/// outer references, are that many levels further out).
struct SqlNode {
    virtual ~SqlNode() = default;
    virtual void render(Renderer& r, int hop, std::string& sql,
                        std::vector<Value>& params) const = 0;
};

using engine::TextTest;

struct Token {
    enum Kind {
        text,
        column,
        param,
        key_list,
        subquery,
        test_begin,
        test_end,
        json_begin,
        json_end
    };
    Token() = default;
    LOOM_OUT_OF_LINE_VALUE(Token);  // copied and destroyed in impl/tokens.hpp
    explicit Token(Kind k) : kind(k) {}

    Kind kind = text;
    std::string sql;                 // text
    ColumnRef col;                   // column
    Value value;                     // param; test_end: the value tested against
    std::vector<std::int64_t> keys;  // key_list: rendered " IN (?, ?, ...)" or as one array
    bool negated = false;            // key_list: NOT IN
    std::shared_ptr<const SqlNode> node;
    int hop = 0;                         // node: see SqlNode
    TextTest test = TextTest::contains;  // test_end
    std::vector<std::string> path;       // json_end: the key path (Dialect::json_extract)
};

using Tokens = std::vector<Token>;

LOOM_DECL void append(Tokens& t, std::string s);
LOOM_DECL void append(Tokens& t, const char* s);
LOOM_DECL void append(Tokens& t, const ColumnRef& c);
LOOM_DECL void append(Tokens& t, Value v);
LOOM_DECL void append(Tokens& t, std::vector<std::int64_t> keys);
LOOM_DECL void append(Tokens& t, std::shared_ptr<const SqlNode> node);
LOOM_DECL void append(Tokens& t, const Tokens& more);

/// `what` tested against `value` by the dialect's SQL for `test`.
LOOM_DECL void append_text_test(Tokens& t, const Tokens& what, TextTest test, std::string value);

/// The JSON value at `path` of the JSON text `what` (Dialect::json_extract writes the SQL).
LOOM_DECL void append_json_path(Tokens& t, const Tokens& what, std::vector<std::string> path);

/// The column when `t` is exactly one column of the queried model, else null.
LOOM_DECL const ColumnRef* plain_column(const Tokens& t) noexcept;

/// A typed value's SQL: a column, arithmetic, an aggregate or a subquery.
struct ValueExpr {
    ValueExpr() = default;
    LOOM_OUT_OF_LINE_VALUE(ValueExpr);  // copied and destroyed in impl/tokens.hpp

    Tokens tokens;
    bool nullable = false;   // may be NULL (a std::optional member, a nullable hop, an aggregate)
    bool aggregate = false;  // COUNT(*), SUM(...)...: only in aggregate(), values_list, having()
    std::string many;        // the first to-many hop it crosses ("Post::tags"), if any
};

/// One ORDER BY term.
struct OrderSpec {
    ValueExpr expr;
    bool descending = false;
    int nulls = 0;  // 0: the engine's default; -1: NULLS FIRST; 1: NULLS LAST
};

}  // namespace loom::detail

LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::JoinStep>);
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::Token>);
LOOM_EXTERN_TEMPLATE(class std::vector<loom::detail::OrderSpec>);

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/tokens.hpp"
#endif
