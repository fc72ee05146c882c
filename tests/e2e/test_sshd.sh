#!/bin/bash
# End to end: log in to a real OpenSSH sshd on 127.0.0.1 with a KaaS token
# as the password. sshd runs from the build tree's point of view only:
# its own config, host key and PID file in a temporary directory, a free
# port, and PAM and NSS pointed at kaas through the cwrap wrappers, so
# nothing under /etc is read for PAM or users, and nothing is written there:
#
#   LD_PRELOAD="libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1
#   PAM_WRAPPER_SERVICE_DIR=DIR    DIR/sshd: pam_kaas.so (auth, account
#                                  with require_role=developer, session)
#   NSS_WRAPPER_PASSWD/GROUP=FILES root and sshd's privilege separation user
#                                  "sshd" (which sshd looks up at start),
#                                  and the Keystone users: from the NSS module
#                                  libnss_kaas.so.2 when the tree builds it
#                                  (NSS_WRAPPER_MODULE_SO_PATH, FN_PREFIX
#                                  kaas), else written here from what kaasd
#                                  says about them (uid, role groups)
#
# What makes sshd work under the wrappers (OpenSSH 9.2, Debian 12):
#   - the preauth child chroots to /run/sshd and runs as "sshd": the user
#     must resolve (the nss_wrapper passwd file lists it) and /run/sshd
#     must exist (created here when missing; it is not under /etc);
#   - PAM runs in the privileged monitor, where the preloaded wrappers are,
#     so pam_wrapper's service directory applies; the seccomp sandbox of the
#     preauth child does not get in the way, since that child never calls
#     PAM or NSS;
#   - sshd re-executes itself for every connection and keeps LD_PRELOAD
#     and the wrapper variables, but builds the session's environment
#     itself: SetEnv in sshd_config hands nss_wrapper to the session, so
#     `id` there resolves the same users and groups;
#   - nss_wrapper's initgroups() asks only its files backend (which always
#     answers), never the module's initgroups_dyn, so under the wrapper a
#     session's supplementary groups hold no role group of the NSS module;
#     glibc's initgroups() on a real host does ask it. The session
#     therefore runs `id; id USER`: the first line is the process (uid),
#     the second the user's groups as NSS gives them (getgrouplist()).
#   - UsePrivilegeSeparation is gone from OpenSSH 9 (always on) and is not
#     set; PermitTTY no keeps sessions off utmp/wtmp, PrintLastLog no off
#     lastlog; StrictModes no since the key files live in a root-owned
#     temporary directory.
# Password logins run PAM's auth in the monitor itself, so the session
# stage sees the token ID. Keyboard-interactive runs it in a child process
# (sshd's PAM "thread"), whose PAM data is lost: that session line says
# "no KaaS token", as a public-key login's does.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

PY=/usr/bin/python3
MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
NSS_MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
SSHD=/usr/sbin/sshd

[ -e "$MODULE" ] || { echo "missing $MODULE: build first" >&2; exit 99; }
for tool in "$SSHD" ssh sshpass ssh-keygen; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "SKIP: $tool not installed (tools/deps.sh: openssh-server openssh-client sshpass)"
        exit 77
    }
done
libs=$(ldconfig -p)
for lib in libpam_wrapper.so libnss_wrapper.so; do
    grep -q "^[[:space:]]*$lib " <<<"$libs" ||
        { echo "SKIP: $lib not installed (libpam-wrapper, libnss-wrapper)"; exit 77; }
done
LIBPAM=$(ldd "$MODULE" | awk '$1 == "libpam.so.0" { print $3 }')
PAMDIR=$(dirname "$(readlink -f "$LIBPAM")")/security

# An ASan-built module (or NSS module) needs the sanitizer runtimes first
# in the uninstrumented sshd and in the session's `id`.
SAN_PRELOAD=$(sanitizer_runtimes "$MODULE")
if [ -n "$SAN_PRELOAD" ]; then
    export PAM_WRAPPER_DISABLE_DEEPBIND=1
    # sshd keeps memory until it exits, by design: its "leaks" are not ours.
    # Only sshd and the session's commands get this (the last setting of
    # an option wins); kaasd keeps the suite's leak checking.
    SSHD_ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
    echo "# sanitizer build: preloading $SAN_PRELOAD into sshd"
fi

ks_env_setup
SSHD_PID=
cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
    # pam_wrapper's copies of our service files (/tmp/pam.X), left by the
    # sshd processes that never reach its destructor
    local d
    for d in /tmp/pam.?; do
        [ -f "$d/sshd" ] && grep -qF "$KS_TMP/" "$d/sshd" 2>/dev/null && rm -rf -- "$d"
    done
    ks_cleanup
}
trap cleanup EXIT

D=$KS_TMP/kaasd
T=$KS_TMP/sshd
mkdir -p "$T/pam.d" "$T/keys" "$T/home"
chmod 755 "$KS_TMP" "$T" "$T/home"

# local accounts, which pam_kaas (its passwd_file=) and kaasd leave alone
cat >"$T/local-passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
sshd:x:$(id -u sshd 2>/dev/null || echo 102):65534::/run/sshd:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cp "$T/local-passwd" "$T/passwd"
cat >"$T/group" <<EOF
root:x:0:
nogroup:x:65534:
EOF

USE_NSS_MODULE=0
[ -e "$NSS_MODULE" ] && [ "${KAAS_TEST_NSS_FILES:-0}" != 1 ] && USE_NSS_MODULE=1
if [ "$USE_NSS_MODULE" = 1 ]; then
    # home directories from kaasd's template, inside the temporary
    # directory; the local files are the test's; enumeration on, since
    # nss_wrapper's getgrouplist() (sshd's initgroups(), id) walks getgrent()
    KAASD_CONF_TAIL="
[nss]
passwd_file = $T/local-passwd
group_file = $T/group
home = $T/home/%u
shell = /bin/sh
enumerate = yes"
fi
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$D"
call() { $VL -t 20 "$SOCK" "$@"; }
create() { call io.kaas.Token.Create "{\"credentials\": {\"user\": \"$1\", \"password\": \"$2\"}}"; }

# ----------------------------------------------------------------- tokens
r=$(create alice "$ALICE_PASSWORD")
ALICE_TOKEN=$(param "$r" token)
ALICE_TID=$(param "$r" id)
r=$(create alice "$ALICE_PASSWORD")
DELETED_TOKEN=$(param "$r" token)
call io.kaas.Token.Delete "{\"ids\": [\"$(param "$r" id)\"]}" >/dev/null
BOB_TOKEN=$(param "$(create bob "$BOB_PASSWORD")" token)
check "fixture: tokens for alice and bob, one of alice's deleted" \
    bash -c "[[ '$ALICE_TOKEN' == kaas_* && '$BOB_TOKEN' == kaas_* && '$DELETED_TOKEN' == kaas_* ]]"

# -------------------------------------------------------------- users
if [ "$USE_NSS_MODULE" = 1 ]; then
    echo "# Keystone users through the NSS module $NSS_MODULE"
    NSS_ENV="NSS_WRAPPER_MODULE_SO_PATH=$NSS_MODULE NSS_WRAPPER_MODULE_FN_PREFIX=kaas KAAS_SOCKET=$SOCK"
else
    echo "# no NSS module built: Keystone users written to nss_wrapper files from kaasd's answers"
    NSS_ENV=
    uid=2000
    for u in alice bob; do
        uid=$((uid + 1))
        r=$(call io.kaas.Identity.GetUser "{\"name\": \"$u\"}")
        echo "$u:x:$uid:$uid:$u (Keystone):$T/home/$u:/bin/sh" >>"$T/passwd"
        echo "$u:x:$uid:" >>"$T/group"
        j "$r" "' '.join(sorted({x['name'] for x in d['parameters']['user']['roles']}))" | tr -d '"' |
            tr ' ' '\n' | sed "s/\$/ $u/" >>"$T/role-members"
    done
    gid=3000
    for role in $(awk '{ print $1 }' "$T/role-members" | sort -u); do
        gid=$((gid + 1))
        echo "$role:x:$gid:$(awk -v r="$role" '$1 == r { print $2 }' "$T/role-members" | paste -sd,)" >>"$T/group"
    done
fi
NSS_VARS="NSS_WRAPPER_PASSWD=$T/passwd NSS_WRAPPER_GROUP=$T/group $NSS_ENV"
nss() { env LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }libnss_wrapper.so" $NSS_VARS "$@"; }
ALICE_UID=$(nss id -u alice 2>/dev/null)
check "alice resolves through NSS here (uid ${ALICE_UID:-none})" [ -n "$ALICE_UID" ]
for u in alice bob; do
    mkdir -p "$T/home/$u"
    chown "$(nss id -u $u)" "$T/home/$u" 2>/dev/null
done

# ------------------------------------------------------------------ PAM
# the stack of pam_kaas(8)'s sshd example: fall through when kaasd is down
A="socket=$SOCK passwd_file=$T/local-passwd"
cat >"$T/pam.d/sshd" <<EOF
auth [success=done authinfo_unavail=ignore user_unknown=ignore default=die] $MODULE $A
auth requisite $PAMDIR/pam_deny.so
account [success=ok ignore=ignore authinfo_unavail=ignore default=bad] $MODULE $A require_role=developer
account required $PAMDIR/pam_permit.so
session required $MODULE $A
session required $PAMDIR/pam_permit.so
password required $PAMDIR/pam_deny.so
EOF
for s in auth account session password; do echo "$s required $PAMDIR/pam_deny.so"; done >"$T/pam.d/other"

# ------------------------------------------------------------------ sshd
[ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 0755 /run/sshd; }
ssh-keygen -q -t ed25519 -N '' -C kaas-test-host -f "$T/host_ed25519" || exit 99
ssh-keygen -q -t ed25519 -N '' -C kaas-test-client -f "$T/client_ed25519" || exit 99
for u in alice bob; do cp "$T/client_ed25519.pub" "$T/keys/$u"; done
PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/host_ed25519
PidFile $T/sshd.pid
UsePAM yes
KbdInteractiveAuthentication yes
PasswordAuthentication yes
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
SetEnv LD_PRELOAD=${SAN_PRELOAD:+${SAN_PRELOAD// /:}:}libnss_wrapper.so $NSS_VARS
LogLevel VERBOSE
EOF
"$SSHD" -t -f "$T/sshd_config" >"$T/sshd-t.log" 2>&1 || { cat "$T/sshd-t.log" >&2; exit 99; }
env ${SSHD_ASAN_OPTIONS:+ASAN_OPTIONS=$SSHD_ASAN_OPTIONS} \
    LD_PRELOAD="${SAN_PRELOAD:+$SAN_PRELOAD }libpam_wrapper.so libnss_wrapper.so" PAM_WRAPPER=1 \
    PAM_WRAPPER_SERVICE_DIR="$T/pam.d" PAM_WRAPPER_DEBUGLEVEL=2 $NSS_VARS \
    "$SSHD" -D -e -f "$T/sshd_config" >"$T/sshd.log" 2>&1 &
SSHD_PID=$!
listening() { $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; }
wait_for 20 listening || { echo "sshd did not come up:" >&2; cat "$T/sshd.log" >&2; exit 99; }

SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o ConnectTimeout=20 -o NumberOfPasswordPrompts=1 -p "$PORT")
# login USER TOKEN: password login, runs `id; id USER`; output in $out,
# exit status in $rc. Only
# "password": after a refusal ssh would go on to keyboard-interactive,
# whose "KaaS token: " prompt sshpass does not answer (login_kbdint does).
login() {
    out=$(timeout 90 sshpass -p "$2" ssh "${SSH_OPTS[@]}" -o PreferredAuthentications=password \
        "$1@127.0.0.1" "id; id $1" 2>&1)
    rc=$?
}
login_kbdint() {
    out=$(timeout 90 sshpass -P "KaaS token" -p "$2" ssh "${SSH_OPTS[@]}" \
        -o PreferredAuthentications=keyboard-interactive "$1@127.0.0.1" "id; id $1" 2>&1)
    rc=$?
}
login_key() {
    out=$(timeout 90 ssh "${SSH_OPTS[@]}" -o BatchMode=yes -o PreferredAuthentications=publickey \
        -o IdentitiesOnly=yes -i "$T/client_ed25519" "$1@127.0.0.1" "id; id $1" 2>&1)
    rc=$?
}
shows() { [[ $rc == 0 && $out == *"$1"* ]] || { echo "#   rc=$rc, got: ${out:0:300}"; return 1; }; }
# no session: ssh failed (255) and no `id` ran; timeout(1) would say 124
refused() { [[ $rc == 255 && $out != *uid=* ]] || { echo "#   rc=$rc, got: ${out:0:300}"; return 1; }; }

# --------------------------------------------------------------- logins
login alice "$ALICE_TOKEN"
check "alice logs in with her token (password): id shows her uid" shows "uid=$ALICE_UID(alice)"
groups_line=$(echo "$out" | sed -n 2p)
check "... and the role groups Keystone gives her, through NSS" \
    bash -c '[[ $0 == *"(developer)"* && $0 == *"(k8s-admins-alpha)"* && $0 == *"(member)"* ]]' "$groups_line"
echo "$out" | sed 's/^/#   /'
check "sshd accepted the password through PAM" grep -q "Accepted password for alice" "$T/sshd.log"
check "the session line names the token ID" grep -q "session opened for alice (KaaS token $ALICE_TID" "$T/sshd.log"

login_kbdint alice "$ALICE_TOKEN"
check "alice logs in with her token (keyboard-interactive, prompt \"KaaS token: \")" shows "uid=$ALICE_UID(alice)"

login alice "$DELETED_TOKEN"
check "a deleted token does not log alice in" refused
login alice "$BOB_TOKEN"
check "bob's token does not log alice in" refused
# one character changed (to another one: a token may hold an x there)
typo_char=x
[ "${ALICE_TOKEN:30:1}" = x ] && typo_char=y
login alice "${ALICE_TOKEN:0:30}$typo_char${ALICE_TOKEN:31}"
check "a mistyped token does not log alice in" refused
login bob "$BOB_TOKEN"
check "bob, whose token is good, lacks the role developer: refused" refused
check "... by the account stage" grep -q "bob refused: holds none of the roles developer" "$T/sshd.log"

login_key alice
check "alice logs in with a public key: account stage passes" shows "uid=$ALICE_UID(alice)"
check "... and her session line says no token was used" grep -q "session opened for alice (no KaaS token" "$T/sshd.log"
login_key bob
check "bob's public key is refused: the account stage holds for key logins too" refused

check "no token appears in sshd's log or kaasd's log" bash -c \
    "! grep -qF -e '$ALICE_TOKEN' -e '$BOB_TOKEN' -e '$DELETED_TOKEN' '$T/sshd.log' '$D/kaasd.log'"

# --------------------------------------------------------- kaasd down
kaasd_stop "$D"
login alice "$ALICE_TOKEN"
check "kaasd down: no login with a token (auth falls through to pam_deny)" refused
check "... the module said kaasd cannot be reached" grep -q "cannot reach kaasd" "$T/sshd.log"
check "sshd is still running" kill -0 "$SSHD_PID"

check_done
