// Prefetch levels at the same time (Options::prefetch_workers): on a SQLite file, the levels
// of one batch (siblings: they depend only on rows already loaded) run on worker connections
// beside the Database's own, on the snapshot of the base query. Each case compares with the
// serial run (prefetch_workers = 0) on the same file, counts the statements exactly, and
// checks which connection ran them. Real files in the temp directory; every case is SQLite
// only (PostgreSQL runs the batch serially today).
#include "catch.hpp"
#include "models.hpp"
#include "support.hpp"

#include <loom/profile.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace prefetch_parallel_models {

struct Item;

struct Shelf {
    std::int64_t id = 0;
    std::string name;
    loom::Reverse<Item> items;
    std::int64_t item_count = -1;
};

struct Item {
    std::int64_t id = 0;
    std::string name;
    loom::ForeignKey<Shelf> shelf;
};

constexpr auto loom_model(loom::model_of<Shelf>) {
    return loom::table("ppl_shelf", loom::pk(&Shelf::id), loom::field(&Shelf::name, "name"),
                       loom::reverse(&Shelf::items, &Item::shelf));
}
constexpr auto loom_model(loom::model_of<Item>) {
    return loom::table("ppl_item", loom::pk(&Item::id), loom::field(&Item::name, "name"),
                       loom::foreign_key(&Item::shelf, "shelf_id"));
}

}  // namespace prefetch_parallel_models

namespace prefetch_parallel_tests {

using loom_test::message_of;
using loom_test::TempFile;
using prefetch_parallel_models::Item;
using prefetch_parallel_models::Shelf;
using namespace shop;

loom::Options serial_options() {
    loom::Options o;
    o.prefetch_workers = 0;
    return o;
}

loom::Options wal_options(std::size_t workers = 2) {
    loom::Options o;
    o.wal = true;
    o.prefetch_workers = workers;
    return o;
}

/// Every statement: origin, connection, serial note.
struct Events {
    std::vector<std::string> origins;
    std::vector<int> connections;
    std::vector<std::string> serial;
    std::vector<std::string> errors;
    loom::Database::Subscription sub;
    explicit Events(loom::Database& db)
        : sub(db.on_query([this](const loom::QueryEvent& e) {
              origins.emplace_back(e.origin);
              connections.push_back(e.connection);
              serial.emplace_back(e.serial);
              errors.emplace_back(e.error);
          })) {}
    bool on_workers() const {
        for (int c : connections)
            if (c > 0) return true;
        return false;
    }
};

/// The catalogue in a file (WAL mode when `wal`), shelves and items too.
void seed(const std::string& path, bool wal) {
    loom::Options o;
    o.wal = wal;
    loom::Database db(path, o);
    db.create_tables<Publisher, Author, Book, Review, Shelf, Item>();
    seed_catalogue(db);
    db.transaction([&] {
        for (int s = 1; s <= 3; ++s) {
            Shelf shelf;
            shelf.name = "shelf " + std::to_string(s);
            db.insert(shelf);
            for (int i = 1; i < s; ++i) {
                Item it;
                it.name = shelf.name + " item " + std::to_string(i);
                it.shelf = shelf;
                db.insert(it);
            }
        }
    });
}

TEST_CASE("sibling levels run on worker connections with the same results as serially",
          "[prefetch][parallel][sqlite]") {
    for (const bool wal : {true, false}) {
        INFO("WAL mode: " << wal);
        TempFile file(wal ? "ppl_same_wal" : "ppl_same_rollback");
        seed(file.path, wal);
        loom::Database serial(file.path, serial_options());
        const std::string expected = render(every_level(serial).to_vector());
        CHECK(loom_test::has(
            expected,
            "Good Omens | Gollancz | Terry Pratchett [Good Omens;Small Gods;The Wee Free Men;]"));

        loom::Options o;
        o.wal = wal;
        loom::Database db(file.path, o);
        Events ev(db);
        loom_test::Queries q(db);
        const auto books = every_level(db).to_vector();
        CHECK(render(books) == expected);
        // The base query, then four levels in one batch, then Author::books.
        CHECK(q() == 6);
        CHECK(ev.origins ==
              std::vector<std::string>{"Book", "prefetch Book::publisher", "prefetch Book::reviews",
                                       "prefetch Book::authors", "prefetch Book::reviews",
                                       "prefetch Author::books"});
        CHECK(ev.on_workers());
        CHECK(ev.connections.front() == 0);
        CHECK(ev.connections.back() == 0);  // alone in its batch
        for (const auto& s : ev.serial) CHECK(s.empty());
        CHECK(db.query_count() == 6);
    }
}

TEST_CASE("annotate_count, a reverse ForeignKey and a forward one run side by side",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_counts");
    seed(file.path, true);
    auto run = [&](loom::Database& db) {
        std::string out;
        for (const Shelf& s : db.objects<Shelf>()
                                  .order_by(&Shelf::id)
                                  .annotate_count(&Shelf::items, &Shelf::item_count)
                                  .prefetch_related(&Shelf::items)
                                  .to_vector()) {
            out += s.name + " " + std::to_string(s.item_count) + ":";
            for (const Item& i : s.items) out += " " + i.name;
            out += "\n";
        }
        for (const Item& i :
             db.objects<Item>().order_by(&Item::id).prefetch_related(&Item::shelf).to_vector())
            out += i.name + " on " + i.shelf->name + "\n";
        return out;
    };
    loom::Database serial(file.path, serial_options());
    loom::Database db(file.path, wal_options());
    Events ev(db);
    const std::string expected = run(serial);
    CHECK(expected ==
          "shelf 1 0:\nshelf 2 1: shelf 2 item 1\nshelf 3 2: shelf 3 item 1 shelf 3 item 2\n"
          "shelf 2 item 1 on shelf 2\nshelf 3 item 1 on shelf 3\nshelf 3 item 2 on shelf 3\n");
    CHECK(run(db) == expected);
    CHECK(ev.origins == std::vector<std::string>{"Shelf", "count Shelf::items",
                                                 "prefetch Shelf::items", "Item",
                                                 "prefetch Item::shelf"});
    CHECK(ev.on_workers());
}

TEST_CASE("prefetch_related_objects runs a batch on worker connections in one snapshot",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_objects");
    seed(file.path, true);
    loom::Database serial(file.path, serial_options());
    auto expected_books = serial.objects<Book>().order_by(&Book::id).to_vector();
    loom::prefetch_related_objects(serial, expected_books, &Book::publisher, &Book::authors,
                                   &Book::reviews);

    loom::Database db(file.path, wal_options());
    auto books = db.objects<Book>().order_by(&Book::id).to_vector();
    Events ev(db);
    loom::prefetch_related_objects(db, books, &Book::publisher, &Book::authors, &Book::reviews);
    CHECK(render(books) == render(expected_books));
    CHECK(ev.origins.size() == 3);
    CHECK(ev.on_workers());
    CHECK(db.worker_connections() == 2);
}

TEST_CASE("with the pool off, or on :memory:, or inside a transaction, levels run serially",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_serial");
    seed(file.path, true);
    SECTION("prefetch_workers = 0: nothing to report") {
        loom::Database db(file.path, serial_options());
        Events ev(db);
        const auto books = every_level(db).to_vector();
        CHECK(ev.origins.size() == 6);
        CHECK_FALSE(ev.on_workers());
        for (const auto& s : ev.serial) CHECK(s.empty());
        CHECK(db.worker_connections() == 0);
    }
    SECTION(":memory: has no worker connections") {
        loom::Database db(":memory:");
        db.create_tables<Publisher, Author, Book, Review>();
        seed_catalogue(db);
        Events ev(db);
        const auto books = every_level(db).to_vector();
        CHECK(ev.origins.size() == 6);
        CHECK_FALSE(ev.on_workers());
        for (const auto& s : ev.serial) CHECK(s.empty());
        CHECK(db.worker_connections() == 0);
    }
    SECTION("inside a transaction with uncommitted writes: serial, and the profile says why") {
        loom::Database db(file.path, wal_options());
        loom::Profile prof(db);
        Events ev(db);
        std::string seen;
        db.transaction([&] {
            db.execute("UPDATE publisher SET name = 'Gollancz (uncommitted)' WHERE name = ?",
                       "Gollancz");
            seen = render(every_level(db).to_vector());
        });
        CHECK(loom_test::has(seen, "Good Omens | Gollancz (uncommitted) |"));
        CHECK_FALSE(ev.on_workers());
        CHECK(ev.serial.at(3) ==
              "inside a transaction (worker connections would not see its writes)");
        CHECK(loom_test::has(prof.text(),
                             "prefetch levels ran one after another: inside a "
                             "transaction"));
    }
}

TEST_CASE("the levels read the base query's snapshot, whatever another connection commits",
          "[prefetch][parallel][sqlite]") {
    for (const bool wal : {true, false}) {
        INFO("WAL mode: " << wal);
        TempFile file(wal ? "ppl_snap_wal" : "ppl_snap_rollback");
        seed(file.path, wal);
        loom::Database serial(file.path, serial_options());
        const std::string before = render(every_level(serial).to_vector());

        loom::Options wo;
        wo.busy_timeout_ms = 0;  // a writer that cannot commit says so at once
        loom::Database writer(file.path, wo);
        loom::Options o;
        o.wal = wal;
        loom::Database db(file.path, o);

        int committed = 0, refused = 0;
        auto write = [&](const std::string& name) {
            try {
                writer.transaction([&] {
                    writer.execute("UPDATE publisher SET name = ? WHERE id = 1", name);
                    writer.execute("UPDATE book SET title = ? WHERE id = 3", name);
                    writer.execute("DELETE FROM review WHERE body = 'Funny.' OR body = ?", name);
                });
                ++committed;
            } catch (const loom::BusyError&) {
                ++refused;
            }
        };
        // Between the base query and the levels: the listener runs after the base query.
        // During them: after the first batch, before the nested level (Author::books).
        Events ev(db);
        auto sub = db.on_query([&](const loom::QueryEvent& e) {
            if (e.origin == "Book") write("Between");
            if (e.origin == "prefetch Book::authors") write("During");
        });
        const std::string seen = render(every_level(db).to_vector());
        CHECK(seen == before);
        CHECK(ev.on_workers());
        if (wal) {
            // The writer was not held up: its commits are there, the evaluation saw none.
            CHECK(committed == 2);
            CHECK(refused == 0);
            CHECK(render(every_level(serial).to_vector()) != before);
        } else {
            // Rollback-journal mode: the evaluation's read lock holds every commit off.
            CHECK(committed == 0);
            CHECK(refused == 2);
            CHECK(render(every_level(serial).to_vector()) == before);
        }
        sub.reset();
        // Once the evaluation ended, the next one sees the writes (and a writer commits).
        write("After");
        CHECK(committed == (wal ? 3 : 1));
        CHECK(render(every_level(db).to_vector()) == render(every_level(serial).to_vector()));
        CHECK(render(every_level(db).to_vector()) != before);
    }
}

TEST_CASE("a writer holding the write lock in WAL mode makes the levels run serially",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_locked");
    seed(file.path, true);
    loom::Database serial(file.path, serial_options());
    const std::string before = render(every_level(serial).to_vector());
    loom::Database writer(file.path, wal_options());
    loom::Database db(file.path, wal_options());
    Events ev(db);
    loom::Transaction tx(writer);
    writer.execute("UPDATE publisher SET name = 'Pending' WHERE name = 'Gollancz'");
    CHECK(render(every_level(db).to_vector()) == before);
    CHECK_FALSE(ev.on_workers());
    CHECK(ev.serial.at(1) == "WAL mode, and another connection held the write lock");
    tx.rollback();
}

TEST_CASE("an error in one level reaches the caller as its typed error, nothing stitched",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_error");
    seed(file.path, true);
    {
        loom::Database fix(file.path);
        fix.execute("UPDATE review SET rating = 'lots' WHERE body = 'Om.'");
    }
    auto fails = [&](loom::Database& db) {
        auto books = db.objects<Book>().order_by(&Book::id).to_vector();
        Events ev(db);
        loom_test::Queries q(db);
        const std::string message = message_of<loom::DataError>([&] {
            loom::prefetch_related_objects(db, books, &Book::publisher, &Book::authors,
                                           &Book::reviews);
        });
        // Every level ran and was counted; the failed one says so.
        CHECK(q() == 3);
        CHECK(ev.errors.at(2) == message);
        CHECK(ev.errors.at(0).empty());
        for (const Book& b : books) {
            CHECK_FALSE(b.publisher.loaded());
            CHECK_FALSE(b.authors.loaded());
            CHECK_FALSE(b.reviews.loaded());
        }
        return std::make_pair(message, ev.on_workers());
    };
    loom::Database serial(file.path, serial_options());
    loom::Database db(file.path, wal_options());
    const auto [serial_message, serial_workers] = fails(serial);
    const auto [message, workers] = fails(db);
    CHECK(loom_test::has(message, "rating"));
    CHECK(message == serial_message);
    CHECK_FALSE(serial_workers);
    CHECK(workers);
    // The Database is usable afterwards, workers included.
    db.execute("UPDATE review SET rating = 5 WHERE body = 'Om.'");
    CHECK(render(every_level(db).to_vector()) == render(every_level(serial).to_vector()));
}

TEST_CASE("the profile shows the statements of worker connections and their start",
          "[prefetch][parallel][sqlite]") {
    TempFile file("ppl_profile");
    seed(file.path, true);
    loom::Database db(file.path, wal_options());
    loom::Profile prof(db);
    const auto books = every_level(db).to_vector();
    prof.stop();
    CHECK(prof.query_count() == 6);
    CHECK(prof.worker_count() >= 1);
    CHECK(prof.serial_reasons().empty());
    const auto qs = prof.queries();
    std::set<int> connections;
    for (const auto& q : qs) {
        connections.insert(q.connection);
        CHECK(q.start.count() >= 0);
        CHECK(q.start <= prof.elapsed());
    }
    CHECK(connections.count(0) == 1);
    CHECK(loom_test::has(prof.text(), "on worker connections"));
    CHECK(loom_test::has(prof.html(), "worker 1"));
}

}  // namespace prefetch_parallel_tests
