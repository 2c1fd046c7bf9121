// loom/detail/format_util.hpp - small formatting pieces shared by the query logger, the test
// helpers and the profile report. fmt does the work (fmt/core.h only).
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include <fmt/core.h>

namespace loom::detail {

/// A duration in milliseconds with three decimals: `0.042`.
inline void append_ms(std::string& out, std::chrono::nanoseconds d) {
    fmt::format_to(std::back_inserter(out), "{:.3f}", static_cast<double>(d.count()) / 1e6);
}

inline std::string ms(std::chrono::nanoseconds d) {
    return fmt::format("{:.3f}", static_cast<double>(d.count()) / 1e6);
}

/// `1 query`, `2 queries`: `n` and the singular or plural noun.
inline std::string count_of(std::int64_t n, std::string_view one, std::string_view many) {
    return fmt::format("{} {}", n, n == 1 ? one : many);
}

}  // namespace loom::detail
