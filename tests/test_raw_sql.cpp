// Raw SQL through the public API: db.execute and db.query<T> for models, tuples, single columns
// and loom::ResultRow; every value a bound parameter.
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

namespace raw_sql_test {

using loom_test::message_of;

using shop::Author;
using shop::Book;

TEST_CASE("db.execute binds every argument type and returns the rows it changed", "[raw]") {
    loom::Database db{test_url()};
    // (PostgreSQL has no rowid: an identity column after the seven orders the rows there.)
    db.execute(on_engine(
        "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n INTEGER, e INTEGER, f INTEGER)",
        "CREATE TABLE t (i bigint, r double precision, s text, b bytea, n bigint, e bigint, f "
        "bigint, rowid bigint GENERATED ALWAYS AS IDENTITY)"));
    const std::string text = "it's";
    const std::string_view view = "view";
    CHECK(db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", 42, 2.5, text,
                     loom::Blob{std::byte{1}, std::byte{2}}, std::nullopt, shop::Color::blue,
                     true) == 1);
    CHECK(db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", std::int64_t{-7},
                     std::optional<double>{}, view, loom::Value{nullptr}, std::optional<int>{5},
                     nullptr, false) == 1);
    CHECK(db.execute("INSERT INTO t (s) VALUES (?)", "literal") == 1);
    const auto rows =
        db.query<std::tuple<std::optional<std::int64_t>, std::optional<double>, std::string,
                            std::optional<loom::Blob>, std::optional<int>, std::optional<int>,
                            std::optional<bool>>>(
            "SELECT i, r, s, b, n, e, f FROM t ORDER BY rowid");
    REQUIRE(rows.size() == 3);
    CHECK(rows[0] == std::tuple{std::optional<std::int64_t>{42}, std::optional<double>{2.5},
                                std::string("it's"),
                                std::optional<loom::Blob>{loom::Blob{std::byte{1}, std::byte{2}}},
                                std::optional<int>{}, std::optional<int>{3},
                                std::optional<bool>{true}});
    CHECK(std::get<0>(rows[1]) == -7);
    CHECK_FALSE(std::get<1>(rows[1]).has_value());
    CHECK(std::get<2>(rows[1]) == "view");
    CHECK_FALSE(std::get<3>(rows[1]).has_value());
    CHECK(std::get<4>(rows[1]) == 5);
    CHECK(std::get<2>(rows[2]) == "literal");
    CHECK(db.execute("UPDATE t SET i = ? WHERE i IS NOT NULL", 0) == 2);
    CHECK(db.execute("DELETE FROM t WHERE s = ?", "nothing matches") == 0);
}

TEST_CASE(
    "db.query<Model> matches columns by name, in any order, and the objects can be "
    "prefetched",
    "[raw]") {
    loom::Database db{test_url()};
    shop::create_all(db);
    const auto c = shop::seed_catalogue(db);

    const auto q0 = db.query_count();
    auto books = db.query<Book>(
        "SELECT year, publisher_id, title, id FROM book WHERE year < ? ORDER BY year", 1991);
    CHECK(db.query_count() - q0 == 1);
    REQUIRE(books.size() == 2);
    CHECK(books[0].title == "The Dispossessed");
    CHECK(books[0].id == c.dispossessed.id);
    CHECK(books[0].year == 1974);
    CHECK(books[0].publisher.id() == c.gollancz.id);
    CHECK(books[1].title == "Good Omens");
    CHECK_FALSE(books[0].authors.loaded());

    // Upper-case names and table-qualified selects match too.
    auto upper = db.query<Author>("SELECT a.ID, a.NAME, a.BORN FROM author AS a WHERE a.id = ?",
                                  c.leguin.id);
    REQUIRE(upper.size() == 1);
    CHECK(upper[0].name == "Ursula K. Le Guin");
    CHECK(upper[0].born == 1929);

    loom::prefetch_related_objects(db, books, &Book::authors, &Book::publisher);
    CHECK(db.query_count() - q0 == 4);
    CHECK(books[1].authors.size() == 2);
    CHECK(books[1].authors[0].name == "Terry Pratchett");
    CHECK(books[0].publisher->name == "Gollancz");
    // The objects know their relations: an explicit load works on them too.
    books[0].reviews.load(db);
    CHECK(books[0].reviews.size() == 1);
}

TEST_CASE(
    "db.query<Model> with a missing or an unknown column is a UsageError naming it, and "
    "reads nothing",
    "[raw][errors]") {
    loom::Database db{test_url()};
    shop::create_all(db);
    shop::seed_catalogue(db);
    CHECK(message_of<loom::UsageError>([&] { db.query<Book>("SELECT id, title FROM book"); }) ==
          "db.query<Book>: the result's columns must be the Book columns, by name; missing: "
          "year, publisher_id (while running: SELECT id, title FROM book)");
    CHECK(message_of<loom::UsageError>(
              [&] { db.query<Author>("SELECT id, name, born, 1 AS extra FROM author"); }) ==
          "db.query<Author>: the result's columns must be the Author columns, by name; not "
          "a column of Author: extra (while running: SELECT id, name, born, 1 AS extra "
          "FROM author)");
    // A stored value that does not fit is a DataError, as for QuerySets. (SQLite only: a
    // PostgreSQL bigint column refuses the text when it is written.)
    if (!on_postgres()) {
        db.execute("UPDATE author SET born = ? WHERE name = ?", "long ago", "Neil Gaiman");
        CHECK(message_of<loom::DataError>([&] { db.query<Author>("SELECT * FROM author"); }) ==
              "Author.born (row id=3): expected INTEGER, found TEXT 'long ago'");
    }
    // Nothing was changed by the failed reads.
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM book").at(0) == 5);
}

TEST_CASE(
    "db.query of tuples and single columns reads by position and checks the width and "
    "the types",
    "[raw][errors]") {
    loom::Database db{test_url()};
    shop::create_all(db);
    shop::seed_catalogue(db);
    const auto pairs = db.query<std::tuple<std::string, int>>(
        "SELECT title, year FROM book WHERE year BETWEEN ? AND ? ORDER BY year", 1990, 1992);
    REQUIRE(pairs.size() == 2);
    CHECK(pairs[0] == std::tuple{std::string("Good Omens"), 1990});
    CHECK(pairs[1] == std::tuple{std::string("Small Gods"), 1992});
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM book") == std::vector<std::int64_t>{5});
    CHECK(db.query<std::string>("SELECT name FROM author WHERE born IS NULL") ==
          std::vector<std::string>{"Neil Gaiman"});
    CHECK(db.query<std::int64_t>("SELECT id FROM book WHERE year > ?", 3000).empty());

    CHECK(message_of<loom::UsageError>(
              [&] { db.query<std::int64_t>("SELECT id, year FROM book"); }) ==
          "db.query: the result has 2 columns where 1 were asked for (while running: SELECT id, "
          "year FROM book)");
    CHECK(message_of<loom::DataError>([&] { db.query<int>("SELECT title FROM book LIMIT 1"); }) ==
          "db.query: result column 0 (title): expected INTEGER, found TEXT 'The Dispossessed' "
          "(while running: SELECT title FROM book LIMIT 1)");
    CHECK(message_of<loom::DataError>([&] { db.query<int>("SELECT NULL"); }) ==
          "db.query: result column 0 (" + on_engine("NULL", "?column?") +
              "): NULL read into a non-optional member (declare it std::optional), found NULL "
              "(while running: SELECT NULL)");
}

TEST_CASE("db.query<loom::ResultRow> reads any columns by position or name", "[raw]") {
    loom::Database db{test_url()};
    shop::create_all(db);
    const auto cols = db.query<loom::ResultRow>(
        on_engine("SELECT name, \"notnull\" FROM pragma_table_info(?) ORDER BY cid",
                  "SELECT column_name AS name, CAST(is_nullable = 'NO' AS int) AS \"notnull\" "
                  "FROM information_schema.columns WHERE table_schema = current_schema() AND "
                  "table_name = ? ORDER BY ordinal_position"),
        "book");
    REQUIRE(cols.size() == 4);
    CHECK(cols[0].names() == std::vector<std::string>{"name", "notnull"});
    CHECK(cols[1]["name"] == loom::Value{std::string("title")});
    CHECK(cols[1][1] == loom::Value{std::int64_t{1}});
    CHECK(cols[3]["name"] == loom::Value{std::string("publisher_id")});
    CHECK_THROWS_AS(cols[0]["missing"], std::out_of_range);
}

TEST_CASE("raw SQL is counted and shown to listeners like every statement", "[raw]") {
    loom::Database db{test_url()};
    shop::create_all(db);
    std::vector<std::string> seen;
    auto sub = db.on_query([&](const loom::QueryEvent& e) {
        seen.push_back(std::string(e.origin) + ": " + std::string(e.sql) +
                       " changes=" + std::to_string(e.changes) + " rows=" + std::to_string(e.rows));
    });
    db.execute("INSERT INTO publisher (name) VALUES (?)", "Tor");
    (void)db.query<std::string>("SELECT name FROM publisher");
    CHECK(seen == std::vector<std::string>{
                      "execute: INSERT INTO publisher (name) VALUES (?) changes=1 rows=0",
                      "query: SELECT name FROM publisher changes=0 rows=1"});
}

}  // namespace raw_sql_test
