#!/bin/bash
# pam_kaas.so against a real kaasd and a real (private: this test disables a
# user in it and stops it) Keystone, through the real libpam under
# pam_wrapper: tests/integration/test_pam (cmocka + libpamtest) runs the
# PAM stages, this script prepares tokens and service files and changes
# kaasd between the phases of test_pam.c (see its header for what each
# proves). Also checks what no phase can: that malformed tokens never
# reach kaasd, that an impostor socket never receives a byte, that no
# token appears in any log, that the session line names the token ID, and
# that the module exports only pam_sm_*.
#
# Each check is one "ok"/"not ok" line; any "not ok" fails the test.
# kaasd runs as root here (as under systemd, whose socket is root's), so
# the module's peer check holds without a test-only option.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

PY=/usr/bin/python3
MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
TEST_PAM=$top_builddir/tests/integration/test_pam
EXPIRED_TOOL=$top_builddir/tests/tools/kaas-store-put-expired

for f in "$MODULE" "$TEST_PAM"; do
    [ -e "$f" ] || { echo "missing $f: build first (make check builds it)" >&2; exit 99; }
done
PWRAP=$(ldconfig -p | awk '$1 == "libpam_wrapper.so" && !found { print $NF; found = 1 }')
[ -n "$PWRAP" ] || { echo "SKIP: libpam_wrapper.so not installed (apt-get install libpam-wrapper)"; exit 77; }
SET_ITEMS=$(dirname "$PWRAP")/pam_wrapper/pam_set_items.so
LIBPAM=$(ldd "$MODULE" | awk '$1 == "libpam.so.0" { print $3 }')
PAM_PERMIT=$(dirname "$(readlink -f "$LIBPAM")")/security/pam_permit.so
for f in "$SET_ITEMS" "$PAM_PERMIT"; do
    [ -e "$f" ] || { echo "SKIP: $f not found"; exit 77; }
done

# An ASan-built module needs the sanitizer runtimes loaded before
# pam_wrapper, and pam_wrapper's RTLD_DEEPBIND is incompatible with them.
PRELOAD=libpam_wrapper.so
SAN_PRELOAD=$(sanitizer_runtimes "$MODULE")
if [ -n "$SAN_PRELOAD" ]; then
    PRELOAD="$SAN_PRELOAD $PRELOAD"
    export PAM_WRAPPER_DISABLE_DEEPBIND=1
    # leak checks stay on: test_pam exits non-zero when the module leaks
    echo "# sanitizer build: LD_PRELOAD=$PRELOAD"
fi

ks_env_setup --private
FAKE_PID=
cleanup() {
    [ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null
    [ -n "$KAASD_PID" ] && kill -CONT "$KAASD_PID" 2>/dev/null
    ks_cleanup
}
trap cleanup EXIT

KAASD_CONF_EXTRA="cache_ttl = 2
offline_ttl = 4
negative_ttl = 1
retry_min = 1
retry_max = 2
connect_timeout = 5
timeout = 10"
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
call() { $VL -t "${T:-20}" "$SOCK" "$@"; }
creds_pw() { echo "{\"user\": \"$1\", \"password\": \"$2\"${3:+, \"domain\": \"$3\"}}"; }
create() { call io.kaas.Token.Create "{\"credentials\": $(creds_pw "$@")}"; }
counter() { j "$(call io.kaas.Admin.Status)" "d['parameters']['tokens']['$1']"; }

# ----------------------------------------------------------------- tokens
r=$(create alice "$ALICE_PASSWORD")
ALICE_TOKEN=$(param "$r" token)
ALICE_TID=$(param "$r" id)
r=$(create alice "$ALICE_PASSWORD")
ALICE_DELETED_TOKEN=$(param "$r" token)
r=$(call io.kaas.Token.Delete "{\"ids\": [\"$(param "$r" id)\"], \"credentials\": {\"kaas_token\": \"$ALICE_TOKEN\"}}")
check "fixture: one of alice's tokens deleted" jt "$r" "len(d['parameters']['deleted']) == 1"
BOB_TOKEN=$(param "$(create bob "$BOB_PASSWORD")" token)
FRANK_TOKEN=$(param "$(create frank "$FRANK_PASSWORD")" token)
CAROL_P_TOKEN=$(param "$(create carol "$CAROL_PARTNERS_PASSWORD" partners)" token)
check "fixture: tokens for alice, bob, frank and carol@partners" \
    bash -c "[[ '$ALICE_TOKEN' == kaas_* && '$BOB_TOKEN' == kaas_* && '$FRANK_TOKEN' == kaas_* && '$CAROL_P_TOKEN' == kaas_* ]]"
check "fixture: frank disabled in Keystone" ks_user_set_enabled "$FRANK_ID" false
frank_disabled() { [[ $(call io.kaas.Token.Validate "{\"token\": \"$FRANK_TOKEN\"}") == *UserDisabled* ]]; }
check "fixture: kaasd knows frank is disabled" wait_for 30 frank_disabled

EXPIRED_TOKEN=
if [ -x "$EXPIRED_TOOL" ]; then
    kaasd_stop "$D"
    EXPIRED_TOKEN=$("$EXPIRED_TOOL" "$D/state" "$ALICE_ID" alice default 2>/dev/null)
    kaasd_start "$D" || exit 99
    check "fixture: an expired token of alice planted in the store" bash -c "[[ '$EXPIRED_TOKEN' == kaas_* ]]"
else
    echo "# $EXPIRED_TOOL not built: the expired-token case is skipped"
fi

# ---------------------------------------------------------- service files
SVC=$KS_TMP/pam.d
mkdir -p "$SVC"
PASSWD=$KS_TMP/passwd
LOCAL_USER=kaaslocal
# carol is also a Keystone user (default domain): the local one wins
cat >"$PASSWD" <<EOF
root:x:0:0:root:/root:/bin/sh
$LOCAL_USER:x:1500:1500:a local user:/home/$LOCAL_USER:/bin/sh
carol:x:1501:1501:local carol:/home/carol:/bin/sh
EOF
# timeout=60000: a busy machine must not turn a slow answer into a failed
# case (the module's own 5 s default is for a login that is waited on);
# kaas_timeout's timeout=1500 comes later on its lines, and wins
A="socket=$SOCK passwd_file=$PASSWD nodelay debug timeout=60000"
M=$MODULE
svc() { local name=$1; shift; printf '%s\n' "$@" >"$SVC/$name"; }
all_stages() { local s; for s in auth account session password; do echo "$s $1 $M $2"; done; }
svc other "auth required $M $A" "account required $M $A" "session required $M $A" "password required $M $A"
all_stages required "$A" >"$SVC/kaas"
{ all_stages "[ignore=ignore default=die]" "$A"; for s in auth account session password; do echo "$s required $PAM_PERMIT"; done; } >"$SVC/kaas_ign"
# (timeout=5000, the module's default: the stalled phase waits it out)
{ all_stages "[ignore=ignore default=die]" "$A ignore_unknown_user ignore_authinfo_unavail timeout=5000"; for s in auth account; do echo "$s required $PAM_PERMIT"; done; } >"$SVC/kaas_ignopt"
svc kaas_role "account required $M $A require_role=developer" "session required $M $A"
svc kaas_role_id "account required $M $A require_role=no-such-role,$ROLE_K8S_ADMINS_ALPHA_ID"
# pam_kaas(8)'s EXAMPLES line for the nodes of cluster alpha, as the page
# writes it (the module's path and this test's arguments put in), above
# an account line that lets every user pass, as pam_unix's would: the
# example's line alone must keep a user who is not an administrator out
MAN_CLUSTER=$(sed -n '/^\.SH EXAMPLES/,/^\.SH /{ /^account .*require_cluster_admin=alpha$/p; }' "$top_srcdir/docs/pam_kaas.8")
[ -n "$MAN_CLUSTER" ] || { echo "pam_kaas(8): no require_cluster_admin example in EXAMPLES" >&2; exit 99; }
svc kaas_cluster "${MAN_CLUSTER/pam_kaas.so/$M $A}" "account required $PAM_PERMIT"
svc kaas_badrole "account required $M $A require_role="
svc kaas_first "auth required $SET_ITEMS" "auth required $M $A use_first_pass"
svc kaas_try "auth required $SET_ITEMS" "auth required $M $A try_first_pass"
svc kaas_preset "auth required $SET_ITEMS" "auth required $M $A"
svc kaas_prompt "auth required $M $A [prompt=Token for this node: ]"
svc kaas_timeout "auth required $M $A timeout=1500" "account required $M $A timeout=1500"
svc kaas_patient "auth required $M $A timeout=30000" "account required $M $A timeout=30000"
svc kaas_slow "auth required $M $A timeout=3000"
FAKE_DIR=$KS_TMP/fake
FAKE_SOCK=$FAKE_DIR/kaasd.sock
FA="socket=$FAKE_SOCK passwd_file=$PASSWD nodelay debug ignore_authinfo_unavail"
svc kaas_fake "auth required $M $FA" "account required $M $FA"
svc kaas_fake_uid "account required $M $FA kaasd_uid=65534"

export KAAS_TEST_ALICE_TOKEN=$ALICE_TOKEN KAAS_TEST_ALICE_DELETED_TOKEN=$ALICE_DELETED_TOKEN \
    KAAS_TEST_BOB_TOKEN=$BOB_TOKEN KAAS_TEST_FRANK_TOKEN=$FRANK_TOKEN KAAS_TEST_CAROL_P_TOKEN=$CAROL_P_TOKEN \
    KAAS_TEST_EXPIRED_TOKEN=$EXPIRED_TOKEN KAAS_TEST_LOCAL_USER=$LOCAL_USER
LOGS=$KS_TMP/logs
mkdir -p "$LOGS"
# run_phase PHASE [NAME]: test_pam PHASE under pam_wrapper; pam_syslog()
# lines go to its stderr (pam_wrapper's log at level 2: notice, info and debug
# lines, not its level-3 traces of every PAM item), kept in LOGS/NAME
run_phase() {
    local phase=$1 name=${2:-$1} rc
    LD_PRELOAD="$PRELOAD" PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" PAM_WRAPPER_DEBUGLEVEL=2 \
        "$TEST_PAM" "$phase" >"$LOGS/$name.out" 2>"$LOGS/$name.log"
    rc=$?
    sed 's/^/#   /' "$LOGS/$name.out"
    if [ "$rc" != 0 ]; then
        grep -E 'SYSLOG|ERROR' "$LOGS/$name.log" | tail -20 | sed 's/^/#   log: /'
    fi
    return "$rc"
}

# -------------------------------------------------------------- kaasd up
check "kaasd up: tokens, users, roles, options and stages (test_pam up)" run_phase up
check "the session line names the token ID alice logged in with" \
    grep -q "session opened for alice (KaaS token $ALICE_TID" "$LOGS/up.log"
check "a public-key style session says it had no token" \
    grep -q "session opened for alice (no KaaS token" "$LOGS/up.log"
check "a failed validation is logged without the token" grep -q "KaaS token rejected for bob" "$LOGS/up.log"
check "a KaaS token as the login name is refused, and the line does not hold it" \
    bash -c "grep -q 'the user name is a KaaS token: refused' '$LOGS/up.log' && ! grep -qF '$ALICE_TOKEN' '$LOGS/up.log'"

before_v=$(counter validations)
before_l=$(counter store_lookups)
check "malformed tokens are refused (test_pam typo)" run_phase typo
check "... before reaching kaasd: no validation, no store lookup" \
    [ "$(counter validations)-$(counter store_lookups)" = "$before_v-$before_l" ]

# ------------------------------------------------- kaasd's naming rules
# kaasd alone maps a Unix name to a Keystone user: with [nss] default_domain
# = partners and domain_separator = % (as nss_kaas(8) suggests for e-mail
# names), "carol" is carol of partners, disabled here, and alice of Default
# is alice%Default; the module's default_domain= cannot change that
check "fixture: carol of partners disabled in Keystone" ks_user_set_enabled "$CAROL_PARTNERS_ID" false
kaasd_stop "$D"
KAASD_CONF_TAIL="
[nss]
default_domain = partners
domain_separator = %"
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
carol_disabled() {
    [[ $(call io.kaas.Identity.GetUser '{"unix_name": "carol"}') == *"\"enabled\": false"* ]]
}
check "fixture: kaasd maps carol to carol of partners, and knows she is disabled" wait_for 30 carol_disabled
PASSWD_ROOT=$KS_TMP/passwd-root
echo "root:x:0:0:root:/root:/bin/sh" >"$PASSWD_ROOT"
N="socket=$SOCK passwd_file=$PASSWD_ROOT nodelay debug"
svc kaas_names "auth required $M $N" "account required $M $N"
svc kaas_names_dd "account required $M $N default_domain=Default"
svc kaas_names_role "account required $M $N require_role=developer"
check "domain_separator=% and default_domain=partners: the user kaasd names (test_pam names)" run_phase names
check "... default_domain= in the module is said to be ignored" \
    grep -q "default_domain= is ignored" "$LOGS/names.log"
kaasd_stop "$D"
KAASD_CONF_TAIL=
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99

# ------------------------------------------ a socket that is not kaasd's
mkdir -p "$FAKE_DIR"
chmod 755 "$KS_TMP"
chown 65534:65534 "$FAKE_DIR"
FAKE_LOG=$FAKE_DIR/received
setpriv --reuid=65534 --regid=65534 --clear-groups $PY -c '
import json, os, socket, sys
path, log = sys.argv[1], sys.argv[2]
open(log, "wb").close()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    data = b""
    try:
        while b"\0" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    with open(log, "ab") as f:
        f.write(data)
    if data:
        c.sendall(json.dumps({"error": "io.kaas.Identity.UserNotFound", "parameters": {}}).encode() + b"\0")
    c.close()
' "$FAKE_SOCK" "$FAKE_LOG" &
FAKE_PID=$!
wait_for 10 test -S "$FAKE_SOCK" || echo "# the fake kaasd did not come up"
check "an impostor's socket (not root's) gets no token (test_pam untrusted)" run_phase untrusted
check "... not a single byte" [ ! -s "$FAKE_LOG" ]
chown root:root "$FAKE_SOCK"
check "a root-owned socket with an impostor behind it (SO_PEERCRED) gets nothing either" run_phase untrusted untrusted-peer
check "... not a single byte" [ ! -s "$FAKE_LOG" ]
chown 65534:65534 "$FAKE_SOCK"
check "kaasd_uid= trusts a kaasd running as that uid (test_pam kaasd_uid)" run_phase kaasd_uid
check "... which then got a user lookup, and no token" \
    bash -c "grep -q io.kaas.Identity.GetUser '$FAKE_LOG' && ! grep -q kaas_ '$FAKE_LOG'"
kill "$FAKE_PID" 2>/dev/null
wait "$FAKE_PID" 2>/dev/null
FAKE_PID=

# ------------------------------------------------------ Keystone offline
for p in $(ks_pids); do kill -STOP "$p"; done
# kaasd finds Keystone gone, and its copy of alice grows too old to use
$VL -t 30 "$SOCK" io.kaas.Identity.GetUser '{"name": "alice"}' >/dev/null 2>&1
alice_unavailable() { [[ $($VL -t 30 "$SOCK" io.kaas.Identity.GetUser '{"name": "alice"}') == *Unavailable* ]]; }
check "Keystone stopped: kaasd can no longer vouch for alice" wait_for 40 alice_unavailable
check "Keystone stopped: PAM_AUTHINFO_UNAVAIL, as kaasd says (test_pam offline)" run_phase offline
check "... because kaasd said so, not a local timeout" grep -q "kaasd cannot look up alice" "$LOGS/offline.log"
for p in $(ks_pids); do kill -CONT "$p"; done

# ------------------------------------------------- kaasd stalled, then gone
kill -STOP "$KAASD_PID"
check "kaasd stopped with SIGSTOP: PAM_AUTHINFO_UNAVAIL within timeout=1500 (test_pam stalled)" run_phase stalled
# the configured timeout ended both waits, not the default of 5000 ms
check "... logged as a timeout, by auth" grep -q "auth: .* within timeout=1500 ms" "$LOGS/stalled.log"
check "... and by account" grep -q "account: .* within timeout=1500 ms" "$LOGS/stalled.log"
kill -CONT "$KAASD_PID"
kaasd_stop "$D"
KAASD_PID=
check "no kaasd: PAM_AUTHINFO_UNAVAIL at once (test_pam down)" run_phase down
check "... logged as kaasd not running" grep -q "cannot reach kaasd" "$LOGS/down.log"

# ---------------------------------------------------------------- secrets
# pam_wrapper itself traces PAM_AUTHTOK at level 3 (not used here), as does its
# pam_set_items.so: those lines are the test harness, not the module
cat "$LOGS"/* | grep -v -E 'pwrap_(get|set)_item PAM_AUTHTOK=|PAM_SET_ITEM PAM_AUTHTOK:' >"$KS_TMP/all.log"
leaked=
for t in "$ALICE_TOKEN" "$ALICE_DELETED_TOKEN" "$BOB_TOKEN" "$FRANK_TOKEN" "$CAROL_P_TOKEN" $EXPIRED_TOKEN; do
    grep -qF "$t" "$KS_TMP/all.log" "$D/kaasd.log" && leaked="$leaked ${t:0:9}..."
done
check "no token in the module's log lines or kaasd's log${leaked:+ (found:$leaked)}" [ -z "$leaked" ]
check "... which the check can see: they hold the module's lines" grep -q "SYSLOG.*auth: KaaS token" "$KS_TMP/all.log"

# ---------------------------------------------------------------- exports
syms=$(nm -D --defined-only "$MODULE" | awk '{ print $3 }' | sort | tr '\n' ' ')
check "nm -D: the module exports exactly the six pam_sm_* entry points" [ "$syms" = \
    "pam_sm_acct_mgmt pam_sm_authenticate pam_sm_chauthtok pam_sm_close_session pam_sm_open_session pam_sm_setcred " ]
check "the module does not depend on libkaas.so" bash -c "! readelf -d '$MODULE' | grep -q 'NEEDED.*libkaas'"

check_done
