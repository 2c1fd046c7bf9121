// A loom::version column is an integer that update and remove check and bump: a std::string
// version member is refused.
// expect-error: loom::version: the version member must be an integer
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_version_not_integer {

struct Doc {
    std::int64_t id = 0;
    std::string version;
};

}  // namespace cf_version_not_integer

namespace cf_version_not_integer {
constexpr auto loom_model(loom::model_of<Doc>) {
    return loom::table("doc", loom::pk(&cf_version_not_integer::Doc::id),
                       loom::version(&cf_version_not_integer::Doc::version));
}
}  // namespace cf_version_not_integer

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_version_not_integer::Doc>().count());
}
