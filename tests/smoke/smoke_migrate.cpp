// <loom/migrate.hpp> alone: migrations applied and planned, the schema check, the autodetector.
#include <loom/migrate.hpp>

#include "smoke_models.hpp"

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    const loom::Migrations migrations{{
        {"0001", {loom::create_tables<Shelf, Item>()}},
        {"0002", {loom::add_column("item", loom::column<int>("qty").fill(1))}},
    }};
    if (migrations.plan(db).size() != 2) return 1;
    if (migrations.apply(db).size() != 2) return 1;
    // The models lack qty: the check says so, and diff needs leave to drop it.
    if (loom::schema_report<Shelf, Item>(db).ok()) return 1;
    const loom::Diff d = loom::diff<Shelf, Item>(db);
    db.check_schema<Shelf>();
    return d.operations.empty() && d.unresolved.size() == 1 ? 0 : 1;
}
