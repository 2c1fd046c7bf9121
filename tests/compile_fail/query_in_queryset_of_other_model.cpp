// in(queryset) compares a key with the QuerySet's primary keys: a ForeignKey<Publisher> in a
// QuerySet of Author does not compile.
// expect-error: loom::col(...).in(queryset): the column must be a ForeignKey to the QuerySet's
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    auto fine = db.objects<shop::Book>().filter(
        col(&shop::Book::publisher).in(db.objects<shop::Publisher>()));
    auto wrong =
        db.objects<shop::Book>().filter(col(&shop::Book::publisher).in(db.objects<shop::Author>()));
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
