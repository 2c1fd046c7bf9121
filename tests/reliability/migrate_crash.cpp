// tests/reliability/migrate_crash.cpp - a migration is all or nothing, even when the process
// dies in the middle of it: a child process applies migrations 0002 and 0003
// (migrate_common.hpp: SQLite's table rebuild with foreign keys pointing in and out, a join
// table, a self-reference, a data step) to a bookstore of N books and is killed with SIGKILL;
// the parent reopens the file, which must hold exactly the schema and rows of before 0002,
// after 0002, or after 0003 (never anything between), pass integrity_check and
// foreign_key_check, and accept the rest of the migrations. Built and run by
// scripts/reliability.sh.
//
//     migrate_crash [kill points per journal mode=24] [books=2500] [database file]
//
// Two kinds of kill points, in both journal modes (rollback journal and WAL):
//   after statement k   the child reports through a pipe after its k-th statement (a query
//                       listener), then waits to be killed: k spread over every statement the
//                       migrations run, so also between DROP TABLE and the RENAME that
//                       replaces it, and just before and after each COMMIT
//   after d us          the child reports at its first statement and keeps going; the parent
//                       kills it d microseconds later, d spread over the measured length
#include "kill.hpp"
#include "migrate_common.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using reliability::options;

/// Applies the migrations; reports to `fd` after statement `report_after` (then blocks when
/// `block`).
[[noreturn]] void child(const std::string& path, bool wal, long report_after, bool block, int fd) {
    try {
        loom::Database db{path, options(wal)};
        long n = 0;
        auto sub = db.on_query([&](const loom::QueryEvent&) {
            if (n++ != report_after) return;
            const char byte = 'k';
            if (::write(fd, &byte, 1) != 1) std::_Exit(3);
            if (block)
                for (;;) ::pause();
        });
        reliability::migrations().apply(db);
        if (n <= report_after) {  // never reached: report at the end
            const char byte = 'e';
            if (::write(fd, &byte, 1) != 1) std::_Exit(3);
        }
        std::_Exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        std::_Exit(4);
    }
}

using Outcome = reliability::Killed;

Outcome run_once(const std::string& path, bool wal, long report_after, bool block, long delay_us) {
    return reliability::fork_and_kill(path, wal, delay_us,
                                      [&](int fd) { child(path, wal, report_after, block, fd); });
}

void copy_file(const std::string& from, const std::string& to) {
    reliability::remove_database(to);
    std::ifstream in(from, std::ios::binary);
    std::ofstream out(to, std::ios::binary);
    out << in.rdbuf();
}

}  // namespace

int main(int argc, char** argv) {
    const int points = argc > 1 ? std::atoi(argv[1]) : 24;
    const int books = argc > 2 ? std::atoi(argv[2]) : 2500;
    const std::string path =
        argc > 3 ? argv[3] : "/tmp/loom_migrate_crash_" + std::to_string(::getpid()) + ".db";
    const std::string pristine = path + ".pristine";
    if (points < 2 || books < 1) {
        std::fprintf(stderr, "usage: migrate_crash [kill points>=2] [books>=1] [file]\n");
        return 2;
    }
    int failures = 0, total = 0, recovered = 0;
    int seen[3] = {0, 0, 0};
    for (bool wal : {false, true}) {
        const char* mode = wal ? "wal" : "rollback journal";
        reliability::make_database(pristine, wal, books);

        // The three states a kill may leave, each made by an uninterrupted run.
        std::vector<std::string> states;
        std::vector<std::string> statements;
        {
            copy_file(pristine, path);
            loom::Database db{path, options(wal)};
            states.push_back(reliability::snapshot(db));
            const auto all = reliability::migrations();
            loom::Migrations({all.list()[0], all.list()[1]}).apply(db);
            states.push_back(reliability::snapshot(db));
        }
        {
            copy_file(pristine, path);
            loom::Database db{path, options(wal)};
            auto sub =
                db.on_query([&](const loom::QueryEvent& e) { statements.emplace_back(e.sql); });
            reliability::migrations().apply(db);
            sub.reset();
            states.push_back(reliability::snapshot(db));
            if (reliability::damage(db) != "ok") {
                std::fprintf(stderr, "FAIL: %s: the uninterrupted run left %s\n", mode,
                             reliability::damage(db).c_str());
                return 1;
            }
        }
        copy_file(pristine, path);
        const Outcome cal = run_once(path, wal, 0, false, -1);
        const long whole_us = cal.report_to_exit_us;

        const int by_statement = points / 2, by_time = points - by_statement;
        for (int i = 0; i < points; ++i) {
            const bool blocking = i < by_statement;
            long after = 0, delay = 0;
            if (blocking)
                after = static_cast<long>(statements.size() - 1) * i / (by_statement - 1);
            else
                delay = 1 + whole_us * 6 / 5 * (i - by_statement) / std::max(by_time - 1, 1);
            copy_file(pristine, path);
            if (run_once(path, wal, after, blocking, delay).left_journal) ++recovered;
            ++total;

            loom::Database db{path, options(wal)};
            const std::string now = reliability::snapshot(db);
            int state = -1;
            for (int s = 0; s < 3; ++s)
                if (now == states[static_cast<std::size_t>(s)]) state = s;
            const std::string where =
                std::string(mode) + ", kill point " + std::to_string(i) +
                (blocking ? " (after statement " + std::to_string(after) + ": " +
                                statements[static_cast<std::size_t>(after)].substr(0, 60) + ")"
                          : " (after " + std::to_string(delay) + " us)");
            if (state < 0) {
                std::fprintf(stderr, "FAIL: %s: the file holds none of the three states\n",
                             where.c_str());
                ++failures;
                continue;
            }
            ++seen[state];
            const std::string d = reliability::damage(db);
            if (d != "ok") {
                std::fprintf(stderr, "FAIL: %s: %s\n", where.c_str(), d.c_str());
                ++failures;
            }
            // The rest of the migrations apply to whatever state it is, and end the same.
            reliability::migrations().apply(db);
            if (reliability::snapshot(db) != states[2]) {
                std::fprintf(stderr, "FAIL: %s: applying the rest gave another database\n",
                             where.c_str());
                ++failures;
            }
        }
        std::printf("migrate_crash: %s: %d kill points over %zu statements, %ld us per run\n", mode,
                    points, statements.size(), whole_us);
    }
    reliability::remove_database(path);
    reliability::remove_database(pristine);
    std::printf(
        "migrate_crash: %d of %d kill points left a whole state (%d before 0002, %d after "
        "0002, %d after 0003; %d left a hot journal or WAL to recover), %d books\n",
        total - failures, total, seen[0], seen[1], seen[2], recovered, books);
    if (failures) return 1;
    std::printf("migrate_crash: OK\n");
    return 0;
}
