# keystone-env.sh -- sourced by integration tests that need a real Keystone
# and a kaasd talking to it. Needs bash. Provides:
#
#   ks_env_setup [--private]
#       Makes a Keystone with fixtures available and sources its DIR/env and
#       DIR/fixtures.env (see tests/keystone/). Uses the shared instance in
#       $KAAS_TEST_KEYSTONE_DIR when it is set and that Keystone answers;
#       otherwise (or with --private, for tests that stop, kill or change
#       Keystone) starts one in a temporary directory and stops it on exit.
#       Exits 77 (skip) when keystone-manage is not installed.
#   ks_pids                 Keystone's server processes (master and workers)
#   ks_admin_token          prints a system-scoped token of the bootstrap admin
#   ks_user_set_enabled USER_ID true|false
#                           PATCHes the user in Keystone and reads it back,
#                           retrying: concurrent SQLite writes in the test
#                           Keystone can drop a request without a reply
#   ks_domain_set_enabled DOMAIN_ID true|false
#                           the same for a domain
#   kaasd_write_conf DIR [PASSWORD_FILE]
#       Writes DIR/kaasd.conf for a kaasd with its state in DIR/state and its
#       socket at DIR/kaasd.sock, using this Keystone and the kaasd service
#       user (its password in DIR/service-password, mode 0600, unless a
#       PASSWORD_FILE is given). Extra lines come from $KAASD_CONF_EXTRA
#       (appended to [keystone]) and $KAASD_CONF_TAIL (appended at the end).
#   kaasd_start DIR         starts $top_builddir/kaasd/kaasd -f -c DIR/kaasd.conf
#                           (log in DIR/kaasd.log), waits (bounded) for its
#                           socket; sets KAASD_PID, KAASD_SOCKET. A command
#                           in $KAASD_WRAPPER (e.g. valgrind ...) runs kaasd
#                           (make check-valgrind); waits are longer then,
#                           and $KAASD_START_TRIES (150) tenths of a second
#                           and more for a large store
#   kaasd_stop DIR          SIGTERM, bounded wait, SIGKILL
#   ks_fault_proxy_start DIR [MODE]
#                           tests/lib/keystone_fault_proxy.py in front of
#                           $KEYSTONE_URL, its state in DIR, in MODE (pass);
#                           sets PROXY_PID (ks_cleanup stops it) and
#                           PROXY_URL; exits 99 when it does not start
#   mode MODE               that proxy's mode from now on
#   ks_cleanup              stops every kaasd, fault proxy and private Keystone started here
#                           (installed as the EXIT trap by ks_env_setup)
#   VL                      the varlink client for kaasd's socket:
#                           $VL [-t SECONDS] SOCKET METHOD [JSON]

: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"

KS_HARNESS=$top_srcdir/tests/keystone
KS_PRIVATE_DIR=
KS_TMP=
KS_KAASD_DIRS=
KS_KEEP=${KAAS_TEST_KEEP:-0}
VL="/usr/bin/python3 $top_srcdir/tests/lib/varlink.py"

ks_cleanup() {
    local d
    [ -n "${PROXY_PID:-}" ] && kill "$PROXY_PID" 2>/dev/null
    for d in $KS_KAASD_DIRS; do
        kaasd_stop "$d" 2>/dev/null || true
    done
    if [ -n "$KS_PRIVATE_DIR" ]; then
        # a stopped (SIGSTOP) Keystone would ignore SIGTERM
        for p in $(ks_pids 2>/dev/null); do kill -CONT "$p" 2>/dev/null || true; done
        KEYSTONE_KEEP_DIR=$KS_KEEP "$KS_HARNESS/keystone-down.sh" "$KS_PRIVATE_DIR" >/dev/null 2>&1 || true
    fi
    if [ -n "$KS_TMP" ] && [ "$KS_KEEP" != 1 ]; then
        rm -rf -- "$KS_TMP"
    fi
}

ks_env_setup() {
    local private=0
    [ "${1:-}" = --private ] && private=1
    command -v keystone-manage >/dev/null 2>&1 || {
        echo "SKIP: keystone-manage is not installed (apt-get install keystone)"
        exit 77
    }
    KS_TMP=$(mktemp -d /tmp/kaas-test.XXXXXX)
    trap ks_cleanup EXIT
    trap 'exit 130' INT TERM
    local dir=${KAAS_TEST_KEYSTONE_DIR:-}
    if [ "$private" = 0 ] && [ -n "$dir" ] && [ -f "$dir/env" ] && [ -f "$dir/fixtures.env" ] &&
       (. "$dir/env" && curl -fsS -o /dev/null --max-time 5 "$KEYSTONE_URL/v3"); then
        echo "# using the shared Keystone in $dir"
    else
        dir=$KS_TMP/keystone
        KS_PRIVATE_DIR=$dir
        KEYSTONE_WATCH_PID=$$ "$KS_HARNESS/keystone-up.sh" "$dir" >"$KS_TMP/keystone-up.log" 2>&1 || {
            local rc=$?
            cat "$KS_TMP/keystone-up.log" >&2
            [ "$rc" = 77 ] && exit 77
            echo "keystone-up.sh failed" >&2
            exit 99
        }
        "$KS_HARNESS/fixtures.py" "$dir" >"$KS_TMP/fixtures.log" 2>&1 || {
            cat "$KS_TMP/fixtures.log" >&2
            echo "fixtures.py failed" >&2
            exit 99
        }
        echo "# $(tail -n 1 "$KS_TMP/keystone-up.log")"
    fi
    # shellcheck disable=SC1091
    . "$dir/env"
    # shellcheck disable=SC1091
    . "$dir/fixtures.env"
}

ks_pids() {
    local p
    echo "$KEYSTONE_PID"
    for p in $(ps -o pid= --ppid "$KEYSTONE_PID" 2>/dev/null); do echo "$p"; done
}

ks_admin_token() {
    curl -fsS -D - -o /dev/null --max-time 20 -H 'Content-Type: application/json' \
        -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$KEYSTONE_ADMIN_USER\",\"domain\":{\"id\":\"default\"},\"password\":\"$KEYSTONE_ADMIN_PASSWORD\"}}},\"scope\":{\"system\":{\"all\":true}}}}" \
        "$KEYSTONE_AUTH_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
}

# ks_set_enabled KIND ID true|false: PATCHes a Keystone user or domain
# (KIND user or domain) until Keystone reads it back so
ks_set_enabled() {
    local kind=$1 id=$2 want=$3 token i
    token=$(ks_admin_token)
    for i in 1 2 3 4 5 6 7 8 9 10; do
        curl -sS -o /dev/null --max-time 20 -X PATCH -H "X-Auth-Token: $token" \
            -H 'Content-Type: application/json' -d "{\"$kind\": {\"enabled\": $want}}" \
            "$KEYSTONE_AUTH_URL/${kind}s/$id" 2>/dev/null
        if curl -fsS --max-time 20 -H "X-Auth-Token: $token" "$KEYSTONE_AUTH_URL/${kind}s/$id" 2>/dev/null |
            grep -q "\"enabled\": *$want"; then
            return 0
        fi
        sleep 0.5
    done
    echo "could not set enabled=$want on Keystone $kind $id" >&2
    return 1
}
ks_user_set_enabled() { ks_set_enabled user "$@"; }
ks_domain_set_enabled() { ks_set_enabled domain "$@"; }

ks_fault_proxy_start() {
    KS_PROXY_DIR=$1
    mkdir -p "$KS_PROXY_DIR" || exit 99
    /usr/bin/python3 "$top_srcdir/tests/lib/keystone_fault_proxy.py" "$KEYSTONE_URL" "$KS_PROXY_DIR" --watch-pid $$ \
        2>"$KS_PROXY_DIR/proxy.err" &
    PROXY_PID=$!
    wait_for 20 test -s "$KS_PROXY_DIR/port" || {
        echo "the fault proxy did not start:"
        cat "$KS_PROXY_DIR/proxy.err"
        exit 99
    }
    PROXY_URL=http://127.0.0.1:$(cat "$KS_PROXY_DIR/port")
    mode "${2:-pass}"
}

mode() { echo "$1" >"$KS_PROXY_DIR/mode"; }

kaasd_write_conf() {
    local d=$1 pwfile=${2:-$1/service-password}
    mkdir -p "$d/state"
    if [ -z "${2:-}" ]; then
        (umask 077 && printf '%s\n' "$KAASD_SERVICE_PASSWORD" >"$pwfile")
    fi
    cat >"$d/kaasd.conf" <<EOF
[kaasd]
socket = $d/kaasd.sock
state_dir = $d/state
log_target = stderr
log_level = debug

[keystone]
url = $KEYSTONE_URL
user = $KAASD_SERVICE_USER
user_domain = Default
password_file = $pwfile
${KAASD_CONF_EXTRA:-}

[cluster alpha]
admin_roles = k8s-admins-alpha

[cluster beta]
admin_roles = $ROLE_K8S_ADMINS_BETA_ID
${KAASD_CONF_TAIL:-}
EOF
}

kaasd_start() {
    local d=$1 i tries=${KAASD_START_TRIES:-150}
    [ -n "${KAASD_WRAPPER:-}" ] && [ "$tries" -lt 600 ] && tries=600
    KAASD_SOCKET=$d/kaasd.sock
    # shellcheck disable=SC2086
    ${KAASD_WRAPPER:-} "$top_builddir/kaasd/kaasd" -f -c "$d/kaasd.conf" >>"$d/kaasd.log" 2>&1 &
    KAASD_PID=$!
    echo "$KAASD_PID" >"$d/kaasd.pid"
    KS_KAASD_DIRS="$KS_KAASD_DIRS $d"
    # a socket file may be left from a killed kaasd: wait for an answer
    for i in $(seq "$tries"); do
        if [ -S "$KAASD_SOCKET" ] &&
            $VL -t 2 "$KAASD_SOCKET" org.varlink.service.GetInfo >/dev/null 2>&1; then
            return 0
        fi
        kill -0 "$KAASD_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "kaasd did not come up on $KAASD_SOCKET; its log:" >&2
    cat "$d/kaasd.log" >&2
    return 1
}

kaasd_stop() {
    local d=$1 pid w grace=10
    [ -n "${KAASD_WRAPPER:-}" ] && grace=60
    [ -f "$d/kaasd.pid" ] || return 0
    pid=$(cat "$d/kaasd.pid")
    rm -f "$d/kaasd.pid"
    kill -TERM "$pid" 2>/dev/null || return 0
    # Poll rather than run a watchdog subshell: a subshell killed before it
    # has reset the inherited INT/TERM trap would run this script's EXIT
    # trap and remove the test's directory under it.
    for w in $(seq $((grace * 10))); do
        kaasd_running "$pid" || break
        sleep 0.1
    done
    kaasd_running "$pid" && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}

# kaasd_running PID: the process exists and is not a zombie (kill -0
# succeeds on a child that exited but was not waited for yet)
kaasd_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}
