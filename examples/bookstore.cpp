// The bookstore: a small catalogue on an embedded SQLite file, printed with its authors and
// reviews, and the number of queries it took. With LOOM_DATABASE_URL set to a `postgresql://`
// URI it runs unchanged on that PostgreSQL database instead (dropping and creating its tables
// there, as it replaces its SQLite file), when built with libpq (the loom::postgres target).
#include <loom/loom.hpp>
#include <loom/profile.hpp>
#if defined(LOOM_EXAMPLE_POSTGRES)
#include <loom/postgres.hpp>
#endif

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

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

constexpr auto loom_model(loom::model_of<Publisher>) {
    return loom::table("publisher", loom::pk(&Publisher::id), loom::field(&Publisher::name, "name"),
                       loom::reverse(&Publisher::books, &Book::publisher));
}

constexpr auto loom_model(loom::model_of<Author>) {
    return loom::table("author", loom::pk(&Author::id), loom::field(&Author::name, "name"),
                       loom::field(&Author::born, "born"),
                       loom::reverse(&Author::books, &Book::authors));
}

constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table(
        "book", loom::pk(&Book::id), loom::field(&Book::title, "title"),
        loom::field(&Book::year, "year"),
        loom::foreign_key(&Book::publisher, "publisher_id", loom::on_delete::cascade),
        loom::many_to_many(&Book::authors, "book_authors"),
        loom::reverse(&Book::reviews, &Review::book));
}

constexpr auto loom_model(loom::model_of<Review>) {
    return loom::table("review", loom::pk(&Review::id),
                       loom::foreign_key(&Review::book, "book_id", loom::on_delete::cascade),
                       loom::field(&Review::rating, "rating"), loom::field(&Review::body, "body"));
}

static void seed(loom::Database& db) {
    db.transaction([&] {
        Publisher penguin{.name = "Penguin"}, gollancz{.name = "Gollancz"};
        db.insert(penguin);
        db.insert(gollancz);
        Author leguin{.name = "Ursula K. Le Guin", .born = 1929};
        Author pratchett{.name = "Terry Pratchett", .born = 1948};
        Author gaiman{.name = "Neil Gaiman", .born = 1960};
        for (Author* a : {&leguin, &pratchett, &gaiman}) db.insert(*a);
        struct Seed {
            const char* title;
            int year;
            Publisher* pub;
            std::vector<Author*> authors;
            std::vector<std::pair<int, const char*>> reviews;
        };
        std::vector<Seed> seeds = {
            {"The Dispossessed",
             1974,
             &gollancz,
             {&leguin},
             {{5, "Ambiguous, and better for it."}}},
            {"Good Omens", 1990, &gollancz, {&pratchett, &gaiman}, {{5, "Funny."}, {4, "Angels!"}}},
            {"Small Gods", 1992, &gollancz, {&pratchett}, {{5, "Om the tortoise."}}},
            {"American Gods", 2001, &penguin, {&gaiman}, {{4, "A road trip."}, {3, "Long."}}},
            {"The Wee Free Men", 2003, &penguin, {&pratchett}, {}},
        };
        for (auto& s : seeds) {
            Book b{.title = s.title, .year = s.year};
            b.publisher = *s.pub;
            db.insert(b);
            for (Author* a : s.authors) db.m2m(b, &Book::authors).add(*a);
            for (auto& [rating, body] : s.reviews) {
                Review r{.rating = rating, .body = body};
                r.book = b;
                db.insert(r);
            }
        }
    });
}

int main(int argc, char** argv) {
    const char* url = std::getenv("LOOM_DATABASE_URL");
    const bool server = url && *url;
    const std::string path = server ? "bookstore.db" : argc > 1 ? argv[1] : "bookstore.db";
    if (!server) std::remove(path.c_str());
    loom::Database db{server ? std::string(url) : path};
    if (server) db.drop_tables<Publisher, Author, Book, Review>();  // a fresh start, as above
    db.create_tables<Publisher, Author, Book, Review>();
    seed(db);

    db.reset_query_count();
    loom::Profile profile(db);  // records every statement from here on
    auto books = db.objects<Book>()
                     .order_by(loom::asc(&Book::year))
                     .prefetch_related(&Book::publisher, &Book::authors, &Book::reviews)
                     .prefetch_related(loom::path(&Book::authors, &Author::books));

    for (const Book& b : books) {
        fmt::print("{} ({}, {})\n", b.title, b.year, b.publisher->name);
        for (const Author& a : b.authors) {
            fmt::print("  by {} ({} books here)\n", a.name, a.books.size());
        }
        for (const Review& r : b.reviews) fmt::print("  {}/5: {}\n", r.rating, r.body);
    }
    fmt::print("\n{} books, {} queries (1 for the books + 1 per prefetched relation level)\n",
               books.rows().size(), db.query_count());

    // The same queries as a page: a table by statement and a timeline, next to the database.
    const auto report = std::filesystem::path(path).replace_filename("bookstore-profile.html");
    profile.stop();
    profile.write_html(report.string(), "bookstore: queries of the catalogue walk");
    fmt::print("query profile written to {}\n", report.string());
    return 0;
}
