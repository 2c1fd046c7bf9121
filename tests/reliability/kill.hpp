// The kill harness of the crash tests (crash.cpp, migrate_crash.cpp): fork a child that works on
// a database file and reports through a pipe when it reaches the point to kill it at, SIGKILL
// it, and tell what it left behind.
#pragma once

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace reliability {

struct Killed {
    bool killed = false;  // false: the child finished (committed) before the kill
    long report_to_exit_us = 0;
    bool left_journal = false;  // a journal or WAL with content: recovery has work to do
};

/// Forks a child that runs `child(report_fd)` (which must not return: it writes one byte to
/// report_fd at the kill point and exits when done), waits for its report and kills it
/// `delay_us` later (0: at once; < 0: never, the child runs to its end). A child that exits
/// with a nonzero status fails the whole run.
template <class Child>
Killed fork_and_kill(const std::string& path, bool wal, long delay_us, Child&& child) {
    int fds[2];
    if (::pipe(fds) != 0) std::perror("pipe"), std::exit(2);
    const pid_t pid = ::fork();
    if (pid < 0) std::perror("fork"), std::exit(2);
    if (pid == 0) {
        ::close(fds[0]);
        child(fds[1]);
        std::_Exit(3);  // the child function must not return
    }
    ::close(fds[1]);
    char byte = 0;
    const auto got = ::read(fds[0], &byte, 1);
    ::close(fds[0]);
    const auto reported = std::chrono::steady_clock::now();
    if (got == 1 && delay_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay_us));
    if (delay_us >= 0 || got != 1) ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    Killed k;
    k.report_to_exit_us = static_cast<long>(std::chrono::duration_cast<std::chrono::microseconds>(
                                                std::chrono::steady_clock::now() - reported)
                                                .count());
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "FAIL: child exited with status %d\n", WEXITSTATUS(status));
        std::exit(1);
    }
    k.killed = WIFSIGNALED(status);
    struct stat st {};
    const std::string side = path + (wal ? "-wal" : "-journal");
    k.left_journal = k.killed && ::stat(side.c_str(), &st) == 0 && st.st_size > 0;
    return k;
}

}  // namespace reliability
