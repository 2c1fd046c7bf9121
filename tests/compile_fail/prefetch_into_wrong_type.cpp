// Prefetch(...).into(...) must name a member of the prefetched relation's own type: loading the
// reviews of a book into a Reverse<Book> member (or any other type) does not compile.
// expect-error: Prefetch::into: the target member must have the prefetched relation's type
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf {

struct Review;

struct Book {
    std::int64_t id = 0;
    std::string title;
    loom::Reverse<Review> reviews;
    loom::Reverse<Book> not_reviews;  // the wrong related type for a reviews prefetch
};

struct Review {
    std::int64_t id = 0;
    loom::ForeignKey<Book> book;
    int rating = 0;
};

}  // namespace cf

template <>
inline constexpr auto loom::model<cf::Book> =
    loom::table("book", loom::pk(&cf::Book::id), loom::field(&cf::Book::title, "title"),
                loom::reverse(&cf::Book::reviews, &cf::Review::book));

template <>
inline constexpr auto loom::model<cf::Review> =
    loom::table("review", loom::pk(&cf::Review::id),
                loom::foreign_key(&cf::Review::book, "book_id"),
                loom::field(&cf::Review::rating, "rating"));

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<cf::Book>().prefetch_related(
        loom::Prefetch(&cf::Book::reviews, db.objects<cf::Review>().limit(3))
            .into(&cf::Book::not_reviews));
    return static_cast<int>(books.count());
}
