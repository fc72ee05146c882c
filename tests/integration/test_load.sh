#!/bin/bash
# kaasd under load and abuse while legitimate clients are served. Loopback
# only; each phase takes a few seconds. A legitimate client (root, as the
# PAM module and sshd are) calls io.kaas.Admin.Status and
# io.kaas.Token.Validate alternately, each on a new connection and within
# a 5 s timeout, throughout every phase; every one of its calls must
# succeed.
#
#   hold      5,001 connections from one ordinary user (nobody) opened and
#             held: 5,000 are kept, the 5,001st gets io.kaas.ConnectionLimit
#   slow      50 clients sending a byte a second: dropped at idle_timeout
#   noread    20 clients sending calls without reading replies: kaasd
#             stops reading them, then drops them (output limit or idle
#             timeout)
#   oversize  20 messages over max_message_size: io.kaas.MessageTooLarge,
#             then the connection is closed
#
# Why one ordinary user holds the 5,000: root is exempt from
# max_connections_per_uid (sshd and NSS lookups of root processes serve
# many users through one uid), so 5,000 root connections would test only
# max_connections. From an ordinary user they also test the per-uid
# accounting at that scale, and the limit itself (set to 5,000 here,
# max_connections to 6,000), while root's legitimate calls go on.
# Needs root (setpriv, ulimit -n) and a Keystone for the token (the shared
# one will do).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root (clients as another user, a raised descriptor limit)"
    exit 77
fi
if ! ulimit -n 16384 2>/dev/null; then
    echo "SKIP: cannot raise the descriptor limit to 16384"
    exit 77
fi
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
LOAD="$PY $top_srcdir/tests/integration/load_clients.py"
call() { $VL -t "${T:-15}" "$SOCK" "$@"; }
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
connections() { j "$(call io.kaas.Admin.Status)" "d['parameters']['connections']"; }

ks_env_setup
D=$KS_TMP/kaasd
mkdir -p "$D"
chmod 755 "$KS_TMP" "$D"
KAASD_CONF_TAIL="
[kaasd]
max_connections = 6000
max_connections_per_uid = 5000
max_message_size = 64K
max_output_buffer = 256K
idle_timeout = 60"
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
TOKEN=$(param "$r" token)
check "a token for the legitimate client" jt "$r" "d['parameters']['token'].startswith('kaas_')"

# legit_start / legit_stop NAME: the legitimate client around a phase
LEGIT_PID=
legit_start() {
    rm -f "$KS_TMP/legit.stop"
    $LOAD legit "$SOCK" "$KS_TMP/legit.stop" 5 "$TOKEN" >"$KS_TMP/legit.out" 2>&1 &
    LEGIT_PID=$!
}
legit_stop() {
    touch "$KS_TMP/legit.stop"
    wait "$LEGIT_PID"
    local out
    out=$(cat "$KS_TMP/legit.out")
    check "$1: every legitimate call answered within 5 s ($out)" \
        jt "$out" "d['calls'] >= 1 and d['failures'] == 0"
}

# ------------------------------------------------------------------ hold 5,000
legit_start
SYNC=$KS_TMP/sync  # where the unprivileged holder says it is ready
mkdir -m 0777 "$SYNC"
as_user $LOAD hold "$SOCK" 5001 "$SYNC/ready" "$SYNC/release" 60 >"$KS_TMP/hold.out" 2>&1 &
HOLD_PID=$!
if wait_for 60 test -e "$SYNC/ready"; then
    n=$(connections)
    check "5,000 connections held at once (Status counts $n)" [ "$n" -ge 5000 ]
    sleep 2  # the legitimate client keeps calling meanwhile
    r=$(call io.kaas.Admin.Status)
    check "with 5,000 held, Status still answers at once" jt "$r" "d['parameters']['connections'] >= 5000"
    r=$(as_user $LOAD refused "$SOCK")
    check "the user holding 5,000 is refused a 5,001st: io.kaas.ConnectionLimit" \
        jt "$r" "d.get('error') == 'io.kaas.ConnectionLimit'"
else
    not_ok "the 5,000 connections were not opened within 60 s"
fi
touch "$SYNC/release"
wait "$HOLD_PID"
out=$(cat "$KS_TMP/hold.out")
echo "# hold: $out"
check "hold: 5,000 kept, the one over the per-uid limit refused, none dropped while held" \
    jt "$out" "d['open'] == 5000 and d['refused'] == 1 and d['errors'] == {} and d['dropped_while_held'] == 0"
legit_stop "hold"
check "the held connections are gone once closed" wait_for 20 bash -c "[ \$($VL '$SOCK' io.kaas.Admin.Status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"parameters\"][\"connections\"])') -le 5 ]"
check "kaasd is alive after the 5,000" kill -0 "$KAASD_PID"

# the remaining phases want a short idle timeout: reload it in place
sed -i 's/^idle_timeout = 60$/idle_timeout = 2/' "$D/kaasd.conf"
r=$(call io.kaas.Admin.Reload)
check "Reload with idle_timeout = 2" jt "$r" "'error' not in d"

# ------------------------------------------------------------------ slow clients
legit_start
# (they never go a second without sending: only a limit on the whole
# message can end them; 30 s is how long they keep at it, a hang guard)
out=$(as_user $LOAD slow "$SOCK" 50 30)
echo "# slow: $out"
check "50 clients sending a byte a second are all dropped at idle_timeout (2 s), not at once" \
    jt "$out" "all(t is not None and 1500 <= t for t in d['closed_after_ms'])"
legit_stop "slow clients"
check "the log says why they were dropped" grep -q "message not completed within the idle timeout" "$D/kaasd.log"

# ------------------------------------------------------------------ clients that never read
log_from=$(wc -l <"$D/kaasd.log")
legit_start
out=$(as_user $LOAD noread "$SOCK" 20 30)
echo "# noread: $out"
check "20 clients that never read: kaasd stops reading them (their sends block)" \
    jt "$out" "all(t is not None for t in d['stalled_after_ms'])"
check "and drops every one of them (output limit or idle timeout)" \
    jt "$out" "all(t is not None for t in d['closed_after_ms'])"
legit_stop "clients that never read"
# (with every call answered and only replies left unread, the sweep calls it idle)
dropped=$(tail -n +"$log_from" "$D/kaasd.log" |
    grep -c -E "closed: (idle timeout|peer stopped reading \(idle timeout\)|peer does not read its replies \(output buffer limit\))")
check "the log says why they were dropped ($dropped lines)" [ "$dropped" -ge 20 ]

# ------------------------------------------------------------------ oversized messages
legit_start
out=$(as_user $LOAD oversize "$SOCK" 20 200000)
sleep 1
legit_stop "oversized messages"
check "20 messages over max_message_size: each gets io.kaas.MessageTooLarge, then the connection is closed" \
    jt "$out" "len(d['results']) == 20 and all(x == {'error': 'io.kaas.MessageTooLarge', 'closed': True} for x in d['results'])"
[ $? = 0 ] || echo "# oversize: ${out:0:400}"

# ------------------------------------------------------------------ afterwards
r=$(call io.kaas.Admin.Status)
check "afterwards: kaasd answers, refused connections counted" \
    jt "$r" "d['parameters']['connections_refused'] >= 1 and d['parameters']['connections_total'] >= 5090"
check "kaasd is alive" kill -0 "$KAASD_PID"
kaasd_stop "$D"
check "kaasd logged no sanitizer report" \
    bash -c "! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$D/kaasd.log'"
check_done
