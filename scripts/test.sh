#!/usr/bin/env bash
# scripts/test.sh - build everything and run loom's whole test suite.
#
#     bash scripts/test.sh               # build/      Debug, all tests
#     bash scripts/test.sh --sanitize    # build-asan/ Debug + ASan/UBSan, without the
#                                        #             consumer and compile-fail tests
#     bash scripts/test.sh -L compile_fail    # other arguments go to ctest
#
# LOOM_SANITIZE=1 in the environment is the same as --sanitize; LOOM_BUILD_DIR and
# LOOM_ASAN_BUILD_DIR choose other build directories. Installs missing Debian packages first
# (see scripts/deps.sh).
set -euo pipefail

# shellcheck source=scripts/deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"

sanitize="${LOOM_SANITIZE:-0}"
ctest_args=()
for arg in "$@"; do
    case "$arg" in
        --sanitize) sanitize=1 ;;
        *) ctest_args+=("$arg") ;;
    esac
done
case "$sanitize" in 1|ON|on|true|TRUE|yes) sanitize=1 ;; *) sanitize=0 ;; esac

loom_ensure_deps

if [ "$sanitize" = 1 ]; then
    build_dir="${LOOM_ASAN_BUILD_DIR:-$LOOM_ROOT/build-asan}"
    # The benchmark is measured in the normal build; under sanitizers it would only be slow.
    loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=ON \
        -DLOOM_BUILD_BENCHMARKS=OFF
    # Consumer and compile-fail tests build separate programs without sanitizers, exactly as
    # in the normal run: running them again would add nothing.
    ctest_args=(-LE 'consumer|compile_fail' "${ctest_args[@]}")
    export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}"
    export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
else
    build_dir="${LOOM_BUILD_DIR:-$LOOM_ROOT/build}"
    # Debug: the template-heavy tests compile about twice as fast without optimisation (the
    # benchmark target sets -O2 itself). example.sh uses the same build directory and type.
    loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Debug -DLOOM_SANITIZE=OFF
fi

start=$SECONDS
cmake --build "$build_dir" -j "$LOOM_JOBS"
ctest --test-dir "$build_dir" --output-on-failure -j "$LOOM_JOBS" "${ctest_args[@]}"
loom_log "$( [ "$sanitize" = 1 ] && echo 'sanitizer ' )build and tests took $((SECONDS - start))s"
