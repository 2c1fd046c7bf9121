// loom::model<Draft> must describe Draft: a well-formed table of Author's members declared
// as Draft's descriptor is refused when Draft is first used.
// expect-error: the members in the descriptor of T belong to another struct than T
#include "models.hpp"

#include <cstdint>
#include <string>

namespace cf_for_another_struct {

struct Draft {
    std::int64_t id = 0;
    std::string title;
};

}  // namespace cf_for_another_struct

namespace cf_for_another_struct {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&shop::Author::id),
                       loom::field(&shop::Author::name, "title"));
}
}  // namespace cf_for_another_struct

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_for_another_struct::Draft>().count());
}
