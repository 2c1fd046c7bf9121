// loom::auto_now needs a std::chrono::sys_time member.
// expect-error: loom::auto_now / loom::auto_now_add: the member must be a std::chrono::sys_time
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_schema_auto_now {

struct Item {
    std::int64_t id = 0;
    std::int64_t touched = 0;
};

constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table("item", loom::pk(&Item::id),
                       loom::field(&Item::touched, "touched", loom::auto_now));
}

}  // namespace cf_schema_auto_now

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf_schema_auto_now::Item>();
    return 0;
}
