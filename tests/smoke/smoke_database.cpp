// <loom/database.hpp> alone: schema, writes with relations, raw SQL, transactions, load().
#include <loom/database.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    Shelf s{.label = "top"};
    db.insert(s);
    Item i{.name = "cup", .shelf = s};
    db.insert(i);  // names the relations of i: needs the relation loaders to link
    db.transaction([&] { db.execute("UPDATE item SET name = ? WHERE id = ?", "mug", i.id); });
    auto items = db.query<Item>("SELECT * FROM item");
    db.load(items.at(0), &Item::shelf);
    items.at(0).shelf.load(db);
    return items.at(0).name == "mug" && items.at(0).shelf->label == "top" ? 0 : 1;
}
