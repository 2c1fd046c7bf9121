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
#include <system_error>
#include <vector>

#include "std_light.hpp"  // std::thread, std::min

namespace loom::detail {

class WorkerThreads {
public:
    WorkerThreads() = default;
    WorkerThreads(const WorkerThreads&) = delete;
    WorkerThreads& operator=(const WorkerThreads&) = delete;
    ~WorkerThreads() {
        {
            const std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        wake_.notify_all();
        for (auto& t : threads_) t.join();
    }

    /// Starts threads until there are `n`; returns how many there are, at most `n` (fewer
    /// when the system refuses a thread).
    std::size_t start(std::size_t n) {
        while (threads_.size() < n) {
            const std::size_t i = threads_.size() + 1;
            try {
                threads_.emplace_back([this, i] { loop(i); });
            } catch (const std::system_error&) {
                break;
            }
        }
        return std::min(n, threads_.size());
    }

    /// Runs job(0) on this thread and job(1)...job(n) on worker threads at the same time (n at
    /// most what start() returned); returns when every call has returned. `job` must not throw.
    void run(std::size_t n, const std::function<void(std::size_t)>& job) {
        if (n > 0) {
            {
                const std::lock_guard<std::mutex> lock(m_);
                job_ = &job;
                active_ = n;
                pending_ = n;
                ++generation_;
            }
            wake_.notify_all();
        }
        job(0);
        if (n > 0) {
            std::unique_lock<std::mutex> lock(m_);
            done_.wait(lock, [&] { return pending_ == 0; });
            job_ = nullptr;
        }
    }

private:
    void loop(std::size_t i) {
        std::uint64_t seen = 0;
        for (;;) {
            const std::function<void(std::size_t)>* job = nullptr;
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] { return stop_ || (generation_ != seen && i <= active_); });
                if (stop_) return;
                seen = generation_;
                job = job_;
            }
            (*job)(i);
            {
                const std::lock_guard<std::mutex> lock(m_);
                if (--pending_ == 0) done_.notify_one();
            }
        }
    }

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
    ~Background() {
        {
            const std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

    /// Hands `job` to the thread (none may be in hand: wait() first); std::system_error when
    /// the system refuses the thread. `job` must not throw.
    void start(std::function<void()> job) {
        if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
        {
            const std::lock_guard<std::mutex> lock(m_);
            job_ = std::move(job);
            busy_ = true;
        }
        wake_.notify_all();
    }
    /// Returns once the job in hand (if any) has returned.
    void wait() {
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [&] { return !busy_; });
    }

private:
    void loop() {
        for (;;) {
            std::function<void()> job;
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] { return stop_ || job_; });
                if (!job_) return;  // stopped, nothing in hand
                job = std::move(job_);
                job_ = nullptr;
            }
            job();
            job = nullptr;  // what it holds goes on this thread, before the caller goes on
            {
                const std::lock_guard<std::mutex> lock(m_);
                busy_ = false;
            }
            done_.notify_all();
        }
    }

    std::mutex m_;
    std::condition_variable wake_, done_;
    std::function<void()> job_;
    bool busy_ = false, stop_ = false;
    std::thread thread_;  // last: started after the members it uses
};

}  // namespace loom::detail
