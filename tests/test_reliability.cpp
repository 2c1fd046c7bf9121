// Reliability under faults and bad data: a full disk, a file deleted, replaced, truncated or not
// a database at all, rows that do not fit the model, a dangling foreign key met by a prefetch.
// Each gives a typed loom::Error with a message a user can act on, loses nothing that was
// committed, and leaves loom usable for the next good operation.
// (Threads and crashes need their own processes: see tests/reliability/ and
// scripts/reliability.sh.)
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace reliability_test {

using loom_test::message_of;

using shop::Author;
using shop::Book;
using shop::Publisher;

using loom_test::TempFile;

std::int64_t count_books(loom::Database& db) {
    return db.objects<Book>().count();
}

/// A file database with the bookstore catalogue (5 books).
void seed_file(const std::string& path) {
    loom::Database db{path};
    shop::create_all(db);
    shop::seed_catalogue(db);
}

/// The "later good operation": a new database, a write, a prefetching read.
void good_operation_still_works() {
    loom::Database db{":memory:"};
    shop::create_all(db);
    shop::seed_catalogue(db);
    auto books = db.objects<Book>().prefetch_related(&Book::publisher, &Book::authors);
    std::size_t with_publisher = 0;
    for (const Book& b : books) with_publisher += b.publisher.get() != nullptr;
    CHECK(with_publisher == 5);
}

std::vector<Book> many_books(int n, std::int64_t publisher, std::size_t title_size) {
    std::vector<Book> books(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
        books[static_cast<std::size_t>(i)].title = std::string(title_size, 'x') + std::to_string(i);
        books[static_cast<std::size_t>(i)].year = 2000 + i;
        books[static_cast<std::size_t>(i)].publisher = publisher;
    }
    return books;
}

// A model over a table written by hand, without NOT NULL or type constraints, so that rows
// which do not fit the C++ members can exist, as they do in databases shared with other
// programs.
enum class Kind : std::int16_t { tool = 1, toy = 2 };

struct Gadget {
    std::int64_t id = 0;
    std::string name;
    int stock = 0;
    Kind kind = Kind::tool;
    loom::ForeignKey<Publisher> maker;
};

}  // namespace reliability_test

namespace reliability_test {
constexpr auto loom_model(loom::model_of<Gadget>) {
    return loom::table(
        "gadget", loom::pk(&reliability_test::Gadget::id),
        loom::field(&reliability_test::Gadget::name, "name"),
        loom::field(&reliability_test::Gadget::stock, "stock"),
        loom::field(&reliability_test::Gadget::kind, "kind"),
        loom::foreign_key(&reliability_test::Gadget::maker, "maker_id", loom::nullable));
}
}  // namespace reliability_test

namespace reliability_test {

/// A database whose gadget table accepts anything; one good row (id 1) is stored.
void loose_gadget_table(loom::Database& db) {
    shop::create_all(db);
    db.execute("CREATE TABLE gadget (id INTEGER PRIMARY KEY, name, stock, kind, maker_id)");
    db.execute("INSERT INTO gadget (id, name, stock, kind, maker_id) VALUES (?, ?, ?, ?, ?)", 1,
               "hammer", 3, 1, std::nullopt);
}

/// Stores one raw row: id, then `column` = `v`, the other columns valid.
void raw_gadget(loom::Database& db, std::int64_t id, const std::string& column, loom::Value v) {
    db.execute("INSERT INTO gadget (id, name, stock, kind) VALUES (?, 'raw', 0, 1)", id);
    db.execute("UPDATE gadget SET " + column + " = ? WHERE id = ?", v, id);
}

// ---- I/O faults ------------------------------------------------------------------------------

TEST_CASE(
    "a full disk during bulk_insert is an IoError, writes nothing and the connection "
    "recovers once there is room",
    "[reliability][io]") {
    const TempFile file("full");
    seed_file(file.path);
    loom::Database db{file.path};
    // Cap the file a few pages above its current size: the disk is "full" from there on.
    const std::int64_t pages = db.query<std::int64_t>("PRAGMA page_count").at(0);
    db.execute("PRAGMA max_page_count = " + std::to_string(pages + 4));

    auto books = many_books(500, 1, 200);  // about 100 KB: far more than 4 pages
    const auto q0 = db.query_count();
    std::string what;
    try {
        db.bulk_insert(books);
        FAIL("bulk_insert should have run out of room");
    } catch (const loom::IoError& e) {
        CHECK(e.code() == SQLITE_FULL);
        what = e.what();
    }
    CHECK(what.starts_with("database or disk is full (while running: INSERT INTO \"book\""));
    CHECK(what.ends_with(": free disk space, or raise PRAGMA max_page_count if it was set"));
    CHECK(db.query_count() - q0 > 2);  // BEGIN IMMEDIATE and some INSERTs ran
    CHECK(db.transaction_depth() == 0);
    CHECK(count_books(db) == 5);
    CHECK(books.front().id == 0);
    CHECK(books.back().id == 0);

    SECTION("the same rows go in once the cap is lifted") {
        db.execute("PRAGMA max_page_count = 1000000");
        db.bulk_insert(books);
        CHECK(count_books(db) == 505);
        CHECK(books.back().id > 0);
    }
    SECTION("a full disk inside db.transaction rolls back the earlier writes too") {
        Publisher p;
        p.name = "Tor";
        CHECK_THROWS_AS(db.transaction([&] {
            db.insert(p);
            db.bulk_insert(books);
        }),
                        loom::IoError);
        CHECK(db.transaction_depth() == 0);
        CHECK(db.objects<Publisher>().count() == 2);
        CHECK(count_books(db) == 5);
    }
    good_operation_still_works();
}

TEST_CASE("a write through a read-only connection is a ReadOnlyError; reads keep working",
          "[reliability][io]") {
    const TempFile file("readonly");
    seed_file(file.path);
    loom::Database ro{file.path, loom::Options{.read_only = true}};
    auto books = many_books(3, 1, 10);
    const auto what = message_of<loom::ReadOnlyError>([&] { ro.bulk_insert(books); });
    CHECK(what.ends_with("or it was opened read-only"));
    CHECK(ro.transaction_depth() == 0);
    CHECK(books[0].id == 0);
    auto read = ro.objects<Book>().prefetch_related(&Book::authors);
    CHECK(read.count() == 5);
    CHECK(read.first()->authors.size() == 1);
    good_operation_still_works();
}

TEST_CASE("a read-only connection on a missing file is a CantOpenError and creates nothing",
          "[reliability][io]") {
    const TempFile file("missing");
    const auto what = message_of<loom::CantOpenError>(
        [&] { loom::Database db(file.path, loom::Options{.read_only = true}); });
    CHECK(what == "unable to open database file (opening '" + file.path + "')");
    CHECK_FALSE(std::filesystem::exists(file.path));
    good_operation_still_works();
}

TEST_CASE("a database file deleted while open refuses writes with a ReadOnlyError saying so",
          "[reliability][io]") {
    const TempFile file("deleted");
    seed_file(file.path);
    loom::Database db{file.path};
    CHECK(count_books(db) == 5);
    std::filesystem::remove(file.path);

    Book b;
    b.title = "Lost";
    b.year = 2020;
    b.publisher = 1;
    std::string what;
    try {
        db.insert(b);
        FAIL("insert should have been refused");
    } catch (const loom::ReadOnlyError& e) {
        CHECK(e.code() == SQLITE_READONLY_DBMOVED);
        what = e.what();
    }
    CHECK(
        what.ends_with(": the database file was deleted, moved or replaced while open; open a "
                       "new Database on the file"));
    CHECK(b.id == 0);
    CHECK(db.transaction_depth() == 0);
    // Reads still see the data the connection holds open.
    CHECK(count_books(db) == 5);
    CHECK_FALSE(std::filesystem::exists(file.path));
    good_operation_still_works();
}

TEST_CASE(
    "a database file replaced while open refuses writes; a new Database sees the new "
    "file",
    "[reliability][io]") {
    const TempFile file("replaced");
    const TempFile other("replacement");
    seed_file(file.path);
    {
        loom::Database db{other.path};
        shop::create_all(db);
        Publisher p;
        p.name = "Replacement";
        db.insert(p);
    }
    loom::Database db{file.path};
    CHECK(count_books(db) == 5);
    std::filesystem::rename(other.path, file.path);

    Publisher p;
    p.name = "Tor";
    CHECK(message_of<loom::ReadOnlyError>([&] {
              db.insert(p);
          }).ends_with("deleted, moved or replaced while open; open a new Database on the file"));
    CHECK(p.id == 0);

    loom::Database fresh{file.path};
    CHECK(count_books(fresh) == 0);
    CHECK(fresh.objects<Publisher>().get().name == "Replacement");
    fresh.insert(p);
    CHECK(fresh.objects<Publisher>().count() == 2);
}

TEST_CASE("a file that is not a database is refused when opened, whatever its size",
          "[reliability][io]") {
    const TempFile file("notadb");
    // (A 1-byte file is the one exception: SQLite reports it as empty on purpose, see
    // unixFileSize in its source, and opens it as a new database.)
    const std::string content =
        GENERATE(std::string("x\n"), std::string(100, 'z'), std::string(8192, '\x7f'),
                 std::string("SQLite format 3") + std::string(200, '\0'));
    {
        std::ofstream out(file.path, std::ios::binary);
        out << content;
    }
    const auto what = message_of<loom::NotADatabaseError>([&] { loom::Database db{file.path}; });
    CHECK(what.starts_with("'" + file.path + "' is not a SQLite database ("));
    CHECK(what.ends_with("): check the path, or restore the file from a backup"));
    CHECK(std::filesystem::file_size(file.path) == content.size());  // left untouched
    good_operation_still_works();
}

TEST_CASE("a truncated database file is refused when opened, naming the damage",
          "[reliability][io]") {
    const TempFile file("truncated");
    {
        loom::Database db{file.path};
        shop::create_all(db);
        shop::seed_catalogue(db);
        auto books = many_books(2000, 1, 100);  // many pages of books
        db.bulk_insert(books);
    }
    const auto full = std::filesystem::file_size(file.path);
    REQUIRE(full > 64 * 1024);
    // SQLite compares the size in the header with the file's: a cut at a page boundary is
    // seen when the file is opened; a cut inside the last page when that page is read.
    REQUIRE(full % 4096 == 0);  // the default page size
    const auto cut = GENERATE_COPY(full - 4096, full / 8192 * 4096, std::uintmax_t{4096},
                                   full - 100, full - 2000);
    CAPTURE(cut);
    std::filesystem::resize_file(file.path, cut);
    std::string what;
    bool at_open = true;
    try {
        loom::Database db{file.path};
        at_open = false;
        auto books = db.objects<Book>().prefetch_related(&Book::publisher, &Book::authors);
        (void)books.rows();
        (void)db.objects<Book>().filter(loom::col(&Book::title).contains("zz")).count();
        (void)db.objects<Book>().filter(loom::col(&Book::publisher) == 1).count();  // the index
        what = "(read)";
    } catch (const loom::NotADatabaseError& e) {
        CHECK((e.code() & 0xff) == SQLITE_CORRUPT);
        what = e.what();
    }
    if (cut % 4096 == 0) {
        CHECK(at_open);
        CHECK(what == "'" + file.path +
                          "': database disk image is malformed (while running: SELECT count(*) "
                          "FROM sqlite_master): the file is damaged (truncated or overwritten); "
                          "restore it from a backup (PRAGMA integrity_check lists the damage)");
    } else {
        CHECK_FALSE(at_open);
        CHECK(what.starts_with("database disk image is malformed (while running: SELECT"));
        CHECK(
            what.ends_with(": the file is damaged (truncated or overwritten); restore it from "
                           "a backup (PRAGMA integrity_check lists the damage)"));
    }
    CHECK(std::filesystem::file_size(file.path) == cut);
    good_operation_still_works();
}

TEST_CASE(
    "a database page overwritten with garbage is a NotADatabaseError when read, and the "
    "connection goes on",
    "[reliability][io]") {
    const TempFile file("overwritten");
    std::int64_t page_size = 0, first_book_page = 0;
    {
        loom::Database db{file.path};
        shop::create_all(db);
        shop::seed_catalogue(db);
        auto books = many_books(2000, 1, 100);
        db.bulk_insert(books);
        page_size = db.query<std::int64_t>("PRAGMA page_size").at(0);
        first_book_page =
            db.query<std::int64_t>("SELECT rootpage FROM sqlite_master WHERE name = 'book'").at(0);
    }
    REQUIRE(page_size > 0);
    REQUIRE(first_book_page > 1);
    {
        // Overwrite the book table's root page (pages are numbered from 1).
        std::fstream f(file.path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp((first_book_page - 1) * page_size);
        const std::string garbage(static_cast<std::size_t>(page_size), '\xA5');
        f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    loom::Database db{file.path};  // the schema is intact
    auto books = db.objects<Book>().prefetch_related(&Book::publisher);
    std::string what;
    try {
        (void)books.rows();
        what = "(read)";
    } catch (const loom::NotADatabaseError& e) {
        CHECK((e.code() & 0xff) == SQLITE_CORRUPT);
        what = e.what();
    }
    CHECK(what.starts_with("database disk image is malformed (while running: SELECT"));
    CHECK(
        what.ends_with(": the file is damaged (truncated or overwritten); restore it from a "
                       "backup (PRAGMA integrity_check lists the damage)"));
    // Other tables of the same file still read.
    CHECK(db.objects<Publisher>().count() == 2);
    CHECK(db.objects<Author>().prefetch_related(&Author::books).count() == 3);
    good_operation_still_works();
}

// ---- one snapshot per evaluation --------------------------------------------------------------

TEST_CASE(
    "a QuerySet's base query and its prefetch levels read one snapshot, whatever other "
    "connections commit in between",
    "[reliability][snapshot]") {
    const TempFile file("snapshot");
    {
        loom::Database db{file.path, loom::Options{.wal = true}};
        shop::create_all(db);
        shop::seed_catalogue(db);
    }
    loom::Database reader{file.path, loom::Options{.wal = true}};
    loom::Database writer{file.path, loom::Options{.wal = true}};
    // Right after the reader's base query, the writer commits: Penguin and (by cascade) its
    // two books are deleted, and a review is added to Good Omens.
    bool done = false;
    auto sub = reader.on_query([&](const loom::QueryEvent& ev) {
        if (done || ev.origin != "Book") return;
        done = true;
        Publisher penguin =
            writer.objects<Publisher>().get(loom::col(&Publisher::name) == "Penguin");
        writer.transaction([&] {
            writer.remove(penguin);
            shop::Review r;
            r.book = 2;
            r.rating = 1;
            r.body = "Late.";
            writer.insert(r);
        });
    });
    const auto q0 = reader.query_count();
    auto books = reader.objects<Book>().prefetch_related(&Book::publisher, &Book::reviews);
    REQUIRE(books.rows().size() == 5);
    CHECK(done);
    CHECK(reader.query_count() - q0 == 3);  // BEGIN and COMMIT of the snapshot are not counted
    std::size_t reviews = 0, penguin_books = 0;
    for (const Book& b : books) {
        reviews += b.reviews.size();
        penguin_books += b.publisher->name == "Penguin";
    }
    CHECK(reviews == 6);  // the state before the writer's commit, at every level
    CHECK(penguin_books == 2);
    CHECK(reader.transaction_depth() == 0);

    // The next evaluation sees the commit.
    auto after = reader.objects<Book>().prefetch_related(&Book::publisher, &Book::reviews);
    reviews = 0;
    for (const Book& b : after) reviews += b.reviews.size();
    CHECK(after.rows().size() == 3);
    CHECK(reviews == 5);  // 4 left on the Gollancz books, plus the new one
    // And the reader can write: the snapshot was closed.
    Publisher tor;
    tor.name = "Tor";
    reader.insert(tor);
    CHECK(writer.objects<Publisher>().count() == 2);
}

// ---- data that does not fit the model -------------------------------------------------------

TEST_CASE("a row that does not fit a member is a DataError naming model, column and row key",
          "[reliability][data]") {
    loom::Database db{":memory:"};
    loose_gadget_table(db);
    struct Case {
        const char* column;
        loom::Value stored;
        std::string expected;
    };
    const Case c = GENERATE(
        Case{"name", loom::Value{nullptr},
             "Gadget.name (row id=2): NULL read into a non-optional member (declare it "
             "std::optional), found NULL"},
        Case{"stock", loom::Value{std::string("many")},
             "Gadget.stock (row id=2): expected INTEGER, found TEXT 'many'"},
        Case{"stock", loom::Value{std::int64_t{1} << 40},
             "Gadget.stock (row id=2): integer out of range for the member's type, found "
             "INTEGER 1099511627776"},
        Case{"kind", loom::Value{std::int64_t{70000}},
             "Gadget.kind (row id=2): integer out of range for the member's type, found INTEGER "
             "70000"},
        Case{"kind", loom::Value{2.5}, "Gadget.kind (row id=2): expected INTEGER, found REAL 2.5"},
        Case{"maker_id", loom::Value{std::string("acme")},
             "Gadget.maker_id (row id=2): expected an INTEGER key, found TEXT 'acme'"});
    raw_gadget(db, 2, c.column, c.stored);
    CAPTURE(c.column);

    auto all = db.objects<Gadget>();
    CHECK(message_of<loom::DataError>([&] { (void)all.rows(); }) == c.expected);
    // Nothing half-read is kept: the QuerySet is not cached and a retry says the same.
    CHECK(message_of<loom::DataError>([&] { (void)all.rows(); }) == c.expected);
    // The row is still there, and the good row still reads.
    CHECK(db.objects<Gadget>().count() == 2);
    CHECK(db.objects<Gadget>().get(loom::col(&Gadget::id) == 1).name == "hammer");
}

TEST_CASE("a row that does not fit, met by a prefetch query, fails the whole evaluation",
          "[reliability][data]") {
    loom::Database db{":memory:"};
    shop::create_all(db);
    shop::seed_catalogue(db);
    // An author's name stored as a BLOB by another program.
    db.execute("UPDATE author SET name = ? WHERE id = ?", loom::Blob{std::byte{1}, std::byte{2}},
               2);
    auto books = db.objects<Book>().prefetch_related(&Book::authors);
    CHECK(message_of<loom::DataError>([&] { (void)books.rows(); }) ==
          "Author.name (row id=2): expected TEXT, found BLOB of 2 bytes");
    // Without that relation the books read fine.
    CHECK(db.objects<Book>().prefetch_related(&Book::publisher).to_vector().size() == 5);
}

TEST_CASE("an enum value with no enumerator is stored and read back as-is (the documented rule)",
          "[reliability][data]") {
    loom::Database db{":memory:"};
    loose_gadget_table(db);
    // Any value of the underlying type is a valid value of an enum with a fixed underlying
    // type, so loom keeps it rather than guess: compare against the enumerators you know.
    raw_gadget(db, 2, "kind", std::int64_t{7});
    const Gadget g = db.objects<Gadget>().get(loom::col(&Gadget::id) == 2);
    CHECK(static_cast<int>(g.kind) == 7);
    CHECK(g.kind != Kind::tool);
    CHECK(g.kind != Kind::toy);

    Gadget copy = g;
    copy.id = 0;
    db.insert(copy);
    CHECK(static_cast<int>(db.objects<Gadget>().get(loom::col(&Gadget::id) == copy.id).kind) == 7);
    CHECK(db.objects<Gadget>().filter(loom::col(&Gadget::kind) == static_cast<Kind>(7)).count() ==
          2);
}

TEST_CASE(
    "a dangling foreign key met by prefetch_related is a DataError naming the relation "
    "and the key",
    "[reliability][data]") {
    loom::Database db{":memory:"};
    shop::create_all(db);
    shop::seed_catalogue(db);
    db.execute("PRAGMA foreign_keys = OFF");
    Book orphan;
    orphan.title = "Orphan";
    orphan.year = 2024;
    orphan.publisher = 999;
    db.insert(orphan);
    CHECK(count_books(db) == 6);

    const std::string expected =
        "Book::publisher: publisher_id 999 matches no Publisher (a dangling key: the "
        "row was deleted, or written, while foreign keys were not enforced)";
    SECTION("through a QuerySet") {
        auto books = db.objects<Book>().prefetch_related(&Book::publisher);
        CHECK(message_of<loom::DataError>([&] { (void)books.rows(); }) == expected);
    }
    SECTION("through select_related (the LEFT JOIN finds no row)") {
        auto books = db.objects<Book>().select_related(&Book::publisher);
        CHECK(message_of<loom::DataError>([&] { (void)books.rows(); }) == expected);
        const auto others = db.objects<Book>()
                                .select_related(&Book::publisher)
                                .filter(loom::col(&Book::id) != orphan.id)
                                .to_vector();
        REQUIRE(others.size() == 5);
        for (const Book& b : others) CHECK(b.publisher.get() != nullptr);
    }
    SECTION("into objects in hand: none of them is left half loaded") {
        auto books = db.objects<Book>().to_vector();
        CHECK(message_of<loom::DataError>([&] {
                  loom::prefetch_related_objects(db, books, &Book::publisher);
              }) == expected);
        for (const Book& b : books) CHECK_FALSE(b.publisher.loaded());
    }
    SECTION("through an explicit load") {
        Book b = db.objects<Book>().get(loom::col(&Book::title) == "Orphan");
        CHECK(message_of<loom::DataError>([&] { b.publisher.load(db); })
                  .ends_with("publisher_id 999 matches no Publisher (a dangling key: the row was "
                             "deleted, or "
                             "written, while foreign keys were not enforced)"));
    }
    SECTION("a Prefetch with its own queryset may leave targets out: those read as nullptr") {
        auto books = db.objects<Book>().prefetch_related(loom::Prefetch(
            &Book::publisher,
            db.objects<Publisher>().filter(loom::col(&Publisher::name) == "Penguin")));
        int penguin = 0, none = 0;
        for (const Book& b : books) (b.publisher.get() ? penguin : none)++;
        CHECK(penguin == 2);
        CHECK(none == 4);
    }
    SECTION("the other books read fine without the orphan") {
        auto books = db.objects<Book>()
                         .filter(loom::col(&Book::id) != orphan.id)
                         .prefetch_related(&Book::publisher);
        CHECK(books.count() == 5);
        for (const Book& b : books) CHECK(b.publisher.get() != nullptr);
    }
}

}  // namespace reliability_test
