// The definitions of select.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

#include <limits>

namespace loom::detail {

LOOM_DECL SelectParts::SelectParts() = default;
LOOM_DECL SelectParts::~SelectParts() = default;
LOOM_DECL SelectParts::SelectParts(SelectParts&&) noexcept = default;
LOOM_DECL SelectParts& SelectParts::operator=(SelectParts&&) noexcept = default;

LOOM_DECL void assemble(const SelectParts& p, const Bounds& b, SqlText& q) {
    auto add = [&q](const std::vector<Value>& v) {
        q.params.insert(q.params.end(), v.begin(), v.end());
    };
    const std::string lead = p.lead.empty() ? std::string() : p.lead + ", ";
    const std::string from = " FROM " + p.from + p.joins;
    if (p.per_parent_slice) {
        q.sql = "SELECT * FROM (SELECT " + std::string(p.distinct ? "DISTINCT " : "") + lead +
                p.columns + ", ROW_NUMBER() OVER (PARTITION BY " + p.lead + " ORDER BY " + p.order +
                ") AS loom_rn" + from + p.where +
                ") AS loom_w WHERE loom_rn > ? AND loom_rn <= ? ORDER BY loom_rn";
        add(p.column_params);
        add(p.order_params);
        add(p.where_params);
        q.params.push_back(b.lo);
        q.params.push_back(b.hi.value_or(std::numeric_limits<std::int64_t>::max()));
        return;
    }
    q.sql =
        "SELECT " + std::string(p.distinct ? "DISTINCT " : "") + lead + p.columns + from + p.where;
    if (!p.group_by.empty()) q.sql += " GROUP BY " + p.group_by;
    q.sql += p.having;
    // A to-many level orders by the parent key first: each parent's list keeps the QuerySet's
    // order, and the engine walks the key's index in that order instead of sorting every row.
    if (!p.order.empty())
        q.sql += " ORDER BY " + (p.lead.empty() ? p.order : p.lead + " ASC, " + p.order);
    add(p.column_params);
    add(p.where_params);
    add(p.having_params);
    add(p.order_params);
}

LOOM_DECL void explain_into(Session& s, const SqlText& q, std::vector<std::string>& out,
                            const std::string& prefix) {
    const auto& d = s.dialect();
    s.run(
        std::string(d.explain_prefix) + q.sql, Session::bind_all(q.params),
        [&](const Statement& st) {
            out.push_back(prefix + std::string(st.column_text(d.explain_column)));
        },
        "explain");
}

}  // namespace loom::detail
