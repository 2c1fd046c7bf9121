// A reverse side must name a forward relation declared in the other model's descriptor:
// Imprint::drafts names &Draft::imprint, which Draft's descriptor leaves out.
// expect-error: the forward member it names is not declared in the other model's descriptor
#include <loom/loom.hpp>

#include <cstdint>
#include <string>

namespace cf_reverse_without_forward {

struct Draft;

struct Imprint {
    std::int64_t id = 0;
    loom::Reverse<Draft> drafts;
};

struct Draft {
    std::int64_t id = 0;
    std::string title;
    loom::ForeignKey<Imprint> imprint;
};

}  // namespace cf_reverse_without_forward

namespace cf_reverse_without_forward {
constexpr auto loom_model(loom::model_of<Imprint>) {
    return loom::table("imprint", loom::pk(&cf_reverse_without_forward::Imprint::id),
                       loom::reverse(&cf_reverse_without_forward::Imprint::drafts,
                                     &cf_reverse_without_forward::Draft::imprint));
}
}  // namespace cf_reverse_without_forward

namespace cf_reverse_without_forward {
constexpr auto loom_model(loom::model_of<Draft>) {
    return loom::table("draft", loom::pk(&cf_reverse_without_forward::Draft::id),
                       loom::field(&cf_reverse_without_forward::Draft::title, "title"));
}
}  // namespace cf_reverse_without_forward

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_reverse_without_forward::Imprint>().count());
}
