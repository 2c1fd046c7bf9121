// <loom/loom.hpp> alone: the core header, as the README's quick start uses it.
#include <loom/loom.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    stock(db, {"cup", "mug"});
    const auto before = db.query_count();
    const auto shelves = db.objects<Shelf>().prefetch_related(&Shelf::items).to_vector();
    const bool two_queries = db.query_count() - before == 2;
    return two_queries && shelves.size() == 1 && shelves[0].items.size() == 2 &&
                   shelves[0].items[1].name == "mug"
               ? 0
               : 1;
}
