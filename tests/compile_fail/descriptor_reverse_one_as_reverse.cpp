// The reverse side of a OneToOne holds at most one object: declaring it as Reverse<T> (a
// list) instead of ReverseOne<T> does not compile.
// expect-error: the reverse side of a OneToOne must be a loom::ReverseOne<T> member
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_reverse_one_as_reverse {

struct Cover;

struct Draft {
    std::int64_t id = 0;
    loom::Reverse<Cover> cover;  // should be loom::ReverseOne<Cover>
};

struct Cover {
    std::int64_t id = 0;
    loom::OneToOne<Draft> draft;
};

}  // namespace cf_reverse_one_as_reverse

namespace cf_reverse_one_as_reverse {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_reverse_one_as_reverse::Draft::id),
                       loom::reverse(&cf_reverse_one_as_reverse::Draft::cover,
                                     &cf_reverse_one_as_reverse::Cover::draft));
}
}  // namespace cf_reverse_one_as_reverse

namespace cf_reverse_one_as_reverse {
constexpr auto loom_model(loom::model_of<Cover>) {
    return loom::table("cover", loom::pk(&cf_reverse_one_as_reverse::Cover::id),
                       loom::one_to_one(&cf_reverse_one_as_reverse::Cover::draft, "draft_id"));
}
}  // namespace cf_reverse_one_as_reverse

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_reverse_one_as_reverse::Draft>().count());
}
