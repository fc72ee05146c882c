#!/bin/bash
# libnss_kaas end to end: getent, id and small C programs resolve Keystone
# users and roles through nss_wrapper, the module from the build tree, a
# real kaasd and a real Keystone. Nothing touches /etc: nss_wrapper and
# kaasd read test copies of passwd and group. Each check is one
# "ok"/"not ok" line; any "not ok" fails the test.
#
# What it shows: names, numbers and memberships (getent passwd/group,
# id, getent initgroups); default-domain vs name@domain users; disabled
# users; names kaas refuses; ERANGE handling with growing buffers (a
# group far larger than the buffer refused unread); local
# names and ids never served (and local ids kept from assignment); a
# forced uid collision resolved and stable across a restart; kaasd
# stopped (UNAVAIL at once) and stalled (UNAVAIL within the timeout, and
# a local user's groups never asked of it);
# enumeration off; the bypass; io.systemd.UserDatabase over plain
# varlink; no leak in the module under valgrind. Role groups carry the
# default prefix "kaas-"; no group with a privileged name (the bootstrap
# user and role "admin"), no two roles under one name, no private group
# under a role group's name; ranges overlapping subordinate ids refused;
# stored ids inside subordinate ranges (an upgraded range) warned about,
# counted in Admin.Status, and clear again once the range is moved.
# Keystone is private: this test adds a role and a user to it.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
MODULE=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
PROBE=$top_builddir/tests/integration/nss_probe
ERANGE=$top_builddir/tests/integration/nss_erange
# same DESC GOT WANT
same() {
    if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1"; echo "#   got:  '$2'"; echo "#   want: '$3'"; fi
}
kscount() { grep -c -F "$1" "$KEYSTONE_LOG" || true; }
# fails COMMAND...: passes when COMMAND fails (shell functions allowed)
fails() { ! "$@" >/dev/null 2>&1; }
# prints PATTERN COMMAND...: passes when COMMAND's output matches PATTERN
prints() { local p=$1; shift; "$@" 2>/dev/null | grep -e "$p" >/dev/null; }

[ -x "$MODULE" ] || { echo "not ok - $MODULE not built"; exit 99; }
NSSW=
for d in $(pkg-config --variable=libdir nss_wrapper 2>/dev/null) /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib \
         /usr/local/lib; do
    [ -f "$d/libnss_wrapper.so" ] && { NSSW=$d/libnss_wrapper.so; break; }
done
[ -n "$NSSW" ] || { echo "SKIP: libnss_wrapper.so not found (apt-get install libnss-wrapper)"; exit 77; }
# An AddressSanitizer build of the module cannot load into an
# uninstrumented getent unless the ASan runtime comes first.
PRELOAD=$NSSW
ASAN_BUILD=no
NSSW_ASAN_OPTIONS=${ASAN_OPTIONS:-}
if ldd "$MODULE" | grep libasan >/dev/null; then
    ASAN_BUILD=yes
    PRELOAD="$(ldd "$MODULE" | awk '/libasan/ { print $3 }') $NSSW"
    # leaks of getent and id themselves are none of ours
    NSSW_ASAN_OPTIONS=detect_leaks=0
    echo "# sanitizer build: preloading the ASan runtime before nss_wrapper"
fi

ks_env_setup --private
T=$KS_TMP/nss
mkdir -p "$T"

# the default ranges (kaasd.conf(5))
UID_MIN=1879048192 UID_MAX=1946157055 GID_MIN=1946157056 GID_MAX=2013265919
# uid_min + FNV-1a-64(ID) mod range size: where a user goes when it is free
preferred() {
    $PY -c '
import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(int(sys.argv[2]) + h % (int(sys.argv[3]) - int(sys.argv[2]) + 1))' "$1" "$2" "$3"
}
ERIN_PREFERRED=$(preferred "$ERIN_ID" $UID_MIN $UID_MAX)

# the local files: erin's preferred uid belongs to a local service account
me=$(id -un)
cat >"$T/passwd" <<EOF
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
$me:x:$(id -u):$(id -g)::/tmp:/bin/sh
svc:x:$ERIN_PREFERRED:$ERIN_PREFERRED:local service:/:/usr/sbin/nologin
EOF
cat >"$T/group" <<EOF
root:x:0:
nogroup:x:65534:
$(id -gn):x:$(id -g):
svc:x:$ERIN_PREFERRED:
EOF

KAASD_CONF_TAIL="
[nss]
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid
subgid_file = $T/subgid
userdb_socket = $KS_TMP/kaasd/io.kaas"
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
UDB=$D/io.kaas

nssw() {
    env LD_PRELOAD="$PRELOAD" ASAN_OPTIONS="$NSSW_ASAN_OPTIONS" NSS_WRAPPER_PASSWD="$T/passwd" NSS_WRAPPER_GROUP="$T/group" \
        NSS_WRAPPER_MODULE_SO_PATH="$MODULE" NSS_WRAPPER_MODULE_FN_PREFIX=kaas \
        KAAS_SOCKET="$SOCK" KAAS_NSS_TIMEOUT_MS="${NSS_TIMEOUT_MS:-30000}" "$@"
}
# nss_probe is built like the module (instrumented too in a sanitizer build)
probe() {
    env KAAS_SOCKET="$SOCK" KAAS_NSS_TIMEOUT_MS="${NSS_TIMEOUT_MS:-30000}" "$PROBE" "$MODULE" "$@"
}
field() { echo "$1" | cut -d: -f"$2"; }

# ------------------------------------------------------------------ users

alice=$(nssw getent passwd alice)
same "getent passwd alice" "$(field "$alice" 1):$(field "$alice" 5):$(field "$alice" 6):$(field "$alice" 7)" \
    "alice:alice:/home/alice:/bin/bash"
AUID=$(field "$alice" 3)
check "alice's uid $AUID lies in $UID_MIN..$UID_MAX, her gid is her uid" \
    test "$AUID" -ge $UID_MIN -a "$AUID" -le $UID_MAX -a "$(field "$alice" 4)" = "$AUID"
same "getent passwd $AUID" "$(nssw getent passwd "$AUID")" "$alice"
same "getent group alice: her private group" "$(nssw getent group alice)" "alice:x:$AUID:"
same "getent group $AUID" "$(nssw getent group "$AUID")" "alice:x:$AUID:"

carol=$(nssw getent passwd carol)
carolp=$(nssw getent passwd carol@partners)
same "carol of the default domain is plain carol" "$(field "$carol" 1)" carol
same "carol of partners is carol@partners" "$(field "$carolp" 1):$(field "$carolp" 6)" \
    "carol@partners:/home/carol@partners"
check "the two carols have different uids" test "$(field "$carol" 3)" != "$(field "$carolp" 3)"
check "no alias: carol@Default does not resolve" fails nssw getent passwd carol@Default
check "no alias: carol@$DOMAIN_PARTNERS_ID (domain ID) does not resolve" \
    fails nssw getent passwd "carol@$DOMAIN_PARTNERS_ID"
check "system:evil is no Unix name" fails nssw getent passwd system:evil
# a KaaS token as a login name (ssh kaas_...@node): no user, and no lookup
# in Keystone, whose log would keep it
by_name_calls() { j "$($VL -t 30 "$SOCK" io.kaas.Admin.Status)" "[r['requests'] for r in d['parameters']['keystone']['requests'] if r['kind'] == 'user_by_name'][0]"; }
SHAPED=kaas_00000000000000000000000000000000000000002k8uhP
n0=$(by_name_calls)
check "a KaaS token is no user name" fails nssw getent passwd "$SHAPED"
check "nor one with a typo" fails nssw getent passwd "${SHAPED%P}Q"
r=$($VL -t 30 "$SOCK" io.kaas.Identity.GetUser "{\"name\": \"$SHAPED\", \"domain\": \"partners\"}")
check "nor is it a user to io.kaas.Identity.GetUser by name" jt "$r" "d.get('error') == 'io.kaas.Identity.UserNotFound'"
check "Keystone was not asked for any of them" [ "$(by_name_calls)" = "$n0" ]
nssw getent passwd "${SHAPED/kaas_/kaas-}" >/dev/null
check "while a name of the same length that is none is looked for there" [ "$(by_name_calls)" -gt "$n0" ]

erin=$(nssw getent passwd erin)
check "erin's preferred uid $ERIN_PREFERRED is local: she gets another ($(field "$erin" 3))" \
    test -n "$erin" -a "$(field "$erin" 3)" != "$ERIN_PREFERRED"
same "getent passwd $ERIN_PREFERRED is the local account" "$(field "$(nssw getent passwd "$ERIN_PREFERRED")" 1)" svc
out=$($VL "$SOCK" io.kaas.Nss.GetPasswdByUid "{\"uid\": $ERIN_PREFERRED}")
check "kaasd never serves a local uid" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"

# unknown names go to Keystone once, then the negative cache answers
before=$(kscount "name=nosuchuser&")
nssw getent passwd nosuchuser >/dev/null
rc=$?
nssw getent passwd nosuchuser >/dev/null
same "an unknown user is not found (getent exit 2)" "$rc" 2
same "and asked from Keystone once for two lookups" "$(( $(kscount "name=nosuchuser&") - before ))" 1

# ------------------------------------------------------------------ groups

admins=$(nssw getent group kaas-k8s-admins-alpha)
AGID=$(field "$admins" 3)
check "getent group kaas-k8s-admins-alpha: gid $AGID in $GID_MIN..$GID_MAX" \
    test "$AGID" -ge $GID_MIN -a "$AGID" -le $GID_MAX
# nss_kaas(8): a role's gid derives from "role:" and the role ID
check "its gid is the one nss_kaas(8) derives from role:<role ID>" \
    test "$AGID" = "$(preferred "role:$ROLE_K8S_ADMINS_ALPHA_ID" "$GID_MIN" "$GID_MAX")"
check "without the prefix there is no such group" fails nssw getent group k8s-admins-alpha
check "alice is a member of kaas-k8s-admins-alpha" sh -c 'echo "$1" | cut -d: -f4 | tr , "\n" | grep -qx alice' _ "$admins"
same "getent group $AGID" "$(nssw getent group "$AGID")" "$admins"
out=$(probe initgroups alice)
echo "# $out"
check "initgroups_dyn (what glibc calls) adds alice's role gids, $AGID among them" \
    sh -c 'echo "$1" | grep -q "^SUCCESS" && echo "$1" | sed -n "s/.*gids=//p" | tr , "\n" | grep -qx "$2"' _ "$out" "$AGID"
RGID=$(field "$(nssw getent group kaas-reader)" 3)
out=$(probe initgroups carol@partners)
BGID=$(field "$(nssw getent group kaas-k8s-admins-beta)" 3)
check "carol@partners: k8s-admins-beta ($BGID), not k8s-admins-alpha" \
    sh -c 'g=$(echo "$1" | sed -n "s/.*gids=//p" | tr , "\n"); echo "$g" | grep -qx "$2" && ! echo "$g" | grep -qx "$3"' \
    _ "$out" "$BGID" "$AGID"

# ------------------------------------------------------------------ names kaas never gives a group

# Keystone's bootstrap user is "admin" and holds the role "admin": stock
# sudoers on Ubuntu gives the group admin root
adm=$(nssw getent passwd "$ADMIN_NAME")
ADM_UID=$(field "$adm" 3)
check "the Keystone user $ADMIN_NAME resolves (uid $ADM_UID)" test "$ADMIN_NAME" = admin -a -n "$ADM_UID"
check "but brings no group admin with it: getent group admin fails" fails nssw getent group admin
check "... nor under its gid $ADM_UID" fails nssw getent group "$ADM_UID"
out=$($VL "$SOCK" io.kaas.Nss.GetGroupByGid "{\"gid\": $ADM_UID}")
check "... io.kaas.Nss says NotFound" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
kadm=$(nssw getent group kaas-admin)
KADM_GID=$(field "$kadm" 3)
check "the role admin is the group kaas-admin ($KADM_GID), admin a member" \
    sh -c 'echo "$1" | cut -d: -f4 | tr , "\n" | grep -qx admin' _ "$kadm"
out=$($VL "$SOCK" io.kaas.Nss.GetGroupByName '{"name": "Admin"}')
check "nor a case variant: Admin is no group" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"

# a name that is not UTF-8 is nobody's: not found at once, not out of memory
for f in getpwnam getgrnam initgroups; do
    out=$(probe $f $'\xffalice')
    check "$f of a name that is not UTF-8: NOTFOUND, errno ENOENT ($out)" \
        sh -c 'echo "$1" | grep -q "^NOTFOUND errno=No such file or directory"' _ "$out"
done

out=$(NSS_PROBE_THREADS=8 probe getpwnam alice 25)
same "8 threads looking alice up at once, 25 times each: all succeed" "$out" "threads=8 calls=200 success=200"

# ------------------------------------------------------------------ enumeration and bypass

out=$(probe getpwent x)
check "enumeration is off: getpwent lists nothing ($out)" sh -c 'echo "$1" | grep -q "^entries=0 SUCCESS"' _ "$out"
out=$(probe getgrent x)
check "enumeration is off: getgrent lists nothing" sh -c 'echo "$1" | grep -q "^entries=0 SUCCESS"' _ "$out"
check "nothing but the local files in getent passwd" fails prints "^alice:" nssw getent passwd
out=$(KAAS_NSS_BYPASS=1 probe getpwnam alice)
check "KAAS_NSS_BYPASS=1: UNAVAIL ($out)" sh -c 'echo "$1" | grep -q "^UNAVAIL"' _ "$out"

# nss_wrapper's getgrouplist() (id, getent initgroups) reads every group
# with getgrent() instead of calling initgroups_dyn: it needs enumeration.
sed -i 's/^\[nss\]$/[nss]\nenumerate = yes/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
enumerates() { prints "^entries=[1-9]" probe getgrent x; }
wait_for 60 enumerates
out=$(probe getpwent x)
check "enumeration on (after SIGHUP): getpwent lists the cached users ($out)" \
    sh -c 'echo "$1" | grep -q "^entries=[1-9][0-9]* SUCCESS"' _ "$out"
idout=$(nssw id alice)
echo "# $idout"
for g in kaas-k8s-admins-alpha kaas-developer kaas-member kaas-reader; do
    check "id alice shows $g" sh -c 'echo "$1" | grep -q "($2)"' _ "$idout" "$g"
done
check "id alice: uid and gid are hers" sh -c 'echo "$1" | grep -q "^uid=$2(alice) gid=$2(alice)"' _ "$idout" "$AUID"
init=$(nssw getent initgroups alice)
echo "# initgroups: $init"
check "getent initgroups alice lists $AGID" sh -c 'echo "$1" | tr " " "\n" | grep -qx "$2"' _ "$init" "$AGID"
cpid=$(nssw id carol@partners)
check "id carol@partners: k8s-admins-beta and developer, not k8s-admins-alpha" \
    sh -c 'echo "$1" | grep -q "(kaas-k8s-admins-beta)" && echo "$1" | grep -q "(kaas-developer)" && ! echo "$1" | grep -q "(kaas-k8s-admins-alpha)"' _ "$cpid"

# a disabled user resolves (files keep their owner) but holds no role
dave=$(nssw getent passwd dave)
check "disabled dave resolves" test "$(field "$dave" 1)" = dave
same "but has no role groups" "$(probe initgroups dave | sed -n 's/.*gids=//p')" ""
member=$(nssw getent group kaas-member)
check "and is no member of the member group" sh -c '! echo "$1" | cut -d: -f4 | tr , "\n" | grep -qx dave' _ "$member"

# ------------------------------------------------------------------ ERANGE

out=$(nssw "$ERANGE" passwd alice)
echo "# $out"
check "getpwnam_r with growing buffers: ERANGE until it fits, then alice" \
    sh -c 'echo "$1" | grep -Eq "^eranges=[1-9][0-9]* size=[0-9]+ alice:$2:$2:"' _ "$out" "$AUID"
out=$(nssw "$ERANGE" group kaas-k8s-admins-alpha)
echo "# $out"
check "getgrnam_r with growing buffers: ERANGE until it fits, then the group" \
    sh -c 'echo "$1" | grep -Eq "^eranges=[1-9][0-9]* size=[0-9]+ kaas-k8s-admins-alpha:$2:.*alice"' _ "$out" "$AGID"
out=$(probe getpwnam alice)
check "the module answers SUCCESS directly" sh -c 'echo "$1" | grep -q "^SUCCESS .* alice:$2:"' _ "$out" "$AUID"

# a kept group reply is sent from where kaasd keeps it: on one connection,
# calls pipelined behind it and in front of it are still answered in order
out=$($PY - "$SOCK" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(30)
s.connect(sys.argv[1])
calls = [("io.kaas.Nss.GetPasswdByName", {"name": "alice"}),
         ("io.kaas.Nss.GetGroupByName", {"name": "kaas-k8s-admins-alpha"}),
         ("io.kaas.Nss.GetPasswdByName", {"name": "bob"}),
         ("io.kaas.Nss.GetGroupByName", {"name": "kaas-k8s-admins-alpha"}),
         ("io.kaas.Nss.GetPasswdByName", {"name": "alice"})]
s.sendall(b"".join(json.dumps({"method": m, "parameters": p}).encode() + b"\0" for m, p in calls))
buf, got = b"", []
while len(got) < len(calls):
    d = s.recv(65536)
    if not d:
        break
    buf += d
    while b"\0" in buf:
        msg, buf = buf.split(b"\0", 1)
        p = json.loads(msg)["parameters"]
        got.append(p["passwd"]["name"] if "passwd" in p else p["group"]["name"])
print(" ".join(got))
EOF
)
same "pipelined on one connection: passwd, kept group, passwd, kept group, passwd answered in order" "$out" \
    "alice kaas-k8s-admins-alpha bob kaas-k8s-admins-alpha alice"

# A group far larger than the caller's buffer: the module refuses its
# reply unread (ERANGE) rather than receive and parse 2 MB at each of
# glibc's buffer doublings. A server of its own (the path from
# KAAS_SOCKET) sends the entry of 150,000 members to every call and notes
# whether the client took the whole reply or closed before.
BIG=$T/big.sock
$PY - "$BIG" "$T/big.log" <<'EOF' &
import json, socket, sys
path, log = sys.argv[1], sys.argv[2]
members = ["user%07d" % i for i in range(150000)]
reply = json.dumps({"parameters": {"group": {"name": "big", "gid": 5000, "members": members}}},
                   separators=(",", ":")).encode() + b"\0"
s = socket.socket(socket.AF_UNIX)
s.bind(path)
s.listen(8)
s.settimeout(120)  # gone by itself once the test stops calling
while True:
    try:
        c, _ = s.accept()
    except socket.timeout:
        sys.exit(0)
    c.settimeout(60)
    try:
        while not c.recv(65536).endswith(b"\0"):
            pass
        c.sendall(reply)
        # the client has it all once it closes: nothing is left unread
        while c.recv(65536):
            pass
        outcome = "whole"
    except (BrokenPipeError, ConnectionResetError):
        outcome = "cut"
    c.close()
    with open(log, "a") as f:
        f.write(outcome + "\n")
EOF
BIG_PID=$!
big_up() { [ -S "$BIG" ]; }
wait_for 30 big_up
out=$(SOCK=$BIG probe getgrnam big)
check "a 150,000-member group into 16 KiB: ERANGE (${out:0:60})" \
    sh -c 'echo "$1" | grep -q "^TRYAGAIN errno=Numerical result out of range"' _ "$out"
check "... its reply refused before it was read whole" [ "$(cat "$T/big.log" 2>/dev/null)" = cut ]
: >"$T/big.log"
g=$(SOCK=$BIG nssw getent group big)
same "getent group big: glibc grows its buffer until all 150,000 members fit" \
    "$(echo "$g" | cut -d: -f1,3):$(echo "$g" | cut -d: -f4 | tr , '\n' | wc -l)" "big:5000:150000"
whole=$(grep -c whole "$T/big.log")
cut=$(grep -c cut "$T/big.log")
check "... taking at most two replies whole, the others refused unread ($whole whole, $cut cut)" \
    sh -c '[ "$1" -ge 1 ] && [ "$1" -le 2 ] && [ "$2" -ge 5 ]' _ "$whole" "$cut"
kill "$BIG_PID"
wait "$BIG_PID" 2>/dev/null

# ------------------------------------------------------------------ io.systemd.UserDatabase

out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"userName": "alice", "service": "io.kaas"}')
check "userdb: alice's record" jt "$out" "d['parameters']['record']['userName'] == 'alice' and d['parameters']['record']['uid'] == $AUID and d['parameters']['record']['gid'] == $AUID and d['parameters']['record']['homeDirectory'] == '/home/alice' and d['parameters']['record']['disposition'] == 'regular' and d['parameters']['record']['service'] == 'io.kaas' and d['parameters']['incomplete'] is False"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord "{\"uid\": $AUID, \"service\": \"io.kaas\"}")
check "userdb: by uid" jt "$out" "d['parameters']['record']['userName'] == 'alice'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"userName": "dave", "service": "io.kaas"}')
check "userdb: dave is locked" jt "$out" "d['parameters']['record']['locked'] is True"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord "{\"userName\": \"alice\", \"uid\": $ERIN_PREFERRED, \"service\": \"io.kaas\"}")
check "userdb: name and uid of different users: ConflictingRecordFound" \
    jt "$out" "d.get('error') == 'io.systemd.UserDatabase.ConflictingRecordFound'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"userName": "alice", "uidMax": 1000, "service": "io.kaas"}')
check "userdb: a filter that does not match: NonMatchingRecordFound" \
    jt "$out" "d.get('error') == 'io.systemd.UserDatabase.NonMatchingRecordFound'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"userName": "nosuchuser", "service": "io.kaas"}')
check "userdb: NoRecordFound" jt "$out" "d.get('error') == 'io.systemd.UserDatabase.NoRecordFound'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"userName": "alice", "service": "io.systemd.Home"}')
check "userdb: BadService" jt "$out" "d.get('error') == 'io.systemd.UserDatabase.BadService'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetUserRecord '{"service": "io.kaas"}')
check "userdb: enumeration (on here) without more: ExpectedMore" \
    jt "$out" "d.get('error') == 'org.varlink.service.ExpectedMore'"
out=$($VL "$UDB" io.systemd.UserDatabase.GetGroupRecord '{"groupName": "kaas-k8s-admins-alpha", "service": "io.kaas"}')
check "userdb: the group record of kaas-k8s-admins-alpha" \
    jt "$out" "d['parameters']['record']['gid'] == $AGID and 'alice' in d['parameters']['record']['members']"
out=$($VL "$UDB" io.systemd.UserDatabase.GetMemberships '{"userName": "alice", "groupName": "kaas-k8s-admins-alpha", "service": "io.kaas"}')
check "userdb: GetMemberships of alice in kaas-k8s-admins-alpha" \
    jt "$out" "d['parameters'] == {'userName': 'alice', 'groupName': 'kaas-k8s-admins-alpha'}"
out=$($PY - "$UDB" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(30); s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "io.systemd.UserDatabase.GetMemberships", "more": True,
                      "parameters": {"userName": "alice", "service": "io.kaas"}}).encode() + b"\0")
buf, groups = b"", []
while True:
    while b"\0" not in buf:
        buf += s.recv(65536)
    m, buf = buf.split(b"\0", 1)
    m = json.loads(m)
    groups.append(m["parameters"]["groupName"])
    if not m.get("continues"):
        break
print(" ".join(sorted(groups)))
EOF
)
same "userdb: GetMemberships with more streams alice's groups" "$out" "kaas-developer kaas-k8s-admins-alpha kaas-member kaas-reader"
out=$($VL "$UDB" io.systemd.UserDatabase.GetMemberships '{"userName": "alice", "service": "io.kaas"}')
check "userdb: GetMemberships of all her groups without more: ExpectedMore" \
    jt "$out" "d.get('error') == 'org.varlink.service.ExpectedMore'"

# ------------------------------------------------------------------ group files

# role groups kaasd has answered are left beside its socket, and the module
# reads them before it asks (nss_kaas(8), "GROUP FILES")
GF=$(dirname "$SOCK")/groups
alpha_files() { [ -e "$GF/name.kaas-k8s-admins-alpha" ] || [ -e "$GF/gid.$AGID" ]; }
nssw getent group kaas-k8s-admins-alpha >/dev/null
check "kaasd left kaas-k8s-admins-alpha as a file under its name and gid, 0644" \
    sh -c '[ "$1/name.kaas-k8s-admins-alpha" -ef "$1/gid.$2" ] && [ "$(stat -c %a "$1/gid.$2")" = 644 ]' _ "$GF" "$AGID"
check "... holding the group's reply as kaasd sends it" \
    jt "$(tail -n +2 "$GF/gid.$AGID")" "d['parameters']['group']['gid'] == $AGID and 'alice' in d['parameters']['group']['members']"
# the header: the entry's members and the bytes of its strings (members,
# name and "x", each with its NUL), what glibc's buffer must hold
header_true() {
    python3 - "$1" <<'PY'
import json, sys
head, _, body = open(sys.argv[1]).read().partition("\n")
g = json.loads(body)["parameters"]["group"]
want = "kaas-group 1 %d %d" % (len(g["members"]), sum(len(m) + 1 for m in g["members"]) + len(g["name"]) + 1 + 2)
sys.exit(0 if head == want else print("#   got %r, want %r" % (head, want)) or 1)
PY
}
check "... after a header true to it" header_true "$GF/gid.$AGID"
kill -STOP "$KAASD_PID"
by_name=$(NSS_TIMEOUT_MS=1000 probe getgrnam kaas-k8s-admins-alpha)
by_gid=$(NSS_TIMEOUT_MS=1000 probe getgrgid "$AGID")
grown=$(NSS_TIMEOUT_MS=1000 nssw "$ERANGE" group kaas-k8s-admins-alpha)
user=$(NSS_TIMEOUT_MS=1000 probe getpwnam alice)
touch -d '-2 minutes' "$GF/gid.$AGID"   # both names: one file
old=$(NSS_TIMEOUT_MS=1000 probe getgrnam kaas-k8s-admins-alpha)
kill -CONT "$KAASD_PID"
echo "# kaasd stopped: $by_name / $by_gid / $grown / $user / $old"
check "kaasd stopped (SIGSTOP): getgrnam of the role group answered from its file" \
    sh -c 'echo "$1" | grep -Eq "^SUCCESS .* kaas-k8s-admins-alpha:$2:(.*,)?alice(,|$)"' _ "$by_name" "$AGID"
check "... and getgrgid" sh -c 'echo "$1" | grep -q "^SUCCESS .* kaas-k8s-admins-alpha:$2:"' _ "$by_gid" "$AGID"
check "... and glibc's retries with growing buffers: ERANGE until it fits" \
    sh -c 'echo "$1" | grep -Eq "^eranges=[1-9][0-9]* size=[0-9]+ kaas-k8s-admins-alpha:$2:.*alice"' _ "$grown" "$AGID"
check "... while users are still asked of kaasd (timed out)" \
    sh -c 'echo "$1" | grep -q "^UNAVAIL errno=Connection timed out"' _ "$user"
check "... and a file older than 60 s is not taken (timed out)" \
    sh -c 'echo "$1" | grep -q "^UNAVAIL errno=Connection timed out"' _ "$old"
nssw getent group kaas-k8s-admins-alpha >/dev/null
check "asked again, kaasd writes the file anew" \
    test "$(stat -c %Y "$GF/gid.$AGID")" -gt "$(($(date +%s) - 30))"
# a member leaving the identity cache changes the group: its files go at once
out=$($VL "$SOCK" io.kaas.Admin.InvalidateUser '{"user": "alice"}')
check "alice dropped from the cache ($out)" jt "$out" "d['parameters']['removed'] >= 1"
check "... and the files of her group are gone" wait_for 10 eval '! alpha_files'
nssw getent passwd alice >/dev/null
out=$(nssw getent group kaas-k8s-admins-alpha)
check "alice cached again: her group answered, with her ($out), and left as a file again" \
    sh -c 'echo "$1" | grep -Eq ":(.*,)?alice(,|$)" && [ -e "$2/name.kaas-k8s-admins-alpha" ]' _ "$out" "$GF"
# a reload that changes what a group's entry holds takes its files at once
reloads() { grep -c "configuration reloaded" "$D/kaasd.log"; }
n_reloads=$(reloads)
sed -i 's/^\[nss\]$/[nss]\nrole_group_prefix = kaasx-/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
check "a reload that renames the role groups (role_group_prefix) removes their files" \
    wait_for 10 eval '[ "$(reloads)" -gt "$n_reloads" ] && ! alpha_files'
sed -i 's/^role_group_prefix = kaasx-$/group_files = no/' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
wait_for 10 eval '[ "$(reloads)" -gt "$((n_reloads + 1))" ]'
out=$(nssw getent group kaas-k8s-admins-alpha)
check "group_files = no (after SIGHUP): the group answered ($out), no file left, nor its directory" \
    sh -c 'echo "$1" | grep -Eq ":(.*,)?alice(,|$)" && [ ! -e "$2" ]' _ "$out" "$GF"
sed -i '/^group_files = no$/d' "$D/kaasd.conf"
kill -HUP "$KAASD_PID"
wait_for 10 eval '[ "$(reloads)" -gt "$((n_reloads + 2))" ]'
nssw getent group kaas-k8s-admins-alpha >/dev/null
check "group_files back on (after SIGHUP): the group left as a file again" alpha_files

# ------------------------------------------------------------------ local names win

bob=$(nssw getent passwd bob)
BUID=$(field "$bob" 3)
check "bob is served by kaasd (uid $BUID)" test -n "$BUID"
nssw getent group kaas-k8s-admins-alpha >/dev/null
alpha_files || not_ok "fixture: the file of kaas-k8s-admins-alpha"
echo "bob:x:1500:1500:local bob:/home/bob:/bin/sh" >>"$T/passwd"
check "a change to the local passwd file: kaasd removes the group files within seconds" wait_for 30 eval '! alpha_files'
echo "kaas-reader:x:1600:" >>"$T/group"
out=$($VL "$SOCK" io.kaas.Nss.GetPasswdByName '{"name": "bob"}')
check "a local bob in the passwd file: kaasd no longer serves bob" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
out=$($VL "$SOCK" io.kaas.Nss.GetPasswdByUid "{\"uid\": $BUID}")
check "nor bob's uid $BUID" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
same "getent passwd bob is the local one" "$(nssw getent passwd bob)" "bob:x:1500:1500:local bob:/home/bob:/bin/sh"
out=$($VL "$SOCK" io.kaas.Nss.GetGroupByName '{"name": "kaas-reader"}')
check "a local group kaas-reader: kaasd no longer serves the role group kaas-reader" \
    jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
out=$($VL "$SOCK" io.kaas.Nss.GetGroupList '{"name": "alice"}')
check "and alice's groups no longer hold the role reader" jt "$out" "$RGID not in d['parameters']['gids']"
check "but the local kaas-reader group still answers" prints "^kaas-reader:x:1600:" nssw getent group kaas-reader

# ------------------------------------------------------------------ valgrind

if [ "$ASAN_BUILD" = yes ]; then
    echo "# SKIP valgrind: sanitizer build"
elif ! command -v valgrind >/dev/null 2>&1; then
    echo "# SKIP valgrind: not installed"
else
    for call in "getpwnam alice" "getpwuid $AUID" "getgrnam kaas-k8s-admins-alpha" "getgrgid $AGID" \
                "initgroups alice" "getpwnam nosuchuser"; do
        # shellcheck disable=SC2086
        if KAAS_SOCKET="$SOCK" KAAS_NSS_TIMEOUT_MS=30000 valgrind -q --leak-check=full \
            --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
            "$PROBE" "$MODULE" $call 20 >"$T/valgrind.out" 2>"$T/valgrind.err"; [ $? -ne 3 ]; then
            ok "valgrind: 20 x $call, no leak or error"
        else
            not_ok "valgrind: 20 x $call"
            head -40 "$T/valgrind.err"
        fi
    done
fi

# ------------------------------------------------------------------ kaasd stalled, then stopped

kill -STOP "$KAASD_PID"
start=$(date +%s%N)
out=$(env -u KAAS_NSS_TIMEOUT_MS KAAS_SOCKET="$SOCK" timeout 10 "$PROBE" "$MODULE" getpwnam alice)
rc=$?
elapsed=$((($(date +%s%N) - start) / 1000000))
# glibc asks every module for a user's groups, the files module's answer
# notwithstanding: for a user of the local passwd file (root), the module
# must not wait on kaasd (a 60 s timeout would outlast the 30 s bound)
local_out=$(env KAAS_SOCKET="$SOCK" KAAS_NSS_TIMEOUT_MS=60000 timeout 30 "$PROBE" "$MODULE" initgroups root)
local_rc=$?
kill -CONT "$KAASD_PID"
echo "# stalled kaasd: $out (${elapsed} ms)"
check "kaasd stalled: the lookup returns by itself, UNAVAIL (timed out)" \
    sh -c '[ "$1" != 124 ] && echo "$2" | grep -q "^UNAVAIL errno=Connection timed out"' _ "$rc" "$out"
check "kaasd stalled: the groups of a local user (root) are asked of nobody: NOTFOUND ($local_out)" \
    sh -c '[ "$1" != 124 ] && echo "$2" | grep -q "^NOTFOUND"' _ "$local_rc" "$local_out"

kaasd_stop "$D"
check "kaasd stopped: the group files went with it" test ! -e "$GF"
out=$(probe getpwnam alice)
echo "# stopped kaasd: $out"
# (no socket is ENOENT at once; a wait would have ended in ETIMEDOUT, so
# the errno says it did not wait, whatever the time on a busy machine)
check "kaasd stopped: UNAVAIL (no socket), without waiting" \
    sh -c 'echo "$1" | grep -Eq "^UNAVAIL errno=No such file or directory ms=[0-9]+$"' _ "$out"
check "getent passwd alice fails while kaasd is down" fails nssw getent passwd alice
same "local entries still resolve while kaasd is down" "$(field "$(nssw getent passwd root)" 1)" root

# ------------------------------------------------------------------ uid collisions, across a restart

# Three uids for three users: collisions are certain to be resolved, and a
# fourth user finds the range full.
KAASD_CONF_TAIL="
[nss]
uid_min = 200000
uid_max = 200002
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid
subgid_file = $T/subgid"
D2=$KS_TMP/kaasd-tiny
kaasd_write_conf "$D2"
kaasd_start "$D2" || exit 99
SOCK2=$KAASD_SOCKET
uids() {
    local u out
    for u in alice carol erin; do
        out=$($VL -t 30 "$SOCK2" io.kaas.Nss.GetPasswdByName "{\"name\": \"$u\"}")
        j "$out" "d['parameters']['passwd']['uid'] if 'parameters' in d and 'passwd' in d['parameters'] else d"
    done | tr '\n' ' '
}
first=$(uids)
echo "# uids in 200000..200002: $first"
same "three users, three different uids in a range of three" \
    "$(echo "$first" | tr ' ' '\n' | grep -E '^20000[0-2]$' | sort -u | wc -l)" 3
out=$($VL -t 30 "$SOCK2" io.kaas.Nss.GetPasswdByName '{"name": "frank"}')
check "a fourth user: the range is full, said so" \
    jt "$out" "d.get('error') == 'io.kaas.Nss.Unavailable' and 'uid' in d['parameters']['reason']"
out=$($VL "$SOCK2" io.systemd.UserDatabase.GetUserRecord '{"service": "io.kaas"}')
check "userdb with enumeration off: EnumerationNotSupported" \
    jt "$out" "d.get('error') == 'io.systemd.UserDatabase.EnumerationNotSupported'"
kaasd_stop "$D2"
kaasd_start "$D2" || exit 99
SOCK2=$KAASD_SOCKET
same "after a restart every user keeps its uid" "$(uids)" "$first"
kaasd_stop "$D2"

# An upgraded installation: the range is now the default one, but the
# three uids kaasd keeps (200000-200002, the old defaults' start) lie in a
# local user's subordinate uids. kaasd serves them still and says so.
printf '# as useradd wrote it\nkaasuser:200000:65536\n' >"$T/subuid-old"
: >"$T/subgid-old"
KAASD_CONF_TAIL="
[nss]
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid-old
subgid_file = $T/subgid-old"
kaasd_write_conf "$D2"
kaasd_start "$D2" || exit 99
SOCK2=$KAASD_SOCKET
same "with the default range, the users keep their stored uids" "$(uids)" "$first"
check "the start warns: 3 stored ids in subordinate ranges, per file, the first named with file and line" \
    grep -qE "warning.*3 stored ids lie in subordinate ranges \(3 in $T/subuid-old, 0 in $T/subgid-old\); first: user ID [0-9a-f]+ uid 20000[0-2] \($T/subuid-old line 2\)" "$D2/kaasd.log"
stored_in_subid() {
    param "$($VL -t 30 "$SOCK2" io.kaas.Admin.Status)" stored_ids_in_subordinate_ranges
}
same "Admin.Status counts them" "$(stored_in_subid)" 3
# the remedy kaasd.conf(5) gives: move the subordinate range, reload
printf 'kaasuser:2013265920:65536\n' >"$T/subuid-old"
kill -HUP "$KAASD_PID"
none_stored_in_subid() { [ "$(stored_in_subid)" = 0 ]; }
check "after moving the range and a reload, Admin.Status counts none" wait_for 30 none_stored_in_subid
kaasd_stop "$D2"

# ------------------------------------------------------------------ ranges and subordinate ids

# kaasd_refuses DIR PATTERN: kaasd with DIR/kaasd.conf exits at start (not
# by the timeout) and says PATTERN
kaasd_refuses() {
    timeout 60 "$top_builddir/kaasd/kaasd" -f -c "$1/kaasd.conf" >"$1/out" 2>&1
    local rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qF "$2" "$1/out" && return 0
    echo "#   exit $rc: $(tail -n 3 "$1/out")"
    return 1
}
printf '# as useradd writes it\nkaasuser:100000:65536\n' >"$T/subuid-std"
printf 'kaasuser:100000:65536\nother:1946157056:1\n' >"$T/subgid-std"
subid_conf() {
    KAASD_CONF_TAIL="
[nss]
$1
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid-std
subgid_file = $T/subgid-std"
    kaasd_write_conf "$2"
}
subid_conf "uid_min = 100000
uid_max = 199999
gid_min = 300000
gid_max = 399999" "$KS_TMP/kaasd-subuid"
check "a uid range over a subordinate uid block: kaasd refuses to start, naming file and line" \
    kaasd_refuses "$KS_TMP/kaasd-subuid" "overlaps the subordinate ids of $T/subuid-std line 2 (kaasuser:100000:65536)"
subid_conf "uid_min = 1000000000
uid_max = 1000099999" "$KS_TMP/kaasd-subgid"
check "the default gid range over a subordinate gid: refused, naming file and line" \
    kaasd_refuses "$KS_TMP/kaasd-subgid" "[nss] gid_min..gid_max ($GID_MIN..$GID_MAX) overlaps the subordinate ids of $T/subgid-std line 2"
printf 'kaasuser:100000:65536\nbroken line\n' >"$T/subgid-std"
subid_conf "" "$KS_TMP/kaasd-subbad"
check "a subordinate-id line kaasd cannot read: refused, naming file and line" \
    kaasd_refuses "$KS_TMP/kaasd-subbad" "$T/subgid-std line 2 is not"

# ------------------------------------------------------------------ role names that meet

# a second role "Developer" (carol, on demo) has the Unix name of "developer"
ADM_TOKEN=$(ks_admin_token)
ks_api() {
    curl -fsS --max-time 30 -X "$1" -H "X-Auth-Token: $ADM_TOKEN" -H 'Content-Type: application/json' \
        ${3:+-d "$3"} "$KEYSTONE_AUTH_URL$2"
}
DEV2_ID=$(j "$(ks_api POST /roles '{"role": {"name": "Developer"}}')" "d['role']['id']" | tr -d '"')
ks_api PUT "/projects/$PROJECT_DEMO_ID/users/$CAROL_ID/roles/$DEV2_ID" >/dev/null
# and a user whose name is in the role groups' prefix
KM=$(j "$(ks_api POST /users '{"user": {"name": "kaas-member", "domain_id": "default", "enabled": true}}')" \
    "d['user']['id']" | tr -d '"')
check "fixture: role Developer for carol, user kaas-member" test -n "$DEV2_ID" -a -n "$KM"
KAASD_CONF_TAIL="
[nss]
passwd_file = $T/passwd
group_file = $T/group
subuid_file = $T/subuid
subgid_file = $T/subgid"
D3=$KS_TMP/kaasd-names
kaasd_write_conf "$D3"
kaasd_start "$D3" || exit 99
SOCK3=$KAASD_SOCKET
nss3() { $VL -t 30 "$SOCK3" "io.kaas.Nss.$1" "$2"; }
for u in alice carol erin kaas-member; do nss3 GetPasswdByName "{\"name\": \"$u\"}" >/dev/null; done
out=$(nss3 GetGroupByName '{"name": "kaas-developer"}')
check "developer and Developer, one Unix name: kaas-developer is no group" \
    jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
out=$(nss3 GetGroupByName '{"name": "kaas-member"}')
MGID=$(j "$out" "d['parameters']['group']['gid']")
check "kaas-member is the role member ($MGID), not the user's private group" \
    jt "$out" "d['parameters']['group']['gid'] >= $GID_MIN and 'alice' in d['parameters']['group']['members']"
KMUID=$(j "$(nss3 GetPasswdByName '{"name": "kaas-member"}')" "d['parameters']['passwd']['uid']")
out=$(nss3 GetGroupByGid "{\"gid\": $KMUID}")
check "the user kaas-member (uid $KMUID) has no private group of a role group's name" \
    jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
names_of() {
    local g
    for g in $(j "$(nss3 GetGroupList "{\"name\": \"$1\"}")" "' '.join(map(str, d['parameters']['gids']))" | tr -d '"'); do
        j "$(nss3 GetGroupByGid "{\"gid\": $g}")" "d['parameters']['group']['name'] if 'parameters' in d else d['error']"
    done | tr -d '"' | sort | tr '\n' ' '
}
# (kaas-reader is a local group by now)
same "alice's groups: no kaas-developer among them" "$(names_of alice)" "kaas-k8s-admins-alpha kaas-member "
same "carol's groups: no kaas-developer either" "$(names_of carol)" "kaas-member "
kaasd_stop "$D3"

# without a prefix: the role admin is refused, developer still meets Developer
KAASD_CONF_TAIL="$KAASD_CONF_TAIL
role_group_prefix ="
D4=$KS_TMP/kaasd-noprefix
kaasd_write_conf "$D4"
kaasd_start "$D4" || exit 99
SOCK3=$KAASD_SOCKET
for u in admin alice carol; do nss3 GetPasswdByName "{\"name\": \"$u\"}" >/dev/null; done
for g in admin Admin developer; do
    out=$(nss3 GetGroupByName "{\"name\": \"$g\"}")
    check "role_group_prefix empty: no group $g" jt "$out" "d.get('error') == 'io.kaas.Nss.NotFound'"
done
out=$(nss3 GetGroupByName '{"name": "member"}')
check "role_group_prefix empty: the role member is the group member" \
    jt "$out" "'alice' in d['parameters']['group']['members']"
same "the user admin's groups hold no admin" "$(names_of admin | tr ' ' '\n' | grep -cx admin)" 0
kaasd_stop "$D4"

check_done
