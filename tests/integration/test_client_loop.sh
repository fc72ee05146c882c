#!/bin/bash
# 10,000 logins through pam_kaas.so (under pam_wrapper: pam_start,
# authenticate with a KaaS token, account, pam_end) and 10,000 lookups
# through libnss_kaas.so.2 (getpwnam and initgroups), each in one process
# (tests/integration/client_loop), against a real kaasd: every call must
# succeed and the process must not grow between the first tenth of the
# calls and the last (a leak of 64 bytes a call would be 560 KB). Without
# a sanitizer and with valgrind installed, a hundred calls of each also
# run under valgrind, which must find no error and no definite leak in the
# modules. Needs a Keystone (the shared one will do).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

LOOP=$top_builddir/tests/integration/client_loop
PAM_MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
NSS_MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
N=${KAAS_LOOP_CALLS:-10000}
# under make check-valgrind kaasd itself runs under valgrind: fewer calls
[ -n "${KAASD_WRAPPER:-}" ] && N=${KAAS_LOOP_CALLS:-2000}
GROWTH_KB=512

for f in "$LOOP" "$PAM_MODULE" "$NSS_MODULE"; do
    [ -e "$f" ] || { echo "missing $f: build first (make check builds it)" >&2; exit 99; }
done
PWRAP=$(ldconfig -p | awk '$1 == "libpam_wrapper.so" { print $NF }' | head -n 1)
[ -n "$PWRAP" ] || { echo "SKIP: libpam_wrapper.so not installed (apt-get install libpam-wrapper)"; exit 77; }

# An ASan build: the runtime must come first, pam_wrapper without
# RTLD_DEEPBIND, leaks reported by LeakSanitizer instead of valgrind, and
# RSS means nothing (the quarantine keeps freed memory)
PRELOAD=$PWRAP
SANITIZED=no
SAN_PRELOAD=$(sanitizer_runtimes "$PAM_MODULE")
if [ -n "$SAN_PRELOAD" ]; then
    SANITIZED=yes
    PRELOAD="$SAN_PRELOAD $PWRAP"
    export PAM_WRAPPER_DISABLE_DEEPBIND=1
    # libpam and pam_wrapper keep a few blocks until exit
    export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
fi

ks_env_setup
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
r=$($VL -t 20 "$SOCK" io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
TOKEN=$(j "$r" "d['parameters']['token']" | tr -d '"')
check "a token for alice" jt "$r" "d['parameters']['token'].startswith('kaas_')"

SVC=$KS_TMP/pam.d
mkdir -p "$SVC"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$KS_TMP/passwd"
# timeout=60000 and KAAS_NSS_TIMEOUT_MS: one of 10,000 calls answered late
# on a busy machine is not what this test is about (it counts failures
# and memory)
A="socket=$SOCK passwd_file=$KS_TMP/passwd nodelay timeout=60000"
printf '%s\n' "auth required $PAM_MODULE $A" "account required $PAM_MODULE $A" >"$SVC/kaas_loop"
cp "$SVC/kaas_loop" "$SVC/other"
pam_loop() {
    LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" "$@" "$LOOP" pam kaas_loop alice "$TOKEN" "$N"
}
nss_loop() { KAAS_SOCKET=$SOCK KAAS_NSS_TIMEOUT_MS=60000 "$@" "$LOOP" nss "$NSS_MODULE" alice "$N"; }
grew() {
    [ "$SANITIZED" = yes ] && { echo "# RSS not compared: sanitizer build"; return 0; }
    jt "$1" "d['rss_end_kb'] - d['rss_warm_kb'] <= $GROWTH_KB"
}

validations() { j "$($VL -t 20 "$SOCK" io.kaas.Admin.Status)" "d['parameters']['tokens']['validations']"; }
v0=$(validations)
t0=$(date +%s%N)
out=$(pam_loop env)
echo "# pam: $out in $((($(date +%s%N) - t0) / 1000000)) ms"
check "$N logins through pam_kaas in one process all succeed" jt "$out" "d['calls'] == $N and d['failures'] == 0"
check "and the process does not grow (at most $GROWTH_KB kB after the first tenth)" grew "$out"
v1=$(validations)
check "every login was a validation by kaasd ($((v1 - v0)))" [ "$((v1 - v0))" -ge "$N" ]

t0=$(date +%s%N)
out=$(nss_loop env)
echo "# nss: $out in $((($(date +%s%N) - t0) / 1000000)) ms"
check "$N lookups through libnss_kaas in one process all succeed" jt "$out" "d['calls'] == $N and d['failures'] == 0"
check "and the process does not grow (at most $GROWTH_KB kB after the first tenth)" grew "$out"

if [ "$SANITIZED" = no ] && command -v valgrind >/dev/null; then
    VG="valgrind -q --error-exitcode=3 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite"
    out=$(N=100 pam_loop $VG 2>"$KS_TMP/vg-pam.err")
    rc=$?
    check "100 logins through pam_kaas under valgrind: no error, no definite leak (exit $rc)" [ "$rc" = 0 ]
    [ "$rc" = 0 ] || head -40 "$KS_TMP/vg-pam.err"
    out=$(N=100 nss_loop $VG 2>"$KS_TMP/vg-nss.err")
    rc=$?
    check "100 lookups through libnss_kaas under valgrind: no error, no definite leak (exit $rc)" [ "$rc" = 0 ]
    [ "$rc" = 0 ] || head -40 "$KS_TMP/vg-nss.err"
else
    echo "# valgrind runs skipped (sanitizer build or no valgrind)"
fi

check "kaasd is alive" kill -0 "$KAASD_PID"
kaasd_stop "$D"
check_done
