// <loom/lookup.hpp> alone: a Django-spelled path.
#include <loom/lookup.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    std::vector<Item> none;
    db.reset_query_count();
    loom::prefetch_related_objects(db, none, loom::lookup<Item, "shelf__items">());
    return db.query_count() == 0 ? 0 : 1;  // nothing to look up: no query
}
