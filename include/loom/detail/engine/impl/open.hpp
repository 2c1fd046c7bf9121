// The definitions of open.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::engine {

LOOM_DECL bool is_postgres_url(std::string_view path) noexcept {
    return path.starts_with("postgresql://") || path.starts_with("postgres://");
}

LOOM_DECL std::unique_ptr<Connection> open(const std::string& path, const Options& options) {
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
