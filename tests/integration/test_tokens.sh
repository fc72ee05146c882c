#!/bin/bash
# KaaS tokens end to end: a real kaasd against a real (private: this test
# disables a user in it) Keystone, through io.kaas.Token as any varlink
# client would call it. Covers the life cycle, ownership, the checksum
# short-cut, disabled users, unprivileged callers, throttling, the key
# file, and kaasd killed during 1,000 concurrent creations.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
call() { $VL -t "${T:-15}" "$SOCK" "$@"; }
# as_nobody COMMAND...: runs as an ordinary local user with no groups
as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
creds_pw() { echo "{\"user\": \"$1\", \"password\": \"$2\"${3:+, \"domain\": \"$3\"}}"; }
status() { call io.kaas.Admin.Status; }
counter() { j "$(status)" "d['parameters']['tokens']['$1']"; }

ks_env_setup --private
KAASD_CONF_EXTRA="cache_ttl = 2
offline_ttl = 30
timeout = 20"
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
# the throttle's clock stands still, so its delays cannot run out between
# calls however slow the machine is (read by kaasd at start only)
export KAASD_TEST_THROTTLE_CLOCK=1000000000
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
# ordinary users must reach the socket through its directories
chmod 755 "$KS_TMP" "$D"

# ------------------------------------------------------------- life cycle
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"description\": \"laptop\"}")
TOKEN=$(param "$r" token)
TID=$(param "$r" id)
check "create: a kaas_ token of 51 characters for alice" \
    jt "$r" "d['parameters']['token'].startswith('kaas_') and len(d['parameters']['token']) == 51 and d['parameters']['user_id'] == '$ALICE_ID'"
check "create: expires in 365 days" jt "$r" "abs(d['parameters']['expires'] - $(date +%s) - 365 * 86400) < 120"
check "create: the token is not in kaasd's log" bash -c "! grep -qF '$TOKEN' '$D/kaasd.log'"
check "create: an audit line names the token ID" grep -q "AUDIT.*token created: token_id=$TID" "$D/kaasd.log"
check "the token is not stored in plaintext" bash -c "! grep -rqF '$TOKEN' '$D/state'"

r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "validate: username, uid and token ID" \
    jt "$r" "d['parameters']['identity']['username'] == 'alice' and d['parameters']['identity']['uid'] == '$ALICE_ID' and d['parameters']['token_id'] == '$TID'"
check "validate: groups are alice's role IDs from Keystone" \
    jt "$r" "set(d['parameters']['identity']['groups']) == {'$ROLE_MEMBER_ID', '$ROLE_DEVELOPER_ID', '$ROLE_K8S_ADMINS_ALPHA_ID', '$ROLE_READER_ID'}"
check "validate: extra carries project and domain as k8s-keystone-auth does" \
    jt "$r" "d['parameters']['identity']['extra']['alpha.kubernetes.io/identity/project/name'] == ['demo'] and d['parameters']['identity']['extra']['alpha.kubernetes.io/identity/user/domain/id'] == ['default'] and 'k8s-admins-alpha' in d['parameters']['identity']['extra']['alpha.kubernetes.io/identity/roles']"
r=$(call io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}}")
check "list (authenticated by the token itself): one token, no hash" \
    jt "$r" "[t['id'] for t in d['parameters']['tokens']] == ['$TID'] and d['parameters']['tokens'][0]['description'] == 'laptop' and 'hash' not in d['parameters']['tokens'][0]"
check "last use is recorded, off the reply path" \
    wait_for 15 bash -c "$VL '$SOCK' io.kaas.Token.List '{\"credentials\": {\"kaas_token\": \"$TOKEN\"}}' | grep -q last_used"

# ------------------------------------------------------------- ownership
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\", \"user\": \"bob\"}")
check "alice's token does not authenticate bob" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\", \"user\": \"alice\"}")
check "alice's token authenticates alice" jt "$r" "'error' not in d"
# the token as its own user name (both halves of a Basic header): refused,
# and the audit line does not write the name down
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\", \"user\": \"$TOKEN\"}")
check "the token as the user name too: refused, audited without the name" \
    bash -c "[[ '$r' == *io.kaas.Token.InvalidToken* ]] && grep -q 'AUDIT.*validation failed.*token_id=$TID expected_user=<a KaaS token>' '$D/kaasd.log' && ! grep -qF '$TOKEN' '$D/kaasd.log'"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw carol "$CAROL_PARTNERS_PASSWORD" partners)}")
CAROL_P=$(param "$r" token)
check "carol of domain partners gets her own token" jt "$r" "d['parameters']['user_id'] == '$CAROL_PARTNERS_ID'"
r=$(call io.kaas.Token.Validate "{\"token\": \"$CAROL_P\", \"user\": \"carol\"}")
check "carol@partners' token does not log in the default domain's carol" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
r=$(call io.kaas.Token.Validate "{\"token\": \"$CAROL_P\", \"user\": \"carol@partners\"}")
check "carol@partners' token logs in carol@partners" jt "$r" "d['parameters']['user_id'] == '$CAROL_PARTNERS_ID'"

# --------------------------------------------------- checksum short-cut
lookups=$(counter store_lookups)
typo=${TOKEN:0:20}$( [ "${TOKEN:20:1}" = a ] && echo b || echo a )${TOKEN:21}
r=$(call io.kaas.Token.Validate "{\"token\": \"$typo\"}")
check "a mistyped token is invalid" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
r=$(call io.kaas.Token.Validate '{"token": "eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJpc3MiOiJrdWJlcm5ldGVzL3NlcnZpY2VhY2NvdW50In0.sig"}')
check "a service-account JWT is invalid" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
check "neither reached the store (rejected by format and checksum)" [ "$(counter store_lookups)" = "$lookups" ]

# ---------------------------------------------------------------- delete
r=$(call io.kaas.Token.Create "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}, \"description\": \"second\", \"expires_in_days\": 30}")
T2=$(param "$r" token)
T2ID=$(param "$r" id)
check "create with a KaaS token as credentials, 30 days" jt "$r" "abs(d['parameters']['expires'] - $(date +%s) - 30 * 86400) < 120"
r=$(call io.kaas.Token.Create "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}, \"expires_in_days\": 366}")
check "a lifetime beyond the maximum is refused" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
r=$(call io.kaas.Token.Delete "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}, \"ids\": [\"$T2ID\"]}")
check "delete by token ID" jt "$r" "d['parameters']['deleted'] == ['$T2ID']"
r=$(call io.kaas.Token.Validate "{\"token\": \"$T2\"}")
check "a deleted token is invalid" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
check "an audit line records the deletion" grep -q "AUDIT.*token deleted: token_id=$T2ID" "$D/kaasd.log"

# ------------------------------------------------ unprivileged local users
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw bob "$BOB_PASSWORD")}")
BOB_TOKEN=$(param "$r" token)
BOB_TID=$(param "$r" id)
r=$(as_nobody $VL "$SOCK" io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "an ordinary user may not call Validate" jt "$r" "d.get('error') == 'org.varlink.service.PermissionDenied'"
r=$(as_nobody $VL "$SOCK" io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$BOB_TOKEN\"}}")
check "bob, from an ordinary account, lists only his own token" jt "$r" "[t['id'] for t in d['parameters']['tokens']] == ['$BOB_TID']"
r=$(as_nobody $VL "$SOCK" io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$BOB_TOKEN\"}, \"user\": \"alice\"}")
check "bob may not list alice's tokens" jt "$r" "d.get('error') == 'io.kaas.Token.PermissionDenied'"
r=$(as_nobody $VL "$SOCK" io.kaas.Token.Delete "{\"credentials\": {\"kaas_token\": \"$BOB_TOKEN\"}, \"ids\": [\"$TID\"]}")
check "bob may not delete alice's token (not found for him)" jt "$r" "d.get('error') == 'io.kaas.Token.NotFound'"
r=$(as_nobody $VL "$SOCK" io.kaas.Token.List '{"all": true}')
check "an ordinary user without credentials gets nothing" jt "$r" "d.get('error') == 'io.kaas.Token.CredentialsRequired'"
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "alice's token survived bob's attempts" jt "$r" "'error' not in d"

# ------------------------------------------------------- administrators
r=$(as_nobody $VL "$SOCK" io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}, \"user\": \"bob\"}")
check "alice (k8s-admins-alpha: a cluster admin) may list bob's tokens" jt "$r" "[t['id'] for t in d['parameters']['tokens']] == ['$BOB_TID']"
r=$(call io.kaas.Token.List '{"all": true}')
check "root lists all tokens without credentials" jt "$r" "len(d['parameters']['tokens']) >= 3"
r=$(call io.kaas.Token.RevokeUser '{"user": ""}')
check "RevokeUser of an empty user: InvalidArgument" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
r=$(call io.kaas.Token.RevokeUser "{\"user\": \"$(printf 'x%.0s' $(seq 256))\"}")
check "RevokeUser of a 256-byte user: InvalidArgument" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
long=$(printf 'n%.0s' $(seq 100))
r=$(call io.kaas.Token.RevokeUser "{\"user\": \"$long\"}")
check "RevokeUser of an unknown 100-byte name (no ID is that long): nothing deleted" \
    jt "$r" "d['parameters']['deleted'] == 0"
r=$(call io.kaas.Token.List "{\"user\": \"$long\"}")
check "List of that name: no tokens" jt "$r" "d['parameters']['tokens'] == []"
r=$(call io.kaas.Token.List '{"user": ""}')
check "List of an empty user: InvalidArgument" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
r=$(call io.kaas.Token.RevokeUser '{"user": "bob", "domain": "a\u0001b"}')
check "RevokeUser in a domain no name can have: InvalidArgument" \
    jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
r=$(call io.kaas.Token.RevokeUser '{"user": "bob"}')
check "root revokes bob" jt "$r" "d['parameters']['deleted'] == 1"
r=$(call io.kaas.Token.Validate "{\"token\": \"$BOB_TOKEN\"}")
check "bob's revoked token is invalid" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"

# ---------------------------------------------------------- refused users
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw 'system:evil' "$SYSTEM_EVIL_PASSWORD")}")
check "a user named system:... gets no token" jt "$r" "d.get('error') == 'io.kaas.Token.UserRefused'"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw dave "$DAVE_PASSWORD")}")
check "a disabled user cannot authenticate" jt "$r" "d.get('error') == 'io.kaas.Token.AuthenticationFailed'"

r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw frank "$FRANK_PASSWORD")}")
FRANK_TOKEN=$(param "$r" token)
check "frank's token works" jt "$(call io.kaas.Token.Validate "{\"token\": \"$FRANK_TOKEN\"}")" "'error' not in d"
check "frank disabled in Keystone" ks_user_set_enabled "$FRANK_ID" false
# (varlink.py exits 1 on an error reply: test its output, not a pipeline)
frank_disabled() { [[ $(call io.kaas.Token.Validate "{\"token\": \"$FRANK_TOKEN\"}") == *io.kaas.Token.UserDisabled* ]]; }
check "frank disabled in Keystone: his token is refused after the cache refresh" wait_for 30 frank_disabled
# a disabled domain: Keystone lets none of its users authenticate, though
# each of them still reads "enabled": true
check "domain partners disabled in Keystone" ks_domain_set_enabled "$DOMAIN_PARTNERS_ID" false
carol_p_disabled() { [[ $(call io.kaas.Token.Validate "{\"token\": \"$CAROL_P\"}") == *io.kaas.Token.UserDisabled* ]]; }
check "domain partners disabled: carol@partners' token is refused after the cache refresh" wait_for 30 carol_p_disabled
r=$(call io.kaas.Token.Create "{\"credentials\": {\"kaas_token\": \"$CAROL_P\"}}")
check "domain partners disabled: carol@partners' token proves nothing" jt "$r" "d.get('error') == 'io.kaas.Token.UserDisabled'"

# ------------------------------------------------------------ throttling
# password checks that reached Keystone, as kaasd counts them
password_requests() { j "$(status)" "[k['requests'] for k in d['parameters']['keystone']['requests'] if k['kind'] == 'password'][0]"; }
# concurrent.py N SOCKET METHOD PARAMS: N connections send the call at
# once, then every reply is read; prints {error or "ok": count}
cat >"$KS_TMP/concurrent.py" <<'PYEOF'
import json, socket, sys
n, path, method, params = int(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
conns = []
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(path)
    conns.append(s)
msg = json.dumps({"method": method, "parameters": params}).encode() + b"\0"
for s in conns:
    s.sendall(msg)
seen = {}
for s in conns:
    buf = b""
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    r = json.loads(buf.split(b"\0", 1)[0]) if b"\0" in buf else {"error": "no reply"}
    k = r.get("error", "ok")
    seen[k] = seen.get(k, 0) + 1
print(json.dumps(seen))
PYEOF
chmod 644 "$KS_TMP/concurrent.py"
before=$(password_requests)
r=$(as_nobody $PY "$KS_TMP/concurrent.py" 50 "$SOCK" io.kaas.Token.Create "{\"credentials\": $(creds_pw bob wrong-concurrent)}")
check "50 concurrent wrong passwords: each refused, as failed or throttled ($r)" \
    jt "$r" "sum(d.values()) == 50 and set(d) <= {'io.kaas.Token.AuthenticationFailed', 'io.kaas.Token.RateLimited'} and d.get('io.kaas.Token.RateLimited', 0) >= 47"
after=$(password_requests)
check "50 concurrent wrong passwords: at most the 3 free attempts reached Keystone ($before -> $after)" \
    [ $((after - before)) -ge 1 -a $((after - before)) -le 3 ]
# sequential guesses until the free attempts are spent: with the clock
# held still, the delay that follows cannot run out before the next call
for i in 1 2 3 4; do
    r=$(as_nobody $VL "$SOCK" io.kaas.Token.Create "{\"credentials\": $(creds_pw bob wrong-$i)}")
done
check "repeated wrong passwords from one account are throttled" jt "$r" "d.get('error') == 'io.kaas.Token.RateLimited' and d['parameters']['retry_after'] > 0"
check "no more than the 3 free attempts reached Keystone in all" [ $(($(password_requests) - before)) -le 3 ]
r=$(as_nobody $VL "$SOCK" io.kaas.Token.Create "{\"credentials\": $(creds_pw bob "$BOB_PASSWORD")}")
check "the throttled account is refused even with the right password" jt "$r" "d.get('error') == 'io.kaas.Token.RateLimited'"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_pw bob "$BOB_PASSWORD")}")
check "bob himself, from another account, is not locked out" jt "$r" "d['parameters']['user_id'] == '$BOB_ID'"
check "throttled attempts are counted" [ "$(counter throttled_attempts)" -ge 49 ]

# oneway calls: refused where the outcome matters, and never anonymous
before=$(password_requests)
r=$(as_nobody $PY - "$SOCK" "$(creds_pw bob "$BOB_PASSWORD")" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "io.kaas.Token.Create", "oneway": True,
                      "parameters": {"credentials": json.loads(sys.argv[2])}}).encode() + b"\0")
s.sendall(json.dumps({"method": "io.kaas.Admin.Status"}).encode() + b"\0")
buf = b""
while buf.count(b"\0") < 2:
    chunk = s.recv(65536)
    if not chunk:
        break
    buf += chunk
print(json.dumps([json.loads(m) for m in buf.split(b"\0") if m]))
PYEOF
)
check "a oneway Create is refused with a reply naming oneway" \
    jt "$r" "d[0].get('error') == 'org.varlink.service.InvalidParameter' and d[0]['parameters']['parameter'] == 'oneway'"
check "a oneway Create never reaches Keystone" [ "$(password_requests)" = "$before" ]
check "Status hides outcome counters from an ordinary user" \
    jt "$r" "d[1]['parameters']['errors'] is None and d[1]['parameters']['tokens'] is None and all(m['errors'] is None for m in d[1]['parameters']['methods'])"
$PY - "$SOCK" <<'PYEOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(30)
s.connect(sys.argv[1])
s.sendall(json.dumps({"method": "io.kaas.Admin.Reload", "oneway": True}).encode() + b"\0")
s.sendall(json.dumps({"method": "org.varlink.service.GetInfo"}).encode() + b"\0")
while b"\0" not in s.recv(65536):
    pass
PYEOF
check "a oneway call acts for its real caller (uid 0 in the reload's log line)" \
    wait_for 10 grep -qE "configuration reloaded on request of uid 0( |$)" "$D/kaasd.log"
check "Status shows outcome counters to root" \
    jt "$(status)" "isinstance(d['parameters']['errors'], int) and d['parameters']['tokens']['throttled_attempts'] >= 1 and all(isinstance(m['errors'], int) for m in d['parameters']['methods'])"

# ---------------------------------------------------------- the key file
kaasd_stop "$D"
mv "$D/state/token.key" "$D/token.key.saved"
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >"$D/nokey.log" 2>&1
check "kaasd refuses to start without its key while tokens exist" grep -q "token key" "$D/nokey.log"
check "and does not create a new key" test ! -e "$D/state/token.key"
mv "$D/token.key.saved" "$D/state/token.key"
chmod 0644 "$D/state/token.key"
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >"$D/badmode.log" 2>&1
check "kaasd refuses a key file readable by others" grep -q "token key" "$D/badmode.log"
chmod 0600 "$D/state/token.key"
# kaasd never issues an expired token: store one directly while it is down
EXPIRED=$("$top_builddir/tests/tools/kaas-store-put-expired" "$D/state" "$ALICE_ID" alice default 120 2>/dev/null)
kaasd_start "$D" || exit 99
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "after a restart the token still validates" jt "$r" "d['parameters']['token_id'] == '$TID'"
r=$(call io.kaas.Token.Validate "{\"token\": \"$EXPIRED\"}")
check "an expired token is refused as expired" \
    jt "$r" "d.get('error') == 'io.kaas.Token.Expired' and d['parameters']['expired'] < $(date +%s)"
r=$(call io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$EXPIRED\"}}")
check "an expired token is no credential" jt "$r" "d.get('error') == 'io.kaas.Token.AuthenticationFailed'"

# ----------------------------------- SIGKILL during 1,000 concurrent creations
kaasd_stop "$D"
out=$($PY "$top_srcdir/tests/integration/crash_creations.py" "$top_builddir/kaasd/kaasd" "$D/kaasd.conf" "$SOCK" "$TOKEN" 1000 2>"$D/crash.err")
rc=$?
echo "# crash run: $out"
check "every token whose Create returned still validates after repeated SIGKILLs" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -20 "$D/crash.err"
check "kaasd was really killed and restarted" jt "$out" "d['kills'] >= 3 and d['acknowledged'] >= 1000"
# crash_creations.py leaves its own kaasd running on the socket
echo "$(j "$out" "d['pid']")" >"$D/kaasd.pid"
KS_KAASD_DIRS="$KS_KAASD_DIRS $D"

check_done
