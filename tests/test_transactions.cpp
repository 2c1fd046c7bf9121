// Transactions: the RAII guard, db.transaction(fn), nesting through savepoints, and misuse.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace transactions_test {

using shop::Publisher;

std::int64_t publishers(loom::Database& db) {
    return db.objects<Publisher>().count();
}

std::vector<std::string> publisher_names(loom::Database& db) {
    std::vector<std::string> out;
    for (const auto& p : db.objects<Publisher>().order_by(&Publisher::name)) out.push_back(p.name);
    return out;
}

void add(loom::Database& db, const char* name) {
    Publisher p;
    p.name = name;
    db.insert(p);
}

using loom_test::SqlLog;
using loom_test::TempFile;

struct Boom : std::runtime_error {
    Boom() : std::runtime_error("boom") {}
};

// ---- the RAII guard --------------------------------------------------------------------------

TEST_CASE("a Transaction commits with commit()", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    SqlLog log(db);
    {
        loom::Transaction tx(db);
        CHECK(db.transaction_depth() == 1);
        CHECK(tx.active());
        add(db, "A");
        add(db, "B");
        tx.commit();
        CHECK_FALSE(tx.active());
        CHECK(db.transaction_depth() == 0);
    }
    CHECK(log.sql == std::vector<std::string>{
                         "BEGIN", inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)"),
                         inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)"), "COMMIT"});
    CHECK(publisher_names(db) == std::vector<std::string>{"A", "B"});
}

TEST_CASE("a Transaction destroyed before commit rolls back", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    add(db, "before");
    SqlLog log(db);
    {
        loom::Transaction tx(db);
        add(db, "A");
        CHECK(publishers(db) == 2);  // visible inside the transaction
    }
    CHECK(log.sql.back() == "ROLLBACK");
    CHECK(db.transaction_depth() == 0);
    CHECK(publisher_names(db) == std::vector<std::string>{"before"});
}

TEST_CASE("a Transaction destroyed by an exception rolls back", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    try {
        loom::Transaction tx(db);
        add(db, "A");
        throw Boom();
    } catch (const Boom&) {
    }
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers(db) == 0);
}

TEST_CASE("a Transaction rolls back with rollback()", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    loom::Transaction tx(db);
    add(db, "A");
    tx.rollback();
    CHECK_FALSE(tx.active());
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers(db) == 0);
}

TEST_CASE("every write kind inside a rolled back transaction is undone", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto c = shop::seed_catalogue(db);
    {
        loom::Transaction tx(db);
        c.omens.title = "changed";
        db.update(c.omens);
        db.remove(c.american_gods);
        db.m2m(c.dispossessed, &shop::Book::authors).add(c.gaiman);
        std::vector<Publisher> more(3);
        more[0].name = "x";
        more[1].name = "y";
        more[2].name = "z";
        db.bulk_insert(more);
    }
    CHECK(db.objects<shop::Book>().count() == 5);
    CHECK(db.objects<shop::Book>().get(loom::col(&shop::Book::title) == "Good Omens").id ==
          c.omens.id);
    CHECK(db.objects<shop::Review>().count() == 6);
    CHECK(publishers(db) == 2);
    CHECK(db.objects<shop::Book>()
              .filter(loom::col(&shop::Book::id) == c.dispossessed.id)
              .prefetch_related(&shop::Book::authors)
              .get()
              .authors.size() == 1);
}

// ---- db.transaction(fn) ----------------------------------------------------------------------

TEST_CASE("db.transaction(fn) commits when fn returns and passes its result on", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    SqlLog log(db);
    const int r = db.transaction([&] {
        add(db, "A");
        CHECK(db.transaction_depth() == 1);
        return 42;
    });
    CHECK(r == 42);
    CHECK(log.sql.front() == "BEGIN");
    CHECK(log.sql.back() == "COMMIT");
    CHECK(log.sql.size() == 3);
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers(db) == 1);
}

TEST_CASE("db.transaction(fn) rolls back and rethrows when fn throws", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    add(db, "kept");
    SqlLog log(db);
    CHECK_THROWS_AS(db.transaction([&] {
        add(db, "A");
        add(db, "B");
        throw Boom();
    }),
                    Boom);
    CHECK(log.sql.back() == "ROLLBACK");
    CHECK(db.transaction_depth() == 0);
    CHECK(publisher_names(db) == std::vector<std::string>{"kept"});
}

TEST_CASE("db.transaction(fn) rolls back when a statement inside fails", "[transactions]") {
    loom::Database db(test_url());
    shop::create_all(db);
    add(db, "Dup");
    CHECK_THROWS_AS(db.transaction([&] {
        add(db, "A");
        add(db, "Dup");  // UNIQUE
    }),
                    loom::ConstraintError);
    CHECK(db.transaction_depth() == 0);
    CHECK(publisher_names(db) == std::vector<std::string>{"Dup"});
}

// ---- nesting ---------------------------------------------------------------------------------

TEST_CASE("nested transactions are savepoints: an inner rollback keeps the outer work",
          "[transactions][nested]") {
    loom::Database db(test_url());
    shop::create_all(db);
    SqlLog log(db);
    {
        loom::Transaction outer(db);
        add(db, "outer");
        {
            loom::Transaction inner(db);
            CHECK(db.transaction_depth() == 2);
            add(db, "inner");
            inner.rollback();
        }
        CHECK(db.transaction_depth() == 1);
        add(db, "outer again");
        outer.commit();
    }
    const std::string insert = inserted("INSERT INTO \"publisher\" (\"name\") VALUES (?)");
    CHECK(log.sql == std::vector<std::string>{"BEGIN", insert, "SAVEPOINT loom_1", insert,
                                              "ROLLBACK TO loom_1", "RELEASE loom_1", insert,
                                              "COMMIT"});
    CHECK(publisher_names(db) == std::vector<std::string>{"outer", "outer again"});
}

TEST_CASE("a committed savepoint is still undone by the outer rollback", "[transactions][nested]") {
    loom::Database db(test_url());
    shop::create_all(db);
    {
        loom::Transaction outer(db);
        add(db, "outer");
        loom::Transaction inner(db);
        add(db, "inner");
        inner.commit();
        CHECK(publishers(db) == 2);
    }
    CHECK(publishers(db) == 0);
}

TEST_CASE(
    "db.transaction nested in db.transaction: a caught inner failure keeps the outer "
    "work",
    "[transactions][nested]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.transaction([&] {
        add(db, "outer");
        try {
            db.transaction([&] {
                add(db, "inner");
                CHECK(db.transaction_depth() == 2);
                throw Boom();
            });
        } catch (const Boom&) {
        }
        CHECK(db.transaction_depth() == 1);
        db.transaction([&] { add(db, "second inner"); });
    });
    CHECK(db.transaction_depth() == 0);
    CHECK(publisher_names(db) == std::vector<std::string>{"outer", "second inner"});
}

TEST_CASE("three levels of nesting unwind one level at a time", "[transactions][nested]") {
    loom::Database db(test_url());
    shop::create_all(db);
    loom::Transaction a(db);
    add(db, "a");
    loom::Transaction b(db);
    add(db, "b");
    loom::Transaction c(db);
    add(db, "c");
    CHECK(db.transaction_depth() == 3);
    c.rollback();
    CHECK(publisher_names(db) == std::vector<std::string>{"a", "b"});
    b.commit();
    CHECK(db.transaction_depth() == 1);
    a.commit();
    CHECK(db.transaction_depth() == 0);
    CHECK(publisher_names(db) == std::vector<std::string>{"a", "b"});
}

// ---- misuse ----------------------------------------------------------------------------------

TEST_CASE("committing a transaction twice is a UsageError", "[transactions][misuse]") {
    loom::Database db(test_url());
    shop::create_all(db);
    loom::Transaction tx(db);
    add(db, "A");
    tx.commit();
    const auto q0 = db.query_count();
    CHECK_THROWS_AS(tx.commit(), loom::UsageError);
    CHECK_THROWS_WITH(tx.commit(), "commit: this transaction already ended");
    CHECK_THROWS_WITH(tx.rollback(), "rollback: this transaction already ended");
    CHECK(db.query_count() == q0);  // nothing was sent to the database
    CHECK(publishers(db) == 1);
}

TEST_CASE("committing the outer transaction while an inner one is open is a UsageError",
          "[transactions][misuse]") {
    loom::Database db(test_url());
    shop::create_all(db);
    {
        loom::Transaction outer(db);
        add(db, "outer");
        loom::Transaction inner(db);
        add(db, "inner");
        CHECK_THROWS_WITH(outer.commit(),
                          "commit: a nested transaction is still open; end it "
                          "first");
        CHECK_THROWS_WITH(outer.rollback(),
                          "rollback: a nested transaction is still open; end "
                          "it first");
        CHECK(db.transaction_depth() == 2);
        CHECK(outer.active());
        inner.commit();
        outer.commit();
    }
    CHECK(publisher_names(db) == std::vector<std::string>{"inner", "outer"});
}

TEST_CASE("a transaction on a file is invisible to other connections until commit",
          "[transactions]") {
    const TempFile file("visibility");
    const std::string& path = file.path;
    {
        loom::Database writer(path);
        shop::create_all(writer);
        loom::Database reader(path);
        loom::Transaction tx(writer);
        add(writer, "A");
        CHECK(publishers(reader) == 0);
        tx.commit();
        CHECK(publishers(reader) == 1);
    }
}

}  // namespace transactions_test
