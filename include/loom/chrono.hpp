// loom/chrono.hpp - std::chrono members as columns (included by <loom/loom.hpp>):
//
//   std::chrono::sys_seconds, sys_time<milliseconds>, sys_time<microseconds>
//        a UTC instant, TEXT "YYYY-MM-DD HH:MM:SS", "...SS.mmm", "...SS.uuuuuu"
//   std::chrono::sys_days, std::chrono::year_month_day
//        a date, TEXT "YYYY-MM-DD"
//   std::chrono::duration<integer, P> (seconds, milliseconds, minutes...)
//        INTEGER, the count of P;  duration<double, P>: REAL
//
// The text forms are fixed-width for years 0000 to 9999, so text order is time order (filters
// and order_by compare the stored text), and they are SQLite's own (datetime('now'),
// CURRENT_TIMESTAMP) and Django's, so other tools read them. Values are UTC; no zone is
// written. Reading accepts 'T' for the space and a trailing "Z", "+00" or "+00:00" (what other
// writers and PostgreSQL's text output use); anything else, or digits the member's precision
// cannot hold, is a DataError naming table, column and row. See docs/types.md.
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>

#include "detail/config.hpp"
#include "detail/std_light.hpp"
#include "errors.hpp"
#include "types.hpp"

namespace loom {
namespace detail::time_text {

inline void put(std::string& out, long long v, int width) {
    char buf[24];
    int n = 0;
    do {
        buf[n++] = static_cast<char>('0' + v % 10);
        v /= 10;
    } while (v > 0 || n < width);
    while (n > 0) out += buf[--n];
}

// The calendar arithmetic is done here on integers, so that this header needs only the
// durations and clocks of <bits/chrono.h>, not the whole of <chrono> (calendars, time zones and
// iostreams: with <thread> and <algorithm>, ~7% of loom.hpp's compile time). year_month_day is
// matched as a template (calendar_date below): a program that names it has included <chrono>
// itself. tests/test_types.cpp checks every day from 0000-01-01 to 9999-12-31 against std::chrono.

/// A proleptic Gregorian date; the month and day of a Civil made here are always in range.
struct Civil {
    long long y = 0;
    unsigned m = 1, d = 1;
};

inline constexpr bool leap_year(long long y) {
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

inline constexpr unsigned last_day(long long y, unsigned m) {
    constexpr unsigned char days_in[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap_year(y) ? 29u : days_in[m - 1];
}

inline constexpr bool valid(long long y, long long m, long long d) {
    return y >= -32767 && y <= 32767 && m >= 1 && m <= 12 && d >= 1 &&
           d <= last_day(y, unsigned(m));
}

/// a / b rounded towards minus infinity (b > 0).
inline constexpr long long floor_div(long long a, long long b) {
    return a / b - (a % b < 0);
}

/// The day year y begins, counted from 0000-01-01 (negative before it): 365 a year plus one
/// for each leap year in [0, y), or minus one for each in [y, 0).
inline constexpr long long year_start(long long y) {
    return 365 * y + floor_div(y + 3, 4) - floor_div(y + 99, 100) + floor_div(y + 399, 400);
}

/// The days of a common year before the first of month m (1-12).
inline constexpr unsigned days_before_month(unsigned m) {
    constexpr unsigned short before[12] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
    return before[m - 1];
}

inline constexpr long long unix_epoch = year_start(1970);  // 1970-01-01 from 0000-01-01

/// Days since 1970-01-01.
inline constexpr long long days_from_civil(Civil c) {
    const long long day_of_year = days_before_month(c.m) + (c.m > 2 && leap_year(c.y)) + c.d - 1;
    return year_start(c.y) + day_of_year - unix_epoch;
}

inline constexpr Civil civil_from_days(long long z) {
    const long long n = z + unix_epoch;  // days since 0000-01-01
    // 400 Gregorian years are exactly 146,097 days: estimate the year, then correct it by one.
    long long y = floor_div(n * 400, 146097);
    while (year_start(y) > n) --y;
    while (year_start(y + 1) <= n) ++y;
    const long long day_of_year = n - year_start(y);  // 0 to 365
    const unsigned leap = leap_year(y) ? 1 : 0;
    unsigned m = 12;
    while (m > 1 && day_of_year < days_before_month(m) + (m > 2 ? leap : 0)) --m;
    const unsigned d = unsigned(day_of_year - days_before_month(m) - (m > 2 ? leap : 0)) + 1;
    return Civil{y, m, d};
}

/// ok: the date is a calendar date (year_month_day::ok()).
LOOM_DECL std::string date(long long y, long long m, long long d, bool ok);

inline std::string date(Civil c) {
    return date(c.y, c.m, c.d, true);
}

/// std::chrono::year_month_day, recognised by its shape so that it need not be declared here.
template <class T>
concept calendar_date = std::is_constructible_v<T, std::chrono::sys_days> &&
    std::is_convertible_v<T, std::chrono::sys_days> && requires(const T& d) {
    { d.ok() } -> std::convertible_to<bool>;
    int(d.year());
    unsigned(d.month());
    unsigned(d.day());
};

/// digits: 0, 3 or 6 fractional digits.
template <class D> std::string instant(std::chrono::sys_time<D> t, int digits) {
    using namespace std::chrono;
    const auto day = floor<days>(t);
    std::string out = date(civil_from_days(day.time_since_epoch().count()));
    const auto in_day = t - day;  // non-negative
    const auto secs = floor<seconds>(in_day);
    const long long s = secs.count();  // 0 to 86399
    out += ' ';
    put(out, s / 3600, 2);
    out += ':';
    put(out, s / 60 % 60, 2);
    out += ':';
    put(out, s % 60, 2);
    if (digits > 0) {
        out += '.';
        put(out, static_cast<long long>((in_day - secs).count()), digits);
    }
    return out;
}

struct Reader {
    std::string_view s;
    std::size_t at = 0;
    bool number(int width, long long& v) {
        if (s.size() - at < static_cast<std::size_t>(width)) return false;
        v = 0;
        for (int i = 0; i < width; ++i) {
            const char c = s[at + i];
            if (c < '0' || c > '9') return false;
            v = v * 10 + (c - '0');
        }
        at += width;
        return true;
    }
    bool literal(char c) {
        if (at < s.size() && s[at] == c) return ++at, true;
        return false;
    }
    bool done() const { return at == s.size(); }
};

inline constexpr const char* bad_date = "expected a date 'YYYY-MM-DD'";

LOOM_DECL Civil read_date(Reader& r, const char* what);

/// Days since 1970-01-01.
LOOM_DECL std::chrono::sys_days parse_date(std::string_view s);

/// Parses "YYYY-MM-DD HH:MM:SS[.f...][Z|+00|+00:00]" into a count of 10^-digits seconds.
template <class D> std::chrono::sys_time<D> parse_instant(std::string_view s, int digits) {
    using namespace std::chrono;
    const char* what = digits == 0   ? "expected UTC text 'YYYY-MM-DD HH:MM:SS'"
                       : digits == 3 ? "expected UTC text 'YYYY-MM-DD HH:MM:SS.mmm'"
                                     : "expected UTC text 'YYYY-MM-DD HH:MM:SS.uuuuuu'";
    Reader r{s};
    const auto ymd = read_date(r, what);
    long long h = 0, mi = 0, se = 0;
    if (!(r.literal(' ') || r.literal('T')) || !r.number(2, h) || !r.literal(':') ||
        !r.number(2, mi) || !r.literal(':') || !r.number(2, se) || h > 23 || mi > 59 || se > 59)
        throw DataError(what);
    long long frac = 0;
    if (r.literal('.')) {
        int n = 0;
        while (r.at < s.size() && s[r.at] >= '0' && s[r.at] <= '9') {
            const int digit = s[r.at++] - '0';
            if (n < digits)
                frac = frac * 10 + digit;
            else if (digit != 0)
                throw DataError(std::string(what) +
                                ": it has more sub-second digits than the "
                                "member's precision holds");
            ++n;
        }
        if (n == 0) throw DataError(what);
        for (; n < digits; ++n) frac *= 10;
    }
    if (r.literal('Z')) {
    } else if (r.literal('+')) {
        long long zh = 0, zm = 0;
        if (!r.number(2, zh) || zh != 0 || (r.literal(':') && (!r.number(2, zm) || zm != 0)))
            throw DataError(std::string(what) + ": only UTC (+00) is read");
    }
    if (!r.done()) throw DataError(what);
    return sys_days(days(days_from_civil(ymd))) + hours(h) + minutes(mi) + seconds(se) + D(frac);
}

template <class D> constexpr int digits_of() {
    using P = typename D::period;
    if constexpr (std::is_same_v<P, std::ratio<1>>)
        return 0;
    else if constexpr (std::is_same_v<P, std::milli>)
        return 3;
    else
        return 6;
}

template <class D>
inline constexpr bool instant_duration_v = std::is_integral_v<typename D::rep> &&
                                           (std::is_same_v<typename D::period, std::ratio<1>> ||
                                            std::is_same_v<typename D::period, std::milli> ||
                                            std::is_same_v<typename D::period, std::micro>);

}  // namespace detail::time_text

/// A UTC instant with a precision of seconds, milliseconds or microseconds.
template <class D>
requires detail::time_text::instant_duration_v<D>
struct column_type<std::chrono::sys_time<D>> {
    using storage = std::string;
    static constexpr column_kind kind = column_kind::timestamp;
    static constexpr int digits = detail::time_text::digits_of<D>();
    static std::string to_storage(std::chrono::sys_time<D> t) {
        return detail::time_text::instant(t, digits);
    }
    static std::chrono::sys_time<D> from_storage(const std::string& s) {
        return detail::time_text::parse_instant<D>(s, digits);
    }
};

/// A date (std::chrono::year_month_day).
template <detail::time_text::calendar_date T> struct column_type<T> {
    using storage = std::string;
    static constexpr column_kind kind = column_kind::date;
    static std::string to_storage(const T& d) {
        return detail::time_text::date(int(d.year()), unsigned(d.month()), unsigned(d.day()),
                                       d.ok());
    }
    static T from_storage(const std::string& s) { return T(detail::time_text::parse_date(s)); }
};

/// A date as a count of days (std::chrono::sys_days).
template <> struct column_type<std::chrono::sys_days> {
    using storage = std::string;
    static constexpr column_kind kind = column_kind::date;
    static std::string to_storage(std::chrono::sys_days d) {
        return detail::time_text::date(
            detail::time_text::civil_from_days(d.time_since_epoch().count()));
    }
    static std::chrono::sys_days from_storage(const std::string& s) {
        return detail::time_text::parse_date(s);
    }
};

/// A duration: the count of its period, as an INTEGER (or a REAL for a floating-point count).
template <class Rep, class Period> struct column_type<std::chrono::duration<Rep, Period>> {
    static_assert(std::is_arithmetic_v<Rep> && !std::is_same_v<Rep, bool>,
                  "loom: a std::chrono::duration column needs an integer or floating-point count");
    using storage = std::conditional_t<std::is_floating_point_v<Rep>, double, std::int64_t>;
    static storage to_storage(std::chrono::duration<Rep, Period> d) {
        return static_cast<storage>(d.count());
    }
    static std::chrono::duration<Rep, Period> from_storage(storage s) {
        if constexpr (std::is_integral_v<Rep> && sizeof(Rep) < sizeof(std::int64_t)) {
            if (s < static_cast<storage>(std::numeric_limits<Rep>::min()) ||
                s > static_cast<storage>(std::numeric_limits<Rep>::max()))
                throw DataError("the count is out of range for the duration's type");
        }
        return std::chrono::duration<Rep, Period>(static_cast<Rep>(s));
    }
};

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/chrono.hpp"
#endif
