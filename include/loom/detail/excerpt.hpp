// SQL as error messages show it: short whatever the statement's size. A statement with 300,000
// placeholders would otherwise put a megabyte of "?, ?, ..." into every message that names it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "config.hpp"

namespace loom::detail {

/// The statement's shape for a message: a run of more than four `?` placeholders in a list is
/// written as its first three and a count (`IN (?, ?, ?, ... 300000 placeholders)`), and what
/// is still longer than `max` characters is cut there and its full length given.
LOOM_DECL std::string sql_excerpt(std::string_view sql, std::size_t max = 400);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/excerpt.hpp"
#endif
