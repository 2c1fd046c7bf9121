// Read replicas (issue 19): reads outside a transaction go to the replicas in turn, writes and
// transactions to the primary, use() names the server, read-your-writes keeps reads on the
// primary after a write, a replica that is down is skipped. The routing cases run on both
// engines with "replicas" that are second connections to the test's own database (a replica
// with no lag); the [postgres] cases use a real streaming replica (LOOM_TEST_PG_REPLICA_URL,
// started by scripts/pg.sh) and are skipped without one.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/log.hpp>
#include <loom/testing.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace replicas_test {

using loom_test::has;
using loom_test::message_of;
using shop::Author;
using shop::Book;
using shop::Publisher;

/// Which server ran each statement (QueryEvent::server) while it lives.
class Servers {
public:
    explicit Servers(loom::Database& db)
        : sub_(db.on_query([this](const loom::QueryEvent& e) {
              seen.emplace_back(e.server);
              scopes.push_back(e.scope);
          })) {}
    /// Statements each server ran.
    std::map<std::string, int> counts() const {
        std::map<std::string, int> out;
        for (const auto& s : seen) ++out[s];
        return out;
    }
    void clear() {
        seen.clear();
        scopes.clear();
    }
    std::vector<std::string> seen;
    std::vector<std::uint64_t> scopes;

private:
    loom::Database::Subscription sub_;
};

using Counts = std::map<std::string, int>;

/// One database reachable through two connection strings: on SQLite a file, on PostgreSQL the
/// test's schema (a second connection to it is a replica with no lag).
struct Shared {
    Shared() : file("replicas"), url(on_postgres() ? test_url() : file.path) {}
    loom_test::TempFile file;
    std::string url;
};

/// A few rows: 2 publishers, 3 books, 2 authors.
void fill(loom::Database& db) {
    Publisher p1{.name = "Gollancz"}, p2{.name = "Ace"};
    db.insert(p1);
    db.insert(p2);
    Author a1{.name = "Herbert"}, a2{.name = "Le Guin"};
    db.insert(a1);
    db.insert(a2);
    Book b1{.title = "Dune", .year = 1965}, b2{.title = "Earthsea", .year = 1968},
        b3{.title = "Lathe", .year = 1971};
    b1.publisher = p1;
    b2.publisher = p2;
    b3.publisher = p2;
    db.insert(b1);
    db.insert(b2);
    db.insert(b3);
    db.m2m(b1, &Book::authors).add(a1);
    db.m2m(b2, &Book::authors).add(a2);
    db.m2m(b3, &Book::authors).add(a2);
}

TEST_CASE("Reads outside a transaction go to the replicas in turn, writes to the primary",
          "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    db.add_replica("r2", s.url);
    CHECK(db.replica_names() == std::vector<std::string>{"r1", "r2"});
    Servers servers(db);
    const loom_test::Queries q(db);

    CHECK(db.objects<Book>().count() == 3);
    CHECK(db.objects<Book>().to_vector().size() == 3);
    CHECK(db.objects<Book>().filter(loom::col(&Book::year) > 1966).exists());
    CHECK(db.objects<Book>().get(loom::col(&Book::title) == "Dune").year == 1965);
    CHECK(servers.seen == std::vector<std::string>{"r1", "r2", "r1", "r2"});
    CHECK(q() == 4);  // query_count() counts every server's statements

    servers.clear();
    Publisher p{.name = "Tor"};
    db.insert(p);
    CHECK(db.objects<Publisher>()
              .filter(loom::col(&Publisher::name) == "Tor")
              .update(loom::set(&Publisher::name, "Tor Books")) == 1);
    CHECK(servers.counts() == Counts{{"primary", 2}});
    // The replica is the same database here: it sees the write at once.
    CHECK(db.objects<Publisher>().filter(loom::col(&Publisher::name) == "Tor Books").count() == 1);
    CHECK(servers.seen.back() == "r1");
}

TEST_CASE("A replica's prefetch levels read the same replica and snapshot as the base query",
          "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    db.add_replica("r2", s.url);
    Servers servers(db);
    const auto books = db.objects<Book>()
                           .prefetch_related(&Book::publisher, &Book::authors)
                           .order_by(&Book::id)
                           .to_vector();
    REQUIRE(books.size() == 3);
    CHECK(books[0].publisher->name == "Gollancz");
    CHECK(books[2].authors.size() == 1);
    CHECK(books[2].authors.front().name == "Le Guin");
    // The base query and both levels, all on r1 (the snapshot's BEGIN is not a statement
    // listeners see); the next evaluation goes to r2, whole.
    CHECK(servers.seen == std::vector<std::string>{"r1", "r1", "r1"});
    servers.clear();
    const auto first = db.objects<Book>().prefetch_related(&Book::reviews).first();
    CHECK(first.has_value());
    CHECK(servers.seen == std::vector<std::string>{"r2", "r2"});
    // A Prefetch QuerySet of the same Database follows its parents too.
    servers.clear();
    const auto pubs =
        db.objects<Publisher>()
            .prefetch_related(loom::Prefetch(
                &Publisher::books, db.objects<Book>().filter(loom::col(&Book::year) < 1970)))
            .to_vector();
    CHECK(pubs.size() == 2);
    CHECK(servers.seen == std::vector<std::string>{"r1", "r1"});
    // chunks(n): every chunk on the server the first was routed to.
    servers.clear();
    std::size_t rows = 0;
    for (auto& chunk : db.objects<Book>().prefetch_related(&Book::publisher).chunks(2))
        rows += chunk.size();
    CHECK(rows == 3);
    CHECK(servers.counts() == Counts{{"r2", 4}});
}

TEST_CASE("Inside a transaction every read goes to the primary", "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    Servers servers(db);
    {
        loom::Transaction tx(db);
        Publisher p{.name = "Tor"};
        db.insert(p);
        // The transaction's own row: only the primary's connection sees it.
        CHECK(db.objects<Publisher>().count() == 3);
        CHECK(db.objects<Book>().prefetch_related(&Book::authors).to_vector().size() == 3);
        tx.rollback();
    }
    CHECK(servers.counts() == Counts{{"primary", 6}});  // BEGIN, INSERT, 3 reads, ROLLBACK
    servers.clear();
    db.transaction([&] { CHECK(db.objects<Publisher>().count() == 2); });
    CHECK(servers.counts() == Counts{{"primary", 3}});
    servers.clear();
    CHECK(db.objects<Publisher>().count() == 2);
    CHECK(servers.seen == std::vector<std::string>{"r1"});
}

TEST_CASE("use() names the server a QuerySet runs on", "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    db.add_replica("r2", s.url);
    Servers servers(db);

    const auto on_primary = db.objects<Book>().use(loom::primary);
    CHECK(on_primary.server() == "primary");
    CHECK(on_primary.filter(loom::col(&Book::year) > 1966).count() == 2);  // kept by filter()
    CHECK(db.objects<Book>().use("r2").prefetch_related(&Book::publisher).to_vector().size() == 3);
    CHECK(db.objects<Book>().use("r2").values_list(&Book::title).size() == 3);
    CHECK(servers.seen == std::vector<std::string>{"primary", "r2", "r2", "r2"});
    servers.clear();
    {
        loom::Transaction tx(db);
        CHECK(db.objects<Book>().use("r1").count() == 3);  // named: even in a transaction
        CHECK(db.objects<Book>().count() == 3);
    }
    CHECK(servers.seen == std::vector<std::string>{"primary", "r1", "primary", "primary"});

    const auto msg =
        message_of<loom::UsageError>([&] { (void)db.objects<Book>().use("r9").count(); });
    CHECK(msg ==
          "use(\"r9\"): this Database has no server of that name (it has \"primary\", "
          "\"r1\", \"r2\")");
    CHECK(message_of<loom::UsageError>([&] { db.add_replica("r1", s.url); }) ==
          "add_replica: a replica named 'r1' was added already");
    CHECK(has(message_of<loom::UsageError>([&] { db.add_replica("primary", s.url); }),
              "\"primary\" is the Database's own server"));
}

TEST_CASE("The query log names the replica that ran a statement", "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    std::vector<std::string> lines;
    {
        auto log = loom::log_queries(db, [&](std::string_view l) { lines.emplace_back(l); });
        (void)db.objects<Book>().count();
        (void)db.objects<Book>().use(loom::primary).count();
    }
    REQUIRE(lines.size() == 2);
    CHECK(has(lines[0], "1 row [Book @r1] SELECT COUNT(*)"));
    CHECK(has(lines[1], "1 row [Book] SELECT COUNT(*)"));
}

TEST_CASE("Without replicas every statement runs on the primary", "[replicas]") {
    loom::Database db(test_url());
    shop::create_all(db);
    fill(db);
    Servers servers(db);
    CHECK(db.objects<Book>().prefetch_related(&Book::authors).to_vector().size() == 3);
    CHECK(db.objects<Book>().use(loom::primary).count() == 3);
    CHECK(servers.counts() == Counts{{"primary", 3}});
    CHECK(db.replica_names().empty());
}

TEST_CASE("read_your_writes(): after a write, reads stay on the primary until the guard ends",
          "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    Servers servers(db);
    {
        auto ryw = db.read_your_writes();
        CHECK(db.objects<Book>().count() == 3);  // no write yet: the replica
        Publisher p{.name = "Tor"};
        db.insert(p);
        CHECK(db.objects<Publisher>().count() == 3);
        {
            auto inner = db.read_your_writes();  // nested: the outer guard's write counts
            CHECK(db.objects<Publisher>().count() == 3);
        }
        CHECK(db.objects<Publisher>().use("r1").count() == 3);  // use() still wins
        CHECK(db.objects<Publisher>().count() == 3);
    }
    CHECK(db.objects<Publisher>().count() == 3);
    CHECK(servers.seen ==
          std::vector<std::string>{"r1", "primary", "primary", "primary", "r1", "primary", "r1"});
}

TEST_CASE("A read-your-writes window keeps reads on the primary for a while after a write",
          "[replicas]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("r1", s.url);
    Servers servers(db);
    db.set_read_your_writes_window(std::chrono::hours(1));
    CHECK(db.objects<Book>().count() == 3);  // fill() wrote just now
    db.set_read_your_writes_window(std::chrono::milliseconds(0));
    CHECK(db.objects<Book>().count() == 3);
    CHECK(servers.seen == std::vector<std::string>{"primary", "r1"});
}

/// A connection string whose server cannot be reached.
std::string unreachable() {
    return on_postgres()
               ? "postgresql://loom@/postgres?host=/nonexistent-loom-dir&connect_timeout=2"
               : "/nonexistent-loom-dir/replica.db";
}

TEST_CASE("A replica that cannot be reached is skipped; named with use(), it is an error",
          "[replicas][errors]") {
    Shared s;
    loom::Database db(s.url);
    shop::create_all(db);
    fill(db);
    db.add_replica("down", unreachable());  // connected at its first read
    db.add_replica("up", s.url);
    Servers servers(db);
    CHECK(db.objects<Book>().count() == 3);
    CHECK(db.objects<Book>().count() == 3);
    CHECK(servers.seen == std::vector<std::string>{"up", "up"});
    // Named: the error, typed, not another server's rows.
    CHECK_THROWS_AS((void)db.objects<Book>().use("down").count(), loom::CantOpenError);

    servers.clear();
    loom::Database alone(s.url);
    alone.add_replica("down", unreachable());
    Servers seen_alone(alone);
    CHECK(alone.objects<Book>().count() == 3);  // no replica left: the primary
    CHECK(seen_alone.seen == std::vector<std::string>{"primary"});
}

// ---- a real streaming replica (PostgreSQL) ------------------------------------------------

/// LOOM_TEST_PG_REPLICA_URL with the search path of `primary_url` (a test schema), or "".
std::string replica_url(const std::string& primary_url, const std::string& app = {}) {
    const char* base = std::getenv("LOOM_TEST_PG_REPLICA_URL");
    if (!base || !*base) return {};
    std::string url = base;
    const auto opt = primary_url.find("options=");
    if (opt != std::string::npos)
        url += (url.find('?') == std::string::npos ? "?" : "&") + primary_url.substr(opt);
    if (!app.empty()) url += "&application_name=" + app;
    return url;
}

/// Waits until the replica has replayed everything the primary wrote so far (the primary's
/// current WAL position): a wait for a state, not a timed assertion.
void wait_for_replica(loom::Database& primary, loom::Database& replica) {
    const auto lsn = primary.query<std::string>("SELECT pg_current_wal_insert_lsn()::text").at(0);
    for (int i = 0; i < 3000; ++i) {
        if (replica.query<std::int64_t>("SELECT (pg_last_wal_replay_lsn() >= ?::pg_lsn)::int", lsn)
                .at(0))
            return;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    FAIL("the replica did not catch up with the primary within 6 s");
}

/// The set-up of the [postgres] cases: a test schema on the primary, created and filled (fill),
/// and a direct connection to the streaming replica once it has replayed it. `rurl` is the
/// replica's URL for add_replica (application_name `app`, when given). Without
/// LOOM_TEST_PG_REPLICA_URL it warns and skip() is true: the case returns.
struct Streaming {
    explicit Streaming(const std::string& app = {}) : url(test_url()), rurl(replica_url(url, app)) {
        if (rurl.empty()) {
            WARN("LOOM_TEST_PG_REPLICA_URL is not set: no streaming replica to test");
            return;
        }
        db.emplace(url);
        shop::create_all(*db);
        fill(*db);
        direct.emplace(replica_url(url));
        wait_for_replica(*db, *direct);
    }
    bool skip() const { return !db; }

    std::string url, rurl;
    std::optional<loom::Database> db;      // the primary
    std::optional<loom::Database> direct;  // the replica, read directly
};

TEST_CASE("PostgreSQL: a streaming replica serves reads and refuses writes",
          "[postgres][replicas]") {
    Streaming s;
    if (s.skip()) return;
    auto& db = *s.db;
    CHECK(s.direct->query<std::int64_t>("SELECT pg_is_in_recovery()::int").at(0) == 1);

    db.add_replica("standby", s.rurl);
    Servers servers(db);
    const auto books = db.objects<Book>()
                           .prefetch_related(&Book::publisher, &Book::authors)
                           .order_by(&Book::id)
                           .to_vector();
    REQUIRE(books.size() == 3);
    CHECK(books[1].authors.front().name == "Le Guin");
    CHECK(servers.counts() == Counts{{"standby", 3}});

    // A write sent to the replica: the server refuses it, typed; nothing changed.
    const auto msg = message_of<loom::ReadOnlyError>([&] {
        (void)db.objects<Publisher>().use("standby").update(loom::set(&Publisher::name, "X"));
    });
    CHECK(has(msg, "read-only"));
    CHECK(has(msg, "send writes to the primary"));
    CHECK(db.objects<Publisher>()
              .use(loom::primary)
              .filter(loom::col(&Publisher::name) == "X")
              .count() == 0);
}

TEST_CASE("PostgreSQL: replica lag, with and without read-your-writes", "[postgres][replicas]") {
    Streaming s;
    if (s.skip()) return;
    auto& db = *s.db;
    auto& direct = *s.direct;
    db.add_replica("standby", s.rurl);
    Servers servers(db);
    {
        auto ryw = db.read_your_writes();
        Publisher p{.name = "Tor"};
        db.insert(p);
        // Guaranteed: the primary answers, and has the row.
        CHECK(db.objects<Publisher>().filter(loom::col(&Publisher::name) == "Tor").count() == 1);
        CHECK(servers.seen.back() == "primary");
    }
    Publisher q{.name = "Orbit"};
    db.insert(q);
    // Without it the replica answers; it may or may not have replayed the insert yet.
    const auto n = db.objects<Publisher>().filter(loom::col(&Publisher::name) == "Orbit").count();
    CHECK((n == 0 || n == 1));
    CHECK(servers.seen.back() == "standby");
    // Once it has caught up it has the row.
    wait_for_replica(db, direct);
    CHECK(db.objects<Publisher>().filter(loom::col(&Publisher::name) == "Orbit").count() == 1);
    CHECK(servers.seen.back() == "standby");
}

TEST_CASE("PostgreSQL: a replica connection lost between reads: the read moves to the primary",
          "[postgres][replicas][errors]") {
    const std::string app = "loom_lost_" + std::to_string(::getpid());
    Streaming s(app);
    if (s.skip()) return;
    auto& db = *s.db;
    auto& direct = *s.direct;
    db.add_replica("standby", s.rurl);
    db.set_replica_retry(std::chrono::hours(1));
    Servers servers(db);
    CHECK(db.objects<Book>().count() == 3);
    CHECK(direct.query<std::int64_t>("SELECT pg_terminate_backend(pid)::int FROM pg_stat_activity "
                                     "WHERE application_name = ?",
                                     app) == std::vector<std::int64_t>{1});
    // The routed read finds the connection gone, leaves the replica out and reads the primary.
    CHECK(db.objects<Book>().prefetch_related(&Book::authors).to_vector().size() == 3);
    CHECK(servers.seen.front() == "standby");
    CHECK(servers.seen.back() == "primary");
    CHECK(db.objects<Book>().count() == 3);
    CHECK(servers.seen.back() == "primary");
    // Named, the lost connection is the error (after the router dropped it, a new one).
    servers.clear();
    CHECK(db.objects<Book>().use("standby").count() == 3);
    CHECK(servers.seen == std::vector<std::string>{"standby"});
}

/// Not a test: prints the replica's lag (insert on the primary, poll the replica until the row
/// is there), for docs/engines.md. Runs only when LOOM_MEASURE_REPLICA_LAG is set (a filter
/// that names the file would pick a hidden case too):
///     LOOM_MEASURE_REPLICA_LAG=1 LOOM_TEST_ENGINE=postgres loom_tests "[lag]"
TEST_CASE("PostgreSQL: measure replica lag", "[.lag][postgres]") {
    if (!std::getenv("LOOM_MEASURE_REPLICA_LAG")) return;
    Streaming s;
    if (s.skip()) return;
    auto& db = *s.db;
    auto& replica = *s.direct;
    int n = 0;
    // The test cluster runs with synchronous_commit = off (WAL reaches the replica when the WAL
    // writer flushes it, every wal_writer_delay = 200 ms); on is PostgreSQL's default.
    for (const char* mode : {"off", "on"}) {
        db.execute(std::string("SET synchronous_commit = ") + mode);
        std::vector<double> ms;
        for (int i = 0; i < 50; ++i) {
            Publisher p{.name = "lag" + std::to_string(n++)};
            db.insert(p);
            const auto t0 = std::chrono::steady_clock::now();
            while (replica.query<std::int64_t>("SELECT count(*) FROM publisher WHERE id = ?", p.id)
                       .at(0) == 0) {
            }
            ms.push_back(
                std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                    .count());
        }
        std::sort(ms.begin(), ms.end());
        WARN("synchronous_commit = " << mode << ": replica lag over 50 inserts: min " << ms.front()
                                     << " ms, median " << ms[25] << " ms, max " << ms.back()
                                     << " ms");
    }
}

}  // namespace replicas_test
