#!/bin/bash
# The Debian packages, as an operator gets them: built from a copy of this
# tree with the README's own commands, checked by lintian, installed with
# apt over a previous build of themselves (tokens, hashing key and
# configuration must survive the upgrade), used (kaasd from the package's
# paths, the NSS module from the system's library directory, the PAM
# profile enabled with pam-auth-update and disabled again, the demo run
# against the installed programs), then purged: /etc/nsswitch.conf and
# /etc/pam.d must be as they were, byte for byte, and no file the packages
# or their scripts made may be left.
#
# The "previous build" is this same tree built under a lower version
# (VERSION~prev): what it proves is the upgrade path of the packaging
# itself (conffiles, maintainer scripts, the state directory).
#
# Changes the host: installs and purges the packages (so it refuses to run
# when kaas is installed already, from packages or under /usr/local), and
# holds the host-wide lock of the tests that edit /etc. Run as root from a
# git checkout: bash tests/packages/test_packages.sh
# Exits 77 (skip) when a tool is missing or the host is not Debian's.
set -uo pipefail

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$top_srcdir
export top_srcdir top_builddir
. "$top_srcdir/tests/lib/check.sh"

PACKAGES="kaasd kaas-webhook kaas-panel libpam-kaas libnss-kaas libkaas0 libkaas-dev"
DBGSYM="kaasd-dbgsym kaas-webhook-dbgsym kaas-panel-dbgsym libpam-kaas-dbgsym libnss-kaas-dbgsym libkaas0-dbgsym"
skip() { echo "SKIP: $*"; exit 77; }
# check_log FILE DESCRIPTION COMMAND...: check, and on failure show the
# end of FILE (the command's output) as comments, tokens masked
check_log() {
    local f=$1 d=$2
    shift 2
    # tokens (the demo prints the one it creates) never reach the log
    if "$@"; then ok "$d"; else
        not_ok "$d"
        tail -n 40 "$f" 2>/dev/null | sed -E 's/kaas_[A-Za-z0-9]{20,}/kaas_<token>/g; s/^/#   /'
    fi
}

# ------------------------------------------------------------ preflight
[ "$(id -u)" = 0 ] || skip "needs root: it installs and purges packages"
for tool in dpkg-buildpackage lintian apt-get pam-auth-update pamtester git flock getent; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool not installed (tools/deps.sh)"
done
for f in /etc/nsswitch.conf /etc/pam.d/common-auth /usr/share/pam-configs/unix; do
    [ -f "$f" ] || skip "$f missing: not Debian's PAM and NSS configuration"
done
git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout: the packages are built from git's files"

exec 9>>/run/lock/kaas-e2e-host.lock 2>/dev/null || exec 9>>/run/kaas-e2e-host.lock
flock -w 900 9 || { echo "another test that edits /etc holds the host's lock" >&2; exit 99; }

for p in $PACKAGES; do
    dpkg-query -W -f '${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^[ic]' &&
        skip "package $p is installed on this host: the test installs and purges it"
done
for f in /usr/local/sbin/kaasd /usr/local/lib/libnss_kaas.so.2 /etc/kaas /var/lib/kaas /run/kaas; do
    [ -e "$f" ] && skip "$f exists: kaas is installed on this host (make install, or a killed run)"
done
ldconfig -p | grep -q 'libnss_kaas\.so\.2' && skip "a libnss_kaas.so.2 is installed already"

. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/machine.sh"
. "$top_srcdir/tests/etcd/guide.sh"
ks_env_setup --private
T=$KS_TMP/packages
mkdir -p "$T"
chmod 755 "$KS_TMP" "$T"

# ------------------------------------------------ the host before, saved
cp -a /etc/nsswitch.conf "$T/nsswitch.conf.orig"
cp -a /etc/pam.d "$T/pam.d.orig"
dpkg-query -W -f '${Package} ${Version}\n' | sort >"$T/packages.before"
# every path under the directories a package or its scripts may write,
# apart from the ones that change by themselves (apt's and dpkg's
# bookkeeping, caches, ldconfig's cache) and the backups the user database
# keeps of itself when systemd-sysusers adds the system users
snapshot() {
    find /etc /usr /lib /var/lib /opt /srv -xdev \
        \( -path /var/lib/dpkg -o -path /var/lib/apt -o -path /var/lib/ucf -o -path /var/cache \
           -o -path /var/lib/systemd/timers -o -path /var/lib/systemd/coredump \
           -o -path /etc/ld.so.cache -o -name '__pycache__' \
           -o -path /etc/passwd- -o -path /etc/group- -o -path /etc/shadow- -o -path /etc/gshadow- \) \
        -prune -o -print 2>/dev/null | sort
}
snapshot >"$T/files.before"

KAASD_PID=
installed=0
restore() {
    [ -n "$KAASD_PID" ] && kill "$KAASD_PID" 2>/dev/null && wait "$KAASD_PID" 2>/dev/null
    KAASD_PID=
    # kaasd made it when it bound its socket (preflight: it was not there)
    rm -rf /run/kaas
    if [ "$installed" = 1 ]; then
        pam-auth-update --package --disable kaas >/dev/null 2>&1
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PACKAGES $DBGSYM >/dev/null 2>&1
        installed=0
    fi
    cmp -s "$T/nsswitch.conf.orig" /etc/nsswitch.conf || cat "$T/nsswitch.conf.orig" >/etc/nsswitch.conf
    diff -r -q "$T/pam.d.orig" /etc/pam.d >/dev/null 2>&1 || { rm -rf /etc/pam.d && cp -a "$T/pam.d.orig" /etc/pam.d; }
}
cleanup() {
    machine_halt
    KAAS_DEMO_DIR=$T/demo bash "$top_srcdir/tools/demo.sh" stop >/dev/null 2>&1
    restore
    ks_cleanup
}
trap cleanup EXIT
trap 'exit 129' HUP

# --------------------------------------------------- the README's commands
# the first ```sh block after "## Install from packages"
readme_block() {
    awk '/^## Install from packages/ { s = 1 } s && /^```sh/ { b = 1; next } b && /^```/ { exit } b' \
        "$top_srcdir/README.md"
}
BUILD_BLOCK=$(readme_block)
check "README.md has an \"Install from packages\" block that builds with dpkg-buildpackage" \
    grep -q 'dpkg-buildpackage -us -uc -b' <<<"$BUILD_BLOCK"

# copy DIR: git's files of this tree (committed or not, never ignored ones)
copy_tree() {
    mkdir -p "$1"
    (cd "$top_srcdir" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) | tar -xf - -C "$1"
}

version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version)
prev="$version~prev"

# the previous build: the same tree, a lower version
copy_tree "$T/prev/kaas"
sed -i "1s/($version)/($prev)/" "$T/prev/kaas/debian/changelog"
check_log "$T/prev-build.log" "the previous build ($prev) builds" \
    bash -c "cd '$T/prev/kaas' && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b -j\$(nproc) >'$T/prev-build.log' 2>&1"

# ------------------------------------------------ install, first version
installed=1
check_log "$T/prev-install.log" "the previous build installs with apt" \
    bash -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q '$T'/prev/*.deb >'$T/prev-install.log' 2>&1"

check "installing adds kaas to the passwd and group lines of nsswitch.conf, and nothing else" bash -c "
    grep -qE '^passwd:.*[[:space:]]kaas\$' /etc/nsswitch.conf &&
    grep -qE '^group:.*[[:space:]]kaas\$' /etc/nsswitch.conf &&
    [ \"\$(diff '$T/nsswitch.conf.orig' /etc/nsswitch.conf | grep -c '^[<>]')\" = 4 ]"
check "installing changes no PAM stack: the kaas profile is off until enabled" \
    diff -r "$T/pam.d.orig" /etc/pam.d
check "the pam-auth-update profile is installed" test -f /usr/share/pam-configs/kaas
check "the system users and groups exist (sysusers)" bash -c \
    '{ getent passwd kaas && getent passwd kaas-webhook && getent passwd kaas-panel &&
       getent group kaas-validators && getent group kaas-frontends; } >/dev/null'
check "the state directory exists, kaas's, mode 0700 (tmpfiles)" \
    bash -c '[ "$(stat -c "%U %a" /var/lib/kaas)" = "kaas 700" ]'
check "the example configuration is a conffile; no kaasd.conf is installed, so nothing starts" bash -c \
    "dpkg-query -W -f '\${Conffiles}' kaasd | grep -q ' /etc/kaas/kaasd.conf.example ' && [ ! -e /etc/kaas/kaasd.conf ]"
check "the units do not start kaasd before kaasd.conf exists" bash -c \
    'grep -qx "ConditionPathExists=/etc/kaas/kaasd.conf" /lib/systemd/system/kaasd.socket &&
     grep -qx "ConditionPathExists=/etc/kaas/kaasd.conf" /lib/systemd/system/kaasd.service'

# ------------------------------------- configure as the README says, run
CONF_BLOCK=$(awk '/^## Install from packages/ { s = 1 } s && /^```sh/ { n++; if (n == 2) { b = 1; next } } b && /^```/ { exit } b' \
    "$top_srcdir/README.md")
check "README.md says to make kaasd.conf from the example" \
    grep -qxF 'cp /etc/kaas/kaasd.conf.example /etc/kaas/kaasd.conf' <<<"$(sed 's/[[:space:]]*#.*//' <<<"$CONF_BLOCK")"
cp /etc/kaas/kaasd.conf.example /etc/kaas/kaasd.conf

# set_key SECTION KEY VALUE: uncomments KEY in SECTION of kaasd.conf, as an
# administrator editing the copied example does
set_key() {
    local tmp=/etc/kaas/kaasd.conf.new
    awk -v sec="[$1]" -v key="$2" -v val="$3" '
        /^\[/ { cur = $0 }
        cur == sec && $0 ~ "^#" key " =" && !done { print key " = " val; done = 1; next }
        { print }
        END { if (!done) exit 1 }' /etc/kaas/kaasd.conf >"$tmp" && mv "$tmp" /etc/kaas/kaasd.conf
}
# read by kaasd after it has become "kaas" (as under the unit's User=kaas)
check "README.md says to make the password file kaas's" grep -qxF \
    'install -m 0600 -o kaas -g kaas /dev/null /etc/kaas/keystone.password' <<<"$(sed 's/[[:space:]]*#.*//' <<<"$CONF_BLOCK")"
install -m 0600 -o kaas -g kaas /dev/null /etc/kaas/keystone.password
printf '%s\n' "$KAASD_SERVICE_PASSWORD" >/etc/kaas/keystone.password
check "the example's keys are set where they are (url, user, password_file, user to run as)" bash -c "
    $(declare -f set_key)
    set_key keystone url '$KEYSTONE_URL' && set_key keystone user '$KAASD_SERVICE_USER' &&
    set_key keystone password_file /etc/kaas/keystone.password && set_key kaasd user kaas &&
    set_key kaasd log_target stderr"
cat >>/etc/kaas/kaasd.conf <<EOF

[cluster alpha]
admin_roles = k8s-admins-alpha
EOF
check "kaasd --check-config accepts it" /usr/sbin/kaasd --check-config

# ------------------------------------------- under systemd, as a node runs it
# systemd as PID 1 in a machine over this host's file tree
# (tests/lib/machine.sh; nothing it writes reaches the host): the README's
# "systemctl start kaasd.socket", the packaged units with their sandboxing,
# socket activation and sd_notify, the NSS module asking kaasd through the
# socket systemd holds. The configuration is the one made above, "user =
# kaas" included, which under the unit's User=kaas is no switch.
START_LINE=$(sed 's/[[:space:]]*#.*//' <<<"$CONF_BLOCK" | grep -x 'systemctl start .*')
check "README.md starts kaasd with systemctl start kaasd.socket" test "$START_LINE" = "systemctl start kaasd.socket"
in_machine() { machine "$@" 2>>"$T/machine.out"; }
unit_is() { [ "$(in_machine systemctl show -p "$2" --value "$1")" = "$3" ]; }
socket_stopped() { in_machine systemctl stop kaasd.socket && unit_is kaasd.socket ActiveState inactive; }
socket_waits() {
    [ "$(in_machine stat -c '%a %U' /run/kaas/kaasd.sock)" = "666 root" ] && unit_is kaasd.service ActiveState inactive
}
# journal_refused_nothing FILE UNIT...: the units' journal, kept in FILE,
# holds nothing their sandboxing refused
journal_refused_nothing() {
    local f=$1 u args=()
    shift
    for u in "$@"; do args+=(-u "$u"); done
    in_machine journalctl "${args[@]}" -o cat --no-pager >"$f" &&
        ! grep -E 'Operation not permitted|Permission denied|Bad system call|Read-only file system|status=31/SYS|SECCOMP' "$f"
}
# unit_serves_as UNIT USER: UNIT is active, its main process USER's, never restarted
unit_serves_as() {
    local pid
    pid=$(in_machine systemctl show -p MainPID --value "$1")
    [ -n "$pid" ] && [ "$pid" != 0 ] && [ "$(in_machine ps -o user= -p "$pid")" = "$2" ] &&
        unit_is "$1" ActiveState active && unit_is "$1" NRestarts 0
}
kaasd_serves_as_kaas() { unit_serves_as kaasd.service kaas && unit_is kaasd.service StatusText Serving; }
validates_there() {
    local out
    out=$(printf '%s\n' "$1" | in_machine /usr/bin/kaasctl token validate) && grep -q alice <<<"$out"
}
resolves_there() {
    local out
    out=$(in_machine getent passwd alice) && grep -q '^alice:' <<<"$out" && return 0
    echo "#   getent: ${out:-nothing}; $(in_machine grep '^passwd:' /etc/nsswitch.conf)"
    in_machine env KAAS_NSS_TIMEOUT_MS=10000 getent -s kaas passwd alice 2>&1 | sed 's/^/#   -s kaas: /'
    in_machine journalctl -u kaasd.service -o cat --no-pager -n 15 | sed 's/^/#   journal: /'
    return 1
}
# alice's role group, answered by kaasd and left in the directory systemd
# made for it (RuntimeDirectory=kaas/groups under the root-owned /run/kaas)
ROLE_GROUP=kaas-k8s-admins-alpha
role_group_there() {
    in_machine env KAAS_NSS_TIMEOUT_MS="$1" getent group "$ROLE_GROUP" |
        grep -Eq "^$ROLE_GROUP:[^:]*:[0-9]+:(.*,)?alice(,|\$)"
}
role_file_there() {
    role_group_there 10000 &&
        [ "$(in_machine stat -c '%U %a' /run/kaas /run/kaas/groups "/run/kaas/groups/name.$ROLE_GROUP")" = \
          "$(printf 'root 755\nkaas 755\nkaas 644')" ]
}
# kaasd stopped by SIGSTOP: the group still answers, from its file, which
# the module trusts through those owners; a user does not (timed out)
role_file_read() {
    local rc=1
    in_machine systemctl kill -s STOP kaasd.service
    role_group_there 1000 && ! in_machine env KAAS_NSS_TIMEOUT_MS=1000 getent passwd alice >/dev/null && rc=0
    in_machine systemctl kill -s CONT kaasd.service
    return $rc
}
reloaded() {
    local out
    out=$(in_machine journalctl -u kaasd.service -o cat --no-pager) &&
        unit_is kaasd.service ActiveState active && grep -q 'configuration reloaded' <<<"$out"
}
sandbox_refused_nothing() {
    unit_is kaasd.service NRestarts 0 && journal_refused_nothing "$T/machine-journal.txt" kaasd.service
}
stopped_cleanly() {
    unit_is kaasd.service Result success && unit_is kaasd.service ActiveState inactive &&
        ! in_machine test -e /run/kaas/kaasd.sock && ! in_machine test -e /run/kaas/groups
}
machine_boot "$T/machine"
case $? in
0)
    # the package enabled kaasd.socket (dh_installsystemd), so boot started
    # it: stopped first, the README's line is what starts it here
    check "kaasd.socket stopped before the README's line" socket_stopped
    # shellcheck disable=SC2086
    check_log "$T/machine.out" "in a machine with systemd as PID 1: $START_LINE" in_machine $START_LINE
    check "the socket is systemd's (root, mode 0666) and kaasd not started yet" socket_waits
    mtoken=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD OS_USER_DOMAIN_NAME=Default \
        in_machine /usr/bin/kaasctl token create --description machine)
    check_log "$T/machine.out" "alice's first call starts kaasd.service through its socket: she gets a token" \
        test -n "$mtoken"
    check "kaasd runs as kaas and told systemd it is ready (active, Status: Serving)" kaasd_serves_as_kaas
    check "the token validates there" validates_there "$mtoken"
    check "getent passwd alice there: the NSS module asks kaasd through systemd's socket" resolves_there
    check "getent group $ROLE_GROUP there: left as a file in /run/kaas/groups, kaas's, 0644" role_file_there
    check "... which the NSS module reads while kaasd is stopped (SIGSTOP), as it does not a user" role_file_read
    in_machine systemctl reload kaasd.service
    check "systemctl reload kaasd: the configuration reloaded, kaasd still active" reloaded
    check_log "$T/machine-journal.txt" "no restart, and nothing in kaasd's journal that the sandbox refused" \
        sandbox_refused_nothing
    in_machine systemctl stop kaasd.socket kaasd.service
    check "stopped: kaasd exited cleanly and systemd removed the socket and the group files" stopped_cleanly
    machine_halt
    ;;
77) echo "# SKIP the units under systemd: this host cannot run a systemd-nspawn machine" ;;
*)
    not_ok "a machine with systemd as PID 1 boots over this host's tree"
    tail -n 20 "$MACHINE_LOG" | sed 's/^/#   /'
    machine_halt
    ;;
esac

# systemd is not running here: start kaasd as its unit would find it (the
# package's binary, compiled-in socket and state directory), as root so
# that it binds /run/kaas/kaasd.sock and then becomes "kaas"
start_kaasd() {
    /usr/sbin/kaasd -f 2>>"$T/kaasd.log" &
    KAASD_PID=$!
    wait_for 60 test -S /run/kaas/kaasd.sock
}
stop_kaasd() {
    kill "$KAASD_PID" 2>/dev/null
    wait "$KAASD_PID" 2>/dev/null
    KAASD_PID=
}
check_log "$T/kaasd.log" "the packaged kaasd starts on its compiled-in socket" start_kaasd

token=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD OS_USER_DOMAIN_NAME=Default \
    /usr/bin/kaasctl token create --description packages 2>"$T/create.err")
check_log "$T/create.err" "alice creates a token with the packaged kaasctl" test -n "$token"
check "the token validates" bash -c 'printf "%s\n" "$1" | /usr/bin/kaasctl token validate | grep -q alice' _ "$token"

key_file=/var/lib/kaas/token.key
check "kaasd made its hashing key in the state directory" test -s "$key_file"
sha256sum "$key_file" /etc/kaas/kaasd.conf >"$T/kept.sha256" 2>/dev/null
stop_kaasd

# -------------------------------------------- the README's build, upgrade
copy_tree "$T/cur/kaas"
printf '%s\n' "$BUILD_BLOCK" >"$T/readme-build.sh"
check_log "$T/build.log" "the README's commands build this tree's packages and upgrade the installed ones" \
    bash -c "cd '$T/cur/kaas' && DEBIAN_FRONTEND=noninteractive bash -eux '$T/readme-build.sh' >'$T/build.log' 2>&1"
check_log "$T/install.log" "the remaining packages (webhook, panel, -dev, debug symbols) install beside them" \
    bash -c "DEBIAN_FRONTEND=noninteractive apt-get install -y -q '$T'/cur/*.deb >'$T/install.log' 2>&1"
check "every package is at $version now" bash -c "
    for p in $PACKAGES; do [ \"\$(dpkg-query -W -f '\${Version}' \$p)\" = '$version' ] || exit 1; done"
# systemd is not PID 1 here, but its unit loader is the same: every unit
# the packages install must load without a complaint and name programs
# that exist where the packages put them (other packages' units, loaded
# as dependencies, may complain of themselves: only kaas's count)
units="kaasd.socket kaasd.service kaas-webhook.service kaas-panel.service"
check_log "$T/verify.log" "systemd-analyze verify accepts every installed unit ($units)" bash -c \
    "cd /lib/systemd/system && systemd-analyze verify --man=no $units >'$T/verify.log' 2>&1 && ! grep -q kaas '$T/verify.log'"

lint=$(cd "$T/cur" && lintian --pedantic -I kaas_"${version}"_*.changes 2>&1 | grep -v 'running with root privileges')
printf '%s\n' "$lint" >"$T/lintian.out"
check_log "$T/lintian.out" "lintian: no error and no warning" bash -c '! grep -qE "^[EW]: " "$1"' _ "$T/lintian.out"

check "the upgrade kept the hashing key and kaasd.conf" sha256sum -c --quiet "$T/kept.sha256"
check_log "$T/kaasd.log" "the upgraded kaasd starts" start_kaasd
check "the token made before the upgrade still validates" \
    bash -c 'printf "%s\n" "$1" | /usr/bin/kaasctl token validate | grep -q alice' _ "$token"
check "and is still listed" bash -c '/usr/bin/kaasctl token list --user alice | grep -q packages'

# --------------------------------------------------- NSS and PAM, installed
# the file glibc's loader opens for the module, by LD_DEBUG
nss_loaded() {
    LD_DEBUG=libs getent passwd alice 2>&1 >"$T/getent.out" |
        sed -n 's/.*calling init: \(\/[^ ]*libnss_kaas\.so\.2\).*/\1/p' | head -n 1
}
nss_is_packaged() {
    local ma lib
    ma=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
    lib=/usr/lib/$ma/libnss_kaas.so.2
    loaded=$(nss_loaded)
    grep -q '^alice:' "$T/getent.out" && [ -n "$loaded" ] &&
        [ "$(realpath "$loaded")" = "$(realpath "$lib")" ] && dpkg -L libnss-kaas | grep -qxF "$lib"
}
check "glibc resolves alice through the NSS module the package put in /usr/lib/MULTIARCH" nss_is_packaged
check "id alice shows her role groups" bash -c 'id alice | grep -q "(kaas-k8s-admins-alpha)"'

check "the README says to enable the PAM profile with pam-auth-update --enable kaas" \
    grep -qxF 'pam-auth-update --enable kaas' <<<"$(sed 's/[[:space:]]*#.*//' <<<"$CONF_BLOCK")"
pam-auth-update --enable kaas
check "enabled, Debian's common-auth asks pam_kaas first" bash -c \
    'grep -E "^auth" /etc/pam.d/common-auth | head -n 1 | grep -q pam_kaas.so'
check "enabled, common-account checks Keystone users with pam_kaas" grep -q 'pam_kaas.so' /etc/pam.d/common-account
# pamtester reads the password from its standard input; "login" is a stock
# Debian service that includes common-auth and common-account
pam_try() { printf '%s\n' "$2" | timeout 60 pamtester login "$1" authenticate acct_mgmt >"$T/pam.out" 2>&1; }
check_log "$T/pam.out" "alice logs in (service login) with her token" pam_try alice "$token"
pam_refused() { ! pam_try "$@"; }
check_log "$T/pam.out" "a wrong token is refused" pam_refused alice "kaas_$(head -c 30 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
pam-auth-update --disable kaas
check "disabled again, /etc/pam.d is as before, byte for byte" diff -r "$T/pam.d.orig" /etc/pam.d
stop_kaasd

# ------------- docs/kubernetes.md's and docs/panel.md's set-up, under systemd
# Sections 1 and 2 of the guide, in their order, verbatim, in a machine with
# systemd as PID 1 and every package installed: the users, validator_group
# in the kaasd.conf made above, kaasd's socket, the guide's openssl
# commands, its webhook.conf, and kaas-webhook.service started by systemd
# (its key handed over as a credential, its sandboxing). Then a TokenReview
# as kube-apiserver sends it, with the guide's client certificate.
K8S_AUDIENCE=https://kubernetes.default.svc.cluster.local
k8s_block() { guide_block "$1" kubernetes.md; }
# guide_run DOC NAME DIR LOG: block NAME of docs/DOC run as written in the
# machine, in directory DIR, its trace into LOG
# guide_exec DOC NAME DIR: the same, its output on stdout and its trace on
# stderr; the block is bash's script argument, so that a command of it
# reading its standard input reads nothing of the script. A missing block
# fails rather than run as an empty script.
guide_exec() {
    local block
    block=$(guide_block "$2" "$1")
    [ -n "$block" ] || { echo "# docs/$1 has no block $2" >&2; return 1; }
    machine bash -euxc "cd '$3'
$block"
}
guide_run() { guide_exec "$1" "$2" "$3" >>"$4" 2>&1; }
# guide_conf DOC NAME: the guide's kaasd.conf lines, a [kaasd] section of
# key = value lines, each set in the machine's kaasd.conf as set_key does
# (a line another guide already set the same way is left as it is)
guide_conf() {
    local block key value
    block=$(guide_block "$2" "$1")
    [ "$(head -n 1 <<<"$block")" = "[kaasd]" ] && [ "$(wc -l <<<"$block")" -ge 2 ] || return 1
    while IFS=' =' read -r key value; do
        [ "$key" = "[kaasd]" ] && continue
        [ -n "$key" ] && [ -n "$value" ] || return 1
        in_machine grep -qxF "$key = $value" /etc/kaas/kaasd.conf && continue
        in_machine bash -c "$(declare -f set_key); set_key kaasd '$key' '$value'" || return 1
    done <<<"$block"
}
k8s_run() { guide_run kubernetes.md "$1" / "$T/k8s.log"; }
# the guide's ini lines, each key set in kaasd.conf's section as set_key does
k8s_socket_enabled() { [ "$(in_machine systemctl is-enabled kaasd.socket)" = enabled ]; }
k8s_units_off() {
    local u
    in_machine systemctl disable --now kaasd.socket kaasd.service kaas-webhook.service kaas-panel.service \
        >>"$T/k8s.log" 2>&1 || return 1
    for u in kaasd.socket kaasd.service kaas-webhook.service kaas-panel.service; do
        [ "$(in_machine systemctl is-enabled "$u")" = disabled ] && unit_is "$u" ActiveState inactive || return 1
    done
}
k8s_webhook_conf() {
    k8s_block k8s-webhook-conf | in_machine tee /etc/kaas/webhook.conf >/dev/null &&
        in_machine grep -qx 'listen = 127.0.0.1:8443' /etc/kaas/webhook.conf
}
k8s_review() {
    local out
    printf '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenReview","spec":{"token":"%s","audiences":["%s"]}}' \
        "$1" "$K8S_AUDIENCE" |
        in_machine curl -sS --max-time 30 --cacert /etc/kaas/webhook/ca.crt \
            --cert /etc/kaas/webhook/apiserver-client.crt --key /etc/kaas/webhook/apiserver-client.key \
            -H 'Content-Type: application/json' --data-binary @- https://127.0.0.1:8443/authenticate >"$T/k8s-review.json" &&
        python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["status"]
sys.exit(not (r.get("authenticated") is True and r["user"]["username"] == "alice"))' "$T/k8s-review.json"
}
# client_ca is the guide's: a review without the apiserver's certificate is
# answered 401, unread
k8s_no_client_cert() {
    [ "$(in_machine curl -sS --max-time 30 --cacert /etc/kaas/webhook/ca.crt -o /dev/null -w '%{http_code}' \
        -d '{}' https://127.0.0.1:8443/authenticate)" = 401 ]
}

# guide_says DOC NAME PATTERN...: block NAME of docs/DOC run as written in
# the machine (as a script argument: a command of it reading its standard
# input reads nothing of the script) prints every PATTERN (grep -E)
guide_says() {
    local doc=$1 name=$2 out p
    shift 2
    out=$(guide_exec "$doc" "$name" / 2>>"$T/varlink.log" | tr '\0' '\n') || return 1
    printf '%s\n' "$out" >>"$T/varlink.log"
    for p in "$@"; do
        grep -qE -- "$p" <<<"$out" || { echo "# no $p in the output of $doc's $name" >>"$T/varlink.log"; return 1; }
    done
}
talks_readme() { guide_says ../README.md readme-talk '"product":"kaasd"' 'interface io.kaas.Admin'; }
# docs/environment.md, section 4: the environment's hashing key put in
# place on a node as the guide says (here the key this node made itself,
# moved out of the way first, so that the tokens it knows stay valid only
# if the guide's line puts it back), then kaasd.service restarted on it: a
# key kaasd does not own is refused and kaasd would not start
key_copied_in() {
    in_machine install -d -m 0700 /root/key-files &&
        in_machine mv /var/lib/kaas/token.key /root/key-files/token.key &&
        in_machine chown root:root /root/key-files/token.key &&
        guide_run environment.md token-key-install /root/key-files "$T/key.log" &&
        in_machine systemctl restart kaasd.service >>"$T/key.log" 2>&1 &&
        unit_is kaasd.service ActiveState active && return 0
    in_machine journalctl -u kaasd.service -o cat --no-pager -n 20 >>"$T/key.log"
    return 1
}
# docs/panel.md: the install block run where the operator's tls.key and
# tls.crt are (a certificate for 127.0.0.1, of a CA of the test's own),
# the page's example panel.conf as it stands (its clusters' CA files put
# where it names them), then the block that starts the panel
panel_block() { guide_run panel.md "$1" /root/panel-files "$T/panel.log"; }
panel_install() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=panel-ca \
        -keyout "$T/panel-ca.key" -out "$T/panel-ca.crt" >>"$T/panel.log" 2>&1 &&
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=127.0.0.1 \
            -CA "$T/panel-ca.crt" -CAkey "$T/panel-ca.key" -addext subjectAltName=IP:127.0.0.1 \
            -keyout "$T/panel-tls.key" -out "$T/panel-tls.crt" >>"$T/panel.log" 2>&1 &&
        in_machine install -d -m 0700 /root/panel-files && in_machine install -d -m 0755 /etc/kaas/clusters &&
        in_machine install -m 0600 /dev/stdin /root/panel-files/tls.key <"$T/panel-tls.key" &&
        in_machine install -m 0644 /dev/stdin /root/panel-files/tls.crt <"$T/panel-tls.crt" &&
        panel_block panel-install
}
panel_started() {
    panel_block panel-start && return 0
    in_machine journalctl -u kaas-panel.service -o cat --no-pager -n 30 >>"$T/panel.log"
    return 1
}
panel_conf_example() {
    guide_block panel-conf-example panel.md >"$T/panel.conf" &&
        grep -q '^listen = 127.0.0.1:8444$' "$T/panel.conf" &&
        in_machine install -m 0644 /dev/stdin /etc/kaas/panel.conf <"$T/panel.conf" &&
        for f in $(sed -n 's/^ca_file = //p' "$T/panel.conf"); do
            in_machine install -m 0644 /dev/stdin "$f" <"$T/panel-ca.crt" || return 1
        done
}
# docs/managed-services.md: the panel checks KaaS tokens (forward auth)
# once its user is in validator_group (set above from kubernetes.md) and
# it has restarted into that group
panel_validates() {
    local pid
    guide_conf managed-services.md services-validator-group && guide_run managed-services.md services-validator / "$T/panel.log" &&
        wait_for 60 unit_serves_as kaas-panel.service kaas-panel &&
        pid=$(in_machine systemctl show -p MainPID --value kaas-panel.service) &&
        in_machine ps -o supgrp= -p "$pid" | tr ',' '\n' | grep -qx kaas-validators
}
# a browser's login, by its form (the session cookie and the form's csrf
# field), Origin the example's origin; the password from the environment
panel_login() {
    PANEL_PASSWORD=$ALICE_PASSWORD python3 - "$T/panel-ca.crt" "$(sed -n 's/^origin = //p' "$T/panel.conf")" \
        >"$T/panel-login.out" 2>&1 <<'PY'
import http.cookiejar, os, re, ssl, sys, urllib.error, urllib.parse, urllib.request

class Stay(urllib.request.HTTPRedirectHandler):
    """follows nothing: only 127.0.0.1 is asked, whatever a redirect names"""
    def redirect_request(self, *args):
        return None

ctx = ssl.create_default_context(cafile=sys.argv[1])
web = urllib.request.build_opener(urllib.request.HTTPSHandler(context=ctx),
                                  urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), Stay())
base = "https://127.0.0.1:8444"
page = web.open(base + "/login", timeout=30).read().decode()
csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"user": "alice", "password": os.environ["PANEL_PASSWORD"], "domain": "Default",
                               "csrf": csrf}).encode()
try:
    web.open(urllib.request.Request(base + "/login", data=form, headers={"Origin": sys.argv[2]}), timeout=30)
    sys.exit("the login was not redirected")
except urllib.error.HTTPError as e:
    where = e.headers.get("Location", "")
    print("login:", e.code, where)
    if e.code != 303 or not where.startswith("/"):
        sys.exit(1)
text = web.open(base + "/tokens", timeout=30).read().decode()
print("tokens page:", len(text), "bytes")
sys.exit(0 if "alice" in text and 'action="/tokens' in text else 1)
PY
}
machine_boot "$T/k8s-machine"
case $? in
0)
    # the packages enabled their units on this host (dh_installsystemd): the
    # guide's own commands must be what enables and starts them here
    check "the units start out disabled and stopped in the machine" k8s_units_off
    check_log "$T/k8s.log" "kubernetes.md: systemd-sysusers" k8s_run k8s-users
    check "kubernetes.md: validator_group = kaas-validators goes into kaasd.conf's [kaasd]" \
        guide_conf kubernetes.md k8s-validator-group
    check_log "$T/k8s.log" "kubernetes.md: kaasd.socket enabled and started" k8s_run k8s-kaasd
    check "kaasd.socket is enabled" k8s_socket_enabled
    check_log "$T/k8s.log" "kubernetes.md: its openssl commands make the CA, the webhook's and the apiserver's certificates" \
        k8s_run k8s-certificates
    check "kubernetes.md: webhook.conf written as the guide shows it" k8s_webhook_conf
    check_log "$T/k8s.log" "kubernetes.md: systemctl enable --now kaas-webhook.service" k8s_run k8s-webhook
    check_log "$T/k8s.log" "kaas-webhook.service runs as kaas-webhook, started by systemd, no restart" \
        wait_for 60 unit_serves_as kaas-webhook.service kaas-webhook
    check_log "$T/k8s-review.json" "a TokenReview with the guide's client certificate: alice's token is alice's" \
        k8s_review "$token"
    check "without the client certificate the webhook answers 401" k8s_no_client_cert
    check_log "$T/k8s-journal.txt" "nothing in the webhook's or kaasd's journal that the sandbox refused" \
        journal_refused_nothing "$T/k8s-journal.txt" kaas-webhook.service kaasd.service
    check_log "$T/varlink.log" "README.md's \"Talking to kaasd\" against the kaasd systemd started" talks_readme
    check_log "$T/varlink.log" "varlink.md: GetInfo with socat names kaasd and its interfaces" \
        guide_says varlink.md varlink-getinfo '"product":"kaasd"' '"io.systemd.UserDatabase"'
    check_log "$T/varlink.log" "varlink.md: alice as the NSS module asks for her" \
        guide_says varlink.md varlink-getuser '"name":"alice"'
    check_log "$T/varlink.log" "varlink.md: io.kaas.Admin's definition" \
        guide_says varlink.md varlink-describe 'interface io.kaas.Admin'
    check_log "$T/varlink.log" "varlink.md: the kaasctl lines" \
        guide_says varlink.md varlink-kaasctl 'interface io.kaas.Admin' '"product": *"kaasd"'
    check_log "$T/varlink.log" "varlink.md: kaasd.socket's userdb drop-in, as the guide writes it" \
        guide_run varlink.md varlink-userdb-socket / "$T/varlink.log"
    check_log "$T/varlink.log" "varlink.md: userdbctl shows alice's record and her role group from kaasd" \
        guide_says varlink.md varlink-userdbctl 'name: *alice' "$ROLE_GROUP"
    check_log "$T/key.log" "environment.md: the shared hashing key copied in as the guide says; kaasd restarts on it" \
        key_copied_in
    check "and alice's token still validates there" validates_there "$token"
    check_log "$T/panel.log" "panel.md: the install commands, in a directory holding tls.key and tls.crt" panel_install
    check "panel.md: frontend_group = kaas-frontends goes into kaasd.conf's [kaasd]" \
        guide_conf panel.md panel-frontend-group
    check "panel.md: panel.conf is the page's example configuration, verbatim" panel_conf_example
    check_log "$T/panel.log" "panel.md: kaasd reloaded, kaas-panel.service enabled and started" panel_started
    check_log "$T/panel.log" "kaas-panel.service runs as kaas-panel, started by systemd, no restart" \
        wait_for 60 unit_serves_as kaas-panel.service kaas-panel
    check_log "$T/panel-login.out" "alice logs in to that panel with her OpenStack password and sees her token list" \
        panel_login
    check_log "$T/panel.log" "managed-services.md: kaas-panel joins kaas-validators; restarted, it runs in that group" \
        panel_validates
    check_log "$T/panel-journal.txt" "nothing in the panel's or kaasd's journal that the sandbox refused" \
        journal_refused_nothing "$T/panel-journal.txt" kaas-panel.service kaasd.service
    machine_halt
    ;;
77) echo "# SKIP kubernetes.md under systemd: this host cannot run a systemd-nspawn machine" ;;
*)
    not_ok "a machine with systemd as PID 1 boots over this host's tree (kubernetes.md)"
    tail -n 20 "$MACHINE_LOG" | sed 's/^/#   /'
    machine_halt
    ;;
esac

# ---------------------------------------------------------- the demo
check_log "$T/demo.log" "the demo runs against the installed programs" bash -c \
    "KAAS_DEMO_NO_BUILD=1 KAAS_DEMO_PREFIX=/usr KAAS_DEMO_DIR='$T/demo' bash '$top_srcdir/tools/demo.sh' >'$T/demo.log' 2>&1"
check "in it, the installed kaasctl created a token and validated it" bash -c \
    "grep -qE '^kaas_[A-Za-z0-9]{40,}' '$T/demo.log' && grep -q 'alice' '$T/demo.log'"
KAAS_DEMO_DIR=$T/demo bash "$top_srcdir/tools/demo.sh" stop >/dev/null 2>&1

# ---------------------------------------------------------------- purge
check_log "$T/purge.log" "purging every package succeeds" bash -c \
    "DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $PACKAGES $DBGSYM >'$T/purge.log' 2>&1"
dpkg-query -W -f '${db:Status-Abbrev}\n' kaasd 2>/dev/null | grep -q '^[ic]' || installed=0
check "/etc/nsswitch.conf is as before, byte for byte" cmp "$T/nsswitch.conf.orig" /etc/nsswitch.conf
check "/etc/pam.d is as before, byte for byte" diff -r "$T/pam.d.orig" /etc/pam.d
check "the set of installed packages is as before" bash -c \
    "diff '$T/packages.before' <(dpkg-query -W -f '\${Package} \${Version}\n' | sort)"
snapshot >"$T/files.after"
check "no file is left: the file tree is as before" diff "$T/files.before" "$T/files.after"
check "the tokens, the hashing key and the configuration went with the purge" \
    bash -c '[ ! -e /var/lib/kaas ] && [ ! -e /etc/kaas ]'
# Debian never removes system users: files they owned elsewhere must not
# go to a later user who gets the same uid
check "the system users stay, as Debian's do" getent passwd kaas

check_done
