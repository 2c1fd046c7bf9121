// loom/detail/html.hpp - HTML text escaping, for the profile report (loom/profile.hpp).
#pragma once

#include <string>
#include <string_view>

#include "config.hpp"

namespace loom::detail {

/// Appends `s` with &, <, >, " and ' escaped: safe as element text and in quoted attributes.
LOOM_DECL void append_html(std::string& out, std::string_view s);

LOOM_DECL std::string html_escape(std::string_view s);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/html.hpp"
#endif
