// The definitions of format_util.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of format_util.hpp only.
#pragma once

namespace loom::detail {

LOOM_DECL void append_ms(std::string& out, std::chrono::nanoseconds d) {
    out += fmt::format(fmt::runtime("{:.3f}"), static_cast<double>(d.count()) / 1e6);
}

LOOM_DECL std::string ms(std::chrono::nanoseconds d) {
    return fmt::format(fmt::runtime("{:.3f}"), static_cast<double>(d.count()) / 1e6);
}

LOOM_DECL std::string count_of(std::int64_t n, std::string_view one, std::string_view many) {
    return fmt::format(fmt::runtime("{} {}"), n, n == 1 ? one : many);
}

}  // namespace loom::detail
