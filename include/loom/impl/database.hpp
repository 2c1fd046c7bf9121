// The definitions of database.hpp's non-template members (detail/config.hpp: where compiled).
#pragma once

namespace loom {

LOOM_DECL Database::Database(const std::string& path, Options options)
    : session_(detail::engine::open(path, options), shown_path(path), options) {
    session_.set_reopen([this, path] { return detail::engine::open(path, session_.options()); });
}

LOOM_DECL Database::~Database() = default;

LOOM_DECL Database::Subscription::Subscription(Subscription&& o) noexcept
    : s_(std::exchange(o.s_, nullptr)), id_(o.id_) {}

LOOM_DECL auto Database::Subscription::operator=(Subscription&& o) noexcept -> Subscription& {
    if (this != &o) {
        reset();
        s_ = std::exchange(o.s_, nullptr);
        id_ = o.id_;
    }
    return *this;
}

LOOM_DECL Database::Subscription::~Subscription() {
    reset();
}

LOOM_DECL void Database::Subscription::reset() {
    if (s_) s_->remove_listener(id_);
    s_ = nullptr;
}

LOOM_DECL Database::Subscription::Subscription(detail::Session* s, std::uint64_t id)
    : s_(s), id_(id) {}

LOOM_DECL auto Database::on_query(QueryListener listener) -> Subscription {
    return Subscription(&session_, session_.add_listener(std::move(listener)));
}

LOOM_DECL void Database::set_query_hook(QueryListener hook) {
    session_.set_hook(std::move(hook));
}

LOOM_DECL void Database::add_replica(std::string name, const std::string& url) {
    router_.add(session_, std::move(name), url, shown_path(url));
}

LOOM_DECL std::vector<std::string> Database::replica_names() const {
    return router_.names();
}

LOOM_DECL Database::ReadYourWrites::ReadYourWrites(ReadYourWrites&& o) noexcept
    : r_(std::exchange(o.r_, nullptr)) {}

LOOM_DECL Database::ReadYourWrites::~ReadYourWrites() {
    if (r_) r_->guard_end();
}

LOOM_DECL Database::ReadYourWrites::ReadYourWrites(detail::Router& r, const detail::Session& s)
    : r_(&r) {
    r.guard_begin(s);
}

LOOM_DECL auto Database::read_your_writes() -> ReadYourWrites {
    return ReadYourWrites(router_, session_);
}

LOOM_DECL std::string Database::shown_path(const std::string& path) {
    if (!detail::engine::is_postgres_url(path)) return path;
    std::string url = path;
    const auto scheme = url.find("://"), at = url.find('@');
    if (at != std::string::npos && at > scheme) {
        const auto colon = url.find(':', scheme + 3);
        if (colon != std::string::npos && colon < at) url.replace(colon + 1, at - colon - 1, "***");
    }
    if (const auto pw = url.find("password="); pw != std::string::npos) {
        const auto end = url.find_first_of("& ", pw);
        url.replace(pw + 9, (end == std::string::npos ? url.size() : end) - pw - 9, "***");
    }
    return url;
}

}  // namespace loom
