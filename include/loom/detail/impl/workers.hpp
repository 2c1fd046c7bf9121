// The definitions of workers.hpp's functions (detail/config.hpp says where they are compiled).
// Included at the end of workers.hpp only.
#pragma once

#include <system_error>

namespace loom::detail {

LOOM_DECL WorkerThreads::~WorkerThreads() {
    {
        const std::lock_guard<std::mutex> lock(m_);
        stop_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
}

LOOM_DECL std::size_t WorkerThreads::start(std::size_t n) {
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

LOOM_DECL void WorkerThreads::run(std::size_t n, const std::function<void(std::size_t)>& job) {
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

LOOM_DECL void WorkerThreads::loop(std::size_t i) {
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

LOOM_DECL Background::~Background() {
    {
        const std::lock_guard<std::mutex> lock(m_);
        stop_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

LOOM_DECL void Background::start(std::function<void()> job) {
    if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
    {
        const std::lock_guard<std::mutex> lock(m_);
        job_ = std::move(job);
        busy_ = true;
    }
    wake_.notify_all();
}

LOOM_DECL void Background::wait() {
    std::unique_lock<std::mutex> lock(m_);
    done_.wait(lock, [&] { return !busy_; });
}

LOOM_DECL void Background::loop() {
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

}  // namespace loom::detail
