// A Prefetch's QuerySet must be of the relation's target model: reviews cannot fill the
// authors of a book.
// expect-error: loom::Prefetch needs a QuerySet of the related model
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(
        loom::Prefetch(&shop::Book::authors, db.objects<shop::Review>()));
    return static_cast<int>(books.count());
}
