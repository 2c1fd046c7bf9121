// A condition is over one model: a column of Book compared with a column of Author (not
// reached through a relation, nor loom::outer) does not compile.
// expect-error: loom: the two columns belong to different models
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    auto fine = db.objects<shop::Book>().filter(
        col(&shop::Book::title) == col(&shop::Book::publisher, &shop::Publisher::name));
    auto wrong =
        db.objects<shop::Book>().filter(col(&shop::Book::title) == col(&shop::Author::name));
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
