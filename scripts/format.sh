#!/usr/bin/env bash
# scripts/format.sh - loom's C++ formatting (.clang-format: Google style, 4-space indent, 100
# columns) over the tracked C++ files under include/, tests/ and examples/.
#
#     bash scripts/format.sh            # reformat the files in place
#     bash scripts/format.sh --check    # change nothing; list the differences, exit 1 if any
#
# Uses clang-format 14 (Debian 12: apt-get install clang-format-14; the version matters, other
# versions format some constructs differently). CLANG_FORMAT chooses another binary. Installs
# clang-format-14 when missing and running as root (sudo when available).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

check=0
case "${1:-}" in
    --check) check=1 ;;
    "") ;;
    *) echo "usage: bash scripts/format.sh [--check]" >&2; exit 2 ;;
esac

find_clang_format() {
    if [[ -n "${CLANG_FORMAT:-}" ]]; then echo "$CLANG_FORMAT"; return; fi
    command -v clang-format-14 || command -v clang-format || true
}
cf="$(find_clang_format)"
if [[ -z "$cf" ]]; then
    if [[ $EUID -eq 0 ]]; then
        sudo=()
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        sudo=(sudo -n)
    else
        echo "format.sh: clang-format not found; install it with: sudo apt-get install -y clang-format-14" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y --no-install-recommends clang-format-14 >/dev/null \
        || { "${sudo[@]}" apt-get update -qq \
             && "${sudo[@]}" apt-get install -y --no-install-recommends clang-format-14 >/dev/null; }
    cf="$(find_clang_format)"
fi
if ! "$cf" --version | grep -q 'version 14\.'; then
    echo "format.sh: warning: $("$cf" --version) is not clang-format 14; CI uses 14" >&2
fi

# Tracked files only, so scratch files are never touched (outside a git checkout: every C++
# file under the three directories).
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    mapfile -t files < <(git ls-files -- 'include/*.hpp' 'include/*.cpp' 'src/*.cpp' 'tests/*.hpp' \
        'tests/*.cpp' 'examples/*.hpp' 'examples/*.cpp')
else
    mapfile -t files < <(find include tests examples -type f \( -name '*.hpp' -o -name '*.cpp' \) \
        | sort)
fi
if ((${#files[@]} == 0)); then
    echo "format.sh: no files found" >&2
    exit 1
fi

if ((check)); then
    # --dry-run --Werror: print each difference as an error and exit non-zero.
    if ! "$cf" --style=file --dry-run --Werror "${files[@]}"; then
        echo "format.sh: the files above are not formatted; run: bash scripts/format.sh" >&2
        exit 1
    fi
    echo "format.sh: ${#files[@]} files are formatted"
else
    "$cf" --style=file -i "${files[@]}"
    echo "format.sh: formatted ${#files[@]} files"
fi
