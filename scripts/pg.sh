# shellcheck shell=bash
# scripts/pg.sh - a throwaway PostgreSQL 15 cluster for loom's tests.
#
# Sourced (by scripts/test.sh):
#     source scripts/pg.sh
#     loom_pg_start     # sets LOOM_TEST_PG_URL; the cluster stops when the shell exits
# Run on its own, it starts a cluster, runs a command with LOOM_TEST_PG_URL set, and stops it:
#     bash scripts/pg.sh -- ./build/tests/loom_tests -# '[#test_writes]'
#
# When LOOM_TEST_PG_URL is already set, that server is used and nothing is started.
# Beside the primary, loom_pg_start starts a streaming replica of it (pg_basebackup -R, a hot
# standby on the same socket directory, port 5433) and exports its URL as
# LOOM_TEST_PG_REPLICA_URL, for the replica tests (tests/test_replicas.cpp), unless
# LOOM_TEST_PG_REPLICA_URL is set already or LOOM_TEST_PG_REPLICA=0; a replica that fails to
# start leaves LOOM_TEST_PG_REPLICA_URL unset (those tests are then skipped), not the run failed.
# It adds about a second. Directory: under TMPDIR (default /tmp).
# The cluster lives in a temporary directory (initdb, fsync off, listening on a Unix socket in
# that directory only, no TCP port), run by an unprivileged user since PostgreSQL refuses to run
# as root (LOOM_PG_USER, default nobody). Binaries: LOOM_PG_BIN, default
# /usr/lib/postgresql/15/bin (Debian's postgresql-15 package).

LOOM_PG_BIN="${LOOM_PG_BIN:-/usr/lib/postgresql/15/bin}"
LOOM_PG_DIR=""

loom_pg_log() { printf '[loom] %s\n' "$*" >&2; }

# Runs a command as the cluster's user (itself when not root).
loom_pg_as() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u "${LOOM_PG_USER:-nobody}" -- "$@"
    else
        "$@"
    fi
}

loom_pg_stop() {
    [ -n "$LOOM_PG_DIR" ] || return 0
    if [ -f "$LOOM_PG_DIR/replica/postmaster.pid" ]; then
        loom_pg_as "$LOOM_PG_BIN/pg_ctl" -D "$LOOM_PG_DIR/replica" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    if [ -f "$LOOM_PG_DIR/data/postmaster.pid" ]; then
        loom_pg_as "$LOOM_PG_BIN/pg_ctl" -D "$LOOM_PG_DIR/data" -m immediate -w stop \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$LOOM_PG_DIR"
    LOOM_PG_DIR=""
}

loom_pg_start() {
    if [ -n "${LOOM_TEST_PG_URL:-}" ]; then
        loom_pg_log "PostgreSQL tests use LOOM_TEST_PG_URL=$LOOM_TEST_PG_URL"
        return 0
    fi
    if [ ! -x "$LOOM_PG_BIN/initdb" ]; then
        loom_pg_log "no PostgreSQL server at $LOOM_PG_BIN (Debian: apt-get install postgresql-15)"
        return 1
    fi
    LOOM_PG_DIR="$(mktemp -d "${TMPDIR:-/tmp}/loom-pg.XXXXXX")"
    chmod 755 "$LOOM_PG_DIR"
    [ "$(id -u)" -eq 0 ] && chown "${LOOM_PG_USER:-nobody}" "$LOOM_PG_DIR"
    trap loom_pg_stop EXIT
    local t0=$SECONDS
    if ! loom_pg_as "$LOOM_PG_BIN/initdb" -D "$LOOM_PG_DIR/data" -U loom --auth=trust \
            -E UTF8 --locale=C.UTF-8 --no-sync >"$LOOM_PG_DIR/initdb.log" 2>&1; then
        cat "$LOOM_PG_DIR/initdb.log" >&2
        loom_pg_stop
        return 1
    fi
    # No TCP, the socket in the cluster's directory; durability off (a test cluster).
    if ! loom_pg_as "$LOOM_PG_BIN/pg_ctl" -D "$LOOM_PG_DIR/data" -l "$LOOM_PG_DIR/server.log" -w \
            -o "-c listen_addresses='' -c unix_socket_directories='$LOOM_PG_DIR' -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
        cat "$LOOM_PG_DIR/server.log" >&2
        loom_pg_stop
        return 1
    fi
    export LOOM_TEST_PG_URL="postgresql://loom@/postgres?host=$LOOM_PG_DIR"
    loom_pg_log "PostgreSQL 15 test cluster in $LOOM_PG_DIR ($((SECONDS - t0))s to start)"
    case "${LOOM_TEST_PG_REPLICA:-1}" in 0|OFF|off|false|no) return 0 ;; esac
    [ -n "${LOOM_TEST_PG_REPLICA_URL:-}" ] || loom_pg_start_replica || true
}

# A hot standby streaming from the throwaway primary (same socket directory, port 5433):
# pg_basebackup -R copies the primary (initdb's pg_hba trusts local replication connections;
# wal_level=replica and max_wal_senders=10 are PostgreSQL 15's defaults) and writes
# standby.signal and primary_conninfo. Returns once the primary reports it streaming.
loom_pg_start_replica() {
    local t0=$SECONDS
    if ! loom_pg_as "$LOOM_PG_BIN/pg_basebackup" -h "$LOOM_PG_DIR" -p 5432 -U loom \
            -D "$LOOM_PG_DIR/replica" -R -X stream --no-sync -c fast \
            >"$LOOM_PG_DIR/basebackup.log" 2>&1; then
        loom_pg_log "no replica: pg_basebackup failed: $(tail -n 3 "$LOOM_PG_DIR/basebackup.log")"
        return 1
    fi
    if ! loom_pg_as "$LOOM_PG_BIN/pg_ctl" -D "$LOOM_PG_DIR/replica" \
            -l "$LOOM_PG_DIR/replica.log" -w \
            -o "-c port=5433 -c listen_addresses='' -c unix_socket_directories='$LOOM_PG_DIR' \
                -c fsync=off -c hot_standby=on -c max_connections=200" start >/dev/null; then
        loom_pg_log "no replica: it did not start: $(tail -n 3 "$LOOM_PG_DIR/replica.log")"
        return 1
    fi
    local _ state=""
    for _ in $(seq 1 100); do
        state="$(loom_pg_as "$LOOM_PG_BIN/psql" -h "$LOOM_PG_DIR" -p 5432 -U loom -d postgres \
            -XAtc "SELECT state FROM pg_stat_replication" 2>/dev/null || true)"
        [ "$state" = streaming ] && break
        sleep 0.1
    done
    if [ "$state" != streaming ]; then
        loom_pg_log "no replica: not streaming after 10s ($state)"
        return 1
    fi
    export LOOM_TEST_PG_REPLICA_URL="postgresql://loom@/postgres?host=$LOOM_PG_DIR&port=5433"
    loom_pg_log "PostgreSQL streaming replica on port 5433 ($((SECONDS - t0))s to start)"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    set -euo pipefail
    [ "${1:-}" = "--" ] && shift
    loom_pg_start
    if [ "$#" -eq 0 ]; then
        echo "LOOM_TEST_PG_URL=$LOOM_TEST_PG_URL (Ctrl-D stops the cluster)"
        echo "LOOM_TEST_PG_REPLICA_URL=${LOOM_TEST_PG_REPLICA_URL:-}"
        "${SHELL:-bash}"
    else
        "$@"
    fi
fi
