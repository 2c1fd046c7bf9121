// A primary key must be a std::int64_t or a non-numeric column type loom can compare and hash
// (std::string...): a double key (not exact, so not a key) is refused.
// expect-error: loom::pk: the primary key must be a std::int64_t
#include <loom/loom.hpp>

#include <string>

namespace cf_key_type_not_storable {

struct Reading {
    double at = 0;
    std::string sensor;
};

}  // namespace cf_key_type_not_storable

namespace cf_key_type_not_storable {
constexpr auto loom_model(loom::model_of<Reading>) {
    return loom::table("reading", loom::pk(&cf_key_type_not_storable::Reading::at, "at"),
                       loom::field(&cf_key_type_not_storable::Reading::sensor, "sensor"));
}
}  // namespace cf_key_type_not_storable

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_key_type_not_storable::Reading>().count());
}
