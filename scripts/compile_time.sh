#!/usr/bin/env bash
# scripts/compile_time.sh - what including loom costs at compile time. Prints the compile time,
# at -O0 and at -O2, of
#   baseline : a TU that includes only <sqlite3.h> and <string>
#   std floor: a TU that includes the headers outside loom that loom.hpp's headers include
#              (the standard library's, <sqlite3.h>), and no loom code
#   loom.hpp : a TU that includes only <loom/loom.hpp>
#   bookstore: examples/bookstore.cpp (four models, prefetch_related, writes)
#   bookstore, separately compiled: the same with -DLOOM_SEPARATE_COMPILATION (loom's
#              non-template code compiled once, elsewhere), and that once: src/loom.cpp
# each in CPU seconds of the compiler (user + sys: on a shared machine the honest figure, where
# wall time counts the other programs' turns too), the median of N runs, the TUs interleaved so
# that a busy machine slows them alike, and as a ratio to the baseline at the same level; the
# median wall time is printed beside it. It only prints: no timing is asserted anywhere.
#
#     bash scripts/compile_time.sh            # median of 3, with c++ (or $CXX), -O0 and -O2
#     bash scripts/compile_time.sh 5          # median of 5
#     CXX=clang++-14 bash scripts/compile_time.sh
#     LOOM_COMPILE_TIME_LEVELS=-O0 bash scripts/compile_time.sh   # one level only
#
# The compile flags are the ones the loom::loom CMake target gives a consumer (its include
# directories and definitions with those of SQLite3 and fmt, and its C++20 option), read from a
# small CMake project configured once in $LOOM_COMPILE_TIME_DIR (default build-compile-time/),
# plus the level. Each TU is compiled to an object file; nothing is linked.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNS="${1:-3}"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bash scripts/compile_time.sh [runs]" >&2; exit 2; }
WORK="${LOOM_COMPILE_TIME_DIR:-$ROOT/build-compile-time}"
CXX="${CXX:-c++}"
command -v "$CXX" >/dev/null || { echo "compile_time.sh: compiler '$CXX' not found" >&2; exit 1; }
CXX="$(command -v "$CXX")"

# ---- the loom target's flags, from CMake ---------------------------------------------------------
# An empty build directory per compiler, so switching CXX never reuses another's cache.
probe="$WORK/probe-$(basename "$CXX")"
mkdir -p "$probe/src"
cat >"$probe/src/CMakeLists.txt" <<'EOF'
cmake_minimum_required(VERSION 3.25)
project(loom_compile_time LANGUAGES CXX)
add_subdirectory("${LOOM_ROOT}" loom)
# The transitive include directories and definitions of a target that links loom::loom, and the
# -std option CMake gives it for loom's cxx_std_20 (extensions on: CMake's default).
add_library(probe OBJECT probe.cpp)
target_link_libraries(probe PRIVATE loom::loom)
set(inc "$<TARGET_PROPERTY:probe,INCLUDE_DIRECTORIES>")
set(def "$<TARGET_PROPERTY:probe,COMPILE_DEFINITIONS>")
file(GENERATE OUTPUT "${CMAKE_BINARY_DIR}/flags.txt" CONTENT
"${CMAKE_CXX20_EXTENSION_COMPILE_OPTION}
$<$<BOOL:${inc}>:-I$<JOIN:${inc},\n-I>\n>$<$<BOOL:${def}>:-D$<JOIN:${def},\n-D>\n>")
# CMake leaves the compiler's own include directories (/usr/include) off its command lines.
string(REPLACE ";" "\n-I" implicit "-I${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES}")
file(WRITE "${CMAKE_BINARY_DIR}/implicit.txt" "${implicit}\n")
EOF
: >"$probe/src/probe.cpp"
if ! cmake -S "$probe/src" -B "$probe/build" -DLOOM_ROOT="$ROOT" -DCMAKE_CXX_COMPILER="$CXX" \
        -DCMAKE_BUILD_TYPE= >"$probe/configure.log" 2>&1; then
    cat "$probe/configure.log" >&2
    echo "compile_time.sh: configuring the flag probe failed" >&2
    exit 1
fi
# The flags in order, once each, without the implicit include directories.
mapfile -t FLAGS < <(awk 'NR == FNR { skip[$0] = 1; next } !skip[$0] && !seen[$0]++' \
    "$probe/build/implicit.txt" "$probe/build/flags.txt")

# ---- the translation units -----------------------------------------------------------------------
tus="$WORK/tu"
mkdir -p "$tus"
printf '#include <sqlite3.h>\n#include <string>\n' >"$tus/baseline.cpp"
printf '#include <loom/loom.hpp>\n' >"$tus/loom_hpp.cpp"
# std_floor: the headers outside loom that loom.hpp's own headers include directly (the standard
# library's, the libstdc++ internals detail/std_light.hpp picks, <sqlite3.h>), without loom's
# code: the floor a header-only library with loom's public types cannot go below. Read from the
# compiler's include tree (-H: one line per header, "." repeated by depth): a header outside
# include/loom whose parent is inside it.
"$CXX" "${FLAGS[@]}" -H -fsyntax-only "$tus/loom_hpp.cpp" 2>&1 >/dev/null |
    awk -v root="$ROOT/include/loom/" '
        /^\.+ / {
            depth = index($0, " ") - 1
            path = substr($0, depth + 2)
            parent_is_loom[depth] = index(path, root) == 1
            if (depth > 1 && parent_is_loom[depth - 1] && !parent_is_loom[depth] && !seen[path]++) {
                if (match(path, /\/c\+\+\/[0-9]+\//)) name = substr(path, RSTART + RLENGTH)
                else { n = split(path, part, "/include/"); name = part[n] }
                printf "#include <%s>\n", name
            }
        }' >"$tus/std_floor.cpp"
[[ -s "$tus/std_floor.cpp" ]] || { echo "compile_time.sh: reading loom.hpp's include tree failed" >&2; exit 1; }

# compile <level> <source> [flag...]: one compile; prints "<cpu ns> <wall ns> <functions>" (CPU:
# user + sys of the compiler and its children, from bash's time keyword; functions: those the
# object file defines, nm's T, t, W and w symbols: the code generated for the TU, a figure that,
# unlike the times, does not depend on how busy the machine is).
compile() {
    local TIMEFORMAT='%3R %3U %3S' t level="$1" src="$2"
    shift 2
    t=$({ time "$CXX" "${FLAGS[@]}" "$@" "$level" -c "$src" -o "$tus/out.o" 2>"$tus/compiler.log"; } 2>&1) || {
        cat "$tus/compiler.log" >&2
        echo "compile_time.sh: compiling $src failed" >&2
        exit 1
    }
    local functions
    functions=$(nm "$tus/out.o" | grep -c ' [TtWw] ' || true)
    awk -v t="$t" -v n="$functions" \
        'BEGIN { split(t, f, " "); printf "%.0f %.0f %d\n", (f[2] + f[3]) * 1e9, f[1] * 1e9, n }'
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

LEVELS="${LOOM_COMPILE_TIME_LEVELS:--O0 -O2}"
echo "compiler: $("$CXX" --version | head -n 1)"
echo "flags:    ${FLAGS[*]} <level> -c"
echo "median of $RUNS runs each, the TUs interleaved"
SEP=-DLOOM_SEPARATE_COMPILATION
for level in $LEVELS; do
    base=() floor=() loom=() book=() base_w=() floor_w=() loom_w=() book_w=()
    sep=() sep_w=() lib=() lib_w=()
    for ((i = 0; i < RUNS; i++)); do
        r=$(compile "$level" "$tus/baseline.cpp")
        read -r c w n <<<"$r"
        base+=("$c") base_w+=("$w") base_n=$n
        r=$(compile "$level" "$tus/std_floor.cpp")
        read -r c w n <<<"$r"
        floor+=("$c") floor_w+=("$w") floor_n=$n
        r=$(compile "$level" "$tus/loom_hpp.cpp")
        read -r c w n <<<"$r"
        loom+=("$c") loom_w+=("$w") loom_n=$n
        r=$(compile "$level" "$ROOT/examples/bookstore.cpp")
        read -r c w n <<<"$r"
        book+=("$c") book_w+=("$w") book_n=$n
        r=$(compile "$level" "$ROOT/examples/bookstore.cpp" "$SEP")
        read -r c w n <<<"$r"
        sep+=("$c") sep_w+=("$w") sep_n=$n
        r=$(compile "$level" "$ROOT/src/loom.cpp" "$SEP")
        read -r c w n <<<"$r"
        lib+=("$c") lib_w+=("$w") lib_n=$n
    done
    b=$(median "${base[@]}")
    report() {  # report <label> <cpu ns> <wall ns> <functions>
        awk -v l="$1" -v t="$2" -v w="$3" -v n="$4" -v b="$b" \
            'BEGIN { printf "%-42s %7.2f s CPU  %6.1fx   (wall %.2f s, %d functions)\n", l, t / 1e9, t / b, w / 1e9, n }'
    }
    report "$level baseline (<sqlite3.h> + <string>)" "$b" "$(median "${base_w[@]}")" "$base_n"
    report "$level std floor ($(grep -c . "$tus/std_floor.cpp") headers loom includes)" \
        "$(median "${floor[@]}")" "$(median "${floor_w[@]}")" "$floor_n"
    report "$level <loom/loom.hpp> only" "$(median "${loom[@]}")" "$(median "${loom_w[@]}")" "$loom_n"
    awk -v l="$(median "${loom[@]}")" -v f="$(median "${floor[@]}")" \
        'BEGIN { printf "%-42s %7.2f s CPU  %6.1fx the std floor\n", "   loom.hpp minus the std floor", (l - f) / 1e9, l / f }'
    report "$level examples/bookstore.cpp (4 models)" "$(median "${book[@]}")" "$(median "${book_w[@]}")" "$book_n"
    report "$level   the same, separately compiled" "$(median "${sep[@]}")" "$(median "${sep_w[@]}")" "$sep_n"
    report "$level   src/loom.cpp (once per program)" "$(median "${lib[@]}")" "$(median "${lib_w[@]}")" "$lib_n"
done
rm -f "$tus/out.o"
