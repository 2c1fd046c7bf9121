// The query language, subqueries (issue 16): in(queryset) / not_in(queryset), loom::exists and
// !loom::exists correlated with the outer row through loom::outer, and scalar subqueries in
// filters, order_by and values_list; one query each, against the forum of tests/forum.hpp.
#include "catch.hpp"
#include "forum.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace query_subqueries {

using namespace forum;
using loom::col;
using loom::desc;
using loom::outer;
using Titles = std::vector<std::string>;

const std::string B = "Borrowing explained", T = "Templates in C++", R = "Rust and SQL",
                  S = "Sourdough", D = "100% draft_one";

struct Board {
    loom::Database db{test_url()};
    Forum f;
    Board() {
        create_forum(db);
        f = seed_forum(db);
    }
    loom::QuerySet<Post> posts() { return db.objects<Post>(); }
    loom::QuerySet<User> users() { return db.objects<User>(); }
    loom::QuerySet<Comment> comments() { return db.objects<Comment>(); }
    Titles run(const loom::QuerySet<Post>& qs) {
        QueryCount q(db);
        Titles t = titles(qs);
        CHECK(q() == 1);
        return t;
    }
};

TEST_CASE("subqueries: in(queryset) and not_in(queryset) in one query", "[query][subquery]") {
    Board b;
    auto known = b.users().filter(col(&User::karma) >= 3);  // alice, carol
    auto qs = b.posts().filter(col(&Post::author).in(known));
    CHECK(b.run(qs) == Titles{B, R});
    CHECK(
        qs.sql().sql ==
        "SELECT t0.\"id\", t0.\"title\", t0.\"author_id\", t0.\"category_id\", t0.\"rating\", "
        "t0.\"views\" FROM \"forum_post\" AS t0 WHERE (t0.\"author_id\" IN (SELECT u0.\"id\" FROM "
        "\"forum_user\" AS u0 WHERE (u0.\"karma\" >= ?))) ORDER BY t0.\"id\" ASC");
    CHECK(b.run(b.posts().filter(col(&Post::author).not_in(known))) == Titles{T, S, D});
    SECTION("a sliced QuerySet: its slice") {
        auto top = b.users().order_by(desc(&User::karma)).limit(1);  // alice
        CHECK(b.run(b.posts().filter(col(&Post::author).in(top))) == Titles{B});
    }
    SECTION("a nullable key: not_in keeps the NULL rows") {
        auto rust = b.db.objects<Category>().filter(col(&Category::name) == "Rust");
        CHECK(b.run(b.posts().filter(col(&Post::category).not_in(rust))) == Titles{T, S, D});
    }
    SECTION("parameters before, inside and after the subquery stay in order") {
        CHECK(b.run(b.posts().filter(col(&Post::views) > 5 && col(&Post::author).in(known) &&
                                     col(&Post::rating) < 5)) == Titles{R});
    }
    SECTION("a QuerySet that is never evaluated runs nothing itself") {
        QueryCount q(b.db);
        (void)b.posts().filter(col(&Post::author).in(known)).count();
        CHECK(q() == 1);
    }
}

TEST_CASE("subqueries: loom::exists correlated with loom::outer", "[query][subquery]") {
    Board b;
    auto well_received =
        b.comments().filter(col(&Comment::post) == outer(&Post::id) && col(&Comment::score) >= 4);
    auto qs = b.posts().filter(loom::exists(well_received));
    CHECK(b.run(qs) == Titles{B, R});
    CHECK(
        qs.sql().sql ==
        "SELECT t0.\"id\", t0.\"title\", t0.\"author_id\", t0.\"category_id\", t0.\"rating\", "
        "t0.\"views\" FROM \"forum_post\" AS t0 WHERE (EXISTS (SELECT 1 FROM \"forum_comment\" AS "
        "u0 WHERE ((u0.\"post_id\" = t0.\"id\") AND (u0.\"score\" >= ?)))) ORDER BY t0.\"id\" ASC");
    CHECK(b.run(b.posts().filter(!loom::exists(well_received))) == Titles{T, S, D});
    CHECK(b.run(b.posts().exclude(loom::exists(well_received))) == Titles{T, S, D});

    SECTION("combined with other conditions") {
        CHECK(b.run(b.posts().filter(loom::exists(well_received) && col(&Post::views) < 50)) ==
              Titles{R});
    }
    SECTION("outer columns through a relation: a comment by the post's own author") {
        auto own = b.comments().filter(col(&Comment::post) == outer(&Post::id) &&
                                       col(&Comment::author) == outer(&Post::author));
        CHECK(b.run(b.posts().filter(loom::exists(own))) == Titles{B});
        auto own_name = b.comments().filter(col(&Comment::post) == outer(&Post::id) &&
                                            col(&Comment::author, &User::name) ==
                                                outer(&Post::author, &User::name));
        CHECK(b.run(b.posts().filter(loom::exists(own_name))) == Titles{B});
    }
    SECTION("two levels: users with a post that has a comment by bob") {
        auto bobs = b.comments().filter(col(&Comment::post) == outer(&Post::id) &&
                                        col(&Comment::author) == b.f.bob);
        auto posts = b.posts().filter(col(&Post::author) == outer(&User::id) && loom::exists(bobs));
        std::vector<std::string> names;
        for (const User& u : b.users().filter(loom::exists(posts))) names.push_back(u.name);
        CHECK(names == std::vector<std::string>{"alice", "carol"});
    }
    SECTION("an outer column of another model than the enclosing query is a UsageError") {
        auto wrong = b.comments().filter(col(&Comment::author) == outer(&User::id));
        CHECK(error_of<loom::UsageError>(
                  [&] { (void)b.posts().filter(loom::exists(wrong)).count(); }) ==
              "loom::outer: the column belongs to User, but the enclosing query is over Post");
    }
    SECTION("an outer column outside a subquery is a UsageError") {
        CHECK(error_of<loom::UsageError>(
                  [&] { (void)b.posts().filter(col(&Post::id) == outer(&Post::id)).count(); }) ==
              "loom::outer: the column names an enclosing query, but the query it is used "
              "in is not a subquery (use it inside loom::exists(...), in(...) or "
              "loom::scalar(...))");
    }
}

TEST_CASE("subqueries: loom::scalar in filter, order_by and values_list", "[query][subquery]") {
    Board b;
    SECTION("an aggregate of another query: posts viewed more than average (31)") {
        auto qs =
            b.posts().filter(col(&Post::views) > loom::scalar(b.posts(), loom::avg(&Post::views)));
        CHECK(b.run(qs) == Titles{B, T});
        CHECK(
            qs.sql().sql ==
            "SELECT t0.\"id\", t0.\"title\", t0.\"author_id\", t0.\"category_id\", t0.\"rating\", "
            "t0.\"views\" FROM \"forum_post\" AS t0 WHERE (t0.\"views\" > (SELECT "
            "AVG(u0.\"views\") "
            "FROM \"forum_post\" AS u0)) ORDER BY t0.\"id\" ASC");
    }
    SECTION("correlated, in order_by: posts by their best comment (none: NULL, last)") {
        auto best = loom::scalar(b.comments().filter(col(&Comment::post) == outer(&Post::id)),
                                 loom::max(&Comment::score));
        CHECK(b.run(b.posts().order_by(desc(best))) == Titles{B, R, T, S, D});
    }
    SECTION("a column of the first row in the QuerySet's order: each post's latest comment") {
        QueryCount q(b.db);
        auto latest = loom::scalar(b.comments()
                                       .filter(col(&Comment::post) == outer(&Post::id))
                                       .order_by(desc(&Comment::id)),
                                   &Comment::body);
        auto rows = b.posts().values_list(&Post::title, latest);
        CHECK(q() == 1);
        using Row = std::tuple<std::string, std::optional<std::string>>;
        CHECK(rows ==
              std::vector<Row>{
                  {B, "Thanks"}, {T, "Hmm"}, {R, "Great"}, {S, std::nullopt}, {D, std::nullopt}});
    }
    SECTION("in update: each user's karma becomes the likes of their posts") {
        auto likes = loom::scalar(
            b.db.objects<Like>().filter(col(&Like::post, &Post::author) == outer(&User::id)),
            loom::count());
        CHECK(b.users().update(loom::set(&User::karma, likes)) == 4);
        CHECK(b.users().values_list(&User::name, &User::karma) ==
              std::vector<std::tuple<std::string, std::optional<int>>>{
                  {"alice", 3}, {"bob", 1}, {"carol", 2}, {"dave", 0}});
    }
}

}  // namespace query_subqueries
