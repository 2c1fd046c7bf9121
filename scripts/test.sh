#!/usr/bin/env bash
# scripts/test.sh - build everything and run loom's whole test suite.
#
#     bash scripts/test.sh               # build/         Debug + ASan/UBSan, clang++-14: every
#                                        #                test (unit, docs, smoke, examples,
#                                        #                compile-fail, consumers, PostgreSQL)
#     bash scripts/test.sh --gcc         # build-gcc/     the same run built by GCC (g++ 12)
#     bash scripts/test.sh --release     # build-release/ Release, GCC: every program (the unit
#                                        #                tests too, run on SQLite), the
#                                        #                examples and the benchmark's --quick run
#                                        #                (on SQLite and on PostgreSQL), built
#                                        #                with -DLOOM_SEPARATE_COMPILATION=ON
#                                        #                (LOOM_SEPARATE_COMPILATION=OFF: not)
#     bash scripts/test.sh --sanitize    # build-asan/    only the unit tests, Debug + ASan/UBSan
#     bash scripts/test.sh -L compile_fail    # other arguments go to ctest
#
# Between them the normal run and --release build every target with both compilers' front ends
# in both configurations CI needs: Clang Debug with the sanitizers, GCC Release with the
# optimiser's warnings, and run the tests under both (.ci/run runs the two); the normal run
# uses loom header-only, --release separately compiled (loom::loom a static library), so both
# ways of building loom pass every test. clang-14 is
# installed when missing (Debian's clang-14; the sanitizer runtimes come with it).
#
# The normal run also runs the PostgreSQL tests (CTest label "postgres": the behavioural test
# files listed in tests/CMakeLists.txt, again, on PostgreSQL) against the server in
# LOOM_TEST_PG_URL, or else a throwaway PostgreSQL 15 cluster it starts and stops
# (scripts/pg.sh; installs postgresql-15 when missing). LOOM_TEST_PG=0 skips them.
#
# Warnings are errors (-DLOOM_WERROR=ON) when CI is set in the environment (as CI services do)
# or LOOM_WERROR=ON is; LOOM_WERROR=OFF turns that off again.
# LOOM_SANITIZE=1 in the environment is the same as --sanitize; LOOM_BUILD_DIR,
# LOOM_GCC_BUILD_DIR, LOOM_ASAN_BUILD_DIR and LOOM_RELEASE_BUILD_DIR choose other build
# directories. Installs missing Debian packages first (see scripts/deps.sh).
set -euo pipefail

# shellcheck source=scripts/deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
# shellcheck source=scripts/pg.sh
source "$(dirname "${BASH_SOURCE[0]}")/pg.sh"

mode=normal
build_targets=()
case "${LOOM_SANITIZE:-0}" in 1|ON|on|true|TRUE|yes) mode=sanitize ;; esac
ctest_args=()
for arg in "$@"; do
    case "$arg" in
        --sanitize) mode=sanitize ;;
        --release) mode=release ;;
        --gcc) mode=gcc ;;
        --clang) mode=normal ;;  # the normal run is the Clang one
        *) ctest_args+=("$arg") ;;
    esac
done

# -Werror: on in CI, else off unless asked for. Passed every time, so that a build directory
# never keeps the value of an earlier run.
werror=OFF
case "${CI:-}" in ""|0|false|FALSE|no) ;; *) werror=ON ;; esac
case "${LOOM_WERROR:-}" in
    1|ON|on|true|TRUE|yes) werror=ON ;;
    0|OFF|off|false|FALSE|no) werror=OFF ;;
esac

loom_ensure_deps

case "$mode" in
sanitize)
    build_dir="${LOOM_ASAN_BUILD_DIR:-$LOOM_ROOT/build-asan}"
    # The benchmark is measured in the normal build; under sanitizers it would only be slow.
    loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=ON \
        -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_WERROR="$werror" -DLOOM_SEPARATE_COMPILATION=OFF
    # The unit tests (loom_tests) run under the sanitizers. Consumer, compile-fail, smoke and
    # doc-snippet programs are built and run by the normal run; building them again here would
    # cost CI minutes and add little.
    build_targets=(--target loom_tests)
    ctest_args=(-L unit "${ctest_args[@]}")
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    ;;
release)
    build_dir="${LOOM_RELEASE_BUILD_DIR:-$LOOM_ROOT/build-release}"
    # Every program optimised by GCC: the optimiser's warnings over the headers and the tests
    # (GCC warns about some things only at -O2), the unit tests run optimised (on SQLite; the
    # PostgreSQL run is the normal one's), the examples' output and the benchmark's --quick run
    # (its checksums must agree). The doc snippets are built by the normal run: they only show
    # that the documentation compiles.
    loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Release -DLOOM_SANITIZE=OFF \
        -DCMAKE_CXX_COMPILER="$(command -v g++)" \
        -DLOOM_BUILD_TESTS=ON -DLOOM_BUILD_EXAMPLES=ON -DLOOM_BUILD_BENCHMARKS=ON \
        -DLOOM_BUILD_DOC_TESTS=OFF -DLOOM_WERROR="$werror" \
        -DLOOM_SEPARATE_COMPILATION="${LOOM_SEPARATE_COMPILATION:-ON}"
    ctest_args=(-L 'unit|example|bench' "${ctest_args[@]}")
    # bench.quick.postgres (labels bench and postgres) runs the benchmark's --quick on
    # PostgreSQL: against LOOM_TEST_PG_URL or a throwaway cluster; LOOM_TEST_PG=0 skips it.
    case "${LOOM_TEST_PG:-1}" in
    0|OFF|off|false|no) ctest_args=(-LE postgres "${ctest_args[@]}") ;;
    *)
        [ -n "${LOOM_TEST_PG_URL:-}" ] || loom_install_packages postgresql-15
        loom_pg_start
        ;;
    esac
    ;;
*)
    if [ "$mode" = gcc ]; then
        build_dir="${LOOM_GCC_BUILD_DIR:-$LOOM_ROOT/build-gcc}"
        cxx="$(command -v g++)"
    else
        build_dir="${LOOM_BUILD_DIR:-$LOOM_ROOT/build}"
        loom_install_packages clang-14
        # Debian 12's clang-14 package installs clang++-14; plain clang++ only with the
        # clang package.
        cxx="$(command -v clang++-14 || command -v clang++ || true)"
        if [ -z "$cxx" ]; then
            loom_log "clang++-14 not found"
            exit 1
        fi
    fi
    # Debug: the template-heavy tests compile about twice as fast without optimisation.
    # AddressSanitizer + UndefinedBehaviorSanitizer on the tests and examples: one build finds
    # both wrong results and memory/UB errors. Clang by default: its ASan build of the tests
    # takes about half the CPU time of GCC's (the GCC build of everything is --release's). The
    # benchmark is built and run by --release.
    loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=ON \
        -DCMAKE_CXX_COMPILER="$cxx" -DLOOM_BUILD_BENCHMARKS=OFF -DLOOM_WERROR="$werror" \
        -DLOOM_SEPARATE_COMPILATION=OFF
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
    case "${LOOM_TEST_PG:-1}" in
    0|OFF|off|false|no) ctest_args=(-LE postgres "${ctest_args[@]}") ;;
    *)
        [ -n "${LOOM_TEST_PG_URL:-}" ] || loom_install_packages postgresql-15
        loom_pg_start
        ;;
    esac
    ;;
esac

start=$SECONDS
cmake --build "$build_dir" -j "$LOOM_JOBS" "${build_targets[@]}"
ctest --test-dir "$build_dir" --output-on-failure -j "$LOOM_JOBS" "${ctest_args[@]}"
loom_log "$mode build and tests (LOOM_WERROR=$werror) took $((SECONDS - start))s"
