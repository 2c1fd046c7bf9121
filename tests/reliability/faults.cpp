// tests/reliability/faults.cpp - fault cases that need a real filesystem or real threads, run by
// scripts/reliability.sh (which mounts the small tmpfs they need when run as root):
//
//     faults full-disk DIR             a really full disk (DIR: an empty, small filesystem)
//     faults wal-create DIR            a WAL database in DIR (the script then remounts DIR
//     faults wal-readonly DIR          read-only) and open it there: the message must say why
//     faults misuse THREADS OPS FILE   one Database shared by THREADS threads (misuse)
//
// full-disk: for both journal modes and five writes (insert, bulk_insert, m2m set, update, a
// write in a nested savepoint) run inside a transaction after a first insert, with the disk
// filled but for a few pages: the write fails with an IoError; every later statement of the
// transaction throws TransactionAborted when SQLite rolled it back (or, if it did not, the
// transaction commits or rolls back as a whole); once the disk has room the file holds none of
// the transaction and all of the earlier data, and passes integrity_check.
//
// misuse: every operation either works or is refused with a UsageError saying "one Database per
// thread"; nothing crashes, hangs or returns another query's rows; at the end the table holds
// exactly the rows of the inserts that worked.
#include <loom/loom.hpp>

#include "../models.hpp"

#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using shop::Author;
using shop::Book;
using shop::Publisher;

int g_failures = 0;

void fail(const std::string& what) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++g_failures;
}
void expect(bool ok, const std::string& what) {
    if (!ok) fail(what);
}

std::int64_t scalar(loom::Database& db, const std::string& sql) {
    return db.query<std::int64_t>(sql).at(0);
}

/// Fills the filesystem of `dir` with one file, then gives `room` bytes back.
void fill_disk(const std::string& filler, std::size_t room) {
    std::FILE* f = std::fopen(filler.c_str(), "wb");
    if (!f) throw std::runtime_error("cannot create " + filler);
    std::setvbuf(f, nullptr, _IONBF, 0);
    const std::vector<char> block(64 * 1024, 'f');
    std::size_t total = 0;
    while (true) {
        const std::size_t n = std::fwrite(block.data(), 1, block.size(), f);
        total += n;
        if (n < block.size()) break;
    }
    std::fclose(f);
    std::filesystem::resize_file(filler, total > room ? total - room : 0);
}

void remove_db(const std::string& path) {
    for (const char* s : {"", "-journal", "-wal", "-shm"}) std::filesystem::remove(path + s);
}

int full_disk(const std::string& dir) {
    const std::string path = dir + "/full.db", filler = dir + "/filler";
    int cases = 0, aborted = 0, whole = 0;
    for (bool wal : {false, true}) {
        for (const std::string op : {"insert", "bulk_insert", "m2m set", "update", "savepoint"}) {
            const std::string name = std::string(wal ? "WAL" : "rollback journal") + ", " + op;
            remove_db(path);
            std::filesystem::remove(filler);
            {
                loom::Database db(path, {.wal = wal});
                shop::create_all(db);
                shop::seed_catalogue(db);
                std::vector<Author> many(3000);
                for (auto& a : many) a.name = "reader";
                db.bulk_insert(many);
            }
            loom::Database db(path, {.wal = wal});
            db.execute("PRAGMA cache_size = 16");  // pages reach the disk before COMMIT
            const auto authors = db.objects<Author>().to_vector();
            Book omens = db.objects<Book>().get(loom::col(&Book::title) == "Good Omens");
            fill_disk(filler, 48 * 1024);
            ++cases;
            bool refused_later = false, io_error = false;
            {
                loom::Transaction tx(db);
                Publisher before;
                before.name = "Before";
                db.insert(before);
                try {
                    const std::string big(2'000'000, 'x');
                    if (op == "insert") {
                        Publisher p;
                        p.name = big;
                        db.insert(p);
                    } else if (op == "bulk_insert") {
                        std::vector<Book> books(4000);
                        for (auto& b : books) {
                            b.title = std::string(600, 'y');
                            b.publisher = 1;
                        }
                        db.bulk_insert(books);
                    } else if (op == "m2m set") {
                        db.m2m(omens, &Book::authors).set(authors);
                        Publisher p;  // the join rows may fit: make sure the disk overflows
                        p.name = big;
                        db.insert(p);
                    } else if (op == "update") {
                        before.name = big;
                        db.update(before);
                    } else {
                        loom::Transaction inner(db);
                        Publisher p;
                        p.name = big;
                        db.insert(p);
                        inner.commit();
                    }
                    fail(name + ": the disk did not fill up");
                } catch (const loom::IoError& e) {
                    io_error = true;
                    expect((e.code() & 0xff) == SQLITE_FULL || (e.code() & 0xff) == SQLITE_IOERR,
                           name + ": unexpected code in " + e.what());
                }
                Publisher after;
                after.name = "After";
                try {
                    db.insert(after);
                    tx.commit();  // SQLite kept the transaction: all of it, or none
                } catch (const loom::TransactionAborted& e) {
                    refused_later = true;
                    expect(std::string(e.what()).starts_with(
                               "the database rolled the transaction back after an error"),
                           name + ": " + e.what());
                    expect(after.id == 0, name + ": the refused insert set a key");
                } catch (const loom::IoError&) {
                    // the commit found no room: the guard rolls back
                }
            }
            std::filesystem::remove(filler);
            expect(io_error, name + ": no IoError");
            expect(db.transaction_depth() == 0, name + ": a transaction is still open");
            const auto b = scalar(db, "SELECT count(*) FROM publisher WHERE name = 'Before'");
            const auto a = scalar(db, "SELECT count(*) FROM publisher WHERE name = 'After'");
            if (refused_later) {
                ++aborted;
                expect(a == 0 && b == 0, name + ": part of an aborted transaction persisted");
            } else {
                ++whole;
                expect(a == b, name + ": half a transaction persisted");
            }
            expect(scalar(db, "SELECT count(*) FROM book") == 5, name + ": books lost");
            expect(scalar(db, "SELECT count(*) FROM author") == 3003, name + ": authors lost");
            // The connection works again now that there is room.
            db.transaction([&] {
                Publisher p;
                p.name = "Later";
                db.insert(p);
            });
            loom::Database check(path);
            expect(check.query<std::string>("PRAGMA integrity_check").at(0) == "ok",
                   name + ": integrity_check");
            expect(scalar(check, "SELECT count(*) FROM publisher WHERE name = 'Later'") == 1,
                   name + ": the later transaction is missing");
        }
    }
    remove_db(path);
    std::printf(
        "full disk: %d cases (2 journal modes x 5 writes): %d ended by SQLite and refused "
        "afterwards (TransactionAborted), %d kept whole; nothing half-written, "
        "integrity_check ok, %d failures\n",
        cases, aborted, whole, g_failures);
    return g_failures ? 1 : 0;
}

int wal_create(const std::string& dir) {
    loom::Database db(dir + "/wal.db", {.wal = true});
    shop::create_all(db);
    shop::seed_catalogue(db);
    return 0;
}

int wal_readonly(const std::string& dir) {
    const std::string path = dir + "/wal.db";
    for (bool read_only : {false, true}) {
        try {
            loom::Database db(path, {.read_only = read_only});
            fail("opened a WAL database on a read-only mount without its -shm file");
        } catch (const loom::CantOpenError& e) {
            const std::string what = e.what();
            expect(what.starts_with("'" + path +
                                    "' is a WAL-mode database, and SQLite cannot open or create "
                                    "its '-shm' and '-wal' files beside it: the directory is not "
                                    "writable"),
                   what);
            if (!read_only) std::printf("read-only WAL directory: %s\n", what.c_str());
        }
    }
    return g_failures ? 1 : 0;
}

int misuse(int threads, int ops, const std::string& path) {
    remove_db(path);
    loom::Database db(path, {.wal = true});
    shop::create_all(db);
    shop::seed_catalogue(db);
    std::atomic<std::int64_t> inserted{0}, worked{0}, refused{0};
    std::atomic<bool> other{false};
    // Each thread retries a refused operation until it works, so every thread gets through its
    // operations while the others keep trying: as much overlap as the machine allows.
    auto worker = [&](int t) {
        for (int i = 0, attempts = 0; i < ops && attempts < 100000 * ops; ++attempts) {
            try {
                switch ((i + t) % 5) {
                case 0: {
                    Publisher p;
                    p.name = "t" + std::to_string(t) + "-" + std::to_string(i);
                    db.insert(p);
                    ++inserted;
                    break;
                }
                case 1: {
                    std::vector<Publisher> ps(3);
                    for (int k = 0; k < 3; ++k)
                        ps[static_cast<std::size_t>(k)].name = "b" + std::to_string(t) + "-" +
                                                               std::to_string(i) + "-" +
                                                               std::to_string(k);
                    db.bulk_insert(ps);
                    inserted += 3;
                    break;
                }
                case 2: {
                    auto books = db.objects<Book>().prefetch_related(&Book::authors).to_vector();
                    if (books.size() != 5 || books[1].authors.size() != 2) other = true;
                    break;
                }
                case 3: {
                    db.transaction([&] {
                        Publisher a, b;
                        a.name = "x" + std::to_string(t) + "-" + std::to_string(i);
                        b.name = "y" + std::to_string(t) + "-" + std::to_string(i);
                        db.insert(a);
                        db.insert(b);
                    });
                    inserted += 2;
                    break;
                }
                default:
                    if (db.objects<Author>().count() != 3) other = true;
                }
                ++worked;
                ++i;
            } catch (const loom::UsageError& e) {
                if (std::string(e.what()).find("one Database per thread") == std::string::npos)
                    fail(e.what());
                ++refused;
                std::this_thread::yield();
            } catch (const std::exception& e) {
                fail(std::string("thread ") + std::to_string(t) + ": " + e.what());
                ++i;
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
    for (auto& th : pool) th.join();
    expect(!other, "a read saw another query's rows");
    expect(worked == static_cast<std::int64_t>(threads) * ops, "operations that never got through");
    const auto rows = scalar(db, "SELECT count(*) FROM publisher") - 2;
    expect(rows == inserted, "rows " + std::to_string(rows) + " but " +
                                 std::to_string(inserted.load()) + " inserts worked");
    expect(db.query<std::string>("PRAGMA integrity_check").at(0) == "ok", "integrity_check");
    std::printf(
        "misuse: %d threads x %d operations on ONE Database: %lld worked, %lld refused "
        "with UsageError (one Database per thread), %lld rows for %lld inserts that "
        "worked, %d failures\n",
        threads, ops, static_cast<long long>(worked.load()), static_cast<long long>(refused.load()),
        static_cast<long long>(rows), static_cast<long long>(inserted.load()), g_failures);
    remove_db(path);
    return g_failures ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string cmd = argc > 1 ? argv[1] : "";
    try {
        if (cmd == "full-disk" && argc == 3) return full_disk(argv[2]);
        if (cmd == "wal-create" && argc == 3) return wal_create(argv[2]);
        if (cmd == "wal-readonly" && argc == 3) return wal_readonly(argv[2]);
        if (cmd == "misuse" && argc == 5)
            return misuse(std::atoi(argv[2]), std::atoi(argv[3]), argv[4]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "FAILED: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr,
                 "usage: faults full-disk DIR | wal-create DIR | wal-readonly DIR | misuse THREADS "
                 "OPS FILE\n");
    return 2;
}
