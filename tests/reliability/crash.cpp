// tests/reliability/crash.cpp - crash safety: a child process is killed with SIGKILL in the
// middle of a db.transaction(...) that writes many rows; the parent then opens the file and
// must find all of the rows or none of them, the file intact, and every earlier commit there.
// Built and run by scripts/reliability.sh.
//
//     crash [kill points per journal mode=24] [rows per transaction=3000] [database file]
//
// Two kinds of kill points, in both journal modes (rollback journal and WAL):
//   after row k   the child reports through a pipe once it has inserted k rows, then waits;
//                 the parent kills it there (k spread from 0 to all rows, so also after the
//                 last INSERT and before COMMIT). Outcome must be "none".
//   after d us    the child reports after row k and keeps going; the parent kills it d
//                 microseconds later (d spread over the measured length of the whole
//                 transaction, COMMIT included). Outcome: "none" or "all", never a part.
// Rows carry ~1 KB of text so the transaction outgrows SQLite's page cache and pages reach the
// database file (rollback mode) or the WAL before COMMIT: recovery has real work to do.
#include <loom/loom.hpp>

#include "../models.hpp"
#include "kill.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using shop::Book;
using shop::Publisher;

loom::Options options(bool wal) {
    loom::Options o;
    o.wal = wal;
    return o;
}

/// The transaction the child runs: `rows` books of year `batch`. Reports to `fd` after row
/// `report_after` (a byte), then blocks forever when `block`.
[[noreturn]] void child(const std::string& path, bool wal, int batch, int rows, int report_after,
                        bool block, int fd) {
    try {
        loom::Database db{path, options(wal)};
        const std::string filler(1000, static_cast<char>('a' + batch % 26));
        auto report = [&] {
            const char byte = 'k';
            if (::write(fd, &byte, 1) != 1) std::_Exit(3);
            if (block)
                for (;;) ::pause();
        };
        db.transaction([&] {
            for (int i = 0; i < rows; ++i) {
                if (i == report_after) report();
                Book b;
                b.title = std::to_string(i) + filler;
                b.year = batch;
                b.publisher = 1;
                db.insert(b);
            }
            if (report_after >= rows) report();
        });
        std::_Exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        std::_Exit(4);
    }
}

struct Outcome : reliability::Killed {
    std::int64_t rows = 0;
};

Outcome run_once(const std::string& path, bool wal, int batch, int rows, int report_after,
                 bool block, long delay_us) {
    Outcome o;
    static_cast<reliability::Killed&>(o) = reliability::fork_and_kill(
        path, wal, delay_us,
        [&](int fd) { child(path, wal, batch, rows, report_after, block, fd); });
    loom::Database db{path, options(wal)};
    o.rows = db.objects<Book>().filter(loom::col(&Book::year) == batch).count();
    return o;
}

std::string integrity(const std::string& path, bool wal) {
    loom::Database db{path, options(wal)};
    std::string out;
    for (const auto& line : db.query<std::string>("PRAGMA integrity_check")) out += line;
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    const int points = argc > 1 ? std::atoi(argv[1]) : 24;
    const int rows = argc > 2 ? std::atoi(argv[2]) : 3000;
    const std::string path =
        argc > 3 ? argv[3] : "/tmp/loom_crash_" + std::to_string(::getpid()) + ".db";
    if (points < 2 || rows < 2) {
        std::fprintf(stderr, "usage: crash [kill points>=2] [rows>=2] [file]\n");
        return 2;
    }
    int failures = 0, survived = 0, all = 0, none = 0, recovered = 0;
    for (bool wal : {false, true}) {
        for (const char* suffix : {"", "-journal", "-wal", "-shm"})
            std::remove((path + suffix).c_str());
        {
            loom::Database db{path, options(wal)};
            db.create_tables<Publisher, Book, shop::Author, shop::Review>();
            Publisher p;
            p.name = "crash";
            db.insert(p);
        }
        const char* mode = wal ? "wal" : "rollback journal";

        // Calibration: one whole transaction, committed, timed from the report at row 0.
        std::int64_t committed = 0;
        int batch = 1;
        const Outcome cal = run_once(path, wal, batch++, rows, 0, false, -1);
        const long whole_us = cal.report_to_exit_us;
        if (cal.killed || cal.rows != rows) {
            std::fprintf(stderr, "FAIL: %s: calibration run wrote %lld of %d rows\n", mode,
                         static_cast<long long>(cal.rows), rows);
            return 1;
        }
        committed += rows;

        const int by_row = points / 2, by_time = points - by_row;
        for (int i = 0; i < points; ++i) {
            const bool blocking = i < by_row;
            int after = 0;
            long delay = 0;
            if (blocking) {
                // 0, then spread up to `rows` (all inserted, COMMIT not yet run).
                after =
                    by_row == 1 ? 0 : static_cast<int>(static_cast<long>(rows) * i / (by_row - 1));
            } else {
                const int j = i - by_row;
                delay = 1 + whole_us * 6 / 5 * j / std::max(by_time - 1, 1);
            }
            const Outcome o = run_once(path, wal, batch, rows, after, blocking, delay);
            // Blocked before COMMIT: nothing. Killed at a time: nothing, or all if COMMIT won.
            const bool ok = o.rows == 0 || (!blocking && o.rows == rows);
            if (!ok) {
                std::fprintf(stderr, "FAIL: %s, kill point %d (%s %ld): %lld of %d rows survived\n",
                             mode, i, blocking ? "after row" : "after us",
                             blocking ? static_cast<long>(after) : delay,
                             static_cast<long long>(o.rows), rows);
                ++failures;
            } else {
                ++survived;
                (o.rows ? all : none)++;
            }
            if (o.rows == rows) committed += rows;
            if (o.left_journal) ++recovered;
            ++batch;

            // Nothing committed earlier was lost, and the file is intact.
            loom::Database db{path, options(wal)};
            const auto total = db.objects<Book>().count();
            if (total != committed) {
                std::fprintf(
                    stderr, "FAIL: %s, kill point %d: %lld rows in the file, %lld committed\n",
                    mode, i, static_cast<long long>(total), static_cast<long long>(committed));
                ++failures;
            }
        }
        const std::string check = integrity(path, wal);
        if (check != "ok") {
            std::fprintf(stderr, "FAIL: %s: integrity_check says %s\n", mode, check.c_str());
            ++failures;
        }
        std::printf("crash: %s: %d kill points, whole transaction %ld us, %lld rows committed\n",
                    mode, points, whole_us, static_cast<long long>(committed));
    }
    for (const char* suffix : {"", "-journal", "-wal", "-shm"})
        std::remove((path + suffix).c_str());
    std::printf(
        "crash: %d of %d kill points survived (%d all, %d none; %d left a hot journal or "
        "WAL to recover), %d rows per transaction\n",
        survived, 2 * points, all, none, recovered, rows);
    if (failures) return 1;
    std::printf("crash: OK\n");
    return 0;
}
