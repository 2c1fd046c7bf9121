// Prefetch(...).into(...) must name a member of the prefetched relation's own type: loading the
// reviews of a book into its ManyToMany<Author> member (or any other type) does not compile.
// expect-error: Prefetch::into: the target member must have the prefetched relation's type
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(
        loom::Prefetch(&shop::Book::reviews, db.objects<shop::Review>().limit(3))
            .into(&shop::Book::authors));
    return static_cast<int>(books.count());
}
