#!/bin/bash
# The token store under hostile conditions: a full disk, and database files
# whose modes or owners someone else changed. kaasd's state directory is a
# small tmpfs mounted inside the test's temporary directory (root only;
# skipped otherwise), with a real kaasd and a real Keystone.
#
# Full disk: a filler file takes almost all space, then tokens are created
# (authenticated by a KaaS token, so no Keystone call) until Create fails.
# The failure must be io.kaas.InternalError naming "no space left", reads
# (Validate, List) must keep working and kaasd must stay up; once the
# filler is gone, creation works again, every token whose Create was
# acknowledged validates, and again after a restart, with the store's
# indexes agreeing (List all counts them all).
#
# Unsafe files: a database file readable by others, one owned by another
# uid, a group-writable state directory, a symbolic link in place of a
# database, a token key owned by another uid: kaasd refuses to start and
# says which file, its mode and its owner. (SIGKILL during writes and a
# token key readable by others are test_tokens.sh's.)
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: mounting a tmpfs needs root"
    exit 77
fi

PY=/usr/bin/python3
call() { $VL -t "${T:-20}" "$SOCK" "$@"; }

ks_env_setup  # the shared Keystone will do: nothing here changes it
D=$KS_TMP/kaasd
STATE=$D/state
mkdir -p "$STATE"
MOUNTED=
cleanup() {
    local d
    for d in $KS_KAASD_DIRS; do kaasd_stop "$d" 2>/dev/null || true; done
    [ -n "$MOUNTED" ] && umount "$MOUNTED" 2>/dev/null
    ks_cleanup
}
trap cleanup EXIT
# BDB's region files (~4 MB) and its first log file (up to 10 MB) must fit
if ! mount -t tmpfs -o size=24m,mode=0700 kaas-test-state "$STATE" 2>"$KS_TMP/mount.err"; then
    echo "SKIP: cannot mount a tmpfs: $(cat "$KS_TMP/mount.err")"
    exit 77
fi
MOUNTED=$STATE

KAASD_CONF_EXTRA="timeout = 20"
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET

r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
T0=$(param "$r" token)
check "a first token for alice" jt "$r" "d['parameters']['token'].startswith('kaas_')"

# tokens.py create|validate FILE: one connection; create appends each
# acknowledged token to FILE until Create fails (prints that error) or
# LIMIT succeed; validate checks every token in FILE and prints the count.
TOKENS_PY=$KS_TMP/tokens.py
cat >"$TOKENS_PY" <<'EOF'
import json, socket, sys
sock, cmd, path, cred = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
limit = int(sys.argv[5]) if len(sys.argv) > 5 else 0
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sock)
buf = b""
def call(method, params):
    global buf
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("kaasd closed the connection")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)
if cmd == "create":
    n = 0
    with open(path, "a") as f:
        while not limit or n < limit:
            r = call("io.kaas.Token.Create", {"credentials": {"kaas_token": cred}, "description": "filler " + "x" * 200})
            if "error" in r:
                print(json.dumps({"created": n, "error": r}))
                sys.exit(0)
            f.write(r["parameters"]["token"] + "\n")
            f.flush()
            n += 1
    print(json.dumps({"created": n, "error": None}))
else:
    tokens = [t for t in open(path).read().split("\n") if t]
    bad = [r for r in (call("io.kaas.Token.Validate", {"token": t}) for t in tokens) if "error" in r]
    print(json.dumps({"tokens": len(tokens), "failed": len(bad), "first_failure": bad[0] if bad else None}))
EOF
ACKED=$KS_TMP/acknowledged
echo "$T0" >"$ACKED"
all_validate() {
    local out
    out=$($PY "$TOKENS_PY" "$SOCK" validate "$ACKED" x)
    echo "# $out"
    jt "$out" "d['tokens'] == $(wc -l <"$ACKED") and d['failed'] == 0"
}
list_count() { j "$(call io.kaas.Token.List '{"all": true}')" "len(d['parameters']['tokens'])"; }

# ------------------------------------------------------------- full disk
# never fill anything but the test's own small file system
mountpoint -q "$STATE" && [ "$(df -k --output=size "$STATE" | tail -n 1)" -le 32768 ] || {
    echo "not ok - $STATE is not the test's tmpfs"
    exit 99
}
avail=$(df -k --output=avail "$STATE" | tail -n 1)
# leave ~384 KB: some dozens of tokens, then the disk is full
dd if=/dev/zero of="$STATE/filler" bs=1k count=$((avail - 384)) 2>/dev/null
out=$($PY "$TOKENS_PY" "$SOCK" create "$ACKED" "$T0" 5000)
echo "# filling: $out"
check "tokens were created until the disk was full" jt "$out" "d['created'] >= 1 and d['error'] is not None"
check "a write on a full disk fails with io.kaas.InternalError naming 'no space left'" \
    jt "$out" "d['error']['error'] == 'io.kaas.InternalError' and 'no space left' in d['error']['parameters']['reason'].lower()"
check "the log says the store is out of space" grep -q "storing a new token failed: No space left on device" "$D/kaasd.log"
r=$(call io.kaas.Token.Create "{\"credentials\": {\"kaas_token\": \"$T0\"}}")
check "creating again on the full disk fails the same way" \
    jt "$r" "d.get('error') == 'io.kaas.InternalError' and 'no space left' in d['parameters']['reason']"
check "full disk: every acknowledged token still validates" all_validate
check "full disk: List answers with every token" [ "$(list_count)" = "$(wc -l <"$ACKED")" ]
# a validation's last-used time is written later, by a timer: on a full disk too
sleep 2
check "full disk: kaasd is still running" kill -0 "$KAASD_PID"
r=$(call io.kaas.Admin.Status)
check "full disk: Status answers and counts the creations" jt "$r" "d['parameters']['tokens']['created'] >= $(wc -l <"$ACKED")"

# ------------------------------------------------------------- space again
rm -f "$STATE/filler"
r=$(call io.kaas.Token.Create "{\"credentials\": {\"kaas_token\": \"$T0\"}, \"description\": \"after\"}")
check "with space again, Create works" jt "$r" "d['parameters']['token'].startswith('kaas_')"
param "$r" token >>"$ACKED"
check "with space again, every acknowledged token validates" all_validate
check "the store's indexes agree: List all shows every token" [ "$(list_count)" = "$(wc -l <"$ACKED")" ]
kaasd_stop "$D"
kaasd_start "$D" || exit 99
check "after a restart, every acknowledged token validates" all_validate
check "after a restart, List all shows every token" [ "$(list_count)" = "$(wc -l <"$ACKED")" ]
kaasd_stop "$D"

# ------------------------------------------------------------- unsafe files
# refuses WHAT PATTERN...: kaasd must exit non-zero at start, its output
# matching every PATTERN (fixed strings); a kaasd that starts is stopped
refuses() {
    local what=$1 log=$KS_TMP/refused.log pid rc=
    shift
    # (not under $KAASD_WRAPPER: a start-up refusal is no leak check)
    "$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >"$log" 2>&1 &
    pid=$!
    wait_for 60 bash -c "! kill -0 $pid 2>/dev/null"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        wait "$pid" 2>/dev/null
        not_ok "$what: kaasd started anyway"
        return
    fi
    wait "$pid"
    rc=$?
    local p missing=
    for p in "$@"; do grep -qF -- "$p" "$log" || missing="$missing '$p'"; done
    if [ "$rc" != 0 ] && [ -z "$missing" ]; then
        ok "$what: kaasd refuses to start ($(grep -v -m1 -E "^kaasd: (debug|info|notice|warning):" "$log" | cut -c8-150))"
    else
        not_ok "$what: exit $rc, log lacks$missing"
        sed 's/^/#   /' "$log"
    fi
}

chmod 0644 "$STATE/tokens.db"
refuses "tokens.db mode 0644" "$STATE/tokens.db" "mode 0644" "owner uid 0"
chmod 0600 "$STATE/tokens.db"

LOGFILE=$(cd "$STATE" && ls log.* | head -n 1)
chmod 0640 "$STATE/$LOGFILE"
refuses "a Berkeley DB log file mode 0640" "$STATE/$LOGFILE" "mode 0640"
chmod 0600 "$STATE/$LOGFILE"

chown 65534 "$STATE/tokens-by-owner.db" "$STATE/kaasd.lock"
refuses "a database file owned by another uid" "tokens-by-owner.db" "owner uid 65534" "mode 0600"
chown 0 "$STATE/tokens-by-owner.db"
refuses "a lock file owned by another uid" "$STATE/kaasd.lock" "owner uid 65534"
chown 0 "$STATE/kaasd.lock"

chmod 0770 "$STATE"
refuses "a group-writable state directory" "state directory $STATE" "mode 0770"
chmod 0700 "$STATE"

mv "$STATE/meta.db" "$STATE/meta.real"
ln -s meta.real "$STATE/meta.db"
refuses "a symbolic link in place of a database" "$STATE/meta.db" "symbolic link"
rm "$STATE/meta.db"
mv "$STATE/meta.real" "$STATE/meta.db"

chown 65534 "$STATE/token.key"
refuses "a token key owned by another uid" "token key file must be owned by the daemon's user"
chown 0 "$STATE/token.key"

kaasd_start "$D" || exit 99
check "with the modes and owners restored, kaasd starts and every token validates" all_validate
kaasd_stop "$D"
check "kaasd logged no sanitizer report" bash -c "! grep -q -E 'ERROR: AddressSanitizer|runtime error:' '$D/kaasd.log'"

check_done
