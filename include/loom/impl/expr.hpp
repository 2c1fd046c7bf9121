// The definitions of expr.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of expr.hpp only.
#pragma once

namespace loom {

LOOM_DECL detail::ValueExpr detail::column_expr(std::string_view column, bool nullable,
                                                const std::string& model) {
    if (column.empty())
        throw UsageError("loom::col: this member of " + model +
                         " is not declared in its descriptor");
    ColumnRef c;
    c.column = quote(column);
    ValueExpr e;
    append(e.tokens, c);
    e.nullable = nullable;
    return e;
}

LOOM_DECL detail::ValueExpr detail::binary(const ValueExpr& a, const char* op, const ValueExpr& b) {
    ValueExpr e;
    append(e.tokens, "(");
    append(e.tokens, a.tokens);
    append(e.tokens, op);
    append(e.tokens, b.tokens);
    append(e.tokens, ")");
    e.nullable = a.nullable || b.nullable;
    e.aggregate = a.aggregate || b.aggregate;
    e.many = a.many.empty() ? b.many : a.many;
    return e;
}

LOOM_DECL detail::ValueExpr detail::bound(Value v) {
    ValueExpr e;
    append(e.tokens, std::move(v));
    return e;
}

LOOM_DECL Column<void, std::int64_t> count() {
    detail::ValueExpr e;
    detail::append(e.tokens, "COUNT(*)");
    e.aggregate = true;
    return detail::make_column<void, std::int64_t>(std::move(e));
}

}  // namespace loom
