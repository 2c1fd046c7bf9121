// <loom/queryset.hpp> alone: filters, prefetch, chunks, values_list.
#include <loom/queryset.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    stock(db, {"cup", "pen"});
    auto shelves = db.objects<Shelf>().prefetch_related(&Shelf::items).to_vector();
    auto names =
        db.objects<Item>().filter(loom::col(&Item::name) != "pen").values_list(&Item::name);
    int chunks = 0;
    for (auto& chunk : db.objects<Item>().chunks(1)) chunks += static_cast<int>(chunk.size());
    return shelves.at(0).items.size() == 2 && names.size() == 1 && chunks == 2 ? 0 : 1;
}
