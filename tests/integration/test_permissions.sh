#!/bin/bash
# The permission table of kaasd/methods.c, method by method, for four
# local callers told apart only by their kernel credentials
# (SO_PEERCRED, SO_PEERGROUPS):
#
#   root       uid 0
#   validator  uid 65534, primary group nogroup, supplementary group
#              'users' (kaasd's validator_group here)
#   admin      uid 65534, primary group 'staff' (kaasd's admin_group here)
#   ordinary   uid 65534, group nogroup, no supplementary group
#
# Existing system groups stand in for the two configured groups, so
# nothing is written to /etc; setpriv gives each client its credentials.
# The methods are enumerated from kaasd itself (GetInfo and
# GetInterfaceDescription): a method without a row in TABLE below fails
# the test, so a new method cannot arrive without a decision about who
# may call it. Expected, by access class:
#
#   anyone     every caller gets the same answer, never PermissionDenied
#   validator  root and the validator group get the same answer, not
#              PermissionDenied; the others exactly
#              org.varlink.service.PermissionDenied
#   admin      the same with root and the admin group
#   frontend   the same with root and the frontend group
#   user       every caller gets past the access check; without
#              credentials the validator and the ordinary caller get
#              io.kaas.Token.CredentialsRequired (not PermissionDenied),
#              while root and the admin group, who need none to
#              administer, get neither (Create always wants them)
#
# No Keystone is needed: the probes stop before any Keystone call.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/check.sh"

if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to run clients under other credentials"
    exit 77
fi
command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) is not installed"; exit 77; }
VALIDATOR_GROUP=users
ADMIN_GROUP=staff
FRONTEND_GROUP=src
VALIDATOR_GID=$(getent group "$VALIDATOR_GROUP" | cut -d: -f3)
ADMIN_GID=$(getent group "$ADMIN_GROUP" | cut -d: -f3)
FRONTEND_GID=$(getent group "$FRONTEND_GROUP" | cut -d: -f3)
NOGROUP_GID=$(getent group nogroup | cut -d: -f3)
if [ -z "$VALIDATOR_GID" ] || [ -z "$ADMIN_GID" ] || [ -z "$FRONTEND_GID" ] || [ -z "$NOGROUP_GID" ]; then
    echo "SKIP: groups $VALIDATOR_GROUP, $ADMIN_GROUP, $FRONTEND_GROUP and nogroup must exist"
    exit 77
fi

PY=/usr/bin/python3
T=$(mktemp -d /tmp/kaas-perm.XXXXXX)
chmod 755 "$T"
KAASD_PID=
cleanup() {
    if [ -n "$KAASD_PID" ]; then
        kill -TERM "$KAASD_PID" 2>/dev/null
        wait "$KAASD_PID" 2>/dev/null
    fi
    rm -rf "$T"
}
trap cleanup EXIT
SOCK=$T/kaasd.sock
cat >"$T/kaasd.conf" <<EOF
[kaasd]
socket = $SOCK
state_dir = $T/state
validator_group = $VALIDATOR_GROUP
admin_group = $ADMIN_GROUP
frontend_group = $FRONTEND_GROUP
log_target = stderr
log_level = debug
EOF
${KAASD_WRAPPER:-} "$top_builddir/kaasd/kaasd" -f -c "$T/kaasd.conf" >"$T/kaasd.log" 2>&1 &
KAASD_PID=$!
wait_for 30 test -S "$SOCK" || { echo "kaasd did not start:"; cat "$T/kaasd.log"; exit 99; }

# method -> access class, parameters that pass the parameter check, and
# whether to call with "more"; kept in step with kaasd/methods.c and
# docs/ARCHITECTURE.md
cat >"$T/table.json" <<'EOF'
{
  "org.varlink.service.GetInfo": ["anyone", {}],
  "org.varlink.service.GetInterfaceDescription": ["anyone", {"interface": "io.kaas.Token"}],
  "io.kaas.Ping": ["anyone", {}],
  "io.kaas.Admin.Status": ["anyone", {}],
  "io.kaas.Admin.Reload": ["admin", {}],
  "io.kaas.Admin.InvalidateUser": ["admin", {"user": "no-such-user"}],
  "io.kaas.Admin.FlushCache": ["admin", {}],
  "io.kaas.Admin.MigrateStore": ["admin", {}],
  "io.kaas.Identity.GetUser": ["anyone", {"name": "no-such-user"}],
  "io.kaas.Nss.GetPasswdByName": ["anyone", {"name": "no-such-user"}],
  "io.kaas.Nss.GetPasswdByUid": ["anyone", {"uid": 299999}],
  "io.kaas.Nss.GetGroupByName": ["anyone", {"name": "no-such-group"}],
  "io.kaas.Nss.GetGroupByGid": ["anyone", {"gid": 399999}],
  "io.kaas.Nss.GetGroupList": ["anyone", {"name": "no-such-user"}],
  "io.kaas.Nss.ListPasswd": ["anyone", {}],
  "io.kaas.Nss.ListGroups": ["anyone", {}],
  "io.systemd.UserDatabase.GetUserRecord": ["anyone", {"userName": "no-such-user", "service": "io.kaas"}],
  "io.systemd.UserDatabase.GetGroupRecord": ["anyone", {"groupName": "no-such-group", "service": "io.kaas"}],
  "io.systemd.UserDatabase.GetMemberships": ["anyone", {"userName": "no-such-user", "service": "io.kaas"}, true],
  "io.kaas.Token.Create": ["user", {"credentials": {}}],
  "io.kaas.Token.List": ["user", {"all": true}],
  "io.kaas.Token.Delete": ["user", {"ids": []}],
  "io.kaas.Token.RevokeUser": ["user", {"user": "no-such-user"}],
  "io.kaas.Token.Authenticate": ["user", {"credentials": {}}],
  "io.kaas.Token.Unauthenticate": ["frontend", {"keystone_token": ""}],
  "io.kaas.Token.Validate": ["validator", {"token": "kaas_notatoken"}]
}
EOF

# probe.py SOCKET TABLE: every method of the table on a fresh connection;
# prints {method: error name or "reply"}
cat >"$T/probe.py" <<'EOF'
import json, os, socket, sys
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import varlink
import time
path, table = sys.argv[1], json.load(open(sys.argv[2]))
out = {}
for method, row in table.items():
    call = {"method": method, "parameters": row[1]}
    if len(row) > 2 and row[2]:
        call["more"] = True
    deadline = time.monotonic() + 20
    try:
        s = varlink.connect(path, deadline)
        s.sendall(json.dumps(call).encode() + b"\0")
        r = varlink.receive(s, deadline)
        s.close()
        out[method] = r.get("error", "reply")
    except (OSError, ConnectionError, ValueError) as e:
        out[method] = "no reply: %s" % e
out["__uid"] = os.getuid()
out["__groups"] = sorted(set([os.getgid()] + os.getgroups()))
print(json.dumps(out))
EOF
chmod 644 "$T/table.json" "$T/probe.py"

# ------------------------------------------------------------------ the methods kaasd serves
methods=$(PYTHONDONTWRITEBYTECODE=1 $PY - "$SOCK" <<'EOF'
import json, os, re, sys, time
sys.path.insert(0, os.path.join(os.environ["top_srcdir"], "tests/lib"))
import varlink
def call(method, params):
    deadline = time.monotonic() + 20
    s = varlink.connect(sys.argv[1], deadline)
    varlink.send(s, method, params)
    r = varlink.receive(s, deadline)
    s.close()
    return r["parameters"]
names = []
for iface in call("org.varlink.service.GetInfo", {})["interfaces"]:
    desc = call("org.varlink.service.GetInterfaceDescription", {"interface": iface})["description"]
    names += ["%s.%s" % (iface, m) for m in re.findall(r"^method\s+(\w+)\s*\(", desc, re.M)]
print(json.dumps(sorted(names)))
EOF
)
echo "# kaasd serves: $methods"
check "kaasd lists its methods" jt "$methods" "len(d) >= 10 and 'io.kaas.Token.Validate' in d"
missing=$(j "$methods" "sorted(set(d) - set(json.load(open('$T/table.json'))))")
check "every method kaasd serves has a row in this test's table (missing: $missing)" [ "$missing" = "[]" ]
stale=$(j "$methods" "sorted(set(json.load(open('$T/table.json'))) - set(d))")
check "every row of this test's table is a method kaasd serves (unknown: $stale)" [ "$stale" = "[]" ]

# ------------------------------------------------------------------ four callers
export top_srcdir PYTHONDONTWRITEBYTECODE=1
probe() { "$@" $PY "$T/probe.py" "$SOCK" "$T/table.json"; }
R_ROOT=$(probe env)
R_VALIDATOR=$(probe setpriv --reuid=65534 --regid="$NOGROUP_GID" --groups="$VALIDATOR_GID")
R_ADMIN=$(probe setpriv --reuid=65534 --regid="$ADMIN_GID" --clear-groups)
R_ORDINARY=$(probe setpriv --reuid=65534 --regid="$NOGROUP_GID" --clear-groups)
R_FRONTEND=$(probe setpriv --reuid=65534 --regid="$NOGROUP_GID" --groups="$FRONTEND_GID")
check "callers: root is uid 0" jt "$R_ROOT" "d['__uid'] == 0"
check "callers: the validator is uid 65534 with the validator group as a supplementary group only" \
    jt "$R_VALIDATOR" "d['__uid'] == 65534 and d['__groups'] == sorted([$NOGROUP_GID, $VALIDATOR_GID])"
check "callers: the admin is uid 65534 with the admin group as its primary group only" \
    jt "$R_ADMIN" "d['__uid'] == 65534 and d['__groups'] == [$ADMIN_GID]"
check "callers: the ordinary user is uid 65534 in nogroup only" \
    jt "$R_ORDINARY" "d['__uid'] == 65534 and d['__groups'] == [$NOGROUP_GID]"
check "callers: the front end is uid 65534 with the frontend group as a supplementary group only" \
    jt "$R_FRONTEND" "d['__uid'] == 65534 and d['__groups'] == sorted([$NOGROUP_GID, $FRONTEND_GID])"

ALL="{\"root\": $R_ROOT, \"validator\": $R_VALIDATOR, \"admin\": $R_ADMIN, \"ordinary\": $R_ORDINARY, \"frontend\": $R_FRONTEND}"
DENIED=org.varlink.service.PermissionDenied
CRED=io.kaas.Token.CredentialsRequired
for m in $(j "$methods" "' '.join(d)" | tr -d '"'); do
    cls=$(j "$(cat "$T/table.json")" "d.get('$m', ['none'])[0]" | tr -d '"')
    got=$(j "$ALL" "{c: d[c]['$m'] for c in ('root', 'validator', 'admin', 'ordinary', 'frontend')}")
    case $cls in
    anyone)
        check "$m (anyone): the same answer for all, never denied: $got" \
            jt "$got" "len(set(d.values())) == 1 and d['root'] not in ('$DENIED',) and not d['root'].startswith('no reply')" ;;
    validator)
        check "$m (validator): root and the validator group pass, admin and ordinary are denied: $got" \
            jt "$got" "d['root'] == d['validator'] and d['root'] != '$DENIED' and not d['root'].startswith('no reply') and d['admin'] == '$DENIED' and d['ordinary'] == '$DENIED'" ;;
    admin)
        check "$m (admin): root and the admin group pass, validator and ordinary are denied: $got" \
            jt "$got" "d['root'] == d['admin'] and d['root'] != '$DENIED' and not d['root'].startswith('no reply') and d['validator'] == '$DENIED' and d['ordinary'] == '$DENIED'" ;;
    frontend)
        check "$m (frontend): root and the frontend group pass, validator, admin and ordinary are denied: $got" \
            jt "$got" "d['root'] == d['frontend'] and d['root'] != '$DENIED' and not d['root'].startswith('no reply') and d['validator'] == d['admin'] == d['ordinary'] == '$DENIED'" ;;
    user)
        if [ "$m" = io.kaas.Token.Create ] || [ "$m" = io.kaas.Token.Authenticate ]; then
            check "$m (user): everyone gets past the access check and must prove an identity: $got" \
                jt "$got" "set(d.values()) == {'$CRED'}"
        else
            check "$m (user): validator and ordinary must prove an identity, root and the admin group need not: $got" \
                jt "$got" "d['validator'] == '$CRED' and d['ordinary'] == '$CRED' and d['root'] == d['admin'] and d['root'] not in ('$DENIED', '$CRED') and not d['root'].startswith('no reply')"
        fi ;;
    *)
        not_ok "$m: no row in this test's table: decide its access class in kaasd/methods.c and add it here" ;;
    esac
done

# denials are logged with the caller's uid
check "a denial is logged with the method, uid and access class" \
    grep -q "io.kaas.Token.Validate denied to uid 65534 .*(requires validator)" "$T/kaasd.log"
# a group change takes effect at the next connection: credentials are the kernel's
r=$(setpriv --reuid=65534 --regid="$NOGROUP_GID" --groups="$ADMIN_GID,$VALIDATOR_GID" \
    $PY "$top_srcdir/tests/lib/varlink.py" "$SOCK" io.kaas.Admin.FlushCache)
check "a caller in both groups (supplementary) may administer" jt "$r" "'error' not in d"
r=$(setpriv --reuid=65534 --regid="$NOGROUP_GID" --groups="$ADMIN_GID,$VALIDATOR_GID" \
    $PY "$top_srcdir/tests/lib/varlink.py" "$SOCK" io.kaas.Token.Validate '{"token": "kaas_x"}')
check "and validate" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
r=$(setpriv --reuid=1000 --regid="$VALIDATOR_GID" --clear-groups \
    $PY "$top_srcdir/tests/lib/varlink.py" "$SOCK" io.kaas.Token.Validate '{"token": "kaas_x"}')
check "the validator group as a primary group works too (uid 1000)" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
r=$(setpriv --reuid=0 --regid="$NOGROUP_GID" --clear-groups \
    $PY "$top_srcdir/tests/lib/varlink.py" "$SOCK" io.kaas.Admin.Reload)
check "root is root whatever its groups" jt "$r" "'error' not in d"

check "kaasd is still running" kill -0 "$KAASD_PID"
check "kaasd logged no sanitizer report" bash -c "! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$T/kaasd.log'"
check_done
