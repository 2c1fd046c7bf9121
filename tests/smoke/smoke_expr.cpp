// <loom/expr.hpp> alone: typed conditions, orderings and assignments.
#include <loom/expr.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    auto e =
        loom::col(&Item::name).starts_with("c") && loom::col(&Item::shelf, &Shelf::label) == "top";
    auto o = loom::desc(&Item::name);
    auto a = loom::set(&Item::name, "x");
    (void)e;
    (void)o;
    (void)a;
    return 0;
}
