// select_related joins one row per row: a to-many relation (Book::authors) cannot be joined
// that way; prefetch it, or filter on it with loom::col(&Book::authors, &Author::name).
// expect-error: select_related: only ForeignKey, OneToOne and ReverseOne members can be joined
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Book>().select_related(&shop::Book::publisher);
    auto wrong = db.objects<shop::Book>().select_related(&shop::Book::authors);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
