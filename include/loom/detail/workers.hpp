// A few threads a Database keeps for running prefetch levels at the same time
// (Session::fetch_together): started when first needed, then reused, so a batch of levels
// costs two condition-variable hand-offs per thread rather than a thread start (measured in
// docs/performance.md). And the one thread a chunks(n, loom::ahead) walk loads its next
// chunk on (Background).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

#include "config.hpp"
#include "std_light.hpp"  // std::thread, std::min

namespace loom::detail {

class WorkerThreads {
public:
    WorkerThreads() = default;
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;
    ~WorkerThreads();

    /// Starts threads until there are `n`; returns how many there are, at most `n` (fewer
    /// when the system refuses a thread).
    std::size_t start(std::size_t n);

    /// Runs job(0) on this thread and job(1)...job(n) on worker threads at the same time (n at
    /// most what start() returned); returns when every call has returned. `job` must not throw.
    void run(std::size_t n, const std::function<void(std::size_t)>& job);

private:
    void loop(std::size_t i);

    std::mutex m_;
    std::condition_variable wake_, done_;
    std::vector<std::thread> threads_;
    const std::function<void(std::size_t)>* job_ = nullptr;
    std::size_t active_ = 0, pending_ = 0;
    std::uint64_t generation_ = 0;
    bool stop_ = false;
};

/// One thread that runs one job at a time beside the caller's: chunks(n, loom::ahead) loads
/// the next chunk on it while the caller works on the current one. Started by the first job,
/// then reused; its destructor waits for the job in hand and stops it.
class Background {
public:
    Background() = default;
    Background(const Background&) = delete;
    Background& operator=(const Background&) = delete;
    ~Background();

    /// Hands `job` to the thread (none may be in hand: wait() first); std::system_error when
    /// the system refuses the thread. `job` must not throw.
    void start(std::function<void()> job);
    /// Returns once the job in hand (if any) has returned.
    void wait();

private:
    void loop();

    std::mutex m_;
    std::condition_variable wake_, done_;
    std::function<void()> job_;
    bool busy_ = false, stop_ = false;
    std::thread thread_;  // last: started after the members it uses
};

}  // namespace loom::detail

#if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
#include "impl/workers.hpp"
#endif
