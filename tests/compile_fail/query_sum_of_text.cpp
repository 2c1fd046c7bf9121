// sum() and avg() add numbers: the sum of a text column (Book::title) does not compile.
// expect-error: loom: sum() and avg() need a numeric column
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Book>().aggregate(loom::sum(&shop::Book::year));
    auto wrong = db.objects<shop::Book>().aggregate(loom::sum(&shop::Book::title));
    return static_cast<int>(std::get<0>(fine).value_or(0) + std::get<0>(wrong).value_or(0));
}
