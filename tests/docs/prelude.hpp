// tests/docs/prelude.hpp - the context of every `cpp fragment` and `cpp decl` block of the
// documentation (see tests/docs/README.md): the bookstore models of README.md and the other
// models the pages use, a seeded in-memory database, and the helpers snippets call.
//
// The descriptors here use the variable-template form, which compiles before and after the
// switch to `constexpr auto loom_model(loom::model_of<T>)`; the pages show the function form.
#pragma once

#include <loom/loom.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

struct Publisher;
struct Author;
struct Review;
struct Club;
struct Profile;

struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
    loom::Reverse<Review> reviews;
    loom::Reverse<Review> top_reviews;  // not in the descriptor: a Prefetch(...).into target
};

struct Author {
    std::int64_t id = 0;
    std::string name;
    std::optional<int> born;
    loom::Reverse<Book> books;
    std::int64_t book_count = 0;  // not in the descriptor: annotate_count targets
    std::int64_t recent_count = 0;
};

struct Publisher {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

struct Review {
    std::int64_t id = 0;
    loom::ForeignKey<Book> book;
    int rating = 0;
    std::string body;
};

struct Employee {  // a self-reference
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Employee> manager;
    loom::Reverse<Employee> reports;
};

struct Person {  // a self many-to-many, and a many-to-many through a model
    std::int64_t id = 0;
    std::string name;
    loom::ManyToMany<Person> friends;
    loom::Reverse<Person> friend_of;
    loom::ManyToMany<Club> clubs;
};

struct Club {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Person> members;
};

struct Membership {
    std::int64_t id = 0;
    loom::ForeignKey<Person> person;
    loom::ForeignKey<Club> club;
    std::string role;
};

struct User {  // one-to-one both ways
    std::int64_t id = 0;
    std::string login;
    loom::ReverseOne<Profile> profile;
};

struct Profile {
    std::int64_t id = 0;
    loom::OneToOne<User> user;
    std::string bio;
};

template <>
inline constexpr auto loom::model<::Publisher> =
    loom::table("publisher", loom::pk(&::Publisher::id), loom::field(&::Publisher::name, "name"),
                loom::reverse(&::Publisher::books, &::Book::publisher));
template <>
inline constexpr auto loom::model<::Author> = loom::table(
    "author", loom::pk(&::Author::id), loom::field(&::Author::name, "name"),
    loom::field(&::Author::born, "born"), loom::reverse(&::Author::books, &::Book::authors));
template <>
inline constexpr auto loom::model<::Book> =
    loom::table("book", loom::pk(&::Book::id), loom::field(&::Book::title, "title"),
                loom::field(&::Book::year, "year"),
                loom::foreign_key(&::Book::publisher, "publisher_id", loom::on_delete::cascade),
                loom::many_to_many(&::Book::authors, "book_authors"),
                loom::reverse(&::Book::reviews, &::Review::book));
template <>
inline constexpr auto loom::model<::Review> =
    loom::table("review", loom::pk(&::Review::id),
                loom::foreign_key(&::Review::book, "book_id", loom::on_delete::cascade),
                loom::field(&::Review::rating, "rating"), loom::field(&::Review::body, "body"));
template <>
inline constexpr auto loom::model<::Employee> =
    loom::table("employee", loom::pk(&::Employee::id), loom::field(&::Employee::name, "name"),
                loom::foreign_key(&::Employee::manager, "manager_id", loom::on_delete::set_null),
                loom::reverse(&::Employee::reports, &::Employee::manager));
template <>
inline constexpr auto loom::model<::Person> =
    loom::table("person", loom::pk(&::Person::id), loom::field(&::Person::name, "name"),
                loom::many_to_many(&::Person::friends, "person_friends"),
                loom::reverse(&::Person::friend_of, &::Person::friends),
                loom::many_to_many(&::Person::clubs,
                                   loom::through(&::Membership::person, &::Membership::club)));
template <>
inline constexpr auto loom::model<::Club> = loom::table("club", loom::pk(&::Club::id),
                                                        loom::field(&::Club::name, "name"),
                                                        loom::reverse(&::Club::members,
                                                                      &::Person::clubs));
template <>
inline constexpr auto loom::model<::Membership> =
    loom::table("membership", loom::pk(&::Membership::id),
                loom::foreign_key(&::Membership::person, "person_id", loom::on_delete::cascade),
                loom::foreign_key(&::Membership::club, "club_id", loom::on_delete::cascade),
                loom::field(&::Membership::role, "role"));
template <>
inline constexpr auto loom::model<::User> = loom::table("app_user", loom::pk(&::User::id),
                                                        loom::field(&::User::login, "login"),
                                                        loom::reverse(&::User::profile,
                                                                      &::Profile::user));
template <>
inline constexpr auto loom::model<::Profile> =
    loom::table("profile", loom::pk(&::Profile::id),
                loom::one_to_one(&::Profile::user, "user_id", loom::on_delete::cascade),
                loom::field(&::Profile::bio, "bio"));

/// Marks values as used; snippets write use(b, b.authors) where real code would do something.
template <class... Ts> void use(const Ts&...) {}

/// What a page means by "render the catalogue": exactly 3 queries (the books, their authors,
/// their reviews).
inline void render_catalogue(loom::Database& db) {
    for (const Book& b : db.objects<Book>().prefetch_related(&Book::authors, &Book::reviews))
        use(b.title, b.authors.size(), b.reviews.size());
}

namespace loom_docs {

/// The bookstore of examples/bookstore.cpp in ":memory:", plus two employees, two people in a
/// club and a user with a profile. The query count is reset once it is seeded.
struct Fixture {
    loom::Database db{":memory:"};
    Publisher penguin{.name = "Penguin"}, gollancz{.name = "Gollancz"};
    Author leguin{.name = "Ursula K. Le Guin", .born = 1929};
    Author pratchett{.name = "Terry Pratchett", .born = 1948};
    Author gaiman{.name = "Neil Gaiman", .born = 1960};
    Book dispossessed{.title = "The Dispossessed", .year = 1974};
    Book good_omens{.title = "Good Omens", .year = 1990};
    Book small_gods{.title = "Small Gods", .year = 1992};
    Book american_gods{.title = "American Gods", .year = 2001};
    Book wee_free_men{.title = "The Wee Free Men", .year = 2003};
    Employee boss{.name = "Ada"}, worker{.name = "Brian"};

    Fixture() {
        db.create_tables<Publisher, Author, Book, Review, Employee, Person, Club, Membership, User,
                         Profile>();
        db.transaction([&] {
            db.insert(penguin);
            db.insert(gollancz);
            for (Author* a : {&leguin, &pratchett, &gaiman}) db.insert(*a);
            add(dispossessed, gollancz, {&leguin}, {{5, "Ambiguous, and better for it."}});
            add(good_omens, gollancz, {&pratchett, &gaiman}, {{5, "Funny."}, {4, "Angels!"}});
            add(small_gods, gollancz, {&pratchett}, {{5, "Om the tortoise."}});
            add(american_gods, penguin, {&gaiman}, {{4, "A road trip."}, {3, "Long."}});
            add(wee_free_men, penguin, {&pratchett}, {});
            db.insert(boss);
            worker.manager = boss;
            db.insert(worker);
            Person ann{.name = "Ann"}, bob{.name = "Bob"};
            db.insert(ann);
            db.insert(bob);
            db.m2m(ann, &Person::friends).add(bob);
            Club chess{.name = "Chess"};
            db.insert(chess);
            Membership m{.role = "captain"};
            m.person = ann;
            m.club = chess;
            db.insert(m);
            User u{.login = "ann"};
            db.insert(u);
            Profile p{.bio = "Plays chess."};
            p.user = u;
            db.insert(p);
        });
        db.reset_query_count();
    }

private:
    void add(Book& b, Publisher& p, std::vector<Author*> authors,
             std::vector<std::pair<int, const char*>> reviews) {
        b.publisher = p;
        db.insert(b);
        for (Author* a : authors) db.m2m(b, &Book::authors).add(*a);
        for (auto& [rating, body] : reviews) {
            Review r{.rating = rating, .body = body};
            r.book = b;
            db.insert(r);
        }
    }
};

/// Runs one fragment; prints and counts a failure.
inline int run(const char* where, void (*fragment)()) {
    try {
        fragment();
        std::printf("%s: ok\n", where);
        return 0;
    } catch (const std::exception& e) {
        std::printf("%s: FAILED: the fragment threw %s: %s\n", where, typeid(e).name(), e.what());
        return 1;
    }
}

/// Runs a `throws` fragment: it must throw a loom::Error (whose message is printed).
inline int run_throwing(const char* where, void (*fragment)()) {
    try {
        fragment();
    } catch (const loom::Error& e) {
        std::printf("%s: ok, threw as documented: %s\n", where, e.what());
        return 0;
    } catch (const std::exception& e) {
        std::printf("%s: FAILED: expected a loom::Error, got %s: %s\n", where, typeid(e).name(),
                    e.what());
        return 1;
    }
    std::printf("%s: FAILED: the fragment is marked `throws` but threw nothing\n", where);
    return 1;
}

}  // namespace loom_docs

// The first line of every fragment's function: a fresh seeded database and the seeded objects
// by name (book is Good Omens).
#define LOOM_DOCS_FIXTURE                                                     \
    ::loom_docs::Fixture loom_docs_fixture;                                   \
    [[maybe_unused]] ::loom::Database& db = loom_docs_fixture.db;             \
    [[maybe_unused]] ::Publisher& penguin = loom_docs_fixture.penguin;        \
    [[maybe_unused]] ::Publisher& gollancz = loom_docs_fixture.gollancz;      \
    [[maybe_unused]] ::Author& leguin = loom_docs_fixture.leguin;             \
    [[maybe_unused]] ::Author& pratchett = loom_docs_fixture.pratchett;       \
    [[maybe_unused]] ::Author& gaiman = loom_docs_fixture.gaiman;             \
    [[maybe_unused]] ::Book& good_omens = loom_docs_fixture.good_omens;       \
    [[maybe_unused]] ::Book& small_gods = loom_docs_fixture.small_gods;       \
    [[maybe_unused]] ::Book& american_gods = loom_docs_fixture.american_gods; \
    [[maybe_unused]] ::Book& book = loom_docs_fixture.good_omens;
