// A forum, for the query-language tests (tests/test_query_*.cpp): users in groups, posts in
// nested categories with tags, threaded comments and likes. Seeded by seed_forum:
//
//   users      1 alice (karma 10), 2 bob (karma NULL), 3 carol (karma 3), 4 dave (karma 0)
//   groups     1 staff (alice), 2 rustaceans (alice, bob), 3 empty (nobody)
//   categories 1 Programming, 2 Rust (parent Programming), 3 Cooking, 4 Baking (parent Cooking)
//   tags       1 rust, 2 cpp, 3 sql, 4 unused
//   posts      id title                 author category     rating views tags       likes by
//              1  Borrowing explained   alice  Rust         5      100   rust       bob carol dave
//              2  Templates in C++      bob    Programming  4      40    cpp sql    alice
//              3  Rust and SQL          carol  Rust         3      10    rust sql   alice bob
//              4  Sourdough             dave   Baking       2      5     -          -
//              5  100% draft_one        bob    NULL         NULL   0     -          -
//   comments   id post author score parent body
//              1  1    bob    3     NULL   Nice
//              2  1    carol  5     1      Agreed
//              3  1    alice  1     2      Thanks
//              4  2    alice  2     NULL   Hmm
//              5  3    bob    4     NULL   Great
#pragma once

#include <loom/loom.hpp>

#include "catch.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace forum {

using QueryCount = loom_test::Queries;
using loom_test::message_of;
using loom_test::SqlLog;

struct Post;
struct Group;
struct Comment;
struct Like;

struct User {
    std::int64_t id = 0;
    std::string name;
    std::optional<int> karma;
    loom::Reverse<Post> posts;
    loom::Reverse<Group> groups;
    loom::Reverse<Comment> comments;
    std::optional<std::int64_t> post_views;  // not in the descriptor: annotate_sum
};

struct Group {
    std::int64_t id = 0;
    std::string name;
    loom::ManyToMany<User> members;
};

struct Category {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Category> parent;
    loom::Reverse<Category> children;
    loom::Reverse<Post> posts;
};

struct Tag {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Post> posts;
};

struct Post {
    std::int64_t id = 0;
    std::string title;
    loom::ForeignKey<User> author;
    loom::ForeignKey<Category> category;
    std::optional<int> rating;
    int views = 0;
    loom::ManyToMany<Tag> tags;
    loom::Reverse<Comment> comments;
    loom::Reverse<Like> likes;
    // Not in the descriptor: annotate_* targets.
    std::int64_t comment_count = 0;
    std::int64_t score_sum = 0;
    std::optional<std::int64_t> score_total;
    std::optional<double> score_avg;
    std::optional<int> score_min, score_max;
};

struct Comment {
    std::int64_t id = 0;
    loom::ForeignKey<Post> post;
    loom::ForeignKey<User> author;
    loom::ForeignKey<Comment> parent;
    loom::Reverse<Comment> replies;
    int score = 0;
    std::string body;
};

struct Like {
    std::int64_t id = 0;
    loom::ForeignKey<User> user;
    loom::ForeignKey<Post> post;
};

constexpr auto loom_model(loom::model_of<User>) {
    return loom::table("forum_user", loom::pk(&User::id), loom::field(&User::name, "name"),
                       loom::field(&User::karma, "karma"),
                       loom::reverse(&User::posts, &Post::author),
                       loom::reverse(&User::groups, &Group::members),
                       loom::reverse(&User::comments, &Comment::author));
}
constexpr auto loom_model(loom::model_of<Group>) {
    return loom::table("forum_group", loom::pk(&Group::id), loom::field(&Group::name, "name"),
                       loom::many_to_many(&Group::members, "forum_group_members"));
}
constexpr auto loom_model(loom::model_of<Category>) {
    return loom::table("forum_category", loom::pk(&Category::id),
                       loom::field(&Category::name, "name"),
                       loom::foreign_key(&Category::parent, "parent_id", loom::nullable),
                       loom::reverse(&Category::children, &Category::parent),
                       loom::reverse(&Category::posts, &Post::category));
}
constexpr auto loom_model(loom::model_of<Tag>) {
    return loom::table("forum_tag", loom::pk(&Tag::id), loom::field(&Tag::name, "name"),
                       loom::reverse(&Tag::posts, &Post::tags));
}
constexpr auto loom_model(loom::model_of<Post>) {
    return loom::table("forum_post", loom::pk(&Post::id), loom::field(&Post::title, "title"),
                       loom::foreign_key(&Post::author, "author_id", loom::on_delete::cascade),
                       loom::foreign_key(&Post::category, "category_id", loom::on_delete::set_null),
                       loom::field(&Post::rating, "rating"), loom::field(&Post::views, "views"),
                       loom::many_to_many(&Post::tags, "forum_post_tags"),
                       loom::reverse(&Post::comments, &Comment::post),
                       loom::reverse(&Post::likes, &Like::post));
}
constexpr auto loom_model(loom::model_of<Comment>) {
    return loom::table("forum_comment", loom::pk(&Comment::id),
                       loom::foreign_key(&Comment::post, "post_id", loom::on_delete::cascade),
                       loom::foreign_key(&Comment::author, "author_id", loom::on_delete::cascade),
                       loom::foreign_key(&Comment::parent, "parent_id", loom::on_delete::set_null),
                       loom::reverse(&Comment::replies, &Comment::parent),
                       loom::field(&Comment::score, "score"), loom::field(&Comment::body, "body"));
}
constexpr auto loom_model(loom::model_of<Like>) {
    return loom::table("forum_like", loom::pk(&Like::id),
                       loom::foreign_key(&Like::user, "user_id", loom::on_delete::cascade),
                       loom::foreign_key(&Like::post, "post_id", loom::on_delete::cascade));
}

struct Forum {
    User alice, bob, carol, dave;
    Group staff, rustaceans, empty;
    Category programming, rust_cat, cooking, baking;
    Tag rust, cpp, sql, unused;
    Post borrowing, templates, rust_sql, sourdough, draft;
    Comment nice, agreed, thanks, hmm, great;
};

inline void create_forum(loom::Database& db) {
    db.create_tables<User, Group, Category, Tag, Post, Comment, Like>();
}

inline Forum seed_forum(loom::Database& db) {
    Forum f;
    db.transaction([&] {
        auto user = [&](User& u, const char* name, std::optional<int> karma) {
            u.name = name;
            u.karma = karma;
            db.insert(u);
        };
        user(f.alice, "alice", 10);
        user(f.bob, "bob", std::nullopt);
        user(f.carol, "carol", 3);
        user(f.dave, "dave", 0);
        auto group = [&](Group& g, const char* name, std::vector<User*> members) {
            g.name = name;
            db.insert(g);
            for (User* u : members) db.m2m(g, &Group::members).add(*u);
        };
        group(f.staff, "staff", {&f.alice});
        group(f.rustaceans, "rustaceans", {&f.alice, &f.bob});
        group(f.empty, "empty", {});
        auto category = [&](Category& c, const char* name, Category* parent) {
            c.name = name;
            if (parent) c.parent = *parent;
            db.insert(c);
        };
        category(f.programming, "Programming", nullptr);
        category(f.rust_cat, "Rust", &f.programming);
        category(f.cooking, "Cooking", nullptr);
        category(f.baking, "Baking", &f.cooking);
        for (auto [t, name] : {std::pair{&f.rust, "rust"}, std::pair{&f.cpp, "cpp"},
                               std::pair{&f.sql, "sql"}, std::pair{&f.unused, "unused"}}) {
            t->name = name;
            db.insert(*t);
        }
        auto post = [&](Post& p, const char* title, User& author, Category* cat,
                        std::optional<int> rating, int views, std::vector<Tag*> tags,
                        std::vector<User*> likers) {
            p.title = title;
            p.author = author;
            if (cat) p.category = *cat;
            p.rating = rating;
            p.views = views;
            db.insert(p);
            for (Tag* t : tags) db.m2m(p, &Post::tags).add(*t);
            for (User* u : likers) {
                Like l;
                l.user = *u;
                l.post = p;
                db.insert(l);
            }
        };
        post(f.borrowing, "Borrowing explained", f.alice, &f.rust_cat, 5, 100, {&f.rust},
             {&f.bob, &f.carol, &f.dave});
        post(f.templates, "Templates in C++", f.bob, &f.programming, 4, 40, {&f.cpp, &f.sql},
             {&f.alice});
        post(f.rust_sql, "Rust and SQL", f.carol, &f.rust_cat, 3, 10, {&f.rust, &f.sql},
             {&f.alice, &f.bob});
        post(f.sourdough, "Sourdough", f.dave, &f.baking, 2, 5, {}, {});
        post(f.draft, "100% draft_one", f.bob, nullptr, std::nullopt, 0, {}, {});
        auto comment = [&](Comment& c, Post& p, User& author, int score, Comment* parent,
                           const char* body) {
            c.post = p;
            c.author = author;
            c.score = score;
            if (parent) c.parent = *parent;
            c.body = body;
            db.insert(c);
        };
        comment(f.nice, f.borrowing, f.bob, 3, nullptr, "Nice");
        comment(f.agreed, f.borrowing, f.carol, 5, &f.nice, "Agreed");
        comment(f.thanks, f.borrowing, f.alice, 1, &f.agreed, "Thanks");
        comment(f.hmm, f.templates, f.alice, 2, nullptr, "Hmm");
        comment(f.great, f.rust_sql, f.bob, 4, nullptr, "Great");
    });
    return f;
}

template <class R> std::vector<std::string> titles(const R& posts) {
    std::vector<std::string> out;
    for (const Post& p : posts) out.push_back(p.title);
    return out;
}

/// The seeded forum's post titles, for the tests' expected lists.
inline const std::string B = "Borrowing explained", T = "Templates in C++", R = "Rust and SQL",
                         S = "Sourdough", D = "100% draft_one";

/// A seeded forum in memory, with the query-language tests' helpers.
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

    /// The titles of `qs`, checking it ran exactly one statement.
    std::vector<std::string> run(const loom::QuerySet<Post>& qs) {
        QueryCount q(db);
        std::vector<std::string> t = titles(qs);
        CHECK(q() == 1);
        return t;
    }
    /// The names of `qs`, checking it ran exactly one statement.
    std::vector<std::string> run(const loom::QuerySet<User>& qs) {
        QueryCount q(db);
        std::vector<std::string> out;
        for (const User& u : qs) out.push_back(u.name);
        CHECK(q() == 1);
        return out;
    }
};

}  // namespace forum
