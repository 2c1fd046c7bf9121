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

// The calendar arithmetic is done here on integers (H. Hinnant's civil-date algorithms, the
// ones libstdc++ uses) so that this header needs only the durations and clocks of
// <bits/chrono.h>, not the whole of <chrono> (calendars, time zones and iostreams, about a
// third of loom.hpp's compile time). std::chrono::year_month_day is matched as a template
// (calendar_date below): a program that names it has included <chrono> itself.

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

/// Days since 1970-01-01.
inline constexpr long long days_from_civil(Civil c) {
    const long long y = c.y - (c.m <= 2);
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const long long yoe = y - era * 400;
    const long long doy = (153 * (c.m > 2 ? c.m - 3 : c.m + 9) + 2) / 5 + c.d - 1;
    const long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

inline constexpr Civil civil_from_days(long long z) {
    z += 719468;
    const long long era = (z >= 0 ? z : z - 146096) / 146097;
    const long long doe = z - era * 146097;
    const long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const long long mp = (5 * doy + 2) / 153;
    const unsigned d = unsigned(doy - (153 * mp + 2) / 5 + 1);
    const unsigned m = unsigned(mp < 10 ? mp + 3 : mp - 9);
    return Civil{yoe + era * 400 + (m <= 2), m, d};
}

/// ok: the date is a calendar date (year_month_day::ok()).
inline std::string date(long long y, long long m, long long d, bool ok) {
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

inline Civil read_date(Reader& r, const char* what) {
    long long y = 0, m = 0, d = 0;
    if (!r.number(4, y) || !r.literal('-') || !r.number(2, m) || !r.literal('-') || !r.number(2, d))
        throw DataError(what);
    if (!valid(y, m, d)) throw DataError(std::string(what) + " (not a calendar date)");
    return Civil{y, unsigned(m), unsigned(d)};
}

/// Days since 1970-01-01.
inline std::chrono::sys_days parse_date(std::string_view s) {
    Reader r{s};
    const auto d = read_date(r, bad_date);
    if (!r.done()) throw DataError(bad_date);
    return std::chrono::sys_days(std::chrono::days(days_from_civil(d)));
}

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
