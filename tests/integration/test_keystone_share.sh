#!/bin/bash
# Keystone capacity is shared fairly: an ordinary local user who floods
# kaasd with lookups of names nobody has can keep only a bounded number
# waiting for Keystone (the rest are refused at once), ordinary users'
# fetches run a few at a time, and root's lookups still reach Keystone
# while the flood is held; with every fetch taken, an administrator's
# RevokeUser by name says Keystone is unavailable rather than "nothing
# deleted". A proxy in front of the real Keystone
# (tests/lib/keystone_fault_proxy.py, mode "hold") keeps every call in
# flight until the test releases it, so nothing depends on how fast the
# machine or Keystone is.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
call() { $VL -t "${T:-15}" "$SOCK" "$@"; }
status() { call io.kaas.Admin.Status; }
ks() { j "$(status)" "d['parameters']['keystone']$1"; }
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
user_by_name_requests() { ks "['requests'][[k['kind'] for k in d['parameters']['keystone']['requests']].index('user_by_name')]['requests']"; }
get_user_calls() { j "$(status)" "[m['calls'] for m in d['parameters']['methods'] if m['method'] == 'io.kaas.Identity.GetUser'][0]"; }

ks_env_setup
P=$KS_TMP/proxy
D=$KS_TMP/kaasd
mkdir -p "$P" "$D"
FLOOD_PID=
cleanup() {
    [ -n "$FLOOD_PID" ] && kill "$FLOOD_PID" 2>/dev/null
    ks_cleanup
}
trap cleanup EXIT

ks_fault_proxy_start "$P"
KAASD_CONF_EXTRA="timeout = 120
negative_ttl = 600"
KEYSTONE_URL=$PROXY_URL kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$KS_TMP" "$D"

# the service token is held before anything is held back
r=$(call io.kaas.Identity.GetUser '{"name": "alice"}')
check "through the proxy: alice from Keystone" jt "$r" "d['parameters']['user']['source'] == 'keystone'"

# ------------------------------------------------------- one user's flood
cat >"$KS_TMP/flood.py" <<'PYEOF'
import json, socket, sys
n, path = int(sys.argv[1]), sys.argv[2]
conns = []
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(150)
    s.connect(path)
    s.sendall(json.dumps({"method": "io.kaas.Identity.GetUser",
                          "parameters": {"name": "nobody-such-%d-%d" % (i, n)}}).encode() + b"\0")
    conns.append(s)
seen = {}
for s in conns:
    buf = b""
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    r = json.loads(buf.split(b"\0", 1)[0]) if b"\0" in buf else {"error": "no reply"}
    k = r.get("error", "ok")
    seen[k] = seen.get(k, 0) + 1
print(json.dumps(seen))
PYEOF
chmod 644 "$KS_TMP/flood.py"

N=100
calls0=$(get_user_calls)
requests0=$(user_by_name_requests)
mode hold
as_nobody $PY "$KS_TMP/flood.py" $N "$SOCK" >"$KS_TMP/flood.out" 2>&1 &
FLOOD_PID=$!
all_dispatched() { [ "$(get_user_calls)" -ge $((calls0 + N)) ]; }
check "the flood's $N lookups all reached kaasd" wait_for 60 all_dispatched
check "the flooding user's lookups over its share were refused at once ($(ks "['share_refused']"))" \
    [ "$(ks "['share_refused']")" -eq $((N - 16)) ]
check "Keystone calls in flight for the flood: at most the ordinary share ($(ks "['requests_in_flight']"))" \
    [ "$(ks "['requests_in_flight']")" -le 8 ]

# root's lookup of a user nobody has cached reaches Keystone meanwhile
T=150 call io.kaas.Identity.GetUser '{"name": "bob"}' >"$KS_TMP/bob.out" 2>&1 &
BOB_PID=$!
check "root's lookup reaches Keystone while the flood is held" \
    wait_for 60 grep -q "^held GET /v3/users?name=bob" "$P/requests.log"

mode pass
wait "$BOB_PID"
check "root's lookup is answered from Keystone" jt "$(cat "$KS_TMP/bob.out")" "d['parameters']['user']['name'] == 'bob' and d['parameters']['user']['source'] == 'keystone'"
wait "$FLOOD_PID"
FLOOD_PID=
r=$(cat "$KS_TMP/flood.out")
check "the flood: 16 answered (no such user), $((N - 16)) refused as unavailable ($r)" \
    jt "$r" "d == {'io.kaas.Identity.UserNotFound': 16, 'io.kaas.Identity.Unavailable': $((N - 16))}"
requests1=$(user_by_name_requests)
check "the flood cost Keystone at most 16 name lookups ($requests0 -> $requests1, bob's included)" \
    [ $((requests1 - requests0)) -le 17 ]
check "ordinary fetches waited their turn" [ "$(ks "['share_queued']")" -ge 1 ]
check "nothing left in flight" wait_for 30 bash -c "[ \"\$($VL '$SOCK' io.kaas.Admin.Status | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"parameters\"][\"keystone\"][\"requests_in_flight\"])')\" = 0 ]"

# ------------------------------------------------------- every fetch taken
# With 1,024 fetches waiting (64 ordinary uids with 16 lookups each: 4
# running, the rest waiting their turn), a lookup that needs one more
# fetch is refused at once. An administrator's RevokeUser by name then
# answers that the identity service is unavailable and deletes nothing:
# never "no tokens of that user" for a name it could not look up.
r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
ALICE_TOKEN=$(param "$r" token 2>/dev/null)
check "a token for alice" [ -n "$ALICE_TOKEN" ]
check "the identity cache flushed" call io.kaas.Admin.FlushCache
cat >"$KS_TMP/many_uids.py" <<'PYEOF'
import json, os, socket, sys
uids, per, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
children = []
for u in range(uids):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.setgroups([])
            os.setgid(30000 + u)
            os.setuid(30000 + u)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(150)
            s.connect(path)
            s.sendall(b"".join(json.dumps({"method": "io.kaas.Identity.GetUser",
                                           "parameters": {"name": "held-%d-%d" % (u, i)}}).encode() + b"\0"
                               for i in range(per)))
            buf = b""
            while buf.count(b"\0") < per:
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
            code = 0 if buf.count(b"\0") >= per else 1
        finally:
            os._exit(code)
    children.append(pid)
print(sum(1 for pid in children if os.waitpid(pid, 0)[1] != 0))
PYEOF
chmod 644 "$KS_TMP/many_uids.py"
mode hold
$PY "$KS_TMP/many_uids.py" 64 16 "$SOCK" >"$KS_TMP/many_uids.out" 2>&1 &
FLOOD_PID=$!
table_full() { [ "$(ks "['fetches_in_flight']")" -ge 1024 ]; }
check "1,024 fetches wait for Keystone" wait_for 60 table_full
r=$(call io.kaas.Token.RevokeUser '{"user": "alice"}')
check "RevokeUser alice by name meanwhile: unavailable, not \"0 deleted\"" \
    jt "$r" "d.get('error') == 'io.kaas.Token.Unavailable'"
mode pass
wait "$FLOOD_PID"
FLOOD_PID=
check "each of the 64 uids had its 16 lookups answered" [ "$(cat "$KS_TMP/many_uids.out")" = 0 ]
check "alice's token was kept" jt "$(call io.kaas.Token.Validate "{\"token\": \"$ALICE_TOKEN\"}")" \
    "d['parameters']['identity']['username'] == 'alice'"
r=$(call io.kaas.Token.RevokeUser '{"user": "alice"}')
check "with Keystone answering, RevokeUser alice deletes her token" jt "$r" "d['parameters']['deleted'] >= 1"

check_done
