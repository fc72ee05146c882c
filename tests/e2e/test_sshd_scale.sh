#!/bin/bash
# An sshd login at 100,000 cached identities, through the host's own PAM
# and NSS as test_sshd.sh logs in: the store is filled by
# bench-fill-store, every user holding the roles member, reader,
# developer, k8s-viewers and the role the sshd stack of pam_kaas(8)
# requires, so that each of the five role groups has 100,000 members. A
# user logs in with its KaaS token as the password while other clients
# look those groups up without pause, and `id` in the session shows its
# groups by name, as glibc finds them (initgroups, then each group's
# entry, buffer grown on ERANGE). Nothing here is timed: ssh and the
# waits have generous bounds.
#
# The host's files it changes, and how they are put back:
# tests/lib/sshd-host.sh (the same lock as test_sshd.sh). Skipped (77)
# when not root, when a tool is missing, when kaas is installed on the
# host already, and in sanitizer builds.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/sanitizer.sh"

N=${KAAS_SCALE_IDENTITIES:-100000}
MODULE=$top_builddir/pam_kaas/.libs/pam_kaas.so
NSS_MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
FILL=$top_builddir/bench/bench-fill-store
[ -x "$FILL" ] || { echo "missing $FILL: build first" >&2; exit 99; }
. "$top_srcdir/tests/lib/sshd-host.sh"
host_preflight

ks_env_setup --private
T=$KS_TMP/host
mkdir -p "$T/home"
chmod 755 "$KS_TMP" "$T" "$T/home"
host_trap
host_stacks
check "the sshd stack of pam_kaas(8) requires a role (${ROLE:-none})" [ -n "$ROLE" ]

# --------------------------------------------------------------- kaasd
D=$KS_TMP/kaasd
mkdir -p "$D"
echo "# filling a store with $N identities"
"$FILL" "$D/state" 10 "$N" "$ROLE" >/dev/null || { echo "bench-fill-store failed" >&2; exit 99; }
TOKEN=$(awk 'NR == 1 { print $1 }' "$D/tokens.txt")
USER1=$(awk 'NR == 1 { print $2 }' "$D/tokens.txt")
OTHER_TOKEN=$(awk 'NR == 2 { print $1 }' "$D/tokens.txt")
# the bench users are not in this Keystone: the cache answers for them
KAASD_CONF_EXTRA="cache_ttl = 86400
offline_ttl = 86400"
KAASD_CONF_TAIL="
[nss]
home = $T/home/%u
shell = /bin/sh"
kaasd_write_conf "$D"
sed -i 's/^log_level = debug$/log_level = info/' "$D/kaasd.conf"
# start-up reads the whole store once (the group index)
KAASD_START_TRIES=3000 kaasd_start "$D" || exit 99
chmod 755 "$D"

# ------------------------------------------------- install on the host
check "$USER1 is not a user of this host before kaas is installed" bash -c "! getent passwd '$USER1'"
host_install "$D"
UID1=$(id -u "$USER1" 2>/dev/null)
check "$USER1 resolves through glibc's NSS (uid ${UID1:-none})" [ -n "$UID1" ]
n_members() { getent group "$1" | cut -d: -f4 | tr ',' '\n' | grep -c .; }
check "getent group kaas-developer through glibc: all $N users" [ "$(n_members kaas-developer)" = "$N" ]

# ---------------------------------------------------------------- sshd
sshd_start "$USER1"
STOP=$T/stop
STORMS=
for g in kaas-developer kaas-member; do
    ( while [ ! -e "$STOP" ] && kill -0 $$ 2>/dev/null; do getent group "$g" >/dev/null; : >"$T/storm.$g"; done ) &
    STORMS="$STORMS $!"
done
storm_started() { [ -e "$T/storm.kaas-developer" ] && [ -e "$T/storm.kaas-member" ]; }
check "a storm of lookups of two 100,000-member groups is running" wait_for 120 storm_started

login "$USER1" "$TOKEN"
check "$USER1 logs in with its token during the storm (password)" shows "uid=$UID1($USER1)"
echo "$out" | sed -n 2,3p | sed 's/^/#   /'
check "... id shows its five role groups by name" bash -c '
    for g in member reader developer k8s-viewers "$1"; do
        [[ $0 == *"(kaas-$g)"* ]] || exit 1
    done' "$(echo "$out" | sed -n 1p)" "$ROLE"
check "... and id -nG lists them" bash -c '
    for g in member reader developer k8s-viewers "$1"; do
        [[ " $0 " == *" kaas-$g "* ]] || exit 1
    done' "$(echo "$out" | sed -n 2p)" "$ROLE"
check "sshd accepted the password through PAM" grep -q "Accepted password for $USER1" "$T/sshd.log"
check "... and the session started in its new home" bash -c '[[ $(echo "$0" | sed -n 3p) == "$1" ]]' \
    "$out" "$T/home/$USER1"
login "$USER1" "$OTHER_TOKEN"
check "another user's token does not log $USER1 in" refused
touch "$STOP"
# shellcheck disable=SC2086
wait $STORMS

kill "$SSHD_PID" 2>/dev/null && wait "$SSHD_PID" 2>/dev/null
SSHD_PID=
restore_host
check "the host's files are as they were" host_restored
kaasd_stop "$D"
check_done
