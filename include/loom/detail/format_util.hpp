// loom/detail/format_util.hpp - small formatting pieces shared by the query logger, the test
// helpers and the profile report. fmt does the work (fmt/core.h only).
//
// Compile time: loom's headers pass their format strings through fmt::runtime. A plain literal
// is checked at compile time by a consteval parser instantiated for every call's argument types,
// in every translation unit that includes the header (about 0.5 s for loom.hpp's 40 calls);
// the strings here are fixed and covered by the tests, so the check buys nothing.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "config.hpp"
#include "std_light.hpp"

namespace loom::detail {

/// What fmt::format_to(out, fmt::runtime(f), args...) does, without fmt's vformat_to template:
/// the text comes from the library's fmt::vformat and is copied to `out`. libfmt as Debian
/// builds it (with GCC) exports detail::vformat_to<char> under a name that Clang 14 mangles
/// differently, so a Clang program calling fmt::format_to does not link; fmt::vformat, which
/// fmt::format and fmt::print use, is not a template and links with both compilers.
template <class Out, class... Args>
Out format_into(Out out, std::string_view f, const Args&... args) {
    const std::string text = fmt::vformat(f, fmt::make_format_args(args...));
    return std::copy(text.begin(), text.end(), out);
}

/// A duration in milliseconds with three decimals: `0.042`.
LOOM_DECL void append_ms(std::string& out, std::chrono::nanoseconds d);

LOOM_DECL std::string ms(std::chrono::nanoseconds d);

/// `1 query`, `2 queries`: `n` and the singular or plural noun.
LOOM_DECL std::string count_of(std::int64_t n, std::string_view one, std::string_view many);

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/format_util.hpp"
#endif
