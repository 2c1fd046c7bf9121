// <loom/prefetch.hpp> alone: prefetch_related_objects on raw-SQL results.
#include <loom/prefetch.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    stock(db, {"cup"});
    auto shelves = db.query<Shelf>("SELECT * FROM shelf");
    loom::prefetch_related_objects(db, shelves, &Shelf::items,
                                   loom::path(&Shelf::items, &Item::shelf));
    return shelves.at(0).items[0].shelf->label == "top" ? 0 : 1;
}
