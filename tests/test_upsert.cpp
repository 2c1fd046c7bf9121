// Upserts (issue 17, "Writes"): upsert, get_or_create and update_or_create returning {object,
// created}, bulk_insert with loom::on_conflict_ignore / on_conflict_update, all through
// INSERT ... ON CONFLICT (engine-neutral), and race-safe under concurrent writers (threads,
// each with its own Database on one WAL file). Exact query counts throughout.
#include "catch.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/testing.hpp>

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace test_upsert {

struct Tag {
    std::int64_t id = 0;
    std::string name;
    std::int64_t uses = 0;
};

struct Setting {
    std::string key;  // a text primary key
    std::string value;
};

// No UNIQUE constraint on name: a conflict on it cannot be detected.
struct Note {
    std::int64_t id = 0;
    std::string name;
};

// Optimistic locking: a loom::version column.
struct Page {
    std::int64_t id = 0;
    std::string slug;
    std::string body;
    std::int64_t version = 0;
};

constexpr auto loom_model(loom::model_of<Page>) {
    return loom::table("page", loom::pk(&Page::id), loom::field(&Page::slug, "slug", loom::unique),
                       loom::field(&Page::body, "body"), loom::version(&Page::version));
}
constexpr auto loom_model(loom::model_of<Tag>) {
    return loom::table("tag", loom::pk(&Tag::id), loom::field(&Tag::name, "name", loom::unique),
                       loom::field(&Tag::uses, "uses"));
}
constexpr auto loom_model(loom::model_of<Setting>) {
    return loom::table("setting", loom::pk(&Setting::key, "key"),
                       loom::field(&Setting::value, "value"));
}
constexpr auto loom_model(loom::model_of<Note>) {
    return loom::table("note", loom::pk(&Note::id), loom::field(&Note::name, "name"));
}

using loom_test::TempFile;

using Pair = std::tuple<std::string, std::int64_t>;

TEST_CASE("get_or_create returns the row, or inserts it", "[writes][upsert]") {
    loom::Database db(test_url());
    db.create_tables<Tag, Setting, Note>();

    auto [made, created] = loom::expect_queries(
        db, 2, [&] { return db.get_or_create(Tag{.name = "c++"}, &Tag::name); });
    CHECK(created);
    CHECK(made.id == 1);
    auto [found, again] = loom::expect_queries(
        db, 1, [&] { return db.get_or_create(Tag{.name = "c++", .uses = 9}, &Tag::name); });
    CHECK_FALSE(again);
    CHECK(found.id == 1);
    CHECK(found.uses == 0);  // the row as it is, not the prototype
    CHECK(db.objects<Tag>().count() == 1);

    SECTION("by primary key, with a text key") {
        auto [s, c] = db.get_or_create(Setting{.key = "theme", .value = "dark"});
        CHECK(c);
        auto [s2, c2] = db.get_or_create(Setting{.key = "theme", .value = "light"});
        CHECK_FALSE(c2);
        CHECK(s2.value == "dark");
    }
    SECTION("lookup columns without a UNIQUE constraint are refused, and nothing is written") {
        CHECK_THROWS_WITH(db.get_or_create(Note{.name = "n"}, &Note::name),
                          "get_or_create: the columns (\"name\") of Note are not a UNIQUE "
                          "constraint (declare them loom::unique or unique_together), so a "
                          "conflict on them cannot be detected");
        CHECK(db.objects<Note>().count() == 0);
    }
}

TEST_CASE("update_or_create and upsert write the other columns of an existing row",
          "[writes][upsert]") {
    loom::Database db(test_url());
    db.create_tables<Tag, Setting>();

    auto [t, created] = loom::expect_queries(db, 4, [&] {  // BEGIN, SELECT, INSERT, COMMIT
        return db.update_or_create(Tag{.name = "sql", .uses = 1}, &Tag::name);
    });
    CHECK(created);
    auto [t2, created2] = loom::expect_queries(
        db, 4, [&] { return db.update_or_create(Tag{.name = "sql", .uses = 5}, &Tag::name); });
    CHECK_FALSE(created2);
    CHECK(t2.id == t.id);  // the existing row's key
    CHECK(db.query<Pair>("SELECT name, uses FROM tag") == std::vector<Pair>{{"sql", 5}});

    SECTION("upsert: one statement") {
        Tag u{.name = "sql", .uses = 7};
        std::vector<std::string> seen;
        auto sub = db.on_query([&](const loom::QueryEvent& e) { seen.emplace_back(e.sql); });
        db.upsert(u, &Tag::name);
        CHECK(seen ==
              std::vector<std::string>{
                  "INSERT INTO \"tag\" (\"name\", \"uses\") VALUES (?, ?) ON CONFLICT "
                  "(\"name\") DO UPDATE SET \"uses\" = excluded.\"uses\" RETURNING \"id\""});
        CHECK(u.id == t.id);
        CHECK(db.query<Pair>("SELECT name, uses FROM tag") == std::vector<Pair>{{"sql", 7}});
        Tag fresh{.name = "new", .uses = 1};
        db.upsert(fresh, &Tag::name);
        // (AUTOINCREMENT spends a key on every attempt, so keys are read back, not guessed.)
        CHECK(fresh.id == db.query<std::int64_t>("SELECT id FROM tag WHERE name = ?", "new").at(0));
        CHECK(fresh.id != t.id);
    }
    SECTION("upsert on a text primary key") {
        Setting s{.key = "lang", .value = "en"};
        db.upsert(s);
        s.value = "fr";
        db.upsert(s);
        CHECK(db.objects<Setting>().get("lang").value == "fr");
        CHECK(db.objects<Setting>().count() == 1);
    }
}

TEST_CASE("upserts of a versioned model bump the version; the object carries the stored one",
          "[writes][upsert]") {
    loom::Database db(test_url());
    db.create_tables<Page>();
    using Row = std::tuple<std::string, std::string, std::int64_t>;
    auto rows = [&] { return db.query<Row>("SELECT slug, body, version FROM page ORDER BY id"); };

    // Insert: the version as insert writes it (the object's, 0 for a new one).
    auto [page, created] = db.update_or_create(Page{.slug = "home", .body = "v1"}, &Page::slug);
    CHECK(created);
    CHECK(page.version == 0);
    Page stale = db.objects<Page>().get(page.id);  // read at version 0

    SECTION("update_or_create: the update branch bumps the row's version") {
        auto [again, made] = loom::expect_queries(db, 4, [&] {
            return db.update_or_create(Page{.slug = "home", .body = "v2"}, &Page::slug);
        });
        CHECK_FALSE(made);
        CHECK(again.id == page.id);
        CHECK(again.version == 1);
        CHECK(rows() == std::vector<Row>{{"home", "v2", 1}});
        // The object returned can be updated; the copy read before is stale.
        again.body = "v3";
        db.update(again);
        CHECK(again.version == 2);
        stale.body = "lost";
        CHECK_THROWS_AS(db.update(stale), loom::ConflictError);
        CHECK(rows() == std::vector<Row>{{"home", "v3", 2}});
    }
    SECTION("upsert: one statement that bumps and returns the version") {
        loom_test::SqlLog log(db);
        Page u{.slug = "home", .body = "v2", .version = 7};  // the prototype's version is ignored
        db.upsert(u, &Page::slug);
        CHECK(log.sql ==
              std::vector<std::string>{
                  "INSERT INTO \"page\" (\"slug\", \"body\", \"version\") VALUES (?, ?, ?) ON "
                  "CONFLICT (\"slug\") DO UPDATE SET \"body\" = excluded.\"body\", "
                  "\"version\" = \"page\".\"version\" + 1 RETURNING \"id\", \"version\""});
        CHECK(u.id == page.id);
        CHECK(u.version == 1);
        CHECK(rows() == std::vector<Row>{{"home", "v2", 1}});
        u.body = "v3";
        db.update(u);
        CHECK(rows() == std::vector<Row>{{"home", "v3", 2}});
        CHECK_THROWS_AS(db.remove(stale), loom::ConflictError);

        Page fresh{.slug = "about", .body = "a"};
        db.upsert(fresh, &Page::slug);  // the insert branch
        CHECK(fresh.version == 0);
        CHECK(rows() == std::vector<Row>{{"home", "v3", 2}, {"about", "a", 0}});
    }
    SECTION("bulk_insert with on_conflict_update bumps each updated row") {
        std::vector<Page> pages{{.slug = "home", .body = "b"}, {.slug = "new", .body = "n"}};
        CHECK(db.bulk_insert(pages, loom::on_conflict_update(&Page::slug)) == 2);
        CHECK(pages[0].version == 1);
        CHECK(pages[1].version == 0);
        CHECK(rows() == std::vector<Row>{{"home", "b", 1}, {"new", "n", 0}});
        db.update(pages[0]);
        CHECK(pages[0].version == 2);
    }
    SECTION("get_or_create returns the stored version, and does not bump it") {
        db.update(page);  // version 1
        auto [got, made] = db.get_or_create(Page{.slug = "home"}, &Page::slug);
        CHECK_FALSE(made);
        CHECK(got.version == 1);
        CHECK(rows() == std::vector<Row>{{"home", "v1", 1}});
    }
}

TEST_CASE("bulk_insert with on_conflict_ignore and on_conflict_update", "[writes][upsert]") {
    loom::Database db(test_url());
    db.create_tables<Tag>();
    Tag first{.name = "a", .uses = 1};
    db.insert(first);

    SECTION("ignore: duplicates are skipped and keep key 0") {
        std::vector<Tag> tags{{.name = "a", .uses = 9}, {.name = "b", .uses = 2}};
        const auto n = loom::expect_queries(
            db, 4, [&] { return db.bulk_insert(tags, loom::on_conflict_ignore); });
        CHECK(n == 1);
        CHECK(tags[0].id == 0);
        CHECK(tags[1].id == db.query<std::int64_t>("SELECT id FROM tag WHERE name = ?", "b").at(0));
        CHECK(db.query<Pair>("SELECT name, uses FROM tag ORDER BY id") ==
              std::vector<Pair>{{"a", 1}, {"b", 2}});
    }
    SECTION("update: existing rows take the new values, every object gets its row's key") {
        std::vector<Tag> tags{{.name = "a", .uses = 9}, {.name = "b", .uses = 2}};
        const auto n = db.bulk_insert(tags, loom::on_conflict_update(&Tag::name));
        CHECK(n == 2);
        CHECK(tags[0].id == first.id);
        CHECK(tags[1].id == db.query<std::int64_t>("SELECT id FROM tag WHERE name = ?", "b").at(0));
        CHECK(db.query<Pair>("SELECT name, uses FROM tag ORDER BY id") ==
              std::vector<Pair>{{"a", 9}, {"b", 2}});
    }
    SECTION("an error writes nothing and restores the keys") {
        std::vector<Tag> tags{{.name = "c", .uses = 1}, {.id = 1, .name = "d", .uses = 1}};
        // The second conflicts on the primary key, which is not the target: a ConstraintError.
        CHECK_THROWS_AS(db.bulk_insert(tags, loom::on_conflict_update(&Tag::name)),
                        loom::ConstraintError);
        CHECK(tags[0].id == 0);
        CHECK(db.objects<Tag>().count() == 1);
    }
}

TEST_CASE("get_or_create and update_or_create are race-safe across connections",
          "[writes][upsert][threads]") {
    const TempFile file("race");
    {
        loom::Database db(file.path, loom::Options{.wal = true});
        db.create_tables<Tag>();
    }
    constexpr int threads = 4, rounds = 25, names = 5;
    std::atomic<int> created{0}, updated_new{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
        pool.emplace_back([&, t] {
            try {
                loom::Database db(file.path, loom::Options{.wal = true});
                for (int r = 0; r < rounds; ++r) {
                    const std::string name = std::string("tag") + std::to_string(r % names);
                    auto got = db.get_or_create(Tag{.name = name}, &Tag::name);
                    if (got.created) ++created;
                    if (got.object.id == 0 || got.object.name != name) failed = true;
                    auto up = db.update_or_create(
                        Tag{.name = std::string("u") + std::to_string(r % names), .uses = t},
                        &Tag::name);
                    if (up.created) ++updated_new;
                }
            } catch (...) {
                failed = true;
            }
        });
    for (auto& th : pool) th.join();
    CHECK_FALSE(failed);
    CHECK(created == names);      // each name created by exactly one call
    CHECK(updated_new == names);  // likewise for update_or_create
    loom::Database db(file.path);
    CHECK(db.query<std::int64_t>("SELECT count(*) FROM tag").front() == 2 * names);
}

}  // namespace test_upsert
