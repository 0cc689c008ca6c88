#!/usr/bin/env bash
# Private PostgreSQL on 127.0.0.1 for tests and benchmarks (the shared store of several workers).
#
# Usage: scripts/postgres.sh start|stop|status [--dir DIR]
#
#   DIR      state directory (default: $PGSTACK_DIR or ./var/postgres): the cluster (DIR/data),
#            its log (DIR/postgres.log) and its unix socket. DIR is made 0700 and owned by the
#            `postgres` system user, so every parent of DIR must be searchable (o+x) by it.
#   env      PGSTACK_PORT (15432), PGSTACK_TIMEOUT (seconds to wait for the server, default 20).
#
# `start` installs Debian's `postgresql` package when no initdb is found, creates the cluster
# (trust authentication, 127.0.0.1 only, fsync off: a throwaway test instance), starts it,
# ensures role `maildesk` (password `maildesk`) and database `maildesk`, and prints
#   url=postgresql+psycopg://maildesk:maildesk@127.0.0.1:PORT/maildesk
# on stdout (everything else goes to stderr). It is idempotent. `stop` leaves nothing running.
# `status` prints the state and exits 0 when running, 3 when stopped. Must run as root.
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

readonly ROLE="maildesk"
readonly PASSWORD="maildesk"
readonly DATABASE="maildesk"
readonly SYSTEM_USER="postgres"

PORT="${PGSTACK_PORT:-15432}"
TIMEOUT="${PGSTACK_TIMEOUT:-20}"
DIR="${PGSTACK_DIR:-./var/postgres}"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

usage() {
    echo "usage: $0 start|stop|status [--dir DIR]" >&2
    exit 2
}

# ---------------------------------------------------------------------------------------------
# arguments and paths
# ---------------------------------------------------------------------------------------------
[[ $# -ge 1 ]] || usage
CMD="$1"
shift
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dir) [[ $# -ge 2 ]] || usage; DIR="$2"; shift 2 ;;
        --dir=*) DIR="${1#--dir=}"; shift ;;
        -h | --help) usage ;;
        *) usage ;;
    esac
done
case "$CMD" in start | stop | status) ;; *) usage ;; esac
for n in "$PORT" "$TIMEOUT"; do
    [[ "$n" =~ ^[0-9]+$ ]] || die "not a number: '$n'"
done
((PORT > 0 && PORT < 65536)) || die "PGSTACK_PORT out of range: $PORT"

[[ $EUID -eq 0 ]] || die "must run as root (the server runs as the '$SYSTEM_USER' user)"

DIR="$(realpath -m -- "$DIR")"
[[ "$DIR" != / ]] || die "refusing to use / as the state directory"
DATA="$DIR/data"
LOGFILE="$DIR/postgres.log"
INITDB_LOG="$DIR/initdb.log"
PIDFILE="$DATA/postmaster.pid"
# The postgres user may not be able to enter the caller's working directory.
cd /

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
pid_alive() { # pid -> 0 when it runs (a zombie waiting for its reaper does not count)
    local line state
    [[ -n "${1:-}" ]] && read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    read -r state _ <<<"${line##*) }" # the name may contain spaces and parens
    [[ "$state" != Z ]]
}

server_pids() { # every live process of this DIR's server: postgres running in its data dir
    local f pid
    for f in /proc/[0-9]*; do
        pid="${f#/proc/}"
        [[ "$(cat "$f/comm" 2>/dev/null)" == postgres ]] || continue
        case "$(readlink "$f/cwd" 2>/dev/null)" in
            "$DATA" | "$DATA (deleted)") pid_alive "$pid" && echo "$pid" ;;
        esac
    done
}

is_postmaster() { # pid -> 0 when it is a live postmaster of this DIR (children retitle argv)
    pid_alive "$1" && [[ "$(cat "/proc/$1/comm" 2>/dev/null)" == postgres ]] &&
        tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | grep -qxF -- "$DATA"
}

server_pid() { # prints the postmaster PID of this DIR if it is running
    local pid=""
    [[ -f "$PIDFILE" ]] && pid="$(head -n 1 "$PIDFILE" | tr -dc '0-9' || true)"
    if is_postmaster "$pid"; then
        printf '%s' "$pid"
        return 0
    fi
    for pid in $(server_pids); do # PID file lost (DIR removed under a running server)
        if is_postmaster "$pid"; then
            printf '%s' "$pid"
            return 0
        fi
    done
    return 1
}

running_port() { # the port the running server listens on (line 4 of postmaster.pid)
    local port
    port="$(sed -n 4p "$PIDFILE" 2>/dev/null | tr -dc '0-9' || true)"
    printf '%s' "${port:-$PORT}"
}

wait_gone() { # seconds -> 0 when no server process is left, SIGKILLs the rest at the end
    local limit="$1" i pids
    for ((i = 0; i < limit * 10; i++)); do
        [[ -z "$(server_pids)" ]] && return 0
        sleep 0.1
    done
    pids="$(server_pids)"
    if [[ -n "$pids" ]]; then
        log "server processes still alive, sending SIGKILL: $(echo "$pids" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.2
    fi
    [[ -z "$(server_pids)" ]]
}

port_open() { # port -> 0 when something accepts TCP connections on 127.0.0.1:port
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

as_postgres() { runuser -u "$SYSTEM_USER" -- "$@"; }

psql_admin() { # superuser psql over TCP (trust on 127.0.0.1)
    "$PSQL" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U postgres -d postgres "${@:2}"
}

LOG_OFFSET=0
tail_log() { # what the server logged since this start
    if [[ -s "$LOGFILE" && $(stat -c %s "$LOGFILE") -gt $LOG_OFFSET ]]; then
        echo "----- $LOGFILE -----" >&2
        tail -c +$((LOG_OFFSET + 1)) "$LOGFILE" | tail -n 30 >&2 || true
    fi
}

print_url() {
    echo "url=postgresql+psycopg://$ROLE:$PASSWORD@127.0.0.1:$1/$DATABASE"
}

lock_dir() { # serialize concurrent invocations on the same DIR
    exec 9>"$DIR/.lock"
    flock -w 60 9 || die "another postgres.sh is busy with $DIR"
}

# ---------------------------------------------------------------------------------------------
# installation
# ---------------------------------------------------------------------------------------------
BIN=""
PSQL=""
find_binaries() { # sets BIN (initdb, pg_ctl, postgres) and PSQL; 1 when PostgreSQL is missing
    local found dir
    local candidates=()
    if found="$(command -v initdb 2>/dev/null)"; then
        candidates+=("$(dirname -- "$(realpath -- "$found")")")
    fi
    # Debian keeps the server binaries off PATH, one directory per major version (newest first).
    while IFS= read -r dir; do
        candidates+=("$dir")
    done < <(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null |
        sort -t/ -k5,5 -V -r)
    for dir in "${candidates[@]}"; do
        if [[ -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
            BIN="$dir"
            if [[ -x "$dir/psql" ]]; then
                PSQL="$dir/psql"
            else
                PSQL="$(command -v psql)" || return 1
            fi
            return 0
        fi
    done
    return 1
}

ensure_packages() {
    find_binaries && return 0
    command -v apt-get >/dev/null || die "PostgreSQL is missing and apt-get is not available"
    log "installing postgresql (apt-get)"
    # Never let the package scripts start the system-wide cluster (no systemd here); the
    # default cluster the package may create is left alone and unused.
    local policy=/usr/sbin/policy-rc.d added_policy=0 rc=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    # apt output goes to stderr: stdout is reserved for the url line.
    if ! apt-cache show postgresql >/dev/null 2>&1; then
        apt-get update -qq >&2 || true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o DPkg::Lock::Timeout=300 postgresql >&2 || rc=$?
    if [[ $rc -ne 0 ]]; then # stale package lists: refresh once and retry
        rc=0
        apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            -o DPkg::Lock::Timeout=300 postgresql >&2 || rc=$?
    fi
    [[ $added_policy -eq 1 ]] && rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install postgresql failed (rc=$rc)"
    find_binaries || die "postgresql installed but initdb/pg_ctl/postgres still not found"
}

# ---------------------------------------------------------------------------------------------
# cluster
# ---------------------------------------------------------------------------------------------
prepare_dir() {
    id "$SYSTEM_USER" >/dev/null 2>&1 || die "system user '$SYSTEM_USER' is missing"
    local parent
    parent="$(dirname -- "$DIR")"
    mkdir -p -- "$parent"
    if ! as_postgres test -x "$parent" 2>/dev/null; then
        die "user '$SYSTEM_USER' cannot reach $DIR: every parent directory needs o+x" \
            "(pytest's tmp_path is 0700; use e.g. a mkdtemp() under /tmp chmod 0755)"
    fi
    # DIR is chowned and made 0700: never do that to a directory that is not ours.
    if [[ -d "$DIR" && ! -e "$DIR/.lock" && -n "$(ls -A -- "$DIR")" ]]; then
        die "$DIR is not empty and was not made by postgres.sh: choose an empty or new directory"
    fi
    mkdir -p -- "$DIR"
    chown "$SYSTEM_USER:" "$DIR"
    chmod 700 "$DIR"
    as_postgres test -r "$DIR" -a -w "$DIR" -a -x "$DIR" 2>/dev/null ||
        die "user '$SYSTEM_USER' cannot use $DIR (a read-only or special file system?)"
}

init_cluster() {
    local version
    if [[ -f "$DATA/PG_VERSION" ]]; then
        version="$(cat "$DATA/PG_VERSION")"
        [[ "$BIN" == */"$version"/bin || "$("$BIN/postgres" --version)" == *" $version".* ]] ||
            die "$DATA was created by PostgreSQL $version; $BIN is another version (remove $DIR)"
        return 0
    fi
    log "creating cluster in $DATA"
    rm -rf -- "$DATA"
    as_postgres "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --no-locale -E UTF8 \
        --no-sync >"$INITDB_LOG" 2>&1 || die "initdb failed: $(tail -n 20 "$INITDB_LOG")"
    cat >"$DATA/pg_hba.conf" <<EOF
# Generated by scripts/postgres.sh -- private test instance: trust, loopback only.
local all all trust
host  all all 127.0.0.1/32 trust
EOF
    printf "\ninclude_if_exists = 'maildesk.conf'\n" >>"$DATA/postgresql.conf"
    chown "$SYSTEM_USER:" "$DATA/pg_hba.conf" "$DATA/postgresql.conf"
}

write_settings() { # rewritten at every start so that PGSTACK_PORT takes effect
    cat >"$DATA/maildesk.conf" <<EOF
# Generated by scripts/postgres.sh -- a throwaway test instance: speed over durability.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
max_connections = 200
shared_buffers = 64MB
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    chown "$SYSTEM_USER:" "$DATA/maildesk.conf"
}

wait_sql() { # port -> 0 once `select 1` answers over TCP
    local i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        psql_admin "$1" -tAc 'select 1' >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

ensure_database() { # port
    psql_admin "$1" <<EOF
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') THEN
        CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD';
    END IF;
END
\$\$;
SELECT 'CREATE DATABASE $DATABASE OWNER $ROLE'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DATABASE') \gexec
EOF
}

stop_server() { # fast shutdown, then SIGKILL whatever is left of the server
    local pid
    if pid="$(server_pid)"; then
        if [[ -n "$BIN" && -f "$PIDFILE" ]]; then
            as_postgres "$BIN/pg_ctl" -D "$DATA" stop -m fast -w -t "$TIMEOUT" >&2 9>&- ||
                log "pg_ctl stop failed"
        else
            kill -INT "$pid" 2>/dev/null || true # SIGINT is the postmaster's fast shutdown
        fi
    fi
    # Also the children a killed postmaster left behind (they leave soon on their own).
    wait_gone 5 || die "server processes of $DIR survived SIGKILL: $(server_pids | tr '\n' ' ')"
}

clear_stale_locks() { # a postmaster killed with -9 may linger as a zombie: its PID still exists
    local f pid
    for f in "$PIDFILE" "$DIR"/.s.PGSQL.*.lock; do
        [[ -f "$f" ]] || continue
        pid="$(head -n 1 "$f" | tr -dc '0-9' || true)"
        if ! pid_alive "$pid"; then
            log "removing the stale $f (pid ${pid:-?} is gone)"
            rm -f -- "$f"
        fi
    done
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
cleanup_failed_start() { # EXIT trap while starting: leave nothing half-running
    local rc=$?
    trap - EXIT
    if [[ $rc -ne 0 ]]; then
        log "start failed: stopping whatever was started"
        tail_log
        (stop_server) || true
    fi
    exit "$rc"
}

cmd_start() {
    local pid port
    ensure_packages
    prepare_dir
    lock_dir
    if pid="$(server_pid)"; then
        port="$(running_port)"
        [[ "$port" == "$PORT" ]] || log "already running on port $port (PGSTACK_PORT=$PORT ignored)"
        log "already running from $DIR (pid $pid)"
        wait_sql "$port" || die "the server of $DIR does not answer on 127.0.0.1:$port"
        ensure_database "$port"
        print_url "$port"
        return 0
    fi
    LOG_OFFSET="$(stat -c %s "$LOGFILE" 2>/dev/null || echo 0)"
    trap cleanup_failed_start EXIT
    stop_server # leftovers of a server that was killed
    clear_stale_locks
    port_open "$PORT" && die "127.0.0.1:$PORT is already in use by another program"
    init_cluster
    write_settings
    touch "$LOGFILE"
    chown "$SYSTEM_USER:" "$LOGFILE"
    # fd 9 holds the lock: the server must not inherit it.
    as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$LOGFILE" -w -t "$TIMEOUT" start >&2 9>&- ||
        die "pg_ctl start failed (or the server was not ready within ${TIMEOUT}s)"
    wait_sql "$PORT" || die "the server does not answer on 127.0.0.1:$PORT"
    ensure_database "$PORT"
    trap - EXIT
    log "started (pid $(server_pid)) from $DIR"
    print_url "$PORT"
}

cmd_stop() {
    if [[ -d "$DIR" ]]; then
        lock_dir
    fi
    find_binaries || true # without pg_ctl the server still gets SIGINT
    stop_server
    log "stopped ($DIR)"
}

cmd_status() {
    local pid
    if pid="$(server_pid)"; then
        echo "running (pid $pid) dir=$DIR"
        print_url "$(running_port)"
        return 0
    fi
    echo "stopped dir=$DIR"
    return 3
}

case "$CMD" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
esac
