// A path handed to a QuerySet<Book> must start at Book: this one starts at Author.
// expect-error: prefetch_related: the path or Prefetch starts at another model than the QuerySet's
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(
        loom::path(&shop::Author::books, &shop::Book::publisher));
    return static_cast<int>(books.count());
}
