// Which engine a Database opens: a `postgresql://` or `postgres://` URI is PostgreSQL (when
// <loom/postgres.hpp> is included: libpq is an optional dependency), anything else a SQLite
// path.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "../../errors.hpp"
#include "../../options.hpp"
#include "engine.hpp"
#include "sqlite/connection.hpp"

namespace loom::detail::engine {

using Opener = std::unique_ptr<Connection> (*)(const std::string& url, const Options& options);

/// Set by <loom/postgres.hpp> when it is included anywhere in the program.
inline Opener postgres_opener = nullptr;

inline bool is_postgres_url(std::string_view path) noexcept {
    return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

inline std::unique_ptr<Connection> open(const std::string& path, const Options& options) {
    if (is_postgres_url(path)) {
        if (!postgres_opener)
            throw UsageError("'" + std::string(path.substr(0, path.find("://") + 3)) +
                             "...' is a PostgreSQL connection string, and this program has no "
                             "PostgreSQL engine: #include <loom/postgres.hpp> and link libpq "
                             "(CMake: target_link_libraries(app PRIVATE loom::postgres))");
        return postgres_opener(path, options);
    }
    return std::make_unique<sqlite::Connection>(path, options);
}

}  // namespace loom::detail::engine
