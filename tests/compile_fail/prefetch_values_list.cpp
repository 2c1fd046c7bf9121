// A Prefetch loads whole related objects, so it needs a QuerySet of the related model: the
// tuples of values_list(...) cannot fill a relation.
// expect-error: loom::Prefetch needs a model QuerySet of the related model
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(loom::Prefetch(
        &shop::Book::authors, db.objects<shop::Author>().values_list(&shop::Author::name)));
    return static_cast<int>(books.count());
}
