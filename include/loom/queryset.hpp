// loom/queryset.hpp - QuerySet<T>: an immutable, lazy, chainable query over model T.
//
//     auto recent = db.objects<Book>()
//                       .filter(loom::col(&Book::year) >= 2000)
//                       .order_by(loom::desc(&Book::year), loom::asc(&Book::title))
//                       .limit(10);                  // nothing has run yet
//     for (const Book& b : recent) { ... }           // one query; iterating again: none
//
// Every method returns a new QuerySet and leaves the original unchanged. Results are cached in
// the QuerySet that ran them (and in copies made after it ran).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "chunks.hpp"
#include "database.hpp"
#include "expr.hpp"
#include "prefetch.hpp"

namespace loom {

namespace detail {

/// The select_related chain of a loom::path: each level's relation found among the model's
/// to-one entries; a to-many level is a UsageError (it cannot be joined without repeating rows).
template <class T>
std::shared_ptr<const SelectRelatedBase<T>> select_chain_of(const PrefetchNodeBase& node) {
    std::shared_ptr<const SelectRelatedBase<T>> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        using E = entry_t<T, I>;
        if constexpr (is_relation_entry<E>) {
            using Rel = std::remove_cvref_t<decltype(std::declval<T&>().*(entry<T, I>().member))>;
            const auto* level = dynamic_cast<const RelNodeT<T, Rel>*>(&node);
            if (out || !level || level->spec != &level_spec<T, I>) return;
            if constexpr (!is_to_one_relation<Rel>::value) {
                throw UsageError("select_related: " + level->describe() +
                                 " in the path is a to-many relation, which a JOIN would repeat "
                                 "rows for; use prefetch_related for it");
            } else {
                if (level->custom || level->into_other)
                    throw UsageError(
                        "select_related: the path is a loom::Prefetch; pass "
                        "loom::path(...) or members");
                using Target = typename Rel::target_type;
                std::shared_ptr<const SelectRelatedBase<Target>> below;
                if (!level->children.empty()) {
                    if (level->children.size() > 1)
                        throw UsageError("select_related: a path has one relation per level");
                    below = select_chain_of<Target>(*level->children.front());
                }
                out = make_select_related(entry<T, I>().member, below);
            }
        }
    });
    if (!out) throw UsageError("select_related: the path names no relation of " + meta<T>().name);
    return out;
}

}  // namespace detail

/// Clears every prefetch of a QuerySet: qs.prefetch_related(loom::none).
struct none_t {};

inline constexpr none_t none{};

/// A lazy, immutable query over model T (see the header comment).
template <class T> class QuerySet {
    using State = detail::QueryState<T>;

public:
    using value_type = T;
    using const_iterator = typename std::vector<T>::const_iterator;
    using iterator = const_iterator;

    explicit QuerySet(Database& db) : db_(&db), state_(std::make_shared<const State>()) {
        static_assert(detail::validated<T>);
    }

    Database& database() const noexcept { return *db_; }

    /// Runs on the named server: loom::primary, or the name of a read replica given to
    /// Database::add_replica (Django's using(), a keyword in C++). Reads go there even inside a
    /// transaction, and update() / remove() too (a replica refuses them: ReadOnlyError); a
    /// server the Database does not have is a UsageError when the QuerySet runs. Without
    /// use(), reads are routed (see Database::add_replica) and writes go to the primary.
    ///
    ///     auto fresh = db.objects<Order>().use(loom::primary).filter(...);
    QuerySet use(std::string_view server) const {
        QuerySet q = copy();
        q.server_ = server;
        return q;
    }
    /// The server named by use(), or "" when the reads are routed.
    const std::string& server() const noexcept { return server_; }

    // ---- building ----------------------------------------------------------------------------

    /// Keeps the rows matching `e` (ANDed with earlier filters). Conditions across a to-many
    /// relation become EXISTS subqueries: those ANDed in one filter() call are about the same
    /// related row, those of separate calls may each match another (Django's rule).
    QuerySet filter(const Expr<T>& e) const {
        const auto& c = row_condition(e, "filter");
        return with("filter", [&](State& s) { s.where.push_back(detail::lower(*c)); });
    }
    /// Drops the rows matching `e` (a row for which `e` is NULL is kept, as in Django).
    QuerySet exclude(const Expr<T>& e) const {
        const auto& c = row_condition(e, "exclude");
        return with("exclude",
                    [&](State& s) { s.where.push_back(detail::lower(*detail::make_not(c))); });
    }
    /// Keeps the groups of a grouped values_list matching `e`, a condition on aggregates
    /// (`loom::count() > 3`) or grouped values: SQL's HAVING. Only a grouped values_list reads
    /// it; any other result of a QuerySet with a having() is a UsageError.
    QuerySet having(const Expr<T>& e) const {
        return with("having",
                    [&](State& s) { s.having.push_back(detail::lower(*detail::access::spec(e))); });
    }

    /// Orders by the given terms (replacing an earlier order_by): members (ascending),
    /// columns, loom::asc(...) or loom::desc(...).
    template <class... Terms> QuerySet order_by(const Terms&... terms) const {
        if (state_->bounds.sliced())
            throw UsageError(
                "order_by(): cannot reorder a QuerySet once it has been sliced; "
                "order first, then slice");
        QuerySet q = copy();
        auto& s = q.mut();
        s.order.clear();
        s.reversed = false;
        (s.order.push_back(to_order(terms)), ...);
        return q;
    }
    /// Reverses the order (the primary key order when none was given).
    QuerySet reverse() const {
        if (state_->bounds.sliced())
            throw UsageError("reverse(): cannot reverse a QuerySet once it has been sliced");
        QuerySet q = copy();
        q.mut().reversed = !state_->reversed;
        return q;
    }

    /// At most n rows (narrows an earlier slice).
    QuerySet limit(std::int64_t n) const {
        checked_add(state_->bounds.lo, n, "limit");  // the error names limit(), not slice()
        return slice(0, n);
    }
    /// Skips the first n rows (of an earlier slice).
    QuerySet offset(std::int64_t n) const {
        if (n < 0) throw UsageError("offset(" + std::to_string(n) + "): must not be negative");
        QuerySet q = copy();
        auto& b = q.mut().bounds;
        b.lo = checked_add(b.lo, n, "offset");
        if (b.hi && b.lo > *b.hi) b.lo = *b.hi;
        return q;
    }
    /// Rows [a, b) of the result (of an earlier slice), as Python's qs[a:b].
    QuerySet slice(std::int64_t a, std::int64_t b) const {
        if (a < 0 || b < 0)
            throw UsageError("slice(" + std::to_string(a) + ", " + std::to_string(b) +
                             "): bounds must not be negative");
        QuerySet q = copy();
        auto& bd = q.mut().bounds;
        const std::int64_t new_lo = checked_add(bd.lo, a, "slice");
        std::int64_t new_hi = checked_add(bd.lo, b, "slice");
        if (bd.hi && new_hi > *bd.hi) new_hi = *bd.hi;
        bd.lo = bd.hi ? std::min(new_lo, *bd.hi) : new_lo;
        bd.hi = std::max(new_hi, bd.lo);
        return q;
    }

    /// SELECT DISTINCT.
    QuerySet distinct() const {
        if (state_->bounds.sliced())
            throw UsageError(
                "distinct(): cannot make a QuerySet distinct once it has been "
                "sliced; call distinct() first, then slice");
        QuerySet q = copy();
        q.mut().distinct = true;
        return q;
    }

    /// Fills to-one relations (ForeignKey, OneToOne, ReverseOne members) by a LEFT JOIN in the
    /// same query: members of T, or paths of them any number of levels deep
    /// (`select_related(loom::path(&Post::category, &Category::parent))`).
    template <class... M> QuerySet select_related(const M&... relations) const {
        QuerySet q = copy();
        auto& s = q.mut();
        (add_select_related(s, select_chain(relations)), ...);
        return q;
    }

    /// After the query runs, loads the given relations with one query per relation level
    /// (see prefetch.hpp): members (&Book::authors), paths (loom::path(...)) or loom::Prefetch.
    template <class... Paths> QuerySet prefetch_related(const Paths&... paths) const {
        QuerySet q = copy();
        auto& s = q.mut();
        (detail::add_prefetch<T>(s.prefetch, paths), ...);
        return q;
    }
    /// Clears every prefetch added so far (annotate_count stays).
    QuerySet prefetch_related(none_t) const {
        QuerySet q = copy();
        std::erase_if(q.mut().prefetch, [](const auto& node) { return !node->annotation(); });
        return q;
    }

    /// Counts each row's related objects into `into` (a plain integer member, not in the
    /// descriptor) with one GROUP BY query per batch of keys, run with the prefetches; a row
    /// with no related objects gets 0. `only` (a QuerySet of the related model) counts just
    /// the rows matching its filters. Reverse and many-to-many relations, either side.
    ///
    ///     db.objects<Author>().annotate_count(&Author::books, &Author::book_count)
    template <class Rel, class C> QuerySet annotate_count(Rel T::*relation, C T::*into) const {
        return add_count(
            detail::make_count_node<T, Rel, C, typename Rel::target_type>(relation, into, nullptr));
    }
    template <class Rel, class C>
    QuerySet annotate_count(Rel T::*relation, C T::*into,
                            const QuerySet<typename Rel::target_type>& only) const {
        return add_count(detail::make_count_node(relation, into, detail::access::state(only)));
    }

    /// Per-parent aggregates, stitched like annotate_count: the SUM, AVG, MIN or MAX of
    /// `column` (a member of the related model) over each row's related rows, written into
    /// `into` (a plain member, not in the descriptor) with one GROUP BY query per relation
    /// level and batch of keys. A row with no related rows gets NULL: `into` is a
    /// std::optional (annotate_sum may also write into a plain number, which gets 0). `only`
    /// keeps just the related rows matching its filters. They run wherever prefetches run: on
    /// the rows of a Prefetch's QuerySet (any depth of a path) and on each chunk of chunks(n).
    ///
    ///     db.objects<Post>().annotate_sum(&Post::comments, &Comment::score, &Post::score_total)
    template <class Rel, class O, class M, class C>
    QuerySet annotate_sum(Rel T::*relation, M O::*column, C T::*into) const {
        return add_aggregate<0>(relation, column, into,
                                std::shared_ptr<const detail::QueryState<O>>());
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_sum(Rel T::*relation, M O::*column, C T::*into,
                          const QuerySet<O>& only) const {
        return add_aggregate<0>(relation, column, into, detail::access::state(only));
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_avg(Rel T::*relation, M O::*column, C T::*into) const {
        return add_aggregate<1>(relation, column, into,
                                std::shared_ptr<const detail::QueryState<O>>());
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_avg(Rel T::*relation, M O::*column, C T::*into,
                          const QuerySet<O>& only) const {
        return add_aggregate<1>(relation, column, into, detail::access::state(only));
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_min(Rel T::*relation, M O::*column, C T::*into) const {
        return add_aggregate<2>(relation, column, into,
                                std::shared_ptr<const detail::QueryState<O>>());
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_min(Rel T::*relation, M O::*column, C T::*into,
                          const QuerySet<O>& only) const {
        return add_aggregate<2>(relation, column, into, detail::access::state(only));
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_max(Rel T::*relation, M O::*column, C T::*into) const {
        return add_aggregate<3>(relation, column, into,
                                std::shared_ptr<const detail::QueryState<O>>());
    }
    template <class Rel, class O, class M, class C>
    QuerySet annotate_max(Rel T::*relation, M O::*column, C T::*into,
                          const QuerySet<O>& only) const {
        return add_aggregate<3>(relation, column, into, detail::access::state(only));
    }

    /// Runs the query in chunks of at most `n` rows (keyset pagination on the order columns
    /// and the primary key, never OFFSET) and applies every prefetch to each chunk, so memory
    /// depends on n, not on the table (see chunks.hpp).
    ///
    ///     for (std::vector<Book>& chunk :
    ///     db.objects<Book>().prefetch_related(&Book::authors).chunks(1000))
    Chunks<T> chunks(std::int64_t n) const { return Chunks<T>(*db_, state_, n, server_); }
    /// The same walk, each next chunk loaded on another thread while the caller works on the
    /// current one (two chunks in memory at most; see loom::ahead and docs/queries.md).
    ///
    ///     for (std::vector<Book>& chunk :
    ///     db.objects<Book>().prefetch_related(&Book::authors).chunks(1000, loom::ahead))
    Chunks<T> chunks(std::int64_t n, ahead_t) const {
        return Chunks<T>(*db_, state_, n, server_, true);
    }

    // ---- results -----------------------------------------------------------------------------

    const_iterator begin() const { return rows().begin(); }
    const_iterator end() const { return rows().end(); }
    /// Runs the query (once) and returns the rows.
    const std::vector<T>& rows() const {
        if (!cache_) cache_ = evaluate();
        return *cached();
    }
    /// A copy of the rows, to keep or change.
    std::vector<T> to_vector() const { return rows(); }
    /// Number of rows: from the cache when evaluated, else SELECT COUNT(*) (no rows loaded).
    std::int64_t count() const {
        if (const auto* c = cached()) return static_cast<std::int64_t>(c->size());
        std::int64_t n = 0;
        run_scalar(builder().aggregate("COUNT(*)"), n);
        return n;
    }
    /// True when at least one row matches (SELECT 1 ... LIMIT 1).
    bool exists() const {
        if (const auto* c = cached()) return !c->empty();
        std::int64_t n = 0;
        auto q = builder().aggregate("1");
        q.sql += " LIMIT 1";
        return run_scalar(q, n) > 0;
    }
    /// The first row in order (primary key order when none), or nullopt.
    std::optional<T> first() const {
        if (const auto* c = cached())
            return c->empty() ? std::nullopt : std::optional<T>(c->front());
        auto q = limit(1);
        return read([&](detail::Session& s) -> std::optional<T> {
            detail::Session::ReadSnapshot snapshot(s, !state_->prefetch.empty(),
                                                   detail::prefetch_width(state_->prefetch));
            auto* rows = new detail::RowsAnchor<T>();
            const detail::AnchorRef hold(rows);
            q.fetch_base(s, rows->rows);
            if (rows->rows.empty()) return std::nullopt;
            q.run_prefetches(s, *rows);
            return q.take_first(*rows);
        });
    }
    /// The last row in order, or nullopt.
    std::optional<T> last() const {
        if (const auto* c = cached())
            return c->empty() ? std::nullopt : std::optional<T>(c->back());
        if (state_->bounds.sliced()) {  // the slice cannot be reversed: read it (one query)
            const auto& all = rows();
            return all.empty() ? std::nullopt : std::optional<T>(all.back());
        }
        return reverse().first();
    }
    /// The one row matching the query; DoesNotExist or MultipleObjectsReturned otherwise.
    T get() const {
        auto q = limit(2);
        return read([&](detail::Session& s) {
            detail::Session::ReadSnapshot snapshot(s, !state_->prefetch.empty(),
                                                   detail::prefetch_width(state_->prefetch));
            auto* rows = new detail::RowsAnchor<T>();
            const detail::AnchorRef hold(rows);
            q.fetch_base(s, rows->rows);
            if (rows->rows.empty())
                throw DoesNotExist("get(): no " + detail::meta<T>().name + " matches the query (" +
                                   q.sql().sql + ")");
            if (rows->rows.size() > 1)
                throw MultipleObjectsReturned("get(): more than one " + detail::meta<T>().name +
                                              " matches the query (" + q.sql().sql + ")");
            q.run_prefetches(s, *rows);
            return q.take_first(*rows);
        });
    }
    /// filter(e).get()
    T get(const Expr<T>& e) const { return filter(e).get(); }
    /// The row with primary key `pk` (among the QuerySet's rows); DoesNotExist otherwise.
    T get(const primary_key_t<T>& pk) const { return filter(pk_column() == pk).get(); }
    /// The row with primary key `pk` (among the QuerySet's rows), or nullopt.
    std::optional<T> find(const primary_key_t<T>& pk) const {
        return filter(pk_column() == pk).first();
    }

    /// The values of the given columns (members, loom::col, expressions, per-row counts), one
    /// tuple per row, in the QuerySet's order. With an aggregate among them (loom::count(),
    /// loom::sum(...)...), one tuple per group of rows sharing the other values (Django's
    /// values().annotate()): GROUP BY those values, filtered by having(), ordered by the
    /// QuerySet's order (grouped values and aggregates only) and then by the grouped values.
    template <class... Cols> auto values_list(const Cols&... cols) const {
        using Tuple =
            std::tuple<typename std::remove_cvref_t<decltype(as_column(cols))>::value_type...>;
        const std::vector<detail::ValueExpr> exprs{detail::access::spec(as_column(cols))...};
        bool grouped = false;
        for (const auto& e : exprs) grouped = grouped || e.aggregate;
        // The QuerySet's order (primary key order when none); a DISTINCT list with no order is
        // ordered by its own columns.
        State st = *state_;
        if (!grouped && st.distinct && st.order.empty())
            for (const auto& e : exprs) st.order.push_back({e, false});
        detail::SelectBuilder<T> b(st, &session());
        const SqlText q = grouped ? b.grouped(exprs) : b.values(exprs);
        std::vector<Tuple> out;
        run(q, [&](const detail::Statement& s) {
            Tuple t;
            read_tuple(s, t, std::index_sequence_for<Cols...>{}, "values_list");
            out.push_back(std::move(t));
        });
        return out;
    }

    /// Aggregates over the matching rows (of the slice, when sliced), in one query, as a
    /// tuple: `auto [n, total, mean] = qs.aggregate(loom::count(), loom::sum(&Post::rating),
    /// loom::avg(&Post::rating));` A std::optional where SQL may return NULL (sum, avg, min and
    /// max over no rows).
    template <class... Cols> auto aggregate(const Cols&... cols) const {
        static_assert(sizeof...(Cols) > 0, "aggregate(): name at least one aggregate");
        using Tuple =
            std::tuple<typename std::remove_cvref_t<decltype(as_column(cols))>::value_type...>;
        const std::vector<detail::ValueExpr> exprs{detail::access::spec(as_column(cols))...};
        for (std::size_t i = 0; i < exprs.size(); ++i)
            if (!exprs[i].aggregate)
                throw UsageError("aggregate(): value " + std::to_string(i + 1) +
                                 " is not an aggregate; pass loom::count(), loom::sum(...), "
                                 "loom::avg(...), loom::min(...), loom::max(...) or "
                                 "loom::count_distinct(...)");
        Tuple t;
        run(builder().aggregates(exprs), [&](const detail::Statement& s) {
            read_tuple(s, t, std::index_sequence_for<Cols...>{}, "aggregate");
        });
        return t;
    }

    /// UPDATE every matching row in one statement; returns the number of rows changed. A
    /// value may be an expression of the row's own columns (loom::col(&Post::views) + 1), a
    /// per-row count or a scalar subquery.
    template <class... A> std::int64_t update(const Assignment<T>& first, const A&... more) const {
        const std::vector<const detail::AssignSpec*> all{&detail::access::spec(first),
                                                         &detail::access::spec(more)...};
        const auto& m = detail::meta<T>();
        const auto sub = builder().keys();
        SqlText q;
        detail::Renderer r(&session(), m.name);
        r.set_root(m.table);
        q.sql = "UPDATE " + m.table + " SET ";
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (i) q.sql += ", ";
            q.sql += all[i]->column + " = ";
            r.render(all[i]->value.tokens, q.sql, q.params);
        }
        if (!r.joins().empty())
            throw UsageError(
                "update(): a loom::set value reads a column across a relation; an "
                "UPDATE reads the row's own columns only (use loom::scalar(...) for "
                "a value from another table)");
        q.sql += " WHERE " + m.pk + " IN (" + sub.sql + ")";
        q.params.insert(q.params.end(), sub.params.begin(), sub.params.end());
        try {
            return execute(q, "update");
        } catch (const ConstraintError& e) {
            // One statement: it changed no row. Name the key columns it set.
            if (e.kind() != ConstraintError::Kind::foreign_key) throw;
            const std::string hint = keys_set(all);
            if (hint.empty()) throw;
            throw ConstraintError(std::string(e.what()) + ": " + hint + "; nothing was updated",
                                  e.code(), e.kind());
        }
    }
    /// DELETE every matching row in one statement (the database applies on_delete rules);
    /// returns the number of rows deleted. A row that a restrict foreign key still refers to
    /// makes it a ConstraintError (kind foreign_key) that names the referring columns the
    /// descriptors declare, and nothing is deleted.
    std::int64_t remove() const {
        const auto& m = detail::meta<T>();
        auto q = builder().keys();
        q.sql = "DELETE FROM " + m.table + " WHERE " + m.pk + " IN (" + q.sql + ")";
        try {
            return execute(q, "remove");
        } catch (const ConstraintError& e) {
            if (e.kind() != ConstraintError::Kind::foreign_key) throw;
            throw ConstraintError(
                std::string(e.what()) + ": " +
                    detail::still_referred_to("a " + m.name + " row this remove() matches",
                                              detail::restrict_references<T>(), false) +
                    "; nothing was deleted",
                e.code(), e.kind());
        }
    }

    /// The SQL and parameters the base query would run.
    SqlText sql() const { return builder().rows(); }

    /// The engine's query plan for the base query and each prefetch level: each query's SQL,
    /// then its plan, one line per step.
    std::vector<std::string> explain() const {
        std::vector<std::string> out;
        const auto q = sql();
        out.push_back(q.sql);
        read([&](detail::Session& s) {
            out.resize(1);
            detail::explain_into(s, q, out, "  ");
            for (auto& n : state_->prefetch) n->explain(s, out, "");
        });
        return out;
    }

private:
    friend struct detail::access;
    QuerySet copy() const {
        QuerySet q(*db_, state_);
        q.server_ = server_;
        return q;
    }
    QuerySet(Database& db, std::shared_ptr<const State> s) : db_(&db), state_(std::move(s)) {}
    State& mut() {
        auto fresh = std::make_shared<State>(*state_);
        State& ref = *fresh;
        state_ = std::move(fresh);
        return ref;
    }
    template <class F> QuerySet with(const char* what, F&& f) const {
        if (state_->bounds.sliced())
            throw UsageError(std::string(what) +
                             "(): cannot filter a QuerySet once it has been sliced; filter first, "
                             "then slice");
        QuerySet q = copy();
        f(q.mut());
        return q;
    }
    static std::int64_t checked_add(std::int64_t a, std::int64_t b, const char* what) {
        if (b < 0)
            throw UsageError(std::string(what) + "(" + std::to_string(b) +
                             "): must not be negative");
        if (a > std::numeric_limits<std::int64_t>::max() - b)
            throw UsageError(std::string(what) + "(" + std::to_string(b) + "): the slice bound " +
                             std::to_string(a) + " + " + std::to_string(b) +
                             " overflows a 64-bit integer");
        return a + b;
    }

    template <class M> static detail::OrderSpec to_order(M T::*m) {
        return detail::access::spec(asc(m));
    }
    template <class R, class V>
    requires(std::is_same_v<R, T> || std::is_void_v<R>) static detail::OrderSpec
        to_order(const Column<R, V>& c) {
        return detail::access::spec(asc(c));
    }
    template <class R>
    requires(std::is_same_v<R, T> || std::is_void_v<R>) static detail::OrderSpec
        to_order(const OrderTerm<R>& t) {
        return detail::access::spec(t);
    }

    template <class M> static auto as_column(M T::*m) { return col(m); }
    template <class R, class V>
    requires(std::is_same_v<R, T> ||
             std::is_void_v<R>) static const Column<R, V>& as_column(const Column<R, V>& c) {
        return c;
    }

    static Column<T, primary_key_t<T>> pk_column() {
        return col(std::get<0>(model<T>.entries).member);
    }

    static const detail::CondPtr& row_condition(const Expr<T>& e, const char* what) {
        const auto& c = detail::access::spec(e);
        if (c->aggregate)
            throw UsageError(std::string(what) +
                             "(): the condition uses an aggregate (loom::count(), loom::sum()...), "
                             "which has one value per group, not per row; use having() with a "
                             "grouped values_list, or a per-row count such as "
                             "loom::count(&Model::relation)");
        return c;
    }

    template <class Tuple, std::size_t... I>
    static void read_tuple(const detail::Statement& s, Tuple& t, std::index_sequence<I...>,
                           const char* what) {
        (read_cell(s, static_cast<int>(I), std::get<I>(t), what), ...);
    }
    template <class V>
    static void read_cell(const detail::Statement& s, int c, V& out, const char* what) {
        if (const char* why = detail::read_column(s, c, out))
            throw DataError(std::string(what) + ": column " + std::to_string(c) + " (" +
                            std::string(s.column_name(c)) + ") of " + detail::meta<T>().name +
                            ": " + why + ", found " + detail::describe_stored(s, c));
    }

    static void add_select_related(State& s,
                                   std::shared_ptr<const detail::SelectRelatedBase<T>> sr) {
        for (auto& e : s.select_related)
            if (e->key() == sr->key()) return;
        s.select_related.push_back(std::move(sr));
    }
    template <class M>
    static std::shared_ptr<const detail::SelectRelatedBase<T>> select_chain(const M& m) {
        if constexpr (std::is_member_object_pointer_v<M>) {
            static_assert(std::is_same_v<typename detail::pointee<M>::owner, T>,
                          "select_related: the member belongs to another model than the "
                          "QuerySet's (to go deeper, use loom::path(&Post::category, "
                          "&Category::parent))");
            return detail::make_select_related(m);
        } else {
            static_assert(std::is_same_v<M, Path<T>>,
                          "select_related: pass ForeignKey, OneToOne or ReverseOne members of the "
                          "QuerySet's model, or a loom::path(...) of them starting at it");
            return detail::select_chain_of<T>(detail::access::node(m));
        }
    }

    detail::Session& session() const { return detail::session_of(*db_); }
    detail::SelectBuilder<T> builder() const {
        return detail::SelectBuilder<T>(*state_, &session());
    }

    /// Runs `f(Session&)` on the server this read goes to (see Database::add_replica).
    /// `started`: once it is set, a lost replica connection is reported, not read again
    /// elsewhere (the rows seen so far are in the caller's hands).
    template <class F> decltype(auto) read(F&& f, const bool* started = nullptr) const {
        return detail::router_of(*db_).read(detail::session_of(*db_), server_, f, started);
    }
    template <class OnRow> std::int64_t run(const SqlText& q, OnRow&& on_row) const {
        bool started = false;
        return read(
            [&](detail::Session& s) {
                detail::Session::OriginScope scope(s, detail::meta<T>().name);
                return s.run(q, [&](const detail::Statement& st) {
                    started = true;
                    on_row(st);
                });
            },
            &started);
    }
    /// The foreign key columns an update() sets, as missing_key_hint names them.
    static std::string keys_set(const std::vector<const detail::AssignSpec*>& all) {
        std::vector<detail::KeySet> set;
        detail::for_each_index<T>([&](auto i) {
            constexpr std::size_t I = decltype(i)::value;
            using E = detail::entry_t<T, I>;
            if constexpr (E::kind == detail::entry_kind::foreign_key ||
                          E::kind == detail::entry_kind::one_to_one) {
                const auto& e = detail::entry<T, I>();
                for (const auto* a : all) {
                    if (a->column != detail::quote(e.column)) continue;
                    const auto& t = a->value.tokens;
                    detail::KeySet k{detail::meta<T>().name + "." + std::string(e.column),
                                     "(the value of an expression)",
                                     detail::meta<typename E::target>().name};
                    if (t.size() == 1 && t[0].kind == detail::Token::param) {
                        if (const auto* n = std::get_if<std::int64_t>(&t[0].value)) {
                            k.key = detail::key_text(*n);
                            k.unset = *n == 0;
                        } else if (const auto* s = std::get_if<std::string>(&t[0].value)) {
                            k.key = detail::key_text(*s);
                            k.unset = s->empty();
                        } else if (std::holds_alternative<std::nullptr_t>(t[0].value)) {
                            continue;  // NULL refers to nothing
                        } else {
                            k.key = "(the value given)";
                        }
                    }
                    set.push_back(std::move(k));
                }
            }
        });
        return detail::missing_key_hint(set);
    }
    /// update() and remove(): the primary, or the server named by use().
    std::int64_t execute(const SqlText& q, std::string_view origin) const {
        detail::Session& s =
            server_.empty() ? session() : *detail::router_of(*db_).pick(session(), server_).session;
        return s.execute(q.sql, detail::Session::bind_all(q.params), origin);
    }
    std::int64_t run_scalar(const SqlText& q, std::int64_t& out) const {
        return run(q, [&](const detail::Statement& s) { out = s.column_int(0); });
    }

    template <int Fn, class Rel, class O, class M, class C>
    QuerySet add_aggregate(Rel T::*relation, M O::*column, C T::*into,
                           std::shared_ptr<const detail::QueryState<O>> only) const {
        using Target = typename Rel::target_type;
        static_assert(std::is_same_v<O, Target>,
                      "annotate_sum/avg/min/max: the column must be a member of the related "
                      "model (annotate_sum(&Post::comments, &Comment::score, &Post::total))");
        static_assert(Fn >= 2 || detail::numeric_v<M>,
                      "annotate_sum/avg: the column must be numeric (an integer or "
                      "floating-point member)");
        static_assert(Fn == 0 || detail::is_optional<C>::value,
                      "annotate_avg/min/max: a parent with no related rows has no value (SQL "
                      "gives NULL); write it into a std::optional member");
        static_assert(Fn != 0 || detail::numeric_v<C>,
                      "annotate_sum: the sum goes into a numeric member (or a std::optional of "
                      "one)");
        static constexpr const char* names[] = {"sum", "avg", "min", "max"};
        static constexpr const char* sql[] = {"SUM(", "AVG(", "MIN(", "MAX("};
        const detail::ValueExpr c = detail::column_of(column);
        const std::string what = std::string(sql[Fn]) + "t0." + c.tokens.front().col.column + ")";
        return add_count(detail::make_aggregate_node<T, Rel, C, Target>(
            relation, into, std::move(only), names[Fn], what));
    }

    template <class Node> QuerySet add_count(const Node& node) const {
        QuerySet q = copy();
        detail::merge_prefetch(q.mut().prefetch, *node);
        return q;
    }

    /// Prefetches into rows that stay where they are (their children may point back at them).
    void run_prefetches(detail::Session& s, detail::RowsAnchor<T>& rows) const {
        detail::run_prefetches<T>(s, state_->prefetch, rows);
    }
    /// The first row for get() and first(). With prefetches, the rows' children may point back
    /// at the rows: hand out a copy, which keeps them alive (see detail/anchor.hpp).
    T take_first(detail::RowsAnchor<T>& rows) const {
        if (state_->prefetch.empty()) return std::move(rows.rows.front());
        return rows.rows.front();
    }

    void fetch_base(detail::Session& session, std::vector<T>& out) const {
        detail::RowReader<T> reader(*state_);
        detail::Session::OriginScope scope(session, detail::meta<T>().name);
        session.run(builder().rows(),
                    [&](const detail::Statement& s) { reader(s, 0, out.emplace_back()); });
    }

    /// Runs the query and its prefetches, all on one server and snapshot; the rows live in
    /// the returned anchor.
    detail::AnchorRef evaluate() const {
        return read([&](detail::Session& s) {
            detail::Session::ReadSnapshot snapshot(s, !state_->prefetch.empty(),
                                                   detail::prefetch_width(state_->prefetch));
            auto* rows = new detail::RowsAnchor<T>();
            detail::AnchorRef hold(rows);
            fetch_base(s, rows->rows);
            run_prefetches(s, *rows);
            return hold;
        });
    }
    const std::vector<T>* cached() const noexcept {
        if (!cache_) return nullptr;
        return &static_cast<const detail::RowsAnchor<T>*>(cache_.get())->rows;
    }

    Database* db_;
    std::shared_ptr<const State> state_;
    std::string server_;               // use(...): "" lets the router choose
    mutable detail::AnchorRef cache_;  // a RowsAnchor<T> once evaluated
};

}  // namespace loom
