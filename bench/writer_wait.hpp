// bench/writer_wait.hpp - what a concurrent writer pays for loom's shared prefetch snapshot.
//
//     loom_benchmark --writer-wait SECONDS [--sizes N] [--workers N]
//
// With worker connections (Options::prefetch_workers > 0) on a WAL file, an evaluation whose
// prefetch levels run beside each other opens its snapshot under the write lock: a third
// connection holds BEGIN IMMEDIATE while the Database's connection and the workers begin their
// read transactions, then lets go (docs/performance.md). A writer that wants the lock in that
// window waits. This measures the cost on the writer's side: a plain sqlite3 connection (as
// another program would have) commits one small write transaction after another, with a short
// pause between them, for SECONDS, three times: alone; beside a loom reader running W1 over and
// over with the pool off (no lock is taken); and beside the same reader with the pool on. Its
// busy handler retries every 50 us (SQLite's own, sqlite3_busy_timeout, sleeps 1, 2, 5... ms
// between tries, so there each wait costs at least 1 ms) and counts the transactions that had
// to wait and for how long. It prints the writer's commit latency (median, 99th and 99.9th
// percentile, maximum), the waits, and how many evaluations the reader finished and how many of
// them fell back to running their levels one after another because the writer held the lock
// (QueryEvent::serial). Latency percentiles include the machine's scheduling: on a busy
// machine, compare the waits.
#pragma once

#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace bench {

struct WriterWait {
    std::vector<double> commit_us;  // one per write transaction
    long waited = 0;                // transactions that found the lock taken
    double wait_us_max = 0;         // the longest of those waits
    long evaluations = 0;           // the reader's W1 runs
    long serial = 0;                // of them, how many ran their levels serially
};

inline double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const auto at = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1));
    return v[at];
}

/// One round: the writer for `seconds`, beside a loom reader when `reader_workers` >= 0.
inline WriterWait writer_wait_round(const std::string& path, double seconds, int reader_workers) {
    WriterWait out;
    std::atomic<bool> stop{false};
    std::thread reader;
    if (reader_workers >= 0) {
        reader = std::thread([&] {
            loom::Options o = loom_options;
            o.wal = true;
            o.prefetch_workers = static_cast<std::size_t>(reader_workers);
            loom::Database db(path, o);
            bool fell_back = false;
            auto sub = db.on_query([&](const loom::QueryEvent& e) {
                if (!e.serial.empty()) fell_back = true;
            });
            while (!stop.load(std::memory_order_relaxed)) {
                fell_back = false;
                w1_loom(db);
                ++out.evaluations;
                if (fell_back) ++out.serial;
            }
        });
    }
    sqlite3* w = nullptr;
    if (sqlite3_open_v2(path.c_str(), &w, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr) !=
        SQLITE_OK)
        fail("--writer-wait: cannot open " + path);
    struct Busy {
        bool hit = false;
        Clock::time_point first{};
    } busy;
    sqlite3_busy_handler(
        w,
        [](void* p, int tries) -> int {
            auto& b = *static_cast<Busy*>(p);
            if (tries == 0) {
                b.hit = true;
                b.first = Clock::now();
            }
            if (Clock::now() - b.first > std::chrono::seconds(5)) return 0;
            std::this_thread::sleep_for(std::chrono::microseconds(50));
            return 1;
        },
        &busy);
    sqlite3_exec(w, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
    sqlite3_stmt* ins = nullptr;
    if (sqlite3_prepare_v2(w, "INSERT INTO writer_log (at) VALUES (?)", -1, &ins, nullptr) !=
        SQLITE_OK)
        fail(std::string("--writer-wait: ") + sqlite3_errmsg(w));
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    std::int64_t n = 0;
    while (Clock::now() < end) {
        const auto t0 = Clock::now();
        busy.hit = false;
        bool ok = sqlite3_exec(w, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK;
        if (ok) {
            sqlite3_bind_int64(ins, 1, ++n);
            ok = sqlite3_step(ins) == SQLITE_DONE;
            sqlite3_reset(ins);
            ok = sqlite3_exec(w, ok ? "COMMIT" : "ROLLBACK", nullptr, nullptr, nullptr) ==
                     SQLITE_OK &&
                 ok;
        }
        if (!ok) fail(std::string("--writer-wait: the writer failed: ") + sqlite3_errmsg(w));
        const auto t1 = Clock::now();
        out.commit_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        if (busy.hit) {
            ++out.waited;
            out.wait_us_max =
                std::max(out.wait_us_max,
                         std::chrono::duration<double, std::micro>(t1 - busy.first).count());
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));  // the writer's own work
    }
    sqlite3_finalize(ins);
    sqlite3_close(w);
    stop = true;
    if (reader.joinable()) reader.join();
    return out;
}

inline int writer_wait(double seconds, std::int64_t books) {
    const std::string path = temp_path();
    in_child<int>([&] {
        generate(path, books);
        return 0;
    });
    {
        loom::Options o = loom_options;
        o.wal = true;  // switches the file to WAL for good
        loom::Database db(path, o);
        db.execute("CREATE TABLE writer_log (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)");
    }
    std::printf(
        "writer-wait: %lld books, WAL; a writer commits one INSERT a transaction (200 us "
        "apart) for %.1f s per round\n",
        static_cast<long long>(books), seconds);
    std::printf("%-24s %8s %9s %9s %9s %9s %7s %12s %8s %7s\n", "round", "commits", "median us",
                "p99 us", "p99.9 us", "max us", "waited", "max wait us", "W1 runs", "serial");
    const struct {
        const char* name;
        int workers;
    } rounds[] = {
        {"writer alone", -1}, {"beside loom, workers 0", 0}, {"beside loom, workers 1", 1}};
    for (const auto& r : rounds) {
        const WriterWait ww = writer_wait_round(path, seconds, r.workers);
        std::printf("%-24s %8zu %9.1f %9.1f %9.1f %9.1f %7ld %12.1f %8ld %7ld\n", r.name,
                    ww.commit_us.size(), percentile(ww.commit_us, 0.5),
                    percentile(ww.commit_us, 0.99), percentile(ww.commit_us, 0.999),
                    percentile(ww.commit_us, 1.0), ww.waited, ww.wait_us_max, ww.evaluations,
                    ww.serial);
        std::fflush(stdout);
    }
    std::remove(path.c_str());
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    return 0;
}

}  // namespace bench
