// Observability: what query listeners see, parameter formatting and redaction, the query
// logger, expect_queries / ExpectQueries, the N+1 guard, QuerySet::explain() and the profile
// report (text and HTML).
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <loom/log.hpp>
#include <loom/profile.hpp>  // opt-in: not part of <loom/loom.hpp>
#include <loom/testing.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace test_observability {

using loom_test::message_of;

using namespace shop;
using loom::col;

#if defined(CATCH_VERSION_MAJOR) && CATCH_VERSION_MAJOR >= 3
using Catch::Matchers::ContainsSubstring;
#else
inline auto ContainsSubstring(const std::string& s) {
    return Catch::Matchers::Contains(s);
}
#endif

/// A QueryEvent with its views copied, so it can be kept after the listener returns.
struct Seen {
    std::string sql;
    std::vector<loom::Value> params;
    std::int64_t rows = 0;
    std::int64_t changes = 0;
    std::string origin;
    std::string error;
    std::uint64_t scope = 0;
};

inline auto record(loom::Database& db, std::vector<Seen>& out) {
    return db.on_query([&out](const loom::QueryEvent& e) {
        out.push_back({std::string(e.sql),
                       std::vector<loom::Value>(e.params.begin(), e.params.end()), e.rows,
                       e.changes, std::string(e.origin), std::string(e.error), e.scope});
    });
}

/// The message of the exception of type E that `f` throws (a failed check if none).
inline std::int64_t rows_in(loom::Database& db, const char* table) {
    return db.query<std::int64_t>(std::string("SELECT COUNT(*) FROM ") + table).at(0);
}

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

/// What the profile page should show for `s`: the five HTML-special characters as entities.
/// Written out here, independently of loom's escaper, as the expected output.
inline std::string html_escaped(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '&')
            out += "&amp;";
        else if (c == '<')
            out += "&lt;";
        else if (c == '>')
            out += "&gt;";
        else if (c == '"')
            out += "&quot;";
        else if (c == '\'')
            out += "&#39;";
        else
            out += c;
    }
    return out;
}

using Fixture = SeededShop;

// ---- what listeners see ---------------------------------------------------------------------

TEST_CASE_METHOD(Fixture,
                 "A listener sees the SQL, parameters, rows and origin of a QuerySet's "
                 "query",
                 "[observability]") {
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    const auto qs = db.objects<Book>().filter(col(&Book::year) >= 1990);
    REQUIRE(qs.rows().size() == 4);

    REQUIRE(seen.size() == 1);
    CHECK(seen[0].sql == qs.sql().sql);
    CHECK_THAT(seen[0].sql, ContainsSubstring("FROM \"book\""));
    REQUIRE(seen[0].params.size() == 1);
    CHECK(std::get<std::int64_t>(seen[0].params[0]) == 1990);
    CHECK(seen[0].rows == 4);
    CHECK(seen[0].changes == 0);
    CHECK(seen[0].origin == "Book");
    CHECK(seen[0].error.empty());
}

TEST_CASE_METHOD(Fixture,
                 "A listener sees each prefetch level as its own statement, labelled "
                 "with the relation",
                 "[observability]") {
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    const auto before = db.query_count();
    const auto books = db.objects<Book>()
                           .filter(col(&Book::year) < 2000)
                           .prefetch_related(&Book::authors)
                           .to_vector();
    REQUIRE(books.size() == 3);
    REQUIRE(db.query_count() - before == 2);
    REQUIRE(seen.size() == 2);

    const Seen& level = seen[1];
    CHECK(level.origin == "prefetch Book::authors");
    CHECK_THAT(level.sql, ContainsSubstring("JOIN \"book_authors\""));
    if (on_postgres()) {  // one bigint[] parameter holds every parent key
        CHECK_THAT(level.sql, ContainsSubstring(" = ANY(?::bigint[])"));
        REQUIRE(level.params.size() == 1);
        CHECK(std::get<std::string>(level.params[0]) == "{" + std::to_string(c.dispossessed.id) +
                                                            "," + std::to_string(c.omens.id) + "," +
                                                            std::to_string(c.small_gods.id) + "}");
    } else {
        CHECK_THAT(level.sql, ContainsSubstring(" IN (?"));
        // The parent keys are bound (the list is padded by repeating the last key).
        REQUIRE(level.params.size() >= 3);
        CHECK(std::get<std::int64_t>(level.params[0]) == c.dispossessed.id);
        CHECK(std::get<std::int64_t>(level.params[1]) == c.omens.id);
        CHECK(std::get<std::int64_t>(level.params[2]) == c.small_gods.id);
    }
    // Le Guin; Pratchett and Gaiman; Pratchett.
    CHECK(level.rows == 4);
    CHECK(level.changes == 0);
    CHECK(level.scope != 0);
    CHECK(level.scope != seen[0].scope);
}

TEST_CASE_METHOD(Fixture, "A listener sees a write with its parameters and the rows it changed",
                 "[observability]") {
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    Review r;
    r.book = c.wee_free_men;
    r.rating = 4;
    r.body = "Crivens!";
    db.insert(r);

    REQUIRE(seen.size() == 1);
    CHECK_THAT(seen[0].sql, ContainsSubstring("INSERT INTO \"review\""));
    CHECK(seen[0].origin == "insert");
    // (PostgreSQL reads the new key with INSERT ... RETURNING: one result row.)
    CHECK(seen[0].rows == (on_postgres() ? 1 : 0));
    CHECK(seen[0].changes == 1);
    REQUIRE(seen[0].params.size() == 3);
    CHECK(std::get<std::int64_t>(seen[0].params[0]) == c.wee_free_men.id);
    CHECK(std::get<std::int64_t>(seen[0].params[1]) == 4);
    CHECK(std::get<std::string>(seen[0].params[2]) == "Crivens!");
}

TEST_CASE_METHOD(Fixture,
                 "A listener sees a failed statement with its error, and nothing is "
                 "written",
                 "[observability]") {
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    Publisher dup;
    dup.name = "Penguin";  // publisher names are unique
    CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);

    REQUIRE(seen.size() == 1);
    CHECK(seen[0].origin == "insert");
    CHECK_THAT(seen[0].error,
               ContainsSubstring(on_engine("UNIQUE constraint failed",
                                           "duplicate key value violates unique constraint")));
    CHECK(seen[0].changes == 0);
    CHECK(rows_in(db, "publisher") == 2);
}

TEST_CASE_METHOD(Fixture, "An explicit load is labelled load, not prefetch", "[observability]") {
    auto book = db.objects<Book>().get(col(&Book::id) == c.omens.id);
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    book.reviews.load(db);
    db.load(book, &Book::authors);

    REQUIRE(seen.size() == 2);
    CHECK(seen[0].origin == "load Book::reviews");
    CHECK(seen[1].origin == "load Book::authors");
    CHECK(book.reviews.size() == 2);
    CHECK(book.authors.size() == 2);
}

TEST_CASE_METHOD(Fixture, "The chunks of one prefetch level share a scope", "[observability]") {
    db.set_batch_size(2);
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    const auto books = db.objects<Book>().prefetch_related(&Book::reviews).to_vector();
    REQUIRE(books.size() == 5);
    // 5 books in chunks of 2: the base query and 3 chunks.
    REQUIRE(seen.size() == 4);
    CHECK(seen[1].scope == seen[2].scope);
    CHECK(seen[2].scope == seen[3].scope);
    CHECK(seen[1].scope != seen[0].scope);
}

TEST_CASE_METHOD(Fixture,
                 "With no listener, parameters are not recorded and nothing is "
                 "reported",
                 "[observability]") {
    std::vector<Seen> seen;
    { auto sub = record(db, seen); }  // unsubscribed
    const auto before = db.query_count();
    CHECK(db.objects<Book>().count() == 5);
    CHECK(db.query_count() - before == 1);
    CHECK(seen.empty());
}

// ---- formatting parameters ------------------------------------------------------------------

TEST_CASE("Parameters are written as SQL-like literals", "[observability]") {
    const std::vector<loom::Value> params{nullptr, std::int64_t{-42}, 2.5, 2.0,
                                          std::string("it's\nhere")};
    CHECK(loom::format_params(params) == "(NULL, -42, 2.5, 2.0, 'it''s\\nhere')");
    CHECK(loom::format_params({}) == "()");
    CHECK(loom::format_value(std::numeric_limits<double>::infinity()) == "inf");
}

TEST_CASE("Long strings are cut at a character boundary and keep their length", "[observability]") {
    const std::vector<loom::Value> params{std::string("abcdefghijklmnopqrstuvwxyz"),
                                          std::string("\xC3\xA9\xC3\xA9\xC3\xA9")};  // "ééé"
    CHECK(loom::format_params(params, {.max_string = 8}) == "('abcdefgh'... (26 bytes), 'ééé')");
    CHECK(loom::format_params(params, {.max_string = 3}) ==
          "('abc'... (26 bytes), '\xC3\xA9'... (6 bytes))");
    CHECK(loom::format_params(params, {.max_string = 0}) ==
          "('abcdefghijklmnopqrstuvwxyz', 'ééé')");
}

TEST_CASE("Blobs are redacted by default, or shown as hex cut at max_blob", "[observability]") {
    loom::Blob blob;
    for (int k = 0; k < 20; ++k) blob.push_back(static_cast<std::byte>(k));
    const std::vector<loom::Value> params{blob};
    CHECK(loom::format_params(params) == "(<blob 20 bytes>)");
    CHECK(loom::format_params(params, {.max_string = 32, .redact_blobs = true}) ==
          "(<blob 20 bytes>)");
    CHECK(loom::format_params(params, {.redact_blobs = false, .max_blob = 4}) ==
          "(x'00010203'... (20 bytes))");
    CHECK(loom::format_value(loom::Blob{std::byte{0xAB}}, {.redact_blobs = false}) == "x'ab'");
}

TEST_CASE("Text can be redacted entirely, and long parameter lists are summarised",
          "[observability]") {
    const std::vector<loom::Value> params{std::string("alice@example.org"), std::int64_t{7},
                                          std::int64_t{8}, std::int64_t{9}};
    CHECK(loom::format_params(params, {.redact_text = true}) == "(<text 17 bytes>, 7, 8, 9)");
    CHECK(loom::format_params(params, {.max_params = 2}) == "('alice@example.org', 7, ... 2 more)");
}

TEST_CASE("A statement's shape writes every IN list as IN (...)", "[observability]") {
    CHECK(loom::statement_shape("SELECT a FROM t WHERE b IN (?, ?, ?) AND c IN (?)") ==
          "SELECT a FROM t WHERE b IN (...) AND c IN (...)");
    CHECK(loom::statement_shape("SELECT a FROM t WHERE b NOT IN (?, ?)") ==
          "SELECT a FROM t WHERE b NOT IN (...)");
    // Not a list of placeholders: left alone.
    CHECK(loom::statement_shape("SELECT a FROM t WHERE b IN (?, 3)") ==
          "SELECT a FROM t WHERE b IN (?, 3)");
    CHECK(loom::statement_shape("SELECT a FROM t WHERE b IN (?") ==
          "SELECT a FROM t WHERE b IN (?");
    CHECK(loom::statement_shape("INSERT INTO t (a, b) VALUES (?, ?)") ==
          "INSERT INTO t (a, b) VALUES (?, ?)");
}

// SQLite only: the statements are SQLite's (EXPLAIN QUERY PLAN, PRAGMA).
TEST_CASE("QueryEvent::read_only is the engine's word on whether a statement can write",
          "[observability][sqlite]") {
    loom::Database db{test_url()};
    db.execute("CREATE TABLE t (a INTEGER)");
    std::vector<std::pair<std::string, bool>> seen;
    auto sub = db.on_query(
        [&](const loom::QueryEvent& e) { seen.emplace_back(std::string(e.sql), e.read_only); });
    (void)db.query<loom::ResultRow>("  select 1");
    (void)db.query<loom::ResultRow>("WITH d AS (SELECT 1 AS x) SELECT x FROM d");
    (void)db.query<loom::ResultRow>("EXPLAIN QUERY PLAN SELECT a FROM t");
    (void)db.query<loom::ResultRow>("PRAGMA table_info(t)");
    db.execute("INSERT INTO t VALUES (?)", 1);
    db.execute("WITH d AS (SELECT 1 AS x) DELETE FROM t WHERE a IN (SELECT x FROM d)");
    db.execute("PRAGMA foreign_keys = ON");  // a connection setting: the file is not written
    db.execute("PRAGMA user_version = 7");   // written into the file's header
    CHECK(seen ==
          std::vector<std::pair<std::string, bool>>{
              {"  select 1", true},
              {"WITH d AS (SELECT 1 AS x) SELECT x FROM d", true},
              {"EXPLAIN QUERY PLAN SELECT a FROM t", true},
              {"PRAGMA table_info(t)", true},
              {"INSERT INTO t VALUES (?)", false},
              {"WITH d AS (SELECT 1 AS x) DELETE FROM t WHERE a IN (SELECT x FROM d)", false},
              {"PRAGMA foreign_keys = ON", true},
              {"PRAGMA user_version = 7", false}});
}

// ---- the logger -----------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "log_queries writes one line per statement while subscribed",
                 "[observability]") {
    std::vector<std::string> lines;
    const auto qs = db.objects<Book>().filter(col(&Book::year) >= 1990);
    {
        auto log = loom::log_queries(db, [&](std::string_view l) { lines.emplace_back(l); });
        REQUIRE(qs.rows().size() == 4);
    }
    CHECK(db.objects<Book>().count() == 5);  // not logged: the subscription is gone

    REQUIRE(lines.size() == 1);
    CHECK(lines[0].starts_with("[loom] "));
    CHECK(lines[0].ends_with(" ms, 4 rows [Book] " + qs.sql().sql + " -- (1990)"));
}

TEST_CASE_METHOD(Fixture, "log_queries writes writes, failures and redacted parameters",
                 "[observability]") {
    std::ostringstream out;
    auto log = loom::log_queries(db, out, {.params = {.max_string = 4}});
    Sample s;
    s.text = "a rather long text";
    s.data = loom::Blob(64, std::byte{1});
    db.insert(s);
    Publisher dup;
    dup.name = "Gollancz";
    CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);

    const std::string text = out.str();
    CHECK_THAT(text, ContainsSubstring(" ms, 1 row changed [insert] INSERT INTO \"sample\""));
    CHECK_THAT(text, ContainsSubstring("'a ra'... (18 bytes)"));
    CHECK_THAT(text, ContainsSubstring("<blob 64 bytes>"));
    CHECK_THAT(text, ContainsSubstring(on_engine(" ms, FAILED (UNIQUE constraint failed",
                                                 " ms, FAILED (duplicate key value violates")));
    CHECK_THAT(text, ContainsSubstring("[insert] INSERT INTO \"publisher\""));
    CHECK(std::count(text.begin(), text.end(), '\n') == 2);
    CHECK(rows_in(db, "publisher") == 2);
}

TEST_CASE_METHOD(Fixture,
                 "log_queries writes to a FILE*, and slower_than keeps only slow "
                 "statements",
                 "[observability]") {
    std::FILE* f = std::tmpfile();
    REQUIRE(f);
    {
        auto log = loom::log_queries(db, f, {.show_params = false});
        auto none = loom::log_queries(db, f, {.slower_than = std::chrono::hours(1)});
        CHECK(db.objects<Book>().filter(col(&Book::year) == 1990).count() == 1);
    }
    std::rewind(f);
    char buf[4096] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    const std::string text(buf, n);
    CHECK(std::count(text.begin(), text.end(), '\n') == 1);
    CHECK_THAT(text, ContainsSubstring(" ms, 1 row [Book] SELECT COUNT(*)"));
    CHECK_THAT(text, !ContainsSubstring("-- (1990)"));
}

TEST_CASE_METHOD(Fixture, "query_logger installs a logger as the database's persistent hook",
                 "[observability]") {
    std::vector<std::string> lines;
    db.set_query_hook(loom::query_logger([&](std::string_view l) { lines.emplace_back(l); }));
    CHECK(db.objects<Author>().count() == 3);
    db.set_query_hook(nullptr);
    CHECK(db.objects<Author>().count() == 3);
    REQUIRE(lines.size() == 1);
    CHECK_THAT(lines[0], ContainsSubstring("[Author] SELECT COUNT(*)"));
}

// ---- expect_queries -------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture,
                 "expect_queries passes when the count matches and returns the "
                 "block's result",
                 "[observability]") {
    const auto books = loom::expect_queries(db, 3, [&] {
        return db.objects<Book>().prefetch_related(&Book::authors, &Book::reviews).to_vector();
    });
    CHECK(books.size() == 5);
    loom::expect_queries(db, 0, [&] {
        for (const Book& b : books) CHECK(b.authors.size() >= 1);
    });
}

TEST_CASE_METHOD(Fixture,
                 "expect_queries fails with every statement seen, numbered, with its "
                 "origin and parameters",
                 "[observability]") {
    const std::string msg = message_of<loom::QueryCountMismatch>([&] {
        loom::expect_queries(db, 1, [&] {
            auto books = db.objects<Book>()
                             .filter(col(&Book::year) == 1990)
                             .prefetch_related(&Book::reviews)
                             .to_vector();
            CHECK(books.size() == 1);
        });
    });
    const auto base = db.objects<Book>().filter(col(&Book::year) == 1990).sql().sql;
    CHECK(msg.starts_with("expected 1 query, but 2 ran:\n  1. [Book] " + base +
                          " -- (1990)\n"
                          "  2. [prefetch Book::reviews] SELECT "));
    CHECK_THAT(msg, ContainsSubstring("FROM \"review\""));
    CHECK(msg.ends_with(on_engine(" -- (" + std::to_string(c.omens.id) + ")",
                                  " -- ('{" + std::to_string(c.omens.id) + "}')")));
}

TEST_CASE_METHOD(Fixture, "expect_queries reports a block that ran no query", "[observability]") {
    const std::string msg =
        message_of<loom::QueryCountMismatch>([&] { loom::expect_queries(db, 2, [] {}); });
    CHECK(msg == "expected 2 queries, but none ran");
}

TEST_CASE_METHOD(Fixture, "expect_queries lets the block's own exception through",
                 "[observability]") {
    const std::string msg = message_of<std::runtime_error>([&] {
        loom::expect_queries(db, 5, [&] {
            CHECK(db.objects<Book>().count() == 5);
            throw std::runtime_error("boom");
        });
    });
    CHECK(msg == "boom");
}

TEST_CASE_METHOD(Fixture, "ExpectQueries checks at check() and carries the counts",
                 "[observability]") {
    loom::ExpectQueries expect(db, 1);
    CHECK(db.objects<Book>().count() == 5);
    CHECK(db.objects<Author>().count() == 3);
    CHECK(expect.count() == 2);
    try {
        expect.check();
        FAIL("check() did not throw");
    } catch (const loom::QueryCountMismatch& e) {
        CHECK(e.expected() == 1);
        CHECK(e.actual() == 2);
        REQUIRE(e.queries().size() == 2);
        CHECK(e.queries()[1].origin == "Author");
        CHECK(e.queries()[1].rows == 1);
    }
    // check() ended the recording: later statements are not counted.
    CHECK(db.objects<Book>().count() == 5);
    CHECK(expect.count() == 2);
}

TEST_CASE_METHOD(Fixture, "ExpectQueries counts transaction statements like query_count does",
                 "[observability]") {
    const auto before = db.query_count();
    {
        loom::ExpectQueries expect(db, 4);  // BEGIN, 2 inserts, COMMIT
        db.transaction([&] {
            Author a, b;
            a.name = "Terry Jones";
            b.name = "Michael Palin";
            db.insert(a);
            db.insert(b);
        });
    }
    CHECK(db.query_count() - before == 4);
    CHECK(rows_in(db, "author") == 5);
}

TEST_CASE_METHOD(Fixture, "ExpectQueries throws at scope exit when the count differs",
                 "[observability]") {
    const std::string msg = message_of<loom::QueryCountMismatch>([&] {
        loom::ExpectQueries expect(db, 0);
        CHECK(db.objects<Book>().count() == 5);
    });
    CHECK_THAT(msg,
               ContainsSubstring("expected 0 queries, but 1 ran:\n  1. [Book] SELECT COUNT(*)"));
}

TEST_CASE_METHOD(Fixture,
                 "ExpectQueries does not throw at scope exit while another exception "
                 "is in flight",
                 "[observability]") {
    const std::string msg = message_of<loom::DoesNotExist>([&] {
        loom::ExpectQueries expect(db, 0);
        db.objects<Book>().get(col(&Book::year) == 1066);
    });
    CHECK_THAT(msg, ContainsSubstring("get(): no Book matches the query"));
}

// ---- the N+1 guard --------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture,
                 "The N+1 guard stops a loop of explicit loads, naming the statement, "
                 "its count and the fix",
                 "[observability]") {
    auto books = db.objects<Book>().to_vector();
    REQUIRE(books.size() == 5);
    const auto before = db.query_count();
    loom::NPlusOneGuard guard(db, {.threshold = 2});
    try {
        for (Book& b : books) b.reviews.load(db);
        FAIL("the guard did not stop the loop");
    } catch (const loom::NPlusOneDetected& e) {
        const std::string msg = e.what();
        CHECK(
            msg.starts_with("N+1 queries: the same statement ran 3 times inside one "
                            "NPlusOneGuard (allowed: 2), issued by load Book::reviews:\n"
                            "  SELECT "));
        CHECK_THAT(msg, ContainsSubstring("FROM \"review\" AS t0 WHERE t0.\"book_id\"" +
                                          on_engine(" IN (...)", " = ANY(?::bigint[])")));
        CHECK_THAT(msg, ContainsSubstring(".prefetch_related(&Book::reviews)"));
        CHECK_THAT(
            msg, ContainsSubstring("loom::prefetch_related_objects(db, objects, &Book::reviews)"));
        CHECK(e.statement().count == 3);
        CHECK(e.statement().origin == "load Book::reviews");
    }
    // It stopped at the third load: the first two books have their reviews, the third not.
    CHECK(db.query_count() - before == 3);
    CHECK(books[0].reviews.loaded());
    CHECK(books[1].reviews.loaded());
    CHECK_FALSE(books[2].reviews.loaded());
}

TEST_CASE_METHOD(Fixture, "The N+1 guard lets a prefetched walk through", "[observability]") {
    loom::NPlusOneGuard guard(db, {.threshold = 1});
    const auto books = loom::expect_queries(db, 4, [&] {
        return db.objects<Book>()
            .prefetch_related(&Book::authors, &Book::reviews)
            .prefetch_related(loom::path(&Book::authors, &Author::books))
            .to_vector();
    });
    std::size_t reviews = 0, author_books = 0;
    for (const Book& b : books) {
        reviews += b.reviews.size();
        for (const Author& a : b.authors) author_books += a.books.size();
    }
    CHECK(reviews == 6);
    CHECK(author_books == 1 + 3 + 2 + 3 + 2 + 3);  // per book, the books of each of its authors
    CHECK(guard.repeated().empty());
}

TEST_CASE_METHOD(Fixture, "The N+1 guard counts the chunks of one prefetch level as one run",
                 "[observability]") {
    db.set_batch_size(1);
    loom::NPlusOneGuard guard(db, {.threshold = 1});
    const auto books = loom::expect_queries(db, 6, [&] {  // the books, then 5 chunks of 1 key
        return db.objects<Book>().prefetch_related(&Book::reviews).to_vector();
    });
    CHECK(books.size() == 5);
    CHECK(guard.repeated().empty());
}

TEST_CASE_METHOD(Fixture,
                 "The N+1 guard stops the same query run in a loop, and suggests one "
                 "query",
                 "[observability]") {
    const std::vector<std::int64_t> ids{c.omens.id, c.small_gods.id, c.dispossessed.id};
    loom::NPlusOneGuard guard(db, {.threshold = 2});
    const std::string msg = message_of<loom::NPlusOneDetected>([&] {
        for (auto id : ids) (void)db.objects<Book>().get(col(&Book::id) == id);
    });
    CHECK_THAT(msg, ContainsSubstring("ran 3 times inside one NPlusOneGuard (allowed: 2), issued "
                                      "by Book:\n  SELECT "));
    CHECK_THAT(msg, ContainsSubstring("loom::col(...).in(keys)"));
}

TEST_CASE_METHOD(Fixture, "The N+1 guard ignores repeated writes unless asked", "[observability]") {
    auto reviews_for = [&](int n) {
        std::vector<Review> v(static_cast<std::size_t>(n));
        for (auto& r : v) {
            r.book = c.wee_free_men;
            r.rating = 3;
            r.body = "fine";
        }
        return v;
    };
    {
        loom::NPlusOneGuard guard(db, {.threshold = 1});
        auto v = reviews_for(3);
        db.bulk_insert(v);
        CHECK(guard.repeated().empty());
    }
    CHECK(rows_in(db, "review") == 9);

    loom::NPlusOneGuard guard(db, {.threshold = 1, .reads_only = false});
    auto v = reviews_for(3);
    const std::string msg = message_of<loom::NPlusOneDetected>([&] { db.bulk_insert(v); });
    CHECK_THAT(msg, ContainsSubstring("ran 2 times inside one NPlusOneGuard (allowed: 1), issued "
                                      "by bulk_insert:\n  INSERT INTO \"review\""));
    CHECK(rows_in(db, "review") == 9);  // the bulk insert rolled back
    CHECK(v[0].id == 0);
}

TEST_CASE_METHOD(Fixture, "A repeated statement that fails keeps its own error",
                 "[observability]") {
    loom::NPlusOneGuard guard(db, {.threshold = 1, .reads_only = false});
    for (int k = 0; k < 2; ++k) {
        Publisher dup;
        dup.name = "Penguin";
        const std::string msg = message_of<loom::ConstraintError>([&] { db.insert(dup); });
        CHECK_THAT(msg,
                   ContainsSubstring(on_engine(
                       "UNIQUE constraint failed: publisher.name",
                       "duplicate key value violates unique constraint \"publisher_name_key\"")));
    }
    REQUIRE(guard.repeated().size() == 1);
    CHECK(guard.repeated()[0].count == 2);
    CHECK(rows_in(db, "publisher") == 2);
}

TEST_CASE_METHOD(Fixture, "The N+1 guard leaves out what its ignore predicate names",
                 "[observability]") {
    loom::NPlusOneGuard guard(db, {.threshold = 1, .ignore = [](const loom::QueryEvent& e) {
                                       return e.origin == "Book";
                                   }});
    for (int k = 0; k < 3; ++k) CHECK(db.objects<Book>().count() == 5);
    CHECK(guard.repeated().empty());
}

TEST_CASE_METHOD(Fixture,
                 "In warn mode the N+1 guard reports each repeated statement once, at "
                 "the end of its scope",
                 "[observability]") {
    auto books = db.objects<Book>().to_vector();
    std::vector<loom::RepeatedStatement> warnings;
    {
        loom::NPlusOneGuard guard(
            db, {.threshold = 2,
                 .mode = loom::NPlusOneMode::warn,
                 .on_warning = [&](const loom::RepeatedStatement& r) { warnings.push_back(r); }});
        for (Book& b : books) b.reviews.load(db);  // runs to the end
        for (Book& b : books) b.authors.load(db);
        CHECK(db.objects<Book>().count() == 5);  // once: fine
        CHECK(warnings.empty());                 // nothing until the scope ends
        CHECK(guard.repeated().size() == 2);
    }
    for (const Book& b : books) CHECK(b.reviews.loaded());
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0].count == 5);
    CHECK(warnings[0].threshold == 2);
    CHECK(warnings[0].origin == "load Book::reviews");
    CHECK(warnings[1].origin == "load Book::authors");
    CHECK_THAT(warnings[1].message(), ContainsSubstring("ran 5 times"));
}

TEST_CASE_METHOD(Fixture, "finish() ends an N+1 guard's scope early and reset() forgets counts",
                 "[observability]") {
    std::vector<loom::RepeatedStatement> warnings;
    loom::NPlusOneGuard guard(db, {.threshold = 1,
                                   .mode = loom::NPlusOneMode::warn,
                                   .on_warning = [&](const auto& r) { warnings.push_back(r); }});
    CHECK(db.objects<Book>().count() == 5);
    guard.reset();
    CHECK(db.objects<Book>().count() == 5);
    CHECK(guard.repeated().empty());
    CHECK(db.objects<Book>().count() == 5);
    guard.finish();
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].count == 2);
    CHECK(db.objects<Book>().count() == 5);  // not counted any more
    guard.finish();
    CHECK(warnings.size() == 1);
}

// ---- explain --------------------------------------------------------------------------------

// SQLite only: it checks SQLite's plan text and index names.
TEST_CASE_METHOD(Fixture,
                 "explain() shows the plan of the base query and of each prefetch "
                 "level's IN query",
                 "[observability][sqlite]") {
    const auto qs = db.objects<Book>()
                        .filter(col(&Book::year) >= 1990)
                        .prefetch_related(&Book::reviews, &Book::authors)
                        .prefetch_related(loom::path(&Book::authors, &Author::books));
    std::vector<Seen> seen;
    auto sub = record(db, seen);
    std::vector<std::string> plan;
    loom::expect_queries(db, 4, [&] { plan = qs.explain(); });  // one EXPLAIN per query
    for (const auto& s : seen) {
        CHECK(s.sql.starts_with("EXPLAIN QUERY PLAN SELECT"));
        CHECK(s.origin == "explain");
    }

    auto find = [&](const std::string& start) {
        for (std::size_t k = 0; k < plan.size(); ++k)
            if (plan[k].starts_with(start)) return k;
        return plan.size();
    };
    REQUIRE(!plan.empty());
    CHECK(plan[0] == qs.sql().sql);
    CHECK(plan[1].starts_with("  SCAN t0"));

    const auto reviews = find("Book::reviews: SELECT");
    REQUIRE(reviews + 1 < plan.size());
    CHECK_THAT(plan[reviews], ContainsSubstring("WHERE t0.\"book_id\" IN (?"));
    CHECK_THAT(plan[reviews + 1], ContainsSubstring("USING INDEX review_book_id_idx"));

    const auto authors = find("Book::authors: SELECT");
    REQUIRE(authors + 1 < plan.size());
    CHECK_THAT(plan[authors], ContainsSubstring("WHERE j.\"book_id\" IN (?"));
    CHECK_THAT(plan[authors + 1], ContainsSubstring("INDEX sqlite_autoindex_book_authors_1"));

    const auto nested = find("  Author::books: SELECT");  // nested under Book::authors
    REQUIRE(nested + 1 < plan.size());
    CHECK(nested > authors);
    CHECK_THAT(plan[nested], ContainsSubstring("WHERE j.\"author_id\" IN (?"));
    CHECK_THAT(plan[nested + 1], ContainsSubstring("USING INDEX book_authors_author_id_idx"));
}

// ---- the profile ----------------------------------------------------------------------------

TEST_CASE_METHOD(Fixture, "A profile groups statements by shape with counts and rows",
                 "[observability]") {
    loom::Profile prof(db);
    auto books = db.objects<Book>().to_vector();
    for (Book& b : books) b.reviews.load(db);
    const auto walked = db.objects<Book>().prefetch_related(&Book::reviews).to_vector();
    prof.stop();
    CHECK(db.objects<Book>().count() == 5);  // after stop(): not recorded

    CHECK(prof.query_count() == 1 + 5 + 2);
    const auto groups = prof.groups();
    // The base query twice; the reviews query 5 times loaded, once prefetched (one shape).
    REQUIRE(groups.size() == 2);
    const auto& reviews =
        groups[0].sql.find("\"review\"") != std::string::npos ? groups[0] : groups[1];
    const auto& base = &reviews == &groups[0] ? groups[1] : groups[0];
    CHECK(reviews.count == 6);
    CHECK(reviews.rows == 6 + 6);
    CHECK(reviews.origins ==
          std::vector<std::string>{"load Book::reviews", "prefetch Book::reviews"});
    CHECK(base.count == 2);
    CHECK(base.rows == 10);
    CHECK(base.origins == std::vector<std::string>{"Book"});
    CHECK(reviews.max <= reviews.total);
    CHECK(prof.query_time() == reviews.total + base.total);

    const auto queries = prof.queries();
    REQUIRE(queries.size() == 8);
    for (std::size_t k = 1; k < queries.size(); ++k)
        CHECK(queries[k].start >= queries[k - 1].start);
    CHECK(&groups[queries[1].group] == &reviews);
}

TEST_CASE_METHOD(Fixture, "A profile's text is a table by statement shape", "[observability]") {
    loom::Profile prof(db);
    auto books = db.objects<Book>().to_vector();
    for (Book& b : books) b.reviews.load(db);
    prof.stop();
    const std::string text = prof.text();
    CHECK(text.starts_with("loom profile: 6 queries (2 shapes), "));
    CHECK_THAT(text, ContainsSubstring(
                         "  #  count   total ms     max ms      rows  changed  statement\n"));
    CHECK_THAT(text, ContainsSubstring("      5"));
    CHECK_THAT(text, ContainsSubstring("[load Book::reviews] SELECT "));
    CHECK_THAT(text, ContainsSubstring("[Book] SELECT "));
    CHECK(std::count(text.begin(), text.end(), '\n') == 2 + 2);
}

TEST_CASE_METHOD(Fixture,
                 "A profile's HTML page holds the table, a timeline and no external "
                 "reference",
                 "[observability]") {
    loom::Profile prof(db);
    auto books = db.objects<Book>().prefetch_related(&Book::authors).to_vector();
    Publisher dup;
    dup.name = "Penguin";
    CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);
    prof.stop();
    const std::string html = prof.html("Books <&> \"reviews\" 'n' more");

    CHECK(html.starts_with("<!DOCTYPE html>"));
    CHECK_THAT(html, ContainsSubstring("<title>Books &lt;&amp;&gt; &quot;reviews&quot; &#39;n&#39; "
                                       "more</title>"));
    CHECK_THAT(html, ContainsSubstring("<h1>Books &lt;&amp;&gt; &quot;reviews&quot; &#39;n&#39; "
                                       "more</h1>"));
    CHECK_THAT(html, !ContainsSubstring("Books <&>"));
    CHECK_THAT(html, ContainsSubstring("loom profile: 3 queries (3 shapes)"));
    // Every shape is a row of the table, its SQL escaped.
    for (const auto& g : prof.groups()) {
        CHECK_THAT(html, ContainsSubstring("<code>" + html_escaped(g.sql) + "</code>"));
        CHECK_THAT(html, ContainsSubstring("<td>" + html_escaped(g.origins[0]) + "</td>"));
    }
    CHECK_THAT(html, ContainsSubstring("FROM &quot;book&quot; AS t0"));
    CHECK_THAT(html, !ContainsSubstring("\"book\""));
    CHECK_THAT(html, ContainsSubstring("<td>prefetch Book::authors</td>"));
    CHECK_THAT(html, ContainsSubstring("1 failed"));
    // The timeline: one bar per query, each with a tooltip.
    CHECK_THAT(html, ContainsSubstring("<svg viewBox="));
    std::size_t bars = 0;
    for (auto at = html.find("\"><title>query "); at != std::string::npos;
         at = html.find("\"><title>query ", at + 1))
        ++bars;
    CHECK(bars == 3);
    // Self-contained.
    CHECK_THAT(html, !ContainsSubstring("http"));
    CHECK_THAT(html, !ContainsSubstring("<script"));
    CHECK_THAT(html, !ContainsSubstring("<link"));
    CHECK_THAT(html, !ContainsSubstring("src="));
}

TEST_CASE_METHOD(Fixture, "A profile with no queries still makes a page", "[observability]") {
    loom::Profile prof(db);
    prof.stop();
    CHECK(prof.query_count() == 0);
    CHECK(prof.text().starts_with("loom profile: 0 queries (0 shapes), 0.000 ms in queries over "));
    CHECK_THAT(prof.html(), ContainsSubstring("<p>No queries ran.</p>"));
}

TEST_CASE_METHOD(Fixture, "write_html writes the page, or throws naming the path",
                 "[observability]") {
    namespace fs = std::filesystem;
    loom::Profile prof(db);
    CHECK(db.objects<Book>().count() == 5);
    prof.stop();

    const fs::path dir =
        fs::temp_directory_path() /
        ("loom-observability-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    fs::create_directories(dir);
    const fs::path file = dir / "profile.html";
    prof.write_html(file.string());
    CHECK(read_file(file) == prof.html());

    const std::string missing = (dir / "no-such-dir" / "profile.html").string();
    const std::string msg = message_of<loom::Error>([&] { prof.write_html(missing); });
    CHECK(msg == "Profile::write_html: cannot write '" + missing +
                     "' (does its directory exist, and may it be written?)");
    CHECK_FALSE(fs::exists(missing));
    fs::remove_all(dir);
}

}  // namespace test_observability
