// loom/profile.hpp - a profile report of the statements a block of code runs: a text table
// for a terminal and a self-contained HTML page with a timeline. Opt-in: <loom/loom.hpp> does
// not include it.
//
//     #include <loom/profile.hpp>
//     loom::Profile prof(db);  /* ... */  prof.write_html("profile.html");
//
// A Profile listens through Database::on_query until it is destroyed (or stop()), so it must not
// outlive its Database (declare it after the Database).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "database.hpp"
#include "detail/config.hpp"
#include "detail/format_util.hpp"
#include "detail/html.hpp"
#include "errors.hpp"
#include "log.hpp"

namespace loom {

/// Records every statement `db` runs while it lives (or until stop()), and reports them grouped
/// by statement shape: as a text table for a terminal, or as a self-contained HTML page with the
/// same table and a timeline of the queries.
///
///     loom::Profile prof(db);
///     render_catalogue(db);
///     std::fputs(prof.text().c_str(), stdout);
///     prof.write_html("catalogue-profile.html");
class Profile {
public:
    /// One statement shape and the runs of it.
    struct Group {
        std::string sql;                   // the shape (see statement_shape)
        std::vector<std::string> origins;  // what issued it, in first-seen order
        std::int64_t count = 0;
        std::int64_t rows = 0;     // rows returned
        std::int64_t changes = 0;  // rows written
        std::int64_t errors = 0;
        std::chrono::nanoseconds total{};
        std::chrono::nanoseconds max{};
    };
    /// One run, in the order they ran.
    struct Query {
        std::size_t group;               // index in groups()
        std::size_t origin;              // index in the group's origins
        std::chrono::nanoseconds start;  // since the profile began
        std::chrono::nanoseconds duration;
        std::int64_t rows;
        std::int64_t changes;
        bool failed;
        /// 0: the Database's connection; 1, 2...: a worker connection (prefetch levels run
        /// at the same time; their bars overlap on the timeline).
        int connection = 0;
    };

    explicit Profile(Database& db);
    ~Profile();
    Profile(const Profile&) = delete;
    Profile& operator=(const Profile&) = delete;

    /// Stops recording; the report keeps what was recorded.
    void stop();

    /// The groups, by total time, largest first.
    std::vector<Group> groups() const;
    /// The runs in order; Query::group indexes groups().
    std::vector<Query> queries() const;
    std::int64_t query_count() const noexcept { return static_cast<std::int64_t>(queries_.size()); }
    /// Statements run on worker connections (prefetch levels at the same time).
    std::int64_t worker_count() const noexcept { return workers_; }
    /// Why prefetch levels that could have run at the same time ran one after another
    /// (QueryEvent::serial), each reason once, in first-seen order; empty when none did.
    const std::vector<std::string>& serial_reasons() const noexcept { return serial_; }
    /// Time spent running statements (the sum of their durations, reading rows included).
    std::chrono::nanoseconds query_time() const noexcept;
    /// Wall time from the profile's start to stop() (or now).
    std::chrono::nanoseconds elapsed() const noexcept;

    /// A table for a terminal, one line per statement shape, largest total first:
    ///
    ///     loom profile: 5 queries (4 shapes), 0.210 ms in queries over 1.032 ms
    ///       #  count   total ms     max ms      rows  statement
    ///       1      1      0.081      0.081         6  [prefetch Book::authors] SELECT ...
    std::string text() const;

    /// A self-contained HTML page (no scripts, no external assets, every text escaped): the
    /// table of text(), a timeline with one lane per statement shape, and every run in order.
    std::string html(std::string_view title = "loom profile") const;

    /// Writes html() to `path`; throws loom::Error when the file cannot be written.
    void write_html(const std::string& path, std::string_view title = "loom profile") const;

private:
    static constexpr std::size_t max_lanes = 40;     // shapes past these share the last lane
    static constexpr std::size_t max_bars = 20000;   // runs drawn on the timeline
    static constexpr std::size_t max_listed = 5000;  // runs listed in order

    void seen(const QueryEvent& e);

    /// Group indexes by total time, largest first (first seen first on ties).
    std::vector<std::size_t> order() const;

    static std::string join(const std::vector<std::string>& v);

    std::string summary() const;

    /// An inline SVG: x is time since the profile began, one lane per shape (the table's #).
    void timeline(std::string& h, const std::vector<Group>& gs, const std::vector<Query>& qs) const;

    std::chrono::steady_clock::time_point begin_, end_;
    std::vector<Group> groups_;
    std::unordered_map<std::string, std::size_t> index_;
    std::vector<Query> queries_;
    std::int64_t workers_ = 0;
    std::vector<std::string> serial_;
    bool sub_active_ = true;
    Database::Subscription sub_;
};

}  // namespace loom

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/profile.hpp"
#endif
