// Querying a struct that has no loom::model descriptor does not compile.
// expect-error: this model has no descriptor
#include "models.hpp"

#include <cstdint>

namespace cf_no_descriptor {

struct Draft {
    std::int64_t id = 0;
};

}  // namespace cf_no_descriptor

int main() {
    loom::Database db(":memory:");
    shop::create_all(db);
    return static_cast<int>(db.objects<cf_no_descriptor::Draft>().count());
}
