// <loom/testing.hpp> alone (opt-in: <loom/loom.hpp> leaves it out): expect_queries and the N+1
// guard on a Database.
#include <loom/testing.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    Shelf s{.label = "top"};
    loom::expect_queries(db, 1, [&] { db.insert(s); });
    try {
        loom::expect_queries(db, 2, [&] { db.execute("UPDATE shelf SET label = ?", "x"); });
        return 1;
    } catch (const loom::QueryCountMismatch&) {
    }
    loom::NPlusOneGuard guard(db, {.threshold = 2});
    Item i{.name = "cup", .shelf = s};
    db.insert(i);
    return 0;
}
