// Arithmetic (Django's F() + 1) needs numbers: a text column plus one does not compile.
// expect-error: loom: arithmetic (+ - * /) needs numeric columns
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    auto fine =
        db.objects<shop::Book>().update(loom::set(&shop::Book::year, col(&shop::Book::year) + 1));
    auto wrong = db.objects<shop::Book>().filter(col(&shop::Book::title) + 1 > 2);
    return static_cast<int>(fine + wrong.sql().params.size());
}
