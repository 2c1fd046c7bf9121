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
// must be inlined where they are used. A virtual function defined in impl/ is declared LOOM_DECL
// in its class as well: declared there without `inline`, it would become the class's key
// function, and every header-only translation unit would emit the vtable and every function it
// names (CTest loom_hpp_defines_nothing).
#pragma once

#if defined(LOOM_SEPARATE_COMPILATION)
#define LOOM_DECL
#else
#define LOOM_DECL inline
#endif
