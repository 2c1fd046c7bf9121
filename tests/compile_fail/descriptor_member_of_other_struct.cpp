// Every member in a descriptor must belong to the model of its pk(): naming a member of
// another struct (here &Author::name inside Draft's table) does not compile.
// expect-error: one of them is a member of another struct
#include "models.hpp"

#include <cstdint>
#include <string>

namespace cf_member_of_other_struct {

struct Draft {
    std::int64_t id = 0;
    std::string title;
};

}  // namespace cf_member_of_other_struct

namespace cf_member_of_other_struct {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_member_of_other_struct::Draft::id),
                       loom::field(&shop::Author::name, "title"));
}
}  // namespace cf_member_of_other_struct

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_member_of_other_struct::Draft>().count());
}
