// A user type as a field needs a loom::column_type<T> specialization: the message says what to
// specialize.
// expect-error: specialize loom::column_type<T> for it
#include <loom/loom.hpp>

#include <cstdint>

namespace cf_types_no_adapter {

struct Money {
    std::int64_t cents = 0;
};

struct Invoice {
    std::int64_t id = 0;
    Money total;
};

constexpr auto loom_model(loom::model_of<Invoice>) {
    return loom::table("invoice", loom::pk(&Invoice::id), loom::field(&Invoice::total, "total"));
}

}  // namespace cf_types_no_adapter

int main() {
    loom::Database db(":memory:");
    return static_cast<int>(db.objects<cf_types_no_adapter::Invoice>().count());
}
