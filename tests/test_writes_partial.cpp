// Writes (issue 17, "Writes"): partial updates of named columns, bulk_update in one statement
// per batch, and optimistic locking with a loom::version column (the two-copies case fails
// loudly). Each checks the rows in the database and the exact number of statements run.
#include "catch.hpp"
#include "test_db.hpp"

#include <loom/loom.hpp>
#include <loom/testing.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace test_writes_partial {

struct Blog {
    std::int64_t id = 0;
    std::string name;
};

struct Post {
    std::int64_t id = 0;
    std::string title;
    std::string body;
    std::int64_t rating = 0;
    loom::ForeignKey<Blog> blog;
};

// The same table shape with a version column.
struct Doc {
    std::int64_t id = 0;
    std::string title;
    std::string body;
    std::int64_t version = 0;
};

constexpr auto loom_model(loom::model_of<Blog>) {
    return loom::table("blog", loom::pk(&Blog::id), loom::field(&Blog::name, "name"));
}
constexpr auto loom_model(loom::model_of<Post>) {
    return loom::table("post", loom::pk(&Post::id), loom::field(&Post::title, "title"),
                       loom::field(&Post::body, "body"), loom::field(&Post::rating, "rating"),
                       loom::foreign_key(&Post::blog, "blog_id", loom::nullable));
}
constexpr auto loom_model(loom::model_of<Doc>) {
    return loom::table("doc", loom::pk(&Doc::id), loom::field(&Doc::title, "title"),
                       loom::field(&Doc::body, "body"), loom::version(&Doc::version));
}

using Row = std::tuple<std::string, std::string, std::int64_t>;

struct Fixture {
    loom::Database db{test_url()};
    Blog blog{.name = "b"};
    std::vector<Post> posts{{.title = "one", .body = "1", .rating = 1},
                            {.title = "two", .body = "2", .rating = 2},
                            {.title = "three", .body = "3", .rating = 3}};
    Fixture() {
        db.create_tables<Blog, Post, Doc>();
        db.insert(blog);
        db.bulk_insert(posts);
    }
    std::vector<Row> rows() {
        return db.query<Row>("SELECT title, body, rating FROM post ORDER BY id");
    }
};

TEST_CASE("update(obj, members...) writes only the named columns", "[writes][partial]") {
    Fixture f;
    SECTION("the other columns keep what the row holds") {
        Post stale = f.posts[0];
        f.db.execute("UPDATE post SET body = ? WHERE id = ?", "edited elsewhere", stale.id);
        stale.title = "ONE";
        stale.body = "not written";
        loom::ExpectQueries q(f.db, 1);
        f.db.update(stale, &Post::title);
        q.check();
        CHECK(f.rows()[0] == Row{"ONE", "edited elsewhere", 1});
    }
    SECTION("several columns and a foreign key, in one statement") {
        std::vector<std::string> seen;
        auto sub = f.db.on_query([&](const loom::QueryEvent& e) { seen.emplace_back(e.sql); });
        f.posts[1].rating = 20;
        f.posts[1].blog = f.blog;
        f.db.update(f.posts[1], &Post::rating, &Post::blog);
        CHECK(seen ==
              std::vector<std::string>{"UPDATE \"post\" SET \"rating\" = ?, \"blog_id\" = ? "
                                       "WHERE \"id\" = ?"});
        CHECK(f.db.query<std::int64_t>("SELECT blog_id FROM post WHERE id = ?", f.posts[1].id) ==
              std::vector<std::int64_t>{f.blog.id});
        CHECK(f.rows()[1] == Row{"two", "2", 20});
    }
    SECTION("a row that is gone is DoesNotExist, and nothing is written") {
        Post gone = f.posts[2];
        f.db.remove(f.posts[2]);
        gone.title = "x";
        CHECK_THROWS_WITH(f.db.update(gone, &Post::title),
                          "update: no Post with \"id\" = 3 (insert it first, or use save)");
        CHECK(f.rows().size() == 2);
    }
    SECTION("the primary key and relations without a column are refused before any query") {
        f.db.reset_query_count();
        CHECK_THROWS_WITH(f.db.update(f.posts[0], &Post::id),
                          "update: the primary key of Post cannot be updated; insert a new row "
                          "instead");
        CHECK(f.db.query_count() == 0);
    }
    SECTION("a foreign key to no row names the key") {
        f.posts[0].blog = std::int64_t{99};
        CHECK_THROWS_WITH(f.db.update(f.posts[0], &Post::blog),
                          Catch::Contains("Post.blog_id = 99 matches no Blog"));
        CHECK(f.db.query<std::int64_t>("SELECT count(*) FROM post WHERE blog_id IS NULL") ==
              std::vector<std::int64_t>{3});
    }
}

TEST_CASE("bulk_update writes the named columns with one statement per batch",
          "[writes][partial]") {
    Fixture f;
    for (auto& p : f.posts) {
        p.title += "!";
        p.rating *= 10;
        p.body = "not written";
    }
    SECTION("one UPDATE inside one transaction") {
        std::vector<std::string> seen;
        auto sub = f.db.on_query([&](const loom::QueryEvent& e) { seen.emplace_back(e.sql); });
        CHECK(f.db.bulk_update(f.posts, &Post::title, &Post::rating) == 3);
        REQUIRE(seen.size() == 3);
        CHECK(seen[0] == "BEGIN");
        // PostgreSQL types a CASE by its values (NULLs alone would be text): each value is
        // cast to its column's type there.
        const std::string text = on_engine("?", "CAST(? AS text)");
        const std::string integer = on_engine("?", "CAST(? AS bigint)");
        CHECK(seen[1] == "UPDATE \"post\" SET \"title\" = CASE \"id\" WHEN ? THEN " + text +
                             " WHEN ? THEN " + text + " WHEN ? THEN " + text +
                             " END, \"rating\" = CASE \"id\" WHEN ? THEN " + integer +
                             " WHEN ? THEN " + integer + " WHEN ? THEN " + integer +
                             " END WHERE \"id\" IN (?, ?, ?)");
        CHECK(seen[2] == "COMMIT");
        CHECK(f.rows() ==
              std::vector<Row>{{"one!", "1", 10}, {"two!", "2", 20}, {"three!", "3", 30}});
    }
    SECTION("batches follow the variable limit: 2 objects of 5 parameters fit in 11") {
        f.db.set_variable_limit(11);
        loom::ExpectQueries q(f.db, 4);  // BEGIN, 2 UPDATEs, COMMIT
        CHECK(f.db.bulk_update(f.posts, &Post::title, &Post::rating) == 3);
        q.check();
        CHECK(f.rows()[2] == Row{"three!", "3", 30});
    }
    SECTION("a row that is gone is skipped and not counted") {
        f.db.execute("DELETE FROM post WHERE id = ?", f.posts[1].id);
        CHECK(f.db.bulk_update(f.posts, &Post::rating) == 2);
        CHECK(f.rows() == std::vector<Row>{{"one", "1", 10}, {"three", "3", 30}});
    }
    SECTION("an error rolls every batch back") {
        f.db.set_variable_limit(5);  // one object (5 parameters) per statement
        f.posts[2].blog = std::int64_t{99};
        loom::ExpectQueries q(f.db, 5);  // BEGIN, 3 UPDATEs (the last fails), ROLLBACK
        CHECK_THROWS_AS(f.db.bulk_update(f.posts, &Post::rating, &Post::blog),
                        loom::ConstraintError);
        q.check();
        CHECK(f.rows() == std::vector<Row>{{"one", "1", 1}, {"two", "2", 2}, {"three", "3", 3}});
    }
    SECTION("no objects, no query") {
        std::vector<Post> none;
        loom::ExpectQueries q(f.db, 0);
        CHECK(f.db.bulk_update(none, &Post::rating) == 0);
        q.check();
    }
}

TEST_CASE("optimistic locking: update and remove check and bump loom::version",
          "[writes][locking]") {
    loom::Database db(test_url());
    db.create_tables<Doc>();
    Doc doc{.title = "draft", .body = "text"};
    db.insert(doc);
    CHECK(doc.version == 0);

    SECTION("update bumps the version in the row and in the object") {
        doc.title = "final";
        loom::ExpectQueries q(db, 1);
        db.update(doc);
        q.check();
        CHECK(doc.version == 1);
        CHECK(db.query<std::int64_t>("SELECT version FROM doc") == std::vector<std::int64_t>{1});
        db.update(doc, &Doc::title);
        CHECK(doc.version == 2);
        CHECK(db.objects<Doc>().get().version == 2);
    }
    SECTION("two copies of one row, each editing one field: the second fails loudly") {
        Doc a = db.objects<Doc>().get();
        Doc b = db.objects<Doc>().get();
        a.title = "title by a";
        db.update(a);
        b.body = "body by b";
        loom::ExpectQueries q(db, 2);  // the UPDATE that matched nothing, the check for the row
        CHECK_THROWS_AS(db.update(b), loom::ConflictError);
        q.check();
        CHECK_THROWS_WITH(db.update(b, &Doc::body),
                          "update: Doc id=1 was changed by another writer since it was read (its "
                          "version is no longer 0); nothing was written: read it again and "
                          "reapply the change");
        CHECK(b.version == 0);
        const Doc now = db.objects<Doc>().get();
        CHECK(now.title == "title by a");  // a's edit is kept
        CHECK(now.body == "text");         // b's was not written over it
        CHECK(now.version == 1);
        // Reading again and reapplying works.
        Doc c = db.objects<Doc>().get();
        c.body = "body by b";
        db.update(c);
        CHECK(db.objects<Doc>().get().body == "body by b");
    }
    SECTION("remove of a stale copy is a ConflictError and the row stays") {
        Doc stale = doc;
        doc.title = "changed";
        db.update(doc);
        CHECK_THROWS_AS(db.remove(stale), loom::ConflictError);
        CHECK(db.objects<Doc>().count() == 1);
        CHECK(db.remove(doc));
        CHECK(db.objects<Doc>().count() == 0);
    }
    SECTION("a row that is gone is still DoesNotExist for update, false for remove") {
        Doc copy = doc;
        db.remove(doc);
        CHECK_THROWS_AS(db.update(copy), loom::DoesNotExist);
        CHECK_FALSE(db.remove(copy));
    }
    SECTION("save updates at the version, or inserts a row that is gone") {
        doc.body = "saved";
        db.save(doc);
        CHECK(doc.version == 1);
        Doc stale = db.objects<Doc>().get();
        stale.version = 0;
        CHECK_THROWS_AS(db.save(stale), loom::ConflictError);
    }
    SECTION("bulk_update checks every version and writes nothing on a conflict") {
        Doc second{.title = "second", .body = "2"};
        db.insert(second);
        std::vector<Doc> docs = db.objects<Doc>().order_by(loom::asc(&Doc::id)).to_vector();
        Doc other = docs[1];
        other.body = "changed elsewhere";
        db.update(other);
        for (auto& d : docs) d.title += "!";
        CHECK_THROWS_WITH(db.bulk_update(docs, &Doc::title),
                          Catch::Contains("1 of 2 Doc rows were changed or removed by another "
                                          "writer"));
        CHECK(db.query<std::string>("SELECT title FROM doc ORDER BY id") ==
              std::vector<std::string>{"draft", "second"});
        CHECK(docs[0].version == 0);
        docs[1] = db.objects<Doc>().get(docs[1].id);
        docs[1].title = "second!";
        CHECK(db.bulk_update(docs, &Doc::title) == 2);
        CHECK(docs[0].version == 1);
        CHECK(docs[1].version == 2);
    }
    SECTION("the version column is not named in a partial update") {
        CHECK_THROWS_WITH(db.update(doc, &Doc::version),
                          "update: Doc::version is the loom::version column: loom bumps it; leave "
                          "it out");
    }
}

}  // namespace test_writes_partial
