#!/usr/bin/env bash
# Private Dovecot (IMAP + LMTP) and Postfix (SMTP) stack on 127.0.0.1 for tests and the demo.
#
# Usage: scripts/mailstack.sh start|stop|status|stop-smtp|start-smtp|stop-imap|start-imap [--dir DIR]
#
#   DIR      state directory (default: $MAILSTACK_DIR or ./var/mailstack). Configs, mail,
#            the Postfix queue, logs and PID files all live here. Every parent of DIR must be
#            searchable (o+x) by the postfix/dovecot/mail system users.
#   env      MAILSTACK_IMAP_PORT (10143), MAILSTACK_SMTP_PORT (10025),
#            MAILSTACK_LMTP_PORT (10024), MAILSTACK_EXTRA_USERS (space-separated addresses),
#            MAILSTACK_TIMEOUT (seconds to wait for ports, default 20),
#            MAILSTACK_OAUTH2_INTROSPECTION_URL (OAuth2 mode: Dovecot also signs in with
#            XOAUTH2 / OAUTHBEARER, tokens checked by POSTing them to this URL, RFC 7662;
#            Postfix then also listens for authenticated submission on
#            MAILSTACK_SUBMISSION_PORT (SMTP port + 1), SASL checked by Dovecot on
#            MAILSTACK_SASL_PORT (IMAP port + 1)).
#
# Every user's password is "secret". Must run as root (Postfix refuses anything else).
set -euo pipefail

export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin${PATH:+:$PATH}"

readonly PASSWORD="secret"
readonly DOMAINS="maildesk.test clientes.test operador.test"
readonly BASE_USERS="support@maildesk.test distribuidor@maildesk.test
tecnico@operador.test cdf@operador.test
cliente1@clientes.test cliente2@clientes.test cliente3@clientes.test cliente4@clientes.test
cliente5@clientes.test bar.pepe@clientes.test gestoria.llobregat@clientes.test
hotel.marina@clientes.test clinica.sol@clientes.test ferreteria.garcia@clientes.test
autoreply@clientes.test mailer-daemon@clientes.test"
readonly POSTFIX_MAIN_CF=/etc/postfix/main.cf

IMAP_PORT="${MAILSTACK_IMAP_PORT:-10143}"
SMTP_PORT="${MAILSTACK_SMTP_PORT:-10025}"
LMTP_PORT="${MAILSTACK_LMTP_PORT:-10024}"
TIMEOUT="${MAILSTACK_TIMEOUT:-20}"
SUBMISSION_PORT="${MAILSTACK_SUBMISSION_PORT:-$((SMTP_PORT + 1))}"
SASL_PORT="${MAILSTACK_SASL_PORT:-$((IMAP_PORT + 1))}"
DIR="${MAILSTACK_DIR:-./var/mailstack}"

log() { printf 'mailstack: %s\n' "$*" >&2; }
die() {
    log "ERROR: $*"
    exit 1
}

usage() {
    echo "usage: $0 start|stop|status|stop-smtp|start-smtp|stop-imap|start-imap [--dir DIR]" >&2
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
case "$CMD" in start | stop | status | stop-smtp | start-smtp | stop-imap | start-imap) ;; *) usage ;; esac
for p in "$IMAP_PORT" "$SMTP_PORT" "$LMTP_PORT" "$TIMEOUT"; do
    [[ "$p" =~ ^[0-9]+$ ]] || die "not a number: '$p'"
done

[[ $EUID -eq 0 ]] || die "must run as root (Postfix and Dovecot need it)"

DIR="$(realpath -m -- "$DIR")"
DOVECOT_CONF="$DIR/dovecot.conf"
DOVECOT_PIDFILE="$DIR/dovecot.pid"
DOVECOT_LOG="$DIR/dovecot.log"
DOVECOT_BASE="$DIR/run/dovecot"
PF_CONF_DIR="$DIR/postfix"
PF_QUEUE="$DIR/postfix-queue"
PF_DATA="$DIR/postfix-data"
PF_PIDFILE="$DIR/postfix.pid"
PF_LOG="$DIR/postfix.log"
USERS_FILE="$DIR/users"
PORTS_FILE="$DIR/ports.env"
START_LOG="$DIR/start.log"

# ---------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------
port_open() { # port -> 0 when something accepts TCP connections on 127.0.0.1:port
    timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

pid_alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

read_pid() { # file -> pid or empty
    local pid=""
    [[ -f "$1" ]] && pid="$(tr -dc '0-9' <"$1" || true)"
    printf '%s' "$pid"
}

scan_master() { # dovecot|postfix -> PID of this DIR's master found in /proc (PID file lost)
    local f pid comm
    for f in /proc/[0-9]*; do
        pid="${f#/proc/}"
        read -r comm 2>/dev/null <"$f/comm" || continue
        case "$1:$comm" in
            dovecot:dovecot)
                tr '\0' '\n' <"$f/cmdline" 2>/dev/null | grep -qxF -- "$DOVECOT_CONF" || continue
                ;;
            postfix:master)
                case "$(readlink "$f/cwd" 2>/dev/null)" in
                    "$PF_QUEUE" | "$PF_QUEUE (deleted)") ;;
                    *) continue ;;
                esac
                ;;
            *) continue ;;
        esac
        printf '%s' "$pid"
        return 0
    done
    return 1
}

dovecot_pid() { # prints the PID of this DIR's dovecot master if it is running
    local pid
    pid="$(read_pid "$DOVECOT_PIDFILE")"
    if pid_alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dovecot ]] &&
        tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "$DOVECOT_CONF"; then
        printf '%s' "$pid"
        return 0
    fi
    scan_master dovecot
}

postfix_pid() { # prints the PID of this DIR's postfix master if it is running
    local pid
    pid="$(read_pid "$PF_PIDFILE")"
    if pid_alive "$pid" && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == master ]] &&
        [[ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$PF_QUEUE" ]]; then
        printf '%s' "$pid"
        return 0
    fi
    scan_master postfix
}

proc_pgrp() { # pid -> process group id, read from /proc (no procps needed)
    local line _state _ppid pgrp
    read -r line 2>/dev/null <"/proc/$1/stat" || return 1
    read -r _state _ppid pgrp _ <<<"${line##*) }" # the name may contain spaces and parens
    printf '%s' "$pgrp"
}

session_pids() { # sid -> live (non-zombie) PIDs of that session (daemon masters are leaders)
    local f line state _ppid _pgrp sid
    for f in /proc/[0-9]*/stat; do
        read -r line 2>/dev/null <"$f" || continue
        read -r state _ppid _pgrp sid _ <<<"${line##*) }"
        if [[ "$sid" == "$1" && "$state" != Z ]]; then
            f="${f#/proc/}"
            echo "${f%/stat}"
        fi
    done
}

wait_gone() { # sid seconds -> 0 when no process of the session is left, SIGKILLs at the end
    local sid="$1" limit="$2" i pids
    for ((i = 0; i < limit * 10; i++)); do
        pids="$(session_pids "$sid")"
        [[ -z "$pids" ]] && return 0
        sleep 0.1
    done
    pids="$(session_pids "$sid")"
    if [[ -n "$pids" ]]; then
        log "processes of session $sid still alive, sending SIGKILL: $(echo "$pids" | tr '\n' ' ')"
        # shellcheck disable=SC2086
        kill -KILL $pids 2>/dev/null || true
        sleep 0.2
    fi
    [[ -z "$(session_pids "$sid")" ]]
}

wait_port_state() { # port open|closed seconds
    local port="$1" want="$2" limit="$3" i
    for ((i = 0; i < limit * 10; i++)); do
        if port_open "$port"; then
            [[ "$want" == open ]] && return 0
        else
            [[ "$want" == closed ]] && return 0
        fi
        sleep 0.1
    done
    return 1
}

backdate() { # Postfix re-reads a config file until its mtime is >1s old (~2 s stall): avoid that
    touch -d "@$(($(date +%s) - 10))" "$@"
}

tail_logs() {
    local f
    for f in "$START_LOG" "$DOVECOT_LOG" "$PF_LOG"; do
        if [[ -s "$f" ]]; then
            echo "----- tail $f -----" >&2
            tail -n 30 "$f" >&2 || true
        fi
    done
}

load_ports() { # prefer the ports the running stack was started with
    if [[ -f "$PORTS_FILE" ]]; then
        # shellcheck disable=SC1090
        source "$PORTS_FILE"
    fi
}

# ---------------------------------------------------------------------------------------------
# installation
# ---------------------------------------------------------------------------------------------
have_packages() {
    command -v dovecot >/dev/null && command -v doveadm >/dev/null &&
        command -v postfix >/dev/null && command -v postconf >/dev/null &&
        [[ -x /usr/lib/dovecot/imap && -x /usr/lib/dovecot/lmtp ]]
}

ensure_packages() {
    have_packages && return 0
    command -v apt-get >/dev/null || die "dovecot/postfix missing and apt-get is not available"
    log "installing dovecot-imapd dovecot-lmtpd postfix (apt-get)"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    echo "postfix postfix/mailname string localhost" | debconf-set-selections
    # Never let the package scripts start the system-wide daemons (no systemd here).
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [[ ! -e "$policy" ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        added_policy=1
    fi
    local pkgs=(dovecot-imapd dovecot-lmtpd postfix) rc=0
    # apt output goes to stderr: stdout is reserved for the final endpoints line.
    if ! apt-cache show "${pkgs[@]}" >/dev/null 2>&1; then
        apt-get update -qq >&2 || true
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >&2 || rc=$?
    if [[ $rc -ne 0 ]]; then # stale package lists: refresh once and retry
        rc=0
        apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q -o DPkg::Lock::Timeout=300 "${pkgs[@]}" >&2 || rc=$?
    fi
    [[ $added_policy -eq 1 ]] && rm -f "$policy"
    [[ $rc -eq 0 ]] || die "apt-get install failed (rc=$rc)"
    have_packages || die "packages installed but dovecot/postfix binaries still missing"
}

# ---------------------------------------------------------------------------------------------
# configuration
# ---------------------------------------------------------------------------------------------
ALL_USERS=()
collect_users() { # fills ALL_USERS (runs in the main shell so that die really exits)
    local u d ok seen=" "
    ALL_USERS=()
    for u in $BASE_USERS ${MAILSTACK_EXTRA_USERS:-}; do
        u="${u,,}"
        ok=0
        for d in $DOMAINS; do
            [[ "$u" == *@"$d" ]] && ok=1
        done
        [[ $ok -eq 1 && "$u" =~ ^[a-z0-9._+-]+@[a-z0-9.-]+$ ]] ||
            die "bad user '$u' in MAILSTACK_EXTRA_USERS (must be local@one of: $DOMAINS)"
        [[ "$seen" == *" $u "* ]] && continue
        seen+="$u "
        ALL_USERS+=("$u")
    done
}

check_traversable() { # every daemon user must reach DIR
    local who
    for who in postfix dovecot dovenull mail; do
        id "$who" >/dev/null 2>&1 || die "system user '$who' is missing"
        if ! runuser -u "$who" -- test -x "$DIR" 2>/dev/null; then
            die "user '$who' cannot reach $DIR: every parent directory needs o+x" \
                "(pytest's tmp_path is 0700; use e.g. a mkdtemp() under /tmp chmod 0755)"
        fi
    done
}

write_dovecot_config() {
    local mail_uid mail_gid u
    mail_uid="$(id -u mail)"
    mail_gid="$(id -g mail)"
    rm -rf "$DOVECOT_BASE" # stale sockets of an older config confuse the new instance
    mkdir -p "$DOVECOT_BASE" "$DIR/state/dovecot" "$DIR/mail"
    chmod 755 "$DIR/run" "$DIR/state" "$DIR/state/dovecot"
    chown "$mail_uid:$mail_gid" "$DIR/mail"
    chmod 750 "$DIR/mail"

    : >"$USERS_FILE.tmp"
    for u in "${ALL_USERS[@]}"; do
        # user:password:uid:gid:gecos:home:shell:extra
        printf '%s:{PLAIN}%s:%s:%s::%s/mail/%s/%s::\n' \
            "$u" "$PASSWORD" "$mail_uid" "$mail_gid" "$DIR" "${u#*@}" "${u%@*}" >>"$USERS_FILE.tmp"
    done
    if [[ -n "${MAILSTACK_OAUTH2_INTROSPECTION_URL:-}" ]]; then
        # A mailbox whose server no longer takes passwords, as Microsoft 365 answers.
        printf 'basic-off@maildesk.test:{PLAIN}%s:%s:%s::%s/mail/maildesk.test/basic-off::%s\n' \
            "$PASSWORD" "$mail_uid" "$mail_gid" "$DIR" \
            'nologin reason=BasicAuthBlocked:_Basic_authentication_is_disabled' >>"$USERS_FILE.tmp"
    fi
    chmod 644 "$USERS_FILE.tmp"
    mv -f "$USERS_FILE.tmp" "$USERS_FILE"

    local mechanisms="plain login" oauth2_passdb=""
    if [[ -n "${MAILSTACK_OAUTH2_INTROSPECTION_URL:-}" ]]; then
        mechanisms="plain login xoauth2 oauthbearer"
        printf '%s\n' \
            "introspection_mode = post" \
            "introspection_url = $MAILSTACK_OAUTH2_INTROSPECTION_URL" \
            "force_introspection = yes" \
            "username_attribute = username" \
            "active_attribute = active" \
            "active_value = true" >"$DIR/dovecot-oauth2.conf.ext"
        chmod 644 "$DIR/dovecot-oauth2.conf.ext"
        oauth2_passdb="passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $DIR/dovecot-oauth2.conf.ext
}
# Postfix's submission port asks this listener to check SASL (the same tokens as IMAP).
service auth {
  inet_listener auth-postfix {
    address = 127.0.0.1
    port = $SASL_PORT
  }
}"
    fi

    cat >"$DOVECOT_CONF" <<EOF
# Generated by scripts/mailstack.sh -- private test instance, do not edit.
instance_name = mailstack-$(printf '%s' "$DIR" | md5sum | cut -c1-8)
base_dir = $DOVECOT_BASE
state_dir = $DIR/state/dovecot
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
debug_log_path = $DOVECOT_LOG
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = $mechanisms
auth_failure_delay = 0
auth_verbose = yes
auth_username_format = %Lu
default_login_user = dovenull
default_internal_user = dovecot
default_internal_group = dovecot
first_valid_uid = $mail_uid
last_valid_uid = $mail_uid
first_valid_gid = $mail_gid
mail_uid = $mail_uid
mail_gid = $mail_gid
# sdbox: one file per mail and the index as the only listing, so a delivery does not
# rescan a directory of thousands of files (maildir did, into the support INBOX).
mail_location = sdbox:$DIR/mail/%d/%n
mail_max_userip_connections = 200
mail_fsync = never
# IDLE learns of new mail through inotify; where inotify is short (containers cap the
# instances per user) Dovecot falls back to checking every mailbox_idle_check_interval,
# 30 s by default, which would make push look like a slow poll.
mailbox_idle_check_interval = 1 secs
# support+Sent@ is delivered into support's Sent folder: maildesk's proof copies of its
# replies stay out of the INBOX (smtp.copy_address in maildesk's configuration).
recipient_delimiter = +
lmtp_save_to_detail_mailbox = yes

$oauth2_passdb
passdb {
  driver = passwd-file
  args = username_format=%u $USERS_FILE
}
userdb {
  driver = passwd-file
  args = username_format=%u $USERS_FILE
}

namespace inbox {
  inbox = yes
  separator = /
  mailbox INBOX {
    auto = subscribe
  }
  mailbox Processed {
    auto = subscribe
  }
  mailbox Sent {
    auto = subscribe
    special_use = \\Sent
  }
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
protocol lmtp {
  postmaster_address = postmaster@maildesk.test
}
# No brute-force penalty: tests log in with wrong passwords on purpose.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
EOF
    chmod 644 "$DOVECOT_CONF"
    doveconf -c "$DOVECOT_CONF" -n >/dev/null 2>"$DIR/doveconf.err" ||
        die "invalid dovecot config: $(cat "$DIR/doveconf.err")"
    rm -f "$DIR/doveconf.err"
}

write_postfix_config() {
    local u
    mkdir -p "$PF_CONF_DIR" "$PF_QUEUE" "$PF_DATA"
    chown root:root "$PF_CONF_DIR" "$PF_QUEUE"
    chmod 755 "$PF_CONF_DIR" "$PF_QUEUE"
    chown postfix:postfix "$PF_DATA"
    chmod 700 "$PF_DATA"

    : >"$PF_CONF_DIR/vmailbox"
    for u in "${ALL_USERS[@]}"; do
        printf '%s %s/%s/\n' "$u" "${u#*@}" "${u%@*}" >>"$PF_CONF_DIR/vmailbox"
    done

    cat >"$PF_CONF_DIR/main.cf" <<EOF
# Generated by scripts/mailstack.sh -- private test instance, do not edit.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DATA
mail_owner = postfix
setgid_group = postdrop
maillog_file = $PF_LOG
maillog_file_prefixes = $DIR
myhostname = mailstack.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
relayhost =
mynetworks_style = host
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_reject_unlisted_recipient = yes
virtual_mailbox_domains = maildesk.test, clientes.test, operador.test
virtual_mailbox_maps = texthash:$PF_CONF_DIR/vmailbox
virtual_alias_maps =
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
# Nothing ever leaves this machine: mail to any other domain bounces.
default_transport = error:mailstack delivers only to its own test domains
relay_transport = error:mailstack delivers only to its own test domains
smtputf8_enable = yes
message_size_limit = 52428800
mailbox_size_limit = 0
virtual_mailbox_limit = 0
biff = no
append_dot_mydomain = no
recipient_delimiter = +
smtpd_peername_lookup = no
smtp_host_lookup = native
lmtp_host_lookup = native
smtpd_tls_security_level = none
smtp_tls_security_level = none
lmtp_tls_security_level = none
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
queue_run_delay = 10s
minimal_backoff_time = 10s
maximal_backoff_time = 20s
lmtp_connect_timeout = 5s
delay_warning_time = 0
bounce_queue_lifetime = 1d
maximal_queue_lifetime = 1d
readme_directory = no
EOF

    cat >"$PF_CONF_DIR/master.cf" <<EOF
# Generated by scripts/mailstack.sh -- no chroot anywhere.
# service  type  private unpriv chroot wakeup maxproc command
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup     unix  n - n 60 1 pickup
cleanup    unix  n - n - 0 cleanup
qmgr       unix  n - n 300 1 qmgr
rewrite    unix  - - n - - trivial-rewrite
bounce     unix  - - n - 0 bounce
defer      unix  - - n - 0 bounce
trace      unix  - - n - 0 bounce
verify     unix  - - n - 1 verify
flush      unix  n - n 1000? 0 flush
proxymap   unix  - - n - - proxymap
proxywrite unix  - - n - 1 proxymap
smtp       unix  - - n - - smtp
relay      unix  - - n - - smtp
showq      unix  n - n - - showq
error      unix  - - n - - error
retry      unix  - - n - - error
discard    unix  - - n - - discard
lmtp       unix  - - n - - lmtp
anvil      unix  - - n - 1 anvil
scache     unix  - - n - 1 scache
postlog    unix-dgram n - n - 1 postlogd
EOF
    if [[ -n "${MAILSTACK_OAUTH2_INTROSPECTION_URL:-}" ]]; then
        # Authenticated submission: SASL (PLAIN, LOGIN, XOAUTH2, OAUTHBEARER) by Dovecot.
        cat >>"$PF_CONF_DIR/master.cf" <<EOF
127.0.0.1:$SUBMISSION_PORT inet n - n - - smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_sasl_type=dovecot
  -o smtpd_sasl_path=inet:127.0.0.1:$SASL_PORT
  -o smtpd_tls_auth_only=no
  -o smtpd_sasl_security_options=noanonymous
  -o smtpd_client_restrictions=permit_sasl_authenticated,reject
  -o smtpd_relay_restrictions=permit_sasl_authenticated,reject
EOF
    fi
    chmod 644 "$PF_CONF_DIR/main.cf" "$PF_CONF_DIR/master.cf" "$PF_CONF_DIR/vmailbox"
    backdate "$PF_CONF_DIR/main.cf" "$PF_CONF_DIR/master.cf" "$PF_CONF_DIR/vmailbox"
}

edit_alternate_config() { # add|remove: postfix -c DIR needs DIR listed in the default main.cf
    local action="$1" current entry kept=() wanted
    mkdir -p "$(dirname "$POSTFIX_MAIN_CF")"
    if [[ ! -f "$POSTFIX_MAIN_CF" ]]; then # "No configuration" install: no default main.cf
        [[ "$action" == add ]] || return 0
        printf '# created by maildesk scripts/mailstack.sh\ncompatibility_level = 3.6\n' \
            >"$POSTFIX_MAIN_CF"
        backdate "$POSTFIX_MAIN_CF"
    fi
    (
        # Several stacks (different DIRs) may edit the shared main.cf at the same time.
        flock -w 30 8 || die "cannot lock $POSTFIX_MAIN_CF"
        current="$(postconf -c "$(dirname "$POSTFIX_MAIN_CF")" -h alternate_config_directories)"
        for entry in ${current//,/ }; do
            if [[ "$entry" == "$PF_CONF_DIR" ]]; then
                :
            elif [[ "$entry" == */postfix && ! -e "$entry/main.cf" ]]; then
                : # a deleted mailstack dir that was never stopped: prune it
            else
                kept+=("$entry")
            fi
        done
        [[ "$action" == add ]] && kept+=("$PF_CONF_DIR")
        wanted="${kept[*]}"
        [[ "$wanted" == "${current//,/ }" ]] && exit 0
        if [[ -z "$wanted" ]]; then
            postconf -c "$(dirname "$POSTFIX_MAIN_CF")" -X alternate_config_directories
        else
            postconf -c "$(dirname "$POSTFIX_MAIN_CF")" -e "alternate_config_directories = $wanted"
        fi
        backdate "$POSTFIX_MAIN_CF"
    ) 8>"$(dirname "$POSTFIX_MAIN_CF")/.mailstack.lock" 9>&-
}

# ---------------------------------------------------------------------------------------------
# start / stop of each daemon
# ---------------------------------------------------------------------------------------------
start_dovecot() {
    local pid
    if pid="$(dovecot_pid)"; then
        log "dovecot already running (pid $pid)"
        return 0
    fi
    rm -f "$DOVECOT_PIDFILE" "$DOVECOT_BASE/master.pid"
    port_open "$IMAP_PORT" && die "port $IMAP_PORT (IMAP) is already in use by someone else"
    port_open "$LMTP_PORT" && die "port $LMTP_PORT (LMTP) is already in use by someone else"
    # Daemons must not inherit our stdout/stderr (a caller capturing output would hang) nor
    # the lock fd.
    if ! dovecot -c "$DOVECOT_CONF" </dev/null >>"$START_LOG" 2>&1 9>&-; then
        tail_logs
        die "dovecot failed to start"
    fi
    local i
    for ((i = 0; i < TIMEOUT * 10; i++)); do
        pid="$(read_pid "$DOVECOT_BASE/master.pid")"
        pid_alive "$pid" && break
        sleep 0.1
    done
    pid_alive "$pid" || {
        tail_logs
        die "dovecot did not write $DOVECOT_BASE/master.pid"
    }
    echo "$pid" >"$DOVECOT_PIDFILE"
}

start_postfix() {
    local pid
    if pid="$(postfix_pid)"; then
        log "postfix already running (pid $pid)"
        return 0
    fi
    rm -f "$PF_PIDFILE" "$PF_QUEUE/pid/master.pid"
    port_open "$SMTP_PORT" && die "port $SMTP_PORT (SMTP) is already in use by someone else"
    edit_alternate_config add
    # Creates the queue subdirectories with the right owners (idempotent), then starts master
    # and waits until it has initialized (master -w).
    if ! postfix -c "$PF_CONF_DIR" set-permissions </dev/null >>"$START_LOG" 2>&1 9>&-; then
        tail_logs
        die "postfix set-permissions failed"
    fi
    if ! postfix -c "$PF_CONF_DIR" start </dev/null >>"$START_LOG" 2>&1 9>&-; then
        tail_logs
        die "postfix failed to start"
    fi
    pid="$(read_pid "$PF_QUEUE/pid/master.pid")"
    pid_alive "$pid" || {
        tail_logs
        die "postfix master is not running after start"
    }
    echo "$pid" >"$PF_PIDFILE"
}

stop_daemons() { # postfix|dovecot...: signal all of them first, then wait for all
    local name pid waits=() w out="$START_LOG"
    [[ -d "$DIR" ]] || out=/dev/null
    for name in "$@"; do
        case "$name" in
            postfix)
                if pid="$(postfix_pid)"; then
                    postfix -c "$PF_CONF_DIR" stop </dev/null >>"$out" 2>&1 9>&- ||
                        kill -TERM "$pid" 2>/dev/null || true
                    waits+=("postfix:$pid")
                fi
                ;;
            dovecot)
                if pid="$(dovecot_pid)"; then
                    # Signal the whole process group: the master alone lingers ~3 s on TERM.
                    if [[ "$(proc_pgrp "$pid" || true)" == "$pid" ]]; then
                        kill -TERM -- "-$pid" 2>/dev/null || true
                    else
                        kill -TERM "$pid" 2>/dev/null || true
                    fi
                    waits+=("dovecot:$pid")
                fi
                ;;
        esac
    done
    for w in "${waits[@]}"; do
        wait_gone "${w#*:}" 10 || die "${w%%:*} (pid ${w#*:}) did not stop"
    done
    for name in "$@"; do
        case "$name" in
            postfix) rm -f "$PF_PIDFILE" ;;
            dovecot) rm -f "$DOVECOT_PIDFILE" "$DOVECOT_BASE/master.pid" ;;
        esac
    done
    # Only the ports of daemons we really stopped: another stack may use the defaults.
    for w in "${waits[@]}"; do
        case "${w%%:*}" in
            postfix) wait_closed SMTP "$SMTP_PORT" ;;
            dovecot) wait_closed IMAP "$IMAP_PORT" && wait_closed LMTP "$LMTP_PORT" ;;
        esac
    done
}

wait_ready() { # name port
    if ! wait_port_state "$2" open "$TIMEOUT"; then
        tail_logs
        die "$1 is not accepting connections on 127.0.0.1:$2 after ${TIMEOUT}s"
    fi
}

wait_closed() { # name port
    wait_port_state "$2" closed 10 || die "$1 port 127.0.0.1:$2 still accepts connections"
}

print_endpoints() {
    echo "imap=127.0.0.1:$IMAP_PORT smtp=127.0.0.1:$SMTP_PORT lmtp=127.0.0.1:$LMTP_PORT dir=$DIR"
}

lock_dir() { # serialize concurrent invocations on the same DIR
    mkdir -p "$DIR"
    exec 9>"$DIR/.lock"
    flock -w 60 9 || die "another mailstack.sh is busy with $DIR"
}

# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
cleanup_failed_start() { # EXIT trap while starting: leave nothing half-running
    local rc=$?
    trap - EXIT
    if [[ $rc -ne 0 ]]; then
        log "start failed: stopping whatever was started"
        (stop_daemons postfix dovecot) || true
    fi
    exit "$rc"
}

cmd_start() {
    ensure_packages
    lock_dir
    chmod 755 "$DIR"
    local dpid ppid
    if dpid="$(dovecot_pid)" && ppid="$(postfix_pid)" &&
        [[ -f "$DOVECOT_CONF" && -f "$PF_CONF_DIR/main.cf" && -f "$PORTS_FILE" ]]; then
        load_ports
        log "already running from $DIR (dovecot pid $dpid, postfix pid $ppid)"
        print_endpoints
        return 0
    fi
    if dovecot_pid >/dev/null || postfix_pid >/dev/null; then
        log "partially running (or its files were removed): restarting both"
        stop_daemons postfix dovecot
    fi
    collect_users
    check_traversable
    : >"$START_LOG"
    trap cleanup_failed_start EXIT
    write_dovecot_config
    write_postfix_config
    printf 'IMAP_PORT=%s\nSMTP_PORT=%s\nLMTP_PORT=%s\n' "$IMAP_PORT" "$SMTP_PORT" "$LMTP_PORT" \
        >"$PORTS_FILE"

    start_dovecot
    start_postfix
    wait_ready IMAP "$IMAP_PORT"
    wait_ready LMTP "$LMTP_PORT"
    wait_ready SMTP "$SMTP_PORT"
    # Deliver whatever is still queued from a previous run right away.
    postqueue -c "$PF_CONF_DIR" -f </dev/null >/dev/null 2>&1 9>&- || true
    trap - EXIT
    log "started dovecot (pid $(read_pid "$DOVECOT_PIDFILE")) and postfix (pid $(read_pid "$PF_PIDFILE"))"
    print_endpoints
}

cmd_stop() {
    if [[ -d "$DIR" ]]; then
        lock_dir
        load_ports
    fi
    # Also works when DIR (or its PID files) was deleted under running daemons: they are
    # found through /proc.
    stop_daemons postfix dovecot
    edit_alternate_config remove
    log "stopped ($DIR)"
}

cmd_stop_smtp() {
    [[ -d "$DIR" ]] || die "$DIR does not exist"
    lock_dir
    load_ports
    stop_daemons postfix
    log "postfix stopped ($DIR)"
}

cleanup_failed_start_smtp() {
    local rc=$?
    trap - EXIT
    [[ $rc -eq 0 ]] || (stop_daemons postfix) || true
    exit "$rc"
}

cmd_start_smtp() {
    [[ -f "$PF_CONF_DIR/main.cf" ]] || die "no postfix config in $DIR: run '$0 start' first"
    ensure_packages
    lock_dir
    load_ports
    trap cleanup_failed_start_smtp EXIT
    start_postfix
    wait_ready SMTP "$SMTP_PORT"
    trap - EXIT
    postqueue -c "$PF_CONF_DIR" -f </dev/null >/dev/null 2>&1 9>&- || true
    log "postfix running (pid $(read_pid "$PF_PIDFILE"))"
    print_endpoints
}

cmd_stop_imap() {
    [[ -d "$DIR" ]] || die "$DIR does not exist"
    lock_dir
    load_ports
    stop_daemons dovecot
    log "dovecot stopped ($DIR)"
}

cmd_start_imap() {
    [[ -f "$DOVECOT_CONF" ]] || die "no dovecot config in $DIR: run '$0 start' first"
    lock_dir
    load_ports
    start_dovecot
    wait_ready IMAP "$IMAP_PORT"
    # LMTP too: a flush that finds it closed would defer the mail again and mark Dovecot
    # dead for Postfix, holding even new mail until its next queue run (10-20 s).
    wait_ready LMTP "$LMTP_PORT"
    # Mail Postfix deferred while LMTP was down is delivered now, not at its next retry.
    if postfix_pid >/dev/null; then
        postqueue -c "$PF_CONF_DIR" -f </dev/null >/dev/null 2>&1 9>&- || true
    fi
    log "dovecot running (pid $(read_pid "$DOVECOT_PIDFILE"))"
    print_endpoints
}

cmd_status() {
    local pid rc=0
    load_ports
    if pid="$(dovecot_pid)"; then
        echo "dovecot: running (pid $pid) imap=127.0.0.1:$IMAP_PORT lmtp=127.0.0.1:$LMTP_PORT"
    else
        echo "dovecot: stopped"
        rc=3
    fi
    if pid="$(postfix_pid)"; then
        echo "postfix: running (pid $pid) smtp=127.0.0.1:$SMTP_PORT"
    else
        echo "postfix: stopped"
        rc=3
    fi
    echo "dir=$DIR"
    return "$rc"
}

case "$CMD" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    stop-smtp) cmd_stop_smtp ;;
    start-smtp) cmd_start_smtp ;;
    stop-imap) cmd_stop_imap ;;
    start-imap) cmd_start_imap ;;
esac
