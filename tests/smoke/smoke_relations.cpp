// <loom/relations.hpp> alone: relation members, keys taken from objects.
#include <loom/relations.hpp>

#include "smoke_models.hpp"

int main() {
    smoke::Shelf s;
    s.id = 3;
    smoke::Item i;
    i.shelf = s;
    return i.shelf.id() == 3 && !i.shelf.loaded() ? 0 : 1;
}
