// unique_together names columns of the descriptor: a member the descriptor does not declare is
// refused while the descriptor is evaluated.
// expect-error: unique_together names a member that is not a column here
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_unique_together {

struct Draft {
    std::int64_t id = 0;
    std::string title;
    int year = 0;
    int pages = 0;  // not in the descriptor
};

constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&Draft::id), loom::field(&Draft::title, "title"),
                       loom::field(&Draft::year, "year"))
        .unique_together(&Draft::title, &Draft::pages);
}

}  // namespace cf_unique_together

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf_unique_together::Draft>();
    return 0;
}
