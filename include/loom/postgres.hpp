// loom/postgres.hpp - the PostgreSQL engine (opt-in: needs libpq). Include it once anywhere in
// the program, link libpq (CMake: loom::postgres; pkg-config: loom-postgres), and open a
// Database with a connection URI:
//
//     #include <loom/loom.hpp>
//     #include <loom/postgres.hpp>
//     loom::Database db{"postgresql://app@localhost/shop"};
//
// The same models, QuerySets, prefetches, writes, transactions and errors as on SQLite; what
// differs is listed in docs/engines.md.
#pragma once

#include <memory>
#include <string>

#include "database.hpp"
#include "detail/engine/open.hpp"
#include "detail/engine/postgres/connection.hpp"

namespace loom::detail::postgres {

inline std::unique_ptr<engine::Connection> open(const std::string& url, const Options& options) {
    return std::make_unique<Connection>(url, options);
}

/// Registers the engine before main() in every program that includes this header.
inline const bool registered = (engine::postgres_opener = &open, true);

}  // namespace loom::detail::postgres
