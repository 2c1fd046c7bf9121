// The second member of loom::reverse must be the forward relation pointing back: a plain
// column (&Volume::title) is not one.
// expect-error: the second member must be a ForeignKey, OneToOne or ManyToMany
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_reverse_of_a_column {

struct Volume;

struct Shelf {
    std::int64_t id = 0;
    loom::Reverse<Volume> volumes;
};

struct Volume {
    std::int64_t id = 0;
    std::string title;
    loom::ForeignKey<Shelf> shelf;
};

}  // namespace cf_reverse_of_a_column

namespace cf_reverse_of_a_column {
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("shelf", loom::pk(&cf_reverse_of_a_column::Shelf::id),
                       loom::reverse(&cf_reverse_of_a_column::Shelf::volumes,
                                     &cf_reverse_of_a_column::Volume::title));
}
}  // namespace cf_reverse_of_a_column

namespace cf_reverse_of_a_column {
constexpr auto loom_model(loom::model_of<Volume>) {
    return loom::table("volume", loom::pk(&cf_reverse_of_a_column::Volume::id),
                       loom::field(&cf_reverse_of_a_column::Volume::title, "title"),
                       loom::foreign_key(&cf_reverse_of_a_column::Volume::shelf, "shelf_id"));
}
}  // namespace cf_reverse_of_a_column

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_reverse_of_a_column::Shelf>().count());
}
