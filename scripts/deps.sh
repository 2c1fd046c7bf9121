# shellcheck shell=bash
# scripts/deps.sh - sourced by scripts/example.sh and scripts/test.sh.
#
# loom_ensure_deps: makes sure the tools and Debian packages loom's build needs are there:
# cmake (>= 3.25), g++, make or ninja, pkg-config, libsqlite3-dev, libfmt-dev, catch2, and
# nlohmann-json3-dev (optional for users: only <loom/json.hpp> and its tests need it), and
# libpq-dev (the optional PostgreSQL engine; scripts/test.sh also installs postgresql-15 to run
# the tests against a throwaway server).
# Missing packages are installed with apt-get when running as root, with sudo apt-get when sudo
# works without a password; otherwise it prints the exact install command and returns 1.

LOOM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck disable=SC2034 # used by the scripts that source this file
LOOM_JOBS="$(nproc 2>/dev/null || echo 2)"

loom_log() { printf '[loom] %s\n' "$*" >&2; }

loom_pkg_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

loom_missing_packages() {
    local missing=()
    command -v cmake >/dev/null 2>&1 || missing+=(cmake)
    command -v g++ >/dev/null 2>&1 || missing+=(g++)
    if ! command -v make >/dev/null 2>&1 && ! command -v ninja >/dev/null 2>&1; then
        missing+=(make)
    fi
    command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    local pkg
    for pkg in libsqlite3-dev libfmt-dev catch2 nlohmann-json3-dev libpq-dev; do
        loom_pkg_installed "$pkg" || missing+=("$pkg")
    done
    echo "${missing[*]}"
}

loom_apt_install() {  # loom_apt_install [sudo] packages...
    local -a prefix=()
    if [ "$1" = sudo ]; then prefix=(sudo -n); shift; fi
    export DEBIAN_FRONTEND=noninteractive
    "${prefix[@]}" apt-get install -y --no-install-recommends "$@" && return 0
    loom_log "apt-get install failed; updating the package lists and trying again"
    "${prefix[@]}" apt-get update && "${prefix[@]}" apt-get install -y --no-install-recommends "$@"
}

# loom_install_packages <packages...>: installs those of the Debian packages that are not
# installed yet, as root with apt-get, else with sudo apt-get when sudo works without a password;
# otherwise prints the install command and returns 1.
loom_install_packages() {
    local -a missing=()
    local pkg
    for pkg in "$@"; do
        loom_pkg_installed "$pkg" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ]; then
        loom_log "installing: ${missing[*]}"
        loom_apt_install "${missing[@]}" || { loom_log "could not install: ${missing[*]}"; return 1; }
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        loom_log "installing with sudo: ${missing[*]}"
        loom_apt_install sudo "${missing[@]}" \
            || { loom_log "could not install: ${missing[*]}"; return 1; }
    else
        loom_log "missing packages: ${missing[*]}"
        loom_log "install them with:"
        printf '    sudo apt-get install -y %s\n' "${missing[*]}" >&2
        return 1
    fi
}

loom_ensure_deps() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        loom_log "not a Debian-based system: cannot check packages; make sure cmake (>= 3.25),"
        loom_log "a C++20 compiler, SQLite3, fmt, Catch2 and pkg-config are installed (and libpq"
        loom_log "plus a PostgreSQL server for the PostgreSQL tests, or set LOOM_TEST_PG_URL)"
        return 0
    fi

    # shellcheck disable=SC2046 # word splitting of the package list is intended
    loom_install_packages $(loom_missing_packages) || return 1
    local missing
    missing="$(loom_missing_packages)"
    if [ -n "$missing" ]; then
        loom_log "still missing after installing: $missing"
        return 1
    fi

    local version
    version="$(cmake --version | sed -n 's/^cmake version \([0-9][0-9.]*\).*/\1/p')"
    if [ -z "$version" ] || ! printf '3.25\n%s\n' "$version" | sort -V -C; then
        loom_log "cmake ${version:-?} found at $(command -v cmake); loom needs cmake >= 3.25"
        return 1
    fi
}

# loom_configure <build dir> <cmake args...>: configure, picking Ninja when available for a
# new build directory (an existing one keeps its generator).
loom_configure() {
    local build_dir="$1"; shift
    local -a generator=()
    if [ ! -f "$build_dir/CMakeCache.txt" ] && command -v ninja >/dev/null 2>&1; then
        generator=(-G Ninja)
    fi
    cmake -S "$LOOM_ROOT" -B "$build_dir" "${generator[@]}" "$@"
}
