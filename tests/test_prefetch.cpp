// prefetch_related: one query per relation level, stitched into per-object caches. Each test
// states the exact number of statements it runs (db.query_count() deltas, or the statements a
// listener saw) and the exact objects every parent ends up with, in order.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace prefetch_tests {

using loom_test::Queries;

using namespace shop;
using Names = std::vector<std::string>;

// ---- helpers -------------------------------------------------------------------------------

std::string label(const Publisher& p) {
    return p.name;
}
std::string label(const Author& a) {
    return a.name;
}
std::string label(const Book& b) {
    return b.title;
}
std::string label(const Review& r) {
    return r.body;
}
std::string label(const Employee& e) {
    return e.name;
}
std::string label(const Person& p) {
    return p.name;
}
std::string label(const Club& c) {
    return c.name;
}
std::string label(const User& u) {
    return u.login;
}
std::string label(const Profile& p) {
    return p.bio;
}

/// The labels of a loaded to-many relation, in the order it holds them.
template <class List> Names labels(const List& list) {
    Names out;
    for (const auto& x : list) out.push_back(label(x));
    return out;
}

/// The label of a loaded to-one relation, or "-" when it is empty (NULL key, no object).
template <class One> std::string label_of(const One& one) {
    const auto* p = one.get();
    return p ? label(*p) : std::string("-");
}

/// Every statement a database runs while this object lives: origin, SQL and parameters.
class Log {
public:
    explicit Log(loom::Database& db)
        : sub_(db.on_query([this](const loom::QueryEvent& e) {
              origins.emplace_back(e.origin);
              sql.emplace_back(e.sql);
              params.emplace_back(e.params.begin(), e.params.end());
          })) {}
    Log(const Log&) = delete;
    Log& operator=(const Log&) = delete;

    std::size_t count(const std::string& origin) const {
        std::size_t n = 0;
        for (const auto& o : origins) n += o == origin;
        return n;
    }
    /// The integer parameters of statement i.
    std::vector<std::int64_t> ints(std::size_t i) const {
        std::vector<std::int64_t> out;
        for (const auto& v : params.at(i)) {
            if (const auto* array = std::get_if<std::string>(&v)) {
                // One key-array parameter ({1,2} on PostgreSQL): the keys it holds.
                std::string text = array->substr(1, array->size() - 2);
                for (std::size_t at = 0; at < text.size();) {
                    const auto comma = std::min(text.find(',', at), text.size());
                    out.push_back(std::stoll(text.substr(at, comma - at)));
                    at = comma + 1;
                }
                continue;
            }
            out.push_back(std::get<std::int64_t>(v));
        }
        return out;
    }

    Names origins;
    Names sql;
    std::vector<std::vector<loom::Value>> params;

private:
    loom::Database::Subscription sub_;
};

/// The bookstore catalogue in a fresh in-memory database (see shop::seed_catalogue):
///   books by id: 1 The Dispossessed, 2 Good Omens, 3 Small Gods, 4 American Gods,
///   5 The Wee Free Men; authors: 1 Le Guin, 2 Pratchett, 3 Gaiman.
struct Bookstore : SeededShop {
    loom::QuerySet<Book> books() { return db.objects<Book>(); }
};

const Names all_titles = {"The Dispossessed", "Good Omens", "Small Gods", "American Gods",
                          "The Wee Free Men"};

/// Employees: Ada (no manager) manages Bob and Cy; Bob manages Dee.
void seed_employees(loom::Database& db) {
    Employee ada{.name = "Ada"}, bob{.name = "Bob"}, cy{.name = "Cy"}, dee{.name = "Dee"};
    db.insert(ada);
    bob.manager = ada;
    cy.manager = ada;
    db.insert(bob);
    db.insert(cy);
    dee.manager = bob;
    db.insert(dee);
}

/// People: Ann befriends Ben and Cat, Ben befriends Cat, Dan befriends Ann. Clubs (through
/// Membership): Ann is in Chess and Go, Ben in Go; nobody knits; Cat and Dan are in no club.
void seed_people(loom::Database& db) {
    Person ann{.name = "Ann"}, ben{.name = "Ben"}, cat{.name = "Cat"}, dan{.name = "Dan"};
    for (Person* p : {&ann, &ben, &cat, &dan}) db.insert(*p);
    db.m2m(ann, &Person::friends).add(ben, cat);
    db.m2m(ben, &Person::friends).add(cat);
    db.m2m(dan, &Person::friends).add(ann);
    Club chess{.name = "Chess"}, go{.name = "Go"}, knitting{.name = "Knitting"};
    for (Club* c : {&chess, &go, &knitting}) db.insert(*c);
    auto join = [&](Person& p, Club& c, const char* role) {
        Membership m;
        m.person = p;
        m.club = c;
        m.role = role;
        db.insert(m);
    };
    join(ann, chess, "captain");
    join(ann, go, "member");
    join(ben, go, "member");
}

/// Users: alice and carol have a profile, bob has none.
void seed_users(loom::Database& db) {
    User alice{.login = "alice"}, bob{.login = "bob"}, carol{.login = "carol"};
    for (User* u : {&alice, &bob, &carol}) db.insert(*u);
    Profile pa, pc;
    pa.user = alice;
    pa.bio = "likes tea";
    pc.user = carol;
    pc.bio = "writes code";
    db.insert(pc);  // carol's profile gets the lower id on purpose
    db.insert(pa);
}

// ---- relation kinds --------------------------------------------------------------------------

TEST_CASE("prefetching a forward ForeignKey loads every book's publisher with one query",
          "[prefetch]") {
    Bookstore s;
    Queries q(s.db);
    auto books = s.books().prefetch_related(&Book::publisher);
    const auto& rows = books.rows();
    REQUIRE(q() == 2);
    REQUIRE(labels(rows) == all_titles);
    Names pubs;
    for (const Book& b : rows) pubs.push_back(b.publisher->name);
    CHECK(pubs == Names{"Gollancz", "Gollancz", "Gollancz", "Penguin", "Penguin"});
    CHECK(rows[0].publisher->id == s.c.gollancz.id);
    CHECK(rows[4].publisher->id == s.c.penguin.id);
    CHECK(q() == 2);
}

TEST_CASE("the forward ForeignKey query looks up each distinct key once", "[prefetch]") {
    Bookstore s;
    Log log(s.db);
    auto books = s.books().prefetch_related(&Book::publisher);
    books.rows();
    REQUIRE(log.sql.size() == 2);
    CHECK(log.origins[1] == "prefetch Book::publisher");
    CHECK(log.ints(1) == std::vector<std::int64_t>{s.c.gollancz.id, s.c.penguin.id});
}

TEST_CASE("prefetching a reverse ForeignKey gives each parent its children", "[prefetch]") {
    Bookstore s;

    SECTION("the books of each publisher") {
        Queries q(s.db);
        auto pubs = s.db.objects<Publisher>().prefetch_related(&Publisher::books).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(pubs) == Names{"Gollancz", "Penguin"});
        CHECK(labels(pubs[0].books) == Names{"The Dispossessed", "Good Omens", "Small Gods"});
        CHECK(labels(pubs[1].books) == Names{"American Gods", "The Wee Free Men"});
        CHECK(q() == 2);
    }
    SECTION("the reviews of each book, and an empty loaded list for a book without reviews") {
        Queries q(s.db);
        auto books = s.books().prefetch_related(&Book::reviews).to_vector();
        REQUIRE(q() == 2);
        CHECK(labels(books[0].reviews) == Names{"Ambiguous."});
        CHECK(labels(books[1].reviews) == Names{"Funny.", "Angels!"});
        CHECK(labels(books[2].reviews) == Names{"Om."});
        CHECK(labels(books[3].reviews) == Names{"A road trip.", "Long."});
        CHECK(books[4].reviews.loaded());
        CHECK(books[4].reviews.empty());
        CHECK(books[4].reviews.size() == 0);
        CHECK(q() == 2);
    }
}

TEST_CASE("prefetching a many-to-many works from both sides", "[prefetch]") {
    Bookstore s;

    SECTION("the authors of each book") {
        Queries q(s.db);
        auto books = s.books().prefetch_related(&Book::authors).to_vector();
        REQUIRE(q() == 2);
        CHECK(labels(books[0].authors) == Names{"Ursula K. Le Guin"});
        CHECK(labels(books[1].authors) == Names{"Terry Pratchett", "Neil Gaiman"});
        CHECK(labels(books[2].authors) == Names{"Terry Pratchett"});
        CHECK(labels(books[3].authors) == Names{"Neil Gaiman"});
        CHECK(labels(books[4].authors) == Names{"Terry Pratchett"});
        CHECK(q() == 2);
    }
    SECTION("the books of each author, through the other side's join table") {
        Queries q(s.db);
        auto authors = s.db.objects<Author>().prefetch_related(&Author::books).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(authors) == Names{"Ursula K. Le Guin", "Terry Pratchett", "Neil Gaiman"});
        CHECK(labels(authors[0].books) == Names{"The Dispossessed"});
        CHECK(labels(authors[1].books) == Names{"Good Omens", "Small Gods", "The Wee Free Men"});
        CHECK(labels(authors[2].books) == Names{"Good Omens", "American Gods"});
        CHECK(q() == 2);
    }
}

TEST_CASE("prefetching a one-to-one works from both sides", "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    seed_users(db);

    SECTION("the user of each profile") {
        Queries q(db);
        auto profiles = db.objects<Profile>().prefetch_related(&Profile::user).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(profiles) == Names{"writes code", "likes tea"});
        CHECK(profiles[0].user->login == "carol");
        CHECK(profiles[1].user->login == "alice");
    }
    SECTION("the profile of each user; a user without one gets a loaded, empty ReverseOne") {
        Queries q(db);
        auto users = db.objects<User>().prefetch_related(&User::profile).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(users) == Names{"alice", "bob", "carol"});
        CHECK(users[0].profile->bio == "likes tea");
        CHECK(users[2].profile->bio == "writes code");
        const User& bob = users[1];
        CHECK(bob.profile.loaded());
        CHECK_FALSE(bob.profile.has_value());
        CHECK(bob.profile.get() == nullptr);
        CHECK_THROWS_MATCHES(*bob.profile, loom::DoesNotExist,
                             Catch::Matchers::Message("User::profile has no related object"));
        CHECK(q() == 2);
    }
}

TEST_CASE("a path through a one-to-one and back", "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    seed_users(db);
    Queries q(db);
    auto profiles = db.objects<Profile>()
                        .prefetch_related(loom::path(&Profile::user, &User::profile))
                        .to_vector();
    // The user level fills each user's profile with the profile it was loaded for (Django's
    // known side): the way back runs no query.
    REQUIRE(q() == 2);
    CHECK(profiles[0].user->profile->bio == "writes code");
    CHECK(profiles[1].user->profile->bio == "likes tea");
    CHECK(profiles[1].user->profile->id == profiles[1].id);
}

TEST_CASE("prefetching self-references", "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    seed_employees(db);
    seed_people(db);

    SECTION("the manager of each employee (NULL for the top)") {
        Queries q(db);
        auto staff = db.objects<Employee>().prefetch_related(&Employee::manager).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(staff) == Names{"Ada", "Bob", "Cy", "Dee"});
        Names managers;
        for (const Employee& e : staff) managers.push_back(label_of(e.manager));
        CHECK(managers == Names{"-", "Ada", "Ada", "Bob"});
        CHECK(staff[0].manager.loaded());
        CHECK(staff[0].manager.is_null());
    }
    SECTION("the reports of each employee") {
        Queries q(db);
        auto staff = db.objects<Employee>().prefetch_related(&Employee::reports).to_vector();
        REQUIRE(q() == 2);
        CHECK(labels(staff[0].reports) == Names{"Bob", "Cy"});
        CHECK(labels(staff[1].reports) == Names{"Dee"});
        CHECK(labels(staff[2].reports).empty());
        CHECK(labels(staff[3].reports).empty());
    }
    SECTION("two levels down the same self-reference") {
        Queries q(db);
        auto ada = db.objects<Employee>()
                       .prefetch_related(loom::path(&Employee::reports, &Employee::reports))
                       .get(loom::col(&Employee::name) == "Ada");
        REQUIRE(q() == 3);
        REQUIRE(labels(ada.reports) == Names{"Bob", "Cy"});
        CHECK(labels(ada.reports[0].reports) == Names{"Dee"});
        CHECK(labels(ada.reports[1].reports).empty());
    }
    SECTION("the friends of each person (self many-to-many)") {
        Queries q(db);
        auto people = db.objects<Person>().prefetch_related(&Person::friends).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(people) == Names{"Ann", "Ben", "Cat", "Dan"});
        CHECK(labels(people[0].friends) == Names{"Ben", "Cat"});
        CHECK(labels(people[1].friends) == Names{"Cat"});
        CHECK(labels(people[2].friends).empty());
        CHECK(labels(people[3].friends) == Names{"Ann"});
    }
    SECTION("who befriended each person (the reverse of a self many-to-many)") {
        Queries q(db);
        auto people = db.objects<Person>().prefetch_related(&Person::friend_of).to_vector();
        REQUIRE(q() == 2);
        CHECK(labels(people[0].friend_of) == Names{"Dan"});
        CHECK(labels(people[1].friend_of) == Names{"Ann"});
        CHECK(labels(people[2].friend_of) == Names{"Ann", "Ben"});
        CHECK(labels(people[3].friend_of).empty());
    }
}

TEST_CASE("prefetching a many-to-many through an explicit model works from both sides",
          "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    seed_people(db);

    SECTION("the clubs of each person") {
        Queries q(db);
        auto people = db.objects<Person>().prefetch_related(&Person::clubs).to_vector();
        REQUIRE(q() == 2);
        CHECK(labels(people[0].clubs) == Names{"Chess", "Go"});
        CHECK(labels(people[1].clubs) == Names{"Go"});
        CHECK(labels(people[2].clubs).empty());
        CHECK(labels(people[3].clubs).empty());
    }
    SECTION("the members of each club") {
        Queries q(db);
        auto clubs = db.objects<Club>().prefetch_related(&Club::members).to_vector();
        REQUIRE(q() == 2);
        REQUIRE(labels(clubs) == Names{"Chess", "Go", "Knitting"});
        CHECK(labels(clubs[0].members) == Names{"Ann"});
        CHECK(labels(clubs[1].members) == Names{"Ann", "Ben"});
        CHECK(clubs[2].members.loaded());
        CHECK(labels(clubs[2].members).empty());
    }
}

// ---- paths, sharing, duplicates, chaining --------------------------------------------------

TEST_CASE("a two-level path runs one query per level", "[prefetch]") {
    Bookstore s;
    Log log(s.db);
    auto books = s.books().prefetch_related(loom::path(&Book::authors, &Author::books)).to_vector();
    REQUIRE(log.origins == Names{"Book", "prefetch Book::authors", "prefetch Author::books"});
    const Book& omens = books[1];
    REQUIRE(labels(omens.authors) == Names{"Terry Pratchett", "Neil Gaiman"});
    CHECK(labels(omens.authors[0].books) == Names{"Good Omens", "Small Gods", "The Wee Free Men"});
    CHECK(labels(omens.authors[1].books) == Names{"Good Omens", "American Gods"});
    CHECK(labels(books[0].authors[0].books) == Names{"The Dispossessed"});
    CHECK(log.sql.size() == 3);
}

TEST_CASE("a three-level path runs one query per level", "[prefetch]") {
    Bookstore s;
    Queries q(s.db);
    auto books = s.books()
                     .prefetch_related(loom::path(&Book::authors, &Author::books, &Book::publisher))
                     .to_vector();
    REQUIRE(q() == 4);
    const Author& pratchett = books[1].authors[0];
    REQUIRE(labels(pratchett.books) == Names{"Good Omens", "Small Gods", "The Wee Free Men"});
    Names pubs;
    for (const Book& b : pratchett.books) pubs.push_back(b.publisher->name);
    CHECK(pubs == Names{"Gollancz", "Gollancz", "Penguin"});
    CHECK(books[0].authors[0].books[0].publisher->name == "Gollancz");
    CHECK(q() == 4);
}

TEST_CASE("a path from a reverse ForeignKey to another reverse ForeignKey", "[prefetch]") {
    Bookstore s;
    Queries q(s.db);
    auto pubs = s.db.objects<Publisher>()
                    .prefetch_related(loom::path(&Publisher::books, &Book::reviews))
                    .to_vector();
    REQUIRE(q() == 3);
    const Publisher& penguin = pubs[1];
    REQUIRE(labels(penguin.books) == Names{"American Gods", "The Wee Free Men"});
    CHECK(labels(penguin.books[0].reviews) == Names{"A road trip.", "Long."});
    CHECK(penguin.books[1].reviews.loaded());
    CHECK(penguin.books[1].reviews.empty());
}

TEST_CASE("paths that share a level run that level once", "[prefetch]") {
    Bookstore s;

    SECTION("authors and authors.books: 1 + 2 queries, not 3") {
        Log log(s.db);
        auto books =
            s.books()
                .prefetch_related(&Book::authors, loom::path(&Book::authors, &Author::books))
                .to_vector();
        CHECK(log.origins == Names{"Book", "prefetch Book::authors", "prefetch Author::books"});
        CHECK(labels(books[1].authors[1].books) == Names{"Good Omens", "American Gods"});
    }
    SECTION("the longer path first, in separate calls") {
        Log log(s.db);
        auto books = s.books()
                         .prefetch_related(loom::path(&Book::authors, &Author::books))
                         .prefetch_related(&Book::authors)
                         .to_vector();
        CHECK(log.origins == Names{"Book", "prefetch Book::authors", "prefetch Author::books"});
        CHECK(labels(books[1].authors[1].books) == Names{"Good Omens", "American Gods"});
    }
    SECTION("two paths that branch below a shared level") {
        Log log(s.db);
        auto books =
            s.books()
                .prefetch_related(loom::path(&Book::authors, &Author::books, &Book::publisher),
                                  loom::path(&Book::authors, &Author::books, &Book::reviews))
                .to_vector();
        CHECK(log.origins == Names{"Book", "prefetch Book::authors", "prefetch Author::books",
                                   "prefetch Book::publisher", "prefetch Book::reviews"});
        const Book& omens_via_gaiman = books[3].authors[0].books[0];
        CHECK(omens_via_gaiman.title == "Good Omens");
        CHECK(omens_via_gaiman.publisher->name == "Gollancz");
        CHECK(labels(omens_via_gaiman.reviews) == Names{"Funny.", "Angels!"});
    }
}

TEST_CASE("naming the same path twice loads it once", "[prefetch]") {
    Bookstore s;

    SECTION("a member twice in one call") {
        Queries q(s.db);
        auto books = s.books().prefetch_related(&Book::authors, &Book::authors).to_vector();
        CHECK(q() == 2);
        CHECK(labels(books[1].authors) == Names{"Terry Pratchett", "Neil Gaiman"});
    }
    SECTION("a path twice, in two calls") {
        Queries q(s.db);
        auto books = s.books()
                         .prefetch_related(loom::path(&Book::authors, &Author::books))
                         .prefetch_related(loom::path(&Book::authors, &Author::books))
                         .to_vector();
        CHECK(q() == 3);
        CHECK(labels(books[0].authors[0].books) == Names{"The Dispossessed"});
    }
}

TEST_CASE("several prefetch_related calls add up, and each returns a new QuerySet", "[prefetch]") {
    Bookstore s;
    auto with_publisher = s.books().prefetch_related(&Book::publisher);
    auto with_both = with_publisher.prefetch_related(&Book::reviews);

    Queries q(s.db);
    const auto& both = with_both.rows();
    CHECK(q() == 3);
    CHECK(both[3].publisher->name == "Penguin");
    CHECK(labels(both[3].reviews) == Names{"A road trip.", "Long."});

    Queries q2(s.db);
    const auto& one = with_publisher.rows();
    CHECK(q2() == 2);
    CHECK(one[3].publisher->name == "Penguin");
    CHECK_THROWS_AS(one[3].reviews.size(), loom::NotLoaded);
}

TEST_CASE("prefetch_related(loom::none) clears every prefetch added before it", "[prefetch]") {
    Bookstore s;
    auto cleared =
        s.books()
            .prefetch_related(&Book::authors, loom::path(&Book::publisher, &Publisher::books))
            .prefetch_related(loom::none);
    Queries q(s.db);
    const auto& rows = cleared.rows();
    CHECK(q() == 1);
    CHECK_FALSE(rows[0].authors.loaded());
    CHECK_FALSE(rows[0].publisher.loaded());

    SECTION("and prefetches added after it still run") {
        Queries q2(s.db);
        auto again = cleared.prefetch_related(&Book::reviews).to_vector();
        CHECK(q2() == 2);
        CHECK(labels(again[0].reviews) == Names{"Ambiguous."});
        CHECK_FALSE(again[0].authors.loaded());
    }
}

// ---- empty levels and NULL keys ------------------------------------------------------------

TEST_CASE("no parents: no prefetch query at all", "[prefetch]") {
    Bookstore s;
    Log log(s.db);
    auto none = s.books()
                    .filter(loom::col(&Book::year) > 3000)
                    .prefetch_related(&Book::publisher, &Book::reviews,
                                      loom::path(&Book::authors, &Author::books))
                    .to_vector();
    CHECK(none.empty());
    CHECK(log.origins == Names{"Book"});
}

TEST_CASE("a level whose keys are all NULL runs no query, and neither do the levels below it",
          "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    Employee ada{.name = "Ada"}, eve{.name = "Eve"};
    db.insert(ada);
    db.insert(eve);

    Queries q(db);
    auto staff = db.objects<Employee>()
                     .prefetch_related(loom::path(&Employee::manager, &Employee::reports))
                     .to_vector();
    CHECK(q() == 1);
    REQUIRE(staff.size() == 2);
    for (const Employee& e : staff) {
        CHECK(e.manager.loaded());
        CHECK(e.manager.get() == nullptr);
    }
    CHECK_THROWS_MATCHES(*staff[0].manager, loom::UsageError,
                         Catch::Matchers::Message("Employee::manager is NULL; check is_null() or "
                                                  "use get(), which returns nullptr"));
}

TEST_CASE("NULL keys are left out of the IN list; their parents read nullptr", "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    seed_employees(db);
    Log log(db);
    auto staff = db.objects<Employee>().prefetch_related(&Employee::manager).to_vector();
    REQUIRE(log.sql.size() == 2);
    CHECK(log.ints(1) == std::vector<std::int64_t>{staff[0].id, staff[1].id});  // Ada, Bob
    CHECK(staff[0].manager.get() == nullptr);
    CHECK(staff[1].manager.get() == staff[2].manager.get());  // both point at the same Ada
    CHECK(staff[3].manager->name == "Bob");
}

TEST_CASE("a level that finds no rows runs no query for the levels below it", "[prefetch]") {
    Bookstore s;
    Log log(s.db);
    auto wee = s.books()
                   .prefetch_related(loom::path(&Book::reviews, &Review::book))
                   .get(loom::col(&Book::title) == "The Wee Free Men");
    CHECK(log.origins == Names{"Book", "prefetch Book::reviews"});
    CHECK(wee.reviews.loaded());
    CHECK(wee.reviews.empty());

    Queries q(s.db);
    CHECK(labels(wee.reviews).empty());
    CHECK(q() == 0);
}

// ---- ordering ------------------------------------------------------------------------------

TEST_CASE("prefetched rows follow the related QuerySet's order, else primary key order",
          "[prefetch]") {
    Bookstore s;
    Review mythic;
    mythic.book = s.c.american_gods;
    mythic.rating = 5;
    mythic.body = "Mythic.";
    s.db.insert(mythic);

    SECTION("primary key order by default") {
        auto ag = s.books()
                      .prefetch_related(&Book::reviews)
                      .get(loom::col(&Book::id) == s.c.american_gods.id);
        CHECK(labels(ag.reviews) == Names{"A road trip.", "Long.", "Mythic."});
    }
    SECTION("the order of the Prefetch's QuerySet, per parent") {
        Queries q(s.db);
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(
                    &Book::reviews, s.db.objects<Review>().order_by(loom::desc(&Review::rating))))
                .to_vector();
        CHECK(q() == 2);
        CHECK(labels(books[1].reviews) == Names{"Funny.", "Angels!"});
        CHECK(labels(books[3].reviews) == Names{"Mythic.", "A road trip.", "Long."});
    }
    SECTION("a plain member and a Prefetch of the same relation are one level, in its order") {
        Queries q(s.db);
        auto books =
            s.books()
                .prefetch_related(&Book::reviews)
                .prefetch_related(loom::Prefetch(
                    &Book::reviews, s.db.objects<Review>().order_by(loom::desc(&Review::rating))))
                .to_vector();
        CHECK(q() == 2);
        CHECK(labels(books[3].reviews) == Names{"Mythic.", "A road trip.", "Long."});
    }
    SECTION("ascending, on a many-to-many") {
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(
                             &Book::authors, s.db.objects<Author>().order_by(&Author::name)))
                         .to_vector();
        CHECK(labels(books[1].authors) == Names{"Neil Gaiman", "Terry Pratchett"});
    }
    SECTION("a filtered Prefetch keeps only matching rows, and empty loaded lists elsewhere") {
        Queries q(s.db);
        auto books =
            s.books()
                .prefetch_related(loom::Prefetch(
                    &Book::reviews, s.db.objects<Review>().filter(loom::col(&Review::rating) >= 5)))
                .to_vector();
        CHECK(q() == 2);
        CHECK(labels(books[1].reviews) == Names{"Funny."});
        CHECK(labels(books[3].reviews) == Names{"Mythic."});
        CHECK(books[4].reviews.loaded());
        CHECK(books[4].reviews.empty());
    }
    SECTION("a Prefetch filtered through a ForeignKey of the related model") {
        Queries q(s.db);
        auto authors = s.db.objects<Author>()
                           .prefetch_related(loom::Prefetch(
                               &Author::books,
                               s.db.objects<Book>().filter(
                                   loom::col(&Book::publisher, &Publisher::name) == "Penguin")))
                           .to_vector();
        CHECK(q() == 2);
        CHECK(labels(authors[0].books).empty());
        CHECK(labels(authors[1].books) == Names{"The Wee Free Men"});
        CHECK(labels(authors[2].books) == Names{"American Gods"});
    }
}

// ---- chunking ------------------------------------------------------------------------------

/// 23 books B01..B23, each with its own publisher P01..P23, authors among A1..A7 and
/// (i % 3) reviews.
void seed_many(loom::Database& db) {
    db.transaction([&] {
        std::vector<Author> authors(7);
        for (int a = 0; a < 7; ++a) {
            authors[a].name = "A" + std::to_string(a + 1);
            db.insert(authors[a]);
        }
        for (int i = 1; i <= 23; ++i) {
            const std::string n = (i < 10 ? "0" : "") + std::to_string(i);
            Publisher p{.name = "P" + n};
            db.insert(p);
            Book b{.title = "B" + n, .year = 1900 + i};
            b.publisher = p;
            db.insert(b);
            db.m2m(b, &Book::authors).add(authors[i % 7], authors[(i + 3) % 7]);
            for (int r = 0; r < i % 3; ++r) {
                Review rv;
                rv.book = b;
                rv.rating = 1 + (i + r) % 5;
                rv.body = "R" + n + "." + std::to_string(r);
                db.insert(rv);
            }
        }
    });
}

/// Everything the prefetches of `books` loaded, as text.
Names fingerprint(const std::vector<Book>& books) {
    Names out;
    for (const Book& b : books) {
        std::string line = b.title + " " + b.publisher->name + " |";
        for (const Author& a : b.authors) {
            line += " " + a.name + "(";
            for (const Book& ab : a.books) line += ab.title + " ";
            line += ")";
        }
        line += " |";
        for (const Review& r : b.reviews) line += " " + r.body;
        out.push_back(std::move(line));
    }
    return out;
}

TEST_CASE("levels with more keys than the variable limit run in the fewest chunks that fit",
          "[prefetch][sqlite]") {
    loom::Database db(test_url());
    create_all(db);
    seed_many(db);
    // A fresh QuerySet each time: an evaluated one would answer from its cache.
    auto qs = [&] {
        return db.objects<Book>().prefetch_related(&Book::publisher, &Book::reviews,
                                                   loom::path(&Book::authors, &Author::books));
    };
    const Names unchunked = fingerprint(qs().to_vector());
    REQUIRE(unchunked.size() == 23);
    REQUIRE(unchunked[0] ==
            "B01 P01 | A2(B01 B05 B08 B12 B15 B19 B22 ) A5(B01 B04 B08 B11 B15 "
            "B18 B22 ) | R01.0");

    SECTION("set_variable_limit(5): 23 keys -> 5 chunks per level; 7 authors -> 2 chunks") {
        db.set_variable_limit(5);
        REQUIRE(db.variable_limit() == 5);
        Log log(db);
        const auto books = qs().to_vector();
        CHECK(log.count("Book") == 1);
        CHECK(log.count("prefetch Book::publisher") == 5);
        CHECK(log.count("prefetch Book::reviews") == 5);
        CHECK(log.count("prefetch Book::authors") == 5);
        CHECK(log.count("prefetch Author::books") == 2);
        CHECK(log.sql.size() == 18);
        for (const auto& p : log.params) CHECK(p.size() <= 5);
        CHECK(fingerprint(books) == unchunked);
    }
    SECTION("an author found in several chunks is still one shared object") {
        db.set_variable_limit(5);
        const auto books = qs().to_vector();
        // B01 (chunk 1) and B22 (chunk 5) are both by A2 and A5.
        CHECK(&books[0].authors[0] == &books[21].authors[0]);
        CHECK(&books[0].authors[1] == &books[21].authors[1]);
    }
    SECTION("Options::batch_size caps the keys per query below the variable limit") {
        loom::Options o;
        o.batch_size = 10;
        db.set_batch_size(o.batch_size);
        Log log(db);
        const auto books = qs().to_vector();
        CHECK(log.count("prefetch Book::publisher") == 3);
        CHECK(log.count("prefetch Book::reviews") == 3);
        CHECK(log.count("prefetch Book::authors") == 3);
        CHECK(log.count("prefetch Author::books") == 1);
        CHECK(fingerprint(books) == unchunked);
    }
    SECTION("a Prefetch's own parameters leave less room for keys") {
        db.set_variable_limit(5);
        Log log(db);
        const auto books =
            db.objects<Book>()
                .prefetch_related(loom::Prefetch(
                    &Book::reviews, db.objects<Review>().filter(loom::col(&Review::rating) >= 1)))
                .to_vector();
        CHECK(log.count("prefetch Book::reviews") == 6);  // ceil(23 / (5 - 1))
        Names reviews;
        for (const Book& b : books) reviews.push_back(std::to_string(b.reviews.size()));
        Names expected;
        for (int i = 1; i <= 23; ++i) expected.push_back(std::to_string(i % 3));
        CHECK(reviews == expected);
    }
    SECTION("a Prefetch whose QuerySet alone fills the limit is an error naming the level") {
        db.set_variable_limit(5);
        Queries q(db);
        auto over = db.objects<Book>().prefetch_related(loom::Prefetch(
            &Book::reviews,
            db.objects<Review>().filter(loom::col(&Review::rating).in({1, 2, 3, 4, 5}))));
        CHECK_THROWS_MATCHES(over.to_vector(), loom::UsageError,
                             Catch::Matchers::Message(
                                 "prefetch Book::reviews: the queryset alone binds 5 parameters, "
                                 "the connection's limit"));
        CHECK(q() == 1);
        CHECK(db.objects<Review>().count() == 24);
    }
}

TEST_CASE("a Database opened with Options::batch_size chunks its prefetches",
          "[prefetch][sqlite]") {
    loom::Options o;
    o.batch_size = 4;
    loom::Database db(test_url(), o);
    create_all(db);
    seed_many(db);
    Log log(db);
    auto books = db.objects<Book>().prefetch_related(&Book::publisher).to_vector();
    CHECK(log.count("prefetch Book::publisher") == 6);  // ceil(23 / 4)
    REQUIRE(books.size() == 23);
    for (const Book& b : books) CHECK(b.publisher->name == "P" + b.title.substr(1));
}

TEST_CASE(
    "past json_keys_above a level binds its keys as one JSON array: one query at any "
    "count, the same objects",
    "[prefetch][sqlite]") {
    loom::Database db(test_url());
    create_all(db);
    seed_many(db);
    auto qs = [&] {
        return db.objects<Book>().prefetch_related(&Book::publisher, &Book::reviews,
                                                   loom::path(&Book::authors, &Author::books));
    };
    db.set_json_keys_above(std::numeric_limits<std::size_t>::max());
    const Names lists = fingerprint(qs().to_vector());
    REQUIRE(lists.size() == 23);

    SECTION("23 books over a threshold of 8: every level one query, one parameter") {
        db.set_json_keys_above(8);
        Log log(db);
        const auto books = qs().to_vector();
        REQUIRE(log.sql.size() == 5);
        for (std::size_t i = 1; i < 4; ++i) {
            INFO(log.sql[i]);
            CHECK(log.sql[i].find(" IN (SELECT value FROM json_each(?))") != std::string::npos);
            REQUIRE(log.params[i].size() == 1);
        }
        CHECK(log.origins[1] == "prefetch Book::publisher");
        CHECK(std::get<std::string>(log.params[1][0]) ==
              "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]");
        // Author::books has 7 keys, under the threshold: a parameter list (padded to 8).
        CHECK(log.origins[4] == "prefetch Author::books");
        CHECK(log.sql[4].find("json_each") == std::string::npos);
        CHECK(log.params[4].size() == 8);
        CHECK(fingerprint(books) == lists);
        CHECK(&books[0].authors[0] == &books[21].authors[0]);  // still one shared object
    }
    SECTION("the key count is not bound by the variable limit") {
        db.set_json_keys_above(8);
        db.set_variable_limit(5);
        Log log(db);
        const auto books = qs().to_vector();
        CHECK(log.count("prefetch Book::publisher") == 1);
        CHECK(log.count("prefetch Book::reviews") == 1);
        CHECK(log.count("prefetch Book::authors") == 1);
        CHECK(log.count("prefetch Author::books") == 2);  // 7 keys in lists of at most 5
        CHECK(fingerprint(books) == lists);
    }
    SECTION("a batch size still splits JSON arrays") {
        db.set_json_keys_above(8);
        db.set_batch_size(10);
        Log log(db);
        const auto books = qs().to_vector();
        CHECK(log.count("prefetch Book::reviews") == 3);
        CHECK(log.origins[1] == "prefetch Book::publisher");
        CHECK(std::get<std::string>(log.params[1][0]) == "[1,2,3,4,5,6,7,8,9,10]");
        CHECK(std::get<std::string>(log.params[3][0]) == "[21,22,23]");
        CHECK(fingerprint(books) == lists);
    }
    SECTION("a Prefetch's own parameters come first; its order holds within each parent") {
        db.set_json_keys_above(8);
        Log log(db);
        const auto books = db.objects<Book>()
                               .prefetch_related(loom::Prefetch(
                                   &Book::reviews, db.objects<Review>()
                                                       .filter(loom::col(&Review::rating) >= 2)
                                                       .order_by(loom::desc(&Review::rating))))
                               .to_vector();
        REQUIRE(log.params.size() == 2);
        REQUIRE(log.params[1].size() == 2);
        CHECK(std::get<std::int64_t>(log.params[1][0]) == 2);
        CHECK(log.sql[1].find("ORDER BY t0.\"book_id\" ASC, t0.\"rating\" DESC") !=
              std::string::npos);
        Names seen;
        for (const Book& b : books) {
            std::string line;
            for (const Review& r : b.reviews) line += std::to_string(r.rating) + " ";
            seen.push_back(line);
        }
        Names expected;
        for (int i = 1; i <= 23; ++i) {
            std::vector<int> ratings;
            for (int r = 0; r < i % 3; ++r)
                if (1 + (i + r) % 5 >= 2) ratings.push_back(1 + (i + r) % 5);
            std::sort(ratings.rbegin(), ratings.rend());
            std::string line;
            for (int r : ratings) line += std::to_string(r) + " ";
            expected.push_back(line);
        }
        CHECK(seen == expected);
    }
}

TEST_CASE("by default a level with more than 512 keys is one query", "[prefetch][sqlite]") {
    loom::Database db(test_url());
    create_all(db);
    db.transaction([&] {
        Publisher p{.name = "P"};
        db.insert(p);
        for (int i = 1; i <= 600; ++i) {
            // A named string, not "B" + std::to_string(i): at -O3 GCC 12 inlines
            // operator+(const char*, std::string&&) into a bogus -Wstringop-overflow warning.
            const std::string n = std::to_string(i);
            Book b{.title = "B" + n, .year = 2000};
            b.publisher = p;
            db.insert(b);
            Review r;
            r.book = b;
            r.rating = 1 + i % 5;
            r.body = "r" + n;
            db.insert(r);
        }
    });
    db.set_variable_limit(100);
    Log log(db);
    const auto books = db.objects<Book>().prefetch_related(&Book::reviews).to_vector();
    REQUIRE(books.size() == 600);
    CHECK(log.sql.size() == 2);
    CHECK(log.sql[1].find("json_each(?)") != std::string::npos);
    for (const Book& b : books) {
        REQUIRE(b.reviews.size() == 1);
        CHECK(b.reviews[0].body == "r" + b.title.substr(1));
    }
}

TEST_CASE("keys far apart, negative or at the ends of the 64-bit range are stitched exactly",
          "[prefetch]") {
    // The key index is a flat array while the keys are nearly contiguous and a hash map once
    // they spread: this walk crosses from one to the other on every level.
    constexpr auto lo = std::numeric_limits<std::int64_t>::min();
    constexpr auto hi = std::numeric_limits<std::int64_t>::max();
    const std::vector<std::int64_t> ids{1, 2, 3, -7, 4, hi, lo + 1, 5, 1'000'000'007, hi - 1, 6};
    loom::Database db(test_url());
    create_all(db);
    Publisher pub{.name = "P"};
    db.insert(pub);
    std::vector<Author> authors;
    for (std::int64_t id : std::vector<std::int64_t>{hi, 10, lo + 1, -3}) {
        authors.push_back(Author{.id = id, .name = "a" + std::to_string(id)});
        db.insert(authors.back());
    }
    for (std::size_t i = 0; i < ids.size(); ++i) {
        Book b{.id = ids[i], .title = "b" + std::to_string(ids[i]), .year = 2000};
        b.publisher = pub;
        db.insert(b);
        db.m2m(b, &Book::authors).add(authors[i % authors.size()]);
        if (i % 2 == 0) db.m2m(b, &Book::authors).add(authors[(i + 1) % authors.size()]);
        for (int r = 0; r < static_cast<int>(i % 3); ++r) {
            Review v{.rating = r, .body = "r" + std::to_string(ids[i]) + "." + std::to_string(r)};
            v.book = b;
            db.insert(v);
        }
    }
    Queries q(db);
    auto books = db.objects<Book>()
                     .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews)
                     .to_vector();
    REQUIRE(q() == 4);
    REQUIRE(books.size() == ids.size());
    for (const Book& b : books) {
        const auto i =
            static_cast<std::size_t>(std::find(ids.begin(), ids.end(), b.id) - ids.begin());
        REQUIRE(i < ids.size());
        CHECK(b.title == "b" + std::to_string(ids[i]));
        CHECK(b.publisher->id == pub.id);
        Names want_authors{"a" + std::to_string(authors[i % authors.size()].id)};
        if (i % 2 == 0)
            want_authors.push_back("a" + std::to_string(authors[(i + 1) % authors.size()].id));
        Names got_authors = labels(b.authors);
        std::sort(want_authors.begin(), want_authors.end());
        std::sort(got_authors.begin(), got_authors.end());
        CHECK(got_authors == want_authors);
        Names want_reviews;
        for (int r = 0; r < static_cast<int>(i % 3); ++r)
            want_reviews.push_back("r" + std::to_string(ids[i]) + "." + std::to_string(r));
        CHECK(labels(b.reviews) == want_reviews);
    }
    // And from the other side: each author's books, keys spread the same way.
    auto by_author = db.objects<Author>().prefetch_related(&Author::books).to_vector();
    REQUIRE(q() == 6);
    std::size_t links = 0;
    for (const Author& a : by_author) {
        for (const Book& b : a.books) {
            const auto i =
                static_cast<std::size_t>(std::find(ids.begin(), ids.end(), b.id) - ids.begin());
            REQUIRE(i < ids.size());
            const bool first = authors[i % authors.size()].id == a.id;
            const bool second = i % 2 == 0 && authors[(i + 1) % authors.size()].id == a.id;
            CHECK((first || second));
            ++links;
        }
    }
    CHECK(links == ids.size() + (ids.size() + 1) / 2);
}

// ---- shared objects and lifetime -----------------------------------------------------------

TEST_CASE("a related object shared by several parents is materialised once", "[prefetch]") {
    Bookstore s;
    auto books = s.books().prefetch_related(&Book::publisher, &Book::authors).to_vector();
    const Author& pratchett_in_omens = books[1].authors[0];
    const Author& pratchett_in_small_gods = books[2].authors[0];
    CHECK(pratchett_in_omens.name == "Terry Pratchett");
    CHECK(&pratchett_in_omens == &pratchett_in_small_gods);
    CHECK(&books[4].authors[0] == &pratchett_in_omens);
    CHECK(books[0].publisher.get() == books[2].publisher.get());
    CHECK(books[3].publisher.get() == books[4].publisher.get());
}

TEST_CASE("copied or moved parents keep their relations after the QuerySet is gone", "[prefetch]") {
    Bookstore s;
    std::vector<Book> kept;
    {
        auto qs = s.books().prefetch_related(
            &Book::publisher, loom::path(&Book::authors, &Author::books, &Book::reviews));
        kept = qs.to_vector();
    }
    SECTION("a copied vector") {
        const std::vector<Book> copy = kept;
        kept.clear();
        kept.shrink_to_fit();
        CHECK(copy[1].publisher->name == "Gollancz");
        CHECK(labels(copy[1].authors) == Names{"Terry Pratchett", "Neil Gaiman"});
        CHECK(labels(copy[1].authors[1].books[1].reviews) == Names{"A road trip.", "Long."});
        CHECK(&copy[1].authors[0] == &copy[2].authors[0]);
    }
    SECTION("a moved vector") {
        const std::vector<Book> moved = std::move(kept);
        CHECK(labels(moved[2].authors[0].books) ==
              Names{"Good Omens", "Small Gods", "The Wee Free Men"});
    }
    SECTION("a single book, and an author copied out of a nested level") {
        Book omens = kept[1];
        Author gaiman = kept[1].authors[1];
        kept = {};
        CHECK(omens.publisher->name == "Gollancz");
        CHECK(labels(omens.authors[0].books) ==
              Names{"Good Omens", "Small Gods", "The Wee Free Men"});
        CHECK(labels(gaiman.books) == Names{"Good Omens", "American Gods"});
        CHECK(labels(gaiman.books[0].reviews) == Names{"Funny.", "Angels!"});
    }
}

TEST_CASE("a list assigned from a list that only it keeps alive stays valid", "[prefetch]") {
    Bookstore s;
    auto gaiman = [&](auto... levels) {
        return s.db.objects<Author>()
            .filter(loom::col(&Author::name) == "Neil Gaiman")
            .prefetch_related(loom::path(levels...))
            .get();
    };
    // Only a.books keeps its level alive, and with it every deeper level: the assignment
    // releases it, and must have copied the source list first (ASan checks the rest).
    Author a = gaiman(&Author::books, &Book::authors, &Author::books);
    a.books = a.books[1].authors[0].books;  // Gaiman's books, seen from American Gods
    REQUIRE(a.books.loaded());
    CHECK(labels(a.books) == Names{"Good Omens", "American Gods"});

    Author b = gaiman(&Author::books, &Book::authors);
    b.books = std::move(b.books[1].authors[0].books);  // not loaded there: nor here
    CHECK_FALSE(b.books.loaded());
}

// ---- strict access and explicit loads ------------------------------------------------------

TEST_CASE("reading a relation that was not prefetched throws NotLoaded and runs no query",
          "[prefetch]") {
    Bookstore s;
    auto books = s.books().prefetch_related(&Book::authors).to_vector();
    Queries q(s.db);

    SECTION("a reverse ForeignKey names itself and the call that loads it") {
        CHECK_THROWS_MATCHES(
            books[1].reviews.size(), loom::NotLoaded,
            Catch::Matchers::Message(
                "Book::reviews was not loaded, and loom never runs a hidden query. Load it with "
                "db.objects<Book>().prefetch_related(&Book::reviews), or explicitly with "
                "book.reviews.load(db)"));
    }
    SECTION("a forward ForeignKey") {
        CHECK_THROWS_MATCHES(
            books[1].publisher->name, loom::NotLoaded,
            Catch::Matchers::Message(
                "Book::publisher was not loaded, and loom never runs a hidden query. Load it "
                "with db.objects<Book>().prefetch_related(&Book::publisher), or explicitly with "
                "book.publisher.load(db)"));
        CHECK_FALSE(books[1].publisher.loaded());
        CHECK(books[1].publisher.id() == s.c.gollancz.id);
    }
    SECTION("a level below the prefetched one") {
        CHECK_THROWS_MATCHES(
            books[1].authors[0].books.begin(), loom::NotLoaded,
            Catch::Matchers::Message(
                "Author::books was not loaded, and loom never runs a hidden query. Load it with "
                "db.objects<Author>().prefetch_related(&Author::books), or explicitly with "
                "author.books.load(db)"));
    }
    SECTION("every NotLoaded is a loom::Error") {
        CHECK_THROWS_AS(books[0].reviews.empty(), loom::Error);
    }
    CHECK(q() == 0);
}

TEST_CASE("a relation of an object built in code says it never came from the database",
          "[prefetch]") {
    loom::Database db(test_url());
    create_all(db);
    Book draft{.title = "Draft"};
    Queries q(db);
    // A member with no name is one of an object built in code, or one the descriptor does not
    // declare (Book::top_reviews): the message gives both.
    CHECK_THROWS_MATCHES(
        draft.reviews.size(), loom::NotLoaded,
        Catch::Matchers::Message(
            "this relation<Review> was never loaded, and cannot load itself: either its object "
            "was built in code (insert it, or read it back from the database, then call "
            "load(db) on the relation), or the member is not declared in its model's "
            "descriptor (a Prefetch(...).into(...) target, which only prefetch_related fills)"));
    CHECK_THROWS_MATCHES(
        draft.publisher.get(), loom::NotLoaded,
        Catch::Matchers::Message(
            "this ForeignKey<Publisher> was never loaded, and cannot load itself: either its "
            "object was built in code (insert it, or read it back from the database, then call "
            "load(db) on the relation), or the member is not declared in its model's "
            "descriptor (a Prefetch(...).into(...) target, which only prefetch_related fills)"));
    CHECK_THROWS_AS(draft.reviews.load(db), loom::NotLoaded);
    CHECK(q() == 0);
}

TEST_CASE("an object built in code can load its relations once inserted, as the message says",
          "[prefetch]") {
    Bookstore s;
    Book sequel{.title = "Good Omens II", .year = 2019};
    sequel.publisher = s.c.gollancz;
    s.db.insert(sequel);
    Review r;
    r.book = sequel;
    r.rating = 4;
    r.body = "Late.";
    s.db.insert(r);

    Queries q(s.db);
    sequel.reviews.load(s.db);
    sequel.publisher.load(s.db);
    CHECK(q() == 2);
    CHECK(labels(sequel.reviews) == Names{"Late."});
    CHECK(sequel.publisher->name == "Gollancz");
}

TEST_CASE("loading a relation of a copy leaves the original's cache as it was", "[prefetch]") {
    Bookstore s;
    auto books = s.books().prefetch_related(&Book::reviews).to_vector();
    Book copy = books[4];
    Review r;
    r.book = copy;
    r.rating = 5;
    r.body = "Crivens!";
    s.db.insert(r);

    Queries q(s.db);
    copy.reviews.load(s.db);
    CHECK(q() == 1);
    CHECK(labels(copy.reviews) == Names{"Crivens!"});
    CHECK(books[4].reviews.loaded());
    CHECK(books[4].reviews.empty());
}

TEST_CASE("an explicit load runs exactly one query, visible to listeners", "[prefetch]") {
    Bookstore s;
    auto books = s.books().to_vector();
    Book& omens = books[1];

    SECTION("relation.load(db)") {
        Log log(s.db);
        omens.reviews.load(s.db);
        REQUIRE(log.sql.size() == 1);
        CHECK(log.origins[0] == "load Book::reviews");
        CHECK(log.ints(0) == std::vector<std::int64_t>{omens.id});
        CHECK(labels(omens.reviews) == Names{"Funny.", "Angels!"});
    }
    SECTION("db.load(object, member)") {
        Log log(s.db);
        s.db.load(omens, &Book::authors);
        REQUIRE(log.sql.size() == 1);
        CHECK(log.origins[0] == "load Book::authors");
        CHECK(labels(omens.authors) == Names{"Terry Pratchett", "Neil Gaiman"});
    }
    SECTION("a forward ForeignKey") {
        Queries q(s.db);
        omens.publisher.load(s.db);
        CHECK(q() == 1);
        CHECK(omens.publisher->name == "Gollancz");
    }
    SECTION("a reverse one-to-one") {
        loom::Database db(test_url());
        create_all(db);
        seed_users(db);
        auto users = db.objects<User>().to_vector();
        Queries q(db);
        users[0].profile.load(db);
        users[1].profile.load(db);
        CHECK(q() == 2);
        CHECK(users[0].profile->bio == "likes tea");
        CHECK(users[1].profile.loaded());
        CHECK(users[1].profile.get() == nullptr);
    }
    SECTION("a NULL ForeignKey loads as null without a query") {
        loom::Database db(test_url());
        create_all(db);
        seed_employees(db);
        auto ada = db.objects<Employee>().get(loom::col(&Employee::name) == "Ada");
        Queries q(db);
        ada.manager.load(db);
        CHECK(q() == 0);
        CHECK(ada.manager.loaded());
        CHECK(ada.manager.get() == nullptr);
    }
    SECTION("a book without reviews loads an empty list") {
        Queries q(s.db);
        books[4].reviews.load(s.db);
        CHECK(q() == 1);
        CHECK(books[4].reviews.loaded());
        CHECK(books[4].reviews.empty());
    }
}

TEST_CASE("the naive walk runs 1 + N queries, the prefetched one 1 + levels", "[prefetch]") {
    Bookstore s;

    Queries naive_q(s.db);
    auto naive = s.books().to_vector();
    for (Book& b : naive) {
        b.authors.load(s.db);
        b.reviews.load(s.db);
    }
    CHECK(naive_q() == 1 + 2 * 5);

    Queries pre_q(s.db);
    auto prefetched = s.books().prefetch_related(&Book::authors, &Book::reviews).to_vector();
    CHECK(pre_q() == 1 + 2);

    REQUIRE(naive.size() == prefetched.size());
    for (std::size_t i = 0; i < naive.size(); ++i) {
        CHECK(labels(naive[i].authors) == labels(prefetched[i].authors));
        CHECK(labels(naive[i].reviews) == labels(prefetched[i].reviews));
    }
}

// ---- many-to-many writes keep the cache true -----------------------------------------------

TEST_CASE("many-to-many writes keep a prefetched cache true, without a query to reload it",
          "[prefetch]") {
    Bookstore s;
    auto books = s.books().prefetch_related(&Book::authors).to_vector();
    auto from_db = [&](std::int64_t id) {
        return labels(
            s.books().prefetch_related(&Book::authors).get(loom::col(&Book::id) == id).authors);
    };
    Log log(s.db);
    auto selects = [&] {
        std::size_t n = 0;
        for (const auto& sql : log.sql) n += sql.rfind("SELECT", 0) == 0;
        return n;
    };

    SECTION("add") {
        Book& wee = books[4];
        s.db.m2m(wee, &Book::authors).add(s.c.gaiman);
        CHECK(selects() == 0);
        CHECK(labels(wee.authors) == Names{"Terry Pratchett", "Neil Gaiman"});
        CHECK(from_db(wee.id) == labels(wee.authors));
    }
    SECTION("add of an author already linked keeps one") {
        Book& omens = books[1];
        s.db.m2m(omens, &Book::authors).add(s.c.pratchett);
        CHECK(labels(omens.authors) == Names{"Terry Pratchett", "Neil Gaiman"});
        CHECK(from_db(omens.id) == labels(omens.authors));
    }
    SECTION("remove") {
        Book& omens = books[1];
        s.db.m2m(omens, &Book::authors).remove(s.c.pratchett);
        CHECK(selects() == 0);
        CHECK(labels(omens.authors) == Names{"Neil Gaiman"});
        CHECK(from_db(omens.id) == Names{"Neil Gaiman"});
        CHECK(labels(books[2].authors) == Names{"Terry Pratchett"});  // the shared author stays
    }
    SECTION("set") {
        Book& omens = books[1];
        s.db.m2m(omens, &Book::authors).set(std::vector<Author>{s.c.leguin, s.c.gaiman});
        CHECK(selects() == 0);
        CHECK(labels(omens.authors) == Names{"Ursula K. Le Guin", "Neil Gaiman"});
        CHECK(from_db(omens.id) == labels(omens.authors));
    }
    SECTION("clear") {
        Book& omens = books[1];
        s.db.m2m(omens, &Book::authors).clear();
        CHECK(selects() == 0);
        CHECK(omens.authors.loaded());
        CHECK(omens.authors.empty());
        CHECK(from_db(omens.id).empty());
    }
    SECTION("from the reverse side") {
        auto authors = s.db.objects<Author>().prefetch_related(&Author::books).to_vector();
        Author& leguin = authors[0];
        s.db.m2m(leguin, &Author::books).add(s.c.omens);
        CHECK(labels(leguin.books) == Names{"The Dispossessed", "Good Omens"});
        CHECK(from_db(s.c.omens.id) ==
              Names{"Ursula K. Le Guin", "Terry Pratchett", "Neil Gaiman"});
    }
    SECTION("a cache that was not loaded stays not loaded") {
        auto plain = s.books().to_vector();
        s.db.m2m(plain[4], &Book::authors).add(s.c.gaiman);
        CHECK_FALSE(plain[4].authors.loaded());
        CHECK(from_db(plain[4].id) == Names{"Terry Pratchett", "Neil Gaiman"});
    }
}

// ---- with the rest of the QuerySet API -----------------------------------------------------

TEST_CASE("prefetch_related works with get, first, slicing, filter and order_by", "[prefetch]") {
    Bookstore s;
    auto qs = s.books().prefetch_related(&Book::authors);

    SECTION("get") {
        Queries q(s.db);
        Book omens = qs.get(loom::col(&Book::title) == "Good Omens");
        CHECK(q() == 2);
        CHECK(labels(omens.authors) == Names{"Terry Pratchett", "Neil Gaiman"});
    }
    SECTION("get finding nothing runs no prefetch query") {
        Queries q(s.db);
        CHECK_THROWS_AS(qs.get(loom::col(&Book::title) == "Mort"), loom::DoesNotExist);
        CHECK(q() == 1);
    }
    SECTION("first, after order_by") {
        Log log(s.db);
        auto newest = qs.order_by(loom::desc(&Book::year)).first();
        REQUIRE(newest.has_value());
        CHECK(newest->title == "The Wee Free Men");
        CHECK(labels(newest->authors) == Names{"Terry Pratchett"});
        REQUIRE(log.sql.size() == 2);
        CHECK(log.ints(1) == std::vector<std::int64_t>{s.c.wee_free_men.id});
    }
    SECTION("first on an empty result") {
        Queries q(s.db);
        CHECK_FALSE(qs.filter(loom::col(&Book::year) < 0).first().has_value());
        CHECK(q() == 1);
    }
    SECTION("a slice prefetches for the sliced rows only") {
        Log log(s.db);
        auto two = qs.slice(1, 3).to_vector();
        REQUIRE(labels(two) == Names{"Good Omens", "Small Gods"});
        CHECK(labels(two[0].authors) == Names{"Terry Pratchett", "Neil Gaiman"});
        CHECK(labels(two[1].authors) == Names{"Terry Pratchett"});
        REQUIRE(log.sql.size() == 2);
        CHECK(log.ints(1) == std::vector<std::int64_t>{s.c.omens.id, s.c.small_gods.id});
    }
    SECTION("filter and order_by") {
        Queries q(s.db);
        auto recent = qs.filter(loom::col(&Book::year) >= 1990)
                          .order_by(loom::desc(&Book::year))
                          .prefetch_related(&Book::publisher)
                          .to_vector();
        CHECK(q() == 3);
        REQUIRE(labels(recent) ==
                Names{"The Wee Free Men", "American Gods", "Small Gods", "Good Omens"});
        CHECK(labels(recent[1].authors) == Names{"Neil Gaiman"});
        CHECK(recent[3].publisher->name == "Gollancz");
    }
    SECTION("count and exists run no prefetch") {
        Queries q(s.db);
        CHECK(qs.count() == 5);
        CHECK(qs.exists());
        CHECK(q() == 2);
    }
}

TEST_CASE("select_related and prefetch_related together", "[prefetch]") {
    Bookstore s;

    SECTION("a relation joined by select_related is not queried again") {
        Log log(s.db);
        auto books = s.books()
                         .select_related(&Book::publisher)
                         .prefetch_related(&Book::publisher)
                         .to_vector();
        CHECK(log.origins == Names{"Book"});
        CHECK(books[0].publisher->name == "Gollancz");
        CHECK(books[4].publisher->name == "Penguin");
    }
    SECTION("a path below a joined relation runs only its lower level") {
        Log log(s.db);
        auto books = s.books()
                         .select_related(&Book::publisher)
                         .prefetch_related(loom::path(&Book::publisher, &Publisher::books))
                         .to_vector();
        CHECK(log.origins == Names{"Book", "prefetch Publisher::books"});
        CHECK(books[0].publisher.get() == books[1].publisher.get());
        CHECK(labels(books[0].publisher->books) ==
              Names{"The Dispossessed", "Good Omens", "Small Gods"});
        CHECK(labels(books[4].publisher->books) == Names{"American Gods", "The Wee Free Men"});
    }
    SECTION("a Prefetch whose QuerySet joins its own relation") {
        Queries q(s.db);
        auto books = s.books()
                         .prefetch_related(loom::Prefetch(
                             &Book::reviews, s.db.objects<Review>().select_related(&Review::book)))
                         .to_vector();
        CHECK(q() == 2);
        REQUIRE(labels(books[3].reviews) == Names{"A road trip.", "Long."});
        CHECK(books[3].reviews[0].book->title == "American Gods");
        CHECK(books[3].reviews[1].book->title == "American Gods");
    }
}

// ---- prefetch_related_objects and Prefetch(...).into (issue #5) ----------------------------

TEST_CASE("prefetch_related_objects prefetches into objects already in hand", "[prefetch]") {
    Bookstore s;
    auto books = s.books().to_vector();

    Queries q(s.db);
    loom::prefetch_related_objects(s.db, books, &Book::reviews,
                                   loom::path(&Book::authors, &Author::books));
    CHECK(q() == 3);
    CHECK(labels(books[1].reviews) == Names{"Funny.", "Angels!"});
    CHECK(labels(books[3].authors[0].books) == Names{"Good Omens", "American Gods"});

    std::vector<Book> none;
    Queries q2(s.db);
    loom::prefetch_related_objects(s.db, none, &Book::reviews);
    CHECK(q2() == 0);
}

TEST_CASE("Prefetch(...).into loads a per-parent top 1 into another member", "[prefetch]") {
    Bookstore s;
    Queries q(s.db);
    auto books = s.books()
                     .prefetch_related(
                         loom::Prefetch(
                             &Book::reviews,
                             s.db.objects<Review>().order_by(loom::desc(&Review::rating)).limit(1))
                             .into(&Book::top_reviews))
                     .to_vector();
    CHECK(q() == 2);
    Names tops;
    for (const Book& b : books) tops.push_back(b.top_reviews.empty() ? "-" : b.top_reviews[0].body);
    CHECK(tops == Names{"Ambiguous.", "Funny.", "Om.", "A road trip.", "-"});
    for (const Book& b : books) CHECK(b.top_reviews.size() <= 1);
    CHECK_FALSE(books[1].reviews.loaded());
}

}  // namespace prefetch_tests
