// <loom/src.hpp> compiles loom's non-template code for a separately compiled program. In a
// header-only build (no LOOM_SEPARATE_COMPILATION) that code is already inline in every
// translation unit: the file must refuse to compile, saying what to do, instead of compiling
// a second, non-inline copy that clashes at link time.
// expect-error: <loom/src.hpp> is for separate compilation
#undef LOOM_SEPARATE_COMPILATION
#include <loom/src.hpp>

int main() {
    return 0;
}
