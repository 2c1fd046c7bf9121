// Prefetch objects (issue #5): a Prefetch's own QuerySet (filter, order, select_related, nested
// prefetches), per-parent limits and offsets computed in SQL, Prefetch(...).into(...), the
// two-querysets conflict, prefetch_related_objects over objects in hand, annotate_count, and
// chunked iteration. Every test checks exact contents and the exact number of queries.
#include "catch.hpp"
#include "models.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <vector>

namespace prefetch_objects_tests {

using shop::Author;
using shop::Book;
using shop::Publisher;
using shop::Review;
using Names = std::vector<std::string>;

// Every statement the database runs while it lives: SQL, parameters, origin.
struct Log {
    std::vector<std::string> sql;
    std::vector<std::vector<loom::Value>> params;
    std::vector<std::string> origins;
    loom::Database::Subscription sub;
    explicit Log(loom::Database& db)
        : sub(db.on_query([this](const loom::QueryEvent& e) {
              sql.emplace_back(e.sql);
              params.emplace_back(e.params.begin(), e.params.end());
              origins.emplace_back(e.origin);
          })) {}
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;
    std::size_t ran() const { return sql.size(); }
};

template <class R>
Names bodies(const R& reviews) {
    Names out;
    for (const Review& r : reviews) out.push_back(r.body);
    return out;
}
template <class R>
Names titles(const R& books) {
    Names out;
    for (const Book& b : books) out.push_back(b.title);
    return out;
}
template <class R>
Names names(const R& authors) {
    Names out;
    for (const Author& a : authors) out.push_back(a.name);
    return out;
}

// The shared catalogue plus one more 5-star review of Good Omens, so that Good Omens has a tie
// at the top. Reviews by book (id: rating body):
//   The Dispossessed  1: 5 Ambiguous.
//   Good Omens        2: 5 Funny.   3: 4 Angels!   7: 5 Again.
//   Small Gods        4: 5 Om.
//   American Gods     5: 4 A road trip.   6: 3 Long.
//   The Wee Free Men  (none)
struct Store {
    loom::Database db{":memory:"};
    shop::Catalogue c;
    Store() {
        shop::create_all(db);
        c = shop::seed_catalogue(db);
        Review again;
        again.book = c.omens;
        again.rating = 5;
        again.body = "Again.";
        db.insert(again);
    }
    loom::QuerySet<Book> books() { return db.objects<Book>(); }
    loom::QuerySet<Review> reviews() { return db.objects<Review>(); }
    loom::QuerySet<Review> best_first() {
        return reviews().order_by(loom::desc(&Review::rating));
    }
};

// Each book's list, "-" for an empty one.
template <class Member>
std::vector<Names> per_book(const std::vector<Book>& books, Member member) {
    std::vector<Names> out;
    for (const Book& b : books) out.push_back(bodies(b.*member));
    return out;
}

// ---- Prefetch with its own QuerySet --------------------------------------------------------

TEST_CASE("a Prefetch's QuerySet filters and orders the related rows of each parent",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);
    auto books = s.books()
                     .prefetch_related(loom::Prefetch(
                         &Book::reviews, s.reviews()
                                             .filter(loom::col(&Review::rating) >= 4)
                                             .order_by(loom::asc(&Review::body))))
                     .to_vector();
    CHECK(log.ran() == 2);
    CHECK(log.origins[1] == "prefetch Book::reviews");
    CHECK(per_book(books, &Book::reviews) ==
          std::vector<Names>{{"Ambiguous."}, {"Again.", "Angels!", "Funny."}, {"Om."},
                             {"A road trip."}, {}});
}

TEST_CASE("a Prefetch whose QuerySet matches nothing leaves every list loaded and empty",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);
    auto books = s.books()
                     .prefetch_related(loom::Prefetch(
                         &Book::reviews, s.reviews().filter(loom::col(&Review::rating) > 5)))
                     .to_vector();
    CHECK(log.ran() == 2);
    REQUIRE(books.size() == 5);
    for (const Book& b : books) {
        CHECK(b.reviews.loaded());
        CHECK(b.reviews.empty());
    }
}

TEST_CASE("a Prefetch over no parents runs no query for its level", "[prefetch_objects]") {
    Store s;
    Log log(s.db);
    auto books = s.books()
                     .filter(loom::col(&Book::year) > 3000)
                     .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(1)))
                     .to_vector();
    CHECK(books.empty());
    CHECK(log.ran() == 1);
}

// ---- per-parent limits -----------------------------------------------------------------------

TEST_CASE("a sliced Prefetch QuerySet limits each parent, in SQL, with one query",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);

    SECTION("top 2 per book: ties broken by primary key, short lists kept, empty lists empty") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(2)))
                         .to_vector();
        REQUIRE(log.ran() == 2);
        CHECK(log.sql[1].find("ROW_NUMBER() OVER (PARTITION BY") != std::string::npos);
        CHECK(log.sql[1].find("LIMIT") == std::string::npos);
        CHECK(per_book(books, &Book::reviews) ==
              std::vector<Names>{{"Ambiguous."}, {"Funny.", "Again."}, {"Om."},
                                 {"A road trip.", "Long."}, {}});
    }
    SECTION("a reversed QuerySet breaks ties by descending primary key") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(
                             &Book::reviews,
                             s.reviews().order_by(loom::asc(&Review::rating)).reverse().limit(2)))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(bodies(books[1].reviews) == Names{"Again.", "Funny."});
    }
    SECTION("slice(1, 3): the second and third of each parent") {
        auto books = s.books()
                         .prefetch_related(
                             loom::Prefetch(&Book::reviews, s.best_first().slice(1, 3)))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(per_book(books, &Book::reviews) ==
              std::vector<Names>{{}, {"Again.", "Angels!"}, {}, {"Long."}, {}});
    }
    SECTION("offset(1) with no upper bound skips the first of each parent") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().offset(1)))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(per_book(books, &Book::reviews) ==
              std::vector<Names>{{}, {"Again.", "Angels!"}, {}, {"Long."}, {}});
    }
    SECTION("the limit and offset are bound parameters") {
        auto books = s.books()
                         .prefetch_related(
                             loom::Prefetch(&Book::reviews, s.best_first().slice(1, 3)))
                         .to_vector();
        REQUIRE(log.params.size() == 2);
        const auto& p = log.params[1];
        REQUIRE(p.size() >= 2);
        CHECK(p[p.size() - 2] == loom::Value{std::int64_t{1}});
        CHECK(p[p.size() - 1] == loom::Value{std::int64_t{3}});
    }
    SECTION("a filter and a limit together: the limit counts matching rows only") {
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(
                    &Book::reviews,
                    s.best_first().filter(loom::col(&Review::rating) < 5).limit(1)))
                .to_vector();
        CHECK(log.ran() == 2);
        CHECK(per_book(books, &Book::reviews) ==
              std::vector<Names>{{}, {"Angels!"}, {}, {"A road trip."}, {}});
    }
}

TEST_CASE("per-parent limits work across many-to-many relations, both directions",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);

    SECTION("each author's newest book") {
        auto authors =
            s.db.objects<Author>()
                .prefetch_related(loom::Prefetch(
                    &Author::books, s.books().order_by(loom::desc(&Book::year)).limit(1)))
                .to_vector();
        CHECK(log.ran() == 2);
        REQUIRE(authors.size() == 3);
        CHECK(titles(authors[0].books) == Names{"The Dispossessed"});
        CHECK(titles(authors[1].books) == Names{"The Wee Free Men"});
        CHECK(titles(authors[2].books) == Names{"American Gods"});
    }
    SECTION("a book in two partitions is read once and shared") {
        auto authors =
            s.db.objects<Author>()
                .prefetch_related(loom::Prefetch(
                    &Author::books, s.books().order_by(loom::asc(&Book::year)).limit(1)))
                .to_vector();
        CHECK(log.ran() == 2);
        CHECK(titles(authors[1].books) == Names{"Good Omens"});
        CHECK(titles(authors[2].books) == Names{"Good Omens"});
        CHECK(&authors[1].books[0] == &authors[2].books[0]);
    }
    SECTION("the first author of each book by name") {
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(
                    &Book::authors, s.db.objects<Author>().order_by(&Author::name).limit(1)))
                .to_vector();
        CHECK(log.ran() == 2);
        CHECK(names(books[1].authors) == Names{"Neil Gaiman"});
        CHECK(names(books[4].authors) == Names{"Terry Pratchett"});
    }
}

TEST_CASE("a per-parent limit on a to-one relation is an error", "[prefetch_objects]") {
    Store s;
    Log log(s.db);
    CHECK_THROWS_WITH(
        loom::Prefetch(&Review::book, s.books().limit(1)),
        "Prefetch(Review::book): a per-parent limit or offset needs a to-many relation");
    CHECK(log.ran() == 0);
}

// ---- into ------------------------------------------------------------------------------------

TEST_CASE("Prefetch(...).into fills another member and leaves the relation unloaded",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);

    SECTION("top 1 per book into top_reviews") {
        auto books = s.books()
                         .prefetch_related(
                             loom::Prefetch(&Book::reviews, s.best_first().limit(1))
                                 .into(&Book::top_reviews))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(per_book(books, &Book::top_reviews) ==
              std::vector<Names>{{"Ambiguous."}, {"Funny."}, {"Om."}, {"A road trip."}, {}});
        for (const Book& b : books) CHECK_FALSE(b.reviews.loaded());
        CHECK_THROWS_AS(books[1].reviews.size(), loom::NotLoaded);
    }
    SECTION("the whole relation and a filtered target side by side, one query each") {
        auto books = s.books()
                         .prefetch_related(&Book::reviews,
                                           loom::Prefetch(&Book::reviews, s.best_first().limit(1))
                                               .into(&Book::top_reviews))
                         .to_vector();
        CHECK(log.ran() == 3);
        CHECK(bodies(books[1].reviews) == Names{"Funny.", "Angels!", "Again."});
        CHECK(bodies(books[1].top_reviews) == Names{"Funny."});
    }
    SECTION("nesting through the target: each top review's book and that book's publisher") {
        auto books =
            s.books()
                .prefetch_related(
                    loom::Prefetch(&Book::reviews,
                                   s.best_first().limit(2).prefetch_related(
                                       loom::path(&Review::book, &Book::publisher)))
                        .into(&Book::top_reviews))
                .to_vector();
        REQUIRE(log.ran() == 4);
        CHECK(log.origins ==
              Names{"Book", "prefetch Book::reviews", "prefetch Review::book",
                    "prefetch Book::publisher"});
        REQUIRE(bodies(books[3].top_reviews) == Names{"A road trip.", "Long."});
        CHECK(books[3].top_reviews[0].book->title == "American Gods");
        CHECK(books[3].top_reviews[1].book->publisher->name == "Penguin");
        CHECK(books[1].top_reviews[1].book->publisher->name == "Gollancz");
        // The two reviews of one book point at the same loaded Book.
        CHECK(books[3].top_reviews[0].book.get() == books[3].top_reviews[1].book.get());
        CHECK_FALSE(books[3].reviews.loaded());
    }
    SECTION("select_related inside the Prefetch QuerySet joins instead of querying") {
        auto books = s.books()
                         .prefetch_related(
                             loom::Prefetch(&Book::reviews,
                                            s.best_first().limit(1).select_related(&Review::book))
                                 .into(&Book::top_reviews))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(books[2].top_reviews[0].book->title == "Small Gods");
    }
}

// ---- the same path, two querysets ------------------------------------------------------------

TEST_CASE("one path given two different querysets is an error before any query runs",
          "[prefetch_objects]") {
    Store s;
    const std::string message =
        "prefetch_related: Book::reviews was given two different querysets; use "
        "Prefetch(...).into(...) to load the second one into another member";
    auto good = s.reviews().filter(loom::col(&Review::rating) >= 4);
    auto any = s.reviews().filter(loom::col(&Review::rating) >= 2);
    Log log(s.db);

    SECTION("in one prefetch_related call") {
        CHECK_THROWS_WITH(s.books().prefetch_related(loom::Prefetch(&Book::reviews, good),
                                                     loom::Prefetch(&Book::reviews, any)),
                          message);
    }
    SECTION("in two chained calls") {
        auto first = s.books().prefetch_related(loom::Prefetch(&Book::reviews, good));
        CHECK_THROWS_WITH(first.prefetch_related(loom::Prefetch(&Book::reviews, any)), message);
    }
    SECTION("querysets that differ only in their limit") {
        CHECK_THROWS_WITH(
            s.books().prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(3)),
                                       loom::Prefetch(&Book::reviews, s.best_first().limit(5))),
            message);
    }
    SECTION("two querysets into the same target member") {
        CHECK_THROWS_WITH(
            s.books().prefetch_related(
                loom::Prefetch(&Book::reviews, good).into(&Book::top_reviews),
                loom::Prefetch(&Book::reviews, any).into(&Book::top_reviews)),
            "prefetch_related: Book::reviews (loaded into another member by into(...)) was "
            "given two different querysets; use Prefetch(...).into(...) to load the second one "
            "into another member");
    }
    SECTION("in prefetch_related_objects, leaving the objects untouched") {
        auto books = s.books().to_vector();
        log.sql.clear();
        CHECK_THROWS_AS(loom::prefetch_related_objects(s.db, books,
                                                       loom::Prefetch(&Book::reviews, good),
                                                       loom::Prefetch(&Book::reviews, any)),
                        loom::UsageError);
        for (const Book& b : books) CHECK_FALSE(b.reviews.loaded());
    }
    CHECK(log.ran() == 0);
}

TEST_CASE("the same queryset twice, or two querysets into two members, is no conflict",
          "[prefetch_objects]") {
    Store s;
    Log log(s.db);

    SECTION("equal querysets built separately are loaded once") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(1)),
                                           loom::Prefetch(&Book::reviews, s.best_first().limit(1)))
                         .to_vector();
        CHECK(log.ran() == 2);
        CHECK(bodies(books[1].reviews) == Names{"Funny."});
    }
    SECTION("two querysets, two members") {
        auto books =
            s.books()
                .prefetch_related(
                    loom::Prefetch(&Book::reviews, s.reviews().filter(loom::col(&Review::rating) < 4)),
                    loom::Prefetch(&Book::reviews, s.best_first().limit(1)).into(&Book::top_reviews))
                .to_vector();
        CHECK(log.ran() == 3);
        CHECK(bodies(books[3].reviews) == Names{"Long."});
        CHECK(bodies(books[3].top_reviews) == Names{"A road trip."});
    }
    SECTION("a plain path through a Prefetch's relation nests under the Prefetch's rows") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(1)),
                                           loom::path(&Book::reviews, &Review::book))
                         .to_vector();
        CHECK(log.ran() == 3);
        CHECK(bodies(books[3].reviews) == Names{"A road trip."});
        CHECK(books[3].reviews[0].book->title == "American Gods");
    }
}

// ---- prefetch_related_objects ----------------------------------------------------------------

TEST_CASE("prefetch_related_objects skips instances whose relation is already loaded",
          "[prefetch_objects]") {
    Store s;
    auto books = s.books().to_vector();

    SECTION("a second call with the same objects runs no query") {
        Log log(s.db);
        loom::prefetch_related_objects(s.db, books, &Book::reviews, &Book::publisher);
        CHECK(log.ran() == 2);
        const Review* first = &books[1].reviews[0];
        loom::prefetch_related_objects(s.db, books, &Book::reviews, &Book::publisher);
        CHECK(log.ran() == 2);
        CHECK(&books[1].reviews[0] == first);
        CHECK(bodies(books[1].reviews) == Names{"Funny.", "Angels!", "Again."});
    }
    SECTION("only the instances not loaded yet are queried, with only their keys") {
        std::vector<Book> some(books.begin(), books.begin() + 2);
        loom::prefetch_related_objects(s.db, some, &Book::reviews);
        // Copies keep their loaded caches: the first two are loaded, the other three are not.
        std::vector<Book> mixed{some[0], some[1], books[2], books[3], books[4]};
        Log log(s.db);
        loom::prefetch_related_objects(s.db, mixed, &Book::reviews);
        REQUIRE(log.ran() == 1);
        std::set<std::int64_t> keys;
        for (const auto& v : log.params[0]) keys.insert(std::get<std::int64_t>(v));
        CHECK(keys == std::set<std::int64_t>{3, 4, 5});
        CHECK(per_book(mixed, &Book::reviews) ==
              std::vector<Names>{{"Ambiguous."}, {"Funny.", "Angels!", "Again."}, {"Om."},
                                 {"A road trip.", "Long."}, {}});
    }
    SECTION("a nested path runs only its lower level below a loaded relation") {
        loom::prefetch_related_objects(s.db, books, &Book::authors);
        Log log(s.db);
        loom::prefetch_related_objects(s.db, books, loom::path(&Book::authors, &Author::books));
        CHECK(log.origins == Names{"prefetch Author::books"});
        CHECK(titles(books[3].authors[0].books) == Names{"Good Omens", "American Gods"});
        loom::prefetch_related_objects(s.db, books, loom::path(&Book::authors, &Author::books));
        CHECK(log.ran() == 1);
    }
    SECTION("objects from a prefetched QuerySet run no query for the same relation") {
        auto loaded = s.books().prefetch_related(&Book::reviews).to_vector();
        Log log(s.db);
        loom::prefetch_related_objects(s.db, loaded, &Book::reviews);
        CHECK(log.ran() == 0);
    }
    SECTION("a relation joined by select_related runs no query") {
        auto joined = s.books().select_related(&Book::publisher).to_vector();
        Log log(s.db);
        loom::prefetch_related_objects(s.db, joined, loom::path(&Book::publisher, &Publisher::books));
        CHECK(log.origins == Names{"prefetch Publisher::books"});
        CHECK(titles(joined[4].publisher->books) == Names{"American Gods", "The Wee Free Men"});
    }
    SECTION("an into target is checked, not the relation it comes from") {
        loom::prefetch_related_objects(s.db, books, &Book::reviews);
        Log log(s.db);
        auto top = loom::Prefetch(&Book::reviews, s.best_first().limit(1)).into(&Book::top_reviews);
        loom::prefetch_related_objects(s.db, books, top);
        CHECK(log.ran() == 1);
        loom::prefetch_related_objects(s.db, books, top);
        CHECK(log.ran() == 1);
        CHECK(bodies(books[3].top_reviews) == Names{"A road trip."});
        CHECK(bodies(books[3].reviews) == Names{"A road trip.", "Long."});
    }
    SECTION("an empty range runs no query") {
        std::vector<Book> none;
        Log log(s.db);
        loom::prefetch_related_objects(s.db, none, &Book::reviews);
        CHECK(log.ran() == 0);
    }
    SECTION("db.load reads a loaded relation again") {
        loom::prefetch_related_objects(s.db, books, &Book::reviews);
        Review extra;
        extra.book = books[4];
        extra.rating = 2;
        extra.body = "Late.";
        s.db.insert(extra);
        Log log(s.db);
        s.db.load(books[4], &Book::reviews);
        CHECK(log.ran() == 1);
        CHECK(bodies(books[4].reviews) == Names{"Late."});
    }
}

}  // namespace prefetch_objects_tests
