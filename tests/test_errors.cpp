// Errors: each failure is a typed loom::Error with a message a user can act on, and nothing is
// lost or half-written when it happens (every case counts the rows afterwards).
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace errors_test {

using loom_test::count_rows;
using loom_test::message_of;
using loom_test::scalar;

using shop::Author;
using shop::Book;
using shop::Publisher;

using loom_test::TempFile;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Publisher publisher(loom::Database& db, const char* name) {
    Publisher p;
    p.name = name;
    db.insert(p);
    return p;
}

const std::string insert_publisher = "INSERT INTO \"publisher\" (\"name\") VALUES (?)";
const std::string insert_book =
    "INSERT INTO \"book\" (\"title\", \"year\", \"publisher_id\") VALUES (?, ?, ?)";

TEST_CASE("every loom exception derives from loom::Error", "[errors]") {
    STATIC_REQUIRE(std::is_base_of_v<loom::Error, loom::DatabaseError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::DatabaseError, loom::ConstraintError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::DatabaseError, loom::BusyError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::DatabaseError, loom::ReadOnlyError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::DatabaseError, loom::NotADatabaseError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::DatabaseError, loom::CantOpenError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::Error, loom::DataError>);
    STATIC_REQUIRE(std::is_base_of_v<loom::Error, loom::DoesNotExist>);
    STATIC_REQUIRE(std::is_base_of_v<loom::Error, loom::UsageError>);
    STATIC_REQUIRE(std::is_base_of_v<std::runtime_error, loom::Error>);
}

// ---- constraint violations -------------------------------------------------------------------

TEST_CASE("a UNIQUE violation names the table and column, and writes nothing",
          "[errors][constraint][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");
    Publisher dup;
    dup.name = "Gollancz";
    try {
        db.insert(dup);
        FAIL("insert should have thrown");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::unique);
        CHECK(e.code() == SQLITE_CONSTRAINT_UNIQUE);
        CHECK(std::string(e.what()) ==
              "UNIQUE constraint failed: publisher.name (while running: " + insert_publisher + ")");
    }
    CHECK(dup.id == 0);
    CHECK(count_rows(db, "publisher") == 1);

    SECTION("the connection stays usable: the next insert works") {
        dup.name = "Penguin";
        db.insert(dup);
        CHECK(dup.id == 2);
        CHECK(count_rows(db, "publisher") == 2);
    }
    SECTION("an update into a taken value is refused the same way") {
        Publisher other = publisher(db, "Penguin");
        other.name = "Gollancz";
        CHECK_THROWS_WITH(db.update(other),
                          "UNIQUE constraint failed: publisher.name (while running: UPDATE "
                          "\"publisher\" SET \"name\" = ? WHERE \"id\" = ?)");
        CHECK(scalar(db, "SELECT count(*) FROM publisher WHERE name = 'Penguin'") == 1);
    }
}

TEST_CASE("a FOREIGN KEY violation (a book with a dangling publisher id) writes nothing",
          "[errors][constraint][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");
    Book b;
    b.title = "Orphan";
    b.year = 2000;
    b.publisher = 999;
    try {
        db.insert(b);
        FAIL("insert should have thrown");
    } catch (const loom::ConstraintError& e) {
        CHECK(e.kind() == loom::ConstraintError::Kind::foreign_key);
        CHECK(std::string(e.what()) ==
              "FOREIGN KEY constraint failed (while running: " + insert_book +
                  "): Book.publisher_id = 999 matches no Publisher");
    }
    CHECK(b.id == 0);
    CHECK(count_rows(db, "book") == 0);
}

TEST_CASE("a NOT NULL violation names the table and column, and writes nothing",
          "[errors][constraint][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");

    SECTION("a required ForeignKey left empty") {
        Book b;
        b.title = "No publisher";
        try {
            db.insert(b);
            FAIL("insert should have thrown");
        } catch (const loom::ConstraintError& e) {
            CHECK(e.kind() == loom::ConstraintError::Kind::not_null);
            CHECK(std::string(e.what()) ==
                  "NOT NULL constraint failed: book.publisher_id (while running: " + insert_book +
                      ")");
        }
        CHECK(b.id == 0);
    }
    SECTION("a NULL written by raw SQL") {
        CHECK_THROWS_WITH(db.execute("INSERT INTO book (title, year, publisher_id) VALUES (NULL, "
                                     "1990, 1)"),
                          "NOT NULL constraint failed: book.title (while running: INSERT INTO "
                          "book (title, year, publisher_id) VALUES (NULL, 1990, 1))");
    }
    CHECK(count_rows(db, "book") == 0);
}

TEST_CASE("a constraint error is reported to query listeners too", "[errors][constraint][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");
    std::vector<std::string> errors;
    auto sub = db.on_query([&](const loom::QueryEvent& e) { errors.emplace_back(e.error); });
    Publisher dup;
    dup.name = "Gollancz";
    CHECK_THROWS_AS(db.insert(dup), loom::ConstraintError);
    REQUIRE(errors.size() == 1);
    CHECK(errors[0] ==
          "UNIQUE constraint failed: publisher.name (while running: " + insert_publisher + ")");
}

// ---- values that do not fit their member -----------------------------------------------------

TEST_CASE("reading NULL into a non-optional member is a DataError naming model, field and row",
          "[errors][data][sqlite]") {
    loom::Database db(test_url());
    // A table written by someone else, without loom's NOT NULL.
    db.execute(
        "CREATE TABLE author (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, born "
        "INTEGER)");
    db.execute("INSERT INTO author (id, name, born) VALUES (1, 'Fine', NULL)");
    db.execute("INSERT INTO author (id, name, born) VALUES (7, NULL, 1950)");
    CHECK(message_of<loom::DataError>([&] { db.objects<Author>().to_vector(); }) ==
          "Author.name (row id=7): NULL read into a non-optional member (declare it "
          "std::optional), found NULL");
    CHECK(count_rows(db, "author") == 2);
    // The row that fits still reads.
    CHECK(db.objects<Author>().get(loom::col(&Author::id) == 1).name == "Fine");
}

TEST_CASE("reading TEXT into an integer member is a DataError naming model, field and row",
          "[errors][data][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const auto p = publisher(db, "Gollancz");
    db.execute(
        "INSERT INTO book (id, title, year, publisher_id) VALUES (3, 'Odd', "
        "'nineteen ninety', " +
        std::to_string(p.id) + ")");
    CHECK(message_of<loom::DataError>([&] { db.objects<Book>().to_vector(); }) ==
          "Book.year (row id=3): expected INTEGER, found TEXT 'nineteen ninety'");
    CHECK(count_rows(db, "book") == 1);
}

TEST_CASE("a stored integer out of the member's range is a DataError", "[errors][data][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Sample s;
    db.insert(s);

    SECTION("int8") {
        db.execute("UPDATE sample SET tiny = 200");
        CHECK(message_of<loom::DataError>([&] { db.objects<shop::Sample>().to_vector(); }) ==
              "Sample.tiny (row id=1): integer out of range for the member's type, found "
              "INTEGER 200");
    }
    SECTION("uint16 below zero") {
        db.execute("UPDATE sample SET small = -1");
        CHECK(message_of<loom::DataError>([&] { db.objects<shop::Sample>().to_vector(); }) ==
              "Sample.small (row id=1): integer out of range for the member's type, found "
              "INTEGER -1");
    }
    SECTION("bool other than 0 or 1") {
        db.execute("UPDATE sample SET flag = 2");
        CHECK(message_of<loom::DataError>([&] { db.objects<shop::Sample>().to_vector(); }) ==
              "Sample.flag (row id=1): expected INTEGER 0 or 1, found INTEGER 2");
    }
    SECTION("a BLOB into a string") {
        db.execute("UPDATE sample SET text = x'0102'");
        CHECK(message_of<loom::DataError>([&] { db.objects<shop::Sample>().to_vector(); }) ==
              "Sample.text (row id=1): expected TEXT, found BLOB of 2 bytes");
    }
    SECTION("TEXT into an optional integer") {
        db.execute("UPDATE sample SET maybe_int = 'many'");
        CHECK(message_of<loom::DataError>([&] { db.objects<shop::Sample>().to_vector(); }) ==
              "Sample.maybe_int (row id=1): expected INTEGER, found TEXT 'many'");
    }
    CHECK(count_rows(db, "sample") == 1);
}

TEST_CASE("a foreign key column holding TEXT is a DataError", "[errors][data][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.execute("PRAGMA foreign_keys = OFF");
    db.execute("INSERT INTO review (id, book_id, rating, body) VALUES (4, 'b', 5, 'x')");
    CHECK(message_of<loom::DataError>([&] { db.objects<shop::Review>().to_vector(); }) ==
          "Review.book_id (row id=4): expected an INTEGER key, found TEXT 'b'");
}

TEST_CASE("a 64-bit unsigned value above INT64_MAX is refused before it is written",
          "[errors][data]") {
    loom::Database db(test_url());
    shop::create_all(db);
    CHECK_THROWS_WITH(db.objects<shop::Sample>()
                          .filter(loom::col(&shop::Sample::big) == std::uint64_t{1} << 63)
                          .count(),
                      "value 9223372036854775808 does not fit in SQLite's 64-bit signed INTEGER");
}

TEST_CASE("a NaN is refused before it is written, since SQLite would store NULL",
          "[errors][data]") {
    loom::Database db(test_url());
    shop::create_all(db);
    shop::Sample s;
    s.real = std::numeric_limits<double>::quiet_NaN();
    CHECK(message_of<loom::DataError>([&] { db.insert(s); }) ==
          "NaN cannot be stored: loom refuses it on every engine (SQLite would store it as "
          "NULL)");
    CHECK(s.id == 0);
    CHECK(count_rows(db, "sample") == 0);
}

// ---- files -----------------------------------------------------------------------------------

TEST_CASE("a file that is not a database is a NotADatabaseError and is left untouched",
          "[errors][file][sqlite]") {
    const TempFile file("garbage");
    std::string garbage;
    for (int i = 0; i < 4096; ++i) garbage += static_cast<char>((i * 37 + 11) % 256);
    {
        std::ofstream out(file.path, std::ios::binary);
        out << garbage;
    }
    try {
        loom::Database db(file.path);
        FAIL("opening should have thrown");
    } catch (const loom::NotADatabaseError& e) {
        CHECK(e.code() == SQLITE_NOTADB);
        CHECK(std::string(e.what()) ==
              "'" + file.path +
                  "' is not a SQLite database (file is not a database (while running: SELECT "
                  "count(*) FROM sqlite_master)): check the path, or restore the file from a "
                  "backup");
    }
    CHECK(read_file(file.path) == garbage);
}

TEST_CASE("a missing directory is a CantOpenError", "[errors][file][sqlite]") {
    const std::string path = "/nonexistent-loom-dir/x.db";
    CHECK(message_of<loom::CantOpenError>([&] { loom::Database db(path); }) ==
          "unable to open database file (opening '" + path + "')");
    CHECK_FALSE(std::filesystem::exists("/nonexistent-loom-dir"));
}

TEST_CASE("a write to a database opened read-only is a ReadOnlyError and changes nothing",
          "[errors][file][sqlite]") {
    const TempFile file("readonly");
    {
        loom::Database db(file.path);
        shop::create_all(db);
        publisher(db, "Gollancz");
    }
    loom::Database ro(file.path, loom::Options{.read_only = true});
    CHECK(ro.objects<Publisher>().get().name == "Gollancz");  // reads work
    Publisher p;
    p.name = "Penguin";
    try {
        ro.insert(p);
        FAIL("insert should have thrown");
    } catch (const loom::ReadOnlyError& e) {
        CHECK(std::string(e.what()) ==
              "attempt to write a readonly database (while running: " + insert_publisher +
                  "): the database file or its directory is not writable by this process, or "
                  "it was opened read-only");
    }
    CHECK(p.id == 0);
    CHECK_THROWS_AS(ro.transaction([&] { ro.execute("DELETE FROM publisher"); }),
                    loom::ReadOnlyError);
    CHECK(ro.transaction_depth() == 0);
    CHECK(count_rows(ro, "publisher") == 1);
}

TEST_CASE("a write blocked past the busy timeout by another connection is a BusyError",
          "[errors][file][sqlite]") {
    const TempFile file("busy");
    loom::Database holder(file.path);
    shop::create_all(holder);
    publisher(holder, "Gollancz");
    loom::Database waiter(file.path, loom::Options{.busy_timeout_ms = 20});

    loom::Transaction tx(holder);
    publisher(holder, "Penguin");  // holds the write lock until tx ends

    Publisher p;
    p.name = "Tor";
    try {
        waiter.insert(p);
        FAIL("insert should have thrown");
    } catch (const loom::BusyError& e) {
        CHECK((e.code() & 0xff) == SQLITE_BUSY);
        CHECK(std::string(e.what()) ==
              "database is locked (while running: " + insert_publisher +
                  "): another connection holds the lock; retry later, raise "
                  "Options::busy_timeout_ms, or use WAL mode");
    }
    CHECK(p.id == 0);
    CHECK(count_rows(waiter, "publisher") == 1);  // reads are not blocked

    tx.commit();
    SECTION("once the lock is released the write goes through") {
        waiter.insert(p);
        CHECK(count_rows(waiter, "publisher") == 3);
    }
    SECTION("the holder's work is intact") {
        CHECK(count_rows(holder, "publisher") == 2);
    }
}

// ---- nothing lost ----------------------------------------------------------------------------

TEST_CASE("a failing bulk_insert leaves the table exactly as before and the keys untouched",
          "[errors][bulk][sqlite]") {
    loom::Database db(test_url());
    shop::create_all(db);
    publisher(db, "Gollancz");
    std::vector<Publisher> batch(5);
    batch[0].name = "A";
    batch[1].name = "B";
    batch[2].name = "Explicit";
    batch[2].id = 50;
    batch[3].name = "Gollancz";  // UNIQUE violation in the middle
    batch[4].name = "C";
    const auto q0 = db.query_count();
    CHECK_THROWS_WITH(db.bulk_insert(batch),
                      "UNIQUE constraint failed: publisher.name (while "
                      "running: " +
                          insert_publisher + ")");
    // BEGIN, 4 INSERTs (the 4th fails), ROLLBACK
    CHECK(db.query_count() - q0 == 6);
    CHECK(batch[0].id == 0);
    CHECK(batch[1].id == 0);
    CHECK(batch[2].id == 50);  // an explicit key is the caller's: kept
    CHECK(batch[3].id == 0);
    CHECK(batch[4].id == 0);
    CHECK(count_rows(db, "publisher") == 1);
    CHECK(db.transaction_depth() == 0);

    SECTION("the same objects insert once the conflict is fixed") {
        batch[3].name = "D";
        db.bulk_insert(batch);
        CHECK(count_rows(db, "publisher") == 6);
        CHECK(batch[0].id == 2);
        CHECK(batch[2].id == 50);
    }
}

TEST_CASE("a failing bulk_insert inside a transaction undoes only its own rows", "[errors][bulk]") {
    loom::Database db(test_url());
    shop::create_all(db);
    loom::Transaction tx(db);
    publisher(db, "Gollancz");
    std::vector<Publisher> batch(2);
    batch[0].name = "A";
    batch[1].name = "Gollancz";
    CHECK_THROWS_AS(db.bulk_insert(batch), loom::ConstraintError);
    CHECK(db.transaction_depth() == 1);
    CHECK(count_rows(db, "publisher") == 1);
    tx.commit();
    CHECK(count_rows(db, "publisher") == 1);
}

TEST_CASE("an exception inside db.transaction leaves nothing written", "[errors][transaction]") {
    loom::Database db(test_url());
    shop::create_all(db);
    const auto tables = {"publisher", "author", "book", "book_authors", "review"};

    SECTION("a user exception after several kinds of writes") {
        CHECK_THROWS_WITH(db.transaction([&] {
            shop::seed_catalogue(db);  // itself a nested transaction
            Publisher extra;
            extra.name = "Extra";
            db.save(extra);
            throw std::runtime_error("changed my mind");
        }),
                          "changed my mind");
    }
    SECTION("a constraint violation after several writes") {
        CHECK_THROWS_AS(db.transaction([&] {
            auto c = shop::seed_catalogue(db);
            Book orphan;
            orphan.title = "Orphan";
            orphan.publisher = 999;
            db.insert(orphan);
        }),
                        loom::ConstraintError);
    }
    for (const char* t : tables) {
        INFO(t);
        CHECK(count_rows(db, t) == 0);
    }
    CHECK(db.transaction_depth() == 0);
}

}  // namespace errors_test
