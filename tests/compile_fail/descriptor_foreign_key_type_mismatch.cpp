// A ForeignKey<Target, K> names the type of Target's primary key: a ForeignKey<Country> (an
// integer key) to a model whose key is a std::string is refused.
// expect-error: must be the type of Target's primary key
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_foreign_key_type_mismatch {

struct Country {
    std::string code;
};
struct City {
    std::int64_t id = 0;
    loom::ForeignKey<Country> country;
};

}  // namespace cf_foreign_key_type_mismatch

namespace cf_foreign_key_type_mismatch {
constexpr auto loom_model(loom::model_of<Country>) {
    return loom::table("country", loom::pk(&cf_foreign_key_type_mismatch::Country::code, "code"));
}
constexpr auto loom_model(loom::model_of<City>) {
    return loom::table("city", loom::pk(&cf_foreign_key_type_mismatch::City::id),
                       loom::foreign_key(&cf_foreign_key_type_mismatch::City::country, "country"));
}
}  // namespace cf_foreign_key_type_mismatch

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_foreign_key_type_mismatch::City>().count());
}
