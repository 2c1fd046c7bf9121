// The SQL builder: a QuerySet's state (QueryState) and the one SELECT builder every query is
// written by: a QuerySet's rows, counts, existence tests, key subqueries and value lists, a
// prefetch level's rows and counts, and a chunk of a chunked iteration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../config.hpp"
#include "../meta/joins.hpp"
#include "../prefetch/node.hpp"
#include "../std_light.hpp"
#include "condition.hpp"
#include "renderer.hpp"
#include "select_related.hpp"

namespace loom::detail {

/// "[lo, hi)" slice bounds relative to the whole result.
struct Bounds {
    std::int64_t lo = 0;
    std::optional<std::int64_t> hi;
    bool sliced() const { return lo != 0 || hi.has_value(); }
};

/// Everything a QuerySet<T> says about its query. Immutable once shared.
template <class T> struct QueryState {
    std::vector<Tokens> where;   // lowered conditions (no column crosses a to-many hop)
    std::vector<Tokens> having;  // conditions on the groups of a grouped values_list
    std::vector<OrderSpec> order;
    bool reversed = false;
    Bounds bounds;
    bool distinct = false;
    std::vector<std::shared_ptr<const SelectRelatedBase<T>>> select_related;
    PrefetchList<T> prefetch;
};

/// Reads one object, and the objects its select_related members join, from a row.
template <class T> struct RowReader {
    std::vector<SelectReaderPtr<T>> readers;  // one type for every model
    std::vector<int> offsets;

    explicit RowReader(const QueryState<T>& st) {
        int c = static_cast<int>(meta<T>().column_count());
        for (auto& sr : st.select_related) {
            readers.push_back(sr->reader());
            offsets.push_back(c);
            c += static_cast<int>(sr->column_count());
        }
    }
    void operator()(const Statement& s, int first, T& obj) {
        read_object(s, first, obj);
        for (std::size_t i = 0; i < readers.size(); ++i)
            readers[i]->read(s, first + offsets[i], &obj);
    }
};

/// The keys a prefetch level (or count) asks for: `relation.key IN (...)`.
struct KeyTest {
    const RelationJoin* relation = nullptr;
    std::span<const std::int64_t> keys;
    bool array = false;   // bound as one array parameter
    bool to_one = false;  // a to-one level: each parent gets at most one row, in no order
    /// Keys of another type than std::int64_t (text keys...), bound one parameter each; used
    /// instead of `keys` when `typed` is set.
    std::span<const Value> values = {};
    bool typed = false;
};

/// The pieces of one SELECT, assembled in one place, each clause with its own parameters
/// (assemble puts them in the order the SQL text needs).
struct SelectParts {
    bool distinct = false;
    std::string lead;  // selected first: a to-many prefetch level's parent key
    std::string columns;
    std::string from;   // "<table> AS t0" and any join table
    std::string joins;  // the renderer's LEFT JOINs
    std::string where;  // " WHERE ..." or empty
    std::string group_by;
    std::string having;             // " HAVING ..." or empty
    std::string order;              // ORDER BY terms, or empty
    bool per_parent_slice = false;  // a ROW_NUMBER() window over `lead`, sliced by bounds
    std::vector<Value> column_params, where_params, having_params, order_params;

    // Defined in impl/: the members' destructors are not compiled in every SelectBuilder<T>.
    SelectParts();
    ~SelectParts();
    SelectParts(SelectParts&&) noexcept;
    SelectParts& operator=(SelectParts&&) noexcept;
};

LOOM_DECL void assemble(const SelectParts& p, const Bounds& b, SqlText& q);

/// Writes the queries of one QuerySet state.
template <class T> class SelectBuilder {
public:
    SelectBuilder(const QueryState<T>& st, Session* session)
        : st_(st), r_(session, meta<T>().name) {}
    /// A subquery's builder: `r` has the subquery's aliases and knows the enclosing queries.
    SelectBuilder(const QueryState<T>& st, Renderer r) : st_(st), r_(std::move(r)) {}

    Renderer& renderer() noexcept { return r_; }

    /// `t0.c1, ...` and the columns of every select_related level.
    std::string columns() {
        std::string sel = meta<T>().select_list(r_.root());
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
    /// The WHERE clause of the filters (and the key test), parameters appended to `params`.
    std::string where(std::vector<Value>& params, const KeyTest* keys = nullptr) {
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
    /// The ORDER BY terms: the given order, ties (and no order at all, with default_pk) broken
    /// by the primary key.
    std::string order(std::vector<Value>& params, bool default_pk = true) {
        const auto& pk = meta<T>().pk;
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
            if (const ColumnRef* c = plain_column(o.expr.tokens); c && c->column == pk)
                has_pk = true;
        }
        // DISTINCT values: the key is not selected, so it cannot break ties (PostgreSQL refuses
        // an ORDER BY term outside a DISTINCT select list; SQLite picked an arbitrary row's).
        if (!has_pk && !distinct_values_ && (default_pk || !st_.order.empty() || rev)) {
            if (!out.empty()) out += ", ";
            out += r_.root() + "." + pk + (rev ? " DESC" : " ASC");
        }
        return out;
    }

    /// The rows: `columns` selected in the QuerySet's order, sliced.
    SqlText select(const std::string& columns, bool ordered = true,
                   std::vector<Value> column_params = {}) {
        SqlText q;
        SelectParts p = parts(columns, column_params, nullptr, ordered);
        assemble(p, st_.bounds, q);
        append_limit(q);
        return q;
    }
    SqlText rows() { return select(columns()); }
    /// The given values of each matching row, in the QuerySet's order (values_list, and the
    /// value of a scalar subquery).
    SqlText values(const std::vector<ValueExpr>& values, bool ordered = true) {
        std::vector<Value> params;
        const std::string cols = render_list(values, params);
        distinct_values_ = st_.distinct;
        auto q = select(cols, ordered, std::move(params));
        distinct_values_ = false;
        return q;
    }
    /// `SELECT <what>` over the matching rows (COUNT(*), or 1 for an existence test).
    SqlText aggregate(const std::string& what) {
        if (st_.bounds.sliced() || st_.distinct) {
            SqlText inner = select(st_.distinct ? columns() : r_.root() + "." + meta<T>().pk,
                                   st_.bounds.sliced());
            inner.sql = "SELECT " + what + " FROM (" + inner.sql + ") AS loom_s";
            return inner;
        }
        SqlText q;
        SelectParts p;
        p.columns = what;
        p.from = meta<T>().table + " AS " + r_.root();
        p.where = where(p.where_params);
        p.joins = r_.joins();
        assemble(p, st_.bounds, q);
        return q;
    }
    /// aggregate(): the given aggregates over the matching rows (of the slice, when sliced),
    /// one row.
    SqlText aggregates(const std::vector<ValueExpr>& values) {
        SqlText q;
        SelectParts p;
        p.columns = render_list(values, p.column_params);
        p.from = meta<T>().table + " AS " + r_.root();
        if (st_.bounds.sliced()) {
            SelectBuilder inner(st_, r_.sibling());
            const SqlText keys = inner.keys();
            p.where = " WHERE " + r_.root() + "." + meta<T>().pk + " IN (" + keys.sql + ")";
            p.where_params = keys.params;
        } else {
            p.where = where(p.where_params);
        }
        p.joins = r_.joins();
        assemble(p, Bounds{}, q);
        return q;
    }
    /// A grouped values_list: the values of each group of matching rows, grouped by the
    /// values that are not aggregates, filtered by having(), in the QuerySet's order (which
    /// may name only grouped values and aggregates), ties broken by the grouped values.
    SqlText grouped(const std::vector<ValueExpr>& values) {
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
        p.from = meta<T>().table + " AS " + r_.root();
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
    /// The primary keys of the matching rows (for UPDATE/DELETE ... WHERE pk IN (...)).
    SqlText keys() { return select(r_.root() + "." + meta<T>().pk, st_.bounds.sliced()); }

    /// A prefetch level: the target rows (this state's) for the parents' keys; a to-many level
    /// leads with the parent key, and a slice becomes a per-parent ROW_NUMBER() window. A
    /// to-one level has no ORDER BY (each parent gets at most one row).
    SqlText for_keys(const KeyTest& kt) {
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
    /// annotate_count: `SELECT <parent key>, COUNT(*) ... GROUP BY <parent key>`.
    SqlText count_for_keys(const KeyTest& kt) { return aggregate_for_keys(kt, "COUNT(*)"); }
    /// annotate_count/sum/avg/min/max: `SELECT <parent key>, <what> ... GROUP BY <parent key>`.
    SqlText aggregate_for_keys(const KeyTest& kt, const std::string& what) {
        SqlText q;
        SelectParts p = parts(kt.relation->key + ", " + what, q.params, &kt, false);
        p.distinct = false;
        p.group_by = kt.relation->key;
        assemble(p, st_.bounds, q);
        return q;
    }

    /// A chunk of chunks(n): `extra(params)` columns appended to the select list, the rows
    /// after the last one read (`after(params)`, rendered with renderer()), at most `limit`
    /// rows.
    template <class Extra, class After>
    SqlText chunk(Extra&& extra, After&& after, std::int64_t limit, std::int64_t offset) {
        SqlText q;
        SelectParts p;
        p.distinct = st_.distinct;
        p.columns = columns();
        p.columns += extra(p.column_params);
        p.from = meta<T>().table + " AS " + r_.root();
        p.where = where(p.where_params);
        const std::string more = after(p.where_params);
        if (!more.empty()) p.where += (p.where.empty() ? " WHERE (" : " AND (") + more + ")";
        p.order = order(p.order_params, true);
        p.joins = r_.joins();
        assemble(p, st_.bounds, q);
        q.sql += " LIMIT ?";
        q.params.push_back(limit);
        if (offset > 0) {
            q.sql += " OFFSET ?";
            q.params.push_back(offset);
        }
        return q;
    }

    /// One ORDER BY term as written (reversed by reverse(), with its NULLS placement).
    void order_term(const OrderSpec& o, bool rev, std::string& out, std::vector<Value>& params) {
        r_.render(o.expr.tokens, out, params);
        out += (o.descending != rev) ? " DESC" : " ASC";
        int nulls = rev ? -o.nulls : o.nulls;
        if (!nulls && r_.session() && !r_.session()->dialect().nulls_sort_low)
            nulls = (o.descending != rev) ? 1 : -1;  // loom's order: NULL is the lowest value
        if (nulls) out += nulls < 0 ? " NULLS FIRST" : " NULLS LAST";
    }

private:
    bool distinct_values_ = false;
    /// `params`: the parameters of `columns`, moved into the parts.
    SelectParts parts(const std::string& columns, std::vector<Value>& params, const KeyTest* kt,
                      bool ordered) {
        SelectParts p;
        p.distinct = st_.distinct;
        p.columns = columns;
        p.column_params = std::move(params);
        params.clear();
        p.from = meta<T>().table + " AS " + r_.root() + (kt ? kt->relation->join : std::string());
        p.where = where(p.where_params, kt);
        if (ordered) p.order = order(p.order_params, true);
        p.joins = r_.joins();
        return p;
    }
    std::string render_list(const std::vector<ValueExpr>& values, std::vector<Value>& params) {
        std::string out;
        for (const auto& v : values) {
            if (!out.empty()) out += ", ";
            r_.render(v.tokens, out, params);
        }
        return out;
    }
    void append_limit(SqlText& q) const {
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

    const QueryState<T>& st_;
    Renderer r_;
    bool grouped_ = false;
};

/// A QuerySet used inside another query's SQL: EXISTS (...), a key list for IN (...), or one
/// value (an aggregate over its rows, or the first row's value), correlated with the
/// enclosing query by loom::outer columns.
template <class U> struct StateSubquery final : SqlNode {
    enum Mode { exists, keys, value } mode = exists;
    std::shared_ptr<const QueryState<U>> state;
    ValueExpr selected;  // value

    void render(Renderer& r, int hop, std::string& sql, std::vector<Value>& params) const override {
        Renderer sub(r.session(), &r.up(hop), r.depth() + 1, meta<U>().name);
        SqlText q;
        if (mode == value && !selected.aggregate) {
            QueryState<U> first = *state;  // the first row's value
            first.bounds.hi =
                std::min(first.bounds.hi.value_or(first.bounds.lo + 1), first.bounds.lo + 1);
            q = SelectBuilder<U>(first, std::move(sub)).values({selected});
        } else {
            SelectBuilder<U> b(*state, std::move(sub));
            q = mode == exists ? b.aggregate("1")
                : mode == keys ? b.keys()
                               : b.aggregates({selected});
        }
        sql += (mode == exists ? "EXISTS (" : "(") + q.sql + ")";
        params.insert(params.end(), q.params.begin(), q.params.end());
    }
};

/// The query plan of `q`, one line per step, each after `prefix`.
LOOM_DECL void explain_into(Session& s, const SqlText& q, std::vector<std::string>& out,
                            const std::string& prefix);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/select.hpp"
#endif
