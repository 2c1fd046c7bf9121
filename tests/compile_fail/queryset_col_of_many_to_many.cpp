// A ManyToMany member has no column of its own (its rows live in the join table), so
// loom::col(&Book::authors) does not compile; filter on the other model or prefetch it.
// expect-error: loom::col: a ManyToMany, Reverse or ReverseOne member has no column
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Book>().filter(loom::col(&shop::Book::publisher).is_null());
    auto wrong = db.objects<shop::Book>().filter(loom::col(&shop::Book::authors).is_null());
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
