// The definitions of profile.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of profile.hpp only.
#pragma once

#include <cstdio>
#include <iterator>

namespace loom {

LOOM_DECL Profile::Profile(Database& db) : begin_(std::chrono::steady_clock::now()) {
    sub_ = db.on_query([this](const QueryEvent& e) { seen(e); });
}

LOOM_DECL Profile::~Profile() = default;

LOOM_DECL void Profile::stop() {
    if (!sub_active_) return;
    sub_.reset();
    sub_active_ = false;
    end_ = std::chrono::steady_clock::now();
}

LOOM_DECL std::vector<Profile::Group> Profile::groups() const {
    std::vector<Group> out;
    for (auto k : order()) out.push_back(groups_[k]);
    return out;
}

LOOM_DECL std::vector<Profile::Query> Profile::queries() const {
    const auto ord = order();
    std::vector<std::size_t> rank(ord.size());
    for (std::size_t r = 0; r < ord.size(); ++r) rank[ord[r]] = r;
    std::vector<Query> out = queries_;
    for (auto& q : out) q.group = rank[q.group];
    return out;
}

LOOM_DECL std::chrono::nanoseconds Profile::query_time() const noexcept {
    std::chrono::nanoseconds t{};
    for (const auto& g : groups_) t += g.total;
    return t;
}

LOOM_DECL std::chrono::nanoseconds Profile::elapsed() const noexcept {
    return (sub_active_ ? std::chrono::steady_clock::now() : end_) - begin_;
}

LOOM_DECL std::string Profile::text() const {
    std::string out = summary() + "\n";
    out += "  #  count   total ms     max ms      rows  changed  statement\n";
    auto to = std::back_inserter(out);
    std::size_t n = 0;
    for (const auto& g : groups()) {
        ::loom::detail::format_into(to, "{:>3}{:>7}{:>11}{:>11}{:>10}{:>9}  ", ++n, g.count,
                                    detail::ms(g.total), detail::ms(g.max), g.rows, g.changes);
        if (!g.origins.empty()) ::loom::detail::format_into(to, "[{}] ", join(g.origins));
        out += g.sql;
        if (g.errors) ::loom::detail::format_into(to, "  ({} failed)", g.errors);
        out += '\n';
    }
    return out;
}

LOOM_DECL std::string Profile::html(std::string_view title) const {
    const auto gs = groups();
    const auto qs = queries();
    std::string h;
    h.reserve(4096 + qs.size() * 200);
    auto to = std::back_inserter(h);
    h += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>";
    detail::append_html(h, title);
    h += "</title>\n<style>\n"
         "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}\n"
         "table{border-collapse:collapse;margin:.5em 0}\n"
         "th,td{border:1px solid #ccc;padding:3px 8px;vertical-align:top}\n"
         "th{background:#f0f0f0;text-align:left}\n"
         "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
         "code{font:12px/1.4 ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}\n"
         ".fail{color:#b00}\n"
         "svg{width:100%;height:auto;border:1px solid #ccc;background:#fafafa}\n"
         "svg text{font:10px sans-serif;fill:#444}\n"
         "</style>\n</head>\n<body>\n<h1>";
    detail::append_html(h, title);
    h += "</h1>\n<p>";
    detail::append_html(h, summary());
    h += "</p>\n<h2>Statements</h2>\n<table>\n<thead><tr><th>#</th><th>count</th>"
         "<th>total ms</th><th>max ms</th><th>rows</th><th>changed</th><th>issued by</th>"
         "<th>statement</th></tr></thead>\n<tbody>\n";
    std::size_t n = 0;
    for (const auto& g : gs) {
        ::loom::detail::format_into(to,
                                    "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                                    "<td class=\"n\">{}</td><td class=\"n\">{}</td>"
                                    "<td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
                                    ++n, g.count, detail::ms(g.total), detail::ms(g.max), g.rows,
                                    g.changes);
        detail::append_html(h, join(g.origins));
        h += "</td><td><code>";
        detail::append_html(h, g.sql);
        h += "</code>";
        if (g.errors)
            ::loom::detail::format_into(to, " <span class=\"fail\">{} failed</span>", g.errors);
        h += "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n<h2>Timeline</h2>\n";
    timeline(h, gs, qs);
    h += "<h2>Queries in order</h2>\n<table>\n<thead><tr><th>#</th><th>start ms</th>"
         "<th>ms</th><th>rows</th><th>changed</th><th>statement</th><th>issued by</th>"
         "</tr></thead>\n<tbody>\n";
    const std::size_t shown = std::min(qs.size(), max_listed);
    for (std::size_t k = 0; k < shown; ++k) {
        const auto& q = qs[k];
        ::loom::detail::format_into(to,
                                    "<tr><td class=\"n\">{}</td><td class=\"n\">{}</td>"
                                    "<td class=\"n\">{}</td><td class=\"n\">{}</td>"
                                    "<td class=\"n\">{}</td><td class=\"n\">#{}{}</td><td>",
                                    k + 1, detail::ms(q.start), detail::ms(q.duration), q.rows,
                                    q.changes, q.group + 1,
                                    q.failed ? " <span class=\"fail\">failed</span>" : "");
        detail::append_html(h, gs[q.group].origins[q.origin]);
        if (q.connection > 0) ::loom::detail::format_into(to, " (worker {})", q.connection);
        h += "</td></tr>\n";
    }
    h += "</tbody>\n</table>\n";
    if (shown < qs.size())
        ::loom::detail::format_into(to, "<p>... and {} more.</p>\n", qs.size() - shown);
    h += "</body>\n</html>\n";
    return h;
}

LOOM_DECL void Profile::write_html(const std::string& path, std::string_view title) const {
    const std::string page = html(title);
    bool ok = false;
    if (std::FILE* f = std::fopen(path.c_str(), "wb")) {
        ok = std::fwrite(page.data(), 1, page.size(), f) == page.size();
        ok = std::fclose(f) == 0 && ok;
    }
    if (!ok)
        throw Error(
            fmt::format("Profile::write_html: cannot write '{}' (does its directory "
                        "exist, and may it be written?)",
                        path));
}

LOOM_DECL void Profile::seen(const QueryEvent& e) {
    const auto now = std::chrono::steady_clock::now();
    std::string shape = statement_shape(e.sql);
    auto [it, fresh] = index_.try_emplace(std::move(shape), groups_.size());
    if (fresh) groups_.push_back(Group{it->first, {}, 0, 0, 0, 0, {}, {}});
    Group& g = groups_[it->second];
    std::size_t o = 0;
    while (o < g.origins.size() && g.origins[o] != e.origin) ++o;
    if (o == g.origins.size()) g.origins.emplace_back(e.origin);
    ++g.count;
    g.rows += e.rows;
    g.changes += e.changes;
    if (!e.error.empty()) ++g.errors;
    g.total += e.duration;
    g.max = std::max(g.max, e.duration);
    // A worker connection's statement is reported after it ended: its start says when.
    const auto start = e.start != std::chrono::steady_clock::time_point{}
                           ? e.start - begin_
                           : (now - e.duration) - begin_;
    queries_.push_back(
        {it->second, o, start, e.duration, e.rows, e.changes, !e.error.empty(), e.connection});
    if (e.connection > 0) ++workers_;
    if (!e.serial.empty() && std::find(serial_.begin(), serial_.end(), e.serial) == serial_.end())
        serial_.emplace_back(e.serial);
}

LOOM_DECL std::vector<std::size_t> Profile::order() const {
    std::vector<std::size_t> ord(groups_.size());
    for (std::size_t k = 0; k < ord.size(); ++k) ord[k] = k;
    std::stable_sort(ord.begin(), ord.end(), [&](std::size_t a, std::size_t b) {
        return groups_[a].total > groups_[b].total;
    });
    return ord;
}

LOOM_DECL std::string Profile::join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) {
        if (!s.empty()) s += ", ";
        s += x;
    }
    return s;
}

LOOM_DECL std::string Profile::summary() const {
    std::string out =
        fmt::format("loom profile: {} ({}), {} ms in queries over {} ms",
                    detail::count_of(query_count(), "query", "queries"),
                    detail::count_of(static_cast<std::int64_t>(groups_.size()), "shape", "shapes"),
                    detail::ms(query_time()), detail::ms(elapsed()));
    if (workers_ > 0)
        out +=
            fmt::format("; {} on worker connections (prefetch levels at the same time)", workers_);
    for (const auto& why : serial_)
        out +=
            (why.starts_with("chunk ") ? "; " : "; prefetch levels ran one after another: ") + why;
    return out;
}

LOOM_DECL void Profile::timeline(std::string& h, const std::vector<Group>& gs,
                                 const std::vector<Query>& qs) const {
    if (qs.empty()) {
        h += "<p>No queries ran.</p>\n";
        return;
    }
    const std::size_t lanes = std::min(gs.size(), max_lanes);
    const double left = 40, width = 950, lane_h = 16, top = 4;
    const double height = top + static_cast<double>(lanes) * lane_h + 20;
    auto span = elapsed();
    for (const auto& q : qs) span = std::max(span, q.start + q.duration);
    const double total = std::max(1.0, static_cast<double>(span.count()));
    auto to = std::back_inserter(h);
    ::loom::detail::format_into(to,
                                "<svg viewBox=\"0 0 {:.2f} {:.2f}\" role=\"img\" "
                                "aria-label=\"timeline of the queries\">\n",
                                left + width + 10, height);
    for (std::size_t l = 0; l < lanes; ++l) {
        const double y = top + static_cast<double>(l) * lane_h;
        if (l % 2 == 0)
            ::loom::detail::format_into(
                to,
                "<rect x=\"0\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" "
                "fill=\"#f0f0f0\"/>\n",
                y, left + width + 10, lane_h);
        ::loom::detail::format_into(to, "<text x=\"4\" y=\"{:.2f}\">#{}{}</text>\n", y + lane_h - 4,
                                    l + 1, l + 1 == max_lanes && gs.size() > max_lanes ? "+" : "");
    }
    const std::size_t bars = std::min(qs.size(), max_bars);
    for (std::size_t k = 0; k < bars; ++k) {
        const auto& q = qs[k];
        const std::size_t lane = std::min(q.group, lanes - 1);
        const double x = left + width * static_cast<double>(q.start.count()) / total;
        const double w = std::max(0.6, width * static_cast<double>(q.duration.count()) / total);
        const double y = top + static_cast<double>(lane) * lane_h + 2;
        const int hue = static_cast<int>((lane * 47) % 360);
        ::loom::detail::format_into(
            to, "<rect x=\"{:.2f}\" y=\"{:.2f}\" width=\"{:.2f}\" height=\"{:.2f}\" ", x, y, w,
            lane_h - 4);
        if (q.failed)
            h += "fill=\"#c00\"><title>";
        else
            ::loom::detail::format_into(to, "fill=\"hsl({},55%,50%)\"><title>", hue);
        detail::append_html(
            h, fmt::format("query {} (#{}, {}{}): {} ms at {} ms, {} rows\n{}", k + 1, q.group + 1,
                           gs[q.group].origins[q.origin],
                           q.connection > 0 ? fmt::format(", worker {}", q.connection) : "",
                           detail::ms(q.duration), detail::ms(q.start), q.rows, gs[q.group].sql));
        h += "</title></rect>\n";
    }
    const double axis_y = top + static_cast<double>(lanes) * lane_h + 14;
    for (int t = 0; t <= 4; ++t) {
        const double x = left + width * t / 4.0;
        const auto at = std::chrono::nanoseconds(static_cast<std::int64_t>(total * t / 4.0));
        ::loom::detail::format_into(to, "<text x=\"{:.2f}\" y=\"{:.2f}\">{} ms</text>\n",
                                    t == 4 ? x - 40 : x, axis_y, detail::ms(at));
    }
    h += "</svg>\n";
    if (bars < qs.size())
        ::loom::detail::format_into(to, "<p>The timeline shows the first {} of {} queries.</p>\n",
                                    bars, qs.size());
}

}  // namespace loom
