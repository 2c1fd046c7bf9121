// fmt::formatter for models (loom/format.hpp): fields in descriptor order, strings quoted and
// escaped, NULLs, blobs, enums, and a summary of each relation, loaded or not.
#include "catch.hpp"
#include "models.hpp"

#include <loom/format.hpp>  // opt-in: not part of <loom/loom.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace test_format {

using namespace shop;
using loom::col;

using Fixture = SeededShop;

TEST_CASE("A model that never saw the database prints its defaults, relations not loaded",
          "[format]") {
    CHECK(fmt::format("{}", Book{}) ==
          "Book{id=0, title=\"\", year=0, publisher=null, authors=[not loaded], "
          "reviews=[not loaded]}");
    Book dune;
    dune.id = 1;
    dune.title = "Dune";
    dune.year = 1965;
    dune.publisher = 3;
    CHECK(fmt::format("{}", dune) ==
          "Book{id=1, title=\"Dune\", year=1965, publisher=#3 (not loaded), "
          "authors=[not loaded], reviews=[not loaded]}");
    // Const objects and fmt::to_string format the same way.
    CHECK(fmt::to_string(std::as_const(dune)) == fmt::format("{}", dune));
    // A member left out of the descriptor (Book::top_reviews) is not written.
    CHECK(fmt::format("{}", dune).find("top_reviews") == std::string::npos);
}

TEST_CASE_METHOD(Fixture, "Loaded relations print their key or their size", "[format]") {
    const auto omens = db.objects<Book>()
                           .prefetch_related(&Book::publisher, &Book::authors)
                           .get(col(&Book::id) == c.omens.id);
    CHECK(fmt::format("{}", omens) ==
          fmt::format("Book{{id={}, title=\"Good Omens\", year=1990, publisher=#{} (loaded), "
                      "authors=[2 loaded], reviews=[not loaded]}}",
                      c.omens.id, c.gollancz.id));

    // Read without prefetching: the key is known, the object is not.
    const auto plain = db.objects<Book>().get(col(&Book::id) == c.small_gods.id);
    CHECK(fmt::format("{}", plain) ==
          fmt::format("Book{{id={}, title=\"Small Gods\", year=1992, publisher=#{} (not loaded), "
                      "authors=[not loaded], reviews=[not loaded]}}",
                      c.small_gods.id, c.gollancz.id));

    // A loaded list with nothing in it.
    const auto wee = db.objects<Book>()
                         .prefetch_related(&Book::reviews)
                         .get(col(&Book::id) == c.wee_free_men.id);
    CHECK(fmt::format("{}", wee) ==
          fmt::format("Book{{id={}, title=\"The Wee Free Men\", year=2003, publisher=#{} (not "
                      "loaded), authors=[not loaded], reviews=[0 loaded]}}",
                      c.wee_free_men.id, c.penguin.id));

    // Reverse relations and optionals, set and NULL.
    const auto authors = db.objects<Author>()
                             .prefetch_related(&Author::books)
                             .order_by(col(&Author::id))
                             .to_vector();
    REQUIRE(authors.size() == 3);
    CHECK(fmt::format("{}", authors[1]) ==
          fmt::format("Author{{id={}, name=\"Terry Pratchett\", born=1948, books=[3 loaded]}}",
                      c.pratchett.id));
    CHECK(fmt::format("{}", authors[2]) ==
          fmt::format("Author{{id={}, name=\"Neil Gaiman\", born=null, books=[2 loaded]}}",
                      c.gaiman.id));
}

TEST_CASE_METHOD(Fixture, "A NULL foreign key prints null, loaded or not", "[format]") {
    Employee ada{.name = "Ada"};
    db.insert(ada);
    Employee bob{.name = "Bob", .manager = ada};
    db.insert(bob);
    const auto staff = db.objects<Employee>()
                           .prefetch_related(&Employee::manager)
                           .order_by(col(&Employee::id))
                           .to_vector();
    REQUIRE(staff.size() == 2);
    CHECK(
        fmt::format("{}", staff[0]) ==
        fmt::format("Employee{{id={}, name=\"Ada\", manager=null, reports=[not loaded]}}", ada.id));
    CHECK(fmt::format("{}", staff[1]) ==
          fmt::format("Employee{{id={}, name=\"Bob\", manager=#{} (loaded), "
                      "reports=[not loaded]}}",
                      bob.id, ada.id));
    const auto unloaded = db.objects<Employee>().get(col(&Employee::id) == ada.id);
    CHECK(
        fmt::format("{}", unloaded) ==
        fmt::format("Employee{{id={}, name=\"Ada\", manager=null, reports=[not loaded]}}", ada.id));
}

TEST_CASE_METHOD(Fixture, "One-to-one sides print a key, or one or zero loaded objects",
                 "[format]") {
    User alice{.login = "alice"}, bob{.login = "bob"};
    db.insert(alice);
    db.insert(bob);
    Profile p{.bio = "Hi"};
    p.user = alice;
    db.insert(p);

    const auto users =
        db.objects<User>().prefetch_related(&User::profile).order_by(col(&User::id)).to_vector();
    REQUIRE(users.size() == 2);
    CHECK(fmt::format("{}", users[0]) ==
          fmt::format("User{{id={}, login=\"alice\", profile=[1 loaded]}}", alice.id));
    CHECK(fmt::format("{}", users[1]) ==
          fmt::format("User{{id={}, login=\"bob\", profile=[0 loaded]}}", bob.id));
    CHECK(fmt::format("{}", db.objects<User>().get(col(&User::id) == alice.id)) ==
          fmt::format("User{{id={}, login=\"alice\", profile=[not loaded]}}", alice.id));

    const auto profile =
        db.objects<Profile>().prefetch_related(&Profile::user).get(col(&Profile::id) == p.id);
    CHECK(fmt::format("{}", profile) ==
          fmt::format("Profile{{id={}, user=#{} (loaded), bio=\"Hi\"}}", p.id, alice.id));
}

TEST_CASE_METHOD(Fixture, "Many-to-many through a model, and the through model's keys",
                 "[format]") {
    Person ann{.name = "Ann"};
    db.insert(ann);
    Club chess{.name = "Chess"};
    db.insert(chess);
    Membership m{.person = ann, .club = chess, .role = "chair"};
    db.insert(m);
    const auto person =
        db.objects<Person>().prefetch_related(&Person::clubs).get(col(&Person::id) == ann.id);
    CHECK(fmt::format("{}", person) ==
          fmt::format("Person{{id={}, name=\"Ann\", friends=[not loaded], friend_of=[not loaded], "
                      "clubs=[1 loaded]}}",
                      ann.id));
    CHECK(fmt::format("{}", m) ==
          fmt::format("Membership{{id={}, person=#{} (not loaded), club=#{} (not loaded), "
                      "role=\"chair\"}}",
                      m.id, ann.id, chess.id));
}

TEST_CASE_METHOD(Fixture,
                 "Every column type: bools, integers, reals, escaped text, blobs, "
                 "enums, optionals",
                 "[format]") {
    Sample s;
    s.flag = true;
    s.tiny = -3;
    s.small = 65535;
    s.normal = -7;
    s.big = std::numeric_limits<std::int64_t>::min();
    s.real = 2.5;
    s.text = "say \"hi\"\n\tto C:\\ and \x01 - caf\xC3\xA9";
    s.data = loom::Blob(5, std::byte{0xFF});
    s.color = Color::green;
    s.maybe_int = 7;
    const std::string expected_fields =
        "flag=true, tiny=-3, small=65535, normal=-7, big=-9223372036854775808, real=2.5, "
        "text=\"say \\\"hi\\\"\\n\\tto C:\\\\ and \\x01 - caf\xC3\xA9\", data=<blob 5 bytes>, "
        "color=2, maybe_int=7, maybe_text=null}";
    CHECK(fmt::format("{}", s) == "Sample{id=0, " + expected_fields);

    db.insert(s);
    const auto back = db.objects<Sample>().get(col(&Sample::id) == s.id);
    CHECK(fmt::format("{}", back) == fmt::format("Sample{{id={}, ", s.id) + expected_fields);

    Sample z;
    z.real = 2.0;
    z.maybe_text = "";
    CHECK(fmt::format("{}", z) ==
          "Sample{id=0, flag=false, tiny=0, small=0, normal=0, big=0, real=2, text=\"\", "
          "data=<blob 0 bytes>, color=1, maybe_int=null, maybe_text=\"\"}");
}

TEST_CASE("A model takes no format spec", "[format]") {
    const Publisher p;
    CHECK_THROWS_AS(fmt::format(fmt::runtime("{:>20}"), p), fmt::format_error);
    CHECK(fmt::format("[{}]", p) == "[Publisher{id=0, name=\"\", books=[not loaded]}]");
}

}  // namespace test_format
