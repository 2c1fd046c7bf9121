// A filter compares a column with a value of the column's own kind: an integer column
// (Book::year) compared with a string does not compile.
// expect-error: loom::col: the value's type does not match the column's type
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Book>().filter(loom::col(&shop::Book::year) == 1990);
    auto wrong = db.objects<shop::Book>().filter(loom::col(&shop::Book::year) == "1990");
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
