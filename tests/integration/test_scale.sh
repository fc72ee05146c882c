#!/bin/bash
# kaasd with 100,000 cached identities (made by bench-fill-store, each with
# the roles member, reader, developer and k8s-viewers): group lookups, an
# id-equivalent (initgroups, then getgrgid of each group), the member
# list of a role every user holds after one of them leaves the cache, and a Validate
# answered while a storm of group lookups runs beside it, through the real
# NSS module (under nss_wrapper) and a real kaasd; a capped member list
# after a reload, and none with ignore_group_members; lookups whose client
# gave up dropped unanswered.
#
# Nothing here is timed. The private-group and initgroups lookups use the
# module's own timeout (2 s), the limit a real system has: they must be
# answered within it whatever the cache holds. Everything else waits with
# generous bounds.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

N=${KAAS_SCALE_IDENTITIES:-100000}
MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
PROBE=$top_builddir/tests/integration/nss_probe
ALLOCS=$top_builddir/tests/integration/nss_allocs
FILL=$top_builddir/bench/bench-fill-store
[ -x "$MODULE" ] && [ -x "$FILL" ] || { echo "not ok - $MODULE or $FILL not built"; exit 99; }
NSSW=
for d in $(pkg-config --variable=libdir nss_wrapper 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
         /usr/local/lib; do
    [ -f "$d/libnss_wrapper.so" ] && { NSSW=$d/libnss_wrapper.so; break; }
done
[ -n "$NSSW" ] || { echo "SKIP: libnss_wrapper.so not found (apt-get install libnss-wrapper)"; exit 77; }
PRELOAD=$NSSW
NSSW_ASAN_OPTIONS=${ASAN_OPTIONS:-}
if ldd "$MODULE" | grep libasan >/dev/null; then
    PRELOAD="$(ldd "$MODULE" | awk '/libasan/ { print $3 }') $NSSW"
    NSSW_ASAN_OPTIONS=detect_leaks=0
fi

ks_env_setup --private
T=$KS_TMP/scale
D=$KS_TMP/kaasd
mkdir -p "$T" "$D"
me=$(id -un)
cat >"$T/passwd" <<EOF
root:x:0:0:root:/root:/bin/bash
$me:x:$(id -u):$(id -g)::/tmp:/bin/sh
EOF
cat >"$T/group" <<EOF
root:x:0:
$(id -gn):x:$(id -g):
EOF

echo "# filling a store with $N identities"
"$FILL" "$D/state" 10 "$N" >/dev/null || { echo "not ok - bench-fill-store failed"; exit 99; }
TOKEN=$(awk 'NR == 1 { print $1 }' "$D/tokens.txt")
TOKEN_USER=$(awk 'NR == 1 { print $2 }' "$D/tokens.txt")

# the bench users are not in this Keystone: the cache answers for them
KAASD_CONF_EXTRA="cache_ttl = 86400
offline_ttl = 86400"
KAASD_CONF_TAIL="
[nss]
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid
subgid_file = $T/subgid"
kaasd_write_conf "$D"
sed -i 's/^log_level = debug$/log_level = info/' "$D/kaasd.conf"
# start-up reads the whole store once (the group index): wait for it
KAASD_SOCKET=$D/kaasd.sock
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
KAASD_PID=$!
echo "$KAASD_PID" >"$D/kaasd.pid"
KS_KAASD_DIRS="$KS_KAASD_DIRS $D"
answers() { $VL -t 10 "$KAASD_SOCKET" org.varlink.service.GetInfo >/dev/null 2>&1; }
wait_for 300 answers || { echo "not ok - kaasd did not come up"; cat "$D/kaasd.log"; exit 99; }
SOCK=$KAASD_SOCKET

# the module with its default timeout (2 s), unless a call says otherwise
nssw() {
    env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="$NSSW_ASAN_OPTIONS" NSS_WRAPPER_PASSWD="$T/passwd" \
        NSS_WRAPPER_GROUP="$T/group" NSS_WRAPPER_MODULE_SO_PATH="$MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=kaas \
        KAAS_SOCKET="$SOCK" ${NSS_TIMEOUT_MS:+KAAS_NSS_TIMEOUT_MS=$NSS_TIMEOUT_MS} "$@"
}
probe() { env KAAS_SOCKET="$SOCK" ${NSS_TIMEOUT_MS:+KAAS_NSS_TIMEOUT_MS=$NSS_TIMEOUT_MS} "$PROBE" "$MODULE" "$@"; }
field() { echo "$1" | cut -d: -f"$2"; }
same() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  '$2'"; echo "#   want: '$3'"; fi
}
# members of a group line, counted
n_members() { local m; m=$(field "$1" 4); [ -z "$m" ] && echo 0 || echo "$m" | tr ',' '\n' | wc -l; }

LAST=$(printf 'bench%06u' $((N - 1)))
pw=$(nssw getent passwd "$LAST")
same "getent passwd $LAST" "$(field "$pw" 1):$(field "$pw" 5)" "$LAST:$LAST"
UID_LAST=$(field "$pw" 3)

# ------------------------------------------------------------ groups

g=$(nssw getent group "$LAST")
same "getent group $LAST: its private group, gid = uid, no members" "$g" "$LAST:x:$UID_LAST:"
g=$(nssw getent group "$UID_LAST")
same "getent group $UID_LAST: the same group by gid" "$g" "$LAST:x:$UID_LAST:"

g=$(NSS_TIMEOUT_MS=60000 nssw getent group kaas-developer)
same "getent group kaas-developer: every user a member" "$(n_members "$g")" "$N"
members=$(field "$g" 4 | tr ',' '\n')
if grep -qx "$LAST" <<<"$members" && grep -qx bench000000 <<<"$members"; then
    ok "getent group kaas-developer lists $LAST and bench000000"
else
    not_ok "getent group kaas-developer lists $LAST and bench000000"
fi
DEV_GID=$(field "$g" 3)
# the module reads the entry straight from the reply's text: a few
# allocations (the connection, its buffers), not one or more per member
# as a JSON tree of the reply took
out=$(env KAAS_SOCKET="$SOCK" KAAS_NSS_TIMEOUT_MS=60000 "$ALLOCS" "$MODULE" kaas-developer $((64 * 1024 * 1024)))
case $out in
SKIP*) ok "# SKIP allocations not counted under AddressSanitizer" ;;
*) check "getgrnam kaas-developer: $N members in under 100 allocations ($out)" \
       sh -c 'echo "$1" | awk -v n="$2" '\''$1 == "SUCCESS" && $3 == "members=" n { split($2, a, "="); exit !(a[2] < 100) } { exit 1 }'\'' ' _ "$out" "$N" ;;
esac
# the reply kept for the group (and sent again to glibc's retries) is
# the group's until a member leaves: then the next lookup lists N - 1
g=$(NSS_TIMEOUT_MS=60000 nssw getent group "$DEV_GID")
same "getent group $DEV_GID: kaas-developer again, every user a member" "$(field "$g" 1):$(n_members "$g")" \
    "kaas-developer:$N"
GONE=$(printf 'bench%06u' $((N / 2)))
r=$($VL -t 30 "$SOCK" io.kaas.Admin.InvalidateUser "{\"user\": \"$GONE\"}" 2>&1)
check "$GONE dropped from the identity cache (${r:0:80})" jt "$r" "d['parameters']['removed'] >= 1"
g=$(NSS_TIMEOUT_MS=60000 nssw getent group kaas-developer)
members=$(field "$g" 4 | tr ',' '\n')
same "getent group kaas-developer after $GONE left the cache: N - 1 members" "$(n_members "$g")" "$((N - 1))"
if grep -qx "$GONE" <<<"$members"; then
    not_ok "getent group kaas-developer no longer lists $GONE"
else
    ok "getent group kaas-developer no longer lists $GONE"
fi
# asked with the longest reply the caller takes, kaasd answers a longer
# one with its size instead of sending it
r=$($VL -t 30 "$SOCK" io.kaas.Nss.GetGroupByName '{"name": "kaas-developer", "max_size": 16384}' 2>&1)
check "GetGroupByName kaas-developer, max_size 16384: TooLarge with the reply's size (${r:0:80})" \
    jt "$r" "d.get('error') == 'io.kaas.Nss.TooLarge' and d['parameters']['size'] > $N * 10"
r=$($VL -t 30 "$SOCK" io.kaas.Nss.GetGroupByGid "{\"gid\": $UID_LAST, \"max_size\": 16384}" 2>&1)
check "GetGroupByGid $UID_LAST, max_size 16384: the private group, which fits (${r:0:60})" \
    jt "$r" "d['parameters']['group']['name'] == '$LAST'"
# a buffer too small is ERANGE (TRYAGAIN), which glibc answers with a larger one
out=$(NSS_TIMEOUT_MS=60000 probe getgrgid "$DEV_GID")
check "getgrgid of kaas-developer into 16 KiB: ERANGE, not a failure (${out:0:60})" \
    sh -c 'echo "$1" | grep -q "^TRYAGAIN errno=Numerical result out of range"' _ "$out"

# id: initgroups, then every group by gid, as id(1) does
out=$(probe initgroups "$LAST")
check "initgroups $LAST within the module's timeout (${out:0:80})" sh -c 'echo "$1" | grep -q "^SUCCESS"' _ "$out"
gids=$(echo "$out" | sed -n 's/.* gids=//p' | tr ',' ' ')
names=
for gid in $gids; do
    g=$(NSS_TIMEOUT_MS=60000 nssw getent group "$gid")
    names="$names $(field "$g" 1)"
done
same "id $LAST: its groups by name" "$(echo $names | tr ' ' '\n' | sort | tr '\n' ' ')" \
    "kaas-developer kaas-k8s-viewers kaas-member kaas-reader "

# ------------------------------------------------------------ storm

STOP=$T/stop
storm() {
    local i=$1 first=$T/storm.$1
    while [ ! -e "$STOP" ]; do
        nssw getent group "$(printf 'bench%06u' $((i % N)))" >/dev/null
        probe initgroups "$(printf 'bench%06u' $(((i * 7) % N)))" >/dev/null
        NSS_TIMEOUT_MS=60000 nssw getent group kaas-member >/dev/null
        : >"$first"
        i=$((i + 1))
    done
}
storm 1 & S1=$!
storm 5000 & S2=$!
storm 9000 & S3=$!
# every storm has gone round once: it is in full swing
storm_started() { [ -e "$T/storm.1" ] && [ -e "$T/storm.5000" ] && [ -e "$T/storm.9000" ]; }
wait_for 120 storm_started
answered=0
for k in 1 2 3 4 5; do
    r=$($VL -t 10 "$SOCK" io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}" 2>&1)
    if [ "$(j "$r" "d['parameters']['identity']['username']" 2>/dev/null | tr -d '"')" = "$TOKEN_USER" ]; then
        answered=$((answered + 1))
    else
        echo "#   got: ${r:0:300}"
    fi
    out=$(probe getgrnam "$LAST")
    echo "$out" | grep -q "^SUCCESS" || { answered=$((answered - 1)); echo "#   getgrnam $LAST: $out"; }
done
same "during a storm of group lookups: Validate and private-group lookups answered (5 rounds)" "$answered" 5
touch "$STOP"
wait $S1 $S2 $S3

# ------------------------------------------------------------ the cap

sed -i 's/^\[nss\]$/[nss]\nmax_group_members = 1000/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
capped() { [ "$(n_members "$(NSS_TIMEOUT_MS=60000 nssw getent group kaas-developer)")" = 1000 ]; }
check "max_group_members = 1000 (after SIGHUP): getent group kaas-developer lists 1000 members" wait_for 60 capped
g=$(nssw getent group "$LAST")
same "the cap leaves private groups alone" "$g" "$LAST:x:$UID_LAST:"
out=$(probe initgroups "$LAST")
same "the cap leaves initgroups whole: 4 role groups" "$(echo "$out" | sed -n 's/.* gids=//p' | tr ',' '\n' | wc -l)" 4

# SSSD's ignore_group_members: the group with its name and gid, no member
dev_gid=$(field "$(NSS_TIMEOUT_MS=60000 nssw getent group kaas-developer)" 3)
sed -i 's/^max_group_members = 1000$/max_group_members = 1000\nignore_group_members = yes/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
ignored() { [ "$(NSS_TIMEOUT_MS=60000 nssw getent group kaas-developer)" = "kaas-developer:x:$dev_gid:" ]; }
check "ignore_group_members = yes (after SIGHUP): getent group kaas-developer lists no member" wait_for 60 ignored
out=$(probe initgroups "$LAST")
same "and leaves initgroups whole: 4 role groups" "$(echo "$out" | sed -n 's/.* gids=//p' | tr ',' '\n' | wc -l)" 4
same "and getgrgid of the role agrees" "$(nssw getent group "$dev_gid")" "kaas-developer:x:$dev_gid:"
sed -i '/^ignore_group_members = yes$/d' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
check "ignore_group_members removed again: the cap of 1000 is back" wait_for 60 capped

# ------------------------------------------------------------ clients gone

# kaasd stopped: clients connect (the listen queue takes them), ask, give
# up after 500 ms and close. kaasd, continued, must drop their questions.
before=$(grep -c "call dropped: the client closed its socket" "$D/kaasd.log")
sed -i 's/^log_level = info$/log_level = debug/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
debug_on() { [ "$(grep -c "configuration reloaded" "$D/kaasd.log")" -ge 2 ]; }
wait_for 30 debug_on
kill -STOP "$KAASD_PID"
# (a user's private group: a role group would be read from its file,
# without asking kaasd, as the next check shows)
for i in 1 2 3 4 5 6 7 8; do
    NSS_TIMEOUT_MS=500 probe getgrnam "$LAST" >/dev/null &
done
for p in $(jobs -rp); do [ "$p" = "$KAASD_PID" ] || wait "$p"; done
from_file=$(NSS_TIMEOUT_MS=500 nssw getent group kaas-developer)
kill -CONT "$KAASD_PID"
check "kaasd stopped: kaas-developer still answers, its 1000 members, from the file kaasd left" \
    sh -c 'echo "$1" | grep -q "^kaas-developer:x:$2:" && [ "$3" = 1000 ]' _ "$from_file" "$dev_gid" \
    "$(n_members "$from_file")"
dropped() { [ $(($(grep -c "call dropped: the client closed its socket" "$D/kaasd.log") - before)) -ge 8 ]; }
check "questions of clients that gave up are dropped, not answered late" wait_for 60 dropped
check "kaasd answers after that" answers

kaasd_stop "$D"
check_done
