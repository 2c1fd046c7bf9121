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
#include "detail/config.hpp"
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
LOOM_DECL std::string_view cut_utf8(std::string_view s, std::size_t n);

/// A SQL-style quoted string with control characters escaped, so one value stays on one line.
LOOM_DECL void append_quoted(std::string& out, std::string_view s);

}  // namespace detail

/// One parameter as it would appear in a log: `NULL`, `42`, `2.5`, `'Dune'` (quotes doubled,
/// control characters escaped), `'A very long ...'... (120 bytes)`, `<blob 16 bytes>`.
/// Reals are written as fmt writes them (shortest round-trip form), with `.0` added to whole
/// numbers: `2.0`, `1e+20`, `inf`.
///
///     loom::format_value(loom::Value{std::string("it's")})   // "'it''s'"
LOOM_DECL std::string format_value(const Value& v, const ParamFormat& f = {});

/// The parameters of a statement, in order: `(1974, 'The Dispossessed', NULL)`.
///
///     auto sub = db.on_query([](const loom::QueryEvent& e) {
///         std::puts(loom::format_params(e.params, {.max_string = 32, .redact_blobs =
///         true}).c_str());
///     });
LOOM_DECL std::string format_params(std::span<const Value> params, const ParamFormat& f = {});

/// The shape of a statement: its SQL text with every `IN (?, ?, ...)` list written `IN (...)`,
/// so the chunks and key counts of one prefetch level, or one query run in a loop, group
/// together. Values are always bound parameters, so the text carries no data.
///
///     loom::statement_shape("... WHERE t0.\"id\" IN (?, ?, ?)")   // "... WHERE t0.\"id\" IN
///     (...)"
LOOM_DECL std::string statement_shape(std::string_view sql);

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
LOOM_DECL std::string format_query(const QueryEvent& e, const LogOptions& o = {});

/// A listener that writes one line per statement to `sink` (see format_query); install it for
/// good with db.set_query_hook(loom::query_logger(...)), or for a while with log_queries. A
/// std::FILE* or std::ostream given as the sink must outlive the listener.
LOOM_DECL QueryListener query_logger(std::function<void(std::string_view line)> sink,
                                     LogOptions options = {});
LOOM_DECL QueryListener query_logger(std::FILE* out, LogOptions options = {});
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
[[nodiscard]] LOOM_DECL Database::Subscription log_queries(
    Database& db, std::function<void(std::string_view line)> sink, LogOptions options = {});
[[nodiscard]] LOOM_DECL Database::Subscription log_queries(Database& db, std::FILE* out,
                                                           LogOptions options = {});
template <class Stream>
[[nodiscard]] Database::Subscription log_queries(
    Database& db, Stream& out,
    LogOptions options = {}) requires std::is_base_of_v<std::ostream, Stream> {
    return db.on_query(query_logger(out, std::move(options)));
}

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/log.hpp"
#endif
