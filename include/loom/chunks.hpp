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
//
// qs.chunks(n, loom::ahead) loads each next chunk on another thread, on a connection of its
// own, while the caller works on the current one (two chunks in memory at most); the caller sees
// the same rows, statements, events and errors as without it. SQLite files only; elsewhere it
// loads serially and QueryEvent::serial says why (docs/queries.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "detail/router.hpp"
#include "detail/session.hpp"
#include "detail/sql/select.hpp"
#include "detail/workers.hpp"
#include "fwd.hpp"

namespace loom {

/// The tag of qs.chunks(n, loom::ahead): load the next chunk while the caller works on this one.
struct ahead_t {
    explicit ahead_t() = default;
};
/// qs.chunks(n, loom::ahead): each next chunk (its base query and every prefetch level) is
/// loaded on another thread, on a read-only connection of its own, while the caller works on
/// the current chunk. Two chunks in memory at most; the same rows, statements (counted and
/// reported on the caller's thread, in the serial order) and errors (thrown when the caller
/// advances to the chunk that failed) as without it. SQLite files, outside a transaction;
/// otherwise chunks load serially and QueryEvent::serial says why.
inline constexpr ahead_t ahead{};

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
        /// Moves to the next chunk. With loom::ahead: the chunk loaded ahead, its statements
        /// reported now; an error of its load is thrown here, and the range stays on the
        /// current chunk (advancing again loads the next one again, on this thread).
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
           std::string server = {}, bool ahead = false)
        : db_(&db), server_(std::move(server)), want_ahead_(ahead) {
        if (n < 1)
            throw UsageError("chunks(" + std::to_string(n) + "): a chunk holds at least one row");
        auto plan = std::make_unique<Plan>();
        plan->state = std::move(state);
        plan->n = n;
        auto& keys = plan->keys;
        const auto& st = *plan->state;
        const auto& pk = detail::meta<T>().pk;
        // The ORDER BY terms, as QuerySet::order_sql writes them; the primary key ends them
        // (later terms could never break a tie, so they are left out of the comparison).
        for (const auto& o : st.order) {
            const detail::ColumnRef* plain = detail::plain_column(o.expr.tokens);
            const bool is_pk = plain && plain->column == pk;
            const bool desc = o.descending != st.reversed;
            const int nulls = st.reversed ? -o.nulls : o.nulls;
            // Where NULLs come: as asked, else where SQLite puts them (first when ascending).
            keys.push_back({o.expr, desc, is_pk, nulls ? nulls < 0 : !desc});
            if (is_pk) break;
        }
        if (keys.empty() || !keys.back().is_pk) {
            detail::ValueExpr e;
            detail::ColumnRef ref;
            ref.column = pk;
            detail::append(e.tokens, ref);
            keys.push_back({std::move(e), st.reversed, true, true});
        }
        if (st.bounds.hi) cur_.remaining = *st.bounds.hi - st.bounds.lo;
        // Where each key is read back: a column of T's own is already selected; a column of
        // a joined model, or an expression, is selected after T's columns and those of
        // select_related.
        const auto& columns = detail::meta<T>().columns;
        int extra = static_cast<int>(columns.size());
        for (const auto& sr : st.select_related) extra += static_cast<int>(sr->column_count());
        for (auto& k : keys) {
            if (const detail::ColumnRef* plain = detail::plain_column(k.expr.tokens))
                for (std::size_t c = 0; c < columns.size(); ++c)
                    if (columns[c] == plain->column) k.read_at = static_cast<int>(c);
            if (k.read_at < 0) {
                k.read_at = extra++;
                k.selected = true;
            }
        }
        plan_ = std::move(plan);
    }

    struct Key {
        detail::ValueExpr expr;
        bool descending = false;
        bool is_pk = false;       // never NULL
        bool nulls_first = true;  // NULLs come before every value in the order
        int read_at = -1;         // the result column holding its value
        bool selected = false;    // added to the select list (a column of a joined model)
    };
    /// What every chunk's query is made of; read by the thread that loads ahead too, so it
    /// never changes once built (and stays in place when the range is moved).
    struct Plan {
        std::shared_ptr<const detail::QueryState<T>> state;
        std::int64_t n = 0;
        std::vector<Key> keys;
    };
    /// Where the walk is: the order key of the last row read and the rows left of a slice.
    struct Cursor {
        std::vector<Value> last;
        std::optional<std::int64_t> remaining;
        bool done = false;
    };
    /// A chunk loaded ahead: the connection (a Session of its own) and the thread it is loaded
    /// on, what it read and how it ended. While `running`, only that thread touches the rest.
    struct Ahead {
        std::unique_ptr<detail::Session> session;
        std::vector<T> rows;
        Cursor cur;                // where the chunk starts; after the load, where it ended
        std::exception_ptr error;  // what its load threw
        bool elsewhere = false;    // it needed another Database (detail::ReadsElsewhere)
        bool running = false;
        std::uint64_t writes = 0;   // the Database's writes when the load began
        detail::Background thread;  // last: joined before the rest goes
    };

    detail::Session& session() {
        // Every chunk reads the server the first one was routed to (see Database::add_replica).
        if (!session_)
            session_ = detail::router_of(*db_).pick(detail::session_of(*db_), server_).session;
        return *session_;
    }

    void next() {
        if (ahead_ && ahead_->running && take_ahead()) {
            launch();
            return;
        }
        rows_.clear();
        if (cur_.done) return;
        detail::Session& s = session();
        {
            std::optional<detail::Session::SerialNote> note;
            if (want_ahead_ && !why_.empty()) note.emplace(s, "chunk not loaded ahead: " + why_);
            // The walk moves on once the chunk is loaded: after an error, advancing again
            // reads the same chunk again.
            Cursor after = cur_;
            load(*plan_, s, after, rows_);
            cur_ = std::move(after);
        }
        launch();
    }

    /// Starts loading the chunk after the caller's on the ahead thread, when asked and sound.
    void launch() {
        if (!want_ahead_ || off_ || cur_.done || rows_.empty()) return;
        detail::Session& s = session();
        if (s.depth() != 0 || s.connection().in_transaction()) {
            why_ = "inside a transaction (another connection would not see its writes)";
            return;
        }
        if (!ahead_) {
            std::string why;
            auto own = s.open_ahead(why);
            if (!own) {
                stop_ahead(why);
                return;
            }
            ahead_ = std::make_unique<Ahead>();
            ahead_->session = std::move(own);
        }
        Ahead& a = *ahead_;
        s.copy_settings_to(*a.session);
        a.cur = cur_;
        a.writes = s.root().writes();
        try {
            a.thread.start([plan = plan_.get(), &a] {
                const detail::Session::AheadThread mark(*a.session);
                try {
                    load(*plan, *a.session, a.cur, a.rows);
                } catch (const detail::ReadsElsewhere&) {
                    a.elsewhere = true;
                } catch (...) {
                    a.error = std::current_exception();
                }
            });
        } catch (const std::system_error& e) {
            stop_ahead(std::string("no thread could be started: ") + e.what());
            return;
        }
        a.running = true;
        why_.clear();
    }

    /// Waits for the chunk loaded ahead and makes it the caller's; false (nothing of it kept,
    /// nothing reported) when it must be loaded again on this thread.
    bool take_ahead() {
        Ahead& a = *ahead_;
        a.thread.wait();
        a.running = false;
        detail::Session& s = session();
        auto drop = [&] {
            a.rows.clear();
            a.session->held().clear();
            a.error = nullptr;
            a.elsewhere = false;
        };
        if (a.elsewhere) {
            drop();
            stop_ahead("a Prefetch reads another Database, which belongs to the caller's thread");
            return false;
        }
        if (s.root().writes() != a.writes) {
            // A serial walk would read the next chunk after those writes.
            drop();
            stop_ahead("the walk writes to the database (a chunk loaded ahead could miss it)");
            return false;
        }
        if (s.depth() != 0 || s.connection().in_transaction()) {
            drop();
            why_ = "inside a transaction (another connection would not see its writes)";
            return false;
        }
        // Its statements, as a serial walk would have run them here; then its error, if any.
        try {
            s.replay(a.session->held(),
                     static_cast<int>(a.session->options().prefetch_workers) + 1);
        } catch (...) {
            drop();
            throw;
        }
        if (a.error) {
            auto error = a.error;
            drop();
            std::rethrow_exception(error);
        }
        rows_.swap(a.rows);
        a.rows.clear();
        cur_ = std::move(a.cur);
        return true;
    }

    /// No more chunks ahead in this walk, for this reason (QueryEvent::serial).
    void stop_ahead(std::string why) {
        off_ = true;
        why_ = std::move(why);
    }

    /// Loads the chunk that starts at `cur` into `rows` (empty), on `session`, and moves `cur`
    /// past it. Touches nothing of the range's own: the ahead thread runs it too.
    static void load(const Plan& plan, detail::Session& session, Cursor& cur,
                     std::vector<T>& rows) {
        if (cur.done) return;
        std::int64_t want = plan.n;
        if (cur.remaining) want = std::min(want, *cur.remaining);
        if (want <= 0) {
            cur.done = true;
            return;
        }
        // One row more than the chunk tells whether another chunk follows, without a last
        // query that finds nothing.
        const bool probe = !cur.remaining || *cur.remaining > want;
        const auto& st = *plan.state;
        detail::SelectBuilder<T> b(st, &session);
        auto& r = b.renderer();
        const auto q = b.chunk(
            [&](std::vector<Value>& params) {
                std::string extra;
                for (const auto& k : plan.keys)
                    if (k.selected) {
                        extra += ", ";
                        r.render(k.expr.tokens, extra, params);
                    }
                return extra;
            },
            [&](std::vector<Value>& params) {
                return cur.last.empty() ? std::string() : after_last(plan, cur.last, r, params);
            },
            want + (probe ? 1 : 0), cur.last.empty() ? st.bounds.lo : 0);

        bool more = false;
        rows.reserve(static_cast<std::size_t>(want));
        detail::RowReader<T> read(st);
        // A chunk and its prefetch levels read one snapshot (as a QuerySet evaluation does).
        // Between chunks, other connections may commit: the keyset still visits no row twice.
        detail::Session::ReadSnapshot snapshot(session, !st.prefetch.empty(),
                                               detail::prefetch_width(st.prefetch));
        {
            detail::Session::OriginScope scope(session, detail::meta<T>().name);
            session.run(q, [&](const detail::Statement& s) {
                if (static_cast<std::int64_t>(rows.size()) == want) {
                    more = true;  // the probe row: not read
                    return;
                }
                read(s, 0, rows.emplace_back());
                if (static_cast<std::int64_t>(rows.size()) == want) {
                    cur.last.clear();
                    for (const auto& k : plan.keys)
                        cur.last.push_back(detail::cell_value(s, k.read_at));
                }
            });
        }
        if (cur.remaining) *cur.remaining -= static_cast<std::int64_t>(rows.size());
        cur.done = !more;
        std::vector<T*> parents;
        parents.reserve(rows.size());
        for (auto& row : rows) parents.push_back(&row);
        detail::run_prefetches<T>(session, st.prefetch, parents);
    }

    /// Rows that come after the last one read, in ORDER BY order (NULLs where Key::nulls_first
    /// says).
    static std::string after_last(const Plan& plan, const std::vector<Value>& last,
                                  detail::Renderer& r, std::vector<Value>& params) {
        const auto& keys = plan.keys;
        auto column = [&](const Key& k) {
            std::string out;
            r.render(k.expr.tokens, out, params);
            return out;
        };
        bool simple = true;
        for (std::size_t i = 0; i < keys.size(); ++i)
            if (keys[i].descending != keys[0].descending || last[i].index() == 0 ||
                (!keys[i].is_pk && !keys[i].nulls_first))
                simple = false;
        if (simple) {  // one row-value comparison, which an index serves directly
            std::string cols, marks;
            for (std::size_t i = 0; i < keys.size(); ++i) {
                cols += (i ? ", " : "") + column(keys[i]);
                marks += i ? ", ?" : "?";
            }
            params.insert(params.end(), last.begin(), last.end());
            return "(" + cols + ") " + (keys[0].descending ? "<" : ">") + " (" + marks + ")";
        }
        // (k1 after v1) OR (k1 = v1 AND k2 after v2) OR ...
        std::string out;
        for (std::size_t i = 0; i < keys.size(); ++i) {
            const Key& k = keys[i];
            const bool null = last[i].index() == 0;
            if (null && !k.nulls_first) continue;  // nothing sorts after a NULL that comes last
            std::string term = "(";
            for (std::size_t j = 0; j < i; ++j) {
                if (last[j].index() == 0) {
                    term += column(keys[j]) + " IS NULL AND ";
                } else {
                    term += column(keys[j]) + " = ? AND ";
                    params.push_back(last[j]);
                }
            }
            if (null) {
                term += column(k) + " IS NOT NULL";
            } else if (!k.is_pk && !k.nulls_first) {
                const std::string c = column(k);
                term += "(" + c + (k.descending ? " < ?" : " > ?");
                params.push_back(last[i]);
                term += " OR " + column(k) + " IS NULL)";
            } else {
                term += column(k) + (k.descending ? " < ?" : " > ?");
                params.push_back(last[i]);
            }
            out += (out.empty() ? "" : " OR ") + term + ")";
        }
        return out.empty() ? "FALSE" : out;
    }

    Database* db_;
    std::string server_;                  // qs.use(...): "" lets the router choose
    detail::Session* session_ = nullptr;  // the server the chunks read
    std::unique_ptr<const Plan> plan_;
    Cursor cur_;           // after the caller's chunk
    std::vector<T> rows_;  // the caller's chunk
    bool started_ = false;
    bool want_ahead_ = false;       // chunks(n, loom::ahead)
    bool off_ = false;              // no more chunks ahead in this walk (why_ says why)
    std::string why_;               // why the next chunk is not loaded ahead
    std::unique_ptr<Ahead> ahead_;  // last: its thread stops before the rest goes
};

}  // namespace loom
