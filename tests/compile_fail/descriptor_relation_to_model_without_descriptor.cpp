// A relation may only point at a model that has a descriptor: Draft's ForeignKey<Imprint>
// names a struct nobody described.
// expect-error: a relation in this descriptor points at a model that has no descriptor
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_relation_to_undescribed {

struct Imprint {
    std::int64_t id = 0;
};

struct Draft {
    std::int64_t id = 0;
    loom::ForeignKey<Imprint> imprint;
};

}  // namespace cf_relation_to_undescribed

namespace cf_relation_to_undescribed {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table(
        "draft", loom::pk(&cf_relation_to_undescribed::Draft::id),
        loom::foreign_key(&cf_relation_to_undescribed::Draft::imprint, "imprint_id"));
}
}  // namespace cf_relation_to_undescribed

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_relation_to_undescribed::Draft>().count());
}
