// loom/log.hpp - writing down what loom runs: a parameter formatter with redaction, statement
// shapes, and a query logger. Opt-in: <loom/loom.hpp> does not include it (nor {fmt}).
//
//     auto log = loom::log_queries(db, stderr);            // every statement, one line each
//     auto slow = loom::log_queries(db, std::clog, {.slower_than = std::chrono::milliseconds(50)});
//
// Everything here is built on Database::on_query listeners: with none of them alive, running a
// statement costs one branch more than not observing at all. A Subscription listens until it is
// destroyed, so it must not outlive its Database (declare it after the Database).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <iosfwd>
#include <iterator>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/core.h>

#include "database.hpp"
#include "detail/format_util.hpp"
#include "detail/statement_kind.hpp"
#include "detail/std_light.hpp"
#include "types.hpp"

namespace loom {

// ---- formatting parameters ------------------------------------------------------------------

/// How bound parameters are written in logs and messages.
struct ParamFormat {
    /// Longer text is cut (at a UTF-8 character boundary) and its length given; 0: no limit.
    std::size_t max_string = 64;
    /// Blobs as `<blob 512 bytes>`; false: as hex, cut after `max_blob` bytes.
    bool redact_blobs = true;
    /// Every text value as `<text 12 bytes>`: keeps personal data out of production logs.
    bool redact_text = false;
    std::size_t max_blob = 16;
    /// More parameters than this are summarised as `... 40 more`; 0: all.
    std::size_t max_params = 32;
};

namespace detail {

/// `s` cut to at most `n` bytes without splitting a UTF-8 sequence.
inline std::string_view cut_utf8(std::string_view s, std::size_t n) {
    if (s.size() <= n) return s;
    while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
    return s.substr(0, n);
}

/// A SQL-style quoted string with control characters escaped, so one value stays on one line.
inline void append_quoted(std::string& out, std::string_view s) {
    out += '\'';
    for (char c : s) {
        switch (c) {
        case '\'':
            out += "''";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F)
                ::loom::detail::format_into(std::back_inserter(out), "\\x{:02x}",
                                            static_cast<unsigned char>(c));
            else
                out += c;
        }
    }
    out += '\'';
}

}  // namespace detail

/// One parameter as it would appear in a log: `NULL`, `42`, `2.5`, `'Dune'` (quotes doubled,
/// control characters escaped), `'A very long ...'... (120 bytes)`, `<blob 16 bytes>`.
/// Reals are written as fmt writes them (shortest round-trip form), with `.0` added to whole
/// numbers: `2.0`, `1e+20`, `inf`.
///
///     loom::format_value(loom::Value{std::string("it's")})   // "'it''s'"
inline std::string format_value(const Value& v, const ParamFormat& f = {}) {
    std::string out;
    auto to = std::back_inserter(out);
    if (std::holds_alternative<std::nullptr_t>(v)) {
        out = "NULL";
    } else if (auto* i = std::get_if<std::int64_t>(&v)) {
        ::loom::detail::format_into(to, "{}", *i);
    } else if (auto* d = std::get_if<double>(&v)) {
        ::loom::detail::format_into(to, "{}", *d);
        if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // 2.0, not 2
    } else if (auto* s = std::get_if<std::string>(&v)) {
        if (f.redact_text) {
            ::loom::detail::format_into(to, "<text {} bytes>", s->size());
        } else if (f.max_string && s->size() > f.max_string) {
            detail::append_quoted(out, detail::cut_utf8(*s, f.max_string));
            ::loom::detail::format_into(to, "... ({} bytes)", s->size());
        } else {
            detail::append_quoted(out, *s);
        }
    } else {
        const Blob& b = std::get<Blob>(v);
        if (f.redact_blobs) {
            ::loom::detail::format_into(to, "<blob {} bytes>", b.size());
        } else {
            out = "x'";
            const std::size_t n = f.max_blob ? std::min(b.size(), f.max_blob) : b.size();
            for (std::size_t k = 0; k < n; ++k)
                ::loom::detail::format_into(to, "{:02x}", static_cast<unsigned char>(b[k]));
            out += '\'';
            if (n < b.size()) ::loom::detail::format_into(to, "... ({} bytes)", b.size());
        }
    }
    return out;
}

/// The parameters of a statement, in order: `(1974, 'The Dispossessed', NULL)`.
///
///     auto sub = db.on_query([](const loom::QueryEvent& e) {
///         std::puts(loom::format_params(e.params, {.max_string = 32, .redact_blobs =
///         true}).c_str());
///     });
inline std::string format_params(std::span<const Value> params, const ParamFormat& f = {}) {
    std::string out = "(";
    const std::size_t shown = f.max_params ? std::min(params.size(), f.max_params) : params.size();
    for (std::size_t k = 0; k < shown; ++k) {
        if (k) out += ", ";
        out += format_value(params[k], f);
    }
    if (shown < params.size())
        ::loom::detail::format_into(std::back_inserter(out), ", ... {} more",
                                    params.size() - shown);
    out += ')';
    return out;
}

/// The shape of a statement: its SQL text with every `IN (?, ?, ...)` list written `IN (...)`,
/// so the chunks and key counts of one prefetch level, or one query run in a loop, group
/// together. Values are always bound parameters, so the text carries no data.
///
///     loom::statement_shape("... WHERE t0.\"id\" IN (?, ?, ?)")   // "... WHERE t0.\"id\" IN
///     (...)"
inline std::string statement_shape(std::string_view sql) {
    std::string out;
    out.reserve(sql.size());
    std::size_t at = 0;
    while (true) {
        const std::size_t in = sql.find("IN (?", at);
        if (in == std::string_view::npos) break;
        std::size_t p = in + 5;
        while (sql.substr(p, 3) == ", ?") p += 3;
        if (p < sql.size() && sql[p] == ')') {
            out.append(sql.substr(at, in - at));
            out += "IN (...)";
            at = p + 1;
        } else {
            out.append(sql.substr(at, p - at));
            at = p;
        }
    }
    out.append(sql.substr(at));
    return out;
}

// ---- logging --------------------------------------------------------------------------------

/// What a query logger writes.
struct LogOptions {
    /// How parameters are written (see ParamFormat).
    ParamFormat params{};
    /// Write the parameters at all.
    bool show_params = true;
    /// Only statements that took at least this long (a slow-query log); 0: every statement.
    std::chrono::nanoseconds slower_than{0};
    /// Starts each line.
    std::string prefix = "[loom] ";
};

/// One log line (no newline) for a statement:
/// `[loom] 0.042 ms, 5 rows [prefetch Book::authors] SELECT ... IN (?, ?) -- (1, 2)`; a statement
/// a read replica ran shows its name after the origin (`[Book @replica1]`).
inline std::string format_query(const QueryEvent& e, const LogOptions& o = {}) {
    std::string line = o.prefix;
    auto to = std::back_inserter(line);
    detail::append_ms(line, e.duration);
    line += " ms, ";
    if (!e.error.empty())
        ::loom::detail::format_into(to, "FAILED ({})", e.error);
    else if (e.changes > 0 || !e.read_only || detail::is_transaction_control(e.sql))
        line += detail::count_of(e.changes, "row changed", "rows changed");
    else
        line += detail::count_of(e.rows, "row", "rows");
    // A statement a read replica ran names it: `[Book @replica1]`.
    const bool replica = !e.server.empty() && e.server != "primary";
    if (!e.origin.empty() && replica)
        ::loom::detail::format_into(to, " [{} @{}]", e.origin, e.server);
    else if (!e.origin.empty())
        ::loom::detail::format_into(to, " [{}]", e.origin);
    else if (replica)
        ::loom::detail::format_into(to, " [@{}]", e.server);
    line += ' ';
    line += e.sql;
    if (o.show_params && !e.params.empty()) {
        line += " -- ";
        line += format_params(e.params, o.params);
    }
    return line;
}

/// A listener that writes one line per statement to `sink` (see format_query); install it for
/// good with db.set_query_hook(loom::query_logger(...)), or for a while with log_queries. A
/// std::FILE* or std::ostream given as the sink must outlive the listener.
inline QueryListener query_logger(std::function<void(std::string_view line)> sink,
                                  LogOptions options = {}) {
    return [sink = std::move(sink), o = std::move(options)](const QueryEvent& e) {
        if (e.duration < o.slower_than) return;
        sink(format_query(e, o));
    };
}
inline QueryListener query_logger(std::FILE* out, LogOptions options = {}) {
    return query_logger(
        [out](std::string_view line) {
            std::fwrite(line.data(), 1, line.size(), out);
            std::fputc('\n', out);
        },
        std::move(options));
}
/// A std::ostream sink (std::clog, a std::ostringstream...). A template over the stream type so
/// that this header needs only <iosfwd>: the caller, who has a stream, has <ostream>.
template <class Stream>
QueryListener query_logger(
    Stream& out, LogOptions options = {}) requires std::is_base_of_v<std::ostream, Stream> {
    return query_logger(
        [&out](std::string_view line) {
            out.write(line.data(), static_cast<std::streamsize>(line.size()));
            out.put('\n');
        },
        std::move(options));
}

/// Logs every statement `db` runs until the returned Subscription is destroyed. The sink is a
/// std::FILE* (stderr), a std::ostream& (std::clog), or a callback taking each line.
///
///     auto log = loom::log_queries(db, stderr, {.params = {.max_string = 32}});
[[nodiscard]] inline Database::Subscription log_queries(
    Database& db, std::function<void(std::string_view line)> sink, LogOptions options = {}) {
    return db.on_query(query_logger(std::move(sink), std::move(options)));
}
[[nodiscard]] inline Database::Subscription log_queries(Database& db, std::FILE* out,
                                                        LogOptions options = {}) {
    return db.on_query(query_logger(out, std::move(options)));
}
template <class Stream>
[[nodiscard]] Database::Subscription log_queries(
    Database& db, Stream& out,
    LogOptions options = {}) requires std::is_base_of_v<std::ostream, Stream> {
    return db.on_query(query_logger(out, std::move(options)));
}

}  // namespace loom
