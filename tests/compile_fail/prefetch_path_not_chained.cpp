// Each step of loom::path must start at the model the previous step leads to: after
// &Book::authors (which leads to Author) comes a member of Author, not &Book::publisher.
// expect-error: loom::path: each step must start at the model the previous step leads to
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    auto books = db.objects<shop::Book>().prefetch_related(
        loom::path(&shop::Book::authors, &shop::Book::publisher));
    return static_cast<int>(books.count());
}
