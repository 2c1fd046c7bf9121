#!/usr/bin/env bash
# scripts/example.sh - build and run loom's main example, the bookstore.
#
#     bash scripts/example.sh
#     LOOM_DATABASE_URL=postgresql://app@localhost/scratch bash scripts/example.sh
#
# With LOOM_DATABASE_URL set, the bookstore runs on that PostgreSQL database (it drops and
# creates its tables publisher, author, book, book_authors and review there) instead of its
# SQLite file; loom must have found libpq (the loom::postgres target).
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
if [ -n "${LOOM_DATABASE_URL:-}" ]; then
    loom_log "the bookstore runs on LOOM_DATABASE_URL=$LOOM_DATABASE_URL"
fi
LOOM_DATABASE_URL="${LOOM_DATABASE_URL:-}" "$exe"
