// <loom/chunks.hpp> alone names loom::Chunks; with a QuerySet it iterates.
#include <loom/chunks.hpp>
#include <loom/queryset.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    loom::Chunks<Item> chunks = db.objects<Item>().chunks(10);
    return chunks.begin() == chunks.end() ? 0 : 1;
}
