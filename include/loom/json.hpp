// loom/json.hpp - nlohmann::json members as columns (opt-in: include it after <loom/loom.hpp>,
// or before your models; it needs nlohmann/json, Debian's nlohmann-json3-dev, which loom's
// core never requires):
//
//     struct User { std::int64_t id = 0; nlohmann::json settings; };
//     db.objects<User>().filter(loom::col(&User::settings).json("theme") == "dark");
//
// A JSON column is stored as its compact text (TEXT on SQLite; the Dialect's json_type on
// other engines, e.g. jsonb). Key-path filters (`.json("a", "b", 0)`) bind the path and the
// value; a stored text that is not JSON is a loom::DataError naming model, column and row.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "types.hpp"

namespace loom {

/// nlohmann::json as a JSON text column.
template <> struct column_type<nlohmann::json> {
    using storage = std::string;
    static constexpr column_kind kind = column_kind::json;
    static std::string to_storage(const nlohmann::json& j) { return j.dump(); }
    static nlohmann::json from_storage(const std::string& s) {
        // Parse errors carry nlohmann's own words ("syntax error while parsing value...").
        return nlohmann::json::parse(s);
    }
};

}  // namespace loom
