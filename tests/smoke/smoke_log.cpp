// <loom/log.hpp> alone (opt-in: <loom/loom.hpp> leaves it out): a query logger on a Database.
#include <loom/log.hpp>

#include "smoke_models.hpp"

#include <string>
#include <string_view>
#include <vector>

int main() {
    using namespace smoke;
    loom::Database db{":memory:"};
    db.create_tables<Shelf, Item>();
    std::vector<std::string> lines;
    {
        auto log = loom::log_queries(db, [&](std::string_view line) { lines.emplace_back(line); });
        Shelf s{.label = "top"};
        db.insert(s);
    }
    return lines.size() == 1 && lines[0].find("INSERT INTO \"shelf\"") != std::string::npos &&
                   loom::statement_shape("SELECT 1 WHERE x IN (?, ?)") ==
                       loom::statement_shape("SELECT 1 WHERE x IN (?)")
               ? 0
               : 1;
}
