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

/// Everything a QuerySet says about its query. Nothing in it depends on the model, so one type
/// (and its copies and destructor, compiled once: impl/) serves every model. Immutable once
/// shared.
struct QueryStateData {
    std::vector<Tokens> where;   // lowered conditions (no column crosses a to-many hop)
    std::vector<Tokens> having;  // conditions on the groups of a grouped values_list
    std::vector<OrderSpec> order;
    bool reversed = false;
    Bounds bounds;
    bool distinct = false;
    /// The select_related chains, each from the QuerySet's model.
    std::vector<std::shared_ptr<const SelectRelatedChain>> select_related;
    /// The prefetch nodes, each a PrefetchNode of the QuerySet's model.
    NodeList prefetch;

    QueryStateData();
    ~QueryStateData();
    QueryStateData(const QueryStateData&);
    QueryStateData(QueryStateData&&) noexcept;
    QueryStateData& operator=(const QueryStateData&);
    QueryStateData& operator=(QueryStateData&&) noexcept;
};

/// A QuerySet<T>'s state: the data, typed by the model it queries.
template <class T> struct QueryState : QueryStateData {};

/// The readers of a query's select_related chains, each with the result column its level
/// starts at (after the model's own columns). One type for every model.
struct RelatedReaders {
    std::vector<std::unique_ptr<SelectRelatedReader>> readers;
    std::vector<int> offsets;

    /// The readers of `st`'s chains, for a model of `columns` columns.
    RelatedReaders(const QueryStateData& st, std::size_t columns);
    RelatedReaders(const RelatedReaders&) = delete;
    RelatedReaders& operator=(const RelatedReaders&) = delete;
    ~RelatedReaders();

    /// Reads the chains' levels of the row at column `first` into `obj`.
    void read(const Statement& s, int first, void* obj) {
        for (std::size_t i = 0; i < readers.size(); ++i)
            readers[i]->read(s, first + offsets[i], obj);
    }
};

/// Reads one object, and the objects its select_related members join, from a row.
template <class T> struct RowReader {
    RelatedReaders related;

    explicit RowReader(const QueryStateData& st) : related(st, meta<T>().column_count()) {}
    void operator()(const Statement& s, int first, T& obj) {
        read_object(s, first, obj);
        related.read(s, first, &obj);
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

/// Writes the queries of one QuerySet state, of the model `m`: one class for every model,
/// compiled once (impl/select.hpp); SelectBuilder<T> names it with T's model.
class SelectSql {
public:
    SelectSql(const QueryStateData& st, const ModelMeta& m, Session* session);
    /// A subquery's builder: `r` has the subquery's aliases and knows the enclosing queries.
    SelectSql(const QueryStateData& st, const ModelMeta& m, Renderer r);

    Renderer& renderer() noexcept { return r_; }

    /// `t0.c1, ...` and the columns of every select_related level.
    std::string columns();
    /// The WHERE clause of the filters (and the key test), parameters appended to `params`.
    std::string where(std::vector<Value>& params, const KeyTest* keys = nullptr);
    /// The ORDER BY terms: the given order, ties (and no order at all, with default_pk) broken
    /// by the primary key.
    std::string order(std::vector<Value>& params, bool default_pk = true);

    /// The rows: `columns` selected in the QuerySet's order, sliced.
    SqlText select(const std::string& columns, bool ordered = true,
                   std::vector<Value> column_params = {});
    SqlText rows();
    /// The given values of each matching row, in the QuerySet's order (values_list, and the
    /// value of a scalar subquery).
    SqlText values(const std::vector<ValueExpr>& values, bool ordered = true);
    /// `SELECT <what>` over the matching rows (COUNT(*), or 1 for an existence test).
    SqlText aggregate(const std::string& what);
    /// aggregate(): the given aggregates over the matching rows (of the slice, when sliced),
    /// one row.
    SqlText aggregates(const std::vector<ValueExpr>& values);
    /// A grouped values_list: the values of each group of matching rows, grouped by the
    /// values that are not aggregates, filtered by having(), in the QuerySet's order (which
    /// may name only grouped values and aggregates), ties broken by the grouped values.
    SqlText grouped(const std::vector<ValueExpr>& values);
    /// The primary keys of the matching rows (for UPDATE/DELETE ... WHERE pk IN (...)).
    SqlText keys();

    /// A prefetch level: the target rows (this state's) for the parents' keys; a to-many level
    /// leads with the parent key, and a slice becomes a per-parent ROW_NUMBER() window. A
    /// to-one level has no ORDER BY (each parent gets at most one row).
    SqlText for_keys(const KeyTest& kt);
    /// annotate_count: `SELECT <parent key>, COUNT(*) ... GROUP BY <parent key>`.
    SqlText count_for_keys(const KeyTest& kt);
    /// annotate_count/sum/avg/min/max: `SELECT <parent key>, <what> ... GROUP BY <parent key>`.
    SqlText aggregate_for_keys(const KeyTest& kt, const std::string& what);

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
        p.from = m_.table + " AS " + r_.root();
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
    void order_term(const OrderSpec& o, bool rev, std::string& out, std::vector<Value>& params);

private:
    bool distinct_values_ = false;
    /// `params`: the parameters of `columns`, moved into the parts.
    SelectParts parts(const std::string& columns, std::vector<Value>& params, const KeyTest* kt,
                      bool ordered);
    std::string render_list(const std::vector<ValueExpr>& values, std::vector<Value>& params);
    void append_limit(SqlText& q) const;

    const QueryStateData& st_;
    const ModelMeta& m_;
    Renderer r_;
    bool grouped_ = false;
};

/// The query writer of a QuerySet<T>.
template <class T> class SelectBuilder : public SelectSql {
public:
    SelectBuilder(const QueryState<T>& st, Session* session) : SelectSql(st, meta<T>(), session) {}
    /// A subquery's builder: `r` has the subquery's aliases and knows the enclosing queries.
    SelectBuilder(const QueryState<T>& st, Renderer r) : SelectSql(st, meta<T>(), std::move(r)) {}
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
