// Prefetch paths spelled as in Django ("authors__books"), checked at compile time.
#include <loom/lookup.hpp>

#include "catch.hpp"
#include "models.hpp"

namespace lookup_test {

using namespace shop;

TEST_CASE("a Django-style lookup loads the same levels as loom::path") {
    loom::Database db{test_url()};
    create_all(db);
    seed_catalogue(db);
    db.reset_query_count();

    auto books = db.objects<Book>()
                     .prefetch_related(loom::lookup<Book, "authors__books__publisher">())
                     .to_vector();
    // books, authors, the authors' books, those books' publishers.
    CHECK(db.query_count() == 4);
    REQUIRE(books.size() == 5);
    const Book& omens = books[1];
    REQUIRE(omens.title == "Good Omens");
    REQUIRE(omens.authors.size() == 2);
    CHECK(omens.authors[0].name == "Terry Pratchett");
    CHECK(omens.authors[0].books.size() == 3);
    CHECK(omens.authors[0].books[2].publisher->name == "Penguin");
    CHECK(db.query_count() == 4);
}

TEST_CASE("a lookup and the equivalent member path share their levels") {
    loom::Database db{test_url()};
    create_all(db);
    seed_catalogue(db);
    db.reset_query_count();

    auto books = db.objects<Book>()
                     .prefetch_related(&Book::authors, loom::lookup<Book, "authors__books">(),
                                       loom::path(&Book::authors, &Author::books))
                     .to_vector();
    CHECK(db.query_count() == 3);
    CHECK(books[0].authors[0].books[0].title == "The Dispossessed");
}

TEST_CASE("a one-step lookup is the relation itself") {
    loom::Database db{test_url()};
    create_all(db);
    seed_catalogue(db);
    db.reset_query_count();
    auto pubs =
        db.objects<Publisher>().prefetch_related(loom::lookup<Publisher, "books">()).to_vector();
    CHECK(db.query_count() == 2);
    REQUIRE(pubs.size() == 2);
    CHECK(pubs[0].books.size() == 3);
    CHECK(pubs[1].books.size() == 2);
}

}  // namespace lookup_test
