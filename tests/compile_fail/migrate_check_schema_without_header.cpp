// Schema checks and migrations are opt-in: <loom/loom.hpp> does not include <loom/migrate.hpp>,
// so db.check_schema without that header does not compile, and says which header it needs.
// expect-error: db.check_schema<...>() needs #include <loom/migrate.hpp>
#include "models.hpp"

int main() {
    loom::Database db(":memory:");
    db.check_schema<shop::Book>();
    return 0;
}
