// Schema checks and migrations: check_schema / schema_report, every migration operation with the
// rows before and after (the SQLite rebuild with foreign keys pointing in and out, join tables,
// self-references), failures that leave schema and data as they were, the history, plan, and
// the diff autodetector. Crashes and two processes: tests/reliability/migrate_*.cpp.
//
// Written once for both engines (test_url()); the SQLite rebuild's own cases are tagged
// [sqlite], PostgreSQL's in-place ALTER and transactional DDL [postgres]. Expectations that
// name the engine's SQL or catalog differ through on_engine().
#include "catch.hpp"
#include "models.hpp"
#include "test_db.hpp"

#include <loom/migrate.hpp>

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

// The bookstore's book table as later versions of a program declare it.
namespace evolved {

using shop::Publisher;

// A nullable column, a UNIQUE pair, an indexed field; and a new table.
struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    std::optional<int> pages;
    loom::ForeignKey<Publisher> publisher;
};
struct Shelf {
    std::int64_t id = 0;
    std::string label;
    loom::ForeignKey<Book> book;
};
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table(
               "book", loom::pk(&Book::id), loom::field(&Book::title, "title"),
               loom::field(&Book::year, "year"), loom::field(&Book::pages, "pages", loom::indexed),
               loom::foreign_key(&Book::publisher, "publisher_id", loom::on_delete::cascade))
        .unique_together(&Book::title, &Book::year);
}
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("shelf", loom::pk(&Shelf::id),
                       loom::field(&Shelf::label, "label", loom::unique),
                       loom::foreign_key(&Shelf::book, "book_id", loom::nullable));
}

// title renamed to name, year now text, a NOT NULL column added.
struct Renamed {
    std::int64_t id = 0;
    std::string name;
    std::string year;
    int pages = 0;
    loom::ForeignKey<Publisher> publisher;
};
constexpr auto loom_model(loom::model_of<Renamed>) {
    return loom::table(
        "book", loom::pk(&Renamed::id), loom::field(&Renamed::name, "name"),
        loom::field(&Renamed::year, "year"), loom::field(&Renamed::pages, "pages"),
        loom::foreign_key(&Renamed::publisher, "publisher_id", loom::on_delete::cascade));
}

// Author with born made NOT NULL and name narrowed to an integer (nonsense, for the options).
struct Author {
    std::int64_t id = 0;
    std::int64_t name = 0;
    int born = 0;
};
constexpr auto loom_model(loom::model_of<Author>) {
    return loom::table("author", loom::pk(&Author::id), loom::field(&Author::name, "name"),
                       loom::field(&Author::born, "born"));
}

// A table PostgreSQL made with its own types (serial key, integer, real, varchar...).
struct Legacy {
    std::int64_t id = 0;
    int n = 0;
    std::optional<double> r;
    std::optional<std::string> t;
    std::optional<loom::Blob> b;
    loom::ForeignKey<Legacy> parent;
};
constexpr auto loom_model(loom::model_of<Legacy>) {
    return loom::table("legacy", loom::pk(&Legacy::id), loom::field(&Legacy::n, "n"),
                       loom::field(&Legacy::r, "r"), loom::field(&Legacy::t, "t"),
                       loom::field(&Legacy::b, "b"),
                       loom::foreign_key(&Legacy::parent, "parent_id", loom::nullable,
                                         loom::on_delete::set_null))
        .unique_together(&Legacy::n, &Legacy::t);
}

}  // namespace evolved

namespace migrate_test {

using shop::Author;
using shop::Book;
using shop::Publisher;

std::string text_of(const loom::Value& v) {
    switch (v.index()) {
    case 0:
        return "NULL";
    case 1:
        return std::to_string(std::get<1>(v));
    case 2:
        return std::to_string(std::get<2>(v));
    case 3:
        return std::get<3>(v);
    default:
        return "<blob>";
    }
}

/// The rows of a query, one line each, cells separated by |.
std::string rows(loom::Database& db, const std::string& sql) {
    std::string out;
    for (const auto& r : db.query<loom::ResultRow>(sql)) {
        for (std::size_t i = 0; i < r.size(); ++i) {
            if (i) out += '|';
            out += text_of(r[i]);
        }
        out += "\n";
    }
    return out;
}

const char* const kSchema =
    "(SELECT n.oid FROM pg_namespace AS n WHERE n.nspname = current_schema())";

/// Everything in the database: its schema, then every table's rows.
std::string snapshot(loom::Database& db) {
    if (on_postgres()) {
        std::string out = rows(db,
                               "SELECT table_name, column_name, data_type, is_nullable, "
                               "column_default, is_identity FROM information_schema.columns WHERE "
                               "table_schema = current_schema() ORDER BY 1, ordinal_position");
        out += rows(db, std::string("SELECT conrelid::regclass::text, conname, "
                                    "pg_get_constraintdef(oid) FROM pg_constraint WHERE "
                                    "connamespace = ") +
                            kSchema + " ORDER BY 1, 2");
        out += rows(db,
                    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
                    "current_schema() ORDER BY 1, 2");
        for (const auto& t : db.query<std::string>(
                 "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() "
                 "ORDER BY 1"))
            out += t + ":\n" + rows(db, "SELECT * FROM \"" + t + "\" AS x ORDER BY x::text");
        return out;
    }
    std::string out = rows(db, "SELECT type, name, sql FROM sqlite_schema ORDER BY type, name");
    for (const auto& t :
         db.query<std::string>("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"))
        out += t + ":\n" + rows(db, "SELECT * FROM \"" + t + "\" ORDER BY rowid");
    return out;
}

/// SQLite's foreign key switch (PostgreSQL has none: always 1).
std::int64_t foreign_keys_on(loom::Database& db) {
    if (on_postgres()) return 1;
    return db.query<std::int64_t>("PRAGMA foreign_keys").at(0);
}

/// name|type|NOT NULL|in the key, one line a column.
std::string columns(loom::Database& db, const std::string& table) {
    if (on_postgres())
        return rows(db,
                    "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull::int, "
                    "(SELECT count(*) FROM pg_constraint AS c WHERE c.conrelid = a.attrelid AND "
                    "c.contype = 'p' AND a.attnum = ANY(c.conkey)) FROM pg_attribute AS a WHERE "
                    "a.attrelid = '\"" +
                        table +
                        "\"'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY "
                        "a.attnum");
    return rows(db, "SELECT name, type, \"notnull\", pk FROM pragma_table_info('" + table + "')");
}

/// The foreign keys of a table: target|column|target column|ON DELETE, one line each.
std::string foreign_keys(loom::Database& db, const std::string& table) {
    if (on_postgres())
        return rows(db,
                    "SELECT f.relname, a.attname, fa.attname, CASE c.confdeltype WHEN 'c' THEN "
                    "'CASCADE' WHEN 'n' THEN 'SET NULL' WHEN 'r' THEN 'RESTRICT' ELSE 'NO "
                    "ACTION' END FROM pg_constraint AS c JOIN pg_class AS f ON f.oid = c.confrelid "
                    "JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
                    "JOIN pg_attribute AS fa ON fa.attrelid = c.confrelid AND fa.attnum = "
                    "c.confkey[1] WHERE c.contype = 'f' AND c.conrelid = '\"" +
                        table + "\"'::regclass ORDER BY 2");
    return rows(db, "SELECT \"table\", \"from\", \"to\", on_delete FROM pragma_foreign_key_list('" +
                        table + "') ORDER BY \"from\"");
}

/// The names of a table's indexes, sorted.
std::string index_names(loom::Database& db, const std::string& table) {
    if (on_postgres())
        return rows(db,
                    "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND "
                    "tablename = '" +
                        table + "' ORDER BY 1");
    return rows(db, "SELECT name FROM sqlite_schema WHERE tbl_name = '" + table +
                        "' AND type = 'index' ORDER BY name");
}

/// SQLite's own checks of the file: foreign keys and integrity (PostgreSQL enforces both as
/// each statement runs).
void check_integrity(loom::Database& db) {
    if (on_postgres()) return;
    CHECK(rows(db, "PRAGMA foreign_key_check").empty());
    CHECK(rows(db, "PRAGMA integrity_check") == "ok\n");
}

/// The storage of a value as the engine names it.
std::string type_of(const std::string& column) {
    return on_engine("typeof(" + column + ")", "pg_typeof(" + column + ")::text");
}

// The seeded bookstore's books, reviews and book-author links, as rows.
const char* const kBooks =
    "1|The Dispossessed|1974|1\n2|Good Omens|1990|1\n3|Small Gods|1992|1\n"
    "4|American Gods|2001|2\n5|The Wee Free Men|2003|2\n";
const char* const kReviews =
    "1|1|5|Ambiguous.\n2|2|5|Funny.\n3|2|4|Angels!\n4|3|5|Om.\n5|4|4|A road trip.\n6|4|3|Long.\n";
const char* const kLinks = "1|1|1\n2|2|2\n3|2|3\n4|3|2\n5|4|3\n6|5|2\n";

struct Bookstore {
    Bookstore() {
        db.create_tables<Publisher, Author, Book, shop::Review, shop::Employee>();
        shop::seed_catalogue(db);
    }
    loom::Database db{test_url()};
};

/// Applies one migration (on its own: the history of the ones before is dropped first).
void apply(loom::Database& db, std::string name, std::vector<loom::Operation> ops) {
    db.execute("DROP TABLE IF EXISTS loom_migrations");
    loom::Migrations({{std::move(name), std::move(ops)}}).apply(db);
}

/// Applies a migration that must fail, and checks its message and that nothing changed.
void apply_fails(loom::Database& db, std::vector<loom::Operation> ops, const std::string& message) {
    db.execute("DROP TABLE IF EXISTS loom_migrations");
    db.create_tables<loom::AppliedMigration>();
    const std::string before = snapshot(db);
    const loom::Migrations m{{{"0001_bad", std::move(ops)}}};
    try {
        m.apply(db);
        FAIL("the migration applied");
    } catch (const loom::MigrationError& e) {
        CHECK(std::string(e.what()) == message);
        CHECK(e.migration() == "0001_bad");
    }
    CHECK(snapshot(db) == before);
    CHECK(foreign_keys_on(db) == 1);
    CHECK(db.transaction_depth() == 0);
}

// ---- check_schema ------------------------------------------------------------------------------

TEST_CASE("check_schema passes on what create_tables made, for every relation shape", "[migrate]") {
    loom::Database db(test_url());
    shop::create_all(db);
    db.reset_query_count();
    db.check_schema<Publisher, Author, Book, shop::Review, shop::Employee, shop::Person, shop::Club,
                    shop::Membership, shop::User, shop::Profile, shop::Sample>();
    // 11 tables and 2 join tables, 4 queries each; nothing written.
    CHECK(db.query_count() == 13 * 4);
    const auto r = loom::schema_report<Publisher, Book>(db);
    CHECK(r.ok());
    CHECK(r.differences.empty());
    CHECK(r.notes.empty());
}

TEST_CASE("check_schema lists every difference in plain words, and writes nothing", "[migrate]") {
    loom::Database db(test_url());
    db.create_tables<Publisher>();
    db.execute(
        "CREATE TABLE book (id INTEGER PRIMARY KEY, title TEXT, year TEXT NOT NULL, "
        "publisher_id INTEGER NOT NULL, isbn TEXT NOT NULL, note TEXT)");
    db.execute("CREATE INDEX book_note ON book (note)");
    db.execute("CREATE UNIQUE INDEX book_isbn ON book (isbn)");
    const std::string before = snapshot(db);
    try {
        db.check_schema<Publisher, evolved::Book, evolved::Shelf>();
        FAIL("no SchemaError");
    } catch (const loom::SchemaError& e) {
        CHECK(std::string(e.what()) ==
              "the database schema does not match the models (11 differences):\n"
              "  book: primary key (id, auto-assigned) in the model, (id) in the database\n"
              "  book.pages: in the model, not in the database\n"
              "  book.isbn: in the database (NOT NULL, no default), not in the model: inserts "
              "would fail\n"
              "  book.title: NOT NULL in the model, NULL allowed in the database\n"
              "  book.year: INTEGER in the model, TEXT in the database\n"
              "  book.publisher_id: references publisher (id) ON DELETE CASCADE in the model; in "
              "the database: no foreign key\n"
              "  book: UNIQUE (title, year) in the model, not in the database\n"
              "  book: index on (pages) in the model, not in the database\n"
              "  book: index on (publisher_id) in the model, not in the database\n"
              "  book: unique index book_isbn on (isbn) in the database, not in the model\n"
              "  shelf: in the models, not in the database\n"
              "migrate the database (loom::Migrations; loom::diff drafts the operations)");
        CHECK(e.differences().size() == 11);
        CHECK(e.differences().back() == "shelf: in the models, not in the database");
    }
    const auto r = loom::schema_report<evolved::Book>(db);
    CHECK_FALSE(r.ok());
    CHECK(r.notes == std::vector<std::string>{"book.note: in the database, not in the model",
                                              "book: index book_note on (note) in the database, "
                                              "not in the model"});
    CHECK(snapshot(db) == before);
}

TEST_CASE("an extra nullable column or index is a note, not a difference", "[migrate]") {
    Bookstore s;
    s.db.execute("ALTER TABLE book ADD COLUMN note TEXT");
    s.db.execute("CREATE INDEX book_year ON book (year)");
    s.db.check_schema<Book>();  // does not throw
    const auto r = loom::schema_report<Book>(s.db);
    CHECK(r.ok());
    CHECK(r.notes == std::vector<std::string>{
                         "book.note: in the database, not in the model",
                         "book: index book_year on (year) in the database, not in the model"});
}

TEST_CASE("unique_together declares a UNIQUE constraint over several columns", "[migrate]") {
    loom::Database db(test_url());
    if (!on_postgres())  // PostgreSQL's DDL: test_postgres.cpp
        CHECK(db.schema_sql<evolved::Book>() ==
              std::vector<std::string>{
                  "CREATE TABLE IF NOT EXISTS \"book\" (\n"
                  "  \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
                  "  \"title\" TEXT NOT NULL,\n"
                  "  \"year\" INTEGER NOT NULL,\n"
                  "  \"pages\" INTEGER,\n"
                  "  \"publisher_id\" INTEGER NOT NULL REFERENCES \"publisher\" (\"id\") ON DELETE "
                  "CASCADE,\n"
                  "  UNIQUE (\"title\", \"year\")\n"
                  ")",
                  "CREATE INDEX IF NOT EXISTS \"book_pages_idx\" ON \"book\" (\"pages\")",
                  "CREATE INDEX IF NOT EXISTS \"book_publisher_id_idx\" ON \"book\" "
                  "(\"publisher_id\")"});
    db.create_tables<Publisher, evolved::Book>();
    Publisher p;
    p.name = "P";
    db.insert(p);
    evolved::Book a;
    a.title = "Dune";
    a.year = 1965;
    a.publisher = p;
    db.insert(a);
    evolved::Book b = a;
    b.id = 0;
    CHECK_THROWS_AS(db.insert(b), loom::ConstraintError);
    b.year = 1966;
    db.insert(b);
    CHECK(db.objects<evolved::Book>().count() == 2);
}

// ---- applying, the history ---------------------------------------------------------------------

TEST_CASE("apply runs the pending migrations in order and records them; again, nothing runs",
          "[migrate]") {
    loom::Database db(test_url());
    const loom::Migrations m{{
        {"0001_initial", {loom::create_tables<Publisher, Author, Book, shop::Review>()}},
        {"0002_pages",
         {loom::add_column("book", loom::column<std::optional<int>>("pages")),
          loom::add_index("book", {"pages"})}},
    }};
    CHECK(m.history(db).empty());
    CHECK(m.apply(db) == std::vector<std::string>{"0001_initial", "0002_pages"});
    const auto h = m.history(db);
    REQUIRE(h.size() == 2);
    CHECK(h[0].name == "0001_initial");
    CHECK(h[0].checksum == m.checksum("0001_initial"));
    CHECK(h[1].checksum == m.checksum("0002_pages"));
    CHECK(std::regex_match(
        h[1].applied_at,
        std::regex("20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]Z")));
    CHECK(h[0].checksum.size() == 16);
    CHECK(h[0].checksum != h[1].checksum);
    CHECK(columns(db, "book") ==
          on_engine("id|INTEGER|0|1\ntitle|TEXT|1|0\nyear|INTEGER|1|0\npublisher_id|INTEGER|1|0\n"
                    "pages|INTEGER|0|0\n",
                    "id|bigint|1|1\ntitle|text|1|0\nyear|bigint|1|0\npublisher_id|bigint|1|0\n"
                    "pages|bigint|0|0\n"));

    db.reset_query_count();
    CHECK(m.apply(db).empty());
    // BEGIN, CREATE TABLE IF NOT EXISTS loom_migrations, COMMIT, the history.
    CHECK(db.query_count() == 4);
    CHECK(m.plan(db).empty());
}

TEST_CASE("a changed applied migration, an unknown one or a gap in the history is an error",
          "[migrate]") {
    loom::Database db(test_url());
    loom::Migrations({{"0001", {loom::create_tables<Publisher>()}}}).apply(db);
    const std::string applied_at = loom::Migrations({{"0001", {loom::create_tables<Publisher>()}}})
                                       .history(db)
                                       .at(0)
                                       .applied_at;
    const std::string sum =
        loom::Migrations({{"0001", {loom::create_tables<Publisher>()}}}).checksum("0001");
    const std::string before = snapshot(db);

    const loom::Migrations changed{{{"0001", {loom::create_tables<Publisher, Author>()}}}};
    try {
        changed.apply(db);
        FAIL("applied");
    } catch (const loom::MigrationError& e) {
        CHECK(std::string(e.what()) ==
              "migration '0001' changed after it was applied on " + applied_at +
                  " (checksum then " + sum + ", now " + changed.checksum("0001") +
                  "): an applied migration must not change; put the change in a new migration (a "
                  "create_tables<...>() operation follows its models: freeze it with the "
                  "operations loom::diff prints for an empty database)");
        CHECK(e.migration() == "0001");
    }
    CHECK_THROWS_AS(changed.plan(db), loom::MigrationError);

    const loom::Migrations unknown{{{"0002", {loom::create_tables<Author>()}}}};
    try {
        unknown.apply(db);
        FAIL("applied");
    } catch (const loom::MigrationError& e) {
        CHECK(std::string(e.what()) ==
              "the database has migration '0001' (applied on " + applied_at +
                  "), which this program's list does not have: was it renamed or removed, or did "
                  "a newer program migrate this database?");
    }

    const loom::Migrations gap{
        {{"0000", {loom::create_tables<Author>()}}, {"0001", {loom::create_tables<Publisher>()}}}};
    try {
        gap.apply(db);
        FAIL("applied");
    } catch (const loom::MigrationError& e) {
        CHECK(std::string(e.what()) ==
              "migration '0000' is not applied, but '0001', after it in the list, is: migrations "
              "apply in order (was it inserted before applied ones?)");
        CHECK(e.migration() == "0000");
    }
    CHECK(snapshot(db) == before);
}

TEST_CASE("a list of migrations names each once and gives each an operation", "[migrate]") {
    auto message = [](std::vector<loom::Migration> list) {
        try {
            loom::Migrations m(std::move(list));
        } catch (const loom::UsageError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message({{"a", {loom::drop_table("x")}}, {"a", {loom::drop_table("y")}}}) ==
          "loom::Migrations: two migrations are named 'a'");
    CHECK(message({{"a", {}}}) == "loom::Migrations: migration 'a' has no operations");
    CHECK(message({{"", {loom::drop_table("x")}}}) == "loom::Migrations: a migration has no name");
    CHECK_THROWS_WITH(loom::column<int>("pages").fill("none"),
                      "loom::ColumnDef(\"pages\").fill: the value's type does not match the "
                      "column's type, INTEGER");
}

// ---- operations: rows before and after ---------------------------------------------------------

TEST_CASE(
    "add_column: nullable in place; NOT NULL through the rebuild (SQLite) or filled in "
    "place (PostgreSQL), keys and links intact",
    "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    // A deleted row: its key must not come back after the rebuild.
    db.execute("DELETE FROM book WHERE id = 5");
    const loom::Migrations m{
        {{"0001_add",
          {
              loom::add_column("book", loom::column<std::optional<std::string>>("subtitle")),
              loom::add_column("book", loom::column<int>("pages").fill(100)),
          }}}};
    const auto plan = m.plan(db);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].operations ==
          std::vector<std::string>{"add column book.subtitle", "add column book.pages"});
    if (on_postgres()) {
        CHECK_FALSE(plan[0].foreign_keys_off);
        CHECK(plan[0].statements ==
              std::vector<loom::SqlText>{
                  {"ALTER TABLE \"book\" ADD COLUMN \"subtitle\" text", {}},
                  {"ALTER TABLE \"book\" ADD COLUMN \"pages\" bigint", {}},
                  {"UPDATE \"book\" SET \"pages\" = ?", {std::int64_t{100}}},
                  {"ALTER TABLE \"book\" ALTER COLUMN \"pages\" SET NOT NULL", {}}});
    } else {
        CHECK(plan[0].foreign_keys_off);
        REQUIRE(plan[0].statements.size() == 10);
        CHECK(plan[0].statements[0] ==
              loom::SqlText{"ALTER TABLE \"book\" ADD COLUMN \"subtitle\" TEXT", {}});
        CHECK(plan[0].statements[3] ==
              loom::SqlText{"INSERT INTO \"loom_new_book\" (\"id\", \"title\", \"year\", "
                            "\"publisher_id\", \"subtitle\", \"pages\") SELECT \"id\", \"title\", "
                            "\"year\", \"publisher_id\", \"subtitle\", ? FROM \"book\"",
                            {std::int64_t{100}}});
    }
    m.apply(db);
    CHECK(rows(db, "SELECT * FROM book ORDER BY id") ==
          "1|The Dispossessed|1974|1|NULL|100\n2|Good Omens|1990|1|NULL|100\n"
          "3|Small Gods|1992|1|NULL|100\n4|American Gods|2001|2|NULL|100\n");
    // Foreign keys pointing in (reviews, the join table) and out (publisher) still hold.
    CHECK(rows(db, "SELECT * FROM review ORDER BY id") == kReviews);
    CHECK(rows(db, "SELECT * FROM book_authors ORDER BY id") ==
          "1|1|1\n2|2|2\n3|2|3\n4|3|2\n5|4|3\n");
    check_integrity(db);
    CHECK(foreign_keys_on(db) == 1);
    CHECK(index_names(db, "book") ==
          on_engine("book_publisher_id_idx\n", "book_pkey\nbook_publisher_id_idx\n"));
    // Cascades work on the rebuilt table, and the deleted key is not handed out again.
    db.execute("DELETE FROM book WHERE id = 2");
    CHECK(rows(db, "SELECT count(*) FROM review WHERE book_id = 2") == "0\n");
    CHECK(rows(db, "SELECT count(*) FROM book_authors WHERE book_id = 2") == "0\n");
    db.execute("INSERT INTO book (title, year, publisher_id, pages) VALUES ('New', 2020, 1, 1)");
    CHECK(rows(db, "SELECT max(id) FROM book") == "6\n");
}

TEST_CASE("add_column NOT NULL without a fill value fails on a table with rows", "[migrate]") {
    Bookstore s;
    apply_fails(s.db, {loom::add_column("book", loom::column<int>("pages"))},
                "migration '0001_bad', operation 1 of 1 (add column book.pages): book.pages: NOT "
                "NULL, and the table has 5 rows that need a value; give the column a "
                ".fill(value)");
    apply_fails(s.db, {loom::add_column("book", loom::column<int>("year"))},
                "migration '0001_bad', operation 1 of 1 (add column book.year): the table has a "
                "column year already");
    apply_fails(s.db, {loom::add_column("nothing", loom::column<int>("x"))},
                "migration '0001_bad', operation 1 of 1 (add column nothing.x): there is no table "
                "nothing");
}

TEST_CASE("drop_column and rename_column keep every other value", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    apply(db, "0001",
          {loom::rename_column("book", "title", "name"), loom::drop_column("book", "year"),
           loom::rename_column("publisher", "id", "pid")});
    CHECK(rows(db, "SELECT * FROM book ORDER BY id") ==
          "1|The Dispossessed|1\n2|Good Omens|1\n3|Small Gods|1\n4|American Gods|2\n"
          "5|The Wee Free Men|2\n");
    // The foreign key to the renamed key column follows it.
    CHECK(foreign_keys(db, "book") == "publisher|publisher_id|pid|CASCADE\n");
    CHECK(rows(db, "SELECT * FROM review ORDER BY id") == kReviews);
    check_integrity(db);

    apply_fails(db, {loom::drop_column("book", "id")},
                "migration '0001_bad', operation 1 of 1 (drop column book.id): it is the primary "
                "key");
    apply_fails(
        db, {loom::add_unique("book", {"name", "publisher_id"}), loom::drop_column("book", "name")},
        "migration '0001_bad', operation 2 of 2 (drop column book.name): it is part of "
        "UNIQUE (name, publisher_id); drop that first (loom::drop_unique)");
    apply_fails(db, {loom::rename_column("book", "name", "publisher_id")},
                "migration '0001_bad', operation 1 of 1 (rename column book.name to "
                "publisher_id): the table has a column publisher_id already");
}

TEST_CASE("rename_table: foreign keys and join tables follow", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    apply(db, "0001", {loom::rename_table("book", "volume")});
    CHECK(rows(db, "SELECT * FROM volume ORDER BY id") == kBooks);
    CHECK(foreign_keys(db, "review") == "volume|book_id|id|CASCADE\n");
    CHECK(foreign_keys(db, "book_authors") ==
          "author|author_id|id|CASCADE\nvolume|book_id|id|CASCADE\n");
    check_integrity(db);
    // The key still comes from the renamed table's own generator.
    db.execute("INSERT INTO volume (title, year, publisher_id) VALUES ('New', 2020, 1)");
    CHECK(rows(db, "SELECT max(id) FROM volume") == "6\n");
    apply_fails(db, {loom::rename_table("volume", "review")},
                "migration '0001_bad', operation 1 of 1 (rename table volume to review): table "
                "review exists already");
}

TEST_CASE("alter_column: a type change copies and checks every value", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    // INTEGER to TEXT converts every value.
    apply(db, "0001", {loom::alter_column("book", loom::column<std::string>("year"))});
    CHECK(rows(db, "SELECT id, " + type_of("year") + ", year FROM book ORDER BY id") ==
          "1|text|1974\n2|text|1990\n3|text|1992\n4|text|2001\n5|text|2003\n");
    // Back to INTEGER: fine while every value converts...
    apply(db, "0002", {loom::alter_column("book", loom::column<int>("year"))});
    const std::string i = on_engine("integer", "bigint");
    CHECK(rows(db, "SELECT id, " + type_of("year") + ", year FROM book ORDER BY id") ==
          "1|" + i + "|1974\n2|" + i + "|1990\n3|" + i + "|1992\n4|" + i + "|2001\n5|" + i +
              "|2003\n");
    CHECK(rows(db, "SELECT * FROM review ORDER BY id") == kReviews);
    // ...and refused, changing nothing, when one does not.
    apply(db, "0003", {loom::alter_column("book", loom::column<std::string>("year"))});
    db.execute("UPDATE book SET year = 'nineteen ninety' WHERE id = 2");
    apply_fails(db, {loom::alter_column("book", loom::column<int>("year"))},
                "migration '0001_bad', operation 1 of 1 (alter column book.year): book.year: row "
                "2 holds TEXT 'nineteen ninety', which does not convert to INTEGER; convert or "
                "fix such rows first (a data step before this operation)");
}

TEST_CASE("alter_column: NULL-ness, with a fill value for the NULLs", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    CHECK(rows(db, "SELECT id, born FROM author ORDER BY id") == "1|1929\n2|1948\n3|NULL\n");
    apply_fails(db, {loom::alter_column("author", loom::column<int>("born"))},
                "migration '0001_bad', operation 1 of 1 (alter column author.born): author.born: "
                "row 3 holds NULL, which NOT NULL does not allow; give the column a .fill(value) "
                "for such rows, or update them first");
    apply(db, "0001", {loom::alter_column("author", loom::column<int>("born").fill(0))});
    CHECK(rows(db, "SELECT id, born FROM author ORDER BY id") == "1|1929\n2|1948\n3|0\n");
    CHECK(columns(db, "author") == on_engine("id|INTEGER|0|1\nname|TEXT|1|0\nborn|INTEGER|1|0\n",
                                             "id|bigint|1|1\nname|text|1|0\nborn|bigint|1|0\n"));
    apply(db, "0002", {loom::alter_column("author", loom::column<std::optional<int>>("born"))});
    CHECK(columns(db, "author") == on_engine("id|INTEGER|0|1\nname|TEXT|1|0\nborn|INTEGER|0|0\n",
                                             "id|bigint|1|1\nname|text|1|0\nborn|bigint|0|0\n"));
    CHECK(rows(db, "SELECT * FROM book_authors ORDER BY id") == kLinks);
    CHECK_THROWS_WITH(apply(db, "0003", {loom::alter_column("author", loom::column<int>("id"))}),
                      "migration '0003', operation 1 of 1 (alter column author.id): loom does not "
                      "change a primary key");
}

TEST_CASE("alter_column on a self-reference and on a join table keeps every link", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    shop::Employee boss, worker, other;
    boss.name = "Ada";
    db.insert(boss);
    worker.name = "Brian";
    worker.manager = boss;
    db.insert(worker);
    other.name = "Cy";
    other.manager = worker;
    db.insert(other);
    // The manager key loses ON DELETE SET NULL (restrict now), the join table gains a column.
    apply(db, "0001",
          {loom::alter_column(
               "employee",
               loom::column<std::optional<std::int64_t>>("manager_id").references("employee")),
           loom::add_column("book_authors", loom::column<int>("position").fill(1))});
    CHECK(rows(db, "SELECT * FROM employee ORDER BY id") == "1|Ada|NULL\n2|Brian|1\n3|Cy|2\n");
    CHECK(rows(db, "SELECT * FROM book_authors ORDER BY id") ==
          "1|1|1|1\n2|2|2|1\n3|2|3|1\n4|3|2|1\n5|4|3|1\n6|5|2|1\n");
    CHECK(foreign_keys(db, "employee") == "employee|manager_id|id|RESTRICT\n");
    CHECK_THROWS_AS(db.execute("DELETE FROM employee WHERE id = 1"), loom::ConstraintError);
    // The join table's constraint survived.
    CHECK_THROWS_AS(db.execute("INSERT INTO book_authors (book_id, author_id, position) "
                               "VALUES (1, 1, 2)"),
                    loom::ConstraintError);
}

TEST_CASE("add_unique, drop_unique, add_index, drop_index", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Migrations m{{{"0001",
                               {loom::add_index("book", {"year", "title"}),
                                loom::add_unique("book", {"title", "year"})}}}};
    const auto plan = m.plan(db);
    REQUIRE(plan.size() == 1);
    CHECK(plan[0].statements.front() ==
          loom::SqlText{"CREATE INDEX \"book_year_title_idx\" ON \"book\" (\"year\", \"title\")",
                        {}});
    m.apply(db);
    CHECK(rows(db, "SELECT * FROM book ORDER BY id") == kBooks);
    CHECK_THROWS_AS(db.execute("INSERT INTO book (title, year, publisher_id) VALUES ('Small Gods', "
                               "1992, 1)"),
                    loom::ConstraintError);
    CHECK(
        index_names(db, "book") ==
        on_engine("book_publisher_id_idx\nbook_year_title_idx\nsqlite_autoindex_book_1\n",
                  "book_pkey\nbook_publisher_id_idx\nbook_title_year_key\nbook_year_title_idx\n"));

    apply(db, "0002",
          {loom::drop_unique("book", {"title", "year"}),
           loom::drop_index("book", {"year", "title"})});
    db.execute("INSERT INTO book (title, year, publisher_id) VALUES ('Small Gods', 1992, 1)");
    CHECK(index_names(db, "book") ==
          on_engine("book_publisher_id_idx\n", "book_pkey\nbook_publisher_id_idx\n"));

    // Duplicates refuse the constraint; nothing changes.
    apply_fails(db, {loom::add_unique("book", {"title", "year"})},
                "migration '0001_bad', operation 1 of 1 (add UNIQUE to book (title, year)): "
                "book: UNIQUE (title, year) does not hold for the rows already there (title = "
                "'Small Gods', year = 1992 in 2 rows); change or remove the duplicates first");
    apply_fails(db, {loom::drop_index("book", {"title"})},
                "migration '0001_bad', operation 1 of 1 (drop index on book (title)): there is "
                "no such index");
}

TEST_CASE("an operation on what is not there, or is there already, changes nothing", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    db.execute("CREATE TABLE pair2 (x INTEGER, y INTEGER, UNIQUE (x, y))");
    db.execute(
        "CREATE TABLE pair (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER, "
        "FOREIGN KEY (a, b) REFERENCES pair2 (x, y))");
    db.execute("CREATE INDEX pair_ab ON pair (a, b)");
    const std::string op = "migration '0001_bad', operation 1 of 1 (";
    const std::vector<std::pair<loom::Operation, std::string>> cases{
        {loom::drop_table("shelf"), "drop table shelf): there is no table shelf"},
        {loom::create_table("book", {loom::primary_key()}),
         "create table book): table book exists already"},
        {loom::rename_column("book", "isbn", "code"),
         "rename column book.isbn to code): the table has no column isbn"},
        {loom::drop_column("book", "isbn"), "drop column book.isbn): the table has no column isbn"},
        {loom::alter_column("book", loom::column<int>("isbn")),
         "alter column book.isbn): the table has no column isbn"},
        {loom::add_index("book", {"isbn"}),
         "add index on book (isbn)): the table has no column isbn"},
        {loom::add_index("book", {"title"}, "book_publisher_id_idx"),
         "add index on book (title)): an index named book_publisher_id_idx exists already"},
        {loom::add_index("book", {}), "add index on book ()): name at least one column"},
        {loom::add_unique("publisher", {"name"}),
         "add UNIQUE to publisher (name)): the table has that UNIQUE constraint already"},
        {loom::drop_unique("book", {"title"}),
         "drop UNIQUE from book (title)): there is no such UNIQUE constraint"},
        {loom::drop_column("pair", "b"),
         "drop column pair.b): it is part of the index pair_ab (a, b); drop that first "
         "(loom::drop_index)"},
    };
    for (const auto& [operation, message] : cases) {
        INFO(message);
        apply_fails(db, {operation}, op + message);
    }
    db.execute("DROP INDEX pair_ab");
    apply_fails(db, {loom::drop_column("pair", "b")},
                op + "drop column pair.b): it is part of a foreign key (a, b)");

    auto usage = [](auto&& f) {
        try {
            f();
        } catch (const loom::UsageError& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(usage([] {
              loom::create_table("t", {loom::primary_key(), loom::column<int>("id")});
          }) == "loom::create_table(\"t\"): two columns are named id");
    CHECK(usage([] { loom::create_table("t", {loom::column<int>("n").fill(1)}); }) ==
          "loom::create_table(\"t\"): column n has a fill value, which only a column added to a "
          "table with rows needs");
    const loom::Migrations m{{{"0001", {loom::drop_table("x")}}}};
    CHECK(usage([&] { m.checksum("0002"); }) == "loom::Migrations: no migration is named '0002'");
    CHECK(usage([&] { m.adopt(db, "0002"); }) == "loom::Migrations: no migration is named '0002'");
}

TEST_CASE("raw_sql and data steps run inside the migration's transaction", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    apply(db, "0001",
          {loom::add_column("book", loom::column<std::optional<std::string>>("slug")),
           loom::raw_sql("UPDATE book SET slug = lower(title) WHERE year < ?", 2000),
           loom::data_step("slug the rest", [](loom::Database& d) {
               CHECK(d.transaction_depth() == 1);
               d.execute("UPDATE book SET slug = 'late' WHERE slug IS NULL");
           })});
    CHECK(rows(db, "SELECT id, slug FROM book ORDER BY id") ==
          "1|the dispossessed\n2|good omens\n3|small gods\n4|late\n5|late\n");
}

// On PostgreSQL the same case proves its transactional DDL: the ALTERs roll back with the rows.
TEST_CASE(
    "a migration that fails after changing tables leaves schema, rows and history as they "
    "were",
    "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    apply(db, "0001", {loom::add_index("book", {"year"})});
    const std::string before = snapshot(db);
    const loom::Migrations m{
        {{"0001", {loom::add_index("book", {"year"})}},
         {"0002",
          {loom::add_column("book", loom::column<int>("pages").fill(1)),
           loom::drop_column("review", "body"), loom::data_step("boom", [](loom::Database& d) {
               d.execute("DELETE FROM author");
               throw std::runtime_error("boom");
           })}}}};
    CHECK_THROWS_WITH(m.apply(db), "migration '0002', operation 3 of 3 (data step: boom): boom");
    CHECK(snapshot(db) == before);
    CHECK(foreign_keys_on(db) == 1);
    CHECK(m.history(db).size() == 1);
}

TEST_CASE("a migration that leaves a foreign key pointing at nothing is rolled back",
          "[migrate][sqlite]") {
    Bookstore s;
    apply_fails(s.db, {loom::drop_table("publisher")},
                "migration '0001_bad': foreign keys point at missing rows after it (book row 1: "
                "publisher_id points at no publisher row; book row 2: publisher_id points at no "
                "publisher row; book row 3: publisher_id points at no publisher row; book row 4: "
                "publisher_id points at no publisher row; book row 5: publisher_id points at no "
                "publisher row); it was rolled back");
    // Dropped with its dependants, it goes (their rows with it).
    apply(s.db, "0001",
          {loom::drop_table("review"), loom::drop_table("book_authors"), loom::drop_table("book"),
           loom::drop_table("publisher")});
    CHECK(rows(s.db, "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name") ==
          "author\nemployee\nloom_migrations\nsqlite_sequence\n");
}

TEST_CASE("PostgreSQL: a table still referred to cannot be dropped; the migration rolls back",
          "[migrate][postgres]") {
    Bookstore s;
    apply_fails(s.db, {loom::drop_table("review"), loom::drop_table("publisher")},
                "migration '0001_bad', operation 2 of 2 (drop table publisher): cannot "
                "drop table publisher because other objects depend on it: constraint "
                "book_publisher_id_fkey on table book depends on table publisher (while running: "
                "DROP TABLE \"publisher\")");
    // Dropped with its dependants, it goes (their rows with it).
    apply(s.db, "0001",
          {loom::drop_table("review"), loom::drop_table("book_authors"), loom::drop_table("book"),
           loom::drop_table("publisher")});
    CHECK(rows(s.db,
               "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER "
               "BY 1") == "author\nemployee\nloom_migrations\n");
}

TEST_CASE("views and triggers survive a rebuild; one the change breaks fails it",
          "[migrate][sqlite]") {
    Bookstore s;
    auto& db = s.db;
    db.execute("CREATE VIEW titles AS SELECT title FROM book");
    db.execute("CREATE TABLE log (what TEXT)");
    db.execute(
        "CREATE TRIGGER book_added AFTER INSERT ON book BEGIN INSERT INTO log VALUES "
        "(new.title); END");
    db.execute(
        "CREATE TRIGGER review_added AFTER INSERT ON review BEGIN UPDATE book SET year = "
        "year WHERE id = new.book_id; END");
    apply(db, "0001", {loom::add_column("book", loom::column<int>("pages").fill(0))});
    CHECK(rows(db, "SELECT * FROM titles") ==
          "The Dispossessed\nGood Omens\nSmall Gods\nAmerican Gods\nThe Wee Free Men\n");
    db.execute("INSERT INTO book (title, year, publisher_id, pages) VALUES ('New', 2020, 1, 9)");
    CHECK(rows(db, "SELECT * FROM log") == "New\n");
    CHECK(rows(db,
               "SELECT type, name FROM sqlite_schema WHERE type IN ('view', 'trigger') "
               "ORDER BY name") == "trigger|book_added\ntrigger|review_added\nview|titles\n");
    apply_fails(db, {loom::drop_column("book", "title")},
                "migration '0001_bad', operation 1 of 1 (drop column book.title): no such column: "
                "title (while preparing: SELECT * FROM \"titles\" LIMIT 0)");
}

TEST_CASE("PostgreSQL: views and triggers stay; a change one depends on fails, changing nothing",
          "[migrate][postgres]") {
    Bookstore s;
    auto& db = s.db;
    db.execute("CREATE VIEW titles AS SELECT title FROM book");
    db.execute("CREATE TABLE log (what text)");
    db.execute(
        "CREATE FUNCTION log_book() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO "
        "log VALUES (new.title); RETURN new; END $$");
    db.execute(
        "CREATE TRIGGER book_added AFTER INSERT ON book FOR EACH ROW EXECUTE FUNCTION "
        "log_book()");
    apply(db, "0001", {loom::add_column("book", loom::column<int>("pages").fill(0))});
    CHECK(rows(db, "SELECT * FROM titles ORDER BY 1") ==
          "American Gods\nGood Omens\nSmall Gods\nThe Dispossessed\nThe Wee Free Men\n");
    db.execute("INSERT INTO book (title, year, publisher_id, pages) VALUES ('New', 2020, 1, 9)");
    CHECK(rows(db, "SELECT * FROM log") == "New\n");
    apply_fails(db,
                {loom::add_column("book", loom::column<int>("n").fill(1)),
                 loom::drop_column("book", "title")},
                "migration '0001_bad', operation 2 of 2 (drop column book.title): cannot "
                "drop column title of table book because other objects depend on it: view titles "
                "depends on column title of table book (while running: ALTER TABLE \"book\" DROP "
                "COLUMN \"title\")");
}

TEST_CASE("a table with what loom cannot carry through a rebuild is refused", "[migrate][sqlite]") {
    loom::Database db(test_url());
    db.execute(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, n INTEGER CHECK (n > 0), s TEXT COLLATE NOCASE)");
    db.execute("INSERT INTO t VALUES (1, 1, 'a')");
    apply_fails(db, {loom::drop_column("t", "s")},
                "migration '0001_bad', operation 1 of 1 (drop column t.s): table t has a CHECK "
                "constraint, a COLLATE clause, which loom cannot carry through the rebuild this "
                "change needs; make the change with raw SQL (loom::raw_sql)");
    // What ALTER TABLE does in place still works.
    apply(db, "0001",
          {loom::add_column("t", loom::column<std::optional<int>>("m")),
           loom::rename_column("t", "s", "text")});
    CHECK(rows(db, "SELECT * FROM t") == "1|1|a|NULL\n");
}

TEST_CASE("PostgreSQL: a CHECK, a collation, a default survive in-place changes",
          "[migrate][postgres]") {
    loom::Database db(test_url());
    db.execute(
        "CREATE TABLE t (id bigint PRIMARY KEY, n bigint CHECK (n > 0), s text COLLATE \"C\", "
        "d text NOT NULL DEFAULT 'x')");
    db.execute("INSERT INTO t (id, n, s) VALUES (1, 1, 'a')");
    apply(db, "0001",
          {loom::add_column("t", loom::column<std::optional<int>>("m")),
           loom::rename_column("t", "s", "text"), loom::drop_column("t", "m"),
           loom::alter_column("t", loom::column<std::optional<std::string>>("d"))});
    CHECK(rows(db, "SELECT * FROM t") == "1|1|a|x\n");
    CHECK(columns(db, "t") == "id|bigint|1|1\nn|bigint|0|0\ntext|text|0|0\nd|text|0|0\n");
    CHECK(rows(db,
               "SELECT collation_name FROM information_schema.columns WHERE table_schema = "
               "current_schema() AND table_name = 't' AND column_name = 'text'") == "C\n");
    db.execute("INSERT INTO t (id, n) VALUES (2, 5)");
    CHECK(rows(db, "SELECT d FROM t WHERE id = 2") == "x\n");
    // The CHECK still holds, and a type change it cannot follow fails, changing nothing.
    CHECK_THROWS_AS(db.execute("INSERT INTO t (id, n) VALUES (3, 0)"), loom::ConstraintError);
    apply_fails(db, {loom::alter_column("t", loom::column<std::optional<std::string>>("n"))},
                "migration '0001_bad', operation 1 of 1 (alter column t.n): operator does not "
                "exist: text > integer (while running: ALTER TABLE \"t\" ALTER COLUMN \"n\" TYPE "
                "text USING \"n\"::text)");
}

TEST_CASE("apply inside a transaction refuses a migration that needs foreign keys off",
          "[migrate][sqlite]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Migrations m{{{"0001", {loom::drop_column("book", "year")}}}};
    loom::Transaction tx(db);
    CHECK_THROWS_WITH(m.apply(db),
                      "apply: migration '0001' rebuilds or drops a table, which needs foreign "
                      "keys off, and they cannot be switched inside a transaction: call apply "
                      "outside db.transaction");
    CHECK(foreign_keys_on(db) == 1);
    tx.rollback();
    // An additive migration applies inside one, as a savepoint.
    db.transaction([&] {
        loom::Migrations({{"0001", {loom::add_index("book", {"year"})}}}).apply(db);
    });
    CHECK(loom::Migrations({{"0001", {loom::add_index("book", {"year"})}}}).history(db).size() ==
          1);
}

TEST_CASE("PostgreSQL: a table made by hand is read with its types, keys and actions",
          "[migrate][postgres]") {
    loom::Database db(test_url());
    db.execute(
        "CREATE TABLE legacy (id serial PRIMARY KEY, n integer NOT NULL, r real, t varchar(40), "
        "at timestamptz, d date, j jsonb, u uuid, flag boolean NOT NULL DEFAULT false, b bytea, "
        "parent_id bigint REFERENCES legacy (id) ON DELETE SET NULL, UNIQUE (n, t))");
    db.execute("CREATE INDEX legacy_lower ON legacy (lower(t))");
    db.execute("CREATE INDEX legacy_parent ON legacy (parent_id)");
    db.execute(
        "INSERT INTO legacy (n, r, t, b) VALUES (1, 2.5, 'x', '\\x00ff'), (2, 3, 'y', NULL)");
    // loom's storage classes for PostgreSQL's types; the serial key is auto-assigned; the extra
    // columns may be NULL or have a default, so they are notes.
    const auto r = loom::schema_report<evolved::Legacy>(db);
    CHECK(r.differences.empty());
    CHECK(r.notes == std::vector<std::string>{
                         "legacy.at: in the database, not in the model",
                         "legacy.d: in the database, not in the model",
                         "legacy.j: in the database, not in the model",
                         "legacy.u: in the database, not in the model",
                         "legacy.flag: in the database, not in the model",
                         "legacy: index legacy_lower on () in the database, not in the model"});
    // A model that wants other types, NULL-ness and actions hears it in words.
    db.execute("ALTER TABLE legacy ALTER COLUMN t TYPE bytea USING t::bytea");
    db.execute("ALTER TABLE legacy ALTER COLUMN r SET NOT NULL");
    CHECK(loom::schema_report<evolved::Legacy>(db).differences ==
          std::vector<std::string>{"legacy.r: NULL allowed in the model, NOT NULL in the database",
                                   "legacy.t: TEXT in the model, BLOB in the database"});
    db.execute("ALTER TABLE legacy ALTER COLUMN t TYPE text USING convert_from(t, 'UTF8')");

    // Values that do not convert refuse a type change, changing nothing.
    apply_fails(db, {loom::alter_column("legacy", loom::column<int>("r"))},
                "migration '0001_bad', operation 1 of 1 (alter column legacy.r): legacy.r: row 1 "
                "holds REAL 2.5, which does not convert to INTEGER; convert or fix such rows "
                "first (a data step before this operation)");
    apply_fails(db, {loom::alter_column("legacy", loom::column<std::optional<std::string>>("b"))},
                "migration '0001_bad', operation 1 of 1 (alter column legacy.b): legacy.b: row 1 "
                "holds BLOB X'00FF', which does not convert to TEXT; convert or fix such rows "
                "first (a data step before this operation)");
    apply_fails(db, {loom::alter_column("legacy", loom::column<std::optional<double>>("t"))},
                "migration '0001_bad', operation 1 of 1 (alter column legacy.t): legacy.t: row 1 "
                "holds TEXT 'x', which does not convert to REAL; convert or fix such rows first (a "
                "data step before this operation)");
    // Those that do convert are converted in place; the foreign key's action is kept.
    db.execute("UPDATE legacy SET r = 2 WHERE id = 1");
    apply(db, "0001",
          {loom::alter_column("legacy", loom::column<int>("r")),
           loom::alter_column("legacy", loom::column<std::string>("t"))});
    CHECK(rows(db, "SELECT id, r, t FROM legacy ORDER BY id") == "1|2|x\n2|3|y\n");
    CHECK(columns(db, "legacy").find("r|bigint|1|0\nt|text|1|0\n") != std::string::npos);
    CHECK(foreign_keys(db, "legacy") == "legacy|parent_id|id|SET NULL\n");
    // The UNIQUE constraint PostgreSQL named is dropped by its name.
    apply(db, "0002", {loom::drop_unique("legacy", {"n", "t"})});
    db.execute("INSERT INTO legacy (n, r, t) VALUES (1, 2, 'x')");
    CHECK(rows(db, "SELECT count(*) FROM legacy") == "3\n");
}

TEST_CASE("PostgreSQL: a migration waits for another program's under the history table's lock",
          "[migrate][postgres]") {
    const std::string url = test_url();
    loom::Database first(url);
    loom::Options o;
    o.busy_timeout_ms = 50;
    loom::Database second(url, o);
    first.create_tables<loom::AppliedMigration>();
    const loom::Migrations m{{{"0001", {loom::create_table("t", {loom::primary_key()})}}}};
    {
        // What apply takes first in each migration's transaction: another program applying.
        loom::Transaction tx(first);
        first.execute("LOCK TABLE loom_migrations IN SHARE ROW EXCLUSIVE MODE");
        try {
            m.apply(second);
            FAIL("applied");
        } catch (const loom::BusyError& e) {
            CHECK(std::string(e.what()).find("(while running: LOCK TABLE \"loom_migrations\" IN "
                                             "SHARE ROW EXCLUSIVE MODE)") != std::string::npos);
        }
        CHECK(second.transaction_depth() == 0);
    }
    CHECK(m.history(second).empty());
    CHECK(rows(second,
               "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND "
               "tablename = 't'") == "0\n");
    CHECK(m.apply(second) == std::vector<std::string>{"0001"});
    CHECK(m.apply(first).empty());
}

TEST_CASE("PostgreSQL: apply inside a transaction runs any migration as a savepoint",
          "[migrate][postgres]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Migrations m{{{"0001", {loom::drop_column("book", "year")}}}};
    {
        loom::Transaction tx(db);
        CHECK(m.apply(db) == std::vector<std::string>{"0001"});
        CHECK(columns(db, "book") == "id|bigint|1|1\ntitle|text|1|0\npublisher_id|bigint|1|0\n");
        tx.rollback();
    }
    // Rolled back with the caller's transaction: the column and the history as they were.
    CHECK(columns(db, "book") ==
          "id|bigint|1|1\ntitle|text|1|0\nyear|bigint|1|0\npublisher_id|bigint|1|0\n");
    CHECK(m.history(db).empty());
    CHECK(rows(db, "SELECT * FROM book ORDER BY id") == kBooks);
}

TEST_CASE("adopt records migrations a database already has without running them", "[migrate]") {
    Bookstore s;
    const loom::Migrations m{
        {{"0001_initial", {loom::create_tables<Publisher, Author, Book>()}},
         {"0002_pages", {loom::add_column("book", loom::column<std::optional<int>>("pages"))}}}};
    CHECK_THROWS_WITH(m.apply(s.db),
                      "migration '0001_initial', operation 1 of 1 (create tables publisher, "
                      "author, book, book_authors): table publisher exists already");
    m.adopt(s.db, "0001_initial");
    CHECK(m.apply(s.db) == std::vector<std::string>{"0002_pages"});
    CHECK(rows(s.db, "SELECT count(*) FROM book WHERE pages IS NULL") == "5\n");
    // A history that does not match the list: adopt records nothing.
    const loom::Migrations other{{{"0000_new", {loom::drop_table("x")}},
                                  {"0001_initial", {loom::create_tables<Publisher>()}}}};
    CHECK_THROWS_AS(other.adopt(s.db, "0000_new"), loom::MigrationError);
    CHECK(m.history(s.db).size() == 2);
}

// ---- plan --------------------------------------------------------------------------------------

TEST_CASE("plan returns the statements apply runs, and writes nothing", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Migrations m{{
        {"0001", {loom::add_column("book", loom::column<std::optional<int>>("pages"))}},
        {"0002",
         {loom::rename_column("book", "pages", "page_count"),
          loom::alter_column("book", loom::column<int>("page_count").fill(0)),
          loom::create_table("shelf",
                             {loom::primary_key(), loom::column<std::string>("label").unique(),
                              loom::column<std::optional<std::int64_t>>("book_id").references(
                                  "book", loom::on_delete::set_null)}),
          loom::add_index("shelf", {"book_id"}),
          loom::data_step("nothing", [](loom::Database&) {})}},
    }};
    const std::string before = snapshot(db);
    const auto plan = m.plan(db);
    CHECK(snapshot(db) == before);
    REQUIRE(plan.size() == 2);
    CHECK_FALSE(plan[0].foreign_keys_off);
    CHECK(plan[1].foreign_keys_off == !on_postgres());
    CHECK(plan[1].checksum == m.checksum("0002"));

    std::vector<loom::SqlText> ran;
    // What apply runs besides the plan: reading the schema, switching foreign keys, checking
    // them at the end.
    auto reads = [](std::string_view sql) {
        for (const char* r : {"sqlite_schema", "pragma_table_xinfo", "pragma_foreign_key_list(?)",
                              "pragma_index_list", "pragma_foreign_key_check", "PRAGMA",
                              "pg_catalog.", "LOCK TABLE"})
            if (sql.find(r) != std::string_view::npos) return true;
        return false;
    };
    auto sub = db.on_query([&](const loom::QueryEvent& e) {
        if (e.origin == "migrate" && !reads(e.sql))
            ran.push_back({std::string(e.sql), {e.params.begin(), e.params.end()}});
    });
    m.apply(db);
    std::vector<loom::SqlText> planned;
    for (const auto& p : plan)
        for (const auto& st : p.statements)
            if (st.sql.rfind("--", 0) != 0) planned.push_back(st);
    CHECK(ran == planned);
    CHECK(plan[1].text().rfind("-- 0002 (checksum " + m.checksum("0002") + ")\n" +
                                   on_engine("-- foreign keys off while it runs, all of them "
                                             "checked before COMMIT\n",
                                             "") +
                                   "ALTER TABLE \"book\" RENAME COLUMN \"pages\" "
                                   "TO \"page_count\";\n",
                               0) == 0);
    CHECK(plan[1].text().find("-- data step: nothing (C++, runs when applied)\n") !=
          std::string::npos);
    CHECK(rows(db, "SELECT id, page_count FROM book ORDER BY id") == "1|0\n2|0\n3|0\n4|0\n5|0\n");
}

// ---- the autodetector --------------------------------------------------------------------------

TEST_CASE("diff: additive changes become operations that make check_schema pass", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Diff d = loom::diff<Publisher, evolved::Book, evolved::Shelf>(db);
    CHECK(d.complete());
    CHECK(d.cpp() ==
          "loom::create_table(\"shelf\", {\n"
          "    loom::primary_key(\"id\"),\n"
          "    loom::column<std::string>(\"label\").unique(),\n"
          "    loom::column<std::optional<std::int64_t>>(\"book_id\").references(\"book\", "
          "loom::on_delete::restrict)}),\n"
          "loom::add_index(\"shelf\", {\"book_id\"}),\n"
          "loom::add_column(\"book\", loom::column<std::optional<std::int64_t>>(\"pages\")),\n"
          "loom::add_unique(\"book\", {\"title\", \"year\"}),\n"
          "loom::add_index(\"book\", {\"pages\"})");
    loom::Migrations({{"0002_evolve", d.operations}}).apply(db);
    db.check_schema<Publisher, evolved::Book, evolved::Shelf>();
    CHECK(rows(db, "SELECT id, title, year, pages, publisher_id FROM book ORDER BY id") ==
          "1|The Dispossessed|1974|NULL|1\n2|Good Omens|1990|NULL|1\n3|Small Gods|1992|NULL|1\n"
          "4|American Gods|2001|NULL|2\n5|The Wee Free Men|2003|NULL|2\n");
    CHECK(loom::diff<Publisher, evolved::Book, evolved::Shelf>(db).operations.empty());
}

TEST_CASE("diff: drops, renames, narrowing and NOT NULL only when named", "[migrate]") {
    Bookstore s;
    auto& db = s.db;
    const loom::Diff d = loom::diff<evolved::Renamed, evolved::Author>(db);
    // INTEGER to TEXT keeps every value: it comes without asking.
    CHECK(d.cpp() == "loom::alter_column(\"book\", loom::column<std::string>(\"year\"))");
    CHECK(d.unresolved ==
          std::vector<std::string>{
              "book.name: in the model, not in the database, and book.title is in the database, "
              "not in the model: a rename (DiffOptions::rename {\"book.title\", \"name\"}) or a "
              "new column (DiffOptions::drop {\"book.title\"} drops the old one and its data)?",
              "book.pages: in the model, not in the database, and book.title is in the database, "
              "not in the model: a rename (DiffOptions::rename {\"book.title\", \"pages\"}) or a "
              "new column (DiffOptions::drop {\"book.title\"} drops the old one and its data)?",
              "author.name: INTEGER in the model, TEXT in the database: a value may not convert; "
              "allow it with DiffOptions::change_type {\"author.name\"} (the migration then "
              "fails, changing nothing, if one does not)",
              "author.born: NOT NULL in the model, NULL allowed in the database: say what NULL "
              "becomes with DiffOptions::fill {\"author.born\", value} (nullptr: there is no "
              "NULL; the migration fails if there is)"});

    loom::DiffOptions o;
    o.rename = {{"book.title", "name"}};
    o.fill = {{"book.pages", loom::Value{std::int64_t{0}}},
              {"author.born", loom::Value{std::int64_t{1900}}}};
    o.drop = {"no.such"};
    const loom::Diff r = loom::diff<evolved::Renamed, evolved::Author>(db, o);
    CHECK(r.unresolved ==
          std::vector<std::string>{
              "author.name: INTEGER in the model, TEXT in the database: a value may not convert; "
              "allow it with DiffOptions::change_type {\"author.name\"} (the migration then "
              "fails, changing nothing, if one does not)",
              "DiffOptions::drop {\"no.such\"}: nothing it applies to"});
    CHECK(
        r.cpp() ==
        "loom::rename_column(\"book\", \"title\", \"name\"),\n"
        "loom::add_column(\"book\", loom::column<std::int64_t>(\"pages\").fill(std::int64_t{0})),\n"
        "loom::alter_column(\"book\", loom::column<std::string>(\"year\")),\n"
        "loom::alter_column(\"author\", "
        "loom::column<std::int64_t>(\"born\").fill(std::int64_t{1900}))");
    loom::Migrations({{"0002", r.operations}}).apply(db);
    db.check_schema<evolved::Renamed>();
    CHECK(rows(db, "SELECT id, name, year, pages FROM book ORDER BY id") ==
          "1|The Dispossessed|1974|0\n2|Good Omens|1990|0\n3|Small Gods|1992|0\n"
          "4|American Gods|2001|0\n5|The Wee Free Men|2003|0\n");
    CHECK(rows(db, "SELECT id, born FROM author ORDER BY id") == "1|1929\n2|1948\n3|1900\n");

    // Narrowing allowed: the values convert or the migration fails.
    o = {};
    o.change_type = {"author.name"};
    const loom::Diff n = loom::diff<evolved::Author>(db, o);
    CHECK(n.complete());
    CHECK(n.cpp() == "loom::alter_column(\"author\", loom::column<std::int64_t>(\"name\"))");
    db.execute("DROP TABLE loom_migrations");
    CHECK_THROWS_WITH(loom::Migrations({{"0003", n.operations}}).apply(db),
                      "migration '0003', operation 1 of 1 (alter column author.name): author.name: "
                      "row 1 holds TEXT 'Ursula K. Le Guin', which does not convert to INTEGER; "
                      "convert or fix such rows first (a data step before this operation)");

    // Drop and add instead of a rename, by name.
    o = {};
    o.drop = {"book.name"};
    const loom::Diff x = loom::diff<Book>(db, o);
    CHECK(x.cpp() == "loom::drop_column(\"book\", \"name\")");
    CHECK(x.unresolved ==
          std::vector<std::string>{"book.title: in the model, not in the database, and book.pages "
                                   "is in the database, not in the model: a rename "
                                   "(DiffOptions::rename {\"book.pages\", \"title\"}) or a new "
                                   "column (DiffOptions::drop {\"book.pages\"} drops the old one "
                                   "and its data)?",
                                   "book.year: INTEGER in the model, TEXT in the database: a value "
                                   "may not convert; allow it with DiffOptions::change_type "
                                   "{\"book.year\"} (the migration then fails, changing nothing, "
                                   "if one does not)"});
}

}  // namespace migrate_test
