// tests/reliability/migrate_race.cpp - several processes apply the same migrations to one
// database at the same moment (a program started twice, or on several hosts): each migration
// must be applied exactly once, the others waiting for the lock and then finding it applied,
// and the database must end as one process alone leaves it. Built and run by
// scripts/reliability.sh.
//
//     migrate_race [rounds per journal mode=4] [processes=3] [books=800] [database file]
#include "migrate_common.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

/// Waits for the go byte, applies the migrations, writes the names it applied to `out`.
[[noreturn]] void child(const std::string& path, bool wal, int go, int out) {
    try {
        loom::Database db{path, reliability::options(wal, 120000)};
        char byte = 0;
        if (::read(go, &byte, 1) != 1) std::_Exit(3);
        std::string names;
        for (const auto& n : reliability::migrations().apply(db)) names += n + "\n";
        if (::write(out, names.data(), names.size()) != static_cast<ssize_t>(names.size()))
            std::_Exit(3);
        std::_Exit(0);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "child: %s\n", e.what());
        std::_Exit(4);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 4;
    const int processes = argc > 2 ? std::atoi(argv[2]) : 3;
    const int books = argc > 3 ? std::atoi(argv[3]) : 800;
    const std::string path =
        argc > 4 ? argv[4] : "/tmp/loom_migrate_race_" + std::to_string(::getpid()) + ".db";
    if (rounds < 1 || processes < 2 || books < 1) {
        std::fprintf(stderr, "usage: migrate_race [rounds>=1] [processes>=2] [books>=1] [file]\n");
        return 2;
    }
    int failures = 0, waited = 0;
    for (bool wal : {false, true}) {
        const char* mode = wal ? "wal" : "rollback journal";
        std::string expected;
        {
            reliability::make_database(path, wal, books);
            loom::Database db{path, reliability::options(wal)};
            reliability::migrations().apply(db);
            expected = reliability::snapshot(db);
        }
        for (int round = 0; round < rounds; ++round) {
            reliability::make_database(path, wal, books);
            int go[2];
            if (::pipe(go) != 0) std::perror("pipe"), std::exit(2);
            std::vector<pid_t> pids;
            std::vector<int> outs;
            for (int p = 0; p < processes; ++p) {
                int out[2];
                if (::pipe(out) != 0) std::perror("pipe"), std::exit(2);
                const pid_t pid = ::fork();
                if (pid < 0) std::perror("fork"), std::exit(2);
                if (pid == 0) {
                    ::close(go[1]);
                    ::close(out[0]);
                    child(path, wal, go[0], out[1]);
                }
                ::close(out[1]);
                pids.push_back(pid);
                outs.push_back(out[0]);
            }
            ::close(go[0]);
            const std::string bytes(static_cast<std::size_t>(processes), 'g');
            if (::write(go[1], bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
                std::perror("write"), std::exit(2);
            ::close(go[1]);

            std::string applied;
            for (int p = 0; p < processes; ++p) {
                char buf[256];
                std::string mine;
                for (ssize_t n;
                     (n = ::read(outs[static_cast<std::size_t>(p)], buf, sizeof buf)) > 0;)
                    mine.append(buf, static_cast<std::size_t>(n));
                ::close(outs[static_cast<std::size_t>(p)]);
                int status = 0;
                ::waitpid(pids[static_cast<std::size_t>(p)], &status, 0);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                    std::fprintf(stderr, "FAIL: %s, round %d: process %d ended with status %d\n",
                                 mode, round, p, status);
                    ++failures;
                }
                if (mine.empty()) ++waited;
                applied += mine;
            }
            // Each migration applied once, by whichever process got the lock first.
            auto count = [&](const std::string& name) {
                std::size_t n = 0;
                for (auto at = applied.find(name); at != std::string::npos;
                     at = applied.find(name, at + 1))
                    ++n;
                return n;
            };
            if (count("0002_pages\n") != 1 || count("0003_positions\n") != 1 ||
                applied.find("0001") != std::string::npos) {
                std::fprintf(stderr, "FAIL: %s, round %d: the processes applied:\n%s", mode, round,
                             applied.c_str());
                ++failures;
            }
            loom::Database db{path, reliability::options(wal)};
            if (reliability::snapshot(db) != expected) {
                std::fprintf(stderr,
                             "FAIL: %s, round %d: the database differs from one "
                             "process's run\n",
                             mode, round);
                ++failures;
            }
            if (const auto d = reliability::damage(db); d != "ok") {
                std::fprintf(stderr, "FAIL: %s, round %d: %s\n", mode, round, d.c_str());
                ++failures;
            }
        }
        std::printf("migrate_race: %s: %d rounds of %d processes\n", mode, rounds, processes);
    }
    reliability::remove_database(path);
    std::printf(
        "migrate_race: %d rounds, each migration applied exactly once; %d of %d processes "
        "found everything applied by another\n",
        2 * rounds, waited, 2 * rounds * processes);
    if (failures) return 1;
    std::printf("migrate_race: OK\n");
    return 0;
}
