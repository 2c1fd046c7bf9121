// A ForeignKey<Publisher> column compares with Publisher objects (by key), not with objects of
// another model.
// expect-error: loom::col: the value's type does not match the column's type
#include "../models.hpp"

int main() {
    loom::Database db(":memory:");
    using loom::col;
    shop::Publisher penguin;
    shop::Author gaiman;
    penguin.id = 1;
    gaiman.id = 1;
    auto fine = db.objects<shop::Book>().filter(col(&shop::Book::publisher) == penguin);
    auto wrong = db.objects<shop::Book>().filter(col(&shop::Book::publisher) == gaiman);
    return static_cast<int>(fine.sql().params.size() + wrong.sql().params.size());
}
