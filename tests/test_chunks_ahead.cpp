// chunks(n, loom::ahead): the next chunk loads on another thread, on a connection of its own,
// while the caller works on the current one. Each case compares with the same walk without
// loom::ahead on the same file: the rows, the statements (SQL, parameters, rows, origins, scopes,
// counts) in their order, the errors and when they are thrown. Real files in the temp directory;
// the case on test_url() runs on PostgreSQL too, where chunks load serially.
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"
#include "test_db.hpp"

#include <loom/profile.hpp>
#include <loom/testing.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace chunks_ahead_models {

/// Counts the objects alive (made on any thread): how many chunk buffers hold rows.
struct Live {
    static inline std::atomic<int> now{0}, peak{0};
    Live() { up(); }
    Live(const Live&) { up(); }
    Live(Live&&) noexcept { up(); }
    Live& operator=(const Live&) = default;
    Live& operator=(Live&&) noexcept = default;
    ~Live() { --now; }
    static void up() {
        const int n = ++now;
        int p = peak.load();
        while (n > p && !peak.compare_exchange_weak(p, n)) {
        }
    }
    static void reset() { peak = now.load(); }
};

struct Tally {
    std::int64_t id = 0;
    std::string name;
    Live live;  // not a column
};

constexpr auto loom_model(loom::model_of<Tally>) {
    return loom::table("cka_tally", loom::pk(&Tally::id), loom::field(&Tally::name, "name"));
}

}  // namespace chunks_ahead_models

namespace chunks_ahead_tests {

using chunks_ahead_models::Live;
using chunks_ahead_models::Tally;
using loom_test::has;
using loom_test::message_of;
using loom_test::TempFile;
using namespace shop;

/// Every statement as listeners see it.
struct Events {
    std::vector<std::string> sql, origins, serial, errors;
    std::vector<std::vector<loom::Value>> params;
    std::vector<std::int64_t> rows;
    std::vector<std::uint64_t> scopes;
    std::vector<int> connections;
    loom::Database::Subscription sub;
    explicit Events(loom::Database& db)
        : sub(db.on_query([this](const loom::QueryEvent& e) {
              sql.emplace_back(e.sql);
              origins.emplace_back(e.origin);
              serial.emplace_back(e.serial);
              errors.emplace_back(e.error);
              params.emplace_back(e.params.begin(), e.params.end());
              rows.push_back(e.rows);
              scopes.push_back(e.scope);
              connections.push_back(e.connection);
          })) {}
    /// Which statements share a scope: for each, the index of the first with its scope.
    std::vector<std::size_t> scope_shape() const {
        std::vector<std::size_t> out;
        for (std::size_t i = 0; i < scopes.size(); ++i) {
            std::size_t first = i;
            if (scopes[i] != 0)
                for (std::size_t j = 0; j < i; ++j)
                    if (scopes[j] == scopes[i]) {
                        first = j;
                        break;
                    }
            out.push_back(first);
        }
        return out;
    }
    /// What a serial walk and a walk ahead must agree on.
    void same_as(const Events& o) const {
        CHECK(sql == o.sql);
        CHECK(origins == o.origins);
        CHECK(params == o.params);
        CHECK(rows == o.rows);
        CHECK(errors == o.errors);
        CHECK(scope_shape() == o.scope_shape());
    }
};

/// An N+1 guard that only counts (warn mode, no output).
loom::NPlusOneOptions quiet_guard() {
    loom::NPlusOneOptions o;
    o.threshold = 2;
    o.mode = loom::NPlusOneMode::warn;
    o.on_warning = [](const loom::RepeatedStatement&) {};
    return o;
}

void seed(const std::string& path, bool wal) {
    loom::Options o;
    o.wal = wal;
    loom::Database db(path, o);
    db.create_tables<Publisher, Author, Book, Review>();
    seed_catalogue(db);
}

/// The chunks of a walk, each rendered.
template <class Range> std::vector<std::string> walk(Range&& chunks) {
    std::vector<std::string> out;
    for (std::vector<Book>& chunk : chunks) out.push_back(render(chunk));
    return out;
}

TEST_CASE("chunks ahead read what serial chunks read, with the same statements in the same order",
          "[chunks][ahead][sqlite]") {
    for (const bool wal : {true, false}) {
        INFO("WAL mode: " << wal);
        TempFile file(wal ? "cka_same_wal" : "cka_same_rollback");
        seed(file.path, wal);
        loom::Database serial(file.path);
        Events expected(serial);
        loom::Profile serial_profile(serial);
        const auto chunks = walk(every_level(serial).chunks(2));
        REQUIRE(chunks.size() == 3);
        CHECK(has(chunks[0],
                  "Good Omens | Gollancz | Terry Pratchett [Good Omens;Small Gods;The "
                  "Wee Free Men;] Neil Gaiman [Good Omens;American Gods;] | Funny. "
                  "Angels! | Funny."));
        // Per chunk: the base query, four sibling levels, then Author::books.
        CHECK(expected.sql.size() == 18);

        loom::Database db(file.path);
        Events ev(db);
        loom::NPlusOneGuard guard(db, quiet_guard());
        const auto ahead = loom::expect_queries(
            db, 18, [&] { return walk(every_level(db).chunks(2, loom::ahead)); });
        CHECK(ahead == chunks);
        ev.same_as(expected);
        CHECK(db.query_count() == 18);
        // The first chunk on the Database's connections, the others on the ahead connection
        // (prefetch_workers + 1 = 2) and its own worker (3).
        for (std::size_t i = 0; i < 18; ++i) {
            INFO("statement " << i << ": " << ev.origins[i]);
            if (i < 6)
                CHECK(ev.connections[i] <= 1);
            else
                CHECK(ev.connections[i] >= 2);
            CHECK(ev.serial[i].empty());
        }
        CHECK(ev.connections[6] == 2);  // a chunk's base query
        // The N+1 guard saw what it sees serially: the base query and each level, 3 times.
        loom::NPlusOneGuard serial_guard(serial, quiet_guard());
        walk(every_level(serial).chunks(2));
        const auto repeated = guard.repeated(), serial_repeated = serial_guard.repeated();
        REQUIRE(repeated.size() == serial_repeated.size());
        CHECK(repeated.size() == 5);
        for (std::size_t i = 0; i < repeated.size(); ++i) {
            CHECK(repeated[i].sql == serial_repeated[i].sql);
            CHECK(repeated[i].count == serial_repeated[i].count);
            CHECK(repeated[i].count == 3);
        }
    }
}

TEST_CASE("a sliced, reversed walk ahead reads the same rows", "[chunks][ahead][sqlite]") {
    TempFile file("cka_slice");
    seed(file.path, true);
    loom::Database serial(file.path), db(file.path);
    auto qs = [](loom::Database& d) {
        return d.objects<Book>()
            .order_by(loom::desc(&Book::year))
            .prefetch_related(&Book::authors)
            .slice(1, 5);
    };
    Events expected(serial), ev(db);
    const auto chunks = walk(qs(serial).chunks(1));
    CHECK(walk(qs(db).chunks(1, loom::ahead)) == chunks);
    REQUIRE(chunks.size() == 4);
    CHECK(chunks[0] == "American Gods | - | Neil Gaiman [] | | \n");
    CHECK(chunks[3] == "The Dispossessed | - | Ursula K. Le Guin [] | | \n");
    ev.same_as(expected);
    CHECK(ev.sql.size() == 8);
}

TEST_CASE("an error in the chunk loaded ahead is thrown when the caller advances to it",
          "[chunks][ahead][sqlite]") {
    TempFile file("cka_error");
    seed(file.path, true);
    {
        loom::Database fix(file.path);
        fix.execute("UPDATE review SET rating = 'lots' WHERE body = 'Om.'");  // Small Gods: 3rd
    }
    // Serially: the first chunk, then the second one's failure.
    loom::Database serial(file.path);
    Events expected(serial);
    std::string serial_message;
    {
        auto chunks = every_level(serial).chunks(2);
        auto it = chunks.begin();
        serial_message = message_of<loom::DataError>([&] { ++it; });
    }
    CHECK(has(serial_message, "rating"));

    loom::Database db(file.path);
    Events ev(db);
    auto chunks = every_level(db).chunks(2, loom::ahead);
    auto it = chunks.begin();
    std::vector<Book>& chunk = *it;
    const std::string first = render(chunk);
    CHECK(has(first,
              "The Dispossessed | Gollancz | Ursula K. Le Guin [The Dispossessed;] | "
              "Ambiguous. | Ambiguous."));
    // The second chunk failed on the other thread by now, or will: nothing shows yet.
    CHECK(ev.sql.size() == 6);
    CHECK(db.query_count() == 6);
    const std::string message = message_of<loom::DataError>([&] { ++it; });
    CHECK(message == serial_message);
    ev.same_as(expected);
    CHECK(ev.errors.back() == message);
    // The caller's chunk is intact, and the range is still on it.
    CHECK(render(chunk) == first);
    CHECK(&*it == &chunk);
    CHECK_FALSE(it == chunks.end());
    // Advancing again loads the second chunk again, on this thread: the same error.
    CHECK(message_of<loom::DataError>([&] { ++it; }) == message);
    // Repaired, the walk goes on from where it was.
    db.execute("UPDATE review SET rating = 5 WHERE body = 'Om.'");
    ++it;
    CHECK(has(render(*it), "Small Gods | Gollancz | Terry Pratchett"));
    ++it;
    CHECK(has(render(*it), "The Wee Free Men | Penguin"));
    ++it;
    CHECK(it == chunks.end());
}

TEST_CASE("abandoning a walk ahead joins the loading thread and drops what it read",
          "[chunks][ahead][sqlite]") {
    TempFile file("cka_abandon");
    seed(file.path, false);  // rollback journal: a reader's lock would keep a writer out
    loom::Database db(file.path);
    Events ev(db);
    {
        int seen = 0;
        for (std::vector<Book>& chunk : every_level(db).chunks(2, loom::ahead)) {
            seen += static_cast<int>(chunk.size());
            break;  // the second chunk is loading (or loaded) on the other thread
        }
        CHECK(seen == 2);
    }
    // Only the first chunk's statements are counted and reported: the second was dropped.
    CHECK(db.query_count() == 6);
    CHECK(ev.sql.size() == 6);
    // The ahead connection holds no lock any more: a writer that does not wait commits.
    loom::Options o;
    o.busy_timeout_ms = 0;
    loom::Database writer(file.path, o);
    writer.execute("UPDATE book SET title = 'Gods, Small' WHERE id = 3");
    CHECK(walk(every_level(db).chunks(2, loom::ahead)).at(1).starts_with("Gods, Small |"));
}

TEST_CASE("a walk ahead has two chunks in memory at most", "[chunks][ahead][sqlite]") {
    TempFile file("cka_two");
    {
        loom::Database db(file.path);
        db.create_tables<Tally>();
        db.transaction([&] {
            for (int i = 1; i <= 10; ++i) {
                Tally t;
                t.name = "t" + std::to_string(i);
                db.insert(t);
            }
        });
    }
    loom::Database db(file.path);
    auto peak_of = [&](auto&& chunks) {
        Live::reset();
        const int before = Live::now.load();
        std::vector<std::string> names;
        for (std::vector<Tally>& chunk : chunks)
            for (const Tally& t : chunk) names.push_back(t.name);
        CHECK(names.size() == 10);
        CHECK(names.back() == "t10");
        CHECK(Live::now.load() == before);
        return Live::peak.load() - before;
    };
    CHECK(peak_of(db.objects<Tally>().chunks(3)) == 3);
    // The caller's chunk and the one loaded ahead: 2 x 3 rows when it is taken.
    CHECK(peak_of(db.objects<Tally>().chunks(3, loom::ahead)) == 6);
    CHECK(peak_of(db.objects<Tally>().chunks(10, loom::ahead)) == 10);
}

TEST_CASE("with no second connection, chunks ahead load serially and say why", "[chunks][ahead]") {
    loom::Database db(test_url());
    db.create_tables<Publisher, Author, Book, Review>();
    seed_catalogue(db);
    const std::string why =
        on_engine("chunk not loaded ahead: a \":memory:\" database has no second connection",
                  "chunk not loaded ahead: the postgres engine has one connection per Database");
    Events expected(db);
    const auto chunks = walk(every_level(db).chunks(2));
    expected.sub.reset();
    Events ev(db);
    loom::Profile prof(db);
    CHECK(walk(every_level(db).chunks(2, loom::ahead)) == chunks);
    CHECK(chunks.size() == 3);
    CHECK(has(chunks[2], "The Wee Free Men | Penguin | Terry Pratchett"));
    ev.same_as(expected);
    // The second and third chunks' base queries say why.
    std::vector<std::string> notes;
    for (std::size_t i = 0; i < ev.serial.size(); ++i)
        if (ev.origins[i] == "Book" && !ev.serial[i].empty())
            notes.push_back(ev.origins[i] + ": " + ev.serial[i]);
    CHECK(notes == std::vector<std::string>{"Book: " + why, "Book: " + why});
    prof.stop();
    CHECK(has(prof.text(), "; " + why));
}

TEST_CASE("chunks ahead load serially where another connection would read otherwise",
          "[chunks][ahead][sqlite]") {
    TempFile file("cka_serial");
    seed(file.path, true);
    loom::Database db(file.path);
    Events ev(db);
    auto notes = [&] {
        std::vector<std::string> out;
        // The base queries' notes (sibling levels say why they ran one after another too).
        for (std::size_t i = 0; i < ev.serial.size(); ++i)
            if (ev.origins[i] == "Book" && !ev.serial[i].empty())
                out.push_back(ev.origins[i] + ": " + ev.serial[i]);
        return out;
    };

    SECTION("inside a transaction: its uncommitted writes are read") {
        std::vector<std::string> seen;
        db.transaction([&] {
            db.execute("UPDATE publisher SET name = 'Penguin (uncommitted)' WHERE name = ?",
                       "Penguin");
            seen = walk(every_level(db).chunks(2, loom::ahead));
        });
        CHECK(has(seen.at(1), "American Gods | Penguin (uncommitted) |"));
        const std::string why =
            "Book: chunk not loaded ahead: inside a transaction (another "
            "connection would not see its writes)";
        CHECK(notes() == std::vector<std::string>{why, why});
    }

    SECTION("a walk that writes: the next chunk is read again after the write, then serially") {
        std::vector<std::string> seen;
        for (std::vector<Book>& chunk : every_level(db).chunks(2, loom::ahead)) {
            seen.push_back(render(chunk));
            if (seen.size() == 1)  // the next chunk is loading ahead meanwhile
                db.execute("UPDATE book SET title = 'Gods, Small' WHERE id = 3");
        }
        REQUIRE(seen.size() == 3);
        CHECK(seen[1].starts_with("Gods, Small | Gollancz |"));
        const std::string why =
            "Book: chunk not loaded ahead: the walk writes to the database "
            "(a chunk loaded ahead could miss it)";
        CHECK(notes() == std::vector<std::string>{why, why});
        // 3 chunks of 6 statements and the UPDATE: the dropped load is not counted.
        CHECK(ev.sql.size() == 19);
        CHECK(db.query_count() == 19);
    }

    SECTION("a Prefetch of another Database: never used from the loading thread") {
        TempFile other_file("cka_other");
        seed(other_file.path, true);
        loom::Database other(other_file.path);
        other.execute("UPDATE review SET body = 'Elsewhere.' WHERE body = 'Om.'");
        Events other_ev(other);
        auto qs = db.objects<Book>().order_by(&Book::id).prefetch_related(
            loom::Prefetch(&Book::reviews, other.objects<Review>()).into(&Book::top_reviews));
        const auto chunks = walk(qs.chunks(2));
        const auto other_serial = other_ev.sql.size();
        CHECK(has(chunks.at(1), "Small Gods | - | | | Elsewhere."));
        CHECK(walk(qs.chunks(2, loom::ahead)) == chunks);
        CHECK(other_ev.sql.size() == 2 * other_serial);
        for (int c : other_ev.connections) CHECK(c <= 1);
        const std::string why =
            "Book: chunk not loaded ahead: a Prefetch reads another "
            "Database, which belongs to the caller's thread";
        CHECK(notes() == std::vector<std::string>{why, why});
    }

    SECTION("another connection holding the write lock: ahead all the same, on committed rows") {
        loom::Database writer(file.path);
        loom::Transaction tx(writer);
        writer.execute("UPDATE publisher SET name = 'Pending' WHERE name = 'Penguin'");
        const auto seen = walk(every_level(db).chunks(2, loom::ahead));
        CHECK(has(seen.at(1), "American Gods | Penguin |"));
        CHECK(notes().empty());
        CHECK(ev.connections.back() >= 2);
        tx.rollback();
    }
}

TEST_CASE("a walk ahead on a read replica reads every chunk there", "[chunks][ahead][sqlite]") {
    TempFile file("cka_replica");
    seed(file.path, true);
    loom::Database serial(file.path);
    Events expected(serial);
    const auto chunks = walk(every_level(serial).chunks(2));
    loom::Database db(file.path);
    db.add_replica("r1", file.path);
    std::vector<std::string> servers;
    auto sub = db.on_query([&](const loom::QueryEvent& e) { servers.emplace_back(e.server); });
    Events ev(db);
    CHECK(walk(every_level(db).chunks(2, loom::ahead)) == chunks);
    ev.same_as(expected);
    CHECK(servers == std::vector<std::string>(18, "r1"));
    CHECK(ev.connections.back() >= 2);  // the last chunk was loaded ahead
    CHECK(db.query_count() == 18);
}

TEST_CASE("a listener that throws at a chunk loaded ahead stops the walk there, as serially",
          "[chunks][ahead][sqlite]") {
    TempFile file("cka_listener");
    seed(file.path, true);
    // The listener throws at the second chunk's first level: the rest of its batch of sibling
    // levels ran (and is reported), Author::books does not run.
    auto run = [&](bool ahead) {
        loom::Database db(file.path);
        int calls = 0;
        auto sub = db.on_query([&](const loom::QueryEvent& e) {
            ++calls;
            if (e.origin == "prefetch Book::publisher" && calls > 6)
                throw std::runtime_error("listener says no");
        });
        auto chunks = ahead ? every_level(db).chunks(2, loom::ahead) : every_level(db).chunks(2);
        auto it = chunks.begin();
        CHECK(calls == 6);
        CHECK(message_of<std::runtime_error>([&] { ++it; }) == "listener says no");
        CHECK(db.query_count() == calls);
        return calls;
    };
    CHECK(run(false) == 11);
    CHECK(run(true) == 11);
}

}  // namespace chunks_ahead_tests
