// A QuerySet<Book> prefetches members of Book: &Author::books belongs to another model (to go
// from a book's authors to their books, use loom::path(&Book::authors, &Author::books)).
// expect-error: prefetch_related: the member belongs to another model than the QuerySet's
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(&shop::Author::books);
    return static_cast<int>(books.count());
}
