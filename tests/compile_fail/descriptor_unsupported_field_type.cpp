// A field's member must have a column type (bool, integers, enums, floating point,
// std::string, loom::Blob, or std::optional of those): std::vector<int> has none.
// expect-error: loom::field: unsupported member type
#include <loom/loom.hpp>

#include <cstdint>
#include <vector>

namespace cf_unsupported_field_type {

struct Draft {
    std::int64_t id = 0;
    std::vector<int> tags;
};

}  // namespace cf_unsupported_field_type

namespace cf_unsupported_field_type {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_unsupported_field_type::Draft::id),
                       loom::field(&cf_unsupported_field_type::Draft::tags, "tags"));
}
}  // namespace cf_unsupported_field_type

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_unsupported_field_type::Draft>().count());
}
