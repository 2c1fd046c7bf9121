// Only == and != test for NULL (IS NULL, IS NOT NULL); `< std::nullopt` does not compile.
// expect-error: loom::col: only == and != compare with std::nullopt
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    auto fine = db.objects<shop::Author>().filter(col(&shop::Author::born) == std::nullopt);
    auto wrong = db.objects<shop::Author>().filter(col(&shop::Author::born) < std::nullopt);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
