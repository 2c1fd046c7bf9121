// The definitions of chrono.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of chrono.hpp only.
#pragma once

namespace loom::detail::time_text {

LOOM_DECL std::string date(long long y, long long m, long long d, bool ok) {
    if (!ok)
        throw DataError(std::string("loom: the date ") + std::to_string(y) + "-" +
                        std::to_string(m) + "-" + std::to_string(d) +
                        " is not a valid calendar date");
    if (y < 0 || y > 9999)
        throw DataError(std::string("loom: the year ") + std::to_string(y) +
                        " is outside 0000-9999, which loom's fixed-width date text can hold");
    std::string out;
    put(out, y, 4);
    out += '-';
    put(out, m, 2);
    out += '-';
    put(out, d, 2);
    return out;
}

LOOM_DECL Civil read_date(Reader& r, const char* what) {
    long long y = 0, m = 0, d = 0;
    if (!r.number(4, y) || !r.literal('-') || !r.number(2, m) || !r.literal('-') || !r.number(2, d))
        throw DataError(what);
    if (!valid(y, m, d)) throw DataError(std::string(what) + " (not a calendar date)");
    return Civil{y, unsigned(m), unsigned(d)};
}

LOOM_DECL std::chrono::sys_days parse_date(std::string_view s) {
    Reader r{s};
    const auto d = read_date(r, bad_date);
    if (!r.done()) throw DataError(bad_date);
    return std::chrono::sys_days(std::chrono::days(days_from_civil(d)));
}

}  // namespace loom::detail::time_text
