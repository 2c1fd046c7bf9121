// Two tiny related models for the smoke programs (each includes ONE public header first).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

namespace smoke {

struct Shelf;
struct Item {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Shelf> shelf;
};
struct Shelf {
    std::int64_t id = 0;
    std::string label;
    loom::Reverse<Item> items;
};

constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table("item", loom::pk(&Item::id), loom::field(&Item::name, "name"),
                       loom::foreign_key(&Item::shelf, "shelf_id", loom::nullable));
}
constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("shelf", loom::pk(&Shelf::id), loom::field(&Shelf::label, "label"),
                       loom::reverse(&Shelf::items, &Item::shelf));
}

/// Creates the tables and a shelf labelled "top" holding one item per name, in that order.
/// Db is loom::Database: a template, so that this file needs no loom header of its own.
template <class Db> Shelf stock(Db& db, std::initializer_list<const char*> names) {
    db.template create_tables<Shelf, Item>();
    Shelf s{.label = "top"};
    db.insert(s);
    for (const char* name : names) {
        Item i{.name = name, .shelf = s};
        db.insert(i);
    }
    return s;
}

}  // namespace smoke
