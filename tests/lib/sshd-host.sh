# A real OpenSSH sshd on 127.0.0.1 over the host's own PAM and NSS, with
# kaas put into /etc as pam_kaas(8) and nss_kaas(8) say and taken out
# again: what the end-to-end login tests share. Source after
# keystone-env.sh, check.sh and sanitizer.sh, with MODULE (pam_kaas.so)
# and NSS_MODULE (libnss_kaas.so.2) set; then:
#
#   host_preflight      skips (77) when not root, a tool or Debian's PAM
#                       files are missing, in sanitizer builds and when kaas
#                       is installed already; takes the host-wide lock
#   host_stacks         the sshd stack and sshd_config lines of pam_kaas(8)
#                       (SSH_STACK, SSH_CONFIG, ROLE, CONSOLE_STACK), the
#                       service file merged into /etc/pam.d/sshd ($T/pam-sshd)
#   host_install D      the PAM service files, the NSS module beside libc,
#                       RUNSTATEDIR/kaas -> D (kaasd's directory) and "kaas"
#                       in nsswitch.conf
#   sshd_start          sshd (PAM service kaas-e2e-sshd) on a free port
#   login USER TOKEN, login_kbdint USER TOKEN, login_key USER
#                       run $SESSION; output in $out, exit status in $rc
#   shows TEXT, refused checks of the last login
#   host_trap           once $T is set: restore_host and ks_cleanup on exit
#   restore_host        undoes host_install
#
# What changes on the host, each refused when something is already there
# and undone by the EXIT trap (also on INT, TERM, HUP):
#   /etc/pam.d/kaas-e2e-sshd, /etc/pam.d/kaas-e2e-console
#                       new service files; sshd runs as kaas-e2e-sshd (a
#                       symlink to /usr/sbin/sshd), its name is its PAM
#                       service
#   /etc/nsswitch.conf  "kaas" added to passwd: and group:, then the
#                       original bytes written back
#   LIBDIR/libnss_kaas.so.2
#                       the built module, beside libc.so.6, where glibc
#                       looks for NSS modules
#   RUNSTATEDIR/kaas    a symlink to the test's kaasd directory, so the
#                       compiled-in socket of both modules is that kaasd's
#   /run/sshd           when missing (sshd's privilege separation chroot)
# One instance per host: /run/lock/kaas-e2e-host.lock, held until exit.

PY=/usr/bin/python3
MAN=$top_srcdir/docs/pam_kaas.8
SSHD=/usr/sbin/sshd
SSH_SERVICE=kaas-e2e-sshd
CONSOLE_SERVICE=kaas-e2e-console
unset KAAS_SOCKET

skip() { echo "SKIP: $*"; exit 77; }

host_preflight() {
    local f tool
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
    [ -n "$SOCK_DEFAULT" ] && [ -d "$LIBDIR" ] ||
        { echo "cannot find libc's directory or the module's socket" >&2; exit 99; }

    exec 9>>/run/lock/kaas-e2e-host.lock 2>/dev/null || exec 9>>/run/kaas-e2e-host.lock
    flock -w 900 9 || { echo "another run of a test on this host's /etc holds the host's lock" >&2; exit 99; }

    for f in "/etc/pam.d/$SSH_SERVICE" "/etc/pam.d/$CONSOLE_SERVICE" "$LIBDIR/libnss_kaas.so.2" "$RUNDIR_LINK"; do
        [ -e "$f" ] || [ -L "$f" ] && skip "$f exists: this host has kaas installed, or a run was killed (remove it)"
    done
    grep -qE '^(passwd|group):.*[[:space:]]kaas([[:space:]]|$)' /etc/nsswitch.conf &&
        skip "/etc/nsswitch.conf already lists kaas"
    # glibc loads the module by its name through the loader's cache: an
    # installed one (make install under /usr/local) would answer instead of
    # the one under test, asking another kaasd
    ldconfig -p 2>/dev/null | grep -q 'libnss_kaas\.so\.2' &&
        skip "a libnss_kaas.so.2 is installed ($(ldconfig -p | awk '/libnss_kaas\.so\.2/ { print $NF; exit }')): glibc would load it instead of the build's"
    return 0
}

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
host_cleanup() {
    [ -n "$SSHD_PID" ] && kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
    restore_host
    ks_cleanup
}
# From when $T is there until the end: the host is put back on any exit.
host_trap() {
    trap host_cleanup EXIT
    trap 'exit 129' HUP
}

# Whether the host's files are as they were before host_install.
host_restored() {
    cmp -s "$T/nsswitch.conf.orig" /etc/nsswitch.conf && [ ! -e "/etc/pam.d/$SSH_SERVICE" ] &&
        [ ! -e "/etc/pam.d/$CONSOLE_SERVICE" ] && [ ! -e "$LIBDIR/libnss_kaas.so.2" ] && [ ! -L "$RUNDIR_LINK" ]
}

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

# The documented stacks, checked, and the service files made from them
# in $T. The sshd stack of pam_kaas(8) is merged into Debian's
# /etc/pam.d/sshd as the man page says: each line of it that is not an
# @include goes just before the @include that follows it there. The only
# change to the text is the module's name, pam_kaas.so, replaced by the
# built module's path.
host_stacks() {
    SSH_STACK=$(man_block SSH "@include common-auth")
    SSH_CONFIG=$(man_block SSH "UsePAM")
    CONSOLE_STACK=$(man_block EXAMPLES "pam_unix.so")
    check "pam_kaas(8) has an sshd stack, sshd_config lines and a console example" \
        bash -c '[[ -n $0 && -n $1 && -n $2 && $0$1$2 != *\\* ]]' "$SSH_STACK" "$SSH_CONFIG" "$CONSOLE_STACK"
    stack merge "$SSH_STACK" /etc/pam.d/sshd >"$T/pam-sshd" 2>"$T/merge.err" ||
        { echo "cannot merge the sshd stack of pam_kaas(8) into /etc/pam.d/sshd: $(cat "$T/merge.err")" >&2; exit 99; }
    stack plain "$CONSOLE_STACK" >"$T/pam-console" || exit 99
    echo "# /etc/pam.d/$SSH_SERVICE:"; grep -v '^#' "$T/pam-sshd" | grep . | sed 's/^/#   /'
    ROLE=$(sed -n 's/.*require_role=\([^[:space:]]*\).*/\1/p' <<<"$SSH_STACK")
}

# ------------------------------------------------- install on the host
host_install() {
    local kaasd_dir=$1 d
    cp "$T/pam-sshd" "/etc/pam.d/$SSH_SERVICE" && cp "$T/pam-console" "/etc/pam.d/$CONSOLE_SERVICE" || exit 99
    cp "$NSS_MODULE" "$LIBDIR/libnss_kaas.so.2" && touch "$T/nss-installed" || exit 99
    d=$(dirname "$RUNDIR_LINK")
    while [ ! -d "$d" ]; do MADE_DIRS="$d $MADE_DIRS"; d=$(dirname "$d"); done
    mkdir -p "$(dirname "$RUNDIR_LINK")" && ln -s "$kaasd_dir" "$RUNDIR_LINK" || exit 99
    # deepest first, for rmdir
    MADE_DIRS=$(for d in $MADE_DIRS; do echo "$d"; done | sort -r)
    [ -d /run/sshd ] || { mkdir -p /run/sshd && chmod 0755 /run/sshd && RUN_SSHD_MADE=1; }
    cp -p /etc/nsswitch.conf "$T/nsswitch.conf.orig" || exit 99
    NSSWITCH_SAVED=1
    sed -E 's/^((passwd|group):.*[^[:space:]])[[:space:]]*$/\1 kaas/' "$T/nsswitch.conf.orig" >"$T/nsswitch.conf"
    cat "$T/nsswitch.conf" >/etc/nsswitch.conf
    grep -E '^(passwd|group):' /etc/nsswitch.conf | sed 's/^/#   nsswitch.conf: /'
}

# ---------------------------------------------------------------- sshd
# Keys for sshd and for USERS... (their authorized keys), then sshd.
sshd_start() {
    local u
    mkdir -p "$T/bin" "$T/keys"
    ssh-keygen -q -t ed25519 -N '' -C kaas-test-host -f "$T/host_ed25519" || exit 99
    ssh-keygen -q -t ed25519 -N '' -C kaas-test-client -f "$T/client_ed25519" || exit 99
    for u in "$@"; do cp "$T/client_ed25519.pub" "$T/keys/$u"; done
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
    wait_for 20 sshd_listening || { echo "sshd did not come up:" >&2; cat "$T/sshd.log" >&2; exit 99; }
    SSH_OPTS=(-F /dev/null -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
              -o ConnectTimeout=20 -o NumberOfPasswordPrompts=1 -p "$PORT")
}
sshd_listening() { $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; }

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
