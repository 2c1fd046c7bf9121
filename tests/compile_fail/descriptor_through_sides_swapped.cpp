// loom::through names the through model's ForeignKey to the owner first, then the one to
// the target: swapping them does not compile.
// expect-error: the first member must be the ForeignKey to the owning model
#include "models.hpp"

#include <cstdint>

namespace cf_through_sides_swapped {

struct Credit;

struct Reader {
    std::int64_t id = 0;
    loom::ManyToMany<shop::Book> books;  // through Credit
};

struct Credit {
    std::int64_t id = 0;
    loom::ForeignKey<Reader> reader;
    loom::ForeignKey<shop::Book> book;
};

}  // namespace cf_through_sides_swapped

namespace cf_through_sides_swapped {
constexpr auto loom_model(loom::model_of<Reader>) {
    return loom::table(
        "reader", loom::pk(&cf_through_sides_swapped::Reader::id),
        loom::many_to_many(&cf_through_sides_swapped::Reader::books,
                           loom::through(&cf_through_sides_swapped::Credit::book,
                                         &cf_through_sides_swapped::Credit::reader)));
}
}  // namespace cf_through_sides_swapped

namespace cf_through_sides_swapped {
constexpr auto loom_model(loom::model_of<Credit>) {
    return loom::table("credit", loom::pk(&cf_through_sides_swapped::Credit::id),
                       loom::foreign_key(&cf_through_sides_swapped::Credit::reader, "reader_id"),
                       loom::foreign_key(&cf_through_sides_swapped::Credit::book, "book_id"));
}
}  // namespace cf_through_sides_swapped

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_through_sides_swapped::Reader>().count());
}
