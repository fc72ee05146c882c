#!/bin/bash
# A reader kaasd's replica follows etcd through what its watch brings, or
# fails to bring: a token record overwritten with a value that is no token
# record; the member the watch is on frozen (its connections open, silent)
# while the rest of the cluster goes on. Real 3-member etcd cluster
# (tests/etcd/); no Keystone: a token the replica holds gets as far as the
# owner's lookup, one it lacks is InvalidToken.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/etcd/guide.sh"
command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1 || {
    echo "SKIP: etcd is not installed (apt-get install etcd-server etcd-client)"
    exit 77
}
VL="/usr/bin/python3 $top_srcdir/tests/lib/varlink.py"
TMP=$(mktemp -d /tmp/kaas-test.XXXXXX)
ETCD=$TMP/etcd
D=$TMP/node1
PID= STOPPED=
cleanup() {
    [ -n "$STOPPED" ] && kill -CONT $STOPPED 2>/dev/null
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    "$top_srcdir/tests/etcd/etcd-down.sh" "$ETCD" >/dev/null 2>&1
    [ "${KAAS_TEST_KEEP:-0}" = 1 ] || rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ETCD_WATCH_PID=$$ "$top_srcdir/tests/etcd/etcd-up.sh" "$ETCD" >"$TMP/etcd-up.log" 2>&1 || {
    cat "$TMP/etcd-up.log" >&2
    exit 99
}
. "$ETCD/env"
PKI=$ETCD_DIR/pki
etcdctl_root() {
    ETCDCTL_API=3 etcdctl --endpoints="${EPS:-$ETCD_ENDPOINTS}" --cacert "$PKI/ca.crt" --cert "$PKI/root.crt" \
        --key "$PKI/root.key" "$@"
}

# the guide's reader block, failing closed 4 s after losing etcd
guide_reader_conf "$D" -e "s|^max_disconnected = .*|max_disconnected = 4|" || exit 99

"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
PID=$!
store() { j "$($VL -t 10 "$D/kaasd.sock" io.kaas.Admin.Status 2>/dev/null)" "d['parameters']['store']" 2>/dev/null; }
ready() { jt "$(store)" "d['complete'] and d['connected']" >/dev/null; }
check "the reader loads the (empty) store" wait_for 60 ready

# new_token: "TOKEN HASH RECORD", a well-formed token hashed with the
# reader's key and a token record for it
new_token() {
    "$CHECK_PY" - "$D/state/token.key" <<'PY'
import hashlib, json, secrets, sys, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
t = "kaas_" + "".join(secrets.choice(A) for _ in range(40))
c, s = zlib.crc32(t.encode()), ""
for _ in range(6):
    s, c = A[c % 62] + s, c // 62
t += s
h = hashlib.blake2b(t.encode(), key=open(sys.argv[1], "rb").read(), digest_size=32).hexdigest()
rec = {"owner_id": secrets.token_hex(16), "owner_name": "someone", "owner_domain_id": "default",
       "description": "", "token_id": "tid_" + "".join(secrets.choice(A) for _ in range(22)),
       "created": 1700000000, "expires": 4000000000}
print(t, h, json.dumps(rec, separators=(",", ":")))
PY
}
validate() { $VL -t 10 "$D/kaasd.sock" io.kaas.Token.Validate "{\"token\": \"$1\"}" 2>/dev/null; }
# held: the replica has the record (the owner is then looked up, and there
# is no Keystone); absent: it has not; refused: the gate stops it first
held() { [[ $(validate "$1") == *"no Keystone is configured"* ]]; }
absent() { [[ $(validate "$1") == *io.kaas.Token.InvalidToken* ]]; }
refused() { [[ $(validate "$1") == *max_disconnected* ]]; }

read -r T1 H1 R1 < <(new_token)
check "a token record is put into etcd" etcdctl_root put "${ETCD_PREFIX}tokens/$H1" "$R1"
check "the reader takes it" wait_for 20 held "$T1"

# ---------------------------------------------------------------- a value that is no token record
# etcd no longer holds a token record for H1: the replica must not either,
# as a fresh load would not
check "the record is overwritten with a value that is no token record" \
    etcdctl_root put "${ETCD_PREFIX}tokens/$H1" "not a token record"
check "the reader drops the token it held" wait_for 20 absent "$T1"
check "the reader counts the value it ignored" jt "$(store)" "d['records_ignored'] >= 1"

# ---------------------------------------------------------------- a key longer than kaasd takes
# under uids/, where every reader may write: one record ignored, not the
# watch stopped (the next token still reaches the reader) nor a reload
# that would fail on it for good
long_key="${ETCD_PREFIX}uids/$(head -c 2000 /dev/zero | tr '\0' a)"
check "a 2,000-byte key is put under uids/" etcdctl_root put "$long_key" 1
read -r T9 H9 R9 < <(new_token)
check "a token record is put after it" etcdctl_root put "${ETCD_PREFIX}tokens/$H9" "$R9"
check "the reader takes it: its watch went on past the long key" wait_for 20 held "$T9"
check "the long key removed again" etcdctl_root del "$long_key"

# ---------------------------------------------------------------- the watch's member frozen
read -r T2 H2 R2 < <(new_token)
check "another token record is put into etcd" etcdctl_root put "${ETCD_PREFIX}tokens/$H2" "$R2"
check "the reader takes it" wait_for 20 held "$T2"
ep=$(j "$(store)" "d['endpoint']" | tr -d '"')
n=$(for i in 1 2 3; do v=ETCD_ENDPOINT_$i; [ "${!v}" = "$ep" ] && echo "$i"; done)
check "the reader's calls go to member $n ($ep)" test -n "$n"
others=$(for i in 1 2 3; do v=ETCD_ENDPOINT_$i; [ "$i" = "$n" ] || printf '%s,' "${!v}"; done)
STOPPED=$(cat "$ETCD_DIR/m$n.pid")
kill -STOP "$STOPPED"
# if the frozen member led the cluster, the other two elect a leader
# first, and a delete sent meanwhile times out: asked again until etcd
# (read through them) no longer holds the record
deleted_elsewhere() {
    local out
    EPS=${others%,} etcdctl_root --command-timeout=10s del "${ETCD_PREFIX}tokens/$H2" >/dev/null 2>>"$TMP/del.err"
    out=$(EPS=${others%,} etcdctl_root --command-timeout=10s get "${ETCD_PREFIX}tokens/$H2" -w json 2>>"$TMP/del.err") &&
        jt "$out" "d.get('count', 0) == 0" >/dev/null
}
if wait_for 90 deleted_elsewhere; then
    ok "the other members delete the record"
else
    not_ok "the other members delete the record"
    tail -n 5 "$TMP/del.err" | sed 's/^/#   /'
fi
gone_or_refused() { absent "$1" || refused "$1"; }
# the heartbeat moves to another member at once; the watch must follow it,
# else the replica looks connected and never hears of the delete
check "member $n frozen: the deleted token is refused" wait_for 40 gone_or_refused "$T2"
check "member $n frozen: the reader catches up through another member" wait_for 40 absent "$T2"
rev=$(j "$(EPS=${others%,} etcdctl_root get "${ETCD_PREFIX}" -w json)" "d['header']['revision']")
caught_up() { jt "$(store)" "d['connected'] and d['revision'] >= $rev" >/dev/null; }
check "member $n frozen: the reader is connected, at etcd's revision $rev" wait_for 20 caught_up
kill -CONT "$STOPPED"
STOPPED=

# ---------------------------------------------------------------- every member frozen
# The reader's calls then hang until they time out (connect_timeout 5 s,
# timeout 10 s). max_disconnected (4, counted as 6) counts from etcd's last
# answer, before the freeze, not from when the hanging call gave up.
read -r T3 H3 R3 < <(new_token)
check "a third token record is put into etcd" etcdctl_root put "${ETCD_PREFIX}tokens/$H3" "$R3"
check "the reader takes it" wait_for 20 held "$T3"
all_members=$(cat "$ETCD_DIR"/m[123].pid | tr '\n' ' ')
freeze() { kill -STOP $all_members && STOPPED=$all_members; }
# every member thawed, the reader validates again; then it is stopped
thaw_and_stop() {
    kill -CONT $all_members
    STOPPED=
    check "the members thawed: the reader validates again" wait_for 60 held "$T3"
    kill -TERM "$PID"
    wait "$PID" 2>/dev/null
    PID=
}
freeze
frozen_at=$(date +%s)
check "every member frozen: the reader refuses tokens (max_disconnected = 4)" wait_for 60 refused "$T3"
out_of_touch() { jt "$(store)" "not d['connected']" >/dev/null; }
check "the reader's hanging call gives up: it reports itself out of touch" wait_for 60 out_of_touch
check "out of touch since etcd's last answer, before the freeze at $frozen_at" \
    jt "$(store)" "0 < d['disconnected_since'] <= $frozen_at + 1"
thaw_and_stop

# ---------------------------------------------------------------- calls that never give up
# The same freeze, with etcd's timeouts far longer than anything below: the
# reader's calls to the frozen members are still hanging, not failed, when
# it must refuse tokens, so the bound is seen to hold during the hang
# whatever the machine's speed, not only once a call has timed out.
guide_reader_conf "$D" -e "s|^max_disconnected = .*|max_disconnected = 4\nconnect_timeout = 300\ntimeout = 600|" ||
    exit 99
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
PID=$!
check "restarted with 300 s and 600 s etcd timeouts, the reader is connected" wait_for 60 ready
check "it holds the third token" wait_for 20 held "$T3"
freeze
check "every member frozen: the reader refuses tokens while its calls hang" wait_for 60 refused "$T3"
check "its calls have not given up: it still counts itself connected" jt "$(store)" "d['connected']"
thaw_and_stop

# ---------------------------------------------------------------- a password file refused
# With its etcd password file readable by others, the reader refuses it at
# every login; the calls waiting for that login are answered from the
# loop, never inside the call that made them, and kaasd stops cleanly
# (under the sanitizers, a use of what was freed fails "no sanitizer report")
chmod 0644 "$D/etcd-password"
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
PID=$!
refusing() { grep -q "password_file $D/etcd-password has mode 0644" "$D/kaasd.log"; }
check "a reader with a password file others may read says why it cannot log in" wait_for 60 refusing
check "it is not connected" jt "$(store)" "not d['connected']"
kill -TERM "$PID"
wait "$PID"
rc=$?
PID=
check "it stops cleanly (exit status $rc)" [ "$rc" -eq 0 ]
chmod 0600 "$D/etcd-password"

# ---------------------------------------------------------------- etcd restored to an older state
# A new cluster stands for etcd restored from an old snapshot: its
# revision is below the one the reader applied. A watch from there would
# never see what etcd holds; the reader notices (its heartbeat, a
# linearizable read, answers below it) and loads etcd again: it takes
# what etcd holds and drops what it does not.
old_rev=$(j "$(etcdctl_root get "$ETCD_PREFIX" -w json)" "d['header']['revision']")
"$top_srcdir/tests/etcd/etcd-down.sh" "$ETCD" >/dev/null 2>&1
ETCD=$TMP/etcd-restored
ETCD_WATCH_PID=$$ "$top_srcdir/tests/etcd/etcd-up.sh" "$ETCD" >"$TMP/etcd-up2.log" 2>&1 || {
    cat "$TMP/etcd-up2.log" >&2
    exit 99
}
. "$ETCD/env"
PKI=$ETCD_DIR/pki
read -r T10 H10 R10 < <(new_token)
check "a token record is put into the restored etcd" etcdctl_root put "${ETCD_PREFIX}tokens/$H10" "$R10"
new_rev=$(j "$(etcdctl_root get "$ETCD_PREFIX" -w json)" "d['header']['revision']")
check "its revision ($new_rev) is below the one the reader applied ($old_rev)" [ "$new_rev" -lt "$old_rev" ]
guide_reader_conf "$D" -e "s|^max_disconnected = .*|max_disconnected = 4|" || exit 99
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
PID=$!
check "the reader takes the token the restored etcd holds" wait_for 60 held "$T10"
check "... and drops the one it no longer holds" wait_for 60 absent "$T3"
check "the log says why it loaded again" grep -q "etcd was restored from an older state; reloading the replica" "$D/kaasd.log"
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
check "no sanitizer report" bash -c "! grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$D/kaasd.log'"
check_done
