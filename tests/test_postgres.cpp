// PostgreSQL's own behaviour (tag [postgres]: run only by the "postgres" CTest label, against
// the server LOOM_TEST_PG_URL names): SQLSTATE -> typed errors, aborted transactions and
// savepoints, connection loss, timeouts, serialization failures, identity keys, key arrays.
#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "catch.hpp"
#include "models.hpp"

#include <loom/testing.hpp>

#include <fmt/core.h>

namespace postgres_test {

using shop::Author;
using shop::Book;
using shop::Publisher;

template <class E, class F> E caught(F&& f) {
    try {
        f();
    } catch (const E& e) {
        return e;
    }
    FAIL("no exception of the expected type");
    throw;
}

std::int64_t count_of(loom::Database& db, const std::string& table) {
    return db.query<std::int64_t>("SELECT count(*) FROM " + table).at(0);
}

TEST_CASE("PostgreSQL: constraint violations are typed by SQLSTATE and write nothing",
          "[postgres][errors]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto c = shop::seed_catalogue(db);
    const auto before = count_of(db, "publisher");

    SECTION("unique") {
        Publisher dup{.name = "Gollancz"};
        const auto e = caught<loom::ConstraintError>([&] { db.insert(dup); });
        CHECK(e.kind() == loom::ConstraintError::Kind::unique);
        CHECK(loom::sqlstate(e.code()) == "23505");
        CHECK(std::string(e.what()) ==
              "duplicate key value violates unique constraint \"publisher_name_key\": Key "
              "(name)=(Gollancz) already exists. (while running: INSERT INTO \"publisher\" "
              "(\"name\") VALUES (?) RETURNING \"id\")");
        CHECK(dup.id == 0);
    }
    SECTION("primary key") {
        Publisher dup{.name = "Orbit"};
        dup.id = c.penguin.id;
        const auto e = caught<loom::ConstraintError>([&] { db.insert(dup); });
        CHECK(e.kind() == loom::ConstraintError::Kind::primary_key);
    }
    SECTION("foreign key, with loom's hint") {
        Book b{.title = "Nowhere", .year = 2000};
        b.publisher = loom::ForeignKey<Publisher>(999);
        const auto e = caught<loom::ConstraintError>([&] { db.insert(b); });
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
        CHECK(loom::sqlstate(e.code()) == "23503");
        CHECK(std::string(e.what()).ends_with("Book.publisher_id = 999 matches no Publisher"));
    }
    SECTION("not null") {
        const auto e = caught<loom::ConstraintError>(
            [&] { db.execute("INSERT INTO publisher (name) VALUES (?)", nullptr); });
        CHECK(e.kind() == loom::ConstraintError::Kind::not_null);
        CHECK(loom::sqlstate(e.code()) == "23502");
    }
    CHECK(count_of(db, "publisher") == before);
    CHECK(loom::sqlstate(19) == "");  // a SQLite code is no SQLSTATE
}

TEST_CASE("PostgreSQL: a failed statement aborts the transaction; a savepoint carries on",
          "[postgres][transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher gollancz{.name = "Gollancz"};
    db.insert(gollancz);

    SECTION("without a savepoint, later statements and the commit are TransactionAborted") {
        loom::Transaction tx(db);
        Publisher orbit{.name = "Orbit"};
        db.insert(orbit);
        Publisher dup{.name = "Gollancz"};
        CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);
        Publisher more{.name = "More"};
        const auto e = caught<loom::TransactionAborted>([&] { db.insert(more); });
        CHECK(loom::sqlstate(e.code()) == "25P02");
        CHECK_THROWS_AS(tx.commit(), loom::TransactionAborted);
    }
    SECTION("inside a nested Transaction, the failure is undone alone") {
        loom::Transaction tx(db);
        Publisher orbit{.name = "Orbit"};
        db.insert(orbit);
        try {
            loom::Transaction attempt(db);
            Publisher dup{.name = "Gollancz"};
            db.insert(dup);
            attempt.commit();
        } catch (const loom::ConstraintError&) {
        }
        Publisher more{.name = "More"};
        db.insert(more);
        tx.commit();
        CHECK(count_of(db, "publisher") == 3);
    }
    CHECK(db.transaction_depth() == 0);
}

TEST_CASE("PostgreSQL: nothing of an aborted transaction persists", "[postgres][transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher gollancz{.name = "Gollancz"};
    db.insert(gollancz);
    {
        loom::Transaction tx(db);
        Publisher orbit{.name = "Orbit"};
        db.insert(orbit);
        Publisher dup{.name = "Gollancz"};
        CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);
        CHECK_THROWS_AS(tx.commit(), loom::TransactionAborted);
    }
    CHECK(db.transaction_depth() == 0);
    CHECK(count_of(db, "publisher") == 1);  // the connection is usable again
}

TEST_CASE("PostgreSQL: a lost connection is a ConnectionError and nothing is half-committed",
          "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database db(url);
    loom::Database admin(url);
    shop::create_all(db);
    const auto pid = db.query<std::int64_t>("SELECT pg_backend_pid()").at(0);
    {
        loom::Transaction tx(db);
        Publisher a{.name = "A"};
        db.insert(a);
        admin.query<std::int64_t>("SELECT pg_terminate_backend(CAST(? AS int))::int", pid);
        Publisher b{.name = "B"};
        const auto e = caught<loom::ConnectionError>([&] { db.insert(b); });
        CHECK(std::string(e.what()).find("loom connects again") != std::string::npos);
    }
    CHECK(count_of(admin, "publisher") == 0);
    CHECK(db.objects<Publisher>().count() == 0);  // a new connection (test_pg_faults.cpp)
}

TEST_CASE("PostgreSQL: a statement timeout and a serialization failure are BusyErrors",
          "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database db(url);
    shop::create_all(db);
    Publisher p{.name = "Gollancz"};
    db.insert(p);

    SECTION("statement_timeout") {
        db.execute("SET statement_timeout = 20");
        const auto e =
            caught<loom::BusyError>([&] { db.query<std::string>("SELECT 'x' FROM pg_sleep(5)"); });
        CHECK(loom::sqlstate(e.code()) == "57014");
        db.execute("SET statement_timeout = 0");
        CHECK(count_of(db, "publisher") == 1);
    }
    SECTION("two writers of one row under REPEATABLE READ") {
        loom::Database other(url);
        loom::Transaction tx(db);
        db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
        CHECK(db.objects<Publisher>().get().name == "Gollancz");
        other.execute("UPDATE publisher SET name = ? WHERE id = ?", "Other", p.id);
        p.name = "Mine";
        const auto e = caught<loom::BusyError>([&] { db.update(p); });
        CHECK(loom::sqlstate(e.code()) == "40001");
        CHECK(std::string(e.what()).find("run the whole transaction again") != std::string::npos);
    }
}

TEST_CASE("PostgreSQL: identity keys come back with RETURNING and skip explicit keys",
          "[postgres][writes]") {
    loom::Database db(test_url());
    shop::create_all(db);
    Publisher a{.name = "A"};
    a.id = 10;
    db.insert(a);
    Publisher b{.name = "B"};
    loom::expect_queries(db, 1, [&] { db.insert(b); });
    CHECK(a.id == 10);
    CHECK(b.id == 11);
}

TEST_CASE("PostgreSQL: a prefetch level binds its keys as one bigint[] parameter",
          "[postgres][prefetch]") {
    loom::Database db(test_url());
    shop::create_all(db);
    std::vector<Publisher> publishers(700);
    for (std::size_t i = 0; i < publishers.size(); ++i) publishers[i].name = fmt::format("P{}", i);
    db.bulk_insert(publishers);
    std::vector<Book> books(publishers.size());
    for (std::size_t i = 0; i < books.size(); ++i) {
        books[i].title = fmt::format("B{}", i);
        books[i].publisher = publishers[i];
    }
    db.bulk_insert(books);

    std::vector<std::string> sql;
    std::vector<std::size_t> params;
    auto sub = db.on_query([&](const loom::QueryEvent& e) {
        sql.emplace_back(e.sql);
        params.push_back(e.params.size());
    });
    for (std::size_t n : {std::size_t{1}, std::size_t{3}, std::size_t{700}}) {
        sql.clear();
        params.clear();
        auto got = db.objects<Book>()
                       .order_by(&Book::id)
                       .limit(static_cast<std::int64_t>(n))
                       .prefetch_related(&Book::publisher)
                       .to_vector();
        REQUIRE(got.size() == n);
        CHECK(got.back().publisher->name == fmt::format("P{}", n - 1));
        REQUIRE(sql.size() == 2);  // the books, one query for every publisher
        CHECK(sql[1] ==
              "SELECT t0.\"id\", t0.\"name\" FROM \"publisher\" AS t0 WHERE t0.\"id\" = "
              "ANY(?::bigint[])");
        CHECK(params[1] == 1);
    }
}

// A model whose members are text where the table (made by hand) has stricter types.
struct Datum {
    std::int64_t id = 0;
    std::string n;
};
constexpr auto loom_model(loom::model_of<Datum>) {
    return loom::table("datum", loom::pk(&Datum::id), loom::field(&Datum::n, "n"));
}

TEST_CASE("PostgreSQL: a value malformed for its column's type is a DataError and writes nothing",
          "[postgres][errors]") {
    loom::Database db(test_url());
    db.execute(
        "CREATE TABLE datum (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n integer, "
        "day date, code varchar(3), doc jsonb)");
    auto message = [&](auto&& f) { return std::string(caught<loom::DataError>(f).what()); };
    const std::string hint =
        ": the server refused a value as malformed or out of range for its column's type "
        "(SQLSTATE ";

    SECTION("a model write") {
        Datum d{.n = "abc"};
        CHECK(message([&] { db.insert(d); }) ==
              "invalid input syntax for type integer: \"abc\" (while running: INSERT INTO "
              "\"datum\" (\"n\") VALUES (?) RETURNING \"id\")" +
                  hint + "22P02); the statement wrote nothing");
        CHECK(d.id == 0);
    }
    SECTION("raw SQL") {
        CHECK(message([&] { db.execute("INSERT INTO datum (day) VALUES (?)", "2024-02-30"); }) ==
              "date/time field value out of range: \"2024-02-30\" (while running: INSERT INTO "
              "datum (day) VALUES (?))" +
                  hint + "22008); the statement wrote nothing");
        CHECK(message([&] { db.execute("INSERT INTO datum (day) VALUES (?)", "next week"); }) ==
              "invalid input syntax for type date: \"next week\" (while running: INSERT INTO "
              "datum (day) VALUES (?))" +
                  hint + "22007); the statement wrote nothing");
        CHECK(message([&] {
                  db.execute("INSERT INTO datum (n) VALUES (?)", std::int64_t{1} << 40);
              }) == "integer out of range (while running: INSERT INTO datum (n) VALUES (?))" +
                        hint + "22003); the statement wrote nothing");
        CHECK(message([&] { db.execute("INSERT INTO datum (code) VALUES (?)", "abcd"); }) ==
              "value too long for type character varying(3) (while running: INSERT INTO datum "
              "(code) VALUES (?))" +
                  hint + "22001); the statement wrote nothing");
        CHECK(message([&] { db.execute("INSERT INTO datum (doc) VALUES (?)", "{\"a\":"); }) ==
              "invalid input syntax for type json: The input string ended unexpectedly. (while "
              "running: INSERT INTO datum (doc) VALUES (?))" +
                  hint + "22P02); the statement wrote nothing");
    }
    CHECK(count_of(db, "datum") == 0);
}

// ---- result formats: binary for statements whose columns are all integers, reals, booleans,
// text, bytea or JSON, text for the others (their first run is in text format too) ------------

struct Sample {
    std::int64_t id = 0;
    int i2 = 0;
    int i4 = 0;
    std::int64_t i8 = 0;
    float f4 = 0;
    double f8 = 0;
    std::string t;
    std::string vc;
    std::string bpc;
    loom::Blob b;
    bool flag = false;
    std::string j;
    std::optional<std::int64_t> maybe;
};
constexpr auto loom_model(loom::model_of<Sample>) {
    return loom::table("sample", loom::pk(&Sample::id), loom::field(&Sample::i2, "i2"),
                       loom::field(&Sample::i4, "i4"), loom::field(&Sample::i8, "i8"),
                       loom::field(&Sample::f4, "f4"), loom::field(&Sample::f8, "f8"),
                       loom::field(&Sample::t, "t"), loom::field(&Sample::vc, "vc"),
                       loom::field(&Sample::bpc, "bpc"), loom::field(&Sample::b, "b"),
                       loom::field(&Sample::flag, "flag"), loom::field(&Sample::j, "j"),
                       loom::field(&Sample::maybe, "maybe"));
}

struct Moment {
    std::int64_t id = 0;
    std::chrono::sys_time<std::chrono::milliseconds> ts;
    std::chrono::year_month_day d = std::chrono::year(1970) / 1 / 1;
    std::optional<std::chrono::sys_seconds> none;
};
constexpr auto loom_model(loom::model_of<Moment>) {
    return loom::table("moment", loom::pk(&Moment::id), loom::field(&Moment::ts, "ts"),
                       loom::field(&Moment::d, "d"), loom::field(&Moment::none, "none"));
}

loom::Blob bytes(std::initializer_list<int> v) {
    loom::Blob out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
}

TEST_CASE("PostgreSQL: every column type reads back the same in text and binary result format",
          "[postgres][types]") {
    loom::Database db(test_url());
    db.execute(
        "CREATE TABLE every_type (id bigint PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, "
        "f4 real, f8 double precision, t text, vc varchar(20), bpc char(4), b bytea, "
        "flag boolean, j jsonb, js json, ts timestamptz, d date, u uuid, n numeric, o oid)");
    db.execute(
        "INSERT INTO every_type VALUES (?, ?, ?, ?, CAST(? AS real), ?, ?, ?, ?, ?, "
        "CAST(? AS boolean), CAST(? AS jsonb), CAST(? AS json), CAST(? AS timestamptz), "
        "CAST(? AS date), CAST(? AS uuid), CAST(? AS numeric), CAST(? AS oid))",
        1, -32768, std::int64_t{-2147483648LL}, std::numeric_limits<std::int64_t>::min(), 1.5, 0.1,
        "h\xc3\xa9llo, \"w\"\\", "v", "ab", bytes({0, 0xff, 0x10, 0x5c}), "true",
        R"({"a": [1, 2.5, "x"], "b": null})", R"({"b":1})", "2024-02-29 09:00:00.25+00",
        "2024-02-29", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "12.5", "4294967295");
    db.execute(
        "INSERT INTO every_type VALUES (?, ?, ?, ?, CAST(? AS real), ?, ?, ?, ?, ?, "
        "CAST(? AS boolean), CAST(? AS jsonb), CAST(? AS json), CAST(? AS timestamptz), "
        "CAST(? AS date), CAST(? AS uuid), CAST(? AS numeric), CAST(? AS oid))",
        2, 32767, std::int64_t{2147483647}, std::numeric_limits<std::int64_t>::max(), -0.25, 1e308,
        "", "", "", loom::Blob{}, "false", "null", "[]", "1970-01-01 00:00:00+00", "0001-01-01",
        "00000000-0000-0000-0000-000000000000", "-3", "0");
    db.execute("INSERT INTO every_type (id) VALUES (3)");  // every other column NULL

    using V = loom::Value;
    const std::vector<std::vector<V>> binary_rows{
        {V{std::int64_t{1}}, V{std::int64_t{-32768}}, V{std::int64_t{-2147483648LL}},
         V{std::numeric_limits<std::int64_t>::min()}, V{1.5}, V{0.1},
         V{std::string("h\xc3\xa9llo, \"w\"\\")}, V{std::string("v")}, V{std::string("ab  ")},
         V{bytes({0, 0xff, 0x10, 0x5c})}, V{std::int64_t{1}},
         V{std::string(R"({"a": [1, 2.5, "x"], "b": null})")}, V{std::string(R"({"b":1})")}},
        {V{std::int64_t{2}}, V{std::int64_t{32767}}, V{std::int64_t{2147483647}},
         V{std::numeric_limits<std::int64_t>::max()}, V{-0.25}, V{1e308}, V{std::string()},
         V{std::string()}, V{std::string("    ")}, V{loom::Blob{}}, V{std::int64_t{0}},
         V{std::string("null")}, V{std::string("[]")}},
        {V{std::int64_t{3}}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr},
         V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}},
    };
    const std::vector<std::vector<V>> text_rows{
        {V{std::int64_t{1}}, V{std::string("2024-02-29 09:00:00.25+00")},
         V{std::string("2024-02-29")}, V{std::string("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")},
         V{12.5}, V{std::int64_t{4294967295LL}}},
        {V{std::int64_t{2}}, V{std::string("1970-01-01 00:00:00+00")}, V{std::string("0001-01-01")},
         V{std::string("00000000-0000-0000-0000-000000000000")}, V{std::int64_t{-3}},
         V{std::int64_t{0}}},
        {V{std::int64_t{3}}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}, V{nullptr}},
    };
    auto rows_of = [&](const std::string& sql) {
        std::vector<std::vector<V>> out;
        for (const auto& r : db.query<loom::ResultRow>(sql)) {
            std::vector<V> row;
            for (std::size_t c = 0; c < r.size(); ++c) row.push_back(r[c]);
            out.push_back(std::move(row));
        }
        return out;
    };
    // The first run of a prepared statement is read in text format, the later ones in binary
    // when every column's type is read in binary (the first query), else in text again.
    for (int run = 0; run < 3; ++run) {
        INFO("run " << run);
        CHECK(rows_of("SELECT id, i2, i4, i8, f4, f8, t, vc, bpc, b, flag, j, js FROM every_type "
                      "ORDER BY id") == binary_rows);
        CHECK(rows_of("SELECT id, ts, d, u, n, o FROM every_type ORDER BY id") == text_rows);
        // A value of each binary type as the typed readers take it, and its text.
        CHECK(
            db.query<std::tuple<bool, int, double, float, std::string, std::optional<int>>>(
                "SELECT flag, i2, f8, f4, i8::text, i4 FROM every_type WHERE id < 3 ORDER BY id") ==
            std::vector<std::tuple<bool, int, double, float, std::string, std::optional<int>>>{
                {true, -32768, 0.1, 1.5f, "-9223372036854775808", -2147483648},
                {false, 32767, 1e308, -0.25f, "9223372036854775807", 2147483647}});
    }

    db.create_tables<Sample, Moment>();
    Sample s{.i2 = -7,
             .i4 = 1 << 30,
             .i8 = std::int64_t{1} << 40,
             .f4 = 0.5f,
             .f8 = -2.75,
             .t = "t\xe2\x82\xac",
             .vc = "vc",
             .bpc = "x",
             .b = bytes({1, 0, 2}),
             .flag = true,
             .j = R"({"k": "v"})",
             .maybe = std::nullopt};
    Sample z;
    z.maybe = 9;
    db.insert(s);
    db.insert(z);
    using namespace std::chrono;
    Moment m{.ts = sys_days(year(2024) / 2 / 29) + hours(9) + milliseconds(250),
             .d = year(1999) / 12 / 31,
             .none = std::nullopt};
    db.insert(m);
    for (int run = 0; run < 3; ++run) {
        INFO("run " << run);
        const auto got = db.objects<Sample>().order_by(&Sample::id).to_vector();
        REQUIRE(got.size() == 2);
        CHECK(std::tie(got[0].i2, got[0].i4, got[0].i8, got[0].f4, got[0].f8, got[0].t, got[0].vc,
                       got[0].bpc, got[0].b, got[0].flag, got[0].j, got[0].maybe) ==
              std::tie(s.i2, s.i4, s.i8, s.f4, s.f8, s.t, s.vc, s.bpc, s.b, s.flag, s.j, s.maybe));
        CHECK(got[1].maybe == 9);
        CHECK(got[1].flag == false);
        CHECK(got[1].b.empty());
        const auto when = db.objects<Moment>().get(loom::col(&Moment::id) == m.id);
        CHECK(when.ts == m.ts);
        CHECK(when.d == m.d);
        CHECK(!when.none);
    }
}

TEST_CASE(
    "PostgreSQL: sibling prefetch levels go out in one pipeline, each statement its own "
    "event",
    "[postgres][prefetch][pipeline]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::seed_catalogue(db);
    std::vector<std::string> sql;
    std::vector<std::int64_t> rows;
    std::vector<std::string> origins;
    auto sub = db.on_query([&](const loom::QueryEvent& e) {
        sql.emplace_back(e.sql);
        rows.push_back(e.rows);
        origins.emplace_back(e.origin);
        CHECK(e.duration.count() > 0);
        CHECK(e.error.empty());
    });
    auto walk = [&] {
        std::vector<std::string> seen;
        for (const Book& b : db.objects<Book>().order_by(&Book::id).prefetch_related(
                 &Book::publisher, &Book::authors, &Book::reviews)) {
            std::string line = b.title + " / " + b.publisher->name + " /";
            for (const auto& a : b.authors) line += " " + a.name;
            line += " / " + std::to_string(b.reviews.size());
            seen.push_back(line);
        }
        return seen;
    };
    const std::vector<std::string> want{
        "The Dispossessed / Gollancz / Ursula K. Le Guin / 1",
        "Good Omens / Gollancz / Terry Pratchett Neil Gaiman / 2",
        "Small Gods / Gollancz / Terry Pratchett / 1",
        "American Gods / Penguin / Neil Gaiman / 2",
        "The Wee Free Men / Penguin / Terry Pratchett / 0",
    };
    for (int run = 0; run < 2; ++run) {  // the second run: every statement already prepared
        INFO("run " << run);
        sql.clear();
        rows.clear();
        origins.clear();
        const auto trips = db.round_trips();
        const auto queries = db.query_count();
        CHECK(walk() == want);
        CHECK(db.query_count() - queries == 4);
        // The snapshot's BEGIN with the books (and, the first time, their prepare), then ONE
        // pipeline for the three levels (their prepares in it too); the snapshot's COMMIT is
        // sent without waiting for it.
        CHECK(db.round_trips() - trips == 2);
        REQUIRE(sql.size() == 4);
        CHECK(rows == std::vector<std::int64_t>{5, 2, 6, 6});
        CHECK(origins[1] == "prefetch Book::publisher");
        CHECK(origins[2] == "prefetch Book::authors");
        CHECK(origins[3] == "prefetch Book::reviews");
    }
}

TEST_CASE("PostgreSQL: a failed statement in a pipeline fails the evaluation with its own error",
          "[postgres][prefetch][pipeline]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::seed_catalogue(db);
    std::vector<std::string> errors;
    auto sub = db.on_query([&](const loom::QueryEvent& e) { errors.emplace_back(e.error); });
    // The join table's author column made text: the authors level's join fails on the server.
    db.execute("DROP TABLE book_authors");
    db.execute("CREATE TABLE book_authors (book_id bigint, author_id text)");
    errors.clear();
    const auto e = caught<loom::DatabaseError>([&] {
        auto books = db.objects<Book>()
                         .order_by(&Book::id)
                         .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews)
                         .to_vector();
    });
    CHECK(std::string(e.what()).starts_with("operator does not exist: text = bigint"));
    // Every statement that was sent is reported: the books, the publishers, the failed
    // authors level and the reviews level it kept from running.
    REQUIRE(errors.size() == 4);
    CHECK(errors[0].empty());
    CHECK(errors[1].empty());
    CHECK(errors[2].starts_with("operator does not exist: text = bigint"));
    CHECK(
        errors[3].starts_with("not run: an earlier statement sent with it in one pipeline "
                              "failed"));
    // The connection is usable: out of pipeline mode, out of the aborted snapshot.
    CHECK(db.objects<Publisher>().count() == 2);
    {
        // A write after an evaluation (whose COMMIT was not waited for) commits.
        loom::Transaction tx(db);
        Publisher orbit{.name = "Orbit"};
        db.insert(orbit);
        tx.commit();
    }
    CHECK(count_of(db, "publisher") == 3);
    CHECK(
        db.objects<Book>().prefetch_related(&Book::publisher, &Book::reviews).to_vector().size() ==
        5);
}

}  // namespace postgres_test
