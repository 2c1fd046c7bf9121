#!/usr/bin/env bash
# scripts/reliability.sh - loom's reliability checks beyond the unit suite (which already holds
# tests/test_reliability.cpp: I/O faults and data that does not fit):
#   1. concurrency: 8 threads, one Database each, one WAL file (tests/reliability/concurrency.cpp)
#   2. the same under ThreadSanitizer
#   3. crash safety: a child SIGKILLed mid-transaction at 2 x 24 kill points (crash.cpp), and
#      mid-migration at 2 x 24 kill points (migrate_crash.cpp); 3 processes applying the same
#      migrations at once, 2 x 4 rounds (migrate_race.cpp)
#   4. the two libFuzzer targets (fuzz/) for a bounded time each, from the checked-in seeds
#   5. valgrind on the bookstore example
#   6. faults that need a real filesystem or threads (tests/reliability/faults.cpp): a really
#      full disk and a read-only WAL mount, each on a small tmpfs (mounted only when run as
#      root, as CI does; skipped with a message otherwise), and one Database shared by THREADS
#      threads (every operation works or is refused with UsageError), also under TSan
# Prints the figures reached; exits non-zero on the first failure.
#
# Knobs (environment): LOOM_RELIABILITY_BUILD (build directory, default build-reliability),
# THREADS (8), OPS (operations per thread, 400), TSAN_OPS (100), KILL_POINTS (per journal
# mode, 24), ROWS (per killed transaction, 3000), MIGRATE_KILL_POINTS (24), MIGRATE_BOOKS (2500),
# RACE_ROUNDS (4), RACE_PROCESSES (3), FUZZ_SECONDS (per target, 60), TMPFS_SIZE (the full-disk
# filesystem, 8m).
# Needs clang with libFuzzer (libclang-rt-14-dev on Debian 12), valgrind, libsqlite3-dev and
# libfmt-dev; installs the missing ones with apt-get when run as root (sudo when available).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${LOOM_RELIABILITY_BUILD:-$ROOT/build-reliability}"
THREADS="${THREADS:-8}"
OPS="${OPS:-400}"
TSAN_OPS="${TSAN_OPS:-100}"
KILL_POINTS="${KILL_POINTS:-24}"
ROWS="${ROWS:-3000}"
MIGRATE_KILL_POINTS="${MIGRATE_KILL_POINTS:-24}"
MIGRATE_BOOKS="${MIGRATE_BOOKS:-2500}"
RACE_ROUNDS="${RACE_ROUNDS:-4}"
RACE_PROCESSES="${RACE_PROCESSES:-3}"
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
TMPFS_SIZE="${TMPFS_SIZE:-8m}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'reliability: FAILED: %s\n' "$*" >&2; exit 1; }

# ---- tools -------------------------------------------------------------------------------------
# Some installations name the compiler clang++-14 only.
CLANGXX="$(command -v clang++ || command -v clang++-14 || true)"
need=()
[[ -n "$CLANGXX" ]] || need+=(clang)
command -v g++ >/dev/null || need+=(g++)
command -v valgrind >/dev/null || need+=(valgrind)
[[ -f /usr/include/sqlite3.h ]] || need+=(libsqlite3-dev)
[[ -f /usr/include/fmt/core.h ]] || need+=(libfmt-dev)
if [[ -n "$CLANGXX" ]] && ! ls "$("$CLANGXX" -print-resource-dir)"/lib/linux/libclang_rt.fuzzer-x86_64.a \
        >/dev/null 2>&1; then
    need+=(libclang-rt-14-dev)
fi
if ((${#need[@]})); then
    if [[ $EUID -eq 0 ]]; then
        SUDO=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        SUDO=(sudo)
    else
        die "missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}"
    fi
    step "installing ${need[*]}"
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
    CLANGXX="$(command -v clang++ || command -v clang++-14)"
fi

mkdir -p "$BUILD"
CXXFLAGS=(-std=c++20 -g -I"$ROOT/include" -I"$ROOT/tests")
LIBS=(-lsqlite3 -lfmt -pthread)
WARN=(-Wall -Wextra -Wpedantic -Werror)
start=$SECONDS

# ---- build everything, two compilers at a time --------------------------------------------------
step "building (2 jobs)"
build() {  # build <log name> <command...>
    local log="$BUILD/$1.log"; shift
    if ! "$@" >"$log" 2>&1; then
        cat "$log" >&2
        return 1
    fi
}
# shellcheck disable=SC2054  # the commas belong to one flag
FUZZ=(-O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
jobs_=(
    "concurrency|g++ ${CXXFLAGS[*]} -O2 ${WARN[*]} -Wno-missing-field-initializers $ROOT/tests/reliability/concurrency.cpp -o $BUILD/concurrency ${LIBS[*]}"
    "concurrency_tsan|$CLANGXX ${CXXFLAGS[*]} -O1 -fsanitize=thread $ROOT/tests/reliability/concurrency.cpp -o $BUILD/concurrency_tsan ${LIBS[*]}"
    "crash|g++ ${CXXFLAGS[*]} -O2 ${WARN[*]} -Wno-missing-field-initializers $ROOT/tests/reliability/crash.cpp -o $BUILD/crash ${LIBS[*]}"
    "migrate_crash|g++ ${CXXFLAGS[*]} -O1 ${WARN[*]} -Wno-missing-field-initializers $ROOT/tests/reliability/migrate_crash.cpp -o $BUILD/migrate_crash ${LIBS[*]}"
    "migrate_race|g++ ${CXXFLAGS[*]} -O1 ${WARN[*]} -Wno-missing-field-initializers $ROOT/tests/reliability/migrate_race.cpp -o $BUILD/migrate_race ${LIBS[*]}"
    "fuzz_open|$CLANGXX ${CXXFLAGS[*]} ${FUZZ[*]} $ROOT/fuzz/fuzz_open.cpp -o $BUILD/fuzz_open ${LIBS[*]}"
    "fuzz_roundtrip|$CLANGXX ${CXXFLAGS[*]} ${FUZZ[*]} $ROOT/fuzz/fuzz_roundtrip.cpp -o $BUILD/fuzz_roundtrip ${LIBS[*]}"
    "bookstore|g++ ${CXXFLAGS[*]} -O1 ${WARN[*]} -Wno-missing-field-initializers $ROOT/examples/bookstore.cpp -o $BUILD/bookstore ${LIBS[*]}"
    "faults|g++ ${CXXFLAGS[*]} -O1 ${WARN[*]} -Wno-missing-field-initializers $ROOT/tests/reliability/faults.cpp -o $BUILD/faults ${LIBS[*]}"
    "faults_tsan|$CLANGXX ${CXXFLAGS[*]} -O1 -fsanitize=thread $ROOT/tests/reliability/faults.cpp -o $BUILD/faults_tsan ${LIBS[*]}"
)
pids=()
names=()
for j in "${jobs_[@]}"; do
    name="${j%%|*}"
    cmd="${j#*|}"
    # shellcheck disable=SC2086  # the command line is split on purpose
    build "$name" $cmd &
    pids+=($!)
    names+=("$name")
    if ((${#pids[@]} >= 2)); then
        wait "${pids[0]}" || die "building ${names[0]}"
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
    fi
done
for i in "${!pids[@]}"; do wait "${pids[$i]}" || die "building ${names[$i]}"; done
printf 'built in %ds\n' $((SECONDS - start))

# ---- 1, 2: concurrency --------------------------------------------------------------------------
step "concurrency: $THREADS threads x $OPS operations on one WAL file"
"$BUILD/concurrency" "$THREADS" "$OPS" "$BUILD/concurrency.db" | tee "$BUILD/concurrency.out" \
    || die "concurrency"

step "concurrency under ThreadSanitizer: $THREADS threads x $TSAN_OPS operations"
tsan=("$BUILD/concurrency_tsan" "$THREADS" "$TSAN_OPS" "$BUILD/concurrency_tsan.db")
# Kernels with a large mmap randomisation break older TSan runtimes ("unexpected memory
# mapping"); running without address randomisation avoids it.
if ! TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" "${tsan[@]}" \
        >"$BUILD/tsan.out" 2>&1; then
    if grep -q "unexpected memory mapping" "$BUILD/tsan.out" && command -v setarch >/dev/null; then
        TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" setarch "$(uname -m)" -R \
            "${tsan[@]}" >"$BUILD/tsan.out" 2>&1 || { cat "$BUILD/tsan.out"; die "concurrency under TSan"; }
    else
        cat "$BUILD/tsan.out"
        die "concurrency under TSan"
    fi
fi
cat "$BUILD/tsan.out"
grep -q "ThreadSanitizer" "$BUILD/tsan.out" && die "ThreadSanitizer reported a race"

# ---- 3: crash safety -----------------------------------------------------------------------------
step "crash: SIGKILL mid-transaction at $KILL_POINTS kill points per journal mode"
"$BUILD/crash" "$KILL_POINTS" "$ROWS" "$BUILD/crash.db" | tee "$BUILD/crash.out" || die "crash"

step "migrate_crash: SIGKILL mid-migration at $MIGRATE_KILL_POINTS kill points per journal mode"
"$BUILD/migrate_crash" "$MIGRATE_KILL_POINTS" "$MIGRATE_BOOKS" "$BUILD/migrate_crash.db" \
    | tee "$BUILD/migrate_crash.out" || die "migrate_crash"

step "migrate_race: $RACE_PROCESSES processes applying the same migrations, $RACE_ROUNDS rounds per journal mode"
"$BUILD/migrate_race" "$RACE_ROUNDS" "$RACE_PROCESSES" 800 "$BUILD/migrate_race.db" \
    | tee "$BUILD/migrate_race.out" || die "migrate_race"

# ---- 4: fuzzing ---------------------------------------------------------------------------------
fuzz_total=0
for target in open roundtrip; do
    step "fuzz_$target for ${FUZZ_SECONDS}s from fuzz/corpus/$target"
    work="$BUILD/corpus_$target"
    rm -rf "$work" "$BUILD/artifacts_$target"
    mkdir -p "$work" "$BUILD/artifacts_$target"
    # New inputs go to the scratch corpus; the checked-in seeds are only read.
    if ! (cd "$BUILD" && "$BUILD/fuzz_$target" -max_total_time="$FUZZ_SECONDS" -timeout=20 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$BUILD/artifacts_$target/" \
            "$work" "$ROOT/fuzz/corpus/$target" >"$BUILD/fuzz_$target.log" 2>&1); then
        tail -n 60 "$BUILD/fuzz_$target.log"
        die "fuzz_$target found a failure; the input is in $BUILD/artifacts_$target/"
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz_$target.log")
    cov=$(grep -o 'cov: [0-9]*' "$BUILD/fuzz_$target.log" | tail -n 1 || true)
    printf 'fuzz_%s: %s executions, %s, no crash, no sanitizer report\n' "$target" "$runs" "$cov"
    fuzz_total=$((fuzz_total + runs))
done

# ---- 5: valgrind ---------------------------------------------------------------------------------
step "valgrind on the bookstore example"
mkdir -p "$BUILD/bookstore_run"
(cd "$BUILD/bookstore_run" && valgrind --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --quiet "$BUILD/bookstore" >"$BUILD/valgrind.out" 2>&1) \
    || { cat "$BUILD/valgrind.out"; die "valgrind reported errors"; }
printf 'valgrind: bookstore ran clean (%d lines of output, no errors, no leaks)\n' \
    "$(wc -l <"$BUILD/valgrind.out")"

# ---- 6: faults on a real filesystem, and threads sharing one Database ------------------------
MNT="$BUILD/tmpfs"
unmount() { if mountpoint -q "$MNT" 2>/dev/null; then umount "$MNT" || true; fi; }
trap unmount EXIT
if [[ $EUID -eq 0 ]] && mkdir -p "$MNT" && mount -t tmpfs -o "size=$TMPFS_SIZE" tmpfs "$MNT"; then
    step "full disk: a $TMPFS_SIZE tmpfs filled up, 2 journal modes x 5 writes in a transaction"
    "$BUILD/faults" full-disk "$MNT" | tee "$BUILD/full_disk.out" || die "full disk"
    umount "$MNT"

    step "a WAL database on a read-only mount"
    mount -t tmpfs -o "size=$TMPFS_SIZE" tmpfs "$MNT"
    "$BUILD/faults" wal-create "$MNT" || die "creating the WAL database"
    mount -o remount,ro "$MNT"
    "$BUILD/faults" wal-readonly "$MNT" | tee "$BUILD/wal_readonly.out" || die "read-only WAL"
    umount "$MNT"
else
    step "full disk and read-only WAL mount: skipped (mounting a tmpfs needs root; CI runs as root)"
    echo "full disk: skipped, not root" >"$BUILD/full_disk.out"
fi

step "misuse: $THREADS threads sharing ONE Database, $OPS operations each"
"$BUILD/faults" misuse "$THREADS" "$OPS" "$BUILD/misuse.db" | tee "$BUILD/misuse.out" \
    || die "misuse"
step "misuse under ThreadSanitizer: $THREADS threads x $TSAN_OPS operations"
misuse_tsan=("$BUILD/faults_tsan" misuse "$THREADS" "$TSAN_OPS" "$BUILD/misuse_tsan.db")
if ! TSAN_OPTIONS="halt_on_error=1" "${misuse_tsan[@]}" >"$BUILD/misuse_tsan.out" 2>&1; then
    if grep -q "unexpected memory mapping" "$BUILD/misuse_tsan.out" && command -v setarch >/dev/null; then
        TSAN_OPTIONS="halt_on_error=1" setarch "$(uname -m)" -R "${misuse_tsan[@]}" \
            >"$BUILD/misuse_tsan.out" 2>&1 || { cat "$BUILD/misuse_tsan.out"; die "misuse under TSan"; }
    else
        cat "$BUILD/misuse_tsan.out"
        die "misuse under TSan"
    fi
fi
cat "$BUILD/misuse_tsan.out"
grep -q "ThreadSanitizer" "$BUILD/misuse_tsan.out" && die "ThreadSanitizer reported a race"

step "summary ($((SECONDS - start))s)"
grep -h "^concurrency: [0-9]" "$BUILD/concurrency.out" "$BUILD/tsan.out"
grep -h "kill points survived" "$BUILD/crash.out"
grep -h "^full disk" "$BUILD/full_disk.out"
grep -h "^misuse" "$BUILD/misuse.out" "$BUILD/misuse_tsan.out"
grep -h "left a whole state" "$BUILD/migrate_crash.out"
grep -h "applied exactly once" "$BUILD/migrate_race.out"
printf 'fuzzing: %d executions in total, %ss per target\n' "$fuzz_total" "$FUZZ_SECONDS"
printf 'reliability: OK\n'
