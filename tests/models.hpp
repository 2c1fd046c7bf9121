// Models shared by the tests: the bookstore, plus one model per relation shape the bookstore
// lacks (self-references, one-to-one, an explicit through model, every column type).
#pragma once

#include <loom/loom.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "test_db.hpp"

namespace shop {

struct Publisher;
struct Author;
struct Review;

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

// Self-references: a manager (nullable FK to the same model) and friends (self M2M).
struct Employee {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Employee> manager;
    loom::Reverse<Employee> reports;
};

struct Person {
    std::int64_t id = 0;
    std::string name;
    loom::ManyToMany<Person> friends;
    loom::Reverse<Person> friend_of;
    loom::ManyToMany<struct Club> clubs;  // through Membership
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

// One-to-one both ways.
struct User {
    std::int64_t id = 0;
    std::string login;
    loom::ReverseOne<struct Profile> profile;
};

struct Profile {
    std::int64_t id = 0;
    loom::OneToOne<User> user;
    std::string bio;
};

enum class Color : std::int8_t { red = 1, green = 2, blue = 3 };

// Every column type.
struct Sample {
    std::int64_t id = 0;
    bool flag = false;
    std::int8_t tiny = 0;
    std::uint16_t small = 0;
    int normal = 0;
    std::int64_t big = 0;
    double real = 0;
    std::string text;
    loom::Blob data;
    Color color = Color::red;
    std::optional<int> maybe_int;
    std::optional<std::string> maybe_text;
};

}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Publisher>) {
    return loom::table("publisher", loom::pk(&shop::Publisher::id),
                       loom::field(&shop::Publisher::name, "name", loom::unique),
                       loom::reverse(&shop::Publisher::books, &shop::Book::publisher));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Author>) {
    return loom::table("author", loom::pk(&shop::Author::id),
                       loom::field(&shop::Author::name, "name"),
                       loom::field(&shop::Author::born, "born"),
                       loom::reverse(&shop::Author::books, &shop::Book::authors));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table(
        "book", loom::pk(&shop::Book::id), loom::field(&shop::Book::title, "title"),
        loom::field(&shop::Book::year, "year"),
        loom::foreign_key(&shop::Book::publisher, "publisher_id", loom::on_delete::cascade),
        loom::many_to_many(&shop::Book::authors, "book_authors"),
        loom::reverse(&shop::Book::reviews, &shop::Review::book));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Review>) {
    return loom::table("review", loom::pk(&shop::Review::id),
                       loom::foreign_key(&shop::Review::book, "book_id", loom::on_delete::cascade),
                       loom::field(&shop::Review::rating, "rating"),
                       loom::field(&shop::Review::body, "body"));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Employee>) {
    return loom::table(
        "employee", loom::pk(&shop::Employee::id), loom::field(&shop::Employee::name, "name"),
        loom::foreign_key(&shop::Employee::manager, "manager_id", loom::on_delete::set_null),
        loom::reverse(&shop::Employee::reports, &shop::Employee::manager));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Person>) {
    return loom::table(
        "person", loom::pk(&shop::Person::id), loom::field(&shop::Person::name, "name"),
        loom::many_to_many(&shop::Person::friends, "person_friends"),
        loom::reverse(&shop::Person::friend_of, &shop::Person::friends),
        loom::many_to_many(&shop::Person::clubs,
                           loom::through(&shop::Membership::person, &shop::Membership::club)));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Club>) {
    return loom::table("club", loom::pk(&shop::Club::id), loom::field(&shop::Club::name, "name"),
                       loom::reverse(&shop::Club::members, &shop::Person::clubs));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Membership>) {
    return loom::table(
        "membership", loom::pk(&shop::Membership::id),
        loom::foreign_key(&shop::Membership::person, "person_id", loom::on_delete::cascade),
        loom::foreign_key(&shop::Membership::club, "club_id", loom::on_delete::cascade),
        loom::field(&shop::Membership::role, "role"));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<User>) {
    return loom::table("user", loom::pk(&shop::User::id), loom::field(&shop::User::login, "login"),
                       loom::reverse(&shop::User::profile, &shop::Profile::user));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Profile>) {
    return loom::table("profile", loom::pk(&shop::Profile::id),
                       loom::one_to_one(&shop::Profile::user, "user_id", loom::on_delete::cascade),
                       loom::field(&shop::Profile::bio, "bio"));
}
}  // namespace shop

namespace shop {
constexpr auto loom_model(loom::model_of<Sample>) {
    return loom::table(
        "sample", loom::pk(&shop::Sample::id), loom::field(&shop::Sample::flag, "flag"),
        loom::field(&shop::Sample::tiny, "tiny"), loom::field(&shop::Sample::small, "small"),
        loom::field(&shop::Sample::normal, "normal"), loom::field(&shop::Sample::big, "big"),
        loom::field(&shop::Sample::real, "real"), loom::field(&shop::Sample::text, "text"),
        loom::field(&shop::Sample::data, "data"), loom::field(&shop::Sample::color, "color"),
        loom::field(&shop::Sample::maybe_int, "maybe_int"),
        loom::field(&shop::Sample::maybe_text, "maybe_text"));
}
}  // namespace shop

namespace shop {

/// A database with every test table created.
inline void create_all(loom::Database& db) {
    db.create_tables<Publisher, Author, Book, Review, Employee, Person, Club, Membership, User,
                     Profile, Sample>();
}

/// The bookstore catalogue: 2 publishers, 3 authors, 5 books, 6 reviews.
///   Gollancz: The Dispossessed (1974; Le Guin; 1 review), Good Omens (1990; Pratchett, Gaiman;
///             2 reviews), Small Gods (1992; Pratchett; 1 review)
///   Penguin:  American Gods (2001; Gaiman; 2 reviews), The Wee Free Men (2003; Pratchett; none)
struct Catalogue {
    Publisher gollancz, penguin;
    Author leguin, pratchett, gaiman;
    Book dispossessed, omens, small_gods, american_gods, wee_free_men;
};

inline Catalogue seed_catalogue(loom::Database& db) {
    Catalogue c;
    db.transaction([&] {
        c.gollancz.name = "Gollancz";
        c.penguin.name = "Penguin";
        db.insert(c.gollancz);
        db.insert(c.penguin);
        c.leguin.name = "Ursula K. Le Guin";
        c.leguin.born = 1929;
        c.pratchett.name = "Terry Pratchett";
        c.pratchett.born = 1948;
        c.gaiman.name = "Neil Gaiman";
        db.insert(c.leguin);
        db.insert(c.pratchett);
        db.insert(c.gaiman);
        auto book = [&](Book& b, const char* title, int year, Publisher& p,
                        std::vector<Author*> authors,
                        std::vector<std::pair<int, const char*>> reviews) {
            b.title = title;
            b.year = year;
            b.publisher = p;
            db.insert(b);
            for (Author* a : authors) db.m2m(b, &Book::authors).add(*a);
            for (auto& [rating, body] : reviews) {
                Review r;
                r.book = b;
                r.rating = rating;
                r.body = body;
                db.insert(r);
            }
        };
        book(c.dispossessed, "The Dispossessed", 1974, c.gollancz, {&c.leguin},
             {{5, "Ambiguous."}});
        book(c.omens, "Good Omens", 1990, c.gollancz, {&c.pratchett, &c.gaiman},
             {{5, "Funny."}, {4, "Angels!"}});
        book(c.small_gods, "Small Gods", 1992, c.gollancz, {&c.pratchett}, {{5, "Om."}});
        book(c.american_gods, "American Gods", 2001, c.penguin, {&c.gaiman},
             {{4, "A road trip."}, {3, "Long."}});
        book(c.wee_free_men, "The Wee Free Men", 2003, c.penguin, {&c.pratchett}, {});
    });
    return c;
}

/// The fixture most tests start from: a fresh test database (test_db.hpp) with the bookstore's
/// tables and the seeded catalogue.
struct SeededShop {
    loom::Database db{test_url()};
    Catalogue c;
    SeededShop() {
        create_all(db);
        c = seed_catalogue(db);
    }
};

/// Everything the books' prefetched relations hold, as text ("-": not loaded): a walk's result
/// to compare between two ways of loading it.
inline std::string render(const std::vector<Book>& books) {
    std::string out;
    for (const Book& b : books) {
        out += b.title + " | ";
        out += b.publisher.loaded() ? (b.publisher.get() ? b.publisher->name : "NULL") : "-";
        out += " | ";
        if (b.authors.loaded())
            for (const Author& a : b.authors) {
                out += a.name + " [";
                if (a.books.loaded())
                    for (const Book& ab : a.books) out += ab.title + ";";
                out += "] ";
            }
        out += "| ";
        if (b.reviews.loaded())
            for (const Review& r : b.reviews) out += r.body + " ";
        out += "| ";
        if (b.top_reviews.loaded())
            for (const Review& r : b.top_reviews) out += r.body + " ";
        out += "\n";
    }
    return out;
}

/// Books with every kind of prefetch level: forward FK, M2M and the nested reverse side of it,
/// reverse FK, and a Prefetch with its own queryset of the same Database into another member.
inline auto every_level(loom::Database& db) {
    return db.objects<Book>()
        .order_by(&Book::id)
        .prefetch_related(&Book::publisher, &Book::reviews)
        .prefetch_related(loom::path(&Book::authors, &Author::books))
        .prefetch_related(
            loom::Prefetch(&Book::reviews, db.objects<Review>()
                                               .filter(loom::col(&Review::rating) >= 4)
                                               .order_by(loom::desc(&Review::rating), &Review::id)
                                               .limit(1))
                .into(&Book::top_reviews));
}

}  // namespace shop
