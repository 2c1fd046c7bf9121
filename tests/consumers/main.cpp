// A tiny program that uses loom the way a user's project would: one umbrella include, two
// models with a relation, an insert and a prefetch. Built by every consumer test (find_package,
// add_subdirectory, FetchContent, pkg-config); exits 0 when loom works.
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

struct Author;

struct Book {
    std::int64_t id = 0;
    std::string title;
    loom::ForeignKey<Author> author;
};

struct Author {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

constexpr auto loom_model(loom::model_of<Author>) {
    return loom::table("author", loom::pk(&Author::id, "id"), loom::field(&Author::name, "name"),
                       loom::reverse(&Author::books, &Book::author));
}

constexpr auto loom_model(loom::model_of<Book>) {
    return loom::table("book", loom::pk(&Book::id, "id"), loom::field(&Book::title, "title"),
                       loom::foreign_key(&Book::author, "author_id"));
}

int main() {
    loom::Database db{":memory:"};
    db.create_tables<Author, Book>();

    Author a{.name = "Le Guin"};
    db.insert(a);
    Book b{.title = "The Dispossessed"};
    b.author = a.id;
    db.insert(b);

    auto authors = db.objects<Author>().prefetch_related(&Author::books).to_vector();
    return authors.size() == 1 && authors[0].books.size() == 1 ? 0 : 1;
}
