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

LOOM_DECL QueryStateData::QueryStateData() = default;
LOOM_DECL QueryStateData::~QueryStateData() = default;
LOOM_DECL QueryStateData::QueryStateData(const QueryStateData&) = default;
LOOM_DECL QueryStateData::QueryStateData(QueryStateData&&) noexcept = default;
LOOM_DECL QueryStateData& QueryStateData::operator=(const QueryStateData&) = default;
LOOM_DECL QueryStateData& QueryStateData::operator=(QueryStateData&&) noexcept = default;

LOOM_DECL SelectSql::SelectSql(const QueryStateData& st, const ModelMeta& m, Session* session)
    : st_(st), m_(m), r_(session, m.name) {}

LOOM_DECL SelectSql::SelectSql(const QueryStateData& st, const ModelMeta& m, Renderer r)
    : st_(st), m_(m), r_(std::move(r)) {}

LOOM_DECL std::string SelectSql::columns() {
    std::string sel = m_.select_list(r_.root());
    for (auto& sr : st_.select_related) {
        const auto path = sr->path();
        const auto targets = sr->targets();
        std::vector<JoinStep> to;
        for (std::size_t k = 0; k < path.size(); ++k) {
            to.push_back(path[k]);
            sel += ", " + targets[k]->select_list(r_.alias_for(to));
        }
    }
    return sel;
}

LOOM_DECL std::string SelectSql::where(std::vector<Value>& params, const KeyTest* keys) {
    if (!st_.having.empty() && !grouped_)
        throw UsageError(
            "having(): only a grouped values_list reads it (one with an "
            "aggregate such as loom::count() among its columns); filter rows "
            "with filter()");
    std::string out;
    for (const auto& w : st_.where) {
        out += out.empty() ? " WHERE (" : " AND (";
        r_.render(w, out, params);
        out += ")";
    }
    if (keys) {
        out += out.empty() ? " WHERE " : " AND ";
        out += keys->relation->key;
        if (keys->typed)
            append_key_list(out, params, keys->values, r_.session(), keys->array);
        else
            append_key_list(out, params, keys->keys, r_.session(), keys->array);
    }
    return out;
}

LOOM_DECL std::string SelectSql::order(std::vector<Value>& params, bool default_pk) {
    const auto& pk = m_.pk;
    const bool rev = st_.reversed;
    std::string out;
    bool has_pk = false;
    for (const auto& o : st_.order) {
        if (o.expr.aggregate && !grouped_)
            throw UsageError(
                "order_by(): an aggregate (loom::count(), loom::sum()...) orders "
                "the groups of a grouped values_list only; to order rows by a "
                "count of related rows, use loom::count(&Model::relation)");
        if (!out.empty()) out += ", ";
        order_term(o, rev, out, params);
        if (const ColumnRef* c = plain_column(o.expr.tokens); c && c->column == pk) has_pk = true;
    }
    // DISTINCT values: the key is not selected, so it cannot break ties (PostgreSQL refuses
    // an ORDER BY term outside a DISTINCT select list; SQLite picked an arbitrary row's).
    if (!has_pk && !distinct_values_ && (default_pk || !st_.order.empty() || rev)) {
        if (!out.empty()) out += ", ";
        out += r_.root() + "." + pk + (rev ? " DESC" : " ASC");
    }
    return out;
}

LOOM_DECL SqlText SelectSql::select(const std::string& columns, bool ordered,
                                    std::vector<Value> column_params) {
    SqlText q;
    SelectParts p = parts(columns, column_params, nullptr, ordered);
    assemble(p, st_.bounds, q);
    append_limit(q);
    return q;
}

LOOM_DECL SqlText SelectSql::rows() {
    return select(columns());
}

LOOM_DECL SqlText SelectSql::values(const std::vector<ValueExpr>& values, bool ordered) {
    std::vector<Value> params;
    const std::string cols = render_list(values, params);
    distinct_values_ = st_.distinct;
    auto q = select(cols, ordered, std::move(params));
    distinct_values_ = false;
    return q;
}

LOOM_DECL SqlText SelectSql::aggregate(const std::string& what) {
    if (st_.bounds.sliced() || st_.distinct) {
        SqlText inner =
            select(st_.distinct ? columns() : r_.root() + "." + m_.pk, st_.bounds.sliced());
        inner.sql = "SELECT " + what + " FROM (" + inner.sql + ") AS loom_s";
        return inner;
    }
    SqlText q;
    SelectParts p;
    p.columns = what;
    p.from = m_.table + " AS " + r_.root();
    p.where = where(p.where_params);
    p.joins = r_.joins();
    assemble(p, st_.bounds, q);
    return q;
}

LOOM_DECL SqlText SelectSql::aggregates(const std::vector<ValueExpr>& values) {
    SqlText q;
    SelectParts p;
    p.columns = render_list(values, p.column_params);
    p.from = m_.table + " AS " + r_.root();
    if (st_.bounds.sliced()) {
        SelectSql inner(st_, m_, r_.sibling());
        const SqlText keys = inner.keys();
        p.where = " WHERE " + r_.root() + "." + m_.pk + " IN (" + keys.sql + ")";
        p.where_params = keys.params;
    } else {
        p.where = where(p.where_params);
    }
    p.joins = r_.joins();
    assemble(p, Bounds{}, q);
    return q;
}

LOOM_DECL SqlText SelectSql::grouped(const std::vector<ValueExpr>& values) {
    grouped_ = true;
    SqlText q;
    SelectParts p;
    std::vector<std::string> rendered;
    for (const auto& v : values) {
        std::string one;
        r_.render(v.tokens, one, p.column_params);
        rendered.push_back(one);
        if (!p.columns.empty()) p.columns += ", ";
        p.columns += one;
    }
    std::vector<std::size_t> keys;  // 1-based positions of the grouped values
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!values[i].aggregate) {
            keys.push_back(i + 1);
            if (!p.group_by.empty()) p.group_by += ", ";
            p.group_by += std::to_string(i + 1);
        }
    p.from = m_.table + " AS " + r_.root();
    p.where = where(p.where_params);
    for (const auto& h : st_.having) {
        p.having += p.having.empty() ? " HAVING (" : " AND (";
        r_.render(h, p.having, p.having_params);
        p.having += ")";
    }
    const bool rev = st_.reversed;
    std::vector<bool> ordered(values.size() + 1, false);
    for (const auto& o : st_.order) {
        std::string term;
        std::vector<Value> term_params;
        order_term(o, rev, term, term_params);
        std::string bare;
        std::vector<Value> ignored;
        r_.render(o.expr.tokens, bare, ignored);
        std::size_t at = 0;
        for (std::size_t i = 0; i < rendered.size(); ++i)
            if (rendered[i] == bare) at = i + 1;
        if (!o.expr.aggregate && (at == 0 || values[at - 1].aggregate))
            throw UsageError("values_list: the QuerySet is ordered by " + bare +
                             ", which is not one of the grouped values; order by grouped "
                             "values or aggregates (or clear the order with order_by())");
        if (at) ordered[at] = true;
        if (!p.order.empty()) p.order += ", ";
        p.order += term;
        p.order_params.insert(p.order_params.end(), term_params.begin(), term_params.end());
    }
    for (std::size_t k : keys) {
        if (ordered[k]) continue;
        if (!p.order.empty()) p.order += ", ";
        p.order += std::to_string(k) + (rev ? " DESC" : " ASC");
        if (r_.session() && !r_.session()->dialect().nulls_sort_low)
            p.order += rev ? " NULLS LAST" : " NULLS FIRST";
    }
    p.joins = r_.joins();
    assemble(p, st_.bounds, q);
    append_limit(q);
    return q;
}

LOOM_DECL SqlText SelectSql::keys() {
    return select(r_.root() + "." + m_.pk, st_.bounds.sliced());
}

LOOM_DECL SqlText SelectSql::for_keys(const KeyTest& kt) {
    SqlText q;
    const std::string cols = columns();
    SelectParts p = parts(cols, q.params, &kt, !kt.to_one);
    if (!kt.relation->forward) {
        p.lead = kt.relation->key;
        p.per_parent_slice = st_.bounds.sliced();
    }
    assemble(p, st_.bounds, q);
    return q;
}

LOOM_DECL SqlText SelectSql::count_for_keys(const KeyTest& kt) {
    return aggregate_for_keys(kt, "COUNT(*)");
}

LOOM_DECL SqlText SelectSql::aggregate_for_keys(const KeyTest& kt, const std::string& what) {
    SqlText q;
    SelectParts p = parts(kt.relation->key + ", " + what, q.params, &kt, false);
    p.distinct = false;
    p.group_by = kt.relation->key;
    assemble(p, st_.bounds, q);
    return q;
}

LOOM_DECL void SelectSql::order_term(const OrderSpec& o, bool rev, std::string& out,
                                     std::vector<Value>& params) {
    r_.render(o.expr.tokens, out, params);
    out += (o.descending != rev) ? " DESC" : " ASC";
    int nulls = rev ? -o.nulls : o.nulls;
    if (!nulls && r_.session() && !r_.session()->dialect().nulls_sort_low)
        nulls = (o.descending != rev) ? 1 : -1;  // loom's order: NULL is the lowest value
    if (nulls) out += nulls < 0 ? " NULLS FIRST" : " NULLS LAST";
}

LOOM_DECL SelectParts SelectSql::parts(const std::string& columns, std::vector<Value>& params,
                                       const KeyTest* kt, bool ordered) {
    SelectParts p;
    p.distinct = st_.distinct;
    p.columns = columns;
    p.column_params = std::move(params);
    params.clear();
    p.from = m_.table + " AS " + r_.root() + (kt ? kt->relation->join : std::string());
    p.where = where(p.where_params, kt);
    if (ordered) p.order = order(p.order_params, true);
    p.joins = r_.joins();
    return p;
}

LOOM_DECL std::string SelectSql::render_list(const std::vector<ValueExpr>& values,
                                             std::vector<Value>& params) {
    std::string out;
    for (const auto& v : values) {
        if (!out.empty()) out += ", ";
        r_.render(v.tokens, out, params);
    }
    return out;
}

LOOM_DECL void SelectSql::append_limit(SqlText& q) const {
    const auto& b = st_.bounds;
    if (!b.sliced()) return;
    q.sql += " LIMIT ? OFFSET ?";
    // No upper bound: -1 on SQLite, NULL where a negative LIMIT is an error (PostgreSQL).
    if (b.hi)
        q.params.push_back(*b.hi - b.lo);
    else if (r_.session() && r_.session()->dialect().limit_null_is_all)
        q.params.push_back(Value{nullptr});
    else
        q.params.push_back(std::int64_t{-1});
    q.params.push_back(b.lo);
}

LOOM_DECL RelatedReaders::RelatedReaders(const QueryStateData& st, std::size_t columns) {
    int c = static_cast<int>(columns);
    for (const auto& sr : st.select_related) {
        readers.push_back(sr->reader());
        offsets.push_back(c);
        c += static_cast<int>(sr->column_count());
    }
}

LOOM_DECL RelatedReaders::~RelatedReaders() = default;

}  // namespace loom::detail
