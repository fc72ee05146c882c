#!/bin/bash
# kaasctl and kaas-webhook send passwords and tokens only to a kaasd of
# root's or of kaasd's own user: the socket file's owner and the listening
# process's uid (SO_PEERCRED) are checked before the first byte, as the
# PAM module does. A real kaasd run as nobody (not root) is reached with
# --kaasd-user=nobody (kaasctl) and "[kaasd] user = nobody" (webhook), and
# refused without them; a fake listener of another uid (4242) receives
# nothing from either, password and token included. Needs root (skipped
# otherwise) to run processes as other users, and a Keystone.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to run kaasd and a fake listener as other users"
    exit 77
fi
. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
KAASCTL=$top_builddir/client/kaasctl
PY=/usr/bin/python3
FAKE_UID=4242

ks_env_setup
FAKE_PID=
WH_PID=
cleanup_all() {
    [ -n "$WH_PID" ] && { kill -TERM "$WH_PID" 2>/dev/null; wait "$WH_PID" 2>/dev/null; }
    [ -n "$FAKE_PID" ] && { kill -TERM "$FAKE_PID" 2>/dev/null; wait "$FAKE_PID" 2>/dev/null; }
    ks_cleanup
}
trap cleanup_all EXIT

# ------------------------------------------------------------------ kaasd as nobody
chmod 755 "$KS_TMP"
D=$KS_TMP/kaasd
mkdir -p "$D/state"
chown nobody:nogroup "$D" "$D/state"
chmod 0700 "$D/state"
(umask 077 && printf '%s\n' "$KAASD_SERVICE_PASSWORD" >"$D/service-password")
chown nobody "$D/service-password"
kaasd_write_conf "$D" "$D/service-password"
sed -i "/^\[kaasd\]\$/a validator_group = nogroup" "$D/kaasd.conf"
chmod 644 "$D/kaasd.conf"
KAASD_WRAPPER="setpriv --reuid=nobody --regid=nogroup --clear-groups --" kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
check "kaasd runs as nobody, and so does its socket file" \
    bash -c "[ \"\$(stat -c %U '$SOCK')\" = nobody ] && [ \"\$(awk '/^Uid:/ { print \$2 }' /proc/$KAASD_PID/status)\" = $(id -u nobody) ]"

# ------------------------------------------------------------------ a fake listener of another uid
F=$KS_TMP/fake
mkdir -p "$F"
chown "$FAKE_UID:$FAKE_UID" "$F"
setpriv --reuid=$FAKE_UID --regid=$FAKE_UID --clear-groups -- $PY -c '
import os, socket, sys
d = sys.argv[1]
s = socket.socket(socket.AF_UNIX)
s.bind(d + "/kaasd.sock")
s.listen(16)
open(d + "/ready", "w").close()
got = open(d + "/received", "ab", buffering=0)
while True:
    c, _ = s.accept()
    c.settimeout(2)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            got.write(b)
    except OSError:
        pass
    c.close()
' "$F" &
FAKE_PID=$!
wait_for 60 test -e "$F/ready" || { echo "the fake listener did not start" >&2; exit 99; }
received() { [ ! -s "$F/received" ]; }

# ------------------------------------------------------------------ kaasctl
out=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD "$KAASCTL" --socket "$F/kaasd.sock" token create 2>&1)
rc=$?
check "kaasctl refuses a socket of uid $FAKE_UID (status $rc: $out)" \
    bash -c "[ $rc = 3 ] && grep -q 'refusing to talk to $F/kaasd.sock' <<<\"\$1\"" _ "$out"
check "and sent it nothing: no byte, so no password" received

out=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD "$KAASCTL" --socket "$SOCK" --kaasd-user=0 token create 2>&1)
rc=$?
check "a kaasd run as nobody is refused when only root is trusted (status $rc)" \
    bash -c "[ $rc = 3 ] && grep -q \"neither root nor kaasd's user '0'\" <<<\"\$1\"" _ "$out"
out=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD "$KAASCTL" --json --socket "$SOCK" --kaasd-user=nobody \
    token create --description peer-check 2>"$KS_TMP/kaasctl.err")
check "with --kaasd-user=nobody kaasctl creates alice's token there (Keystone checks the password)" \
    jt "$out" "d['token'].startswith('kaas_')"
TOKEN=$(j "$out" "d['token']" | tr -d '"')
out=$("$KAASCTL" --socket "$SOCK" --kaasd-user=no-such-user-kaas status 2>&1)
rc=$?
check "an unknown --kaasd-user is a usage error (status $rc)" \
    bash -c "[ $rc = 2 ] && grep -q \"no user 'no-such-user-kaas'\" <<<\"\$1\"" _ "$out"

# ------------------------------------------------------------------ a kaasd user served only by NSS
# Through NSS (nss_kaas on a real host, nss_wrapper here) the default user
# "kaas" resolves to the fake listener's uid; only the passwd file counts.
NSSW=
for d in $(pkg-config --variable=libdir nss_wrapper 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
    /usr/lib/*-linux-gnu; do
    [ -f "$d/libnss_wrapper.so" ] && { NSSW=$d/libnss_wrapper.so; break; }
done
NSSW_PASSWD=$KS_TMP/nss-passwd
NSSW_GROUP=$KS_TMP/nss-group
{ grep -v -e '^kaas:' -e '^impostor:' /etc/passwd
  printf 'kaas:x:%s:%s:Keystone user kaas:/home/kaas:/bin/sh\nimpostor:x:%s:%s::/:/bin/sh\n' \
      "$FAKE_UID" "$FAKE_UID" "$FAKE_UID" "$FAKE_UID"; } >"$NSSW_PASSWD"
cp /etc/group "$NSSW_GROUP"
# a sanitizer build's programs need the ASan runtime first in LD_PRELOAD
. "$top_srcdir/tests/lib/sanitizer.sh"
SAN_RT=$(sanitizer_runtimes "$top_builddir/kaasd/kaasd")
# nsswrap COMMAND...: runs it with the names above served by NSS only
nsswrap() {
    local pre="${SAN_RT:+$SAN_RT }$NSSW"
    [ -n "${LD_PRELOAD:-}" ] && pre="$LD_PRELOAD $pre"
    env LD_PRELOAD="$pre" NSS_WRAPPER_PASSWD="$NSSW_PASSWD" NSS_WRAPPER_GROUP="$NSSW_GROUP" "$@"
}
if [ -z "$NSSW" ] || grep -q '^kaas:' /etc/passwd; then
    echo "# SKIP: no libnss_wrapper.so, or a local kaas account: the NSS-only kaasd user is not checked"
else
    check "nss_wrapper serves kaas as uid $FAKE_UID" \
        test "$(ASAN_OPTIONS=detect_leaks=0 nsswrap getent passwd kaas | cut -d: -f3)" = "$FAKE_UID"
    out=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD nsswrap "$KAASCTL" --socket "$F/kaasd.sock" token create 2>&1)
    rc=$?
    check "kaasctl's default user kaas, known only to NSS, is not trusted (status $rc: $out)" \
        bash -c "[ $rc = 3 ] && grep -q 'refusing to talk to $F/kaasd.sock' <<<\"\$1\"" _ "$out"
    check "and sent it nothing" received
    out=$(nsswrap "$KAASCTL" --socket "$F/kaasd.sock" --kaasd-user=impostor status 2>&1)
    rc=$?
    check "--kaasd-user naming a user known only to NSS is a usage error (status $rc)" \
        bash -c "[ $rc = 2 ] && grep -q \"no user 'impostor'\" <<<\"\$1\"" _ "$out"
    check "and sent it nothing" received
fi

# ------------------------------------------------------------------ kaas-webhook
wh_env_setup "$KS_TMP/webhook"
cd "$W" || exit 99
wh_mk_server_cert || { cat "$W/openssl.log" >&2; exit 99; }
(umask 077 && printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"%s"}}' \
    "$TOKEN" >"$W/body.json")
review() {
    curl -sS --max-time 30 --cacert "$W/ca.crt" -H 'Content-Type: application/json' \
        --data-binary "@$W/body.json" "https://127.0.0.1:$PORT/authenticate"
}
# webhook NAME SOCKET [KAASD LINES]: starts it; the reply to the review
webhook() {
    PORT=$(wh_free_port)
    SOCK=$2 wh_write_conf "$W/$1.conf" "log_level = debug" "${3:-}"
    wh_start "$W/$1.conf" "$W/$1.log" || exit 99
    R=$(review)
    wh_stop
}

webhook fake "$F/kaasd.sock"
check "the webhook refuses the socket of uid $FAKE_UID: kaasd is unreachable" \
    jt "$R" "d['status']['authenticated'] is False and d['status']['error'] == 'kaasd is unreachable'"
check "and sent it nothing: no byte, so no token" received
check "its log says why" grep -q "refusing to talk to kaasd's socket" "$W/fake.log"
webhook rootonly "$SOCK" "user = 0"
check "the webhook refuses kaasd run as nobody when only root is trusted" \
    jt "$R" "d['status']['authenticated'] is False and d['status']['error'] == 'kaasd is unreachable'"
webhook nobody "$SOCK" "user = nobody"
check "with [kaasd] user = nobody it validates alice's token there" \
    jt "$R" "d['status']['authenticated'] is True and d['status']['user']['username'] == 'alice'"
printf '[webhook]\ncert = %s\nkey = %s\n\n[kaasd]\nuser = no-such-user-kaas\n' "$W/server.crt" "$W/server.key" >"$W/bad.conf"
out=$("${RUN_AS[@]}" "$WH" -f -c "$W/bad.conf" 2>&1)
rc=$?
check "an unknown [kaasd] user stops the webhook at start (status $rc)" \
    bash -c "[ $rc != 0 ] && grep -q \"user 'no-such-user-kaas' does not exist\" <<<\"\$1\"" _ "$out"

if [ -n "$NSSW" ] && ! grep -q '^impostor:' /etc/passwd; then
    printf '[webhook]\ncert = %s\nkey = %s\n\n[kaasd]\nuser = impostor\n' "$W/server.crt" "$W/server.key" >"$W/nss.conf"
    out=$(nsswrap timeout 30 "${RUN_AS[@]}" "$WH" -f -c "$W/nss.conf" 2>&1)
    rc=$?
    check "a [kaasd] user known only to NSS stops the webhook at start (status $rc)" \
        bash -c "[ $rc != 0 ] && grep -q \"user 'impostor' does not exist\" <<<\"\$1\"" _ "$out"
fi

check "the fake listener saw no byte at all" received
check_done
