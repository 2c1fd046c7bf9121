// A CHECK constraint's SQL is one expression written by the descriptor's author: a semicolon
// (a second statement) is refused while the descriptor is evaluated.
// expect-error: loom: check() SQL must be one expression
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_schema_check {

struct Item {
    std::int64_t id = 0;
    int qty = 0;
};

constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table("item", loom::pk(&Item::id), loom::field(&Item::qty, "qty"))
        .check("qty_positive", "qty > 0); DROP TABLE item; --");
}

}  // namespace cf_schema_check

int main() {
    loom::Database db(":memory:");
    db.create_tables<cf_schema_check::Item>();
    return 0;
}
