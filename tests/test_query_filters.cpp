// The query language, filters (issue 16): NULL done right, every comparison between columns,
// expressions (Django's F) in filter/order_by/values_list/update, filters across to-many
// relations (EXISTS, Django's same-filter-call rule), case-insensitive text tests, get/find by
// primary key and NULLS FIRST/LAST; each against the forum of tests/forum.hpp with the exact
// rows and the exact number of statements.
#include "catch.hpp"
#include "forum.hpp"
#include "models.hpp"
#include "support.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace query_filters {

using namespace forum;
using loom::asc;
using loom::col;
using loom::desc;
using Titles = std::vector<std::string>;
using Names = std::vector<std::string>;

using loom_test::has;

std::size_t occurrences_of(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto p = text.find(part); p != std::string::npos; p = text.find(part, p + 1)) ++n;
    return n;
}

// ---- NULL --------------------------------------------------------------------------------------

TEST_CASE("NULL: != keeps the NULL rows, as exclude() does", "[query][null]") {
    Board b;
    SECTION("a nullable column") {
        auto qs = b.users().filter(col(&User::karma) != 3);
        CHECK(b.run(qs) == Names{"alice", "bob", "dave"});
        CHECK(b.run(b.users().exclude(col(&User::karma) == 3)) == Names{"alice", "bob", "dave"});
        CHECK(qs.sql().sql ==
              "SELECT t0.\"id\", t0.\"name\", t0.\"karma\" FROM \"forum_user\" AS t0 WHERE "
              "((t0.\"karma\" <> ? OR t0.\"karma\" IS NULL)) ORDER BY t0.\"id\" ASC");
        CHECK(qs.sql().params == std::vector<loom::Value>{std::int64_t{3}});
    }
    SECTION("a column that is never NULL stays a plain <>") {
        auto qs = b.posts().filter(col(&Post::views) != 100);
        CHECK(b.run(qs) == Titles{T, R, S, D});
        CHECK(has(qs.sql().sql, "WHERE (t0.\"views\" <> ?)"));
    }
    SECTION("a nullable ForeignKey, and a column through it") {
        CHECK(b.run(b.posts().filter(col(&Post::category) != b.f.rust_cat)) == Titles{T, S, D});
        CHECK(b.run(b.posts().filter(col(&Post::category, &Category::name) != "Rust")) ==
              Titles{T, S, D});
    }
    SECTION("!(a != b) is a == b again") {
        CHECK(b.run(b.users().filter(!(col(&User::karma) != 3))) == Names{"carol"});
    }
}

TEST_CASE("NULL: std::nullopt, std::optional values and NULL keys", "[query][null]") {
    Board b;
    CHECK(b.run(b.users().filter(col(&User::karma) == std::nullopt)) == Names{"bob"});
    CHECK(b.run(b.users().filter(col(&User::karma) != std::nullopt)) ==
          Names{"alice", "carol", "dave"});
    CHECK(has(b.users().filter(col(&User::karma) == std::nullopt).sql().sql,
              "WHERE (t0.\"karma\" IS NULL)"));
    std::optional<int> three = 3, none;
    CHECK(b.run(b.users().filter(col(&User::karma) == three)) == Names{"carol"});
    CHECK(b.run(b.users().filter(col(&User::karma) == none)) == Names{"bob"});
    CHECK(b.run(b.users().filter(col(&User::karma) != none)) == Names{"alice", "carol", "dave"});
    CHECK(b.run(b.users().filter(col(&User::karma) >= std::optional<int>(3))) ==
          Names{"alice", "carol"});
    CHECK(b.run(b.posts().filter(col(&Post::category) == std::nullopt)) == Titles{D});
    loom::ForeignKey<Category> no_category;
    CHECK(b.run(b.posts().filter(col(&Post::category) == no_category)) == Titles{D});

    SECTION("an ordering comparison with an empty optional is a UsageError") {
        CHECK(message_of<loom::UsageError>([&] { (void)(col(&User::karma) < none); }) ==
              "loom::col: compared with NULL by < (an empty std::optional or a NULL key), "
              "which matches no row; test is_null(), or compare with a value");
    }
}

TEST_CASE("NULL: a ForeignKey column compared with an object compares keys", "[query][null]") {
    Board b;
    CHECK(b.run(b.posts().filter(col(&Post::author) == b.f.bob)) == Titles{T, D});
    CHECK(b.run(b.posts().filter(col(&Post::author) != b.f.bob)) == Titles{B, R, S});
    CHECK(b.run(b.posts().filter(col(&Post::author) == b.f.bob.id)) == Titles{T, D});
    CHECK(b.posts().filter(col(&Post::author) == b.f.bob).sql().params ==
          std::vector<loom::Value>{b.f.bob.id});
    SECTION("an object that was never inserted is a UsageError, and nothing runs") {
        QueryCount q(b.db);
        User ghost;
        ghost.name = "ghost";
        CHECK(message_of<loom::UsageError>([&] { (void)(col(&Post::author) == ghost); }) ==
              "loom::col: the User compared with a key column was never inserted (its "
              "primary key is 0); insert it first");
        CHECK(q() == 0);
    }
}

// ---- columns against columns
// ----------------------------------------------------------------------

TEST_CASE("every comparison operator works between two columns", "[query][columns]") {
    Board b;
    // views against rating * 10: 100 > 50, 40 = 40, 10 < 30, 5 < 20, 0 against NULL.
    auto tenfold = col(&Post::rating) * 10;
    auto views = col(&Post::views);
    CHECK(b.run(b.posts().filter(views == tenfold)) == Titles{T});
    CHECK(b.run(b.posts().filter(views != tenfold)) == Titles{B, R, S, D});  // NULL: not equal
    CHECK(b.run(b.posts().filter(views < tenfold)) == Titles{R, S});
    CHECK(b.run(b.posts().filter(views <= tenfold)) == Titles{T, R, S});
    CHECK(b.run(b.posts().filter(views > tenfold)) == Titles{B});
    CHECK(b.run(b.posts().filter(views >= tenfold)) == Titles{B, T});
    CHECK(has(b.posts().filter(views != tenfold).sql().sql,
              "WHERE (NOT COALESCE((t0.\"views\" = (t0.\"rating\" * ?)), FALSE))"));

    SECTION("two columns that are never NULL: != is a plain <>") {
        auto qs = b.posts().filter(col(&Post::views) != col(&Post::id));
        CHECK(has(qs.sql().sql, "WHERE (t0.\"views\" <> t0.\"id\")"));
        CHECK(b.run(qs) == Titles{B, T, R, S, D});
    }
    SECTION("a column across a relation") {
        CHECK(b.run(b.posts().filter(col(&Post::views) > col(&Post::author, &User::karma))) ==
              Titles{B, R, S});
    }
    SECTION("keys against keys: comments by the author of their post") {
        QueryCount q(b.db);
        auto own = b.db.objects<Comment>()
                       .filter(col(&Comment::author) == col(&Comment::post, &Post::author))
                       .to_vector();
        CHECK(q() == 1);
        REQUIRE(own.size() == 1);
        CHECK(own[0].body == "Thanks");
    }
}

// ---- expressions
// ------------------------------------------------------------------------------------

TEST_CASE("expressions: arithmetic in filter, order_by and values_list", "[query][expressions]") {
    Board b;
    SECTION("filter: a per-row count against a column divided by a number") {
        auto qs = b.posts().filter(loom::count(&Post::likes) > col(&Post::views) / 10);
        CHECK(b.run(qs) == Titles{R});  // 2 likes > 10 / 10
    }
    SECTION("order_by an expression (NULL first, ascending, in SQLite)") {
        auto qs = b.posts().order_by(asc(col(&Post::views) - col(&Post::rating) * 10));
        CHECK(b.run(qs) == Titles{D, R, S, T, B});
        CHECK(b.run(qs.reverse()) == Titles{B, T, S, R, D});
    }
    SECTION("values_list: integer division stays an integer, a double makes a double") {
        auto rows =
            b.posts()
                .filter(col(&Post::id) == b.f.borrowing.id)
                .values_list(col(&Post::views) / 3, col(&Post::views) * 1.5, -col(&Post::views));
        static_assert(
            std::is_same_v<decltype(rows), std::vector<std::tuple<std::int64_t, double, int>>>);
        CHECK(rows == std::vector<std::tuple<std::int64_t, double, int>>{{33, 150.0, -100}});
    }
    SECTION("a nullable operand makes a std::optional") {
        auto rows = b.posts().values_list(col(&Post::rating) + col(&Post::views));
        static_assert(
            std::is_same_v<decltype(rows), std::vector<std::tuple<std::optional<std::int64_t>>>>);
        CHECK(rows == std::vector<std::tuple<std::optional<std::int64_t>>>{
                          {105}, {44}, {13}, {7}, {std::nullopt}});
    }
}

TEST_CASE("expressions: update(loom::set(...)) with an expression, in one statement",
          "[query][expressions][update]") {
    Board b;
    SqlLog log(b.db);
    SECTION("bulk increment") {
        const auto n = b.posts()
                           .filter(col(&Post::author) == b.f.bob)
                           .update(loom::set(&Post::views, col(&Post::views) + 1));
        CHECK(n == 2);
        REQUIRE(log.sql.size() == 1);
        CHECK(
            log.sql[0] ==
            "UPDATE \"forum_post\" SET \"views\" = (\"forum_post\".\"views\" + ?) WHERE \"id\" IN "
            "(SELECT t0.\"id\" FROM \"forum_post\" AS t0 WHERE (t0.\"author_id\" = ?))");
        CHECK(log.params[0] == std::vector<loom::Value>{std::int64_t{1}, b.f.bob.id});
        CHECK(b.posts().values_list(&Post::views) ==
              std::vector<std::tuple<int>>{{100}, {41}, {10}, {5}, {1}});
    }
    SECTION("a per-row count stored in a column (denormalizing)") {
        CHECK(b.posts().update(loom::set(&Post::views, loom::count(&Post::likes))) == 5);
        CHECK(log.sql.size() == 1);
        CHECK(b.posts().values_list(&Post::views) ==
              std::vector<std::tuple<int>>{{3}, {1}, {2}, {0}, {0}});
    }
    SECTION("a column across a relation is a UsageError, and nothing changes") {
        CHECK(message_of<loom::UsageError>([&] {
                  b.posts().update(loom::set(&Post::views, col(&Post::author, &User::karma)));
              }) ==
              "update(): a loom::set value reads a column across a relation; an UPDATE "
              "reads the row's own columns only (use loom::scalar(...) for a value from "
              "another table)");
        CHECK(log.sql.empty());
        CHECK(b.posts().values_list(&Post::views) ==
              std::vector<std::tuple<int>>{{100}, {40}, {10}, {5}, {0}});
    }
    SECTION("an aggregate is a UsageError") {
        CHECK(message_of<loom::UsageError>([&] { (void)loom::set(&Post::views, loom::count()); }) ==
              "loom::set: an aggregate cannot be assigned to a column; use a per-row value "
              "(loom::count(&Post::likes)) or loom::scalar(...)");
    }
    SECTION("set to NULL, and a ForeignKey to an object") {
        CHECK(b.posts()
                  .filter(col(&Post::id) == b.f.draft.id)
                  .update(loom::set(&Post::rating, std::nullopt),
                          loom::set(&Post::author, b.f.dave)) == 1);
        CHECK(b.run(b.posts().filter(col(&Post::author) == b.f.dave)) == Titles{S, D});
    }
}

TEST_CASE("order_by: nulls_first() and nulls_last(), also reversed and in chunks",
          "[query][order]") {
    Board b;
    auto last = b.posts().order_by(asc(&Post::rating).nulls_last());
    CHECK(b.run(last) == Titles{S, R, T, B, D});
    CHECK(has(last.sql().sql, "ORDER BY t0.\"rating\" ASC NULLS LAST, t0.\"id\" ASC"));
    CHECK(b.run(last.reverse()) == Titles{D, B, T, R, S});
    CHECK(b.run(b.posts().order_by(desc(&Post::rating).nulls_first())) == Titles{D, B, T, R, S});
    CHECK(b.run(b.posts().order_by(desc(col(&Post::rating)).nulls_last())) ==
          Titles{B, T, R, S, D});

    SECTION("chunks(n) follow the same order, each row once") {
        for (auto qs : {last, last.reverse(), b.posts().order_by(desc(&Post::rating).nulls_first()),
                        b.posts().order_by(asc(col(&Post::views) - col(&Post::rating) * 10))}) {
            Titles seen;
            for (auto& chunk : qs.chunks(2))
                for (const Post& p : chunk) seen.push_back(p.title);
            CHECK(seen == titles(qs));
        }
    }
}

// ---- across to-many relations
// ----------------------------------------------------------------------

TEST_CASE("to-many: a condition on related rows is EXISTS, each row once", "[query][to_many]") {
    Board b;
    SECTION("a many-to-many") {
        auto qs = b.posts().filter(col(&Post::tags, &Tag::name) == "rust");
        CHECK(b.run(qs) == Titles{B, R});
        CHECK(
            qs.sql().sql ==
            "SELECT t0.\"id\", t0.\"title\", t0.\"author_id\", t0.\"category_id\", t0.\"rating\", "
            "t0.\"views\" FROM \"forum_post\" AS t0 WHERE (EXISTS (SELECT 1 FROM "
            "\"forum_post_tags\" AS uj JOIN \"forum_tag\" AS u0 ON u0.\"id\" = uj.\"forum_tag_id\" "
            "WHERE uj.\"forum_post_id\" = t0.\"id\" AND (u0.\"name\" = ?))) ORDER BY t0.\"id\" "
            "ASC");
    }
    SECTION("a post with two matching tags comes once") {
        CHECK(b.run(b.posts().filter(col(&Post::tags, &Tag::name).in({"rust", "sql"}))) ==
              Titles{B, T, R});
        CHECK(b.posts().filter(col(&Post::tags, &Tag::name).in({"rust", "sql"})).count() == 3);
    }
    SECTION("a reverse foreign key") {
        CHECK(b.run(b.users().filter(col(&User::posts, &Post::title).contains("Rust"))) ==
              Names{"carol"});
    }
    SECTION("the reverse of a many-to-many, then a forward key") {
        Names tags;
        for (const Tag& t :
             b.db.objects<Tag>().filter(col(&Tag::posts, &Post::author, &User::name) == "bob"))
            tags.push_back(t.name);
        CHECK(tags == Names{"cpp", "sql"});
    }
    SECTION("a forward key, then a to-many: posts by authors in group staff") {
        CHECK(b.run(b.posts().filter(col(&Post::author, &User::groups, &Group::name) == "staff")) ==
              Titles{B});
    }
    SECTION("two to-many hops") {
        CHECK(b.run(b.users().filter(col(&User::posts, &Post::comments, &Comment::author,
                                         &User::name) == "carol")) == Names{"alice"});
    }
    SECTION("exists(&relation) and !exists(&relation): posts with no comments") {
        CHECK(b.run(b.posts().filter(loom::exists(&Post::comments))) == Titles{B, T, R});
        CHECK(b.run(b.posts().filter(!loom::exists(&Post::comments))) == Titles{S, D});
        CHECK(b.run(b.users().filter(!loom::exists(&User::groups))) == Names{"carol", "dave"});
    }
}

TEST_CASE("to-many: Django's rule for several conditions on one relation", "[query][to_many]") {
    Board b;
    auto by_bob = col(&Post::comments, &Comment::author, &User::name) == "bob";
    auto high = col(&Post::comments, &Comment::score) >= 4;
    SECTION("in one filter() call, the same related row") {
        // Only post 3 has a comment by bob scoring 4 or more.
        CHECK(b.run(b.posts().filter(by_bob && high)) == Titles{R});
        CHECK(b.run(b.posts().filter(high && (by_bob || col(&Post::views) > 1000))) == Titles{R});
    }
    SECTION("in separate filter() calls, each may match another row") {
        // Post 1: bob's comment scores 3, carol's 5.
        CHECK(b.run(b.posts().filter(by_bob).filter(high)) == Titles{B, R});
    }
    SECTION("the same at two hops: one post of the user has both") {
        auto quiet = col(&User::posts, &Post::views) < 20;
        auto discussed = col(&User::posts, &Post::comments, &Comment::id) > 0;
        CHECK(b.run(b.users().filter(quiet && discussed)) == Names{"carol"});
        CHECK(b.run(b.users().filter(quiet).filter(discussed)) == Names{"bob", "carol"});
    }
    SECTION("conditions on different relations are separate EXISTS") {
        CHECK(b.run(b.posts().filter(col(&Post::tags, &Tag::name) == "rust" &&
                                     col(&Post::likes, &Like::user, &User::name) == "dave")) ==
              Titles{B});
    }
    SECTION("a related column compared with the row's own column") {
        // Posts liked by their own author: none; commented by their own author: post 1.
        CHECK(
            b.run(b.posts().filter(col(&Post::likes, &Like::user) == col(&Post::author))).empty());
        CHECK(b.run(b.posts().filter(col(&Post::comments, &Comment::author) ==
                                     col(&Post::author))) == Titles{B});
    }
    SECTION("! and exclude: no related row matches") {
        auto rust = col(&Post::tags, &Tag::name) == "rust";
        CHECK(b.run(b.posts().filter(!rust)) == Titles{T, S, D});
        CHECK(b.run(b.posts().exclude(rust)) == Titles{T, S, D});
        CHECK(b.run(b.posts().filter(col(&Post::tags, &Tag::name) != "rust")) == Titles{T, S, D});
    }
    SECTION("|| keeps its branches apart: a post with no tags can match the other") {
        CHECK(b.run(b.posts().filter(col(&Post::tags, &Tag::name) == "cpp" ||
                                     col(&Post::rating).is_null())) == Titles{T, D});
    }
}

TEST_CASE("to-many: where a to-many column cannot go", "[query][to_many]") {
    Board b;
    CHECK(message_of<loom::UsageError>(
              [&] { (void)b.posts().order_by(col(&Post::tags, &Tag::name)).to_vector(); }) ==
          "loom::col: Post::tags is a to-many relation: here it would repeat each row "
          "once per related row; filter on it (a condition becomes EXISTS), or aggregate "
          "it (loom::count(&Post::tags), loom::sum(...))");
    CHECK(message_of<loom::UsageError>([&] {
              (void)b.posts().values_list(col(&Post::comments, &Comment::score));
          }).rfind("loom::col: Post::comments is a to-many relation", 0) == 0);
}

// ---- text
// -------------------------------------------------------------------------------------------

TEST_CASE("text: iexact, icontains, istarts_with, iends_with", "[query][text]") {
    Board b;
    CHECK(b.run(b.users().filter(col(&User::name).iexact("ALICE"))) == Names{"alice"});
    CHECK(b.run(b.posts().filter(col(&Post::title).icontains("RUST"))) == Titles{R});
    CHECK(b.run(b.posts().filter(col(&Post::title).istarts_with("rust a"))) == Titles{R});
    CHECK(b.run(b.posts().filter(col(&Post::title).iends_with("SQL"))) == Titles{R});
    CHECK(b.run(b.posts().filter(col(&Post::tags, &Tag::name).iexact("SQL"))) == Titles{T, R});
    auto qs = b.posts().filter(col(&Post::title).icontains("RUST"));
    CHECK(has(qs.sql().sql, "WHERE (LOWER(t0.\"title\") LIKE LOWER(?) ESCAPE '\\')"));
    CHECK(qs.sql().params == std::vector<loom::Value>{std::string("%RUST%")});

    SECTION("% and _ in the text are plain characters") {
        CHECK(b.run(b.posts().filter(col(&Post::title).icontains("100%"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).icontains("%"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).icontains("r_f"))) == Titles{});
        CHECK(b.run(b.posts().filter(col(&Post::title).like("%r_f%"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).iends_with("_ONE"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).contains("%"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).starts_with("100%"))) == Titles{D});
        CHECK(b.posts().filter(col(&Post::title).icontains("a\\b%_")).sql().params ==
              std::vector<loom::Value>{std::string("%a\\\\b\\%\\_%")});
    }
    SECTION("like() stays raw: its wildcards are wildcards") {
        CHECK(b.run(b.posts().filter(col(&Post::title).like("100%"))) == Titles{D});
        CHECK(b.run(b.posts().filter(col(&Post::title).like("%"))).size() == 5);
    }
    SECTION("SQLite folds ASCII letters only") {
        // SQLite only: PostgreSQL's LOWER() folds by the database's locale (docs/engines.md).
        if (on_postgres()) return;
        User emile;
        emile.name = "\xc3\x89mile";  // Émile
        b.db.insert(emile);
        CHECK(b.run(b.users().filter(col(&User::name).iexact("\xc3\x89MILE"))) ==
              Names{"\xc3\x89mile"});
        CHECK(b.run(b.users().filter(col(&User::name).iexact("\xc3\xa9mile"))).empty());  // émile
    }
    SECTION("a NUL byte is a UsageError, before anything runs") {
        QueryCount q(b.db);
        CHECK(message_of<loom::UsageError>(
                  [&] { (void)col(&User::name).icontains(std::string_view("a\0b", 3)); }) ==
              "icontains(): the text contains a NUL byte, which case-insensitive matching "
              "cannot handle; use contains(), starts_with(), ends_with() or == to match "
              "bytes exactly");
        CHECK(q() == 0);
    }
}

// ---- get / find
// ---------------------------------------------------------------------------------------

TEST_CASE("get(pk) and find(pk) read one row by primary key", "[query][get]") {
    Board b;
    QueryCount q(b.db);
    CHECK(b.posts().get(b.f.templates.id).title == T);
    CHECK(b.posts().find(b.f.sourdough.id)->title == S);
    CHECK_FALSE(b.posts().find(999).has_value());
    CHECK_FALSE(b.posts().filter(col(&Post::views) > 50).find(b.f.templates.id).has_value());
    CHECK(q() == 4);
    CHECK(message_of<loom::DoesNotExist>([&] {
              b.posts().get(999);
          }).rfind("get(): no Post matches the query (SELECT", 0) == 0);
}

// ---- select_related deeper
// ----------------------------------------------------------------------------

TEST_CASE("select_related: a path of to-one relations, and a reverse one-to-one",
          "[query][select_related]") {
    Board b;
    SECTION("two levels in one query; NULL keys at either level read as nullptr") {
        QueryCount q(b.db);
        auto posts =
            b.posts()
                .select_related(loom::path(&Post::category, &Category::parent), &Post::author)
                .to_vector();
        CHECK(q() == 1);
        REQUIRE(posts.size() == 5);
        CHECK(posts[0].category->name == "Rust");
        CHECK(posts[0].category->parent->name == "Programming");
        CHECK(posts[0].author->name == "alice");
        CHECK(posts[1].category->name == "Programming");
        CHECK(posts[1].category->parent.get() == nullptr);
        CHECK(posts[2].category.get() == posts[0].category.get());  // one object per row read
        CHECK(posts[3].category->parent->name == "Cooking");
        CHECK(posts[4].category.get() == nullptr);
        CHECK(q() == 1);
        auto sql =
            b.posts().select_related(loom::path(&Post::category, &Category::parent)).sql().sql;
        CHECK(has(sql,
                  "LEFT JOIN \"forum_category\" AS t1 ON t1.\"id\" = t0.\"category_id\" LEFT "
                  "JOIN \"forum_category\" AS t2 ON t2.\"id\" = t1.\"parent_id\""));
    }
    SECTION("shares its joins with filters and order terms, and works in chunks") {
        auto qs =
            b.posts()
                .select_related(loom::path(&Post::category, &Category::parent))
                .filter(col(&Post::category, &Category::parent, &Category::name) == "Programming")
                .order_by(desc(col(&Post::category, &Category::name)));
        CHECK(occurrences_of(qs.sql().sql, "LEFT JOIN") == 2);
        Titles seen;
        for (auto& chunk : qs.chunks(1))
            for (const Post& p : chunk) seen.push_back(p.title + "/" + p.category->parent->name);
        CHECK(seen == Titles{B + "/Programming", R + "/Programming"});
    }
    SECTION("a reverse one-to-one") {
        loom::Database db(test_url());
        shop::create_all(db);
        shop::User ann, bob;
        ann.login = "ann";
        bob.login = "bob";
        db.insert(ann);
        db.insert(bob);
        shop::Profile p;
        p.user = ann;
        p.bio = "Plays chess.";
        db.insert(p);
        QueryCount q(db);
        auto users = db.objects<shop::User>().select_related(&shop::User::profile).to_vector();
        CHECK(q() == 1);
        REQUIRE(users.size() == 2);
        CHECK(users[0].profile->bio == "Plays chess.");
        CHECK_FALSE(users[1].profile.has_value());
        auto profiles = db.objects<shop::Profile>()
                            .select_related(loom::path(&shop::Profile::user, &shop::User::profile))
                            .to_vector();
        CHECK(profiles[0].user->profile->bio == "Plays chess.");
    }
    SECTION("a to-many step in the path is a UsageError") {
        CHECK(message_of<loom::UsageError>([&] {
                  (void)b.posts().select_related(loom::path(&Post::author, &User::posts));
              }) ==
              "select_related: User::posts in the path is a to-many relation, which a JOIN "
              "would repeat rows for; use prefetch_related for it");
    }
}

}  // namespace query_filters
