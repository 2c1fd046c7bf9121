// A relation member declared with loom::field instead of loom::foreign_key does not compile.
// expect-error: loom::field: this member is a relation
#include "models.hpp"

#include <cstdint>

namespace cf_field_is_a_relation {

struct Draft {
    std::int64_t id = 0;
    loom::ForeignKey<shop::Publisher> publisher;
};

}  // namespace cf_field_is_a_relation

namespace cf_field_is_a_relation {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_field_is_a_relation::Draft::id),
                       loom::field(&cf_field_is_a_relation::Draft::publisher, "publisher_id"));
}
}  // namespace cf_field_is_a_relation

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_field_is_a_relation::Draft>().count());
}
