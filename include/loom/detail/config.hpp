// How loom's non-template code is compiled: in every translation unit that includes it (the
// default, header-only), or once, in a library (LOOM_SEPARATE_COMPILATION; docs/performance.md,
// "Separate compilation").
//
// A header whose non-template functions are compiled once declares them in the header and
// defines them in impl/<name>.hpp beside it, each definition marked LOOM_DECL. The header ends
// with
//
//     #if !defined(LOOM_SEPARATE_COMPILATION) || defined(LOOM_SOURCE)
//     #include "impl/<name>.hpp"
//     #endif
//
// so a header-only build sees the definitions as inline functions, as before, and a separately
// compiled program sees only their declarations, except in the one translation unit that
// includes <loom/src.hpp> (which defines LOOM_SOURCE): that one compiles them, once.
//
// Templates and the small functions a row loop calls stay in the headers in both modes: they
// must be inlined where they are used.
#pragma once

#if defined(LOOM_SEPARATE_COMPILATION)
#define LOOM_DECL
#else
#define LOOM_DECL inline
#endif
