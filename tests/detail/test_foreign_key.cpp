// White-box tests of ForeignKey's layout (relations.hpp): with an integer key, the key and the
// loaded target share one slot (a loaded target's primary key is the key), so a ForeignKey is
// two words: the slot and the relation word (anchor.hpp). What that relies on: the key is read
// through the target while it is loaded, a word left not loaded (a move, an assignment) gets
// its key back, and a target a Prefetch's QuerySet left out keeps its key (the word's mark bit).
#include "catch.hpp"

#include <loom/loom.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "../models.hpp"

namespace test_foreign_key {

using namespace shop;
using Catch::Matchers::Message;

static_assert(sizeof(loom::ForeignKey<Book>) == 16, "an integer ForeignKey is two words");
static_assert(sizeof(loom::OneToOne<User>) == 16);
static_assert(sizeof(loom::detail::RelationWord) == sizeof(void*));
static_assert(alignof(loom::detail::Anchor) >= 16 && alignof(loom::detail::RelationInfo) >= 16,
              "the relation word keeps four tag bits");
// Other keys keep the key, the target and the word apart.
static_assert(sizeof(loom::ForeignKey<Book, std::string>) ==
              sizeof(std::string) + 2 * sizeof(void*));

using Shop = SeededShop;

const std::optional<std::int64_t> no_key;

TEST_CASE("a loaded back reference reads its key through its parent", "[detail][relations]") {
    Shop s;
    const auto qs = s.db.objects<Book>().prefetch_related(&Book::reviews);
    const std::vector<Book>& books = qs.rows();
    REQUIRE(books.size() == 5);
    const Book& omens = books[1];
    REQUIRE(omens.reviews.size() == 2);
    const Review& funny = omens.reviews[0];
    CHECK(funny.book.loaded());
    CHECK(funny.book.get() == &omens);
    CHECK(funny.book.id() == std::optional<std::int64_t>(omens.id));
    CHECK_FALSE(funny.book.is_null());
    CHECK(funny.book == loom::ForeignKey<Book>(omens.id));
    CHECK_FALSE(funny.book == loom::ForeignKey<Book>(omens.id + 1));
    CHECK(funny.book == omens.reviews[1].book);

    SECTION("a copy shares the target and its key") {
        Review copy = funny;
        CHECK(copy.book.get() == &omens);
        CHECK(copy.book.id() == std::optional<std::int64_t>(omens.id));
    }
    SECTION("a moved-from copy is not loaded and keeps its key") {
        Review copy = funny;
        Review moved = std::move(copy);
        CHECK(moved.book.get() == &omens);
        CHECK(moved.book.id() == std::optional<std::int64_t>(omens.id));
        CHECK_FALSE(copy.book.loaded());  // NOLINT(bugprone-use-after-move): what a move leaves
        CHECK(copy.book.id() == std::optional<std::int64_t>(omens.id));
        CHECK_THROWS_MATCHES(copy.book.get(), loom::NotLoaded,
                             Message("Review::book was not loaded, and loom never runs a hidden "
                                     "query. Load it with db.objects<Review>().prefetch_related("
                                     "&Review::book), or explicitly with review.book.load(db)"));
        // load(db) loads it again, by the key it got back.
        copy.book.load(s.db);
        CHECK(copy.book->title == "Good Omens");
        CHECK(copy.book.id() == std::optional<std::int64_t>(omens.id));
    }
    SECTION("move assignment") {
        Review copy = funny;
        Review other;
        other.book = s.c.dispossessed.id;
        other = std::move(copy);
        CHECK(other.book.get() == &omens);
        CHECK_FALSE(copy.book.loaded());  // NOLINT(bugprone-use-after-move)
        CHECK(copy.book.id() == std::optional<std::int64_t>(omens.id));
    }
    SECTION("assigning a key or an object drops the target") {
        Review copy = funny;
        copy.book = s.c.small_gods.id;
        CHECK_FALSE(copy.book.loaded());
        CHECK(copy.book.id() == std::optional<std::int64_t>(s.c.small_gods.id));
        copy = funny;
        copy.book = s.c.dispossessed;
        CHECK_FALSE(copy.book.loaded());
        CHECK(copy.book.id() == std::optional<std::int64_t>(s.c.dispossessed.id));
        copy = funny;
        copy.book = std::nullopt;
        CHECK(copy.book.is_null());
        CHECK(copy.book.id() == no_key);
        // and its own target
        Review alone = funny;
        alone.book = *alone.book;
        CHECK(alone.book.id() == std::optional<std::int64_t>(omens.id));
    }
    SECTION("load(db) on a loaded relation loads the same key again") {
        Review copy = funny;
        copy.book.load(s.db);
        CHECK(copy.book.get() != &omens);  // a new object, from the new query
        CHECK(copy.book->title == "Good Omens");
        CHECK(copy.book.id() == std::optional<std::int64_t>(omens.id));
    }
}

TEST_CASE("a forward key keeps its key through loads, copies and the rows that outlive them",
          "[detail][relations]") {
    Shop s;
    std::vector<Book> books = s.db.objects<Book>().prefetch_related(&Book::publisher).to_vector();
    REQUIRE(books.size() == 5);
    CHECK(books[0].publisher->name == "Gollancz");
    CHECK(books[0].publisher.id() == std::optional<std::int64_t>(s.c.gollancz.id));
    loom::ForeignKey<Publisher> penguin = books[3].publisher;
    // A book of the vector (a copy of a row: its words are external) moved out.
    const Book first = std::move(books[0]);
    CHECK(first.publisher->name == "Gollancz");
    CHECK_FALSE(books[0].publisher.loaded());  // NOLINT(bugprone-use-after-move)
    CHECK(books[0].publisher.id() == std::optional<std::int64_t>(s.c.gollancz.id));
    std::vector<Book> moved = std::move(books);
    books.clear();
    CHECK(moved[4].publisher.id() == std::optional<std::int64_t>(s.c.penguin.id));
    moved.clear();
    moved.shrink_to_fit();
    // The copy keeps the level alive: its target and key still read.
    CHECK(penguin->name == "Penguin");
    CHECK(penguin.id() == std::optional<std::int64_t>(s.c.penguin.id));
}

TEST_CASE("a NULL key loads as a null target, and a key the Prefetch filtered out keeps its key",
          "[detail][relations]") {
    Shop s;
    Employee ada{.name = "Ada"}, bob{.name = "Bob"};
    s.db.insert(ada);
    bob.manager = ada;
    s.db.insert(bob);
    const auto staff =
        s.db.objects<Employee>()
            .order_by(&Employee::id)
            .prefetch_related(loom::Prefetch(
                &Employee::manager,
                s.db.objects<Employee>().filter(loom::col(&Employee::name) != "Ada")))
            .to_vector();
    REQUIRE(staff.size() == 2);
    CHECK(staff[0].manager.loaded());
    CHECK(staff[0].manager.is_null());
    CHECK(staff[0].manager.get() == nullptr);
    CHECK(staff[0].manager.id() == no_key);
    CHECK(staff[1].manager.loaded());
    CHECK(staff[1].manager.get() == nullptr);
    CHECK(staff[1].manager.id() == std::optional<std::int64_t>(ada.id));
    // A copy, and a move of it, keep the key.
    loom::ForeignKey<Employee> copy = staff[1].manager;
    const loom::ForeignKey<Employee> moved = std::move(copy);
    CHECK(moved.id() == std::optional<std::int64_t>(ada.id));
    CHECK(copy.id() == std::optional<std::int64_t>(ada.id));  // NOLINT(bugprone-use-after-move)
    CHECK_THROWS_MATCHES(
        *moved, loom::UsageError,
        Message("Employee::manager is not NULL (its key is " + std::to_string(ada.id) +
                "), but the Employee it points at was filtered out by the "
                "QuerySet of the Prefetch that loaded it; get() returns nullptr "
                "for it"));
    // Loaded again, the key finds its object.
    copy.load(s.db);
    CHECK(copy->name == "Ada");
    CHECK(copy.id() == std::optional<std::int64_t>(ada.id));
}

}  // namespace test_foreign_key
