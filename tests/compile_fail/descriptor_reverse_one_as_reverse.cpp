// The reverse side of a OneToOne holds at most one object: declaring it as Reverse<T> (a
// list) instead of ReverseOne<T> does not compile.
// expect-error: the reverse side of a OneToOne must be a loom::ReverseOne<T> member
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

struct Cover {
    std::int64_t id = 0;
    loom::OneToOne<Book> book;
};

struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
    loom::Reverse<Cover> cover;
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
                loom::reverse(&cf::Book::cover, &cf::Cover::book));

template <>
inline constexpr auto loom::model<cf::Cover> = loom::table(
    "cover", loom::pk(&cf::Cover::id), loom::one_to_one(&cf::Cover::book, "book_id"));

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf::Publisher, cf::Author, cf::Book>();
    return static_cast<int>(db.objects<cf::Book>().count());
}
