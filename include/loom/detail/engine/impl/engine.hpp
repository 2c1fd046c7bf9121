// The definitions of engine.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

namespace loom::detail::engine {

LOOM_DECL void like_test(std::string_view lhs, std::string& value, bool lead, bool trail,
                         std::string& out) {
    std::string pattern;
    if (lead) pattern += '%';
    for (char c : value) {
        if (c == '%' || c == '_' || c == '\\') pattern += '\\';
        pattern += c;
    }
    if (trail) pattern += '%';
    value = std::move(pattern);
    out += "LOWER(";
    out += lhs;
    out += ") LIKE LOWER(?) ESCAPE '\\'";
}

LOOM_DECL std::string redacted_url(std::string url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return url;
    const auto at = url.find('@', scheme + 3);
    const auto slash = url.find('/', scheme + 3);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
        const auto colon = url.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
    for (auto pw = url.find("password="); pw != std::string::npos;
         pw = url.find("password=", pw + 12)) {
        const auto end = url.find_first_of("& ", pw);
        url.replace(pw + 9, (end == std::string::npos ? url.size() : end) - pw - 9, "***");
    }
    return url;
}

LOOM_DECL bool Connection::lost() const noexcept {
    return false;
}

LOOM_DECL void Connection::explicit_key_inserted(std::string_view table,
                                                 std::string_view key_column, std::int64_t key) {
    (void)table;
    (void)key_column;
    (void)key;
}

LOOM_DECL std::unique_ptr<Connection> Connection::open_reader(int busy_timeout_ms) {
    (void)busy_timeout_ms;
    return nullptr;
}

LOOM_DECL std::size_t Connection::begin_shared_snapshot(std::span<Connection* const> readers,
                                                        std::string& why) {
    exec(std::string(begin_snapshot_sql()));
    if (!readers.empty()) why = "this engine shares no snapshot between connections";
    return 0;
}

LOOM_DECL std::int64_t Connection::round_trips() const noexcept {
    return 0;
}

LOOM_DECL bool Connection::runs_together() const noexcept {
    return false;
}

LOOM_DECL bool Connection::run_together(std::span<Statement* const> statements,
                                        std::span<std::chrono::steady_clock::time_point> ready) {
    (void)statements;
    (void)ready;
    return false;
}

}  // namespace loom::detail::engine
