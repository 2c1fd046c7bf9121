// One member may be declared only once in a descriptor, even under two column names.
// expect-error: a member is declared twice in this descriptor
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_duplicate_member {

struct Draft {
    std::int64_t id = 0;
    int year = 0;
};

}  // namespace cf_duplicate_member

namespace cf_duplicate_member {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_duplicate_member::Draft::id),
                       loom::field(&cf_duplicate_member::Draft::year, "year"),
                       loom::field(&cf_duplicate_member::Draft::year, "year_again"));
}
}  // namespace cf_duplicate_member

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_duplicate_member::Draft>().count());
}
