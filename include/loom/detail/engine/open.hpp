// Which engine a Database opens: a `postgresql://` or `postgres://` URI is PostgreSQL (when
// <loom/postgres.hpp> is included: libpq is an optional dependency), anything else a SQLite
// path.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "../../errors.hpp"
#include "../../options.hpp"
#include "../config.hpp"
#include "engine.hpp"
#include "sqlite/connection.hpp"

namespace loom::detail::engine {

using Opener = std::unique_ptr<Connection> (*)(const std::string& url, const Options& options);

/// Set by <loom/postgres.hpp> when it is included anywhere in the program.
inline Opener postgres_opener = nullptr;

LOOM_DECL bool is_postgres_url(std::string_view path) noexcept;

LOOM_DECL std::unique_ptr<Connection> open(const std::string& path, const Options& options);

}  // namespace loom::detail::engine

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/open.hpp"
#endif
