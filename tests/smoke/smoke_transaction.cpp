// <loom/transaction.hpp> alone: a guard that rolls back unless committed.
#include <loom/transaction.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    {
        loom::Transaction tx(db);
        Shelf s{.label = "gone"};
        db.insert(s);
    }
    return db.query<std::int64_t>("SELECT count(*) FROM shelf").at(0) == 0 ? 0 : 1;
}
