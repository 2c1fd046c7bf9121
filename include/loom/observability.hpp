// loom/observability.hpp - seeing what loom runs: a query logger, a parameter formatter with
// redaction, a test helper that proves how many queries a block ran, an N+1 guard, and a profile
// report (a text table and a self-contained HTML page with a timeline).
//
//     auto log = loom::log_queries(db, stderr);            // every statement, one line each
//     loom::expect_queries(db, 3, [&] { for (auto& b : books) use(b); });   // exactly 3
//     loom::NPlusOneGuard guard(db, {.threshold = 2});     // a repeated statement throws
//     loom::Profile prof(db);  /* ... */  prof.write_html("profile.html");
//
// Everything here is built on Database::on_query listeners: with none of them alive, running a
// statement costs one branch more than not observing at all. Each object below listens until it
// is destroyed, so it must not outlive its Database (declare it after the Database).
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "database.hpp"
#include "errors.hpp"
#include "types.hpp"

namespace loom {

// ---- formatting parameters ------------------------------------------------------------------

/// How bound parameters are written in logs and messages.
struct ParamFormat {
    /// Longer text is cut (at a UTF-8 character boundary) and its length given; 0: no limit.
    std::size_t max_string = 64;
    /// Blobs as `<blob 512 bytes>`; false: as hex, cut after `max_blob` bytes.
    bool redact_blobs = true;
    /// Every text value as `<text 12 bytes>`: keeps personal data out of production logs.
    bool redact_text = false;
    std::size_t max_blob = 16;
    /// More parameters than this are summarised as `... 40 more`; 0: all.
    std::size_t max_params = 32;
};

namespace detail {

inline void append_ms(std::string& out, std::chrono::nanoseconds d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", static_cast<double>(d.count()) / 1e6);
    out += buf;
}

inline std::string ms(std::chrono::nanoseconds d) {
    std::string s;
    append_ms(s, d);
    return s;
}

/// `s` cut to at most `n` bytes without splitting a UTF-8 sequence.
inline std::string_view cut_utf8(std::string_view s, std::size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

/// A SQL-style quoted string with control characters escaped, so one value stays on one line.
inline void append_quoted(std::string& out, std::string_view s) {
    out += '\'';
    for (char c : s) {
        switch (c) {
            case '\'': out += "''"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '\'';
}

/// BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE: never part of an N+1 pattern.
inline bool is_transaction_control(std::string_view sql) {
    for (std::string_view w : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})
        if (sql.starts_with(w)) return true;
    return false;
}

inline bool is_read(std::string_view sql) {
    return sql.starts_with("SELECT") || sql.starts_with("WITH") || sql.starts_with("select") ||
           sql.starts_with("with");
}

}  // namespace detail

/// One parameter as it would appear in a log: `NULL`, `42`, `2.5`, `'Dune'` (quotes doubled,
/// control characters escaped), `'A very long ...'... (120 bytes)`, `<blob 16 bytes>`.
///
///     loom::format_value(loom::Value{std::string("it's")})   // "'it''s'"
inline std::string format_value(const Value& v, const ParamFormat& f = {}) {
    std::string out;
    if (std::holds_alternative<std::nullptr_t>(v)) {
        out = "NULL";
    } else if (auto* i = std::get_if<std::int64_t>(&v)) {
        out = std::to_string(*i);
    } else if (auto* d = std::get_if<double>(&v)) {
        char buf[64];
        const auto r = std::to_chars(buf, buf + sizeof buf, *d);
        out.assign(buf, r.ptr);
        if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // 2.0, not 2
    } else if (auto* s = std::get_if<std::string>(&v)) {
        if (f.redact_text) {
            out = "<text " + std::to_string(s->size()) + " bytes>";
        } else if (f.max_string && s->size() > f.max_string) {
            detail::append_quoted(out, detail::cut_utf8(*s, f.max_string));
            out += "... (" + std::to_string(s->size()) + " bytes)";
        } else {
            detail::append_quoted(out, *s);
        }
    } else {
        const Blob& b = std::get<Blob>(v);
        if (f.redact_blobs) {
            out = "<blob " + std::to_string(b.size()) + " bytes>";
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out = "x'";
            const std::size_t n = f.max_blob ? std::min(b.size(), f.max_blob) : b.size();
            for (std::size_t k = 0; k < n; ++k) {
                const auto c = static_cast<unsigned char>(b[k]);
                out += hex[c >> 4];
                out += hex[c & 15];
            }
            out += '\'';
            if (n < b.size()) out += "... (" + std::to_string(b.size()) + " bytes)";
        }
    }
    return out;
}

/// The parameters of a statement, in order: `(1974, 'The Dispossessed', NULL)`.
///
///     auto sub = db.on_query([](const loom::QueryEvent& e) {
///         std::puts(loom::format_params(e.params, {.max_string = 32, .redact_blobs = true}).c_str());
///     });
inline std::string format_params(std::span<const Value> params, const ParamFormat& f = {}) {
    std::string out = "(";
    const std::size_t shown =
        f.max_params ? std::min(params.size(), f.max_params) : params.size();
    for (std::size_t k = 0; k < shown; ++k) {
        if (k) out += ", ";
        out += format_value(params[k], f);
    }
    if (shown < params.size())
        out += ", ... " + std::to_string(params.size() - shown) + " more";
    out += ')';
    return out;
}

/// The shape of a statement: its SQL text with every `IN (?, ?, ...)` list written `IN (...)`,
/// so the chunks and key counts of one prefetch level, or one query run in a loop, group
/// together. Values are always bound parameters, so the text carries no data.
///
///     loom::statement_shape("... WHERE t0.\"id\" IN (?, ?, ?)")   // "... WHERE t0.\"id\" IN (...)"
inline std::string statement_shape(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    std::size_t at = 0;
    while (true) {
        const std::size_t in = sql.find("IN (?", at);
        if (in == std::string_view::npos) break;
        std::size_t p = in + 5;
        while (sql.substr(p, 3) == ", ?") p += 3;
        if (p < sql.size() && sql[p] == ')') {
            out.append(sql.substr(at, in - at));
            out += "IN (...)";
            at = p + 1;
        } else {
            out.append(sql.substr(at, p - at));
            at = p;
        }
    }
    out.append(sql.substr(at));
    return out;
}

// ---- logging --------------------------------------------------------------------------------

/// What a query logger writes.
struct LogOptions {
    /// How parameters are written (see ParamFormat).
    ParamFormat params{};
    /// Write the parameters at all.
    bool show_params = true;
    /// Only statements that took at least this long (a slow-query log); 0: every statement.
    std::chrono::nanoseconds slower_than{0};
    /// Starts each line.
    std::string prefix = "[loom] ";
};

/// One log line (no newline) for a statement:
/// `[loom] 0.042 ms, 5 rows [prefetch Book::authors] SELECT ... IN (?, ?) -- (1, 2)`.
inline std::string format_query(const QueryEvent& e, const LogOptions& o = {}) {
    std::string line = o.prefix;
    detail::append_ms(line, e.duration);
    line += " ms, ";
    if (!e.error.empty()) {
        line += "FAILED (";
        line += e.error;
        line += ")";
    } else if (e.changes > 0 || !detail::is_read(e.sql)) {
        line += std::to_string(e.changes) + (e.changes == 1 ? " row changed" : " rows changed");
    } else {
        line += std::to_string(e.rows) + (e.rows == 1 ? " row" : " rows");
    }
    if (!e.origin.empty()) {
        line += " [";
        line += e.origin;
        line += ']';
    }
    line += ' ';
    line += e.sql;
    if (o.show_params && !e.params.empty()) {
        line += " -- ";
        line += format_params(e.params, o.params);
    }
    return line;
}

/// A listener that writes one line per statement to `sink` (see format_query); install it for
/// good with db.set_query_hook(loom::query_logger(...)), or for a while with log_queries. A
/// std::FILE* or std::ostream given as the sink must outlive the listener.
inline QueryListener query_logger(std::function<void(std::string_view line)> sink,
                                  LogOptions options = {}) {
    return [sink = std::move(sink), o = std::move(options)](const QueryEvent& e) {
        if (e.duration < o.slower_than) return;
        sink(format_query(e, o));
    };
}
inline QueryListener query_logger(std::FILE* out, LogOptions options = {}) {
    return query_logger(
        [out](std::string_view line) {
            std::fwrite(line.data(), 1, line.size(), out);
            std::fputc('\n', out);
        },
        std::move(options));
}
inline QueryListener query_logger(std::ostream& out, LogOptions options = {}) {
    return query_logger([&out](std::string_view line) { out << line << '\n'; },
                        std::move(options));
}

/// Logs every statement `db` runs until the returned Subscription is destroyed. The sink is a
/// std::FILE* (stderr), a std::ostream& (std::clog), or a callback taking each line.
///
///     auto log = loom::log_queries(db, stderr, {.params = {.max_string = 32}});
[[nodiscard]] inline Database::Subscription log_queries(
    Database& db, std::function<void(std::string_view line)> sink, LogOptions options = {}) {
    return db.on_query(query_logger(std::move(sink), std::move(options)));
}
[[nodiscard]] inline Database::Subscription log_queries(Database& db, std::FILE* out,
                                                        LogOptions options = {}) {
    return db.on_query(query_logger(out, std::move(options)));
}
[[nodiscard]] inline Database::Subscription log_queries(Database& db, std::ostream& out,
                                                        LogOptions options = {}) {
    return db.on_query(query_logger(out, std::move(options)));
}

// ---- counting queries in tests -----------------------------------------------------------

/// A statement as a test helper recorded it (the event's views copied).
struct RecordedQuery {
    std::string sql;
    std::string origin;
    std::string params;  // formatted, blobs redacted
    std::string error;
    std::int64_t rows = 0;
    std::int64_t changes = 0;
    std::chrono::nanoseconds duration{};
};

/// The numbered list test failures print: `  1. [Book] SELECT ... -- (1990)`.
inline std::string describe_queries(const std::vector<RecordedQuery>& queries) {
    std::string out;
    std::size_t n = 0;
    for (const auto& q : queries) {
        out += "  " + std::to_string(++n) + ". ";
        if (!q.origin.empty()) out += "[" + q.origin + "] ";
        out += q.sql;
        if (q.params != "()") out += " -- " + q.params;
        if (!q.error.empty()) out += " -- FAILED: " + q.error;
        out += '\n';
    }
    return out;
}

/// A block ran a different number of statements than expected. The message lists every
/// statement it ran, numbered, with what issued it and its parameters.
class QueryCountMismatch : public Error {
public:
    QueryCountMismatch(std::int64_t expected, std::vector<RecordedQuery> seen)
        : Error(message(expected, seen)), expected_(expected), seen_(std::move(seen)) {}
    std::int64_t expected() const noexcept { return expected_; }
    std::int64_t actual() const noexcept { return static_cast<std::int64_t>(seen_.size()); }
    const std::vector<RecordedQuery>& queries() const noexcept { return seen_; }

private:
    static std::string message(std::int64_t expected, const std::vector<RecordedQuery>& seen) {
        auto plural = [](std::int64_t n) {
            return std::to_string(n) + (n == 1 ? " query" : " queries");
        };
        std::string m = "expected " + plural(expected) + ", but ";
        if (seen.empty()) return m + "none ran";
        m += std::to_string(seen.size()) + " ran:\n" + describe_queries(seen);
        m.pop_back();  // the list's last newline
        return m;
    }
    std::int64_t expected_;
    std::vector<RecordedQuery> seen_;
};

/// Records every statement `db` runs from construction on, and checks that exactly `expected`
/// ran, by `check()` or at the end of the scope. Every statement counts, as in
/// db.query_count(): SELECTs, writes, and BEGIN / COMMIT / SAVEPOINT of transactions.
///
///     {
///         loom::ExpectQueries expect(db, 2);
///         auto books = db.objects<Book>().prefetch_related(&Book::authors).to_vector();
///     }   // throws loom::QueryCountMismatch, listing the statements, if it was not 2
///
/// The destructor throws only when no exception is already in flight (then the first error
/// wins) and check() was not called. A throwing destructor terminates the program where
/// destructors must not throw (a guard kept in a container or as a member of an object whose
/// destructor is noexcept): there, call check() explicitly, which also ends the recording.
class ExpectQueries {
public:
    ExpectQueries(Database& db, std::int64_t expected, ParamFormat params = {})
        : expected_(expected), format_(params), uncaught_(std::uncaught_exceptions()) {
        sub_ = db.on_query([this](const QueryEvent& e) {
            RecordedQuery q;
            q.sql = e.sql;
            q.origin = e.origin;
            q.params = format_params(e.params, format_);
            q.error = e.error;
            q.rows = e.rows;
            q.changes = e.changes;
            q.duration = e.duration;
            seen_.push_back(std::move(q));
        });
    }
    ExpectQueries(const ExpectQueries&) = delete;
    ExpectQueries& operator=(const ExpectQueries&) = delete;

    ~ExpectQueries() noexcept(false) {
        sub_.reset();
        if (checked_ || std::uncaught_exceptions() > uncaught_) return;
        check();
    }

    /// Stops recording and throws QueryCountMismatch when the count differs.
    void check() {
        sub_.reset();
        checked_ = true;
        if (count() != expected_) throw QueryCountMismatch(expected_, seen_);
    }

    /// Statements seen so far.
    std::int64_t count() const noexcept { return static_cast<std::int64_t>(seen_.size()); }
    const std::vector<RecordedQuery>& queries() const noexcept { return seen_; }

private:
    std::int64_t expected_;
    ParamFormat format_;
    int uncaught_;
    bool checked_ = false;
    std::vector<RecordedQuery> seen_;
    Database::Subscription sub_;
};

/// Runs `fn` and throws QueryCountMismatch (listing every statement seen) unless it ran exactly
/// `expected` statements. Returns what `fn` returns; an exception from `fn` passes through
/// unchecked. Works with any test framework: the exception's what() is the report.
///
///     auto books = loom::expect_queries(db, 3, [&] {
///         return db.objects<Book>().prefetch_related(&Book::authors, &Book::reviews).to_vector();
///     });
template <class Fn>
auto expect_queries(Database& db, std::int64_t expected, Fn&& fn)
    -> std::invoke_result_t<Fn&> {
    using R = std::invoke_result_t<Fn&>;
    ExpectQueries guard(db, expected);
    if constexpr (std::is_void_v<R>) {
        std::invoke(fn);
        guard.check();
    } else {
        R result = std::invoke(fn);
        guard.check();
        return std::forward<R>(result);
    }
}

// ---- the N+1 guard ------------------------------------------------------------------------

/// What an NPlusOneGuard does when a statement repeats past its threshold.
enum class NPlusOneMode {
    raise,  // throw NPlusOneDetected from the statement that crossed it (tests, development)
    warn,   // report each repeated statement once, when the guard's scope ends (production)
};

/// A statement that ran more often than an NPlusOneGuard allows.
struct RepeatedStatement {
    std::string sql;     // the statement shape (see statement_shape)
    std::string origin;  // what issued its last run: "load Book::reviews", "Book"...
    std::int64_t count = 0;
    std::int64_t threshold = 0;

    /// Names the statement, how often it ran and how to load the data at once instead.
    std::string message() const {
        std::string m = "N+1 queries: the same statement ran " + std::to_string(count) +
                        " times inside one NPlusOneGuard (allowed: " +
                        std::to_string(threshold) + ")";
        if (!origin.empty()) m += ", issued by " + origin;
        m += ":\n  " + sql + "\n";
        std::string_view rel = origin;
        if (rel.starts_with("load ") || rel.starts_with("prefetch ")) {
            rel.remove_prefix(rel.find(' ') + 1);
            const std::string r(rel);
            m += "Load " + r + " for all the objects at once: .prefetch_related(&" + r +
                 ") on the QuerySet that fetched them, or loom::prefetch_related_objects(db, "
                 "objects, &" + r + ")";
        } else {
            m += "Fetch the rows in one query (e.g. a filter with loom::col(...).in(keys)) "
                 "instead of one query per object";
        }
        return m;
    }
};

/// Thrown by an NPlusOneGuard in raise mode.
class NPlusOneDetected : public Error {
public:
    explicit NPlusOneDetected(RepeatedStatement s) : Error(s.message()), statement_(std::move(s)) {}
    const RepeatedStatement& statement() const noexcept { return statement_; }

private:
    RepeatedStatement statement_;
};

/// How an NPlusOneGuard judges and reports.
struct NPlusOneOptions {
    /// A statement shape may run this many times; one more run is flagged.
    std::int64_t threshold = 2;
    NPlusOneMode mode = NPlusOneMode::raise;
    /// Warn mode: called once per repeated statement when the scope ends. Default: a line on
    /// stderr. It must not throw from the guard's destructor (such exceptions are dropped).
    std::function<void(const RepeatedStatement&)> on_warning;
    /// Count only reads (SELECT / WITH). Writes repeat by design: bulk_insert, m2m add.
    bool reads_only = true;
    /// Statements to leave out, e.g. a chunked iteration that repeats its queries on purpose.
    std::function<bool(const QueryEvent&)> ignore;
};

/// Flags the same statement shape run more than `threshold` times inside its scope: the
/// signature of an N+1 loop (one query per object, where one prefetch would do). The chunks of
/// one prefetch level count as one run, so a large prefetch never trips it.
///
///     TEST_CASE("the report walks books without a query per book") {
///         loom::NPlusOneGuard guard(db, {.threshold = 2});    // raise mode: throws
///         render_report(db);
///     }
///     // production: one guard per request, repeated statements go to the log
///     loom::NPlusOneGuard guard(db, {.mode = loom::NPlusOneMode::warn,
///                                    .on_warning = [&](auto& r) { log.warn(r.message()); }});
class NPlusOneGuard {
public:
    explicit NPlusOneGuard(Database& db, NPlusOneOptions options = {})
        : options_(std::move(options)) {
        sub_ = db.on_query([this](const QueryEvent& e) { seen(e); });
    }
    NPlusOneGuard(const NPlusOneGuard&) = delete;
    NPlusOneGuard& operator=(const NPlusOneGuard&) = delete;
    ~NPlusOneGuard() {
        try {
            finish();
        } catch (...) {
            // A throwing on_warning: nothing sensible to do in a destructor.
        }
    }

    /// The statements over the threshold so far, in the order they first ran.
    std::vector<RepeatedStatement> repeated() const {
        std::vector<RepeatedStatement> out;
        for (const auto& s : shapes_)
            if (s.count > options_.threshold)
                out.push_back({s.sql, s.origin, s.count, options_.threshold});
        return out;
    }

    /// Ends the scope now: stops listening and, in warn mode, reports what repeated.
    void finish() {
        if (finished_) return;
        finished_ = true;
        sub_.reset();
        if (options_.mode != NPlusOneMode::warn) return;
        for (const auto& r : repeated()) {
            if (options_.on_warning)
                options_.on_warning(r);
            else
                std::fprintf(stderr, "[loom] warning: %s\n", r.message().c_str());
        }
    }

    /// Forgets the counts (e.g. between two requests served by one guard).
    void reset() {
        shapes_.clear();
        index_.clear();
    }

private:
    struct Shape {
        std::string sql;
        std::string origin;
        std::int64_t count = 0;
        std::uint64_t last_scope = 0;
    };

    void seen(const QueryEvent& e) {
        if (options_.reads_only ? !detail::is_read(e.sql) : detail::is_transaction_control(e.sql))
            return;
        if (options_.ignore && options_.ignore(e)) return;
        std::string shape = statement_shape(e.sql);
        auto [it, fresh] = index_.try_emplace(shape, shapes_.size());
        if (fresh) shapes_.push_back({std::move(shape), {}, 0, 0});
        Shape& s = shapes_[it->second];
        if (e.scope != 0 && e.scope == s.last_scope) return;  // another chunk of the same step
        s.last_scope = e.scope;
        ++s.count;
        s.origin = e.origin;
        // A failed statement keeps its own error, and nothing is thrown while unwinding (a
        // rollback run by a destructor): the first error wins.
        if (s.count > options_.threshold && options_.mode == NPlusOneMode::raise &&
            e.error.empty() && std::uncaught_exceptions() == 0)
            throw NPlusOneDetected({s.sql, s.origin, s.count, options_.threshold});
    }

    NPlusOneOptions options_;
    std::vector<Shape> shapes_;
    std::unordered_map<std::string, std::size_t> index_;
    bool finished_ = false;
    Database::Subscription sub_;
};

// ---- profile report -----------------------------------------------------------------------

namespace detail {

inline void append_html(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
}

inline std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

}  // namespace detail

/// Records every statement `db` runs while it lives (or until stop()), and reports them grouped
/// by statement shape: as a text table for a terminal, or as a self-contained HTML page with the
/// same table and a timeline of the queries.
///
///     loom::Profile prof(db);
///     render_catalogue(db);
///     std::fputs(prof.text().c_str(), stdout);
///     prof.write_html("catalogue-profile.html");
class Profile {
public:
    /// One statement shape and the runs of it.
    struct Group {
        std::string sql;                   // the shape (see statement_shape)
        std::vector<std::string> origins;  // what issued it, in first-seen order
        std::int64_t count = 0;
        std::int64_t rows = 0;     // rows returned
        std::int64_t changes = 0;  // rows written
        std::int64_t errors = 0;
        std::chrono::nanoseconds total{};
        std::chrono::nanoseconds max{};
    };
    /// One run, in the order they ran.
    struct Query {
        std::size_t group;               // index in groups()
        std::size_t origin;              // index in the group's origins
        std::chrono::nanoseconds start;  // since the profile began
        std::chrono::nanoseconds duration;
        std::int64_t rows;
        std::int64_t changes;
        bool failed;
    };

    explicit Profile(Database& db) : begin_(std::chrono::steady_clock::now()) {
        sub_ = db.on_query([this](const QueryEvent& e) { seen(e); });
    }
    Profile(const Profile&) = delete;
    Profile& operator=(const Profile&) = delete;

    /// Stops recording; the report keeps what was recorded.
    void stop() {
        if (!sub_active_) return;
        sub_.reset();
        sub_active_ = false;
        end_ = std::chrono::steady_clock::now();
    }

    /// The groups, by total time, largest first.
    std::vector<Group> groups() const {
        std::vector<Group> out;
        for (auto k : order()) out.push_back(groups_[k]);
        return out;
    }
    /// The runs in order; Query::group indexes groups().
    std::vector<Query> queries() const {
        const auto ord = order();
        std::vector<std::size_t> rank(ord.size());
        for (std::size_t r = 0; r < ord.size(); ++r) rank[ord[r]] = r;
        std::vector<Query> out = queries_;
        for (auto& q : out) q.group = rank[q.group];
        return out;
    }
    std::int64_t query_count() const noexcept { return static_cast<std::int64_t>(queries_.size()); }
    /// Time spent running statements (the sum of their durations, reading rows included).
    std::chrono::nanoseconds query_time() const noexcept {
        std::chrono::nanoseconds t{};
        for (const auto& g : groups_) t += g.total;
        return t;
    }
    /// Wall time from the profile's start to stop() (or now).
    std::chrono::nanoseconds elapsed() const noexcept {
        return (sub_active_ ? std::chrono::steady_clock::now() : end_) - begin_;
    }

    /// A table for a terminal, one line per statement shape, largest total first:
    ///
    ///     loom profile: 5 queries (4 shapes), 0.210 ms in queries over 1.032 ms
    ///       #  count   total ms     max ms      rows  statement
    ///       1      1      0.081      0.081         6  [prefetch Book::authors] SELECT ...
    std::string text() const {
        std::string out = summary() + "\n";
        out += "  #  count   total ms     max ms      rows  changed  statement\n";
        std::size_t n = 0;
        for (const auto& g : groups()) {
            out += detail::pad_left(std::to_string(++n), 3);
            out += detail::pad_left(std::to_string(g.count), 7);
            out += detail::pad_left(detail::ms(g.total), 11);
            out += detail::pad_left(detail::ms(g.max), 11);
            out += detail::pad_left(std::to_string(g.rows), 10);
            out += detail::pad_left(std::to_string(g.changes), 9);
            out += "  ";
            if (!g.origins.empty()) out += "[" + join(g.origins) + "] ";
            out += g.sql;
            if (g.errors) out += "  (" + std::to_string(g.errors) + " failed)";
            out += '\n';
        }
        return out;
    }

    /// A self-contained HTML page (no scripts, no external assets, every text escaped): the
    /// table of text(), a timeline with one lane per statement shape, and every run in order.
    std::string html(std::string_view title = "loom profile") const {
        const auto gs = groups();
        const auto qs = queries();
        std::string h;
        h.reserve(4096 + qs.size() * 200);
        h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
        detail::append_html(h, title);
        h += "</title>\n<style>\n"
             "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
             "table{border-collapse:collapse;margin:.5em 0}\n"
             "th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}\n"
             "th{background:#f0f0f0;text-align:left}\n"
             "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
             "code{font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}\n"
             ".fail{color:#b00}\n"
             "svg{width:100%;height:auto;border:1px solid #ccc;background:#fafafa}\n"
             "svg text{font:10px sans-serif;fill:#444}\n"
             "</style>\n</head>\n<body>\n<h1>";
        detail::append_html(h, title);
        h += "</h1>\n<p>";
        detail::append_html(h, summary());
        h += "</p>\n<h2>Statements</h2>\n<table>\n<thead><tr><th>#</th><th>count</th>"
             "<th>total ms</th><th>max ms</th><th>rows</th><th>changed</th><th>issued by</th>"
             "<th>statement</th></tr></thead>\n<tbody>\n";
        std::size_t n = 0;
        for (const auto& g : gs) {
            h += "<tr><td class=\"n\">" + std::to_string(++n) + "</td><td class=\"n\">" +
                 std::to_string(g.count) + "</td><td class=\"n\">" + detail::ms(g.total) +
                 "</td><td class=\"n\">" + detail::ms(g.max) + "</td><td class=\"n\">" +
                 std::to_string(g.rows) + "</td><td class=\"n\">" + std::to_string(g.changes) +
                 "</td><td>";
            detail::append_html(h, join(g.origins));
            h += "</td><td><code>";
            detail::append_html(h, g.sql);
            h += "</code>";
            if (g.errors) h += " <span class=\"fail\">" + std::to_string(g.errors) + " failed</span>";
            h += "</td></tr>\n";
        }
        h += "</tbody>\n</table>\n<h2>Timeline</h2>\n";
        timeline(h, gs, qs);
        h += "<h2>Queries in order</h2>\n<table>\n<thead><tr><th>#</th><th>start ms</th>"
             "<th>ms</th><th>rows</th><th>changed</th><th>statement</th><th>issued by</th>"
             "</tr></thead>\n<tbody>\n";
        const std::size_t shown = std::min(qs.size(), max_listed);
        for (std::size_t k = 0; k < shown; ++k) {
            const auto& q = qs[k];
            h += "<tr><td class=\"n\">" + std::to_string(k + 1) + "</td><td class=\"n\">" +
                 detail::ms(q.start) + "</td><td class=\"n\">" + detail::ms(q.duration) +
                 "</td><td class=\"n\">" + std::to_string(q.rows) + "</td><td class=\"n\">" +
                 std::to_string(q.changes) + "</td><td class=\"n\">#" +
                 std::to_string(q.group + 1) + (q.failed ? " <span class=\"fail\">failed</span>" : "") +
                 "</td><td>";
            detail::append_html(h, gs[q.group].origins[q.origin]);
            h += "</td></tr>\n";
        }
        h += "</tbody>\n</table>\n";
        if (shown < qs.size())
            h += "<p>... and " + std::to_string(qs.size() - shown) + " more.</p>\n";
        h += "</body>\n</html>\n";
        return h;
    }

    /// Writes html() to `path`; throws loom::Error when the file cannot be written.
    void write_html(const std::string& path, std::string_view title = "loom profile") const {
        std::ofstream f(path, std::ios::binary | std::ios::trunc);
        if (f) f << html(title);
        f.close();
        if (!f)
            throw Error("Profile::write_html: cannot write '" + path +
                        "' (does its directory exist, and may it be written?)");
    }

private:
    static constexpr std::size_t max_lanes = 40;       // shapes past these share the last lane
    static constexpr std::size_t max_bars = 20000;     // runs drawn on the timeline
    static constexpr std::size_t max_listed = 5000;    // runs listed in order

    void seen(const QueryEvent& e) {
        const auto now = std::chrono::steady_clock::now();
        std::string shape = statement_shape(e.sql);
        auto [it, fresh] = index_.try_emplace(std::move(shape), groups_.size());
        if (fresh) groups_.push_back(Group{it->first, {}, 0, 0, 0, 0, {}, {}});
        Group& g = groups_[it->second];
        std::size_t o = 0;
        while (o < g.origins.size() && g.origins[o] != e.origin) ++o;
        if (o == g.origins.size()) g.origins.emplace_back(e.origin);
        ++g.count;
        g.rows += e.rows;
        g.changes += e.changes;
        if (!e.error.empty()) ++g.errors;
        g.total += e.duration;
        g.max = std::max(g.max, e.duration);
        queries_.push_back({it->second, o, (now - e.duration) - begin_, e.duration, e.rows,
                            e.changes, !e.error.empty()});
    }

    /// Group indexes by total time, largest first (first seen first on ties).
    std::vector<std::size_t> order() const {
        std::vector<std::size_t> ord(groups_.size());
        for (std::size_t k = 0; k < ord.size(); ++k) ord[k] = k;
        std::stable_sort(ord.begin(), ord.end(), [&](std::size_t a, std::size_t b) {
            return groups_[a].total > groups_[b].total;
        });
        return ord;
    }

    static std::string join(const std::vector<std::string>& v) {
        std::string s;
        for (const auto& x : v) {
            if (!s.empty()) s += ", ";
            s += x;
        }
        return s;
    }

    std::string summary() const {
        const auto q = query_count();
        return "loom profile: " + std::to_string(q) + (q == 1 ? " query" : " queries") + " (" +
               std::to_string(groups_.size()) + (groups_.size() == 1 ? " shape" : " shapes") +
               "), " + detail::ms(query_time()) + " ms in queries over " + detail::ms(elapsed()) +
               " ms";
    }

    /// An inline SVG: x is time since the profile began, one lane per shape (the table's #).
    void timeline(std::string& h, const std::vector<Group>& gs, const std::vector<Query>& qs) const {
        if (qs.empty()) {
            h += "<p>No queries ran.</p>\n";
            return;
        }
        const std::size_t lanes = std::min(gs.size(), max_lanes);
        const double left = 40, width = 950, lane_h = 16, top = 4;
        const double height = top + static_cast<double>(lanes) * lane_h + 20;
        auto span = elapsed();
        for (const auto& q : qs) span = std::max(span, q.start + q.duration);
        const double total = std::max(1.0, static_cast<double>(span.count()));
        auto num = [](double v) {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.2f", v);
            return std::string(buf);
        };
        h += "<svg viewBox=\"0 0 " + num(left + width + 10) + " " + num(height) +
             "\" role=\"img\" aria-label=\"timeline of the queries\">\n";
        for (std::size_t l = 0; l < lanes; ++l) {
            const double y = top + static_cast<double>(l) * lane_h;
            if (l % 2 == 0)
                h += "<rect x=\"0\" y=\"" + num(y) + "\" width=\"" + num(left + width + 10) +
                     "\" height=\"" + num(lane_h) + "\" fill=\"#f0f0f0\"/>\n";
            h += "<text x=\"4\" y=\"" + num(y + lane_h - 4) + "\">#" + std::to_string(l + 1) +
                 (l + 1 == max_lanes && gs.size() > max_lanes ? "+" : "") + "</text>\n";
        }
        const std::size_t bars = std::min(qs.size(), max_bars);
        for (std::size_t k = 0; k < bars; ++k) {
            const auto& q = qs[k];
            const std::size_t lane = std::min(q.group, lanes - 1);
            const double x = left + width * static_cast<double>(q.start.count()) / total;
            const double w =
                std::max(0.6, width * static_cast<double>(q.duration.count()) / total);
            const double y = top + static_cast<double>(lane) * lane_h + 2;
            const int hue = static_cast<int>((lane * 47) % 360);
            h += "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) +
                 "\" height=\"" + num(lane_h - 4) + "\" fill=\"" +
                 (q.failed ? std::string("#c00") : "hsl(" + std::to_string(hue) + ",55%,50%)") +
                 "\"><title>";
            std::string tip = "query " + std::to_string(k + 1) + " (#" +
                              std::to_string(q.group + 1) + ", " +
                              gs[q.group].origins[q.origin] + "): " + detail::ms(q.duration) +
                              " ms at " + detail::ms(q.start) + " ms, " +
                              std::to_string(q.rows) + " rows\n" + gs[q.group].sql;
            detail::append_html(h, tip);
            h += "</title></rect>\n";
        }
        const double axis_y = top + static_cast<double>(lanes) * lane_h + 14;
        for (int t = 0; t <= 4; ++t) {
            const double x = left + width * t / 4.0;
            const auto at = std::chrono::nanoseconds(
                static_cast<std::int64_t>(total * t / 4.0));
            h += "<text x=\"" + num(t == 4 ? x - 40 : x) + "\" y=\"" + num(axis_y) + "\">" +
                 detail::ms(at) + " ms</text>\n";
        }
        h += "</svg>\n";
        if (bars < qs.size())
            h += "<p>The timeline shows the first " + std::to_string(bars) + " of " +
                 std::to_string(qs.size()) + " queries.</p>\n";
    }

    std::chrono::steady_clock::time_point begin_, end_;
    std::vector<Group> groups_;
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<Query> queries_;
    bool sub_active_ = true;
    Database::Subscription sub_;
};

}  // namespace loom
