// Router: which server a read runs on, for a Database given read replicas
// (Database::add_replica). The primary is the Database's own Session; each replica gets a
// Session of its own, opened at its first use, whose statements the primary's Session counts
// and shows to its listeners. See docs/engines.md, "Read replicas".
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../errors.hpp"
#include "config.hpp"
#include "session.hpp"
#include "std_light.hpp"  // std::chrono durations and clocks

namespace loom::detail {

class Router {
public:
    /// The replica server names, in the order they were added.
    std::vector<std::string> names() const;
    bool empty() const noexcept { return replicas_.empty(); }

    void add(Session& primary, std::string name, std::string url, std::string shown);

    /// While at least one guard is alive, a write (on the primary) keeps every later read on
    /// the primary until the last guard ends.
    void guard_begin(const Session& primary) noexcept {
        if (guards_++ == 0) guard_writes_ = primary.writes();
    }
    void guard_end() noexcept { --guards_; }
    void set_window(std::chrono::milliseconds w) noexcept { window_ = w; }
    void set_retry(std::chrono::milliseconds r) noexcept { retry_ = r; }

    /// What pick() chose: the session, and the replica's index (-1: the primary) when the
    /// choice was the router's own (a read that may move to another server if this one is
    /// unreachable), or -2 when the caller named the server.
    struct Pick {
        Session* session;
        int replica;
    };

    /// The server for one read: `server` names it ("primary" or a replica's name), or is empty
    /// to let the router choose: the primary inside a transaction, while reads must see this
    /// Database's writes (read-your-writes), or when no replica is reachable; else the next
    /// replica in turn.
    Pick pick(Session& primary, std::string_view server);

    /// Replica `k` failed (refused a connection, or lost it): its session is closed and the
    /// router sends reads elsewhere for the retry period, then connects again.
    void mark_down(std::size_t k);

    /// Runs `read(Session&)` on the server pick() chooses. A replica the router chose that
    /// turns out unreachable (ConnectionError) is marked down and the read runs again on the
    /// next choice (a read has no effect to undo); a server the caller named, or the primary,
    /// reports the error.
    /// `started`, when given and set by `read`, stops a retry (the read delivered rows).
    template <class F>
    decltype(auto) read(Session& primary, std::string_view server, F&& read,
                        const bool* started = nullptr) {
        for (;;) {
            const Pick p = pick(primary, server);
            if (p.replica < 0) return read(*p.session);
            try {
                return read(*p.session);
            } catch (const ConnectionError&) {
                if (started && *started) throw;
                mark_down(static_cast<std::size_t>(p.replica));
            }
        }
    }

private:
    struct Replica {
        std::string name;
        std::string url;
        std::string shown;  // the URL without its password
        std::unique_ptr<Session> session;
        std::chrono::steady_clock::time_point down_until;
    };

    bool must_read_primary(Session& primary) const;

    Session& open(Session& primary, Replica& r);

    std::vector<Replica> replicas_;
    std::size_t next_ = 0;
    int guards_ = 0;
    std::uint64_t guard_writes_ = 0;
    std::chrono::milliseconds window_{0};
    std::chrono::milliseconds retry_{5000};
};

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/router.hpp"
#endif
