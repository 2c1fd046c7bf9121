// tests/catch.hpp - the one Catch2 include for loom's tests: `#include "catch.hpp"`.
//
// Debian 12 ships Catch2 v2 (a single <catch2/catch.hpp>); vcpkg and newer distributions ship
// v3 (<catch2/catch_all.hpp>). The build says which one it found through LOOM_CATCH2_MAJOR;
// without it (an IDE, a one-off compile) the header that exists wins.
#pragma once

#if defined(LOOM_CATCH2_MAJOR)
#if LOOM_CATCH2_MAJOR >= 3
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
#elif __has_include(<catch2/catch_all.hpp>)
#include <catch2/catch_all.hpp>
#else
#include <catch2/catch.hpp>
#endif
