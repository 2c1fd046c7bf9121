// The definitions of testing.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of testing.hpp only.
#pragma once

namespace loom {

LOOM_DECL std::string describe_queries(const std::vector<RecordedQuery>& queries) {
    std::string out;
    auto to = std::back_inserter(out);
    std::size_t n = 0;
    for (const auto& q : queries) {
        ::loom::detail::format_into(to, "  {}. ", ++n);
        if (!q.origin.empty()) ::loom::detail::format_into(to, "[{}] ", q.origin);
        out += q.sql;
        if (q.params != "()") ::loom::detail::format_into(to, " -- {}", q.params);
        if (!q.error.empty()) ::loom::detail::format_into(to, " -- FAILED: {}", q.error);
        out += '\n';
    }
    return out;
}

LOOM_DECL QueryCountMismatch::QueryCountMismatch(std::int64_t expected,
                                                 std::vector<RecordedQuery> seen)
    : Error(message(expected, seen)), expected_(expected), seen_(std::move(seen)) {}

LOOM_DECL std::string QueryCountMismatch::message(std::int64_t expected,
                                                  const std::vector<RecordedQuery>& seen) {
    const std::string want = detail::count_of(expected, "query", "queries");
    if (seen.empty()) return fmt::format(fmt::runtime("expected {}, but none ran"), want);
    std::string m = fmt::format(fmt::runtime("expected {}, but {} ran:\n{}"), want, seen.size(),
                                describe_queries(seen));
    m.pop_back();  // the list's last newline
    return m;
}

LOOM_DECL ExpectQueries::ExpectQueries(Database& db, std::int64_t expected, ParamFormat params)
    : expected_(expected), format_(params), uncaught_(std::uncaught_exceptions()) {
    sub_ = db.on_query([this](const QueryEvent& e) {
        RecordedQuery q;
        q.sql = e.sql;
        q.origin = e.origin;
        q.params = format_params(e.params, format_);
        q.error = e.error;
        q.rows = e.rows;
        q.changes = e.changes;
        q.duration = e.duration;
        seen_.push_back(std::move(q));
    });
}

LOOM_DECL ExpectQueries::~ExpectQueries() noexcept(false) {
    sub_.reset();
    if (checked_ || std::uncaught_exceptions() > uncaught_) return;
    check();
}

LOOM_DECL void ExpectQueries::check() {
    sub_.reset();
    checked_ = true;
    if (count() != expected_) throw QueryCountMismatch(expected_, seen_);
}

LOOM_DECL std::string RepeatedStatement::message() const {
    std::string m = fmt::format(fmt::runtime("N+1 queries: the same statement ran {} times "
                                             "inside one NPlusOneGuard (allowed: {})"),
                                count, threshold);
    auto to = std::back_inserter(m);
    if (!origin.empty()) ::loom::detail::format_into(to, ", issued by {}", origin);
    ::loom::detail::format_into(to, ":\n  {}\n", sql);
    std::string_view rel = origin;
    if (rel.starts_with("load ") || rel.starts_with("prefetch ")) {
        rel.remove_prefix(rel.find(' ') + 1);
        ::loom::detail::format_into(
            to,
            "Load {0} for all the objects at once: .prefetch_related(&{0}) on the "
            "QuerySet that fetched them, or loom::prefetch_related_objects(db, "
            "objects, &{0})",
            rel);
    } else {
        m += "Fetch the rows in one query (e.g. a filter with loom::col(...).in(keys)) "
             "instead of one query per object";
    }
    return m;
}

LOOM_DECL NPlusOneDetected::NPlusOneDetected(RepeatedStatement s)
    : Error(s.message()), statement_(std::move(s)) {}

LOOM_DECL NPlusOneGuard::NPlusOneGuard(Database& db, NPlusOneOptions options)
    : options_(std::move(options)) {
    sub_ = db.on_query([this](const QueryEvent& e) { seen(e); });
}

LOOM_DECL NPlusOneGuard::~NPlusOneGuard() {
    try {
        finish();
    } catch (...) {
        // A throwing on_warning: nothing sensible to do in a destructor.
    }
}

LOOM_DECL std::vector<RepeatedStatement> NPlusOneGuard::repeated() const {
    std::vector<RepeatedStatement> out;
    for (const auto& s : shapes_)
        if (s.count > options_.threshold)
            out.push_back({s.sql, s.origin, s.count, options_.threshold});
    return out;
}

LOOM_DECL void NPlusOneGuard::finish() {
    if (finished_) return;
    finished_ = true;
    sub_.reset();
    if (options_.mode != NPlusOneMode::warn) return;
    for (const auto& r : repeated()) {
        if (options_.on_warning)
            options_.on_warning(r);
        else
            fmt::print(stderr, fmt::runtime("[loom] warning: {}\n"), r.message());
    }
}

LOOM_DECL void NPlusOneGuard::reset() {
    shapes_.clear();
    index_.clear();
}

LOOM_DECL void NPlusOneGuard::seen(const QueryEvent& e) {
    if (detail::is_transaction_control(e.sql) || (options_.reads_only && !e.read_only)) return;
    if (options_.ignore && options_.ignore(e)) return;
    std::string shape = statement_shape(e.sql);
    auto [it, fresh] = index_.try_emplace(shape, shapes_.size());
    if (fresh) shapes_.push_back({std::move(shape), {}, 0, 0});
    Shape& s = shapes_[it->second];
    if (e.scope != 0 && e.scope == s.last_scope) return;  // another chunk of the same step
    s.last_scope = e.scope;
    ++s.count;
    s.origin = e.origin;
    // A failed statement keeps its own error, and nothing is thrown while unwinding (a
    // rollback run by a destructor): the first error wins.
    if (s.count > options_.threshold && options_.mode == NPlusOneMode::raise && e.error.empty() &&
        std::uncaught_exceptions() == 0)
        throw NPlusOneDetected({s.sql, s.origin, s.count, options_.threshold});
}

}  // namespace loom
