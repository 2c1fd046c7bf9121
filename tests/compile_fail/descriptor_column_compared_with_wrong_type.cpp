// A column compared with a value of the wrong kind does not compile: the year is an integer
// column, "x" is a string.
// expect-error: the value's type does not match the column's type
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(
        db.objects<shop::Book>().filter(loom::col(&shop::Book::year) == "x").count());
}
