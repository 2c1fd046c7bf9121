#!/usr/bin/env bash
# scripts/example.sh - build and run loom's main example, the bookstore.
#
#     bash scripts/example.sh
#
# Installs missing Debian packages first (see scripts/deps.sh), configures build/
# (Debug, shared with test.sh), builds the `bookstore` target and runs it from the build directory.
set -euo pipefail

# shellcheck source=scripts/deps.sh
source "$(dirname "${BASH_SOURCE[0]}")/deps.sh"
loom_ensure_deps

build_dir="${LOOM_BUILD_DIR:-$LOOM_ROOT/build}"
# LOOM_SANITIZE is left as the directory has it (test.sh turns it on), so that running one
# script after the other never rebuilds everything.
loom_configure "$build_dir" -DCMAKE_BUILD_TYPE=Debug
cmake --build "$build_dir" --target bookstore -j "$LOOM_JOBS"

cd "$build_dir"
exe="$(find . -type f -name bookstore -perm -u+x | head -n 1)"
if [ -z "$exe" ]; then
    loom_log "the bookstore program was not found under $build_dir"
    exit 1
fi
"$exe"
