// A reverse side must name a forward relation declared in the other model's descriptor:
// Publisher::books names &Book::publisher, which Book's descriptor leaves out.
// expect-error: the forward member it names is not declared in the other model's descriptor
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

struct Book {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
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
                loom::many_to_many(&cf::Book::authors, "book_authors"));

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf::Publisher, cf::Author, cf::Book>();
    return static_cast<int>(db.objects<cf::Book>().count());
}
