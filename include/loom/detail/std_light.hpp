// The standard headers loom needs a small part of, included cheaply. In C++20 mode
// libstdc++'s <chrono> also parses calendars, time zones and iostreams (about 0.7 s per
// translation unit on the reference machine) and <ranges> every view; loom uses only durations
// and clocks, the range concepts and std::thread::id, which libstdc++ keeps in internal headers.
// Other standard libraries get the full headers.
#pragma once

#if defined(__GLIBCXX__) && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>
#else
#include <chrono>
#endif

// std::thread::id and std::this_thread::get_id: <thread> adds jthread, stop_token and
// semaphores.
#if defined(__GLIBCXX__) && __has_include(<bits/std_thread.h>)
#include <bits/std_thread.h>
#else
#include <thread>
#endif

// The classic algorithms: C++20's <algorithm> adds every std::ranges algorithm, which loom does
// not use.
#if defined(__GLIBCXX__) && __has_include(<bits/stl_algo.h>)
#include <bits/stl_algo.h>
#else
#include <algorithm>
#endif

#if defined(__GLIBCXX__) && __has_include(<bits/ranges_base.h>)
#include <bits/ranges_base.h>
#else
#include <ranges>
#endif
