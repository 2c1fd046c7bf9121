// loom::through names the through model's ForeignKey to the owner first, then the one to
// the target: swapping them does not compile.
// expect-error: the first member must be the ForeignKey to the owning model
#include <loom/loom.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace cf {

struct Book;

struct Publisher {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

struct Author {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

struct Credit {
    std::int64_t id = 0;
    loom::ForeignKey<Book> book;
    loom::ForeignKey<Author> author;
};

struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
    loom::ManyToMany<Author> credited;
};

}  // namespace cf

template <>
inline constexpr auto loom::model<cf::Publisher> =
    loom::table("publisher", loom::pk(&cf::Publisher::id),
                loom::field(&cf::Publisher::name, "name"),
                loom::reverse(&cf::Publisher::books, &cf::Book::publisher));

template <>
inline constexpr auto loom::model<cf::Author> =
    loom::table("author", loom::pk(&cf::Author::id), loom::field(&cf::Author::name, "name"),
                loom::reverse(&cf::Author::books, &cf::Book::authors));

template <>
inline constexpr auto loom::model<cf::Book> =
    loom::table("book", loom::pk(&cf::Book::id), loom::field(&cf::Book::title, "title"),
                loom::field(&cf::Book::year, "year"),
                loom::foreign_key(&cf::Book::publisher, "publisher_id"),
                loom::many_to_many(&cf::Book::authors, "book_authors"),
                loom::many_to_many(&cf::Book::credited, loom::through(&cf::Credit::author, &cf::Credit::book)));

template <>
inline constexpr auto loom::model<cf::Credit> =
    loom::table("credit", loom::pk(&cf::Credit::id),
                loom::foreign_key(&cf::Credit::book, "book_id"),
                loom::foreign_key(&cf::Credit::author, "author_id"));

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf::Publisher, cf::Author, cf::Book>();
    return static_cast<int>(db.objects<cf::Book>().count());
}
