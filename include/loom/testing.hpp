// loom/testing.hpp - proving what a block of code runs, for tests and for production guards:
// ExpectQueries / expect_queries (exactly N statements, or a failure listing them) and the N+1
// guard (the same statement shape run again and again). Opt-in: <loom/loom.hpp> does not
// include it (nor {fmt}); include it in the tests that use it.
//
//     loom::expect_queries(db, 3, [&] { for (auto& b : books) use(b); });   // exactly 3
//     loom::NPlusOneGuard guard(db, {.threshold = 2});     // a repeated statement throws
//
// Both listen through Database::on_query until they are destroyed, so they must not outlive
// their Database (declare them after the Database).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <functional>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "database.hpp"
#include "detail/config.hpp"
#include "detail/format_util.hpp"
#include "detail/statement_kind.hpp"
#include "detail/std_light.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace loom {

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
LOOM_DECL std::string describe_queries(const std::vector<RecordedQuery>& queries);

/// A block ran a different number of statements than expected. The message lists every
/// statement it ran, numbered, with what issued it and its parameters.
class QueryCountMismatch : public Error {
public:
    QueryCountMismatch(std::int64_t expected, std::vector<RecordedQuery> seen);
    LOOM_DECL ~QueryCountMismatch() override;
    std::int64_t expected() const noexcept { return expected_; }
    std::int64_t actual() const noexcept { return static_cast<std::int64_t>(seen_.size()); }
    const std::vector<RecordedQuery>& queries() const noexcept { return seen_; }

private:
    static std::string message(std::int64_t expected, const std::vector<RecordedQuery>& seen);
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
    ExpectQueries(Database& db, std::int64_t expected, ParamFormat params = {});
    ExpectQueries(const ExpectQueries&) = delete;
    ExpectQueries& operator=(const ExpectQueries&) = delete;

    ~ExpectQueries() noexcept(false);

    /// Stops recording and throws QueryCountMismatch when the count differs.
    void check();

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
auto expect_queries(Database& db, std::int64_t expected, Fn&& fn) -> std::invoke_result_t<Fn&> {
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
    std::string message() const;
};

/// Thrown by an NPlusOneGuard in raise mode.
class NPlusOneDetected : public Error {
public:
    explicit NPlusOneDetected(RepeatedStatement s);
    LOOM_DECL ~NPlusOneDetected() override;
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
    explicit NPlusOneGuard(Database& db, NPlusOneOptions options = {});
    NPlusOneGuard(const NPlusOneGuard&) = delete;
    NPlusOneGuard& operator=(const NPlusOneGuard&) = delete;
    ~NPlusOneGuard();

    /// The statements over the threshold so far, in the order they first ran.
    std::vector<RepeatedStatement> repeated() const;

    /// Ends the scope now: stops listening and, in warn mode, reports what repeated.
    void finish();

    /// Forgets the counts (e.g. between two requests served by one guard).
    void reset();

private:
    struct Shape {
        std::string sql;
        std::string origin;
        std::int64_t count = 0;
        std::uint64_t last_scope = 0;
    };

    void seen(const QueryEvent& e);

    NPlusOneOptions options_;
    std::vector<Shape> shapes_;
    std::unordered_map<std::string, std::size_t> index_;
    bool finished_ = false;
    Database::Subscription sub_;
};

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/testing.hpp"
#endif
