// A path handed to a QuerySet<Book> must start at Book: this one starts at Author.
// expect-error: prefetch_related: the path or Prefetch starts at another model than the QuerySet's
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf {

struct Author;

struct Publisher {
    std::int64_t id = 0;
    std::string name;
};

struct Book {
    std::int64_t id = 0;
    std::string title;
    loom::ForeignKey<Publisher> publisher;
    loom::ManyToMany<Author> authors;
};

struct Author {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Book> books;
};

}  // namespace cf

template <>
inline constexpr auto loom::model<cf::Publisher> =
    loom::table("publisher", loom::pk(&cf::Publisher::id),
                loom::field(&cf::Publisher::name, "name"));

template <>
inline constexpr auto loom::model<cf::Book> =
    loom::table("book", loom::pk(&cf::Book::id), loom::field(&cf::Book::title, "title"),
                loom::foreign_key(&cf::Book::publisher, "publisher_id"),
                loom::many_to_many(&cf::Book::authors, "book_authors"));

template <>
inline constexpr auto loom::model<cf::Author> =
    loom::table("author", loom::pk(&cf::Author::id), loom::field(&cf::Author::name, "name"),
                loom::reverse(&cf::Author::books, &cf::Book::authors));


int main() {
    loom::Database db(":memory:");
    auto books = db.objects<cf::Book>().prefetch_related(
        loom::path(&cf::Author::books, &cf::Book::publisher));
    return static_cast<int>(books.count());
}
