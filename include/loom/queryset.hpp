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
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "database.hpp"
#include "expr.hpp"
#include "model.hpp"

namespace loom {
namespace detail {

/// SQL text and its parameters, in order.
struct Query {
    std::string sql;
    std::vector<Value> params;
};

/// One prefetched relation of Owner and its nested relations (the engine is in prefetch.hpp).
template <class Owner>
struct PrefetchNode {
    virtual ~PrefetchNode() = default;
    virtual std::unique_ptr<PrefetchNode> clone() const = 0;
    /// True when both load the same relation into the same member.
    virtual bool same_slot(const PrefetchNode& other) const = 0;
    /// Merges `other`'s nested relations (and queryset, if this has none) into this node.
    virtual void merge(const PrefetchNode& other) = 0;
    /// Loads the relation for every parent, then the nested relations on what it loaded.
    virtual void run(Database& db, std::span<Owner* const> parents) const = 0;
    /// "Book::authors"
    virtual std::string describe() const = 0;
    /// The query plan of this level and the levels below, one line per level.
    virtual void explain(Database& db, std::vector<std::string>& out,
                         const std::string& prefix) const = 0;
};

template <class Owner>
using PrefetchList = std::vector<std::shared_ptr<const PrefetchNode<Owner>>>;

/// Marks the nodes of the prefetch list that compute values (annotate_count) rather than
/// load relations: prefetch_related(loom::none) keeps them.
struct Annotation {
    virtual ~Annotation() = default;
};

template <class Owner>
void merge_prefetch(PrefetchList<Owner>& list, const PrefetchNode<Owner>& node) {
    for (auto& existing : list) {
        if (existing->same_slot(node)) {
            auto copy = existing->clone();
            copy->merge(node);
            existing = std::move(copy);
            return;
        }
    }
    list.push_back(node.clone());
}

/// Extra pieces a prefetch level adds to a QuerySet's SELECT.
struct SelectExtras {
    std::string lead;      // selected before the model's columns (the parent key), may be empty
    std::string join;      // a join on the related table (the M2M join table), may be empty
    std::string key_expr;  // the column tested with IN
    std::span<const std::int64_t> keys;
    bool json_keys = false;  // keys bound as one JSON array, read with json_each
};

/// Appends `<key_expr> IN (...)` for the keys of `x`: one `?` per key, or one JSON array.
inline void append_key_test(std::string& where, std::vector<Value>& params, const SelectExtras& x) {
    where += where.empty() ? " WHERE " : " AND ";
    where += x.key_expr;
    if (x.json_keys) {
        where += " IN (SELECT value FROM json_each(?))";
        params.emplace_back(json_array(x.keys));
        return;
    }
    where += " IN (";
    for (std::size_t i = 0; i < x.keys.size(); ++i) {
        where += i ? ", ?" : "?";
        params.emplace_back(x.keys[i]);
    }
    where += ")";
}

/// Assigns table aliases to join paths and writes the LEFT JOINs they need.
class Renderer {
public:
    std::string alias_for(const std::vector<JoinStep>& path) {
        std::string parent = "t0", key;
        for (const auto& step : path) {
            key += step.fk_column;
            key += '>';
            key += step.table;
            key += '|';
            std::string alias;
            for (const auto& [k, a] : aliases_)
                if (k == key) alias = a;
            if (alias.empty()) {
                alias = "t" + std::to_string(aliases_.size() + 1);
                aliases_.emplace_back(key, alias);
                joins_ += " LEFT JOIN " + step.table + " AS " + alias + " ON " + alias + "." +
                          step.pk + " = " + parent + "." + step.fk_column;
            }
            parent = alias;
        }
        return parent;
    }
    void render(const Tokens& tokens, std::string& sql, std::vector<Value>& params) {
        for (const auto& t : tokens) {
            switch (t.kind) {
                case Token::text: sql += t.sql; break;
                case Token::column:
                    sql += alias_for(t.col.path);
                    sql += '.';
                    sql += t.col.column;
                    break;
                case Token::param:
                    sql += '?';
                    params.push_back(t.value);
                    break;
            }
        }
    }
    const std::string& joins() const noexcept { return joins_; }

private:
    std::vector<std::pair<std::string, std::string>> aliases_;
    std::string joins_;
};

template <class T>
struct SelectRelatedReader {
    virtual ~SelectRelatedReader() = default;
    virtual void read(const Statement& s, int first, T& obj) = 0;
};

/// One forward relation filled by a JOIN in the base query.
template <class T>
struct SelectRelatedBase {
    virtual ~SelectRelatedBase() = default;
    virtual std::size_t index() const = 0;
    virtual JoinStep step() const = 0;
    virtual const ModelMeta& target() const = 0;
    virtual std::unique_ptr<SelectRelatedReader<T>> reader() const = 0;
};

template <class T, std::size_t I>
struct SelectRelated final : SelectRelatedBase<T> {
    using E = entry_t<T, I>;
    using Target = typename E::target;
    std::size_t index() const override { return I; }
    JoinStep step() const override {
        return {quote(entry<T, I>().column), meta<Target>().table, meta<Target>().pk};
    }
    const ModelMeta& target() const override { return meta<Target>(); }

    struct Reader final : SelectRelatedReader<T> {
        std::shared_ptr<std::deque<Target>> block = std::make_shared<std::deque<Target>>();
        // Every joined object of this relation is kept alive by one anchor.
        AnchorRef anchor{new Anchor(&relation_info<T, I>, block)};
        std::unordered_map<std::int64_t, Target*> seen;
        void read(const Statement& s, int first, T& obj) override {
            auto& rel = static_cast<ForeignKey<Target>&>(obj.*(entry<T, I>().member));
            if (s.is_null(first)) {
                // No joined row: a NULL key, or a key that matches nothing (as prefetch does,
                // that is an error, not a silent nullptr).
                if (const auto id = rel.id())
                    throw_dangling_key(meta<T>().name + "::" + std::string(member_name_of<T, I>()),
                                       entry<T, I>().column, *id, meta<Target>().name);
                relation_access::set(rel, static_cast<const Target*>(nullptr), anchor.get());
                return;
            }
            const std::int64_t key = s.column_int(first);
            auto [it, fresh] = seen.try_emplace(key, nullptr);
            if (fresh) {
                block->emplace_back();
                read_object(s, first, block->back());
                it->second = &block->back();
            }
            relation_access::set(rel, static_cast<const Target*>(it->second), anchor.get());
        }
    };
    std::unique_ptr<SelectRelatedReader<T>> reader() const override {
        return std::make_unique<Reader>();
    }
};

template <class T, class M>
std::shared_ptr<const SelectRelatedBase<T>> make_select_related(M T::*member) {
    static_assert(std::is_base_of_v<ForeignKey<typename M::target_type>, M>,
                  "select_related: only ForeignKey and OneToOne members can be joined; use "
                  "prefetch_related for ManyToMany and Reverse members");
    std::shared_ptr<const SelectRelatedBase<T>> out;
    for_each_index<T>([&](auto i) {
        constexpr std::size_t I = decltype(i)::value;
        if constexpr (std::is_same_v<decltype(entry<T, I>().member), M T::*>) {
            if (!out && entry<T, I>().member == member)
                out = std::make_shared<SelectRelated<T, I>>();
        }
    });
    if (!out)
        throw UsageError("select_related: the member is not declared in the descriptor of " +
                         meta<T>().name);
    return out;
}

template <class T, class Path>
void add_prefetch(PrefetchList<T>& list, const Path& path);  // prefetch.hpp

/// "[a, b)" slice bounds relative to the whole result.
struct Bounds {
    std::int64_t lo = 0;
    std::optional<std::int64_t> hi;
    bool sliced() const { return lo != 0 || hi.has_value(); }
};

template <class... V> struct row_tuple { using type = std::tuple<V...>; };

}  // namespace detail

/// Clears every prefetch of a QuerySet: qs.prefetch_related(loom::none).
struct none_t {};

template <class T> class Chunks;  // chunks.hpp
inline constexpr none_t none{};

/// A lazy, immutable query over model T (see the header comment).
template <class T>
class QuerySet {
    struct State {
        std::vector<detail::Tokens> where;
        std::vector<OrderTerm<T>> order;
        bool reversed = false;
        detail::Bounds bounds;
        bool distinct = false;
        std::vector<std::shared_ptr<const detail::SelectRelatedBase<T>>> select_related;
        detail::PrefetchList<T> prefetch;
    };

public:
    using value_type = T;
    using const_iterator = typename std::vector<T>::const_iterator;
    using iterator = const_iterator;

    explicit QuerySet(Database& db) : db_(&db), state_(std::make_shared<const State>()) {
        static_assert(detail::validated<T>);
    }

    Database& database() const noexcept { return *db_; }

    // ---- building ----------------------------------------------------------------------------

    /// Keeps the rows matching `e` (ANDed with earlier filters).
    QuerySet filter(const Expr<T>& e) const {
        return with("filter", [&](State& s) { s.where.push_back(e.tokens); });
    }
    /// Drops the rows matching `e`.
    QuerySet exclude(const Expr<T>& e) const {
        return with("exclude", [&](State& s) { s.where.push_back((!e).tokens); });
    }

    /// Orders by the given terms (replacing an earlier order_by): members (ascending),
    /// columns, loom::asc(...) or loom::desc(...).
    template <class... Terms>
    QuerySet order_by(const Terms&... terms) const {
        if (state_->bounds.sliced())
            throw UsageError("order_by(): cannot reorder a QuerySet once it has been sliced; "
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
            throw UsageError("distinct(): cannot make a QuerySet distinct once it has been "
                             "sliced; call distinct() first, then slice");
        QuerySet q = copy();
        q.mut().distinct = true;
        return q;
    }

    /// Fills ForeignKey / OneToOne members by a JOIN in the same query.
    template <class... M>
    QuerySet select_related(M T::*... members) const {
        QuerySet q = copy();
        auto& s = q.mut();
        (add_select_related(s, detail::make_select_related(members)), ...);
        return q;
    }

    /// After the query runs, loads the given relations with one query per relation level
    /// (see prefetch.hpp): members (&Book::authors), paths (loom::path(...)) or loom::Prefetch.
    template <class... Paths>
    QuerySet prefetch_related(const Paths&... paths) const {
        QuerySet q = copy();
        auto& s = q.mut();
        (detail::add_prefetch<T>(s.prefetch, paths), ...);
        return q;
    }
    /// Clears every prefetch added so far (annotate_count stays).
    QuerySet prefetch_related(none_t) const {
        QuerySet q = copy();
        std::erase_if(q.mut().prefetch, [](const auto& node) {
            return dynamic_cast<const detail::Annotation*>(node.get()) == nullptr;
        });
        return q;
    }

    /// Counts each row's related objects into `into` (a plain integer member, not in the
    /// descriptor) with one GROUP BY query per batch of keys, run with the prefetches; a row
    /// with no related objects gets 0. `only` (a QuerySet of the related model) counts just
    /// the rows matching its filters. Reverse and many-to-many relations, either side.
    ///
    ///     db.objects<Author>().annotate_count(&Author::books, &Author::book_count)
    template <class Rel, class C>
    QuerySet annotate_count(Rel T::*relation, C T::*into) const;
    template <class Rel, class C>
    QuerySet annotate_count(Rel T::*relation, C T::*into,
                            const QuerySet<typename Rel::target_type>& only) const;

    /// Runs the query in chunks of at most `n` rows (keyset pagination on the order columns
    /// and the primary key, never OFFSET) and applies every prefetch to each chunk, so memory
    /// depends on n, not on the table (see chunks.hpp).
    ///
    ///     for (std::vector<Book>& chunk : db.objects<Book>().prefetch_related(&Book::authors).chunks(1000))
    Chunks<T> chunks(std::int64_t n) const;

    // ---- results -----------------------------------------------------------------------------

    const_iterator begin() const { return rows().begin(); }
    const_iterator end() const { return rows().end(); }
    /// Runs the query (once) and returns the rows.
    const std::vector<T>& rows() const {
        if (!cache_) cache_ = std::make_shared<const std::vector<T>>(evaluate());
        return *cache_;
    }
    /// A copy of the rows, to keep or change.
    std::vector<T> to_vector() const { return rows(); }
    /// Number of rows: from the cache when evaluated, else SELECT COUNT(*) (no rows loaded).
    std::int64_t count() const {
        if (cache_) return static_cast<std::int64_t>(cache_->size());
        std::int64_t n = 0;
        const auto q = build_count("COUNT(*)");
        run_scalar(q, n);
        return n;
    }
    /// True when at least one row matches (SELECT 1 ... LIMIT 1).
    bool exists() const {
        if (cache_) return !cache_->empty();
        std::int64_t n = 0;
        return run_scalar(build_exists(), n) > 0;
    }
    /// The first row in order (primary key order when none), or nullopt.
    std::optional<T> first() const {
        if (cache_) return cache_->empty() ? std::nullopt : std::optional<T>(cache_->front());
        auto q = limit(1);
        Database::ReadSnapshot snapshot(*db_, !state_->prefetch.empty());
        auto rows = q.fetch_base();
        if (rows.empty()) return std::nullopt;
        q.run_prefetches(rows);
        return std::move(rows.front());
    }
    /// The last row in order, or nullopt.
    std::optional<T> last() const {
        if (cache_) return cache_->empty() ? std::nullopt : std::optional<T>(cache_->back());
        if (state_->bounds.sliced()) {  // the slice cannot be reversed: read it (one query)
            const auto& all = rows();
            return all.empty() ? std::nullopt : std::optional<T>(all.back());
        }
        return reverse().first();
    }
    /// The one row matching the query; DoesNotExist or MultipleObjectsReturned otherwise.
    T get() const {
        auto q = limit(2);
        Database::ReadSnapshot snapshot(*db_, !state_->prefetch.empty());
        auto rows = q.fetch_base();
        if (rows.empty())
            throw DoesNotExist("get(): no " + detail::meta<T>().name + " matches the query (" +
                               q.sql().sql + ")");
        if (rows.size() > 1)
            throw MultipleObjectsReturned("get(): more than one " + detail::meta<T>().name +
                                          " matches the query (" + q.sql().sql + ")");
        q.run_prefetches(rows);
        return std::move(rows.front());
    }
    /// filter(e).get()
    T get(const Expr<T>& e) const { return filter(e).get(); }

    /// The values of the given columns (members or loom::col), one tuple per row.
    template <class... Cols>
    auto values_list(const Cols&... cols) const {
        using Tuple = std::tuple<typename std::remove_cvref_t<decltype(as_column(cols))>::value_type...>;
        std::vector<detail::ColumnRef> refs{as_column(cols).ref()...};
        detail::Renderer r;
        std::string select;
        for (std::size_t i = 0; i < refs.size(); ++i) {
            if (i) select += ", ";
            select += r.alias_for(refs[i].path) + "." + refs[i].column;
        }
        // The QuerySet's order (primary key order when none); a DISTINCT list with no order is
        // ordered by its own columns.
        QuerySet ordered = copy();
        if (state_->distinct && state_->order.empty())
            for (const auto& ref : refs) ordered.mut().order.push_back({ref, false});
        const auto q = ordered.build(select, nullptr, r, true);
        std::vector<Tuple> out;
        run(q, [&](const detail::Statement& s) {
            Tuple t;
            read_tuple(s, t, std::index_sequence_for<Cols...>{});
            out.push_back(std::move(t));
        });
        return out;
    }

    /// UPDATE every matching row in one statement; returns the number of rows changed.
    template <class... A>
    std::int64_t update(const Assignment<T>& first, const A&... more) const {
        std::vector<const Assignment<T>*> all{&first, &more...};
        const auto& m = detail::meta<T>();
        const auto sub = build_pk_subquery();
        std::string sql = "UPDATE " + m.table + " SET ";
        std::vector<Value> params;
        for (std::size_t i = 0; i < all.size(); ++i) {
            if (i) sql += ", ";
            sql += all[i]->column + " = ?";
            params.push_back(all[i]->value);
        }
        sql += " WHERE " + m.pk + " IN (" + sub.sql + ")";
        params.insert(params.end(), sub.params.begin(), sub.params.end());
        return db_->execute(sql, bind_all(params), "update");
    }
    /// DELETE every matching row in one statement (the database applies on_delete rules);
    /// returns the number of rows deleted.
    std::int64_t remove() const {
        const auto& m = detail::meta<T>();
        const auto sub = build_pk_subquery();
        return db_->execute("DELETE FROM " + m.table + " WHERE " + m.pk + " IN (" + sub.sql + ")",
                            bind_all(sub.params), "remove");
    }

    /// The SQL and parameters the base query would run.
    detail::Query sql() const {
        detail::Renderer r;
        return build(select_list(r), nullptr, r, true);
    }

    /// SQLite's EXPLAIN QUERY PLAN for the base query and each prefetch level.
    std::vector<std::string> explain() const;

    // ---- used by the prefetch engine ---------------------------------------------------------

    /// The base query extended for one prefetch level; rows lead with the parent key when
    /// `extras.lead` is set. Per-parent slicing turns into a ROW_NUMBER() window.
    detail::Query prefetch_query(const detail::SelectExtras& extras) const {
        detail::Renderer r;
        return build(select_list(r), &extras, r, true);
    }
    /// SELECT <key>, COUNT(*) ... GROUP BY <key>: the rows matching this QuerySet's filters,
    /// counted per parent key (annotate_count).
    detail::Query count_query(const detail::SelectExtras& x) const {
        detail::Renderer r;
        detail::Query q;
        std::string where = where_sql(r, q.params);
        detail::append_key_test(where, q.params, x);
        q.sql = "SELECT " + x.key_expr + ", COUNT(*) FROM " + detail::meta<T>().table + " AS t0" +
                x.join + r.joins() + where + " GROUP BY " + x.key_expr;
        return q;
    }
    bool has_select_related() const { return !state_->select_related.empty(); }
    const detail::PrefetchList<T>& prefetches() const { return state_->prefetch; }
    bool sliced() const { return state_->bounds.sliced(); }
    /// Reads one object, and the objects its select_related members join, from a row.
    struct RowReader {
        std::vector<std::unique_ptr<detail::SelectRelatedReader<T>>> readers;
        std::vector<int> offsets;
        void operator()(const detail::Statement& s, int first, T& obj) {
            detail::read_object(s, first, obj);
            for (std::size_t i = 0; i < readers.size(); ++i)
                readers[i]->read(s, first + offsets[i], obj);
        }
    };
    RowReader row_reader() const {
        RowReader rr;
        int c = static_cast<int>(detail::meta<T>().column_count());
        for (auto& sr : state_->select_related) {
            rr.readers.push_back(sr->reader());
            rr.offsets.push_back(c);
            c += static_cast<int>(sr->target().column_count());
        }
        return rr;
    }
    /// Same state? (used to detect two different querysets for one prefetch path)
    bool same_query(const QuerySet& o) const {
        if (state_ == o.state_) return true;
        // The parameters too: limit(3) and limit(5), or rating >= 4 and >= 2, share their SQL.
        const auto a = sql(), b = o.sql();
        return a.sql == b.sql && a.params == b.params;
    }
    /// Runs the prefetches on rows already read.
    void run_prefetches(std::vector<T>& rows) const {
        if (state_->prefetch.empty() || rows.empty()) return;
        std::vector<T*> parents;
        parents.reserve(rows.size());
        for (auto& r : rows) parents.push_back(&r);
        for (auto& node : state_->prefetch) node->run(*db_, parents);
    }

private:
    template <class> friend class Chunks;
    QuerySet copy() const {
        QuerySet q(*db_, state_);
        return q;
    }
    QuerySet(Database& db, std::shared_ptr<const State> s) : db_(&db), state_(std::move(s)) {}
    State& mut() {
        auto fresh = std::make_shared<State>(*state_);
        State& ref = *fresh;
        state_ = std::move(fresh);
        return ref;
    }
    template <class F>
    QuerySet with(const char* what, F&& f) const {
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
            throw UsageError(std::string(what) + "(" + std::to_string(b) +
                             "): the slice bound " + std::to_string(a) + " + " +
                             std::to_string(b) + " overflows a 64-bit integer");
        return a + b;
    }

    template <class M>
    static OrderTerm<T> to_order(M T::*m) { return asc(m); }
    template <class V>
    static OrderTerm<T> to_order(const Column<T, V>& c) { return asc(c); }
    static OrderTerm<T> to_order(const OrderTerm<T>& t) { return t; }

    template <class M>
    static auto as_column(M T::*m) { return col(m); }
    template <class V>
    static const Column<T, V>& as_column(const Column<T, V>& c) { return c; }

    template <class Tuple, std::size_t... I>
    static void read_tuple(const detail::Statement& s, Tuple& t, std::index_sequence<I...>) {
        (read_cell(s, static_cast<int>(I), std::get<I>(t)), ...);
    }
    template <class V>
    static void read_cell(const detail::Statement& s, int c, V& out) {
        if (const char* why = detail::read_column(s, c, out))
            throw DataError("values_list: column " + std::to_string(c) + " (" +
                            s.column_name(c) + ") of " + detail::meta<T>().name + ": " + why +
                            ", found " + detail::describe_stored(s, c));
    }

    static void add_select_related(State& s,
                                   std::shared_ptr<const detail::SelectRelatedBase<T>> sr) {
        for (auto& e : s.select_related)
            if (e->index() == sr->index()) return;
        s.select_related.push_back(std::move(sr));
    }

    std::string select_list(detail::Renderer& r) const {
        std::string sel = detail::meta<T>().select_list("t0");
        for (auto& sr : state_->select_related) {
            const std::string alias = r.alias_for({sr->step()});
            sel += ", " + sr->target().select_list(alias);
        }
        return sel;
    }

    std::string order_sql(detail::Renderer& r, bool default_pk) const {
        const auto& pk = detail::meta<T>().pk;
        const bool rev = state_->reversed;
        std::string out;
        bool has_pk = false;
        for (const auto& o : state_->order) {
            if (!out.empty()) out += ", ";
            out += r.alias_for(o.col.path) + "." + o.col.column;
            out += (o.descending != rev) ? " DESC" : " ASC";
            if (o.col.path.empty() && o.col.column == pk) has_pk = true;
        }
        if (!has_pk && (default_pk || !state_->order.empty() || rev)) {
            if (!out.empty()) out += ", ";
            out += "t0." + pk + (rev ? " DESC" : " ASC");
        }
        return out;
    }

    std::string where_sql(detail::Renderer& r, std::vector<Value>& params) const {
        std::string out;
        for (const auto& w : state_->where) {
            out += out.empty() ? " WHERE (" : " AND (";
            r.render(w, out, params);
            out += ")";
        }
        return out;
    }

    detail::Query build(const std::string& select, const detail::SelectExtras* x,
                        detail::Renderer& r, bool ordered) const {
        const auto& m = detail::meta<T>();
        detail::Query q;
        std::string where = where_sql(r, q.params);
        if (x) detail::append_key_test(where, q.params, *x);
        std::string order = ordered ? order_sql(r, true) : std::string();
        const bool window = x && !x->lead.empty() && state_->bounds.sliced();
        const std::string lead = x && !x->lead.empty() ? x->lead + ", " : std::string();
        std::string from = " FROM " + m.table + " AS t0" + (x ? x->join : std::string()) + r.joins();
        if (window) {
            q.sql = "SELECT * FROM (SELECT " + std::string(state_->distinct ? "DISTINCT " : "") +
                    lead + select + ", ROW_NUMBER() OVER (PARTITION BY " + x->lead +
                    " ORDER BY " + order + ") AS loom_rn" + from + where +
                    ") WHERE loom_rn > ? AND loom_rn <= ? ORDER BY loom_rn";
            q.params.push_back(state_->bounds.lo);
            q.params.push_back(state_->bounds.hi.value_or(std::numeric_limits<std::int64_t>::max()));
            return q;
        }
        // A to-many level orders by the parent key first: each parent's list keeps the QuerySet's
        // order, and SQLite walks the key's index in that order instead of sorting every row.
        if (!lead.empty() && !order.empty()) order = x->lead + " ASC, " + order;
        q.sql = "SELECT " + std::string(state_->distinct ? "DISTINCT " : "") + lead + select + from +
                where;
        if (!order.empty()) q.sql += " ORDER BY " + order;
        if (!x) append_limit(q);
        return q;
    }

    void append_limit(detail::Query& q) const {
        const auto& b = state_->bounds;
        if (!b.sliced()) return;
        q.sql += " LIMIT ? OFFSET ?";
        q.params.push_back(b.hi ? *b.hi - b.lo : std::int64_t{-1});
        q.params.push_back(b.lo);
    }

    detail::Query build_count(const char* what) const {
        detail::Renderer r;
        if (state_->bounds.sliced() || state_->distinct) {
            auto inner = build(state_->distinct ? select_list(r) : "t0." + detail::meta<T>().pk,
                               nullptr, r, state_->bounds.sliced());
            inner.sql = std::string("SELECT ") + what + " FROM (" + inner.sql + ")";
            return inner;
        }
        detail::Query q;
        const std::string where = where_sql(r, q.params);
        q.sql = std::string("SELECT ") + what + " FROM " + detail::meta<T>().table + " AS t0" +
                r.joins() + where;
        return q;
    }
    detail::Query build_exists() const {
        auto q = build_count("1");
        q.sql += " LIMIT 1";
        return q;
    }
    detail::Query build_pk_subquery() const {
        detail::Renderer r;
        return build("t0." + detail::meta<T>().pk, nullptr, r, state_->bounds.sliced());
    }

    static auto bind_all(const std::vector<Value>& params) {
        return [&params](detail::Binder& b) {
            for (const auto& v : params) b.value(v);
        };
    }
    template <class OnRow>
    std::int64_t run(const detail::Query& q, OnRow&& on_row) const {
        Database::OriginScope scope(*db_, detail::meta<T>().name);
        return db_->run(q.sql, bind_all(q.params), std::forward<OnRow>(on_row));
    }
    std::int64_t run_scalar(const detail::Query& q, std::int64_t& out) const {
        return run(q, [&](const detail::Statement& s) { out = s.column_int(0); });
    }

    std::vector<T> fetch_base() const {
        detail::Renderer r;
        const auto q = build(select_list(r), nullptr, r, true);
        std::vector<T> out;
        auto read = row_reader();
        run(q, [&](const detail::Statement& s) { read(s, 0, out.emplace_back()); });
        return out;
    }

    std::vector<T> evaluate() const {
        Database::ReadSnapshot snapshot(*db_, !state_->prefetch.empty());
        auto rows = fetch_base();
        run_prefetches(rows);
        return rows;
    }

    Database* db_;
    std::shared_ptr<const State> state_;
    mutable std::shared_ptr<const std::vector<T>> cache_;
};

template <class T>
QuerySet<T> Database::objects() {
    return QuerySet<T>(*this);
}

}  // namespace loom

#include "prefetch.hpp"
#include "chunks.hpp"
