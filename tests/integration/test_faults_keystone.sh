#!/bin/bash
# kaasd against a Keystone that fails: a fault-injecting proxy
# (tests/lib/keystone_fault_proxy.py) sits between kaasd and the real test
# Keystone, forwards every request and spoils the answers on command: HTTP
# 500, a body that is not JSON, a body cut short, a 50 MB body, no answer
# at all. A last round changes the service account's password in Keystone
# behind kaasd's back, then restores it. For each fault:
#
#   - Status' keystone.last_error and the log say what went wrong;
#   - users in the cache are still served (within offline_ttl), and tokens
#     of cached users still validate;
#   - users not in the cache get io.kaas.Identity.Unavailable, tokens of
#     such users io.kaas.Token.Unavailable;
#   - kaasd stays up and answering, and its RSS does not grow without
#     bound over 200 failing calls (skipped under ASan and valgrind);
#   - once the proxy passes answers again, kaasd is online again.
#
# The Keystone may be the shared one: the password that changes is that of
# a service account this test creates for itself (and deletes at the end).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
call() { $VL -t "${T:-15}" "$SOCK" "$@"; }
status() { call io.kaas.Admin.Status; }
ks_state() { j "$(T=5 status)" "d['parameters']['keystone']['state']" | tr -d '"'; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$KAASD_PID/status"; }

ks_env_setup
P=$KS_TMP/proxy
D=$KS_TMP/kaasd
mkdir -p "$P" "$D"
SVC_ID=
ADMIN_TOKEN=
cleanup() {
    if [ -n "$SVC_ID" ]; then
        curl -sS -o /dev/null --max-time 20 -X DELETE -H "X-Auth-Token: $(ks_admin_token)" \
            "$KEYSTONE_AUTH_URL/users/$SVC_ID" 2>/dev/null
    fi
    ks_cleanup
}
trap cleanup EXIT

# ks_rest METHOD PATH [BODY]: an admin REST call, retried while SQLite in
# the test Keystone drops concurrent writes (status 000 or 5xx)
ks_rest() {
    local i out code
    for i in 1 2 3 4 5 6 7 8; do
        out=$(curl -sS --max-time 20 -w '\n%{http_code}' -X "$1" -H "X-Auth-Token: $ADMIN_TOKEN" \
            -H 'Content-Type: application/json' ${3:+-d "$3"} "$KEYSTONE_AUTH_URL$2" 2>/dev/null)
        code=${out##*$'\n'}
        case $code in
        2??) printf '%s\n' "${out%$'\n'*}"; return 0 ;;
        000 | 5??) sleep 0.5 ;;
        *) echo "$1 $2: HTTP $code: ${out%$'\n'*}" >&2; return 1 ;;
        esac
    done
    echo "$1 $2: no answer" >&2
    return 1
}
set_password() {
    ks_rest PATCH "/users/$SVC_ID" "{\"user\": {\"password\": \"$1\"}}" >/dev/null
}

# ------------------------------------------------------------------ set-up
ADMIN_TOKEN=$(ks_admin_token)
SVC_NAME=kaasd-faults-$$-$RANDOM
SVC_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
r=$(ks_rest POST /users "{\"user\": {\"name\": \"$SVC_NAME\", \"domain_id\": \"default\", \"password\": \"$SVC_PASSWORD\"}}") || exit 99
SVC_ID=$(j "$r" "d['user']['id']" | tr -d '"')
ks_rest PUT "/system/users/$SVC_ID/roles/$ROLE_READER_ID" >/dev/null || exit 99
(umask 077 && printf '%s\n' "$SVC_PASSWORD" >"$D/service-password")

ks_fault_proxy_start "$P"

# short TTLs make the cache's behaviour observable; offline_ttl is long
# enough that cached users outlive every round
KAASD_CONF_EXTRA="cache_ttl = 2
offline_ttl = 600
negative_ttl = 1
retry_min = 1
retry_max = 1
connect_timeout = 2
timeout = 3
max_response_size = 256K"
KEYSTONE_URL=$PROXY_URL KAASD_SERVICE_USER=$SVC_NAME kaasd_write_conf "$D" "$D/service-password"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET

RSS_CHECK=yes
if [ -n "${KAASD_WRAPPER:-}" ]; then
    RSS_CHECK="no (kaasd runs under ${KAASD_WRAPPER%% *})"
elif ldd "$top_builddir/kaasd/kaasd" | grep libasan >/dev/null; then
    RSS_CHECK="no (AddressSanitizer's quarantine keeps freed memory)"
fi

r=$(call io.kaas.Identity.GetUser '{"name": "alice"}')
check "through the proxy: alice from Keystone" jt "$r" "d['parameters']['user']['source'] == 'keystone'"
check "through the proxy: requests really pass it" grep -q "^pass GET /v3/users" "$P/requests.log"
r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
ALICE_TOKEN=$(param "$r" token)
r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"bob\", \"password\": \"$BOB_PASSWORD\"}}")
BOB_TOKEN=$(param "$r" token)
check "tokens for alice and bob" bash -c "[[ '$ALICE_TOKEN' == kaas_* && '$BOB_TOKEN' == kaas_* ]]"

# calls.py N PREFIX: N lookups of distinct unknown names PREFIX-i from 8
# connections; prints how the replies were distributed
CALLS_PY=$KS_TMP/calls.py
cat >"$CALLS_PY" <<'EOF'
import collections, json, socket, sys, threading
sock, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
counts = collections.Counter()
lock = threading.Lock()
def worker(k):
    try:
        calls(k)
    except (OSError, ValueError) as e:
        with lock:
            counts["no reply: %s" % e.__class__.__name__] += 1
def calls(k):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sock)
    buf = b""
    for i in range(k, n, 8):
        s.sendall(json.dumps({"method": "io.kaas.Identity.GetUser",
                              "parameters": {"name": "%s-%d" % (prefix, i)}}).encode() + b"\0")
        while b"\0" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("kaasd closed the connection")
            buf += chunk
        msg, buf = buf.split(b"\0", 1)
        with lock:
            counts[json.loads(msg).get("error", "reply")] += 1
    s.close()
threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(counts))
EOF

# validates_as NAME TOKEN: Validate answers with NAME's identity
validates_as() {
    local r
    r=$(T=20 call io.kaas.Token.Validate "{\"token\": \"$2\"}")
    jt "$r" "d['parameters']['identity']['username'] == '$1'" 2>/dev/null
}

# ------------------------------------------------------------------ one round per fault
# fault_round MODE WHAT PATTERN: PATTERN (fixed string) must appear in
# Status' last_error and in the log
fault_round() {
    local m=$1 what=$2 pattern=$3 r s before after out rc started
    started=$(date +%s)
    if ! kill -0 "$KAASD_PID" 2>/dev/null; then
        not_ok "$what: kaasd is not running (see its log)"
        return
    fi
    # alice fresh in the cache, bob not in it at all
    call io.kaas.Admin.InvalidateUser '{"user": "bob"}' >/dev/null
    call io.kaas.Admin.InvalidateUser '{"user": "alice"}' >/dev/null
    call io.kaas.Identity.GetUser '{"name": "alice"}' >/dev/null
    local log_lines
    log_lines=$(wc -l <"$D/kaasd.log")
    if [ "$m" = password ]; then
        set_password "changed-$RANDOM-$RANDOM" || not_ok "$what: could not change the password in Keystone"
    else
        mode "$m"
    fi
    sleep 2.2  # past cache_ttl: every lookup now asks Keystone first

    r=$(T=20 call io.kaas.Identity.GetUser '{"name": "alice"}')
    check "$what: alice, cached, is still served from the cache" \
        jt "$r" "d['parameters']['user']['name'] == 'alice' and d['parameters']['user']['source'] == 'cache'"
    r=$(T=20 call io.kaas.Token.Validate "{\"token\": \"$ALICE_TOKEN\"}")
    check "$what: alice's token still validates" jt "$r" "d['parameters']['identity']['username'] == 'alice'"
    r=$(T=20 call io.kaas.Identity.GetUser "{\"name\": \"uncached-$m\"}")
    check "$what: a user not in the cache gets io.kaas.Identity.Unavailable" \
        jt "$r" "d.get('error') == 'io.kaas.Identity.Unavailable'"
    r=$(T=20 call io.kaas.Token.Validate "{\"token\": \"$BOB_TOKEN\"}")
    check "$what: the token of a user not in the cache gets io.kaas.Token.Unavailable" \
        jt "$r" "d.get('error') == 'io.kaas.Token.Unavailable'"
    s=$(status)
    local last_error
    last_error=$(j "$s" "d['parameters']['keystone']['last_error']")
    check "$what: Status' last_error says so" bash -c '[[ $1 == *"$2"* ]]' _ "$last_error" "$pattern"
    [[ $last_error == *"$pattern"* ]] || echo "#   last_error: $last_error"
    check "$what: the log says so" bash -c 'tail -n +"$1" "$2" | grep -qF -- "$3"' _ "$log_lines" "$D/kaasd.log" "$pattern"

    out=$(timeout 120 $PY "$CALLS_PY" "$SOCK" 20 "warm-$m")
    before=$(rss_kb)
    out=$(timeout 300 $PY "$CALLS_PY" "$SOCK" 200 "many-$m")
    rc=$?
    after=$(rss_kb)
    check "$what: 200 lookups of users not in the cache all get Unavailable ($out)" \
        jt "${out:-{\}}" "d == {'io.kaas.Identity.Unavailable': 200}"
    [ "$rc" = 0 ] || not_ok "$what: the lookups failed (exit $rc)"
    if [ "$RSS_CHECK" = yes ]; then
        check "$what: kaasd's RSS after 200 failing calls: $before kB -> $after kB (at most +4 MB)" \
            [ "$((after - before))" -le 4096 ]
    else
        echo "# $what: RSS not checked: $RSS_CHECK"
    fi
    check "$what: kaasd is alive" kill -0 "$KAASD_PID"
    check "$what: kaasd answers Status" jt "$(T=5 status)" "'version' in d['parameters']"

    if [ "$m" = password ]; then
        set_password "$SVC_PASSWORD" || not_ok "$what: could not restore the password in Keystone"
    else
        mode pass
    fi
    check "$what, then Keystone answers again: online" wait_for 30 bash -c "[ \"\$($VL -t 5 '$SOCK' io.kaas.Admin.Status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"parameters\"][\"keystone\"][\"state\"])')\" = online ]"
    # Keystone revokes with one-second granularity: after a password change
    # a service token issued within that same second is refused too, and
    # kaasd's one retry after a 401 can fall into it. Recovery is what
    # counts: a call that failed so is answered on a later try.
    check "$what, recovered: bob's token validates, his identity fetched from Keystone" \
        wait_for 60 validates_as bob "$BOB_TOKEN"
    echo "# $what: $(($(date +%s) - started)) s"
}

fault_round 500 "HTTP 500" "Keystone failed with HTTP 500"
fault_round garbage "a body that is not JSON" "unexpected reply from Keystone"
fault_round truncated "a truncated body" "transfer closed with"
fault_round huge "a 50 MB body" "larger than max_response_size"
fault_round stall "no answer at all" "timed out"
check "the stalled requests reached the proxy" grep -q "^stall " "$P/requests.log"
fault_round password "the service account's password changed in Keystone" "refused the service account '$SVC_NAME'"

r=$(call io.kaas.Identity.GetUser '{"name": "erin"}')
check "at the end: a new user from Keystone" jt "$r" "d['parameters']['user']['name'] == 'erin'"
check "the log never holds the service password" bash -c "! grep -qF -- '$SVC_PASSWORD' '$D/kaasd.log'"
kaasd_stop "$D"
check "kaasd logged no sanitizer report" \
    bash -c "! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$D/kaasd.log'"

check_done
