// A bool column takes true or false, not an integer: `flag == 1` does not compile.
// expect-error: loom::col: the value's type does not match the column's type
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    auto fine = db.objects<shop::Sample>().filter(loom::col(&shop::Sample::flag) == true);
    auto wrong = db.objects<shop::Sample>().filter(loom::col(&shop::Sample::flag) == 1);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
