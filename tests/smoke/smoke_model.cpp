// <loom/model.hpp> alone: a descriptor of a model without relations.
#include <loom/model.hpp>

#include <cstdint>
#include <string>

namespace plain {
struct Note {
    std::int64_t id = 0;
    std::string text;
};
constexpr auto loom_model(loom::model_of<Note>) {
    return loom::table("note", loom::pk(&Note::id), loom::field(&Note::text, "text"));
}
}  // namespace plain

int main() {
    return loom::model<plain::Note>.name == "note" ? 0 : 1;
}
