// PostgreSQL's own behaviour (tag [postgres]: run only by the "postgres" CTest label, against
// the server LOOM_TEST_PG_URL names): SQLSTATE -> typed errors, aborted transactions and
// savepoints, connection loss, timeouts, serialization failures, identity keys, key arrays.
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "catch.hpp"
#include "models.hpp"

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

}  // namespace postgres_test
