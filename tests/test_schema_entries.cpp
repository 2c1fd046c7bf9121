// Schema in descriptors: composite UNIQUE constraints and indexes, CHECK constraints, column
// DEFAULTs honoured by the DDL and by insert, auto_now_add / auto_now timestamps, and what
// check_schema sees of them. Each test reads the real schema or rows back.
#include "catch.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/migrate.hpp>
#include <loom/testing.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace test_schema_entries {

enum class Level { low = 1, high = 2 };

struct Member {
    std::int64_t id = 0;
    std::string name;
};

struct Note {
    std::int64_t id = 0;
    loom::ForeignKey<Member> author;
    std::string title;
    std::string status = "draft";
    std::optional<std::int64_t> stock;  // never set: the DEFAULT 10
    std::optional<std::string> label;   // never set: the DEFAULT 'it''s new'
    std::optional<Level> level;         // never set: the DEFAULT 2 (Level::high)
    std::optional<double> weight;       // never set: the DEFAULT 1.5
    int rating = 0;
    std::chrono::sys_time<std::chrono::microseconds> created_at;
    std::chrono::sys_time<std::chrono::microseconds> updated_at;
};

constexpr auto loom_model(loom::model_of<Member>) {
    return loom::table("member", loom::pk(&Member::id), loom::field(&Member::name, "name"));
}

constexpr auto loom_model(loom::model_of<Note>) {
    return loom::table("note", loom::pk(&Note::id),
                       loom::foreign_key(&Note::author, "author_id", loom::on_delete::cascade),
                       loom::field(&Note::title, "title"),
                       loom::field(&Note::status, "status", loom::default_value("draft")),
                       loom::field(&Note::stock, "stock", loom::default_value(10)),
                       loom::field(&Note::label, "label", loom::default_value("it's new")),
                       loom::field(&Note::level, "level", loom::default_value(Level::high)),
                       loom::field(&Note::weight, "weight", loom::default_value(1.5)),
                       loom::field(&Note::rating, "rating"),
                       loom::field(&Note::created_at, "created_at", loom::auto_now_add),
                       loom::field(&Note::updated_at, "updated_at", loom::auto_now))
        .unique_together(&Note::author, &Note::title)
        .index(&Note::created_at, &Note::status)
        .check("rating_range", "rating BETWEEN 0 AND 5")
        .check("status_known", "status IN ('draft', 'published')");
}

using loom_test::message_of;

using loom_test::has;

std::string table_sql(loom::Database& db, const std::string& name);

bool db_has_index(loom::Database& db, const std::string& name) {
    return db.query<std::int64_t>(
               "SELECT count(*) FROM pg_indexes WHERE schemaname = "
               "current_schema() AND indexname = ?",
               name)[0] == 1;
}

struct Fixture {
    loom::Database db{test_url()};
    Member ann{0, "ann"};
    Fixture() {
        db.create_tables<Member, Note>();
        db.insert(ann);
    }
    Note note(std::string title) {
        Note n;
        n.author = ann;
        n.title = std::move(title);
        return n;
    }
};

using loom::col;
using namespace std::chrono;

/// The CREATE statement of a table or index as the database keeps it (SQLite), or as loom ran
/// it (PostgreSQL keeps no statement text).
std::string table_sql(loom::Database& db, const std::string& name) {
    if (on_postgres()) {
        for (std::string s : db.schema_sql<Member, Note>()) {
            const auto at = s.find("IF NOT EXISTS ");
            if (at != std::string::npos) s.erase(at, 14);
            if (has(s, "\"" + name + "\" (") || has(s, "\"" + name + "\" ON")) return s;
        }
        FAIL("no statement for " << name);
    }
    const auto rows =
        db.query<loom::ResultRow>("SELECT sql FROM sqlite_schema WHERE name = ?", name);
    REQUIRE(rows.size() == 1);
    return std::get<std::string>(rows[0][0]);
}

TEST_CASE("Schema entries: the DDL has the defaults, constraints and indexes", "[schema]") {
    Fixture t;
    const std::string sql = table_sql(t.db, "note");
    INFO(sql);
    const std::string text = on_engine("TEXT", "text"), integer = on_engine("INTEGER", "bigint");
    CHECK(has(sql, "\"status\" " + text + " NOT NULL DEFAULT 'draft'"));
    CHECK(has(sql, "\"stock\" " + integer + " DEFAULT 10"));
    CHECK(has(sql, "\"label\" " + text + " DEFAULT 'it''s new'"));
    CHECK(has(sql, "\"level\" " + integer + " DEFAULT 2"));
    CHECK(has(sql, "\"weight\" " + on_engine("REAL", "double precision") + " DEFAULT 1.5"));
    CHECK(has(sql, "UNIQUE (\"author_id\", \"title\")"));
    CHECK(has(sql, "CONSTRAINT \"rating_range\" CHECK (rating BETWEEN 0 AND 5)"));
    CHECK(has(sql, "CONSTRAINT \"status_known\" CHECK (status IN ('draft', 'published'))"));
    CHECK(table_sql(t.db, "note_created_at_status_idx") ==
          "CREATE INDEX \"note_created_at_status_idx\" ON \"note\" (\"created_at\", \"status\")");
    if (on_postgres()) {  // the index exists; the plan is SQLite's
        CHECK(db_has_index(t.db, "note_created_at_status_idx"));
        CHECK_NOTHROW(t.db.check_schema<Member, Note>());
        return;
    }
    // The composite index serves a filter on its leading column.
    const auto plan = t.db.query<loom::ResultRow>(
        "EXPLAIN QUERY PLAN SELECT id FROM note WHERE created_at > '2024' AND status = 'x'");
    REQUIRE(!plan.empty());
    CHECK(has(std::get<std::string>(plan[0][3]), "note_created_at_status_idx"));
    // The model and the database agree.
    CHECK_NOTHROW(t.db.check_schema<Member, Note>());
}

TEST_CASE("Schema entries: insert writes a column's DEFAULT for a member never set",
          "[schema][default]") {
    Fixture t;
    Note n = t.note("first");
    loom::expect_queries(t.db, 1, [&] { t.db.insert(n); });
    // The object says what the row holds.
    CHECK(n.stock == 10);
    CHECK(n.label == "it's new");
    CHECK(n.level == Level::high);
    CHECK(n.weight == 1.5);
    const Note back = t.db.objects<Note>().get();
    CHECK(back.stock == 10);
    CHECK(back.label == "it's new");
    CHECK(back.level == Level::high);
    CHECK(back.weight == 1.5);

    // A value that was set is kept, zero included.
    Note m = t.note("second");
    m.stock = 0;
    m.label = "";
    t.db.insert(m);
    const Note m2 = t.db.objects<Note>().get(col(&Note::title) == "second");
    CHECK(m2.stock == 0);
    CHECK(m2.label == "");

    // The DDL DEFAULT serves inserts that leave the column out (raw SQL, other tools).
    t.db.execute(
        "INSERT INTO note (author_id, title, rating, created_at, updated_at) VALUES "
        "(?, 'raw', 1, '2024-01-01 00:00:00.000000', '2024-01-01 00:00:00.000000')",
        t.ann.id);
    const Note raw = t.db.objects<Note>().get(col(&Note::title) == "raw");
    CHECK(raw.status == "draft");
    CHECK(raw.stock == 10);
    CHECK(raw.level == Level::high);

    // After insert, the member can be set to NULL by update like any other.
    m.stock = std::nullopt;
    t.db.update(m);
    CHECK_FALSE(t.db.objects<Note>().get(col(&Note::title) == "second").stock.has_value());
}

TEST_CASE("Schema entries: auto_now_add is set by insert, auto_now by insert and update",
          "[schema][auto_now]") {
    Fixture t;
    const auto before = floor<microseconds>(system_clock::now());
    Note n = t.note("timed");
    t.db.insert(n);
    const auto after = floor<microseconds>(system_clock::now());
    CHECK(n.created_at >= before);
    CHECK(n.created_at <= after);
    CHECK(n.updated_at == n.created_at);  // one instant for both
    const Note back = t.db.objects<Note>().get();
    CHECK(back.created_at == n.created_at);
    CHECK(back.updated_at == n.updated_at);

    // update sets auto_now (whatever the object held) and leaves auto_now_add alone.
    const auto created = n.created_at;
    n.updated_at = sys_days(year(2000) / 1 / 1);
    n.created_at = sys_days(year(2000) / 1 / 1);  // not written back as "now"...
    n.rating = 3;
    loom::expect_queries(t.db, 1, [&] { t.db.update(n); });
    CHECK(n.updated_at >= created);
    const Note after_update = t.db.objects<Note>().get();
    CHECK(after_update.updated_at == n.updated_at);
    // ...but written as the object holds it: update writes every column.
    CHECK(after_update.created_at == sys_days(year(2000) / 1 / 1));
    CHECK(after_update.rating == 3);

    // save() of an existing row is an update.
    n.updated_at = sys_days(year(2000) / 1 / 1);
    t.db.save(n);
    CHECK(n.updated_at >= created);
}

TEST_CASE("Schema entries: the constraints are enforced and nothing is written",
          "[schema][bad_input]") {
    Fixture t;
    Note a = t.note("same");
    t.db.insert(a);

    SECTION("unique_together") {
        Note b = t.note("same");
        const auto msg = message_of<loom::ConstraintError>([&] { t.db.insert(b); });
        CHECK(has(msg, on_engine("UNIQUE constraint failed: note.author_id, note.title",
                                 "duplicate key value violates unique constraint "
                                 "\"note_author_id_title_key\": Key (author_id, title)=(1, "
                                 "same) already exists.")));
        CHECK(b.id == 0);
        // Another author may use the title.
        Member bob{0, "bob"};
        t.db.insert(bob);
        Note c = t.note("same");
        c.author = bob;
        t.db.insert(c);
        CHECK(t.db.objects<Note>().count() == 2);
    }
    SECTION("a CHECK, by its name") {
        Note b = t.note("rated");
        b.rating = 6;
        try {
            t.db.insert(b);
            FAIL("no exception");
        } catch (const loom::ConstraintError& e) {
            CHECK(e.kind() == loom::ConstraintError::Kind::check);
            CHECK(has(e.what(), "rating_range"));
        }
        a.status = "archived";
        CHECK(has(message_of<loom::ConstraintError>([&] { t.db.update(a); }), "status_known"));
        CHECK(t.db.objects<Note>().count() == 1);
        CHECK(t.db.objects<Note>().get().status == "draft");
    }
}

TEST_CASE("Schema entries: check_schema sees a missing composite index and UNIQUE",
          "[schema][migrate]") {
    loom::Database db(test_url());
    db.create_tables<Member>();
    // The table as it was before the descriptor gained its index and unique_together.
    db.execute(on_engine(
        "CREATE TABLE note (id INTEGER PRIMARY KEY AUTOINCREMENT, author_id INTEGER NOT "
        "NULL REFERENCES member (id) ON DELETE CASCADE, title TEXT NOT NULL, status TEXT "
        "NOT NULL DEFAULT 'draft', stock INTEGER DEFAULT 10, label TEXT DEFAULT 'x', "
        "level INTEGER, weight REAL, rating INTEGER NOT NULL, created_at TEXT NOT NULL, "
        "updated_at TEXT NOT NULL)",
        "CREATE TABLE note (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, author_id "
        "bigint NOT NULL REFERENCES member (id) ON DELETE CASCADE, title text NOT NULL, status "
        "text NOT NULL DEFAULT 'draft', stock bigint DEFAULT 10, label text DEFAULT 'x', level "
        "bigint, weight double precision, rating bigint NOT NULL, created_at timestamptz NOT "
        "NULL, updated_at timestamptz NOT NULL)"));
    db.execute("CREATE INDEX note_author_id_idx ON note (author_id)");
    const auto report = loom::schema_report<Member, Note>(db);
    std::string all;
    for (const auto& d : report.differences) all += d + "\n";
    INFO(all);
    CHECK(has(all, "note: UNIQUE (author_id, title) in the model, not in the database"));
    CHECK(has(all, "note: index on (created_at, status) in the model, not in the database"));
    CHECK(report.differences.size() == 2);  // CHECKs and DEFAULTs are not compared
}

}  // namespace test_schema_entries
