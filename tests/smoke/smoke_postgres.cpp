// <loom/postgres.hpp> first: the engine registers itself, so a postgresql:// URL reaches libpq
// (without the header it is refused as an engine this program does not have). With
// LOOM_TEST_PG_URL set it also writes and reads a row on that server.
#include <loom/postgres.hpp>
#include <loom/queryset.hpp>

#include <cstdlib>
#include <string>

#include "smoke_models.hpp"

int main() {
    try {
        loom::Database closed{"postgresql://smoke@127.0.0.1:1/none?connect_timeout=2"};
        return 1;  // nothing listens on port 1
    } catch (const loom::CantOpenError& e) {
        if (std::string(e.what()).find("cannot connect to PostgreSQL") == std::string::npos)
            return 2;
    }
    const char* url = std::getenv("LOOM_TEST_PG_URL");
    if (!url || !*url) return 0;
    using namespace smoke;
    loom::Database db{url};
    db.transaction([&] {
        db.execute("DROP TABLE IF EXISTS smoke_pg_item");
        db.execute("CREATE TABLE smoke_pg_item (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL)");
        db.execute("INSERT INTO smoke_pg_item (name) VALUES (?)", "cup");
    });
    const auto rows = db.query<std::tuple<std::string>>("SELECT name FROM smoke_pg_item");
    db.execute("DROP TABLE smoke_pg_item");
    return rows.size() == 1 && std::get<0>(rows[0]) == "cup" ? 0 : 3;
}
