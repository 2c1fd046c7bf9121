// The standard headers loom needs a small part of, included cheaply. In C++20 mode
// libstdc++'s <chrono> also parses calendars, time zones and iostreams (about 0.7 s per
// translation unit on the reference machine), <ranges> every view, <thread> jthread, stop_token
// and semaphores, and <algorithm> every std::ranges algorithm; loom uses only durations and
// clocks, the range concepts, std::thread::id and the classic algorithms, which libstdc++ keeps
// in internal headers. Those are not a stable interface, so each is used only when it exists
// (__has_include) and only with libstdc++; libc++, MSVC's library, or defining
// LOOM_STD_FULL_HEADERS get the standard headers (the test suite is syntax-checked both ways).
#pragma once

#include <version>  // defines __GLIBCXX__ with libstdc++, whatever was included before

#if defined(__GLIBCXX__) && !defined(LOOM_STD_FULL_HEADERS) && defined(__has_include)
#define LOOM_STD_LIGHT_ 1
#else
#define LOOM_STD_LIGHT_ 0
#endif

#if LOOM_STD_LIGHT_ && __has_include(<bits/chrono.h>)
#include <bits/chrono.h>
#else
#include <chrono>
#endif

#if LOOM_STD_LIGHT_ && __has_include(<bits/std_thread.h>)
#include <bits/std_thread.h>
#else
#include <thread>
#endif

#if LOOM_STD_LIGHT_ && __has_include(<bits/stl_algo.h>)
#include <bits/stl_algo.h>
#else
#include <algorithm>
#endif

#if LOOM_STD_LIGHT_ && __has_include(<bits/ranges_base.h>)
#include <bits/ranges_base.h>
#else
#include <ranges>
#endif

#undef LOOM_STD_LIGHT_
