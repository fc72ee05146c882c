#!/bin/bash
# End to end on the host's own PAM and NSS: log in to a real OpenSSH sshd
# on 127.0.0.1 with a KaaS token as the password, and run the console
# example through pamtester, with the stacks of pam_kaas(8) taken verbatim
# from the man page source and Debian's own /etc/pam.d/sshd and
# /etc/pam.d/common-* as installed (read, never changed). No cwrap
# wrapper: glibc's NSS loads libnss_kaas.so.2 as on a node, so the helpers
# that PAM modules run with an empty environment (pam_unix's unix_chkpwd,
# pam_mkhomedir's mkhomedir_helper) see the Keystone users too.
#
# The host's files it changes, and how they are put back: tests/lib/sshd-host.sh.
# Skipped (77) when not root, when a tool is missing, when kaas is
# installed on the host already, and in sanitizer builds: an instrumented
# NSS module in /etc/nsswitch.conf would be loaded by every
# uninstrumented program of the host.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
NSS_MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
. "$top_srcdir/tests/lib/sshd-host.sh"
host_preflight

# a Keystone of its own: the test gives alice the role its stack requires
ks_env_setup --private
T=$KS_TMP/host
mkdir -p "$T/bin" "$T/keys" "$T/home"
chmod 755 "$KS_TMP" "$T" "$T/home"

host_trap

host_stacks
check "the documented sshd stack creates home directories (pam_mkhomedir)" \
    grep -qE '^session[[:space:]].*pam_mkhomedir\.so' <<<"$SSH_STACK"

check "the sshd service keeps Debian's common-auth, common-account and common-session" bash -c \
    "grep -qx '@include common-auth' '$T/pam-sshd' && grep -qx '@include common-account' '$T/pam-sshd' &&
     grep -qx '@include common-session' '$T/pam-sshd'"

# ------------------------------------------------- the role it requires
ADMIN_TOKEN=$(ks_admin_token)
ks_rest() {  # METHOD PATH [BODY]: Keystone's reply body; a few tries
    local _
    for _ in 1 2 3 4 5; do
        curl -fsS --max-time 20 -X "$1" -H "X-Auth-Token: $ADMIN_TOKEN" -H 'Content-Type: application/json' \
            ${3:+-d "$3"} "$KEYSTONE_AUTH_URL$2" 2>/dev/null && return 0
        [ "$1" = POST ] && return 1  # a lost reply may have created it: look again
    done
    return 1
}
role_id() { ks_rest GET "/roles?name=$ROLE" | $PY -c 'import json, sys; r = json.load(sys.stdin)["roles"]; print(r[0]["id"] if r else "")'; }
RID=$(role_id)
[ -n "$RID" ] || { ks_rest POST /roles "{\"role\": {\"name\": \"$ROLE\"}}" >/dev/null; RID=$(role_id); }
ks_rest PUT "/projects/$PROJECT_DEMO_ID/users/$ALICE_ID/roles/$RID" >/dev/null
check "fixture: alice holds the role $ROLE of the documented stack (bob does not)" [ -n "$RID" ]

# --------------------------------------------------------------- kaasd
D=$KS_TMP/kaasd
KAASD_CONF_TAIL="
[nss]
home = $T/home/%u
shell = /bin/sh"
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$D"
call() { $VL -t 20 "$SOCK" "$@"; }
create() { call io.kaas.Token.Create "{\"credentials\": {\"user\": \"$1\", \"password\": \"$2\"}}"; }

r=$(create alice "$ALICE_PASSWORD")
ALICE_TOKEN=$(param "$r" token)
r=$(create alice "$ALICE_PASSWORD")
DELETED_TOKEN=$(param "$r" token)
call io.kaas.Token.Delete "{\"ids\": [\"$(param "$r" id)\"]}" >/dev/null
BOB_TOKEN=$(param "$(create bob "$BOB_PASSWORD")" token)
check "fixture: tokens for alice and bob, one of alice's deleted" \
    bash -c "[[ '$ALICE_TOKEN' == kaas_* && '$BOB_TOKEN' == kaas_* && '$DELETED_TOKEN' == kaas_* ]]"

# ------------------------------------------------- install on the host
check "alice is not a user of this host before kaas is installed" bash -c '! getent passwd alice'
host_install "$D"

ALICE_UID=$(id -u alice 2>/dev/null)
BOB_UID=$(id -u bob 2>/dev/null)
check "alice and bob resolve through glibc's NSS (uids ${ALICE_UID:-none}, ${BOB_UID:-none})" \
    bash -c '[ -n "$0" ] && [ -n "$1" ]' "$ALICE_UID" "$BOB_UID"
check "their password field says: no Unix password" bash -c \
    '[ "$(getent passwd alice | cut -d: -f2)" = "*" ]'
check "no home directory before the first login" bash -c "[ ! -e '$T/home/alice' ] && [ ! -e '$T/home/bob' ]"

# ---------------------------------------------------------------- sshd
sshd_start alice bob
home_is() {  # USER UID: owner, group and mode of USER's home
    local got
    got=$(stat -c '%u:%g %a' "$T/home/$1" 2>/dev/null)
    [ "$got" = "$2:$2 $HOME_MODE" ] || { echo "#   $T/home/$1: ${got:-missing}, want $2:$2 $HOME_MODE"; return 1; }
}
# the mode pam_mkhomedir gives a new home: HOME_MODE of login.defs when
# set (Debian's sets none), else 0777 less the stack's umask=
HOME_MODE=$(awk '$1 == "HOME_MODE" { print $2 }' /etc/login.defs)
STACK_UMASK=$(sed -n 's/.*pam_mkhomedir\.so.*umask=\([0-7]*\).*/\1/p' <<<"$SSH_STACK")
[ -n "$HOME_MODE" ] || HOME_MODE=$(printf '%o' $((0777 & ~0${STACK_UMASK:-022})))
HOME_MODE=$((10#${HOME_MODE}))

login alice "$ALICE_TOKEN"
check "alice logs in with her token through Debian's common-account (password)" \
    shows "uid=$ALICE_UID(alice)"
echo "$out" | sed 's/^/#   /'
check "... with the role groups Keystone gives her, through glibc's initgroups" \
    bash -c '[[ $0 == *"(kaas-$1)"* && $0 == *"(kaas-k8s-admins-alpha)"* && $0 == *"(kaas-member)"* ]]' \
    "$(echo "$out" | sed -n 1p)" "$ROLE"
check "sshd accepted the password through PAM" grep -q "Accepted password for alice" "$T/sshd.log"
check "her first login created her home: owner, group and mode $HOME_MODE" home_is alice "$ALICE_UID"
check "... from /etc/skel" bash -c \
    "cd /etc/skel && for f in \$(find . -maxdepth 1 -type f); do [ -e '$T/home/alice'/\$f ] || exit 1; done"
check "... and the session starts in it" bash -c '[[ $(echo "$0" | sed -n 3p) == "$1" ]]' "$out" "$T/home/alice"

touch "$T/home/alice/.kaas-test-mark"
login_kbdint alice "$ALICE_TOKEN"
check "alice logs in with her token (keyboard-interactive, prompt \"KaaS token: \")" shows "uid=$ALICE_UID(alice)"
check "... and her home is left as it was" bash -c \
    "[ -e '$T/home/alice/.kaas-test-mark' ] && [ \"\$(stat -c %a '$T/home/alice')\" = $HOME_MODE ]"

login alice "$DELETED_TOKEN"
check "a deleted token does not log alice in" refused
login alice "$BOB_TOKEN"
check "bob's token does not log alice in" refused
typo_char=x
[ "${ALICE_TOKEN:30:1}" = x ] && typo_char=y
login alice "${ALICE_TOKEN:0:30}$typo_char${ALICE_TOKEN:31}"
check "a mistyped token does not log alice in" refused
login alice "$ALICE_PASSWORD"
check "her Keystone password does not log alice in (not a token)" refused
login bob "$BOB_TOKEN"
check "bob, whose token is good, lacks the role $ROLE: refused" refused
check "... by the account stage" grep -q "Access denied for user bob by PAM account configuration" "$T/sshd.log"
check "... and no home was created for him" [ ! -e "$T/home/bob" ]

login_key alice
check "alice logs in with a public key: the account stage passes" shows "uid=$ALICE_UID(alice)"
login_key bob
check "bob's public key is refused: the account stage holds for key logins too" refused

check "no token appears in sshd's log or kaasd's log" bash -c \
    "! grep -qF -e '$ALICE_TOKEN' -e '$BOB_TOKEN' -e '$DELETED_TOKEN' '$T/sshd.log' '$D/kaasd.log'"

# ---------------------------------------------- the console example
# pamtester reads the password from its standard input
pam_console() {  # USER PASSWORD OPERATION...
    local u=$1 p=$2
    shift 2
    out=$(printf '%s\n' "$p" | timeout 60 pamtester "$CONSOLE_SERVICE" "$u" "$@" 2>&1)
    rc=$?
}
pam_console bob "$BOB_TOKEN" authenticate acct_mgmt open_session close_session
check "console example: bob's token passes auth, account (pam_unix) and session" \
    bash -c '[[ $0 == 0 ]] || { echo "#   $1"; exit 1; }' "$rc" "$out"
check "... and his first session created his home" home_is bob "$BOB_UID"
pam_console alice "$BOB_TOKEN" authenticate
check "console example: bob's token does not authenticate alice" \
    bash -c '[[ $0 != 0 && $1 == *"Authentication failure"* ]] || { echo "#   $1"; exit 1; }' "$rc" "$out"
pam_console alice "$ALICE_PASSWORD" authenticate
check "console example: alice's Keystone password is refused (not a token)" \
    bash -c '[[ $0 != 0 ]] || { echo "#   $1"; exit 1; }' "$rc" "$out"

# --------------------------------------------------------- kaasd down
kaasd_stop "$D"
login alice "$ALICE_TOKEN"
check "kaasd down: no login with a token" refused
check "sshd is still running" kill -0 "$SSHD_PID"

kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
SSHD_PID=
restore_host
check "the host's files are as they were" host_restored

check_done
