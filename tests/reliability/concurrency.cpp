// tests/reliability/concurrency.cpp - N threads, each with its own loom::Database on one
// WAL-mode file, run a fixed mix of writes and prefetching reads; at the end every write must
// be accounted for. Built and run by scripts/reliability.sh (also under ThreadSanitizer).
//
//     concurrency [threads=8] [operations per thread=400] [database file]
//
// Each thread cycles through five operations:
//   insert      one Book of the thread's own publisher (counted per thread)
//   increment   db.transaction: read the shared counter row, write it back plus one (a
//               read-then-write transaction: the case where a deferred BEGIN in WAL mode can
//               fail with SQLITE_BUSY_SNAPSHOT instead of waiting)
//   update      its own Author row: born = number of updates so far
//   bulk        db.transaction: insert a marker Publisher and bulk_insert kBatch books for it
//   read        prefetching reads of the marker batches: every marker publisher must come with
//               all kBatch books (never a part), and the book count per marker year is 0 or
//               kBatch, never in between
// Any loom::Error (BusyError included) is a failure: the busy timeout plus loom's transaction
// policy (BEGIN IMMEDIATE in WAL mode) must absorb all lock contention.
#include <loom/loom.hpp>

#include "../models.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using shop::Author;
using shop::Book;
using shop::Publisher;

constexpr int kBatch = 25;               // books per marker batch
constexpr int kMarkerYearBase = 100000;  // marker books: year = kMarkerYearBase + batch number

struct Tally {
    std::int64_t inserts = 0, increments = 0, updates = 0, batches = 0, reads = 0;
    std::int64_t batch_rows_seen = 0;
    std::vector<std::string> failures;
};

std::atomic<bool> g_stop{false};

loom::Options options() {
    loom::Options o;
    o.wal = true;
    o.busy_timeout_ms = 20000;
    return o;
}

void worker(const std::string& path, int t, int ops, Tally& out) {
    try {
        loom::Database db{path, options()};
        Publisher own = db.objects<Publisher>().get(loom::col(&Publisher::name) ==
                                                    "thread-" + std::to_string(t));
        Author mine =
            db.objects<Author>().get(loom::col(&Author::name) == "author-" + std::to_string(t));
        for (int i = 0; i < ops && !g_stop; ++i) {
            switch (i % 5) {
            case 0: {
                Book b;
                b.title = "t" + std::to_string(t) + "-" + std::to_string(i);
                b.year = t;
                b.publisher = own;
                db.insert(b);
                ++out.inserts;
                break;
            }
            case 1: {
                db.transaction([&] {
                    Author shared = db.objects<Author>().get(loom::col(&Author::name) == "shared");
                    shared.born = shared.born.value_or(0) + 1;
                    db.update(shared);
                });
                ++out.increments;
                break;
            }
            case 2: {
                mine.born = static_cast<int>(++out.updates);
                db.update(mine);
                break;
            }
            case 3: {
                const int batch = t * 100000 + i;
                db.transaction([&] {
                    Publisher marker;
                    marker.name = "marker-" + std::to_string(batch);
                    db.insert(marker);
                    std::vector<Book> books(kBatch);
                    for (int k = 0; k < kBatch; ++k) {
                        books[k].title = "m" + std::to_string(batch) + "-" + std::to_string(k);
                        books[k].year = kMarkerYearBase + batch;
                        books[k].publisher = marker;
                    }
                    db.bulk_insert(books);
                });
                ++out.batches;
                break;
            }
            default: {
                // Every marker publisher with its books (one query for the publishers,
                // one for all their books): each must have all kBatch books.
                auto markers = db.objects<Publisher>()
                                   .filter(loom::col(&Publisher::name).starts_with("marker-"))
                                   .prefetch_related(&Publisher::books);
                for (const Publisher& p : markers) {
                    const auto n = static_cast<int>(p.books.size());
                    out.batch_rows_seen += n;
                    if (n != kBatch)
                        out.failures.push_back(p.name + " seen with " + std::to_string(n) + " of " +
                                               std::to_string(kBatch) + " books");
                }
                // Books of the marker years, with their publisher and authors prefetched:
                // per year, 0 or kBatch rows, and each one's publisher is loaded.
                auto books = db.objects<Book>()
                                 .filter(loom::col(&Book::year) >= kMarkerYearBase)
                                 .prefetch_related(&Book::publisher, &Book::authors);
                std::map<int, int> per_year;
                for (const Book& b : books) {
                    ++per_year[b.year];
                    if (!b.publisher.get() || !b.authors.empty())
                        out.failures.push_back("book " + b.title +
                                               " lost its publisher or gained authors");
                }
                for (auto [year, n] : per_year)
                    if (n != kBatch)
                        out.failures.push_back("marker year " + std::to_string(year) +
                                               " seen with " + std::to_string(n) + " rows");
                ++out.reads;
                break;
            }
            }
            if (out.failures.size() > 20) break;
        }
    } catch (const loom::BusyError& e) {
        out.failures.push_back(std::string("BusyError escaped: ") + e.what());
    } catch (const std::exception& e) {
        out.failures.push_back(std::string("error: ") + e.what());
    }
    if (!out.failures.empty()) g_stop = true;
}

}  // namespace

int main(int argc, char** argv) {
    const int threads = argc > 1 ? std::atoi(argv[1]) : 8;
    const int ops = argc > 2 ? std::atoi(argv[2]) : 400;
    std::string path =
        argc > 3 ? argv[3] : "/tmp/loom_concurrency_" + std::to_string(::getpid()) + ".db";
    if (threads < 1 || ops < 5) {
        std::fprintf(stderr, "usage: concurrency [threads>=1] [operations>=5] [file]\n");
        return 2;
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());

    {
        loom::Database db{path, options()};
        db.create_tables<Publisher, Author, Book, shop::Review>();
        db.transaction([&] {
            Author shared;
            shared.name = "shared";
            shared.born = 0;
            db.insert(shared);
            for (int t = 0; t < threads; ++t) {
                Publisher p;
                p.name = "thread-" + std::to_string(t);
                db.insert(p);
                Author a;
                a.name = "author-" + std::to_string(t);
                a.born = 0;
                db.insert(a);
            }
        });
    }

    std::vector<Tally> tallies(static_cast<std::size_t>(threads));
    const auto start = std::chrono::steady_clock::now();
    {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back(worker, path, t, ops, std::ref(tallies[static_cast<std::size_t>(t)]));
        for (auto& th : pool) th.join();
    }
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Account for every write, from a fresh connection.
    std::vector<std::string> failures;
    Tally total;
    for (auto& t : tallies) {
        total.inserts += t.inserts;
        total.increments += t.increments;
        total.updates += t.updates;
        total.batches += t.batches;
        total.reads += t.reads;
        total.batch_rows_seen += t.batch_rows_seen;
        failures.insert(failures.end(), t.failures.begin(), t.failures.end());
    }
    try {
        loom::Database db{path, options()};
        auto expect = [&](const std::string& what, std::int64_t got, std::int64_t want) {
            if (got != want)
                failures.push_back(what + ": found " + std::to_string(got) + ", expected " +
                                   std::to_string(want));
        };
        for (int t = 0; t < threads; ++t) {
            const auto& tally = tallies[static_cast<std::size_t>(t)];
            auto own = db.objects<Publisher>()
                           .filter(loom::col(&Publisher::name) == "thread-" + std::to_string(t))
                           .prefetch_related(&Publisher::books);
            expect("books of thread " + std::to_string(t),
                   static_cast<std::int64_t>(own.get().books.size()), tally.inserts);
            auto mine =
                db.objects<Author>().get(loom::col(&Author::name) == "author-" + std::to_string(t));
            expect("updates of thread " + std::to_string(t), mine.born.value_or(-1), tally.updates);
        }
        expect("shared counter",
               db.objects<Author>().get(loom::col(&Author::name) == "shared").born.value_or(-1),
               total.increments);
        expect("marker publishers",
               db.objects<Publisher>()
                   .filter(loom::col(&Publisher::name).starts_with("marker-"))
                   .count(),
               total.batches);
        expect("marker books",
               db.objects<Book>().filter(loom::col(&Book::year) >= kMarkerYearBase).count(),
               total.batches * kBatch);
        expect("all books", db.objects<Book>().count(), total.inserts + total.batches * kBatch);
    } catch (const std::exception& e) {
        failures.push_back(std::string("final check: ") + e.what());
    }
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());

    const std::int64_t writes = total.inserts + total.increments + total.updates + total.batches;
    std::printf(
        "concurrency: %d threads x %d operations in %.2f s: %lld inserts, %lld shared "
        "increments, %lld updates, %lld bulk batches of %d, %lld prefetching reads "
        "(%lld marker rows checked); %lld write transactions accounted for\n",
        threads, ops, secs, static_cast<long long>(total.inserts),
        static_cast<long long>(total.increments), static_cast<long long>(total.updates),
        static_cast<long long>(total.batches), kBatch, static_cast<long long>(total.reads),
        static_cast<long long>(total.batch_rows_seen), static_cast<long long>(writes));
    if (!failures.empty()) {
        for (auto& f : failures) std::fprintf(stderr, "FAIL: %s\n", f.c_str());
        return 1;
    }
    std::printf("concurrency: OK\n");
    return 0;
}
