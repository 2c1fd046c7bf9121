// PostgreSQL faults (issue 19): a connection the server closes mid-transaction is a typed error
// with nothing half-committed, and the Database connects again afterwards; concurrent writers
// get typed serialization failures (40001) and deadlocks (40P01); Options::statement_timeout_ms
// cancels a long statement with a typed error. SQLite's faults are in test_faults.cpp.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/testing.hpp>

#include <atomic>
#include <cstdint>
#include <exception>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

namespace pg_faults_test {

using loom_test::has;
using loom_test::message_of;
using shop::Publisher;

std::int64_t publishers(loom::Database& db) {
    return db.query<std::int64_t>("SELECT count(*) FROM publisher").at(0);
}

/// Terminates `db`'s server process from another connection: what a client sees when the
/// server restarts (`pg_ctl restart -m fast` ends every backend the same way).
void terminate(loom::Database& admin, loom::Database& db) {
    const auto pid = db.query<std::int64_t>("SELECT pg_backend_pid()").at(0);
    CHECK(admin.query<std::int64_t>("SELECT pg_terminate_backend(CAST(? AS int))::int", pid) ==
          std::vector<std::int64_t>{1});
}

TEST_CASE(
    "PostgreSQL: a connection lost mid-transaction is typed, writes nothing, and the "
    "Database connects again",
    "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database db(url);
    loom::Database admin(url);
    shop::create_all(db);
    std::vector<std::string> seen;
    auto sub = db.on_query([&](const loom::QueryEvent& e) { seen.emplace_back(e.sql); });
    {
        loom::Transaction tx(db);
        Publisher a{.name = "A"};
        db.insert(a);
        terminate(admin, db);
        Publisher b{.name = "B"};
        const auto msg = message_of<loom::ConnectionError>([&] { db.insert(b); });
        CHECK(has(msg, "the connection to the server was lost"));
        CHECK(has(msg, "loom connects again at the next statement outside a transaction"));
        // The transaction is gone: the rest of it is refused, not sent to a new connection.
        const auto later =
            message_of<loom::TransactionAborted>([&] { (void)db.objects<Publisher>().count(); });
        CHECK(has(later, "this statement was not run"));
        CHECK_THROWS_AS(tx.commit(), loom::TransactionAborted);
    }
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers(admin) == 0);  // nothing half-committed
    // Outside the transaction the Database connects again; the reconnection itself is not a
    // statement.
    seen.clear();
    CHECK(db.objects<Publisher>().count() == 0);
    CHECK(seen.size() == 1);
    Publisher c{.name = "C"};
    db.insert(c);
    CHECK(publishers(admin) == 1);
    CHECK(db.query<std::int64_t>("SELECT pg_backend_pid()").at(0) != 0);
}

TEST_CASE(
    "PostgreSQL: a connection lost between statements: the next one fails, typed; the one "
    "after it runs on a new connection",
    "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database db(url, loom::Options{.statement_timeout_ms = 60000});
    loom::Database admin(url);
    shop::create_all(db);
    Publisher a{.name = "A"};
    db.insert(a);
    terminate(admin, db);
    // Whether a statement sent on a dead connection ran is unknown to loom: it reports it.
    CHECK_THROWS_AS((void)db.objects<Publisher>().count(), loom::ConnectionError);
    CHECK(db.objects<Publisher>().count() == 1);
    // The new connection has the Options again.
    CHECK(db.query<std::string>("SHOW statement_timeout").at(0) == "1min");
    // And a transaction on it works.
    db.transaction([&] {
        Publisher b{.name = "B"};
        db.insert(b);
    });
    CHECK(publishers(admin) == 2);
}

TEST_CASE("PostgreSQL: Options::statement_timeout_ms cancels a long statement, typed",
          "[postgres][faults]") {
    const std::string url = test_url();
    // 500 ms, not less: on a loaded machine loom's own catalog lookups (which key a table
    // assigns) must not time out first.
    loom::Database db(url, loom::Options{.statement_timeout_ms = 500});
    shop::create_all(db);
    const auto msg =
        message_of<loom::BusyError>([&] { db.query<std::string>("SELECT 'x' FROM pg_sleep(5)"); });
    CHECK(has(msg, "canceling statement due to statement timeout"));
    CHECK(has(msg, "ran past statement_timeout (Options::statement_timeout_ms)"));
    // Inside a transaction: nothing of it stands.
    {
        loom::Transaction tx(db);
        Publisher a{.name = "A"};
        db.insert(a);
        try {
            db.execute("INSERT INTO publisher (name) SELECT 'late' FROM pg_sleep(5)");
            FAIL("no timeout");
        } catch (const loom::BusyError& e) {
            CHECK(loom::sqlstate(e.code()) == "57014");
        }
    }
    CHECK(publishers(db) == 0);
}

/// A role (roles belong to the whole cluster: named after the process, dropped at the end) that
/// may read and insert publishers in `db`'s schema but not move their key sequence, which `db`
/// takes on with SET ROLE. A server-assigned key needs no right on an identity's sequence.
struct NoSequenceRole {
    loom::Database& admin;
    loom::Database& db;
    std::string name = "loom_noseq_" + std::to_string(::getpid());
    NoSequenceRole(loom::Database& a, loom::Database& d) : admin(a), db(d) {
        const auto schema = db.query<std::string>("SELECT current_schema()").at(0);
        admin.execute("CREATE ROLE " + name + " NOLOGIN");
        admin.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + name);
        admin.execute("GRANT SELECT, INSERT ON " + schema + ".publisher TO " + name);
        db.execute("SET ROLE " + name);
    }
    NoSequenceRole(const NoSequenceRole&) = delete;
    NoSequenceRole& operator=(const NoSequenceRole&) = delete;
    ~NoSequenceRole() {
        try {
            db.execute("RESET ROLE");
            admin.execute("DROP OWNED BY " + name);
            admin.execute("DROP ROLE " + name);
        } catch (...) {
        }
    }
};

TEST_CASE(
    "PostgreSQL: an explicit key whose sequence cannot be moved is reported at its insert, "
    "not as an aborted transaction later",
    "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database db(url);
    loom::Database admin(url);
    shop::create_all(db);
    const NoSequenceRole role(admin, db);
    const std::string denied = "permission denied for sequence publisher_id_seq";
    SECTION("bulk_insert: the first row's error, and nothing written") {
        std::vector<Publisher> ps{{.id = 10, .name = "A"}, {.id = 11, .name = "B"}};
        std::string msg;
        int code = 0;
        try {
            db.bulk_insert(ps);
        } catch (const loom::DatabaseError& e) {
            msg = e.what();
            code = e.code();
        }
        CHECK(loom::sqlstate(code) == "42501");
        CHECK(has(msg, denied));
        CHECK(has(msg,
                  "after inserting the key 10 into \"publisher\", while moving the table's "
                  "key sequence past it (setval)"));
        CHECK(has(msg, "the transaction is aborted, its rows will not be committed"));
        CHECK(ps[0].id == 10);
        CHECK(ps[1].id == 11);
        CHECK(db.transaction_depth() == 0);
        CHECK(publishers(admin) == 0);
    }
    SECTION("in a Transaction: the insert says why, not the COMMIT that it rolled back") {
        Publisher a{.name = "auto"}, b{.id = 10, .name = "B"};
        const auto msg = message_of<loom::DatabaseError>([&] {
            loom::Transaction tx(db);
            db.insert(a);  // a key the server assigns: no setval
            db.insert(b);
            tx.commit();
        });
        CAPTURE(msg);
        CHECK(has(msg, denied));
        CHECK(has(msg, "roll it back"));
        CHECK(db.transaction_depth() == 0);
        CHECK(publishers(admin) == 0);  // nothing half-written
    }
    SECTION("outside a transaction: the row stands, and the message says so") {
        Publisher b{.id = 10, .name = "B"};
        const auto msg = message_of<loom::DatabaseError>([&] { db.insert(b); });
        CHECK(has(msg, denied));
        CHECK(has(msg, "the row is inserted, but the sequence was not moved"));
        CHECK(admin.query<std::string>("SELECT name FROM publisher WHERE id = 10") ==
              std::vector<std::string>{"B"});
    }
}

TEST_CASE(
    "PostgreSQL: a failure while asking whether the server assigns a table's keys is reported "
    "as itself, not as an aborted transaction at the INSERT",
    "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database admin(url);
    shop::create_all(admin);
    // The question (asked once per table and connection, before its first INSERT without a
    // key) reads information_schema.columns, which reads pg_attrdef: another program holding
    // that catalog locked makes it wait past lock_timeout. Held for 20 ms only, since other
    // tests on the server may read the catalog too.
    loom::Database db(url, loom::Options{.busy_timeout_ms = 20});
    Publisher a{.name = "A"};
    {
        loom::Transaction tx(db);
        std::string msg;
        {
            loom::Transaction lock(admin);
            admin.execute("LOCK TABLE pg_catalog.pg_attrdef IN ACCESS EXCLUSIVE MODE");
            msg = message_of<loom::BusyError>([&] { db.insert(a); });
        }
        CHECK(has(msg, "canceling statement due to lock timeout"));
        CHECK(has(msg,
                  "while asking whether the server fills in \"publisher\".\"id\" on "
                  "INSERT, before inserting: nothing was inserted"));
        CHECK(a.id == 0);
    }
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers(admin) == 0);
    // Not remembered as an answer: asked again, and the insert goes through.
    db.insert(a);
    CHECK(a.id == 1);
    CHECK(publishers(admin) == 1);
}

TEST_CASE("PostgreSQL: write skew under SERIALIZABLE is a typed serialization failure",
          "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database one(url), two(url);
    shop::create_all(one);
    // Each transaction inserts only if it sees no publisher: run one after the other, only one
    // would insert; interleaved, SERIALIZABLE refuses the second commit.
    loom::Transaction t1(one), t2(two);
    one.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
    two.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE");
    CHECK(one.objects<Publisher>().count() == 0);
    CHECK(two.objects<Publisher>().count() == 0);
    Publisher a{.name = "A"}, b{.name = "B"};
    one.insert(a);
    two.insert(b);
    t1.commit();
    std::string msg;
    int code = 0;
    try {
        t2.commit();
    } catch (const loom::BusyError& e) {
        msg = e.what();
        code = e.code();
    }
    CHECK(loom::sqlstate(code) == "40001");
    CHECK(has(msg, "run the whole transaction again"));
    t2.rollback();
    loom::Database check(url);
    CHECK(check.query<std::string>("SELECT name FROM publisher") == std::vector<std::string>{"A"});
}

TEST_CASE("PostgreSQL: a deadlock between two writers is a typed error; the other one commits",
          "[postgres][faults]") {
    const std::string url = test_url();
    loom::Database one(url), two(url);
    shop::create_all(one);
    Publisher a{.name = "A"}, b{.name = "B"};
    one.insert(a);
    one.insert(b);
    two.execute("SET deadlock_timeout = 50");
    // one locks A then B; two locks B then A: whichever the server picks gets 40P01.
    std::atomic<int> step{0};
    std::exception_ptr other_error;
    int failed = 0;
    std::string msg;
    loom::Transaction t1(one);
    one.execute("UPDATE publisher SET name = 'A1' WHERE id = ?", a.id);
    std::thread second([&] {
        try {
            loom::Transaction t2(two);
            two.execute("UPDATE publisher SET name = 'B2' WHERE id = ?", b.id);
            step = 1;
            two.execute("UPDATE publisher SET name = 'A2' WHERE id = ?", a.id);  // waits for one
            t2.commit();
        } catch (const loom::BusyError& e) {
            if (loom::sqlstate(e.code()) == "40P01") {
                ++failed;
                msg = e.what();
            } else {
                other_error = std::current_exception();
            }
        } catch (...) {
            other_error = std::current_exception();
        }
    });
    while (step == 0) std::this_thread::yield();
    // Give two time to wait on A: a wait for the lock graph, not a timed assertion (if two has
    // not waited yet, one simply waits for two instead, and the deadlock is found either way).
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    try {
        one.execute("UPDATE publisher SET name = 'B1' WHERE id = ?", b.id);
        t1.commit();
    } catch (const loom::BusyError& e) {
        if (loom::sqlstate(e.code()) == "40P01") {
            ++failed;
            msg = e.what();
        }
        t1.rollback();
    }
    second.join();
    if (other_error) std::rethrow_exception(other_error);
    CHECK(failed == 1);
    CHECK(has(msg, "deadlock detected"));
    CHECK(has(msg, "cancelled this one; roll back and run the whole transaction again"));
    // The survivor's writes stand whole, the victim's not at all.
    loom::Database check(url);
    const auto names = check.query<std::string>("SELECT name FROM publisher ORDER BY id");
    CHECK((names == std::vector<std::string>{"A1", "B1"} ||
           names == std::vector<std::string>{"A2", "B2"}));
}

}  // namespace pg_faults_test
