// Two columns compare only when they hold the same kind of value: a text column (Book::title)
// against an integer column (Book::year) does not compile, for every operator.
// expect-error: loom: the two columns hold unrelated types
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    auto fine = db.objects<shop::Book>().filter(col(&shop::Book::year) != col(&shop::Book::id));
    auto wrong = db.objects<shop::Book>().filter(col(&shop::Book::title) != col(&shop::Book::year));
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
