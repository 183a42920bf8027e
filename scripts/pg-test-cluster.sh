#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster for the test suites: a fresh data directory under /tmp,
# listening on 127.0.0.1 on a free port, trust authentication, durability switched off (fsync,
# full-page writes) because the data is thrown away. Stopped and deleted at the end.
#
#   scripts/pg-test-cluster.sh -- cargo test -p storage   # run a command with the URL set, then stop
#   source scripts/pg-test-cluster.sh                     # export the URL in this shell; stopped
#                                                         # when the shell exits (or: shelfmark_pg_stop)
#   scripts/pg-test-cluster.sh                            # print the URL and wait for Ctrl-C
#
# The URL is exported as SHELFMARK_TEST_DATABASE_URL (postgres://postgres@127.0.0.1:PORT/postgres).
# initdb and pg_ctl come from PATH, else from /usr/lib/postgresql/*/bin. PostgreSQL refuses to run
# as root, so as root the server runs as the user `postgres` (or `nobody` when there is none).

_shelfmark_pg_main() {
    local bindir="" user="" dir="" port="" attempt="" url=""
    if ! command -v initdb >/dev/null 2>&1 || ! command -v pg_ctl >/dev/null 2>&1; then
        bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
        if [[ -z "$bindir" ]]; then
            echo "pg-test-cluster: initdb/pg_ctl not found (install the PostgreSQL server package)" >&2
            return 1
        fi
        bindir="$bindir/"
    fi

    local -a as_user=()
    if [[ "$(id -u)" == 0 ]]; then
        if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
        if command -v runuser >/dev/null 2>&1; then
            as_user=(runuser -u "$user" --)
        else
            as_user=(setpriv --reuid="$user" --regid="$(id -g "$user")" --clear-groups)
        fi
    fi

    dir=$(mktemp -d /tmp/shelfmark-pg.XXXXXX) || return 1
    chmod 755 "$dir"
    [[ -n "$user" ]] && chown "$user" "$dir"

    local locale=C.UTF-8
    locale -a 2>/dev/null | grep -qi '^c\.utf-\?8$' || locale=C
    if ! "${as_user[@]}" "${bindir}initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
        --locale="$locale" --no-sync >"$dir/initdb.log" 2>&1; then
        echo "pg-test-cluster: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        rm -rf "$dir"
        return 1
    fi

    # SHELFMARK_PG_DURABLE=1 keeps PostgreSQL's durable defaults, for benchmarks of fsynced commits.
    local speed="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ "${SHELFMARK_PG_DURABLE:-}" == 1 ]] && speed=""
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        # Something already answers there: try another port.
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then continue; fi
        if "${as_user[@]}" "${bindir}pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 $speed -c max_connections=300 -c shared_buffers=64MB" \
            start >"$dir/pg_ctl.log" 2>&1; then
            url="postgres://postgres@127.0.0.1:$port/postgres"
            break
        fi
        if ! grep -q "already in use" "$dir/server.log" 2>/dev/null; then break; fi
    done
    if [[ -z "$url" ]]; then
        echo "pg-test-cluster: the server did not start:" >&2
        cat "$dir/pg_ctl.log" "$dir/server.log" >&2 2>/dev/null
        rm -rf "$dir"
        return 1
    fi

    export SHELFMARK_TEST_DATABASE_URL="$url"
    _SHELFMARK_PG_DIR="$dir"
    _SHELFMARK_PG_CTL=("${as_user[@]}" "${bindir}pg_ctl")
    echo "pg-test-cluster: PostgreSQL on $url (data in $dir/data)" >&2
}

shelfmark_pg_stop() {
    if [[ -n "${_SHELFMARK_PG_DIR:-}" ]]; then
        "${_SHELFMARK_PG_CTL[@]}" -D "$_SHELFMARK_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
        rm -rf "$_SHELFMARK_PG_DIR"
        echo "pg-test-cluster: stopped" >&2
        _SHELFMARK_PG_DIR=""
    fi
}

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: start, export, and stop when the calling shell exits (after its own EXIT trap).
    if _shelfmark_pg_main; then
        _shelfmark_pg_prev_trap=$(trap -p EXIT)
        _shelfmark_pg_prev_trap=${_shelfmark_pg_prev_trap#"trap -- '"}
        _shelfmark_pg_prev_trap=${_shelfmark_pg_prev_trap%"' EXIT"}
        # shellcheck disable=SC2064
        trap "${_shelfmark_pg_prev_trap:+$_shelfmark_pg_prev_trap; }shelfmark_pg_stop" EXIT
    else
        return 1
    fi
else
    set -uo pipefail
    _shelfmark_pg_main || exit 1
    trap shelfmark_pg_stop EXIT
    trap 'exit 130' INT TERM
    if [[ "${1:-}" == "--" ]]; then shift; fi
    if [[ $# -gt 0 ]]; then
        "$@"
        exit $?
    fi
    echo "$SHELFMARK_TEST_DATABASE_URL"
    echo "pg-test-cluster: running; Ctrl-C stops it" >&2
    while true; do sleep 3600; done
fi
