// SQLite result codes mapped to loom's typed errors, with messages that say what to do.
#pragma once

#include <sqlite3.h>

#include <string>
#include <string_view>

#include "../../../errors.hpp"
#include "../../config.hpp"

namespace loom::detail::sqlite {

/// Throws the typed error of SQLite result code `rc` (the connection's extended code and message
/// when `db` is given), `context` added to the message in parentheses.
[[noreturn]] LOOM_DECL void throw_error(sqlite3* db, int rc, std::string_view context);

}  // namespace loom::detail::sqlite

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/errors.hpp"
#endif
