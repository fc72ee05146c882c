#!/bin/bash
# kaas-webhook under load and abuse while kube-apiserver is served: a real
# Keystone, a real kaasd, the webhook over real HTTPS (as in
# tests/e2e/test_webhook.sh). Loopback only. The legitimate client, in the
# part of kube-apiserver, posts a TokenReview for alice's token from
# 127.0.0.1, each on a new connection and within a 10 s timeout (the TLS
# handshake included), throughout every phase; every one must come back
# 200, authenticated, as alice. The attackers connect from other loopback
# addresses (127.0.0.2 and up): other hosts, as the webhook sees them.
#
# One webhook with room for 5,100 connections, 5,000 per client address:
#   hold      5,100 connections opened from one address and held: 5,000
#             are kept, 100 refused at once (max_connections_per_client);
#             without that limit they would take every connection and
#             lock kube-apiserver out
# Then one with max_connections 64, 16 per client, request_timeout 3 s
# and connection_timeout 30 s:
#   slow      16 clients trickling a TLS ClientHello and 16 trickling an
#             HTTP request, a byte a second (which keeps an idle timeout
#             from ever firing): closed by request_timeout
#   noread    16 clients sending requests and never reading the answers:
#             all dropped (libmicrohttpd here closes a connection after one
#             answer, which the kernel keeps for the client; one kept
#             alive would stall on its writes, then meet
#             connection_timeout), none left holding a thread
#   oversize  bodies over max_body_size, by Content-Length and chunked,
#             a little and far over: 413, or the connection closed
#   nesting   a TokenReview nested 2,000 deep: 400, within the connection
#             threads' bounded stacks
# After each webhook's phases: it still runs, and its threads and open
# descriptors are back near where they were before the attack.
#
# Needs root (a raised descriptor limit; the webhook runs as nobody) and
# a Keystone for the token (the shared one will do).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (a raised descriptor limit, the webhook as another user)"
    exit 77
fi
if ! ulimit -n 16384 2>/dev/null; then
    echo "SKIP: cannot raise the descriptor limit to 16384"
    exit 77
fi
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init

PY=/usr/bin/python3
VL="$PY $top_srcdir/tests/lib/varlink.py"
LOAD="$PY $top_srcdir/tests/integration/webhook_load_clients.py"

ks_env_setup
wh_env_setup "$KS_TMP/webhook"
LEGIT_PID=
cleanup() {
    [ -n "$LEGIT_PID" ] && kill "$LEGIT_PID" 2>/dev/null
    if [ -n "$WH_PID" ]; then
        kill -TERM "$WH_PID" 2>/dev/null
        wait "$WH_PID" 2>/dev/null
    fi
    ks_cleanup
}
trap cleanup EXIT
wh_mk_server_cert || { cat "$W/openssl.log" >&2; echo "openssl failed" >&2; exit 99; }

D=$KS_TMP/kaasd
kaasd_write_conf "$D"
sed -i "/^\[kaasd\]\$/a validator_group = $VGROUP" "$D/kaasd.conf"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
r=$($VL -t 30 "$SOCK" io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
(umask 077 && j "$r" "d['parameters']['token']" | tr -d '"' >"$W/token")
grep -q '^kaas_' "$W/token" || { echo "Token.Create for alice failed: $r" >&2; exit 99; }

write_conf() {  # FILE [WEBHOOK] LINES
    wh_write_conf "$1" "log_level = info
$2"
}
metric() {  # NAME: its value now, asked from 127.0.0.1
    curl -sS --max-time 10 --cacert "$W/ca.crt" "https://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
threads() { awk '/^Threads:/ { print $2 }' "/proc/$WH_PID/status"; }
fds() { ls "/proc/$WH_PID/fd" | wc -l; }
# baseline: the webhook's threads and descriptors after it answered once
baseline() {
    curl -sS -o /dev/null --max-time 10 --cacert "$W/ca.crt" "https://127.0.0.1:$PORT/healthz"
    sleep 0.5
    BASE_THREADS=$(threads)
    BASE_FDS=$(fds)
    echo "# baseline: $BASE_THREADS threads, $BASE_FDS descriptors"
}
# back_to_baseline WHAT: threads within 3 of the baseline; descriptors
# within 3 and the kaasd connections the pool may have opened since (up to
# its configured size, POOL: reviews and /metrics, which asks kaasd for
# the replica's state, open them on demand and keep them)
POOL=4
back_to_baseline() {
    check "$1: the webhook still runs" kill -0 "$WH_PID"
    if wait_for 30 bash -c "[ \$(awk '/^Threads:/ { print \$2 }' /proc/$WH_PID/status) -le $((BASE_THREADS + 3)) ] &&
            [ \$(ls /proc/$WH_PID/fd | wc -l) -le $((BASE_FDS + 3 + POOL)) ]"; then
        ok "$1: threads and descriptors back near the baseline ($(threads) and $(fds); were $BASE_THREADS and $BASE_FDS)"
    else
        not_ok "$1: threads and descriptors still $(threads) and $(fds) after 30 s (baseline $BASE_THREADS and $BASE_FDS)"
    fi
}

# legit_start / legit_stop NAME: the legitimate client around a phase
legit_start() {
    rm -f "$KS_TMP/legit.stop"
    $LOAD legit "$PORT" "$W/ca.crt" "$KS_TMP/legit.stop" 10 "$W/token" alice >"$KS_TMP/legit.out" 2>&1 &
    LEGIT_PID=$!
}
legit_stop() {
    touch "$KS_TMP/legit.stop"
    wait "$LEGIT_PID"
    LEGIT_PID=
    local out
    out=$(cat "$KS_TMP/legit.out")
    check "$1: every legitimate review answered, authenticated as alice, within 10 s ($out)" \
        jt "$out" "d['calls'] >= 1 and d['failures'] == 0"
}

# ------------------------------------------------------------------ hold 5,000
PORT=$(wh_free_port)
write_conf "$W/hold.conf" "max_connections = 5100
max_connections_per_client = 5000
connection_timeout = 120
request_timeout = 120"
wh_start "$W/hold.conf" "$W/hold.log" || exit 99
baseline
legit_start
SYNC=$KS_TMP/sync
mkdir -p "$SYNC"
$LOAD hold "$PORT" 127.0.0.2 5100 "$SYNC/ready" "$SYNC/release" 90 100 >"$KS_TMP/hold.out" 2>&1 &
HOLD_PID=$!
if wait_for 90 test -e "$SYNC/ready"; then
    wait_for 60 bash -c "[ \$(ls /proc/$WH_PID/task | wc -l) -ge 5000 ]"
    n=$(metric kaas_webhook_connections)
    check "5,000 connections held at once (the webhook counts $n open, runs $(threads) threads)" \
        [ "${n:-0}" -ge 5000 -a "$(threads)" -ge 5000 ]
    sleep 2  # the legitimate client keeps reviewing meanwhile
else
    not_ok "the 5,100 connections were not opened within 90 s"
fi
touch "$SYNC/release"
wait "$HOLD_PID"
out=$(cat "$KS_TMP/hold.out")
echo "# hold: $out"
check "hold: 5,000 kept, the 100 over max_connections_per_client refused at once, none dropped while held" \
    jt "$out" "d['open'] == 5000 and d['refused'] == 100 and d['errors'] == {} and d['dropped_while_held'] == 0"
legit_stop "hold"
check "hold: the refusals are counted (kaas_webhook_connections_refused_total 100)" \
    [ "$(metric kaas_webhook_connections_refused_total)" = 100 ]
check "hold: and logged, a line a second at most" \
    bash -c "n=\$(grep -c 'refused 127.0.0.2:[0-9]*: its address has 5000 connections open' '$W/hold.log'); [ \$n -ge 1 -a \$n -le 20 ]"
back_to_baseline "after the 5,000"
wh_stop
check "the first webhook stops on SIGTERM with status 0" [ "$WH_RC" = 0 ]

# ------------------------------------------------------------------ the small webhook
PORT=$(wh_free_port)
write_conf "$W/abuse.conf" "max_connections = 64
max_connections_per_client = 16
connection_timeout = 30
request_timeout = 3
max_body_size = 64K"
wh_start "$W/abuse.conf" "$W/abuse.log" || exit 99
baseline

# ------------------------------------------------------------------ slow clients
legit_start
# (30 s of a byte a second: a hang guard; each is timed from its connect)
$LOAD slow "$PORT" "$W/ca.crt" 127.0.0.3 16 30 handshake >"$KS_TMP/slow-hs.out" 2>&1 &
SLOW_PID=$!
out=$($LOAD slow "$PORT" "$W/ca.crt" 127.0.0.4 16 30 request)
wait "$SLOW_PID"
out_hs=$(cat "$KS_TMP/slow-hs.out")
echo "# slow handshakes: $out_hs"
echo "# slow requests: $out"
check "16 clients trickling a TLS handshake a byte a second: all closed by request_timeout (3 s), not at once" \
    jt "$out_hs" "all(t is not None and 1500 <= t for t in d['closed_after_ms'])"
check "16 clients trickling a request a byte a second: all closed by request_timeout (3 s), not at once" \
    jt "$out" "all(t is not None and 1500 <= t for t in d['closed_after_ms'])"
legit_stop "slow clients"
n=$(metric kaas_webhook_request_timeouts_total)
check "the request timeouts are counted ($n)" [ "${n:-0}" -ge 32 ]
check "the log says why they were closed" grep -q "closed 127.0.0.3:[0-9]*: no whole request within request_timeout (3 s)" "$W/abuse.log"

# ------------------------------------------------------------------ clients that never read
legit_start
# (they are given 20 s, less than connection_timeout (30 s), which would
# close them too: they are closed in well under a second)
out=$($LOAD noread "$PORT" "$W/ca.crt" 127.0.0.5 16 20)
echo "# noread: $out"
check "16 clients that never read: the webhook drops every one of them" \
    jt "$out" "all(t is not None for t in d['closed_after_ms'])"
legit_stop "clients that never read"

# TokenReviews keep their connection: only the guard's untaken-answer
# deadline (request_timeout, 3 s) ends these before connection_timeout (30 s)
legit_start
out=$($LOAD noread "$PORT" "$W/ca.crt" 127.0.0.6 16 60 "$W/token")
echo "# noread reviews: $out"
check "16 clients sending TokenReviews and never reading: all dropped" \
    jt "$out" "all(t is not None for t in d['closed_after_ms'])"
legit_stop "review clients that never read"
# (the guard logs just after it shuts a connection down: wait for the lines)
guard_cut_all() {
    [ "$(grep -c "closed 127.0.0.6:[0-9]*: took none of its answers within request_timeout (3 s)" "$W/abuse.log")" -ge 16 ]
}
check "... by the guard, not connection_timeout (30 s): each took none of its answers" wait_for 30 guard_cut_all

# ------------------------------------------------------------------ oversized bodies
legit_start
before=$(metric 'kaas_webhook_http_responses_total{code="413"}')
out=$($LOAD oversize "$PORT" "$W/ca.crt" 127.0.0.6 65536)
echo "# oversize: $out"
check "bodies over max_body_size (a little and far over, Content-Length and chunked): 413 or closed, never served" \
    jt "$out" "len(d) == 4 and all(x['status'] == 413 or (x['status'] is None and x['closed']) for x in d.values())"
check "a little over, by Content-Length and chunked: the client reads its 413" \
    jt "$out" "d['length_little_over']['status'] == 413 and d['chunked_little_over']['status'] == 413"
after=$(metric 'kaas_webhook_http_responses_total{code="413"}')
check "the 413 answers are counted ($before -> $after)" [ "$((after - before))" -ge 2 ]

# deep nesting: jansson's limit (2,048) answers it well within a connection thread's stack
$PY -c 'import sys; sys.stdout.write("{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":" + "[" * 2000 + "]" * 2000 + "}}")' >"$W/deep.json"
code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/ca.crt" -H 'Content-Type: application/json' \
    --data-binary "@$W/deep.json" "https://127.0.0.1:$PORT/authenticate")
check "a TokenReview nested 2,000 deep: 400" [ "$code" = 400 ]
legit_stop "oversized and deeply nested bodies"

# ------------------------------------------------------------------ afterwards
check "afterwards: no attacker connection left open (kaas_webhook_connections $(metric kaas_webhook_connections))" \
    wait_for 20 bash -c "[ \"\$(curl -sS --max-time 10 --cacert '$W/ca.crt' https://127.0.0.1:$PORT/metrics | awk '\$1 == \"kaas_webhook_connections\" { print \$2 }')\" = 1 ]"
back_to_baseline "after the abuse"
wh_stop
check "the second webhook stops on SIGTERM with status 0" [ "$WH_RC" = 0 ]
check "no sanitizer report in the webhook's logs" \
    bash -c "! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$W/hold.log' '$W/abuse.log'"
check "no token in the webhook's logs" bash -c "! grep -qF -- \"\$(cat '$W/token')\" '$W/hold.log' '$W/abuse.log'"
kaasd_stop "$D"
check_done
