// Two entries of one descriptor may not share a column name.
// expect-error: two entries in this descriptor use the same column name
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_duplicate_column {

struct Draft {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
};

}  // namespace cf_duplicate_column

namespace cf_duplicate_column {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_duplicate_column::Draft::id),
                       loom::field(&cf_duplicate_column::Draft::title, "title"),
                       loom::field(&cf_duplicate_column::Draft::year, "title"));
}
}  // namespace cf_duplicate_column

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_duplicate_column::Draft>().count());
}
