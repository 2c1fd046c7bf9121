// A filter compares a column with a value of the column's own kind: a text column
// (Book::title) compared with an integer does not compile, whichever operator is used.
// expect-error: loom::col: the value's type does not match the column's type
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Book>().filter(loom::col(&shop::Book::title) < "M");
    auto wrong = db.objects<shop::Book>().filter(loom::col(&shop::Book::title) < 42);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
