// The query language, aggregates (issue 16): qs.aggregate(...) with typed, NULL-aware tuples;
// GROUP BY through values_list, having() and order_by an aggregate; per-row aggregates of a
// to-many relation (filter and order by a count); per-parent aggregates stitched like
// annotate_count (annotate_sum/avg/min/max) in Prefetch querysets and chunks; and the forum
// application of the "done when", each in the number of queries a Django user expects.
#include "catch.hpp"
#include "forum.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace query_aggregates {

using namespace forum;
using loom::asc;
using loom::col;
using loom::desc;
using Titles = std::vector<std::string>;

// ---- aggregate() --------------------------------------------------------------------------------

TEST_CASE("aggregate() returns a typed tuple in one query", "[query][aggregate]") {
    Board b;
    SqlLog log(b.db);
    auto all = b.posts().aggregate(
        loom::count(), loom::sum(&Post::rating), loom::avg(&Post::rating), loom::min(&Post::rating),
        loom::max(&Post::title), loom::count_distinct(&Post::author), loom::count(&Post::rating));
    static_assert(
        std::is_same_v<decltype(all),
                       std::tuple<std::int64_t, std::optional<std::int64_t>, std::optional<double>,
                                  std::optional<int>, std::optional<std::string>, std::int64_t,
                                  std::int64_t>>);
    CHECK(all == std::tuple{std::int64_t{5}, std::optional<std::int64_t>{14},
                            std::optional<double>{3.5}, std::optional<int>{2},
                            std::optional<std::string>{"Templates in C++"}, std::int64_t{4},
                            std::int64_t{4}});
    REQUIRE(log.sql.size() == 1);
    CHECK(log.sql[0] ==
          "SELECT COUNT(*), SUM(t0.\"rating\"), AVG(t0.\"rating\"), MIN(t0.\"rating\"), "
          "MAX(t0.\"title\"), COUNT(DISTINCT t0.\"author_id\"), COUNT(t0.\"rating\") FROM "
          "\"forum_post\" AS t0");

    SECTION("honouring the QuerySet's filters, across a relation") {
        auto [n, total] = b.posts()
                              .filter(col(&Post::category, &Category::name) == "Rust")
                              .aggregate(loom::count(), loom::sum(&Post::views));
        CHECK(n == 2);
        CHECK(total == 110);
    }
    SECTION("no rows: COUNT is 0, the others NULL") {
        auto none = b.posts()
                        .filter(col(&Post::views) > 1000)
                        .aggregate(loom::count(), loom::sum(&Post::views), loom::avg(&Post::views),
                                   loom::max(&Post::views));
        CHECK(none == std::tuple{std::int64_t{0}, std::optional<std::int64_t>{},
                                 std::optional<double>{}, std::optional<int>{}});
    }
    SECTION("a sliced QuerySet: its slice") {
        auto [total] =
            b.posts().order_by(desc(&Post::views)).limit(2).aggregate(loom::sum(&Post::views));
        CHECK(total == 140);
    }
    SECTION("an aggregate of a per-row value and of an expression") {
        auto [likes, weighted] = b.posts().aggregate(loom::sum(loom::count(&Post::likes)),
                                                     loom::max(col(&Post::views) * 2));
        CHECK(likes == 6);
        CHECK(weighted == 200);
    }
    SECTION("a value that is not an aggregate is a UsageError") {
        CHECK(message_of<loom::UsageError>(
                  [&] { b.posts().aggregate(loom::count(), col(&Post::views)); }) ==
              "aggregate(): value 2 is not an aggregate; pass loom::count(), loom::sum(...), "
              "loom::avg(...), loom::min(...), loom::max(...) or loom::count_distinct(...)");
    }
    SECTION("an aggregate of an aggregate, or across a to-many, is a UsageError") {
        CHECK(message_of<loom::UsageError>([&] { (void)loom::sum(loom::count()); }) ==
              "loom::sum: the value is an aggregate already (an aggregate of an aggregate); "
              "aggregate a column, or a per-row count such as loom::count(&Post::likes)");
        CHECK(message_of<loom::UsageError>(
                  [&] { (void)loom::sum(col(&Post::comments, &Comment::score)); }) ==
              "loom::sum: the column crosses the to-many relation Post::comments, where each row "
              "has many values; aggregate them per row with loom::sum(&Post::comments, ...)");
    }
}

// ---- GROUP BY
// ---------------------------------------------------------------------------------------

TEST_CASE("values_list with an aggregate groups by the other values", "[query][group_by]") {
    Board b;
    // PostgreSQL sorts NULL high: loom spells out SQLite's placement there.
    const std::string nulls_first = on_engine("", " NULLS FIRST");
    SqlLog log(b.db);
    using Row = std::tuple<std::optional<std::int64_t>, std::int64_t, std::optional<double>>;
    auto rows = b.posts().values_list(&Post::category, loom::count(), loom::avg(&Post::rating));
    CHECK(rows == std::vector<Row>{{std::nullopt, 1, std::nullopt},
                                   {b.f.programming.id, 1, 4.0},
                                   {b.f.rust_cat.id, 2, 4.0},
                                   {b.f.baking.id, 1, 2.0}});
    REQUIRE(log.sql.size() == 1);
    CHECK(log.sql[0] ==
          "SELECT t0.\"category_id\", COUNT(*), AVG(t0.\"rating\") FROM \"forum_post\" AS t0 "
          "GROUP BY 1 ORDER BY 1 ASC" +
              nulls_first);

    SECTION("across a forward key (through a nullable one: optional())") {
        using NameRow = std::tuple<std::optional<std::string>, std::int64_t, std::optional<double>>;
        auto by_name = b.posts().values_list(col(&Post::category, &Category::name).optional(),
                                             loom::count(), loom::avg(&Post::rating));
        CHECK(by_name == std::vector<NameRow>{{std::nullopt, 1, std::nullopt},
                                              {"Baking", 1, 2.0},
                                              {"Programming", 1, 4.0},
                                              {"Rust", 2, 4.0}});
        auto by_parent = b.posts()
                             .filter(col(&Post::category, &Category::parent).is_not_null())
                             .values_list(col(&Post::category, &Category::parent, &Category::name),
                                          loom::sum(&Post::views));
        CHECK(by_parent == std::vector<std::tuple<std::string, std::optional<std::int64_t>>>{
                               {"Cooking", 5}, {"Programming", 110}});
    }
    SECTION("having() keeps the groups that match") {
        auto busy = b.posts().having(loom::count() > 1).values_list(&Post::category, loom::count());
        CHECK(busy == std::vector<std::tuple<std::optional<std::int64_t>, std::int64_t>>{
                          {b.f.rust_cat.id, 2}});
        CHECK(log.sql.back() ==
              "SELECT t0.\"category_id\", COUNT(*) FROM \"forum_post\" AS t0 GROUP BY 1 HAVING "
              "(COUNT(*) > ?) ORDER BY 1 ASC" +
                  nulls_first);
    }
    SECTION("order_by an aggregate, ties by the grouped values; sliced") {
        auto authors = b.posts()
                           .order_by(desc(loom::count()))
                           .values_list(col(&Post::author, &User::name), loom::count());
        using A = std::tuple<std::string, std::int64_t>;
        CHECK(authors == std::vector<A>{{"bob", 2}, {"alice", 1}, {"carol", 1}, {"dave", 1}});
        auto top = b.posts()
                       .order_by(desc(loom::count()))
                       .limit(1)
                       .values_list(col(&Post::author, &User::name), loom::count());
        CHECK(top == std::vector<A>{{"bob", 2}});
    }
    SECTION("filters apply before grouping; no rows, no groups") {
        CHECK(b.posts()
                  .filter(col(&Post::views) > 1000)
                  .values_list(&Post::author, loom::count())
                  .empty());
        CHECK(b.posts().filter(col(&Post::views) > 1000).values_list(loom::count()) ==
              std::vector<std::tuple<std::int64_t>>{{0}});
    }
    SECTION("misuses are UsageErrors, and nothing runs") {
        QueryCount q(b.db);
        CHECK(message_of<loom::UsageError>([&] {
                  (void)b.posts().order_by(&Post::title).values_list(&Post::author, loom::count());
              }) ==
              "values_list: the QuerySet is ordered by t0.\"title\", which is not one of the "
              "grouped values; order by grouped values or aggregates (or clear the order "
              "with order_by())");
        CHECK(message_of<loom::UsageError>(
                  [&] { (void)b.posts().having(loom::count() > 1).count(); }) ==
              "having(): only a grouped values_list reads it (one with an aggregate such as "
              "loom::count() among its columns); filter rows with filter()");
        CHECK(message_of<loom::UsageError>(
                  [&] { (void)b.posts().order_by(desc(loom::count())).to_vector(); }) ==
              "order_by(): an aggregate (loom::count(), loom::sum()...) orders the groups of a "
              "grouped values_list only; to order rows by a count of related rows, use "
              "loom::count(&Model::relation)");
        CHECK(message_of<loom::UsageError>([&] { (void)b.posts().filter(loom::count() > 1); }) ==
              "filter(): the condition uses an aggregate (loom::count(), loom::sum()...), which "
              "has one value per group, not per row; use having() with a grouped values_list, "
              "or a per-row count such as loom::count(&Model::relation)");
        CHECK(q() == 0);
    }
}

// ---- per-row aggregates of a to-many relation
// ----------------------------------------------------------

TEST_CASE("per-row aggregates: filter, order and read a count of related rows",
          "[query][per_row]") {
    Board b;
    SECTION("top 2 posts by likes is one query") {
        auto top = b.posts().order_by(desc(loom::count(&Post::likes))).limit(2);
        CHECK(b.run(top) == Titles{B, R});
        CHECK(
            top.sql().sql ==
            "SELECT t0.\"id\", t0.\"title\", t0.\"author_id\", t0.\"category_id\", t0.\"rating\", "
            "t0.\"views\" FROM \"forum_post\" AS t0 ORDER BY (SELECT COUNT(*) FROM \"forum_like\" "
            "AS "
            "u0 WHERE u0.\"post_id\" = t0.\"id\") DESC" +
                on_engine("", " NULLS LAST") + ", t0.\"id\" ASC LIMIT ? OFFSET ?");
    }
    SECTION("posts with no comments; with a comment scoring 3 or more") {
        CHECK(b.run(b.posts().filter(loom::count(&Post::comments) == 0)) == Titles{S, D});
        CHECK(b.run(b.posts().filter(loom::count(&Post::comments, col(&Comment::score) >= 3) >
                                     0)) == Titles{B, R});
    }
    SECTION("read in values_list, with sums and averages (NULL for no related rows)") {
        QueryCount q(b.db);
        auto rows = b.posts().values_list(&Post::title, loom::count(&Post::likes),
                                          loom::sum(&Post::comments, &Comment::score),
                                          loom::avg(&Post::comments, &Comment::score),
                                          loom::max(&Post::comments, col(&Comment::body)));
        CHECK(q() == 1);
        using Row = std::tuple<std::string, std::int64_t, std::optional<std::int64_t>,
                               std::optional<double>, std::optional<std::string>>;
        CHECK(rows == std::vector<Row>{{B, 3, 9, 3.0, "Thanks"},
                                       {T, 1, 2, 2.0, "Hmm"},
                                       {R, 2, 4, 4.0, "Great"},
                                       {S, 0, std::nullopt, std::nullopt, std::nullopt},
                                       {D, 0, std::nullopt, std::nullopt, std::nullopt}});
    }
    SECTION("through a many-to-many, from either side") {
        std::vector<std::tuple<std::string, std::int64_t>> tags =
            b.db.objects<Tag>()
                .order_by(desc(loom::count(&Tag::posts)))
                .values_list(&Tag::name, loom::count(&Tag::posts));
        CHECK(tags == std::vector<std::tuple<std::string, std::int64_t>>{
                          {"rust", 2}, {"sql", 2}, {"cpp", 1}, {"unused", 0}});
        CHECK(b.run(b.posts().filter(loom::count(&Post::tags) >= 2)) == Titles{T, R});
    }
    SECTION("grouped: the sum per category of each post's likes") {
        auto rows = b.posts()
                        .filter(col(&Post::category).is_not_null())
                        .values_list(col(&Post::category, &Category::name),
                                     loom::sum(loom::count(&Post::likes)));
        CHECK(rows == std::vector<std::tuple<std::string, std::optional<std::int64_t>>>{
                          {"Baking", 0}, {"Programming", 1}, {"Rust", 5}});
    }
}

// ---- per-parent aggregates stitched like annotate_count
// ----------------------------------------------

TEST_CASE("annotate_sum/avg/min/max fill a plain member of each parent", "[query][annotate]") {
    Board b;
    SqlLog log(b.db);
    auto posts = b.posts()
                     .annotate_count(&Post::comments, &Post::comment_count)
                     .annotate_sum(&Post::comments, &Comment::score, &Post::score_total)
                     .annotate_sum(&Post::comments, &Comment::score, &Post::score_sum)
                     .annotate_avg(&Post::comments, &Comment::score, &Post::score_avg)
                     .annotate_min(&Post::comments, &Comment::score, &Post::score_min)
                     .annotate_max(&Post::comments, &Comment::score, &Post::score_max)
                     .to_vector();
    REQUIRE(log.sql.size() == 7);
    CHECK(log.sql[2] ==
          "SELECT t0.\"post_id\", SUM(t0.\"score\") FROM \"forum_comment\" AS t0 WHERE "
          "t0.\"post_id\"" +
              on_engine(" IN (?, ?, ?, ?, ?, ?, ?, ?)", " = ANY(?::bigint[])") +
              " GROUP BY t0.\"post_id\"");
    REQUIRE(posts.size() == 5);
    auto of = [&](auto member) {
        std::vector<std::decay_t<decltype(posts[0].*member)>> out;
        for (const Post& p : posts) out.push_back(p.*member);
        return out;
    };
    using OI = std::optional<int>;
    using OL = std::optional<std::int64_t>;
    using OD = std::optional<double>;
    CHECK(of(&Post::comment_count) == std::vector<std::int64_t>{3, 1, 1, 0, 0});
    CHECK(of(&Post::score_total) == std::vector<OL>{9, 2, 4, std::nullopt, std::nullopt});
    CHECK(of(&Post::score_sum) == std::vector<std::int64_t>{9, 2, 4, 0, 0});
    CHECK(of(&Post::score_avg) == std::vector<OD>{3.0, 2.0, 4.0, std::nullopt, std::nullopt});
    CHECK(of(&Post::score_min) == std::vector<OI>{1, 2, 4, std::nullopt, std::nullopt});
    CHECK(of(&Post::score_max) == std::vector<OI>{5, 2, 4, std::nullopt, std::nullopt});

    SECTION("only the related rows a QuerySet keeps") {
        auto rows = b.posts()
                        .annotate_sum(&Post::comments, &Comment::score, &Post::score_total,
                                      b.db.objects<Comment>().filter(col(&Comment::score) >= 3))
                        .to_vector();
        CHECK(rows[0].score_total == 8);
        CHECK(rows[1].score_total == std::nullopt);
    }
    SECTION("the views of each user's posts") {
        std::vector<std::string> seen;
        for (const User& u :
             b.db.objects<User>().annotate_sum(&User::posts, &Post::views, &User::post_views))
            seen.push_back(u.name + "=" + (u.post_views ? std::to_string(*u.post_views) : "NULL"));
        CHECK(seen == std::vector<std::string>{"alice=100", "bob=40", "carol=10", "dave=5"});
    }
    SECTION("two different aggregates into one member are a UsageError") {
        CHECK(message_of<loom::UsageError>([&] {
                  (void)b.posts()
                      .annotate_min(&Post::comments, &Comment::score, &Post::score_min)
                      .annotate_max(&Post::comments, &Comment::score, &Post::score_min);
              }) ==
              "annotate_max: max Post::comments and min Post::comments are written into "
              "the same member; give each aggregate its own member");
    }
    SECTION("a member of the descriptor is a UsageError") {
        CHECK(message_of<loom::UsageError>([&] {
                  (void)b.posts().annotate_max(&Post::comments, &Comment::score, &Post::rating);
              }) ==
              "annotate_max: the result member is a column of Post's descriptor; write the "
              "max into a plain member that loom::model<Post> does not declare");
    }
}

TEST_CASE("annotate_sum runs on the rows of a Prefetch and on each chunk", "[query][annotate]") {
    Board b;
    SECTION("in a Prefetch's QuerySet, one query per level") {
        QueryCount q(b.db);
        auto users = b.db.objects<User>()
                         .prefetch_related(loom::Prefetch(
                             &User::posts, b.posts().annotate_sum(&Post::comments, &Comment::score,
                                                                  &Post::score_total)))
                         .to_vector();
        CHECK(q() == 3);
        CHECK(users[0].posts[0].score_total == 9);
        REQUIRE(users[1].posts.size() == 2);
        CHECK(users[1].posts[0].score_total == 2);
        CHECK(users[1].posts[1].score_total == std::nullopt);
    }
    SECTION("at the second level of a path") {
        QueryCount q(b.db);
        auto cats = b.db.objects<Category>()
                        .filter(col(&Category::parent).is_null())
                        .prefetch_related(loom::Prefetch(
                            &Category::children,
                            b.db.objects<Category>().prefetch_related(loom::Prefetch(
                                &Category::posts,
                                b.posts().annotate_count(&Post::likes, &Post::comment_count)))))
                        .to_vector();
        CHECK(q() == 4);
        REQUIRE(cats[0].children.size() == 1);
        REQUIRE(cats[0].children[0].posts.size() == 2);
        CHECK(cats[0].children[0].posts[0].comment_count == 3);
        CHECK(cats[0].children[0].posts[1].comment_count == 2);
    }
    SECTION("in chunks(n): one aggregate query per chunk") {
        QueryCount q(b.db);
        std::vector<std::optional<std::int64_t>> totals;
        for (auto& chunk :
             b.posts().annotate_sum(&Post::comments, &Comment::score, &Post::score_total).chunks(2))
            for (const Post& p : chunk) totals.push_back(p.score_total);
        CHECK(q() == 6);
        CHECK(totals ==
              std::vector<std::optional<std::int64_t>>{9, 2, 4, std::nullopt, std::nullopt});
    }
}

// ---- the "done when"
// ---------------------------------------------------------------------------

TEST_CASE("a forum asks its everyday questions in the queries a Django user expects",
          "[query][forum]") {
    Board b;
    QueryCount q(b.db);
    // Posts tagged rust by authors in group staff: 1 query.
    CHECK(titles(b.posts().filter(col(&Post::tags, &Tag::name) == "rust" &&
                                  col(&Post::author, &User::groups, &Group::name) == "staff")) ==
          Titles{B});
    CHECK(q() == 1);
    // Posts with no comments: 1 query.
    CHECK(titles(b.posts().filter(!loom::exists(&Post::comments))) == Titles{S, D});
    CHECK(q() == 2);
    // Top 2 posts by likes: 1 query.
    CHECK(titles(b.posts().order_by(desc(loom::count(&Post::likes))).limit(2)) == Titles{B, R});
    CHECK(q() == 3);
    // Average rating per category: 1 query.
    auto averages =
        b.posts()
            .filter(col(&Post::category).is_not_null())
            .values_list(col(&Post::category, &Category::name), loom::avg(&Post::rating));
    CHECK(averages == std::vector<std::tuple<std::string, std::optional<double>>>{
                          {"Baking", 2.0}, {"Programming", 4.0}, {"Rust", 4.0}});
    CHECK(q() == 4);
    // Comments per post, filled into each post: 2 queries.
    auto counted = b.posts().annotate_count(&Post::comments, &Post::comment_count).to_vector();
    CHECK(counted[0].comment_count == 3);
    CHECK(q() == 6);
    // Bulk increment: 1 statement.
    CHECK(b.posts()
              .filter(col(&Post::tags, &Tag::name) == "rust")
              .update(loom::set(&Post::views, col(&Post::views) + 1)) == 2);
    CHECK(q() == 7);
    CHECK(b.posts().get(b.f.borrowing.id).views == 101);
}

}  // namespace query_aggregates
