// The SQL builder: a QuerySet's state (QueryState) and the one SELECT builder every query is
// written by: a QuerySet's rows, counts, existence tests, key subqueries and value lists, a
// prefetch level's rows and counts, and a chunk of a chunked iteration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "../meta/joins.hpp"
#include "../prefetch/node.hpp"
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
template <class T>
struct QueryState {
    std::vector<Tokens> where;
    std::vector<OrderSpec> order;
    bool reversed = false;
    Bounds bounds;
    bool distinct = false;
    std::vector<std::shared_ptr<const SelectRelatedBase<T>>> select_related;
    PrefetchList<T> prefetch;
};

/// Reads one object, and the objects its select_related members join, from a row.
template <class T>
struct RowReader {
    std::vector<std::unique_ptr<SelectRelatedReader<T>>> readers;
    std::vector<int> offsets;

    explicit RowReader(const QueryState<T>& st) {
        int c = static_cast<int>(meta<T>().column_count());
        for (auto& sr : st.select_related) {
            readers.push_back(sr->reader());
            offsets.push_back(c);
            c += static_cast<int>(sr->target().column_count());
        }
    }
    void operator()(const Statement& s, int first, T& obj) {
        read_object(s, first, obj);
        for (std::size_t i = 0; i < readers.size(); ++i)
            readers[i]->read(s, first + offsets[i], obj);
    }
};

/// The keys a prefetch level (or count) asks for: `relation.key IN (...)`.
struct KeyTest {
    const RelationJoin* relation = nullptr;
    std::span<const std::int64_t> keys;
    bool array = false;  // bound as one array parameter
    bool to_one = false; // a to-one level: each parent gets at most one row, in no order
};

/// The pieces of one SELECT, assembled in one place.
struct SelectParts {
    bool distinct = false;
    std::string lead;     // selected first: a to-many prefetch level's parent key
    std::string columns;
    std::string from;     // "<table> AS t0" and any join table
    std::string joins;    // the renderer's LEFT JOINs
    std::string where;    // " WHERE ..." or empty
    std::string group_by;
    std::string order;    // ORDER BY terms, or empty
    bool per_parent_slice = false;  // a ROW_NUMBER() window over `lead`, sliced by bounds
};

inline void assemble(const SelectParts& p, const Bounds& b, SqlText& q) {
    const std::string lead = p.lead.empty() ? std::string() : p.lead + ", ";
    const std::string from = " FROM " + p.from + p.joins;
    if (p.per_parent_slice) {
        q.sql = "SELECT * FROM (SELECT " + std::string(p.distinct ? "DISTINCT " : "") + lead +
                p.columns + ", ROW_NUMBER() OVER (PARTITION BY " + p.lead + " ORDER BY " +
                p.order + ") AS loom_rn" + from + p.where +
                ") WHERE loom_rn > ? AND loom_rn <= ? ORDER BY loom_rn";
        q.params.push_back(b.lo);
        q.params.push_back(b.hi.value_or(std::numeric_limits<std::int64_t>::max()));
        return;
    }
    q.sql = "SELECT " + std::string(p.distinct ? "DISTINCT " : "") + lead + p.columns + from +
            p.where;
    if (!p.group_by.empty()) q.sql += " GROUP BY " + p.group_by;
    // A to-many level orders by the parent key first: each parent's list keeps the QuerySet's
    // order, and the engine walks the key's index in that order instead of sorting every row.
    if (!p.order.empty())
        q.sql += " ORDER BY " + (p.lead.empty() ? p.order : p.lead + " ASC, " + p.order);
}

/// Writes the queries of one QuerySet state.
template <class T>
class SelectBuilder {
public:
    SelectBuilder(const QueryState<T>& st, Session* session) : st_(st), r_(session) {}

    Renderer& renderer() noexcept { return r_; }

    /// `t0.c1, ...` and the columns of every select_related target.
    std::string columns() {
        std::string sel = meta<T>().select_list("t0");
        for (auto& sr : st_.select_related) sel += ", " + sr->target().select_list(r_.alias_for({sr->step()}));
        return sel;
    }
    /// The WHERE clause of the filters (and the key test), parameters appended to `params`.
    std::string where(std::vector<Value>& params, const KeyTest* keys = nullptr) {
        std::string out;
        for (const auto& w : st_.where) {
            out += out.empty() ? " WHERE (" : " AND (";
            r_.render(w, out, params);
            out += ")";
        }
        if (keys) {
            out += out.empty() ? " WHERE " : " AND ";
            out += keys->relation->key + " IN ";
            append_key_list(out, params, keys->keys, r_.session(), keys->array);
        }
        return out;
    }
    /// The ORDER BY terms: the given order, ties (and no order at all, with default_pk) broken
    /// by the primary key.
    std::string order(bool default_pk = true) {
        const auto& pk = meta<T>().pk;
        const bool rev = st_.reversed;
        std::string out;
        bool has_pk = false;
        for (const auto& o : st_.order) {
            if (!out.empty()) out += ", ";
            out += r_.column(o.col);
            out += (o.descending != rev) ? " DESC" : " ASC";
            if (o.col.path.empty() && o.col.column == pk) has_pk = true;
        }
        if (!has_pk && (default_pk || !st_.order.empty() || rev)) {
            if (!out.empty()) out += ", ";
            out += "t0." + pk + (rev ? " DESC" : " ASC");
        }
        return out;
    }

    /// The rows: `columns` selected in the QuerySet's order, sliced.
    SqlText select(const std::string& columns, bool ordered = true) {
        SqlText q;
        SelectParts p = parts(columns, q.params, nullptr, ordered);
        assemble(p, st_.bounds, q);
        append_limit(q);
        return q;
    }
    SqlText rows() { return select(columns()); }
    /// `SELECT <what>` over the matching rows (COUNT(*), or 1 for an existence test).
    SqlText aggregate(const std::string& what) {
        if (st_.bounds.sliced() || st_.distinct) {
            SqlText inner = select(st_.distinct ? columns() : "t0." + meta<T>().pk,
                                   st_.bounds.sliced());
            inner.sql = "SELECT " + what + " FROM (" + inner.sql + ")";
            return inner;
        }
        SqlText q;
        SelectParts p;
        p.columns = what;
        p.from = meta<T>().table + " AS t0";
        p.where = where(q.params);
        p.joins = r_.joins();
        assemble(p, st_.bounds, q);
        return q;
    }
    /// The primary keys of the matching rows (for UPDATE/DELETE ... WHERE pk IN (...)).
    SqlText keys() { return select("t0." + meta<T>().pk, st_.bounds.sliced()); }

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
    SqlText count_for_keys(const KeyTest& kt) {
        SqlText q;
        SelectParts p = parts(kt.relation->key + ", COUNT(*)", q.params, &kt, false);
        p.distinct = false;
        p.group_by = kt.relation->key;
        assemble(p, st_.bounds, q);
        return q;
    }

    /// A chunk of chunks(n): `extra()` columns appended to the select list, the rows after the
    /// last one read (`after(params)`, rendered with renderer()), at most `limit` rows.
    template <class Extra, class After>
    SqlText chunk(Extra&& extra, After&& after, std::int64_t limit, std::int64_t offset) {
        SqlText q;
        SelectParts p;
        p.distinct = st_.distinct;
        p.columns = columns();
        p.columns += extra();
        p.from = meta<T>().table + " AS t0";
        p.where = where(q.params);
        const std::string more = after(q.params);
        if (!more.empty()) p.where += (p.where.empty() ? " WHERE (" : " AND (") + more + ")";
        p.order = order(true);
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

private:
    SelectParts parts(const std::string& columns, std::vector<Value>& params, const KeyTest* kt,
                      bool ordered) {
        SelectParts p;
        p.distinct = st_.distinct;
        p.columns = columns;
        p.from = meta<T>().table + " AS t0" + (kt ? kt->relation->join : std::string());
        p.where = where(params, kt);
        if (ordered) p.order = order(true);
        p.joins = r_.joins();
        return p;
    }
    void append_limit(SqlText& q) const {
        const auto& b = st_.bounds;
        if (!b.sliced()) return;
        q.sql += " LIMIT ? OFFSET ?";
        q.params.push_back(b.hi ? *b.hi - b.lo : std::int64_t{-1});
        q.params.push_back(b.lo);
    }

    const QueryState<T>& st_;
    Renderer r_;
};

/// The query plan of `q`, one line per step, each after `prefix`.
inline void explain_into(Session& s, const SqlText& q, std::vector<std::string>& out,
                         const std::string& prefix) {
    const auto& d = s.dialect();
    s.run(std::string(d.explain_prefix) + q.sql, Session::bind_all(q.params),
          [&](const Statement& st) {
              out.push_back(prefix + std::string(st.column_text(d.explain_column)));
          },
          "explain");
}

}  // namespace loom::detail
