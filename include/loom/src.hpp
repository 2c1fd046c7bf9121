// loom/src.hpp - the one translation unit of a separately compiled loom.
//
// By default loom is header-only: its non-template code is compiled, as inline functions, in
// every translation unit that includes it. A program (or library) built with
// LOOM_SEPARATE_COMPILATION defined in every translation unit compiles that code once instead,
// in the one source file that includes this header:
//
//     // loom.cpp, compiled with -DLOOM_SEPARATE_COMPILATION like the rest of the program
//     #include <loom/src.hpp>
//
// CMake does this for you: configure loom with -DLOOM_SEPARATE_COMPILATION=ON and loom::loom
// becomes a static library that defines the macro for everything that links it
// (docs/performance.md, "Separate compilation"). Templates are compiled where they are used in
// both modes. The PostgreSQL engine (<loom/postgres.hpp>, libpq) and <loom/json.hpp>
// (nlohmann/json) stay header-only: include them where you use them.
#pragma once

#if !defined(LOOM_SEPARATE_COMPILATION)
#error \
    "<loom/src.hpp> is for separate compilation: define LOOM_SEPARATE_COMPILATION in every translation unit (CMake: -DLOOM_SEPARATE_COMPILATION=ON), or leave this file out and use loom header-only"
#endif

#define LOOM_SOURCE 1

#include "chrono.hpp"
#include "format.hpp"
#include "log.hpp"
#include "loom.hpp"
#include "migrate.hpp"
#include "profile.hpp"
#include "testing.hpp"
