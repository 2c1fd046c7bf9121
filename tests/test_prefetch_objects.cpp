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

// Models for annotate_count: each has count members that are not in its descriptor (starting
// at -1, so that a test sees the 0 written for a parent with no related rows).
namespace prefetch_objects_models {

struct Item;
struct Label;

struct Shelf {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Item> items;
    std::int64_t item_count = -1;
    int heavy_count = -1;
};

struct Item {
    std::int64_t id = 0;
    std::string name;
    int weight = 0;
    loom::ForeignKey<Shelf> shelf;
    loom::ManyToMany<Label> labels;
    std::int64_t label_count = -1;
};

struct Label {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Item> items;
    std::int64_t item_count = -1;
};

}  // namespace prefetch_objects_models

namespace prefetch_objects_models {
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("pfo_shelf", loom::pk(&prefetch_objects_models::Shelf::id),
                       loom::field(&prefetch_objects_models::Shelf::name, "name"),
                       loom::reverse(&prefetch_objects_models::Shelf::items,
                                     &prefetch_objects_models::Item::shelf));
}
}  // namespace prefetch_objects_models

namespace prefetch_objects_models {
constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table(
        "pfo_item", loom::pk(&prefetch_objects_models::Item::id),
        loom::field(&prefetch_objects_models::Item::name, "name"),
        loom::field(&prefetch_objects_models::Item::weight, "weight"),
        loom::foreign_key(&prefetch_objects_models::Item::shelf, "shelf_id"),
        loom::many_to_many(&prefetch_objects_models::Item::labels, "pfo_item_labels"));
}
}  // namespace prefetch_objects_models

namespace prefetch_objects_models {
constexpr auto loom_model(loom::model_of<Label>) {
    return loom::table("pfo_label", loom::pk(&prefetch_objects_models::Label::id),
                       loom::field(&prefetch_objects_models::Label::name, "name"),
                       loom::reverse(&prefetch_objects_models::Label::items,
                                     &prefetch_objects_models::Item::labels));
}
}  // namespace prefetch_objects_models

namespace prefetch_objects_tests {

using prefetch_objects_models::Item;
using prefetch_objects_models::Label;
using prefetch_objects_models::Shelf;
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

template <class R> Names bodies(const R& reviews) {
    Names out;
    for (const Review& r : reviews) out.push_back(r.body);
    return out;
}
template <class R> Names titles(const R& books) {
    Names out;
    for (const Book& b : books) out.push_back(b.title);
    return out;
}
template <class R> Names names(const R& authors) {
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
struct Store : shop::SeededShop {
    Store() {
        Review again;
        again.book = c.omens;
        again.rating = 5;
        again.body = "Again.";
        db.insert(again);
    }
    loom::QuerySet<Book> books() { return db.objects<Book>(); }
    loom::QuerySet<Review> reviews() { return db.objects<Review>(); }
    loom::QuerySet<Review> best_first() { return reviews().order_by(loom::desc(&Review::rating)); }
};

// Each book's list, "-" for an empty one.
template <class Member> std::vector<Names> per_book(const std::vector<Book>& books, Member member) {
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
                     .prefetch_related(
                         loom::Prefetch(&Book::reviews, s.reviews()
                                                            .filter(loom::col(&Review::rating) >= 4)
                                                            .order_by(loom::asc(&Review::body))))
                     .to_vector();
    CHECK(log.ran() == 2);
    CHECK(log.origins[1] == "prefetch Book::reviews");
    CHECK(per_book(books, &Book::reviews) ==
          std::vector<Names>{
              {"Ambiguous."}, {"Again.", "Angels!", "Funny."}, {"Om."}, {"A road trip."}, {}});
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
              std::vector<Names>{
                  {"Ambiguous."}, {"Funny.", "Again."}, {"Om."}, {"A road trip.", "Long."}, {}});
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
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().slice(1, 3)))
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
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().slice(1, 3)))
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
                    &Book::reviews, s.best_first().filter(loom::col(&Review::rating) < 5).limit(1)))
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
        auto authors = s.db.objects<Author>()
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
                         .prefetch_related(loom::Prefetch(&Book::reviews, s.best_first().limit(1))
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
                    loom::Prefetch(&Book::reviews, s.best_first().limit(2).prefetch_related(
                                                       loom::path(&Review::book, &Book::publisher)))
                        .into(&Book::top_reviews))
                .to_vector();
        // Each review's book is the book it was loaded for (a back reference, as in Django):
        // the Review::book level runs no query, the publishers' level runs on those books.
        REQUIRE(log.ran() == 3);
        CHECK(log.origins == Names{"Book", "prefetch Book::reviews", "prefetch Book::publisher"});
        REQUIRE(bodies(books[3].top_reviews) == Names{"A road trip.", "Long."});
        CHECK(books[3].top_reviews[0].book->title == "American Gods");
        CHECK(books[3].top_reviews[1].book->publisher->name == "Penguin");
        CHECK(books[1].top_reviews[1].book->publisher->name == "Gollancz");
        // The two reviews of one book point at the same loaded Book.
        CHECK(books[3].top_reviews[0].book.get() == books[3].top_reviews[1].book.get());
        CHECK(books[3].top_reviews[0].book->id == books[3].id);
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
        CHECK_THROWS_AS(
            loom::prefetch_related_objects(s.db, books, loom::Prefetch(&Book::reviews, good),
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
        auto books = s.books()
                         .prefetch_related(
                             loom::Prefetch(&Book::reviews,
                                            s.reviews().filter(loom::col(&Review::rating) < 4)),
                             loom::Prefetch(&Book::reviews, s.best_first().limit(1))
                                 .into(&Book::top_reviews))
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
        CHECK(log.ran() == 2);  // each review's book is known: a back reference
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
        for (const auto& v : log.params[0])
            if (std::holds_alternative<std::int64_t>(v)) keys.insert(std::get<std::int64_t>(v));
        if (on_postgres())  // one bigint[] parameter
            CHECK(log.params[0] == std::vector<loom::Value>{std::string("{3,4,5}")});
        else
            CHECK(keys == std::set<std::int64_t>{3, 4, 5});
        CHECK(per_book(mixed, &Book::reviews) == std::vector<Names>{{"Ambiguous."},
                                                                    {"Funny.", "Angels!", "Again."},
                                                                    {"Om."},
                                                                    {"A road trip.", "Long."},
                                                                    {}});
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
        loom::prefetch_related_objects(s.db, joined,
                                       loom::path(&Book::publisher, &Publisher::books));
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

// ---- annotate_count --------------------------------------------------------------------------

// Shelves A (hammer 5, saw 3, nail 1), B (drill 7), C (empty).
// Labels: tools (hammer, saw, drill), sharp (saw, nail), spare (none).
struct Workshop {
    loom::Database db{test_url()};
    Shelf a, b, c;
    Item hammer, saw, nail, drill;
    Label tools, sharp, spare;
    Workshop() {
        db.create_tables<Shelf, Item, Label>();
        a.name = "A";
        b.name = "B";
        c.name = "C";
        for (Shelf* sh : {&a, &b, &c}) db.insert(*sh);
        auto item = [&](Item& it, const char* name, int weight, Shelf& sh) {
            it.name = name;
            it.weight = weight;
            it.shelf = sh;
            db.insert(it);
        };
        item(hammer, "hammer", 5, a);
        item(saw, "saw", 3, a);
        item(nail, "nail", 1, a);
        item(drill, "drill", 7, b);
        tools.name = "tools";
        sharp.name = "sharp";
        spare.name = "spare";
        for (Label* l : {&tools, &sharp, &spare}) db.insert(*l);
        for (Item* it : {&hammer, &saw, &drill}) db.m2m(*it, &Item::labels).add(tools);
        for (Item* it : {&saw, &nail}) db.m2m(*it, &Item::labels).add(sharp);
    }
    loom::QuerySet<Shelf> shelves() { return db.objects<Shelf>(); }
    loom::QuerySet<Item> items() { return db.objects<Item>(); }
    loom::QuerySet<Label> labels() { return db.objects<Label>(); }
};

template <class R, class C> std::vector<std::int64_t> counts(const R& rows, C member) {
    std::vector<std::int64_t> out;
    for (const auto& r : rows) out.push_back(static_cast<std::int64_t>(r.*member));
    return out;
}

TEST_CASE("annotate_count counts each parent's related rows with one GROUP BY query",
          "[prefetch_objects][annotate_count]") {
    Workshop w;
    Log log(w.db);

    SECTION("a reverse foreign key; an empty shelf gets 0") {
        auto shelves = w.shelves().annotate_count(&Shelf::items, &Shelf::item_count).to_vector();
        REQUIRE(log.ran() == 2);
        CHECK(log.origins[1] == "count Shelf::items");
        // (PostgreSQL: always one array parameter.)
        CHECK(log.sql[1] ==
              "SELECT t0.\"shelf_id\", COUNT(*) FROM \"pfo_item\" AS t0 WHERE t0.\"shelf_id\"" +
                  on_engine(" IN (?, ?, ?, ?)", " = ANY(?::bigint[])") +
                  " GROUP BY t0.\"shelf_id\"");
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
        CHECK_FALSE(shelves[0].items.loaded());
    }
    SECTION("more keys than json_keys_above: one JSON array, the same counts") {
        w.db.set_json_keys_above(2);
        auto shelves = w.shelves().annotate_count(&Shelf::items, &Shelf::item_count).to_vector();
        REQUIRE(log.ran() == 2);
        CHECK(log.sql[1] ==
              "SELECT t0.\"shelf_id\", COUNT(*) FROM \"pfo_item\" AS t0 WHERE t0.\"shelf_id\"" +
                  on_engine(" IN (SELECT value FROM json_each(?))", " = ANY(?::bigint[])") +
                  " GROUP BY t0.\"shelf_id\"");
        CHECK(log.params[1] ==
              std::vector<loom::Value>{std::string(on_engine("[1,2,3]", "{1,2,3}"))});
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
    }
    SECTION("a many-to-many from its declaring side") {
        auto items = w.items().annotate_count(&Item::labels, &Item::label_count).to_vector();
        CHECK(log.ran() == 2);
        CHECK(log.sql[1].find("JOIN \"pfo_item_labels\" AS j") != std::string::npos);
        CHECK(counts(items, &Item::label_count) == std::vector<std::int64_t>{1, 2, 1, 1});
    }
    SECTION("a many-to-many from its reverse side") {
        auto labels = w.labels().annotate_count(&Label::items, &Label::item_count).to_vector();
        CHECK(log.ran() == 2);
        CHECK(counts(labels, &Label::item_count) == std::vector<std::int64_t>{3, 2, 0});
    }
    SECTION("a QuerySet of the related model filters what is counted") {
        auto shelves = w.shelves()
                           .annotate_count(&Shelf::items, &Shelf::heavy_count,
                                           w.items().filter(loom::col(&Item::weight) >= 5))
                           .to_vector();
        CHECK(log.ran() == 2);
        CHECK(log.sql[1].find("(t0.\"weight\" >= ?)") != std::string::npos);
        CHECK(counts(shelves, &Shelf::heavy_count) == std::vector<std::int64_t>{1, 1, 0});
    }
    SECTION("a filter across a join, on a many-to-many") {
        auto labels =
            w.labels()
                .annotate_count(&Label::items, &Label::item_count,
                                w.items().filter(loom::col(&Item::shelf, &Shelf::name) == "A"))
                .to_vector();
        CHECK(log.ran() == 2);
        CHECK(counts(labels, &Label::item_count) == std::vector<std::int64_t>{2, 2, 0});
    }
    SECTION("two counts and a prefetch: one query each") {
        auto shelves = w.shelves()
                           .annotate_count(&Shelf::items, &Shelf::item_count)
                           .annotate_count(&Shelf::items, &Shelf::heavy_count,
                                           w.items().filter(loom::col(&Item::weight) >= 5))
                           .prefetch_related(&Shelf::items)
                           .to_vector();
        CHECK(log.ran() == 4);
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
        CHECK(counts(shelves, &Shelf::heavy_count) == std::vector<std::int64_t>{1, 1, 0});
        CHECK(shelves[0].items.size() == 3);
    }
    SECTION("the same count twice runs once") {
        auto shelves = w.shelves()
                           .annotate_count(&Shelf::items, &Shelf::item_count)
                           .annotate_count(&Shelf::items, &Shelf::item_count)
                           .to_vector();
        CHECK(log.ran() == 2);
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
    }
    SECTION("counts on the rows of a Prefetch, through the Prefetch's QuerySet") {
        auto shelves =
            w.shelves()
                .prefetch_related(loom::Prefetch(
                    &Shelf::items, w.items().annotate_count(&Item::labels, &Item::label_count)))
                .to_vector();
        CHECK(log.origins == Names{"Shelf", "prefetch Shelf::items", "count Item::labels"});
        CHECK(counts(shelves[0].items, &Item::label_count) == std::vector<std::int64_t>{1, 2, 1});
        CHECK(counts(shelves[1].items, &Item::label_count) == std::vector<std::int64_t>{1});
    }
    SECTION("keys past the batch size are counted in more queries, none lost") {
        w.db.set_batch_size(2);
        auto shelves = w.shelves().annotate_count(&Shelf::items, &Shelf::item_count).to_vector();
        CHECK(log.ran() == 3);
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
    }
    SECTION("no parents, no count query") {
        auto shelves = w.shelves()
                           .filter(loom::col(&Shelf::name) == "Z")
                           .annotate_count(&Shelf::items, &Shelf::item_count)
                           .to_vector();
        CHECK(shelves.empty());
        CHECK(log.ran() == 1);
    }
    SECTION("prefetch_related(loom::none) clears prefetches and keeps counts") {
        auto shelves = w.shelves()
                           .annotate_count(&Shelf::items, &Shelf::item_count)
                           .prefetch_related(&Shelf::items)
                           .prefetch_related(loom::none)
                           .to_vector();
        CHECK(log.origins == Names{"Shelf", "count Shelf::items"});
        CHECK(counts(shelves, &Shelf::item_count) == std::vector<std::int64_t>{3, 1, 0});
    }
    SECTION("explain() shows the count query and its plan") {
        const auto lines = w.shelves().annotate_count(&Shelf::items, &Shelf::item_count).explain();
        const auto at = std::find_if(lines.begin(), lines.end(), [](const std::string& l) {
            return l.rfind("count Shelf::items: SELECT t0.\"shelf_id\", COUNT(*)", 0) == 0;
        });
        REQUIRE(at != lines.end());
        REQUIRE(std::next(at) != lines.end());
        // The plan's lines follow (PostgreSQL names the table below the aggregate node).
        CHECK(std::any_of(std::next(at), lines.end(), [](const std::string& l) {
            return l.find("pfo_item") != std::string::npos;
        }));
    }
    SECTION("get() and first() count too") {
        auto one = w.shelves()
                       .annotate_count(&Shelf::items, &Shelf::item_count)
                       .get(loom::col(&Shelf::name) == "B");
        CHECK(one.item_count == 1);
        CHECK(log.ran() == 2);
    }
}

TEST_CASE("annotate_count rejects what it cannot count, before any query",
          "[prefetch_objects][annotate_count]") {
    Workshop w;
    Log log(w.db);

    SECTION("a member that is a column of the descriptor") {
        CHECK_THROWS_WITH(w.items().annotate_count(&Item::labels, &Item::weight),
                          "annotate_count: the count member is a column of Item's descriptor; "
                          "count into a plain member that loom::model<Item> does not declare");
    }
    SECTION("a sliced QuerySet as the filter") {
        CHECK_THROWS_WITH(
            w.shelves().annotate_count(&Shelf::items, &Shelf::item_count, w.items().limit(1)),
            "annotate_count(Shelf::items): the QuerySet that filters the count is sliced; a "
            "count uses only its filters");
    }
    SECTION("two different counts into one member") {
        CHECK_THROWS_WITH(
            w.shelves()
                .annotate_count(&Shelf::items, &Shelf::item_count)
                .annotate_count(&Shelf::items, &Shelf::item_count,
                                w.items().filter(loom::col(&Item::weight) >= 5)),
            "annotate_count: Shelf::items and Shelf::items are counted into the same member with "
            "different querysets; give each count its own member");
    }
    CHECK(log.ran() == 0);
}

// ---- chunks ----------------------------------------------------------------------------------

// Ids of every row, chunk by chunk.
template <class T> std::vector<std::vector<std::int64_t>> chunk_ids(loom::Chunks<T>&& chunks) {
    std::vector<std::vector<std::int64_t>> out;
    for (std::vector<T>& chunk : chunks) {
        out.emplace_back();
        for (const T& row : chunk) out.back().push_back(row.id);
    }
    return out;
}

std::vector<std::int64_t> flat(const std::vector<std::vector<std::int64_t>>& chunks) {
    std::vector<std::int64_t> out;
    for (const auto& c : chunks) out.insert(out.end(), c.begin(), c.end());
    return out;
}

template <class T> std::vector<std::int64_t> ids_of(const loom::QuerySet<T>& qs) {
    std::vector<std::int64_t> out;
    for (const T& row : qs.to_vector()) out.push_back(row.id);
    return out;
}

static_assert(std::ranges::input_range<loom::Chunks<Book>>);
static_assert(std::same_as<std::ranges::range_reference_t<loom::Chunks<Book>>, std::vector<Book>&>);

TEST_CASE("chunks(n) reads every row once, n at a time, by keyset and never OFFSET",
          "[prefetch_objects][chunks]") {
    Store s;
    Log log(s.db);

    SECTION("primary key order: 2 + 2 + 1, one query each") {
        auto ids = chunk_ids(s.books().chunks(2));
        CHECK(ids == std::vector<std::vector<std::int64_t>>{{1, 2}, {3, 4}, {5}});
        REQUIRE(log.ran() == 3);
        CHECK(log.sql[0].find("WHERE") == std::string::npos);
        CHECK(log.sql[1].find("WHERE ((t0.\"id\") > (?)) ORDER BY t0.\"id\" ASC LIMIT ?") !=
              std::string::npos);
        for (const auto& sql : log.sql) CHECK(sql.find("OFFSET") == std::string::npos);
        CHECK(log.params[1] == std::vector<loom::Value>{std::int64_t{2}, std::int64_t{3}});
    }
    SECTION("a chunk size that divides the rows runs no trailing empty query") {
        CHECK(chunk_ids(s.books().chunks(5)) ==
              std::vector<std::vector<std::int64_t>>{{1, 2, 3, 4, 5}});
        CHECK(log.ran() == 1);
    }
    SECTION("chunks of one") {
        CHECK(flat(chunk_ids(s.books().chunks(1))) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
        CHECK(log.ran() == 5);
    }
    SECTION("no rows: no chunk, one query") {
        auto none = s.books().filter(loom::col(&Book::year) > 3000).chunks(2);
        CHECK(none.begin() == none.end());
        CHECK(log.ran() == 1);
    }
    SECTION("filters apply to every chunk") {
        auto qs = s.books().filter(loom::col(&Book::year) >= 1990);
        CHECK(chunk_ids(qs.chunks(2)) == std::vector<std::vector<std::int64_t>>{{2, 3}, {4, 5}});
        CHECK(log.ran() == 2);
    }
    SECTION("a reversed QuerySet walks the primary key downwards") {
        CHECK(chunk_ids(s.books().reverse().chunks(2)) ==
              std::vector<std::vector<std::int64_t>>{{5, 4}, {3, 2}, {1}});
        CHECK(log.sql[1].find("(t0.\"id\") < (?)") != std::string::npos);
    }
    SECTION("a sliced QuerySet skips its offset once and stops at its end") {
        CHECK(chunk_ids(s.books().slice(1, 4).chunks(2)) ==
              std::vector<std::vector<std::int64_t>>{{2, 3}, {4}});
        REQUIRE(log.ran() == 2);
        CHECK(log.sql[0].find("OFFSET ?") != std::string::npos);
        CHECK(log.sql[1].find("OFFSET") == std::string::npos);
    }
    SECTION("select_related rides along in each chunk") {
        auto chunks = s.books().select_related(&Book::publisher).chunks(3);
        std::vector<std::string> publishers;
        for (auto& chunk : chunks)
            for (const Book& b : chunk) publishers.push_back(b.publisher->name);
        CHECK(publishers == Names{"Gollancz", "Gollancz", "Gollancz", "Penguin", "Penguin"});
        CHECK(log.ran() == 2);
    }
    SECTION("a chunk size below 1 is an error") {
        CHECK_THROWS_WITH(s.books().chunks(0), "chunks(0): a chunk holds at least one row");
        CHECK(log.ran() == 0);
    }
}

TEST_CASE("chunks(n) applies every prefetch to each chunk: 1 + levels queries per chunk",
          "[prefetch_objects][chunks]") {
    Store s;
    Log log(s.db);
    auto qs =
        s.books().prefetch_related(&Book::reviews, loom::path(&Book::authors, &Author::books));
    std::vector<Names> reviews;
    std::vector<Names> co_titles;
    std::vector<std::size_t> queries_per_chunk;
    std::size_t before = 0;
    for (std::vector<Book>& chunk : qs.chunks(2)) {
        CHECK(chunk.size() <= 2);
        queries_per_chunk.push_back(log.ran() - before);
        before = log.ran();
        for (const Book& b : chunk) {
            reviews.push_back(bodies(b.reviews));
            co_titles.push_back(titles(b.authors[0].books));
        }
    }
    CHECK(queries_per_chunk == std::vector<std::size_t>{4, 4, 4});
    CHECK(reviews == std::vector<Names>{{"Ambiguous."},
                                        {"Funny.", "Angels!", "Again."},
                                        {"Om."},
                                        {"A road trip.", "Long."},
                                        {}});
    CHECK(co_titles[0] == Names{"The Dispossessed"});
    CHECK(co_titles[4] == Names{"Good Omens", "Small Gods", "The Wee Free Men"});
    // Each prefetch level only sees the keys of its own chunk.
    for (std::size_t i = 0; i < log.ran(); ++i)
        if (log.origins[i] == "prefetch Book::reviews") CHECK(log.params[i].size() <= 2);
}

TEST_CASE("chunks(n) with a per-parent Prefetch and counts", "[prefetch_objects][chunks]") {
    Workshop w;
    Log log(w.db);
    auto qs = w.shelves()
                  .annotate_count(&Shelf::items, &Shelf::item_count)
                  .prefetch_related(loom::Prefetch(
                      &Shelf::items, w.items().order_by(loom::desc(&Item::weight)).limit(1)));
    std::vector<std::int64_t> item_counts;
    std::vector<Names> heaviest;
    for (auto& chunk : qs.chunks(2))
        for (const Shelf& sh : chunk) {
            item_counts.push_back(sh.item_count);
            Names n;
            for (const Item& it : sh.items) n.push_back(it.name);
            heaviest.push_back(n);
        }
    CHECK(item_counts == std::vector<std::int64_t>{3, 1, 0});
    CHECK(heaviest == std::vector<Names>{{"hammer"}, {"drill"}, {}});
    CHECK(log.ran() == 6);  // two chunks of 1 + 2 queries
}

// Reviews with many ties and NULL-free ratings, authors with NULL birth years: orders whose
// keyset needs the primary key to break ties and NULL-aware comparisons.
TEST_CASE("chunks(n) follows an explicit order, ties broken by primary key",
          "[prefetch_objects][chunks]") {
    Store s;
    s.db.transaction([&] {
        for (int i = 0; i < 40; ++i) {
            Review r;
            r.book = (i % 5) + 1;
            r.rating = i % 3;
            // A named string, not "r" + std::to_string(...): at -O3 GCC 12 inlines
            // operator+(const char*, std::string&&) into a bogus -Wstringop-overflow warning.
            const std::string n = std::to_string(i % 7);
            r.body = "r" + n;
            s.db.insert(r);
        }
        for (int i = 0; i < 9; ++i) {
            Author a;
            a.name = "author " + std::to_string(i % 4);
            if (i % 3 != 0) a.born = 1950 + i % 2;
            s.db.insert(a);
        }
    });
    auto check_same = [&](auto qs, std::int64_t n) {
        const auto expected = ids_of(qs);
        Log log(s.db);
        const auto got = chunk_ids(qs.chunks(n));
        CHECK(flat(got) == expected);
        std::set<std::int64_t> unique(expected.begin(), expected.end());
        CHECK(unique.size() == expected.size());
        // One query per chunk, and no trailing query that finds nothing.
        const auto rows = expected.size(), size = static_cast<std::size_t>(n);
        CHECK(log.ran() == (rows == 0 ? 1 : (rows + size - 1) / size));
        for (const auto& c : got) CHECK(c.size() <= static_cast<std::size_t>(n));
    };

    SECTION("descending rating") {
        check_same(s.reviews().order_by(loom::desc(&Review::rating)), 4);
    }
    SECTION("ascending rating, then descending body") {
        check_same(s.reviews().order_by(&Review::rating, loom::desc(&Review::body)), 3);
    }
    SECTION("a reversed mixed order") {
        check_same(s.reviews().order_by(&Review::rating, loom::desc(&Review::body)).reverse(), 5);
    }
    SECTION("a column of a joined model") {
        check_same(s.books().order_by(loom::desc(loom::col(&Book::publisher, &Publisher::name))),
                   2);
    }
    SECTION("a filtered, ordered QuerySet") {
        check_same(s.reviews().filter(loom::col(&Review::rating) > 0).order_by(&Review::body), 6);
    }
    SECTION("a nullable column, ascending: NULLs first") {
        check_same(s.db.objects<Author>().order_by(&Author::born), 2);
    }
    SECTION("a nullable column, descending: NULLs last") {
        check_same(s.db.objects<Author>().order_by(loom::desc(&Author::born), &Author::name), 2);
    }
    SECTION("a nullable column, one row per chunk") {
        check_same(s.db.objects<Author>().order_by(loom::desc(&Author::born)), 1);
        check_same(s.db.objects<Author>().order_by(&Author::born), 1);
    }
    SECTION("the primary key in the middle of the order ends the comparison") {
        check_same(s.reviews().order_by(&Review::rating, &Review::id, &Review::body), 7);
    }
}

}  // namespace prefetch_objects_tests
