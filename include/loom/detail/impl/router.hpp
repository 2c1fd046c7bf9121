// The definitions of router.hpp's functions (detail/config.hpp says where they are compiled).
#pragma once

#include "../engine/open.hpp"

namespace loom::detail {

LOOM_DECL std::vector<std::string> Router::names() const {
    std::vector<std::string> out;
    for (const auto& r : replicas_) out.push_back(r.name);
    return out;
}

LOOM_DECL void Router::add(Session& primary, std::string name, std::string url, std::string shown) {
    if (name.empty() || name == "primary")
        throw UsageError("add_replica: '" + name +
                         "' cannot name a replica (\"primary\" is the Database's own server)");
    for (const auto& r : replicas_)
        if (r.name == name)
            throw UsageError("add_replica: a replica named '" + name + "' was added already");
    (void)primary;
    replicas_.push_back(Replica{std::move(name), std::move(url), std::move(shown), nullptr, {}});
}

LOOM_DECL auto Router::pick(Session& primary, std::string_view server) -> Pick {
    if (!server.empty()) {
        if (server == "primary") return {&primary, -2};
        for (auto& r : replicas_)
            if (r.name == server) return {&open(primary, r), -2};
        std::string known = "\"primary\"";
        for (const auto& r : replicas_) known += ", \"" + r.name + "\"";
        throw UsageError("use(\"" + std::string(server) + "\"): this Database has no server " +
                         "of that name (it has " + known + ")");
    }
    if (replicas_.empty() || must_read_primary(primary)) return {&primary, -1};
    const auto now = std::chrono::steady_clock::now();
    for (std::size_t tried = 0; tried < replicas_.size(); ++tried) {
        const std::size_t k = next_++ % replicas_.size();
        Replica& r = replicas_[k];
        if (r.down_until > now) continue;
        try {
            return {&open(primary, r), static_cast<int>(k)};
        } catch (const CantOpenError&) {
            mark_down(k);
        } catch (const ConnectionError&) {
            mark_down(k);
        }
    }
    return {&primary, -1};
}

LOOM_DECL void Router::mark_down(std::size_t k) {
    replicas_[k].session.reset();
    replicas_[k].down_until = std::chrono::steady_clock::now() + retry_;
}

LOOM_DECL bool Router::must_read_primary(Session& primary) const {
    if (primary.depth() > 0 || primary.connection().in_transaction()) return true;
    if (guards_ > 0 && primary.writes() != guard_writes_) return true;
    return window_.count() > 0 && primary.writes() > 0 &&
           std::chrono::steady_clock::now() - primary.last_write() < window_;
}

LOOM_DECL Session& Router::open(Session& primary, Replica& r) {
    if (!r.session) {
        auto conn = engine::open(r.url, primary.options());
        if (conn->dialect().name != primary.dialect().name)
            throw UsageError("replica '" + r.name + "' (" + r.shown + ") is a " +
                             std::string(conn->dialect().name) + " database and the primary " +
                             std::string(primary.dialect().name) +
                             ": a replica must run the primary's engine");
        r.session =
            std::make_unique<Session>(std::move(conn), r.shown, primary.options(), primary, r.name);
        r.session->set_reopen(
            [url = r.url, o = primary.options()] { return engine::open(url, o); });
    }
    return *r.session;
}

}  // namespace loom::detail
