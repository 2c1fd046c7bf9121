// prefetch_related takes relation members only: &Book::title is a plain column, so asking to
// prefetch it does not compile.
// expect-error: prefetch_related: this member is not a relation, so there is nothing to prefetch
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(&shop::Book::title);
    return static_cast<int>(books.count());
}
