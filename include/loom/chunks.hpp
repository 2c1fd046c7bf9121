// loom/chunks.hpp - bounded-memory iteration: qs.chunks(n) runs the query n rows at a time and
// applies every prefetch (and annotate_count) to each chunk, so memory depends on n, not on
// the size of the table.
//
//     for (std::vector<Book>& chunk : db.objects<Book>()
//                                         .prefetch_related(&Book::authors)
//                                         .chunks(1000)) {
//         for (const Book& b : chunk) use(b, b.authors);   // 2 queries per chunk
//     }
//
// Chunks follow each other by keyset pagination, never OFFSET: the next chunk starts after the
// last row read, compared on the QuerySet's order columns and the primary key that breaks
// their ties (`WHERE (t0."id") > (?)`, or `WHERE ("year" < ? OR ...) OR ("year" = ? AND "id" > ?)`
// for a descending order). Each row is read once even when the rows are many, and the cost of
// a chunk does not grow with how far into the table it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "detail/router.hpp"
#include "detail/sql/select.hpp"
#include "fwd.hpp"

namespace loom {

/// The range qs.chunks(n) returns: an input range whose elements are the chunks, each a
/// std::vector<T> of at most n rows (never an empty one). The vector is reused: take what you
/// keep out of it (moving the objects is fine; their relations stay loaded) before advancing.
template <class T> class Chunks {
public:
    class iterator {
    public:
        using iterator_concept = std::input_iterator_tag;
        using value_type = std::vector<T>;
        using difference_type = std::ptrdiff_t;
        using reference = std::vector<T>&;

        iterator() = default;
        explicit iterator(Chunks* c) : c_(c) {}
        std::vector<T>& operator*() const { return c_->rows_; }
        std::vector<T>* operator->() const { return &c_->rows_; }
        iterator& operator++() {
            c_->next();
            return *this;
        }
        void operator++(int) { ++*this; }
        friend bool operator==(const iterator& i, std::default_sentinel_t) { return i.at_end(); }

    private:
        bool at_end() const { return !c_ || c_->rows_.empty(); }
        Chunks* c_ = nullptr;
    };

    /// Runs the first chunk's queries (once) and returns an iterator to it.
    iterator begin() {
        if (!started_) {
            started_ = true;
            next();
        }
        return iterator(this);
    }
    std::default_sentinel_t end() const noexcept { return {}; }

private:
    friend class QuerySet<T>;
    Chunks(Database& db, std::shared_ptr<const detail::QueryState<T>> state, std::int64_t n,
           std::string server = {})
        : db_(&db), state_(std::move(state)), n_(n), server_(std::move(server)) {
        if (n < 1)
            throw UsageError("chunks(" + std::to_string(n) + "): a chunk holds at least one row");
        const auto& st = *state_;
        const auto& pk = detail::meta<T>().pk;
        // The ORDER BY terms, as QuerySet::order_sql writes them; the primary key ends them
        // (later terms could never break a tie, so they are left out of the comparison).
        for (const auto& o : st.order) {
            const detail::ColumnRef* plain = detail::plain_column(o.expr.tokens);
            const bool is_pk = plain && plain->column == pk;
            const bool desc = o.descending != st.reversed;
            const int nulls = st.reversed ? -o.nulls : o.nulls;
            // Where NULLs come: as asked, else where SQLite puts them (first when ascending).
            keys_.push_back({o.expr, desc, is_pk, nulls ? nulls < 0 : !desc});
            if (is_pk) break;
        }
        if (keys_.empty() || !keys_.back().is_pk) {
            detail::ValueExpr e;
            detail::ColumnRef ref;
            ref.column = pk;
            detail::append(e.tokens, ref);
            keys_.push_back({std::move(e), st.reversed, true, true});
        }
        if (st.bounds.hi) remaining_ = *st.bounds.hi - st.bounds.lo;
        // Where each key is read back: a column of T's own is already selected; a column of
        // a joined model, or an expression, is selected after T's columns and those of
        // select_related.
        const auto& columns = detail::meta<T>().columns;
        int extra = static_cast<int>(columns.size());
        for (const auto& sr : st.select_related) extra += static_cast<int>(sr->column_count());
        for (auto& k : keys_) {
            if (const detail::ColumnRef* plain = detail::plain_column(k.expr.tokens))
                for (std::size_t c = 0; c < columns.size(); ++c)
                    if (columns[c] == plain->column) k.read_at = static_cast<int>(c);
            if (k.read_at < 0) {
                k.read_at = extra++;
                k.selected = true;
            }
        }
    }

    struct Key {
        detail::ValueExpr expr;
        bool descending = false;
        bool is_pk = false;       // never NULL
        bool nulls_first = true;  // NULLs come before every value in the order
        int read_at = -1;         // the result column holding its value
        bool selected = false;    // added to the select list (a column of a joined model)
    };

    void next() {
        rows_.clear();
        if (done_) return;
        std::int64_t want = n_;
        if (remaining_) want = std::min(want, *remaining_);
        if (want <= 0) {
            done_ = true;
            return;
        }
        // One row more than the chunk tells whether another chunk follows, without a last
        // query that finds nothing.
        const bool probe = !remaining_ || *remaining_ > want;
        const auto& st = *state_;
        // Every chunk reads the server the first one was routed to (see Database::add_replica).
        if (!session_)
            session_ = detail::router_of(*db_).pick(detail::session_of(*db_), server_).session;
        detail::Session& session = *session_;
        detail::SelectBuilder<T> b(st, &session);
        auto& r = b.renderer();
        const auto q = b.chunk(
            [&](std::vector<Value>& params) {
                std::string extra;
                for (const auto& k : keys_)
                    if (k.selected) {
                        extra += ", ";
                        r.render(k.expr.tokens, extra, params);
                    }
                return extra;
            },
            [&](std::vector<Value>& params) {
                return last_.empty() ? std::string() : after_last(r, params);
            },
            want + (probe ? 1 : 0), last_.empty() ? st.bounds.lo : 0);

        bool more = false;
        rows_.reserve(static_cast<std::size_t>(want));
        detail::RowReader<T> read(st);
        // A chunk and its prefetch levels read one snapshot (as a QuerySet evaluation does).
        // Between chunks, other connections may commit: the keyset still visits no row twice.
        detail::Session::ReadSnapshot snapshot(session, !st.prefetch.empty(),
                                               detail::prefetch_width(st.prefetch));
        {
            detail::Session::OriginScope scope(session, detail::meta<T>().name);
            session.run(q, [&](const detail::Statement& s) {
                if (static_cast<std::int64_t>(rows_.size()) == want) {
                    more = true;  // the probe row: not read
                    return;
                }
                read(s, 0, rows_.emplace_back());
                if (static_cast<std::int64_t>(rows_.size()) == want) {
                    last_.clear();
                    for (const auto& k : keys_) last_.push_back(detail::cell_value(s, k.read_at));
                }
            });
        }
        if (remaining_) *remaining_ -= static_cast<std::int64_t>(rows_.size());
        done_ = !more;
        std::vector<T*> parents;
        parents.reserve(rows_.size());
        for (auto& row : rows_) parents.push_back(&row);
        detail::run_prefetches<T>(session, st.prefetch, parents);
    }

    /// Rows that come after the last one read, in ORDER BY order (NULLs where Key::nulls_first
    /// says).
    std::string after_last(detail::Renderer& r, std::vector<Value>& params) const {
        auto column = [&](const Key& k) {
            std::string out;
            r.render(k.expr.tokens, out, params);
            return out;
        };
        bool simple = true;
        for (std::size_t i = 0; i < keys_.size(); ++i)
            if (keys_[i].descending != keys_[0].descending || last_[i].index() == 0 ||
                (!keys_[i].is_pk && !keys_[i].nulls_first))
                simple = false;
        if (simple) {  // one row-value comparison, which an index serves directly
            std::string cols, marks;
            for (std::size_t i = 0; i < keys_.size(); ++i) {
                cols += (i ? ", " : "") + column(keys_[i]);
                marks += i ? ", ?" : "?";
            }
            params.insert(params.end(), last_.begin(), last_.end());
            return "(" + cols + ") " + (keys_[0].descending ? "<" : ">") + " (" + marks + ")";
        }
        // (k1 after v1) OR (k1 = v1 AND k2 after v2) OR ...
        std::string out;
        for (std::size_t i = 0; i < keys_.size(); ++i) {
            const Key& k = keys_[i];
            const bool null = last_[i].index() == 0;
            if (null && !k.nulls_first) continue;  // nothing sorts after a NULL that comes last
            std::string term = "(";
            for (std::size_t j = 0; j < i; ++j) {
                if (last_[j].index() == 0) {
                    term += column(keys_[j]) + " IS NULL AND ";
                } else {
                    term += column(keys_[j]) + " = ? AND ";
                    params.push_back(last_[j]);
                }
            }
            if (null) {
                term += column(k) + " IS NOT NULL";
            } else if (!k.is_pk && !k.nulls_first) {
                const std::string c = column(k);
                term += "(" + c + (k.descending ? " < ?" : " > ?");
                params.push_back(last_[i]);
                term += " OR " + column(k) + " IS NULL)";
            } else {
                term += column(k) + (k.descending ? " < ?" : " > ?");
                params.push_back(last_[i]);
            }
            out += (out.empty() ? "" : " OR ") + term + ")";
        }
        return out.empty() ? "FALSE" : out;
    }

    Database* db_;
    std::shared_ptr<const detail::QueryState<T>> state_;
    std::int64_t n_;
    std::string server_;                  // qs.use(...): "" lets the router choose
    detail::Session* session_ = nullptr;  // the server the chunks read
    std::vector<Key> keys_;
    std::optional<std::int64_t> remaining_;  // rows left in a sliced QuerySet
    std::vector<Value> last_;                // the order key of the last row read
    std::vector<T> rows_;
    bool started_ = false;
    bool done_ = false;
};

}  // namespace loom
