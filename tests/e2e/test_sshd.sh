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
# The documented sshd stack is merged into Debian's /etc/pam.d/sshd as
# pam_kaas(8) says: each line of it that is not an @include goes just
# before the @include that follows it there. The only change to the text
# is the module's name, pam_kaas.so, replaced by the built module's path.
#
# What the test changes on the host, each refused when something is
# already there and undone by the EXIT trap (also on INT, TERM, HUP):
#   /etc/pam.d/kaas-e2e-sshd, /etc/pam.d/kaas-e2e-console
#                       new service files; sshd runs as kaas-e2e-sshd (a
#                       symlink to /usr/sbin/sshd), its name is its PAM
#                       service
#   /etc/nsswitch.conf  "kaas" added to passwd: and group:, then the
#                       original bytes written back
#   LIBDIR/libnss_kaas.so.2
#                       the built module, beside libc.so.6, where glibc
#                       looks for NSS modules
#   RUNSTATEDIR/kaas    a symlink to this test's kaasd directory, so the
#                       compiled-in socket of both modules is this kaasd's
#   /run/sshd           when missing (sshd's privilege separation chroot)
# One instance per host (flock). Skipped (77) when not root, when a tool
# is missing, when one of those paths is taken, and in sanitizer builds:
# an instrumented NSS module in /etc/nsswitch.conf would be loaded by
# every uninstrumented program of the host.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

PY=/usr/bin/python3
MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
NSS_MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
MAN=$top_srcdir/docs/pam_kaas.8
SSHD=/usr/sbin/sshd
SSH_SERVICE=kaas-e2e-sshd
CONSOLE_SERVICE=kaas-e2e-console
unset KAAS_SOCKET

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root: it installs PAM service files and the NSS module on this host"
for f in "$MODULE" "$NSS_MODULE"; do
    [ -e "$f" ] || { echo "missing $f: build first" >&2; exit 99; }
done
for tool in "$SSHD" ssh sshpass ssh-keygen pamtester flock; do
    command -v "$tool" >/dev/null 2>&1 ||
        skip "$tool not installed (tools/deps.sh: openssh-server openssh-client sshpass pamtester util-linux)"
done
for f in /etc/pam.d/sshd /etc/pam.d/common-auth /etc/pam.d/common-account /etc/pam.d/common-session; do
    [ -f "$f" ] || skip "$f missing: not Debian's PAM configuration"
done
[ -z "$(sanitizer_runtimes "$MODULE")" ] ||
    skip "sanitizer build: an instrumented NSS module cannot go into the host's nsswitch.conf"

LIBDIR=$(dirname "$(ldd /bin/true | awk '$1 == "libc.so.6" { print $3 }')")
SOCK_DEFAULT=$(grep -ao '/[[:print:]]*/kaas/kaasd\.sock' "$NSS_MODULE" | head -n 1)
RUNDIR_LINK=${SOCK_DEFAULT%/kaasd.sock}
[ -n "$SOCK_DEFAULT" ] && [ -d "$LIBDIR" ] || { echo "cannot find libc's directory or the module's socket" >&2; exit 99; }

exec 9>>/run/lock/kaas-e2e-host.lock 2>/dev/null || exec 9>>/run/kaas-e2e-host.lock
flock -w 900 9 || { echo "another run of this test holds the host's lock" >&2; exit 99; }

for f in "/etc/pam.d/$SSH_SERVICE" "/etc/pam.d/$CONSOLE_SERVICE" "$LIBDIR/libnss_kaas.so.2" "$RUNDIR_LINK"; do
    [ -e "$f" ] || [ -L "$f" ] && skip "$f exists: this host has kaas installed, or a run was killed (remove it)"
done
grep -qE '^(passwd|group):.*[[:space:]]kaas([[:space:]]|$)' /etc/nsswitch.conf &&
    skip "/etc/nsswitch.conf already lists kaas"

# a Keystone of its own: the test gives alice the role its stack requires
ks_env_setup --private
T=$KS_TMP/host
mkdir -p "$T/bin" "$T/keys" "$T/home"
chmod 755 "$KS_TMP" "$T" "$T/home"

# ------------------------------------------------------- host changes
SSHD_PID=
MADE_DIRS=
NSSWITCH_SAVED=
RUN_SSHD_MADE=0
restore_host() {
    [ -n "$NSSWITCH_SAVED" ] && cat "$T/nsswitch.conf.orig" >/etc/nsswitch.conf && NSSWITCH_SAVED=
    rm -f "/etc/pam.d/$SSH_SERVICE" "/etc/pam.d/$CONSOLE_SERVICE"
    [ -L "$RUNDIR_LINK" ] && rm -f "$RUNDIR_LINK"
    local d
    for d in $MADE_DIRS; do rmdir "$d" 2>/dev/null; done
    MADE_DIRS=
    [ -f "$T/nss-installed" ] && rm -f "$LIBDIR/libnss_kaas.so.2" "$T/nss-installed"
    [ "$RUN_SSHD_MADE" = 1 ] && rmdir /run/sshd 2>/dev/null
    RUN_SSHD_MADE=0
}
cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
    restore_host
    ks_cleanup
}
trap cleanup EXIT
trap 'exit 129' HUP

# ----------------------------------------------- the documented stacks
# man_block SECTION PATTERN: the first .nf/.fi block of section .SH
# SECTION of pam_kaas(8) that holds PATTERN, without .RS/.RE
man_block() {
    awk -v sec="$1" -v pat="$2" '
        /^\.SH / { insec = ($0 == ".SH " sec); next }
        insec && /^\.nf$/ { inblk = 1; blk = ""; next }
        inblk && /^\.fi$/ { inblk = 0; if (!done && index(blk, pat)) { printf "%s", blk; done = 1 }; next }
        inblk && !/^\.R[SE]$/ { blk = blk $0 "\n" }' "$MAN"
}
SSH_STACK=$(man_block SSH "@include common-auth")
SSH_CONFIG=$(man_block SSH "UsePAM")
CONSOLE_STACK=$(man_block EXAMPLES "pam_unix.so")
check "pam_kaas(8) has an sshd stack, sshd_config lines and a console example" \
    bash -c '[[ -n $0 && -n $1 && -n $2 && $0$1$2 != *\\* ]]' "$SSH_STACK" "$SSH_CONFIG" "$CONSOLE_STACK"
check "the documented sshd stack creates home directories (pam_mkhomedir)" \
    grep -qE '^session[[:space:]].*pam_mkhomedir\.so' <<<"$SSH_STACK"

# stack MODE TEXT [BASE]: the service file; "merge" puts each line of TEXT
# before the @include that follows it in TEXT, found in BASE
stack() {
    $PY - "$@" "$MODULE" <<'EOF'
import sys
mode, text = sys.argv[1], sys.argv[2]
module = sys.argv[-1]
lines = [l for l in text.split("\n") if l.strip()]
def named(l):
    return " ".join(module if w == "pam_kaas.so" else w for w in l.split())
if mode == "plain":
    print("\n".join(named(l) for l in lines))
    sys.exit(0)
base = open(sys.argv[3]).read().split("\n")
before, pending = {}, []
for l in lines:
    w = l.split()
    if w[0] == "@include" and len(w) == 2:
        before[w[1]], pending = pending, []
    else:
        pending.append(named(l))
if pending:
    sys.exit("lines after the last @include: %r" % pending)
out, placed = [], set()
for l in base:
    w = l.split()
    if len(w) == 2 and w[0] == "@include" and w[1] in before and w[1] not in placed:
        out.extend(before[w[1]])
        placed.add(w[1])
    out.append(l)
if set(before) - placed:
    sys.exit("%s has no @include %s" % (sys.argv[3], " ".join(sorted(set(before) - placed))))
print("\n".join(out), end="")
EOF
}
stack merge "$SSH_STACK" /etc/pam.d/sshd >"$T/pam-sshd" 2>"$T/merge.err" ||
    { echo "cannot merge the sshd stack of pam_kaas(8) into /etc/pam.d/sshd: $(cat "$T/merge.err")" >&2; exit 99; }
stack plain "$CONSOLE_STACK" >"$T/pam-console" || exit 99
echo "# /etc/pam.d/$SSH_SERVICE:"; grep -v '^#' "$T/pam-sshd" | grep . | sed 's/^/#   /'
check "the sshd service keeps Debian's common-auth, common-account and common-session" bash -c \
    "grep -qx '@include common-auth' '$T/pam-sshd' && grep -qx '@include common-account' '$T/pam-sshd' &&
     grep -qx '@include common-session' '$T/pam-sshd'"

# ------------------------------------------------- the role it requires
ROLE=$(sed -n 's/.*require_role=\([^[:space:]]*\).*/\1/p' <<<"$SSH_STACK")
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
cp "$T/pam-sshd" "/etc/pam.d/$SSH_SERVICE" && cp "$T/pam-console" "/etc/pam.d/$CONSOLE_SERVICE" || exit 99
cp "$NSS_MODULE" "$LIBDIR/libnss_kaas.so.2" && touch "$T/nss-installed" || exit 99
d=$(dirname "$RUNDIR_LINK")
while [ ! -d "$d" ]; do MADE_DIRS="$d $MADE_DIRS"; d=$(dirname "$d"); done
mkdir -p "$(dirname "$RUNDIR_LINK")" && ln -s "$D" "$RUNDIR_LINK" || exit 99
# deepest first, for rmdir
MADE_DIRS=$(for d in $MADE_DIRS; do echo "$d"; done | sort -r)
[ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 0755 /run/sshd && RUN_SSHD_MADE=1; }
cp -p /etc/nsswitch.conf "$T/nsswitch.conf.orig" || exit 99
NSSWITCH_SAVED=1
sed -E 's/^((passwd|group):.*[^[:space:]])[[:space:]]*$/\1 kaas/' "$T/nsswitch.conf.orig" >"$T/nsswitch.conf"
cat "$T/nsswitch.conf" >/etc/nsswitch.conf
grep -E '^(passwd|group):' /etc/nsswitch.conf | sed 's/^/#   nsswitch.conf: /'

ALICE_UID=$(id -u alice 2>/dev/null)
BOB_UID=$(id -u bob 2>/dev/null)
check "alice and bob resolve through glibc's NSS (uids ${ALICE_UID:-none}, ${BOB_UID:-none})" \
    bash -c '[ -n "$0" ] && [ -n "$1" ]' "$ALICE_UID" "$BOB_UID"
check "their password field says: no Unix password" bash -c \
    '[ "$(getent passwd alice | cut -d: -f2)" = "*" ]'
check "no home directory before the first login" bash -c "[ ! -e '$T/home/alice' ] && [ ! -e '$T/home/bob' ]"

# ---------------------------------------------------------------- sshd
ssh-keygen -q -t ed25519 -N '' -C kaas-test-host -f "$T/host_ed25519" || exit 99
ssh-keygen -q -t ed25519 -N '' -C kaas-test-client -f "$T/client_ed25519" || exit 99
for u in alice bob; do cp "$T/client_ed25519.pub" "$T/keys/$u"; done
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# sshd takes its PAM service name from its program name
ln -s "$SSHD" "$T/bin/$SSH_SERVICE"
{
    printf '%s\n' "$SSH_CONFIG"
    cat <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_ed25519
PidFile $T/sshd.pid
PubkeyAuthentication yes
AuthorizedKeysFile $T/keys/%u
PermitRootLogin no
StrictModes no
UseDNS no
PermitTTY no
PrintMotd no
PrintLastLog no
MaxAuthTries 4
LoginGraceTime 60
LogLevel VERBOSE
EOF
} >"$T/sshd_config"
"$T/bin/$SSH_SERVICE" -t -f "$T/sshd_config" >"$T/sshd-t.log" 2>&1 || { cat "$T/sshd-t.log" >&2; exit 99; }
"$T/bin/$SSH_SERVICE" -D -e -f "$T/sshd_config" >"$T/sshd.log" 2>&1 &
SSHD_PID=$!
listening() { $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; }
wait_for 20 listening || { echo "sshd did not come up:" >&2; cat "$T/sshd.log" >&2; exit 99; }

SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o ConnectTimeout=20 -o NumberOfPasswordPrompts=1 -p "$PORT")
SESSION='id; id -nG "$USER"; pwd'
# login USER TOKEN: password login, runs $SESSION; output in $out, exit
# status in $rc. Only "password": after a refusal ssh would go on to
# keyboard-interactive, whose "KaaS token: " prompt sshpass does not
# answer (login_kbdint does).
login() {
    out=$(timeout 90 sshpass -p "$2" ssh "${SSH_OPTS[@]}" -o PreferredAuthentications=password \
        "$1@127.0.0.1" "$SESSION" 2>&1)
    rc=$?
}
login_kbdint() {
    out=$(timeout 90 sshpass -P "KaaS token" -p "$2" ssh "${SSH_OPTS[@]}" \
        -o PreferredAuthentications=keyboard-interactive "$1@127.0.0.1" "$SESSION" 2>&1)
    rc=$?
}
login_key() {
    out=$(timeout 90 ssh "${SSH_OPTS[@]}" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -o IdentitiesOnly=yes -i "$T/client_ed25519" "$1@127.0.0.1" "$SESSION" 2>&1)
    rc=$?
}
shows() { [[ $rc == 0 && $out == *"$1"* ]] || { echo "#   rc=$rc, got: ${out:0:300}"; return 1; }; }
# no session: ssh failed (255) and no `id` ran; timeout(1) would say 124
refused() { [[ $rc == 255 && $out != *uid=* ]] || { echo "#   rc=$rc, got: ${out:0:300}"; return 1; }; }
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
check "the host's files are as they were" bash -c \
    "cmp -s '$T/nsswitch.conf.orig' /etc/nsswitch.conf && [ ! -e '/etc/pam.d/$SSH_SERVICE' ] &&
     [ ! -e '/etc/pam.d/$CONSOLE_SERVICE' ] && [ ! -e '$LIBDIR/libnss_kaas.so.2' ] && [ ! -L '$RUNDIR_LINK' ]"

check_done
