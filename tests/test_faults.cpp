// Writes and faults (issue 15): a transaction the engine rolled back stays ended; a file moved
// away in WAL mode refuses writes; listeners cannot misreport committed work; keys that are not
// integers are refused; one Database used by two threads is refused; and the smaller promises
// (NaN in filters, a float out of range, short messages, a read-only WAL directory, foreign key
// failures that name the key). Each case fails on the code before the fix.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/testing.hpp>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace faults_test {

using loom_test::message_of;

// A legacy table whose key is not SQLite's rowid (INT PRIMARY KEY), and two tables with keys of
// any type, linked many-to-many, as other programs may have written them.
struct Legacy {
    std::int64_t id = 0;
    std::string name;
};
struct Tag;
struct Post {
    std::int64_t id = 0;
    std::string title;
    loom::ManyToMany<Tag> tags;
};
struct Tag {
    std::int64_t id = 0;
    std::string label;
};
// A float member, and a parent that cannot be deleted while rows refer to it.
struct Gauge {
    std::int64_t id = 0;
    float level = 0;
};
struct Crate {
    std::int64_t id = 0;
    std::string label;
};
struct Bottle {
    std::int64_t id = 0;
    loom::ForeignKey<Crate> crate;
    loom::ForeignKey<Crate> spare;  // nullable: may be NULL
};

constexpr auto loom_model(loom::model_of<Legacy>) {
    return loom::table("legacy", loom::pk(&Legacy::id), loom::field(&Legacy::name, "name"));
}
constexpr auto loom_model(loom::model_of<Post>) {
    return loom::table("post", loom::pk(&Post::id), loom::field(&Post::title, "title"),
                       loom::many_to_many(&Post::tags, "post_tags"));
}
constexpr auto loom_model(loom::model_of<Tag>) {
    return loom::table("tag", loom::pk(&Tag::id), loom::field(&Tag::label, "label"));
}
constexpr auto loom_model(loom::model_of<Gauge>) {
    return loom::table("gauge", loom::pk(&Gauge::id), loom::field(&Gauge::level, "level"));
}
constexpr auto loom_model(loom::model_of<Crate>) {
    return loom::table("crate", loom::pk(&Crate::id), loom::field(&Crate::label, "label"));
}
constexpr auto loom_model(loom::model_of<Bottle>) {
    return loom::table("bottle", loom::pk(&Bottle::id),
                       loom::foreign_key(&Bottle::crate, "crate_id"),
                       loom::foreign_key(&Bottle::spare, "spare_id", loom::nullable));
}

using shop::Author;
using shop::Book;
using shop::Publisher;

using loom_test::TempFile;

Publisher publisher(const std::string& name) {
    Publisher p;
    p.name = name;
    return p;
}

std::int64_t publishers_named(loom::Database& db, const std::string& name) {
    return db.query<std::int64_t>("SELECT count(*) FROM publisher WHERE name = ?", name).at(0);
}

const std::string insert_publisher =
    std::string("INSERT INTO \"publisher\" (\"name\") VALUES (?)") +
    (on_postgres() ? " RETURNING \"id\"" : "");

/// What TransactionAborted says after a full disk in `sql`, refusing `refused`.
std::string aborted_message(const std::string& sql, const std::string& refused) {
    return "the database rolled the transaction back after an error (database or disk is full, "
           "in " +
           sql +
           "): nothing written in it since BEGIN persists; this statement was not "
           "run: " +
           refused +
           ". End the transaction (its outermost loom::Transaction or "
           "db.transaction) and start the work again";
}

// ---- 1. a transaction the engine rolled back stays ended ---------------------------------------

TEST_CASE(
    "a full disk inside a transaction ends it: later statements throw TransactionAborted "
    "and nothing of it persists",
    "[faults][transaction][full][sqlite]") {
    const bool wal = GENERATE(false, true);
    const std::string op =
        GENERATE(as<std::string>{}, "insert", "bulk_insert", "m2m set", "update", "savepoint");
    CAPTURE(wal, op);
    const TempFile file("full");
    {
        loom::Database db(file.path, {.wal = wal});
        shop::create_all(db);
        shop::seed_catalogue(db);
        std::vector<Author> many(3000);
        for (auto& a : many) a.name = "reader";
        db.bulk_insert(many);
    }
    loom::Database db(file.path, {.wal = wal});
    const auto pages = db.query<std::int64_t>("PRAGMA page_count").at(0);
    db.execute("PRAGMA max_page_count = " + std::to_string(pages + 3));
    const auto authors = db.objects<Author>().to_vector();
    Book omens = db.objects<Book>()
                     .prefetch_related(&Book::authors)
                     .get(loom::col(&Book::title) == "Good Omens");

    std::string failed_sql;
    std::int64_t before_id = 0;
    {
        loom::Transaction tx(db);
        Publisher before = publisher("Before");
        db.insert(before);
        before_id = before.id;
        CHECK(before_id > 0);

        std::int64_t code = 0;
        try {
            if (op == "insert") {
                failed_sql = insert_publisher;
                Publisher big = publisher(std::string(100000, 'x'));
                db.insert(big);
            } else if (op == "bulk_insert") {
                failed_sql =
                    "INSERT INTO \"book\" (\"title\", \"year\", \"publisher_id\") VALUES "
                    "(?, ?, ?)";
                std::vector<Book> books(500);
                for (auto& b : books) {
                    b.title = std::string(300, 'y');
                    b.publisher = 1;
                }
                db.bulk_insert(books);
            } else if (op == "m2m set") {
                failed_sql =
                    "INSERT INTO \"book_authors\" (\"book_id\", \"author_id\") "
                    "VALUES (?, ?) ON CONFLICT DO NOTHING";
                db.m2m(omens, &Book::authors).set(authors);
            } else if (op == "update") {
                failed_sql = "UPDATE \"publisher\" SET \"name\" = ? WHERE \"id\" = ?";
                before.name = std::string(100000, 'z');
                db.update(before);
            } else {  // inside a nested savepoint
                failed_sql = insert_publisher;
                loom::Transaction inner(db);
                CHECK(db.transaction_depth() == 2);
                Publisher big = publisher(std::string(100000, 'x'));
                db.insert(big);
                inner.commit();
            }
            FAIL("the disk should have been full");
        } catch (const loom::IoError& e) {
            code = e.code();
        }
        CHECK(code == SQLITE_FULL);
        CHECK(db.transaction_depth() == 1);  // the guard has not ended yet
        CHECK(omens.authors.size() == 2);    // a failed set() leaves the loaded list as it was

        // The next write is refused, not committed on the spot in autocommit mode.
        const auto q0 = db.query_count();
        Publisher after = publisher("After");
        std::string what;
        try {
            db.insert(after);
            FAIL("the insert should have been refused");
        } catch (const loom::TransactionAborted& e) {
            CHECK(e.code() == SQLITE_FULL);
            what = e.what();
        }
        CHECK(what == aborted_message(failed_sql, insert_publisher));
        CHECK(after.id == 0);
        CHECK(db.query_count() == q0);  // not run
        // Reads are refused too (they would read outside the transaction).
        CHECK_THROWS_AS(db.objects<Publisher>().count(), loom::TransactionAborted);
        // So is a nested transaction, and the commit.
        CHECK_THROWS_AS(loom::Transaction(db), loom::TransactionAborted);
        CHECK(message_of<loom::TransactionAborted>([&] { tx.commit(); }) ==
              aborted_message(failed_sql, "COMMIT"));
        CHECK(tx.active());
    }
    // The outermost guard ended: the Database works again, and nothing of the transaction
    // persisted.
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers_named(db, "Before") == 0);
    CHECK(publishers_named(db, "After") == 0);
    CHECK(db.objects<Publisher>().count() == 2);
    CHECK(db.objects<Book>().count() == 5);
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM book_authors").at(0) == 6);
    db.execute("PRAGMA max_page_count = 1000000");
    db.transaction([&] {
        Publisher p = publisher("Later");
        db.insert(p);
    });
    CHECK(publishers_named(db, "Later") == 1);
    // Another connection sees exactly the same.
    loom::Database other(file.path);
    CHECK(other.objects<Publisher>().count() == 3);
}

TEST_CASE(
    "db.transaction whose function catches the full-disk error and goes on throws "
    "TransactionAborted at commit, and nothing persists",
    "[faults][transaction][full][sqlite]") {
    const TempFile file("full_fn");
    {
        loom::Database db(file.path);
        shop::create_all(db);
        shop::seed_catalogue(db);
    }
    loom::Database db(file.path);
    const auto pages = db.query<std::int64_t>("PRAGMA page_count").at(0);
    db.execute("PRAGMA max_page_count = " + std::to_string(pages + 3));
    int refused = 0;
    CHECK_THROWS_AS(db.transaction([&] {
        Publisher a = publisher("A");
        db.insert(a);
        try {
            Publisher big = publisher(std::string(100000, 'x'));
            db.insert(big);
        } catch (const loom::IoError&) {
            // the caller decides to go on
        }
        for (const char* name : {"B", "C"}) {
            try {
                Publisher p = publisher(name);
                db.insert(p);
            } catch (const loom::TransactionAborted&) {
                ++refused;
            }
        }
    }),
                    loom::TransactionAborted);
    CHECK(refused == 2);
    CHECK(db.transaction_depth() == 0);
    CHECK(db.objects<Publisher>().count() == 2);
    SECTION("rollback() of an aborted transaction is quiet and ends it") {
        loom::Transaction tx(db);
        Publisher a = publisher("A");
        db.insert(a);
        Publisher big = publisher(std::string(100000, 'x'));
        CHECK_THROWS_AS(db.insert(big), loom::IoError);
        tx.rollback();
        CHECK_FALSE(tx.active());
        CHECK(db.transaction_depth() == 0);
        Publisher d = publisher("D");
        db.insert(d);  // autocommit again
        CHECK(publishers_named(db, "D") == 1);
        CHECK(publishers_named(db, "A") == 0);
    }
}

TEST_CASE(
    "a COMMIT run as raw SQL inside a loom transaction ends it: later statements are "
    "refused, not run in autocommit",
    "[faults][transaction]") {
    loom::Database db(test_url());
    shop::create_all(db);
    {
        loom::Transaction tx(db);
        Publisher a = publisher("A");
        db.insert(a);
        db.execute("COMMIT");
        Publisher b = publisher("B");
        CHECK(message_of<loom::TransactionAborted>([&] { db.insert(b); }) ==
              "the transaction was ended by a statement run inside it (COMMIT), which committed "
              "or rolled back what was written before it; this statement was not run: " +
                  insert_publisher +
                  ". End the transaction (its outermost loom::Transaction or db.transaction) and "
                  "start the work again");
        CHECK(b.id == 0);
    }
    CHECK(db.transaction_depth() == 0);
    CHECK(publishers_named(db, "A") == 1);  // the raw COMMIT committed it
    CHECK(publishers_named(db, "B") == 0);
}

// ---- 2. a database file moved away in WAL mode -----------------------------------------------

TEST_CASE(
    "in WAL mode a database file deleted, renamed or replaced while open refuses writes "
    "instead of losing them",
    "[faults][moved][sqlite]") {
    const TempFile file("moved");
    const TempFile elsewhere("moved_elsewhere");
    {
        loom::Database db(file.path, {.wal = true});
        shop::create_all(db);
        shop::seed_catalogue(db);
    }
    loom::Database db(file.path, {.wal = true});
    CHECK(db.objects<Book>().count() == 5);
    const std::string how = GENERATE(as<std::string>{}, "deleted", "renamed", "replaced");
    CAPTURE(how);
    if (how == "deleted") {
        std::filesystem::remove(file.path);
    } else if (how == "renamed") {
        std::filesystem::rename(file.path, elsewhere.path);
    } else {
        loom::Database fresh(elsewhere.path);
        shop::create_all(fresh);
        std::filesystem::rename(elsewhere.path, file.path);
    }
    const std::string moved =
        ": the database file was deleted, moved or replaced while open; open a new Database on "
        "the file";
    auto refused = [&](auto&& write, const std::string& sql) {
        try {
            write();
            FAIL("the write should have been refused");
        } catch (const loom::ReadOnlyError& e) {
            CHECK(e.code() == SQLITE_READONLY_DBMOVED);
            CHECK(std::string(e.what()) ==
                  "attempt to write a readonly database (while running: " + sql + ")" + moved);
        }
    };
    Publisher p = publisher("Lost");
    refused([&] { db.insert(p); }, insert_publisher);
    CHECK(p.id == 0);
    refused([&] { db.execute("DELETE FROM review"); }, "DELETE FROM review");
    // At transaction start: no transaction opens.
    refused([&] { loom::Transaction tx(db); }, "BEGIN IMMEDIATE");
    std::vector<Book> books(3);
    for (auto& b : books) b.publisher = 1;
    refused([&] { db.bulk_insert(books); }, "BEGIN IMMEDIATE");
    CHECK(books[0].id == 0);
    CHECK(db.transaction_depth() == 0);
    // Reads still see what the connection holds open.
    CHECK(db.objects<Book>().count() == 5);
    // Whoever opens the path sees no trace of the refused writes.
    if (how != "deleted") {
        loom::Database again(how == "renamed" ? elsewhere.path : file.path);
        CHECK(publishers_named(again, "Lost") == 0);
    }
}

TEST_CASE(
    "a database file moved away during a transaction refuses the COMMIT, which rolls "
    "back",
    "[faults][moved][sqlite]") {
    const bool wal = GENERATE(false, true);
    CAPTURE(wal);
    const TempFile file("moved_commit");
    const TempFile elsewhere("moved_commit_elsewhere");
    {
        loom::Database db(file.path, {.wal = wal});
        shop::create_all(db);
    }
    loom::Database db(file.path, {.wal = wal});
    std::string what;
    Publisher p = publisher("Late");
    try {
        db.transaction([&] {
            db.insert(p);
            std::filesystem::rename(file.path, elsewhere.path);
        });
        FAIL("the commit should have been refused");
    } catch (const loom::ReadOnlyError& e) {
        CHECK(e.code() == SQLITE_READONLY_DBMOVED);
        what = e.what();
    }
    CHECK(what ==
          "attempt to write a readonly database (while running: COMMIT): the database file was "
          "deleted, moved or replaced while open; open a new Database on the file");
    CHECK(db.transaction_depth() == 0);
    loom::Database moved(elsewhere.path);
    CHECK(publishers_named(moved, "Late") == 0);
}

// ---- 4. listeners observe; they cannot misreport committed work --------------------------------

TEST_CASE("a listener that throws after COMMIT does not make committed work look failed",
          "[faults][listener]") {
    loom::Database db(test_url());
    shop::create_all(db);
    auto sub = db.on_query([](const loom::QueryEvent& e) {
        if (e.sql == "COMMIT") throw std::runtime_error("log disk full");
    });
    const std::string committed =
        "a query listener threw after this statement succeeded: COMMIT. loom finished its work "
        "first and undid nothing: it is committed. The listener's exception: log disk full";

    SECTION("bulk_insert keeps the keys: the rows are in, and a retry would duplicate them") {
        std::vector<Publisher> ps{publisher("A"), publisher("B"), publisher("C")};
        std::string what;
        try {
            db.bulk_insert(ps);
            FAIL("the listener's error should be reported");
        } catch (const loom::ListenerError& e) {
            what = e.what();
            CHECK_THROWS_WITH(std::rethrow_exception(e.listener_exception()), "log disk full");
        }
        CHECK(what == committed);
        CHECK(ps[0].id == 1);
        CHECK(ps[2].id == 3);
        CHECK(db.objects<Publisher>().count() == 3);
        CHECK(db.transaction_depth() == 0);
        sub.reset();
        for (auto& p : ps) db.save(p);  // what a retry does with kept keys: no duplicates
        CHECK(db.objects<Publisher>().count() == 3);
    }
    SECTION("db.transaction") {
        Publisher a = publisher("A");
        CHECK(message_of<loom::ListenerError>([&] { db.transaction([&] { db.insert(a); }); }) ==
              committed);
        CHECK(a.id == 1);
        CHECK(db.transaction_depth() == 0);
        CHECK(publishers_named(db, "A") == 1);
    }
    SECTION("Transaction::commit ends the transaction") {
        Publisher a = publisher("A");
        loom::Transaction tx(db);
        db.insert(a);
        CHECK(message_of<loom::ListenerError>([&] { tx.commit(); }) == committed);
        CHECK_FALSE(tx.active());
        CHECK(db.transaction_depth() == 0);
        CHECK(publishers_named(db, "A") == 1);
    }
}

TEST_CASE(
    "a listener that throws after an autocommit write reports it after the call's work "
    "is done",
    "[faults][listener]") {
    loom::Database db(test_url());
    shop::create_all(db);

    SECTION("NPlusOneGuard counting writes: the insert that crosses the threshold keeps its key") {
        loom::NPlusOneGuard guard(db, {.threshold = 2, .reads_only = false});
        std::vector<Publisher> ps{publisher("A"), publisher("B"), publisher("C")};
        db.insert(ps[0]);
        db.insert(ps[1]);
        try {
            db.insert(ps[2]);
            FAIL("the guard should have reported the third insert");
        } catch (const loom::ListenerError& e) {
            CHECK_THAT(e.what(), Catch::Matchers::StartsWith(
                                     "a query listener threw after this statement succeeded: " +
                                     insert_publisher +
                                     ". loom finished its work first and undid nothing: it is "
                                     "committed. The listener's exception: N+1 queries: the same "
                                     "statement ran 3 times"));
            CHECK_THROWS_AS(std::rethrow_exception(e.listener_exception()), loom::NPlusOneDetected);
        }
        CHECK(ps[2].id == 3);
        CHECK(db.objects<Publisher>().count() == 3);
    }
    SECTION("remove sets the key to 0: the row is gone") {
        Publisher a = publisher("A");
        db.insert(a);
        auto sub = db.on_query([](const loom::QueryEvent& e) {
            if (e.sql.starts_with("DELETE")) throw std::runtime_error("audit failed");
        });
        CHECK_THROWS_AS(db.remove(a), loom::ListenerError);
        CHECK(a.id == 0);
        CHECK(db.objects<Publisher>().count() == 0);
    }
    SECTION("an insert inside a transaction: part of it, and the exception unwinds it") {
        auto sub = db.on_query([](const loom::QueryEvent& e) {
            if (e.sql.starts_with("INSERT")) throw std::runtime_error("audit failed");
        });
        Publisher a = publisher("A");
        CHECK(message_of<loom::ListenerError>([&] { db.transaction([&] { db.insert(a); }); }) ==
              "a query listener threw after this statement succeeded: " + insert_publisher +
                  ". loom finished its work first and undid nothing: it is part of the open "
                  "transaction. The listener's exception: audit failed");
        CHECK(a.id == 1);  // what the database said, before db.transaction rolled back
        CHECK(db.transaction_depth() == 0);
        sub.reset();
        CHECK(db.objects<Publisher>().count() == 0);
    }
}

TEST_CASE("a listener's exception after a read, a failed statement or BEGIN changes nothing",
          "[faults][listener]") {
    loom::Database db(test_url());
    shop::create_all(db);
    SECTION("after a read it propagates unchanged") {
        auto sub = db.on_query([](const loom::QueryEvent&) { throw std::runtime_error("boom"); });
        CHECK_THROWS_WITH(db.objects<Publisher>().count(), "boom");
    }
    SECTION("after a failed statement the statement's own error wins") {
        Publisher a = publisher("A");
        db.insert(a);
        auto sub = db.on_query([](const loom::QueryEvent&) { throw std::runtime_error("boom"); });
        Publisher twin = publisher("A");
        CHECK_THROWS_AS(db.insert(twin), loom::ConstraintError);
        CHECK(twin.id == 0);
    }
    SECTION("after BEGIN: no transaction is left open") {
        auto sub = db.on_query([](const loom::QueryEvent& e) {
            if (e.sql == "BEGIN") throw std::runtime_error("boom");
        });
        CHECK_THROWS_WITH(loom::Transaction(db), "boom");
        CHECK(db.transaction_depth() == 0);
        sub.reset();
        Publisher a = publisher("A");
        db.insert(a);  // autocommit works: no stray BEGIN is open
        loom::Transaction tx(db);
        tx.commit();
        CHECK(publishers_named(db, "A") == 1);
    }
}

// ---- 5. keys that are not integers ----------------------------------------------------------

TEST_CASE(
    "insert into a table whose key the database does not fill in is a DataError and "
    "inserts nothing",
    "[faults][keys][sqlite]") {
    loom::Database db(":memory:");
    db.execute("CREATE TABLE legacy (id INT PRIMARY KEY, name TEXT)");
    Legacy a;
    a.name = "first";
    const auto q0 = db.query_count();
    CHECK(message_of<loom::DataError>([&] { db.insert(a); }) ==
          "insert: Legacy.id (table \"legacy\"): the database does not fill in this key column on "
          "insert (on SQLite only a column declared INTEGER PRIMARY KEY is; one declared INT "
          "PRIMARY KEY, say, is left NULL), so the new row would have no key; declare the column "
          "INTEGER PRIMARY KEY, or give the object its key before inserting it. Nothing was "
          "inserted");
    CHECK(db.query_count() == q0);
    CHECK(a.id == 0);
    std::vector<Legacy> more(2);
    CHECK_THROWS_AS(db.bulk_insert(more), loom::DataError);
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM legacy").at(0) == 0);
    // With its key given, the row goes in and reads back.
    a.id = 7;
    db.insert(a);
    CHECK(db.objects<Legacy>().get().id == 7);
    // INTEGER PRIMARY KEY DESC and WITHOUT ROWID tables are not rowid aliases either: SQLite
    // leaves (or requires) the key, so loom refuses the same way before writing anything.
    for (const char* ddl : {"CREATE TABLE legacy (id INTEGER PRIMARY KEY DESC, name TEXT)",
                            "CREATE TABLE legacy (id INTEGER PRIMARY KEY, name TEXT) WITHOUT "
                            "ROWID"}) {
        loom::Database other(":memory:");
        other.execute(ddl);
        Legacy c;
        CHECK_THAT(message_of<loom::DataError>([&] { other.insert(c); }),
                   Catch::Contains("the database does not fill in this key column on insert"));
        CHECK(c.id == 0);
        CHECK(other.query<std::int64_t>("SELECT count(*) FROM legacy").at(0) == 0);
    }
    // A table loom creates is filled in as before.
    loom::Database fresh(":memory:");
    fresh.create_tables<Legacy>();
    Legacy b;
    fresh.insert(b);
    CHECK(b.id == 1);
}

TEST_CASE("PostgreSQL: insert into a table whose key has no identity or default is a DataError",
          "[faults][keys][postgres]") {
    loom::Database db(test_url());
    db.execute("CREATE TABLE legacy (id bigint PRIMARY KEY, name text)");
    Legacy a;
    a.name = "first";
    const auto q0 = db.query_count();
    CHECK(message_of<loom::DataError>([&] { db.insert(a); }) ==
          "insert: Legacy.id (table \"legacy\"): the database does not fill in this key column on "
          "insert (on PostgreSQL a key column is filled in when it is an identity column or "
          "defaults to a sequence's nextval()), so the new row would have no key; declare the "
          "column bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, or give the object its key "
          "before inserting it. Nothing was inserted");
    CHECK(db.query_count() == q0);
    CHECK(a.id == 0);
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM legacy").at(0) == 0);
    a.id = 7;
    db.insert(a);
    CHECK(db.objects<Legacy>().get().id == 7);
}

TEST_CASE(
    "a many-to-many target whose key is REAL, TEXT or NULL is a DataError, never "
    "another row",
    "[faults][keys][sqlite]") {
    loom::Database db(":memory:");
    // Keys of any type, as another program may store them.
    db.execute("CREATE TABLE post (id INTEGER PRIMARY KEY, title TEXT)");
    db.execute("CREATE TABLE tag (id PRIMARY KEY, label TEXT)");
    db.execute("CREATE TABLE post_tags (post_id, tag_id)");
    db.execute("INSERT INTO post VALUES (1, 'first'), (2, 'second')");
    const loom::Value bad = GENERATE(loom::Value{1.5}, loom::Value{std::string("one")});
    db.execute("INSERT INTO tag VALUES (1, 'one'), (?, 'odd')", bad);
    db.execute("INSERT INTO post_tags VALUES (1, 1), (2, ?)", bad);
    std::string what;
    try {
        auto posts = db.objects<Post>().prefetch_related(&Post::tags).to_vector();
        // Before the fix: posts[1].tags[0].id was 1, and db.remove of it deleted tag 1.
        FAIL("post 2's tag should not read as tag " << posts[1].tags[0].id);
    } catch (const loom::DataError& e) {
        what = e.what();
    }
    const std::string found = bad.index() == 2 ? "REAL 1.5" : "TEXT 'one'";
    CHECK_THAT(what, Catch::Matchers::StartsWith(
                         "result column 1 (id): expected an INTEGER key, found " + found +
                         " (a key that is not an integer is never rounded into another row's "
                         "key; while running: SELECT"));
    CHECK(what.find("FROM \"tag\"") != std::string::npos);
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM tag").at(0) == 2);
}

// ---- 6. one Database per thread --------------------------------------------------------------

/// Runs `attempt` on another thread while this thread is inside a statement of `db` whose SQL
/// starts with `during`; returns the message of the UsageError the attempt threw.
template <class Main, class Attempt>
std::string used_by_another_thread(loom::Database& db, const std::string& during, Main&& main,
                                   Attempt&& attempt) {
    std::string message = "(no exception)";
    std::atomic<bool> done{false};
    bool paused = false;
    auto sub = db.on_query([&](const loom::QueryEvent& e) {
        if (paused || !e.sql.starts_with(during)) return;
        paused = true;
        std::thread other([&] {
            try {
                attempt();
            } catch (const loom::UsageError& u) {
                message = u.what();
            }
            done = true;
        });
        other.join();
    });
    main();
    CHECK(paused);
    CHECK(done);
    return message;
}

TEST_CASE(
    "a Database used by a second thread while the first is inside it is a UsageError "
    "saying one Database per thread",
    "[faults][threads]") {
    // On PostgreSQL with a password in the URL: the message must not show it.
    const std::string url = on_postgres() ? test_url() + "&password=hunter2" : test_url();
    loom::Database db(url);
    shop::create_all(db);
    const auto cat = shop::seed_catalogue(db);
    std::string shown = url;
    if (on_postgres()) shown.replace(shown.find("hunter2"), 7, "***");
    const std::string expected =
        "this Database ('" + shown +
        "') is in use by another thread: use one Database per thread (" +
        on_engine(
            "open one on the same file in each thread; with Options{.wal = true} readers do "
            "not wait for the writer",
            "open one Database, that is one server connection, in each thread") +
        "). A QuerySet belongs to its Database's thread.";
    const auto q0 = db.query_count();

    SECTION("a query during a query") {
        std::int64_t n = 0;
        CHECK(used_by_another_thread(
                  db, "SELECT", [&] { n = db.objects<Book>().count(); },
                  [&] { (void)db.objects<Author>().count(); }) == expected);
        CHECK(n == 5);
        CHECK(db.query_count() - q0 == 1);  // the other thread's query never ran
    }
    SECTION("an insert during a prefetching evaluation (its snapshot belongs to one thread)") {
        std::vector<Book> books;
        Publisher p = publisher("Tor");
        CHECK(used_by_another_thread(
                  db, "SELECT",
                  [&] { books = db.objects<Book>().prefetch_related(&Book::authors).to_vector(); },
                  [&] { db.insert(p); }) == expected);
        CHECK(p.id == 0);
        REQUIRE(books.size() == 5);
        CHECK(books[1].authors.size() == 2);
    }
    SECTION("the same QuerySet evaluated by two threads") {
        auto qs = db.objects<Book>().prefetch_related(&Book::reviews);
        CHECK(used_by_another_thread(
                  db, "SELECT", [&] { (void)qs.count(); }, [&] { (void)qs.to_vector(); }) ==
              expected);
    }
    SECTION("a write during bulk_insert (between its statements too)") {
        std::vector<Publisher> ps{publisher("A"), publisher("B")};
        Publisher c = publisher("C");
        CHECK(used_by_another_thread(
                  db, "INSERT", [&] { db.bulk_insert(ps); }, [&] { db.insert(c); }) == expected);
        CHECK(ps[1].id > 0);
        CHECK(c.id == 0);
        CHECK(db.objects<Publisher>().count() == 4);
    }
    SECTION("a write from another thread while this one has a transaction open") {
        Publisher a = publisher("A"), c = publisher("C");
        std::string message;
        {
            loom::Transaction tx(db);
            db.insert(a);
            std::thread([&] {
                message = message_of<loom::UsageError>([&] { db.insert(c); });
            }).join();
            tx.rollback();
        }
        CHECK(message == expected);
        // Had it run, it would have joined the transaction and been rolled back with it.
        CHECK(c.id == 0);
        CHECK(db.objects<Publisher>().count() == 2);
    }
    SECTION("one thread after another is fine") {
        std::int64_t n = 0;
        std::thread([&] { n = db.objects<Book>().count(); }).join();
        CHECK(n == 5);
        CHECK(db.objects<Author>().count() == 3);
    }
    (void)cat;
}

// ---- 7. smaller promises -----------------------------------------------------------------------

TEST_CASE("a NaN in a filter or an update is refused like a NaN written", "[faults][nan]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Sample s;
    s.real = 1.5;
    db.insert(s);
    const double nan = std::nan("");
    const std::string expected =
        "NaN cannot be compared or stored: loom refuses it on every engine (SQLite binds it as "
        "NULL, so a filter on it would match as NULL does: exclude(col == NaN) would keep every "
        "row); test with is_null(), or check the value first (std::isnan)";
    using loom::col;
    CHECK(message_of<loom::DataError>([&] {
              (void)db.objects<shop::Sample>().exclude(col(&shop::Sample::real) == nan);
          }) == expected);
    CHECK(message_of<loom::DataError>([&] {
              (void)db.objects<shop::Sample>().filter(col(&shop::Sample::real) < nan);
          }) == expected);
    CHECK(message_of<loom::DataError>([&] {
              (void)db.objects<shop::Sample>().filter(
                  col(&shop::Sample::real).in(std::vector<double>{1.0, nan}));
          }) == expected);
    CHECK(message_of<loom::DataError>([&] {
              db.objects<shop::Sample>().update(loom::set(&shop::Sample::real, nan));
          }) == expected);
    CHECK(message_of<loom::DataError>(
              [&] { db.execute("UPDATE sample SET real = ?", loom::Value{nan}); }) == expected);
    CHECK(db.objects<shop::Sample>().get().real == 1.5);
}

TEST_CASE("a stored REAL too large for a float member is a DataError, not inf", "[faults][data]") {
    loom::Database db(test_url());
    db.create_tables<Gauge>();
    db.execute("INSERT INTO gauge (id, level) VALUES (1, 1e300), (2, 2.5)");
    CHECK(message_of<loom::DataError>([&] { (void)db.objects<Gauge>().to_vector(); }) ==
          "Gauge.level (row id=1): REAL out of range for the member's type (float), found REAL "
          "1e+300");
    // PostgreSQL reads 1e300 as numeric: a real all the same.
    CHECK(message_of<loom::DataError>([&] { (void)db.query<float>("SELECT 1e300 AS big"); }) ==
          "db.query: result column 0 (big): REAL out of range for the member's type (float), "
          "found REAL 1e+300 (while running: SELECT 1e300 AS big)");
    CHECK(db.objects<Gauge>().get(loom::col(&Gauge::id) == 2).level == 2.5f);
    CHECK(db.query<double>("SELECT 1e300").at(0) == 1e300);
    // A whole number too large for 64 bits is a real too, never read into an integer.
    CHECK(db.query<double>("SELECT 100000000000000000000").at(0) == 1e20);
    CHECK_THROWS_AS(db.query<std::int64_t>("SELECT 100000000000000000000"), loom::DataError);
}

TEST_CASE("a message naming a statement with 300,000 placeholders stays short",
          "[faults][messages][sqlite]") {
    loom::Database db(":memory:");
    shop::create_all(db);
    std::string sql = "SELECT id FROM book WHERE id IN (?";
    for (int i = 1; i < 300000; ++i) sql += ", ?";
    sql += ")";
    const auto what = message_of<loom::DatabaseError>([&] { db.execute(sql); });
    CHECK(what ==
          "too many SQL variables (while preparing: SELECT id FROM book WHERE id IN (?, "
          "?, ?, ... 300000 placeholders))");
    // A long statement without placeholders is cut, with its length.
    const std::string wide = "SELECT '" + std::string(5000, 'w') + "' FROM nowhere";
    const auto cut = message_of<loom::DatabaseError>([&] { db.execute(wide); });
    CHECK(cut.size() < 600);
    CHECK_THAT(cut,
               Catch::Matchers::StartsWith("no such table: nowhere (while preparing: SELECT 'www"));
    CHECK_THAT(cut, Catch::Matchers::EndsWith("... (5022 characters))"));
}

TEST_CASE("opening a WAL database in a directory that is not writable says why and what to do",
          "[faults][open][sqlite]") {
    if (::geteuid() == 0) {
        WARN(
            "skipped: root writes to any directory; scripts/reliability.sh checks a read-only "
            "mount");
        return;
    }
    const auto dir = std::filesystem::temp_directory_path() /
                     ("loom_faults_rodir_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::string path = (dir / "wal.db").string();
    {
        loom::Database db(path, {.wal = true});
        shop::create_all(db);
    }  // closing removes the -wal and -shm files
    ::chmod(dir.c_str(), 0555);
    // SQLite says SQLITE_READONLY here (a read-only mount: SQLITE_CANTOPEN); loom says why.
    const auto what = message_of<loom::DatabaseError>([&] { loom::Database db(path); });
    ::chmod(dir.c_str(), 0755);
    std::filesystem::remove_all(dir);
    CHECK_THAT(what, Catch::Matchers::StartsWith(
                         "'" + path +
                         "' is a WAL-mode database, and SQLite cannot open or create its '-shm' "
                         "and '-wal' files beside it: the directory is not writable"));
}

TEST_CASE("a FOREIGN KEY failure names the key column and value where loom can tell",
          "[faults][constraint]") {
    loom::Database db(test_url());
    db.create_tables<Crate, Bottle>();
    Crate crate;
    crate.label = "wine";
    db.insert(crate);
    // The engine's words, the statement, then loom's explanation.
    const auto failed = [](const std::string& pg_words, const std::string& sql) {
        return on_engine("FOREIGN KEY constraint failed", pg_words) + " (while running: " + sql +
               ")";
    };
    const auto not_present = [](const std::string& column, int key) {
        return "insert or update on table \"bottle\" violates foreign key constraint \"bottle_" +
               column + "_fkey\": Key (" + column + ")=(" + std::to_string(key) +
               ") is not present in table \"crate\".";
    };
    const auto insert_bottle = [&](const std::string& column, int key) {
        return failed(
            not_present(column, key),
            std::string("INSERT INTO \"bottle\" (\"crate_id\", \"spare_id\") VALUES (?, ?)") +
                (on_postgres() ? " RETURNING \"id\"" : ""));
    };
    SECTION("a key of 0: the parent was never inserted") {
        Crate unsaved;
        Bottle b;
        b.crate = unsaved;
        CHECK(message_of<loom::ConstraintError>([&] { db.insert(b); }) ==
              insert_bottle("crate_id", 0) +
                  ": Bottle.crate_id is 0: the Crate it was given was never inserted (insert it "
                  "first, then assign it)");
        CHECK(b.id == 0);
    }
    SECTION("the only key set matches no row") {
        Bottle b;
        b.crate = 42;
        CHECK(message_of<loom::ConstraintError>([&] { db.insert(b); }) ==
              insert_bottle("crate_id", 42) + ": Bottle.crate_id = 42 matches no Crate");
    }
    SECTION("several keys set: loom names them all") {
        Bottle b;
        b.crate = crate;
        b.spare = 43;
        CHECK(message_of<loom::ConstraintError>([&] { db.insert(b); }) ==
              insert_bottle("spare_id", 43) +
                  ": one of Bottle.crate_id = 1, Bottle.spare_id = 43 matches no row");
    }
    SECTION("an update") {
        Bottle b;
        b.crate = crate;
        db.insert(b);
        b.crate = 44;
        CHECK(message_of<loom::ConstraintError>([&] { db.update(b); }) ==
              failed(not_present("crate_id", 44),
                     "UPDATE \"bottle\" SET \"crate_id\" = ?, \"spare_id\" = ? WHERE \"id\" = ?") +
                  ": Bottle.crate_id = 44 matches no Crate");
    }
    SECTION("a restrict refusal on delete names the referring table") {
        Bottle b;
        b.crate = crate;
        db.insert(b);
        CHECK(
            message_of<loom::ConstraintError>([&] { db.remove(crate); }) ==
            failed("update or delete on table \"crate\" violates foreign key constraint "
                   "\"bottle_crate_id_fkey\" on table \"bottle\": Key (id)=(1) is still "
                   "referenced from table \"bottle\".",
                   "DELETE FROM \"crate\" WHERE \"id\" = ?") +
                ": Crate id=1 is still referred to by a row of \"bottle\".\"crate_id\" (a restrict "
                "foreign key); delete or reassign those rows first, or declare the foreign key "
                "on_delete::cascade or set_null");
        CHECK(crate.id == 1);
        CHECK(db.objects<Crate>().count() == 1);
    }
}

}  // namespace faults_test
