// libloom: loom's non-template code, compiled once, for -DLOOM_SEPARATE_COMPILATION=ON builds
// (CMakeLists.txt; include/loom/src.hpp).
#include <loom/src.hpp>
