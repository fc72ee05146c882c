#!/bin/bash
# io.kaas.Token.Authenticate against a real Keystone and kaasd: a password
# exchanged for the unscoped Keystone token of that authentication, which
# then proves the identity to Create and List as any keystone_token does;
# nothing but user and password accepted; no secret in kaasd's log; and
# the throttle of a front end in frontend_group counted per OpenStack user
# name (one user's wrong passwords do not lock another out), whereas any
# other local uid is throttled as a whole. Each check is one "ok"/"not ok"
# line; any "not ok" fails.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (runs callers as other uids)"; exit 77; }
command -v setpriv >/dev/null 2>&1 || { echo "SKIP: setpriv is not installed"; exit 77; }
call() { $VL -t 20 "$SOCK" "$@"; }
# the front end: nobody in group nogroup, kaasd's frontend_group here
as_frontend() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
# any other local user: daemon, in no group of kaasd's
as_other() { setpriv --reuid=1 --regid=1 --clear-groups "$@"; }
creds_pw() { echo "{\"user\": \"$1\", \"password\": \"$2\"${3:+, \"domain\": \"$3\"}}"; }

ks_env_setup --private
D=$KS_TMP/kaasd
KAASD_CONF_TAIL=$(printf '[kaasd]\nfrontend_group = %s\n' "$(getent group 65534 | cut -d: -f1)")
kaasd_write_conf "$D"
# the throttle's clock stands still: its delays cannot run out between calls
export KAASD_TEST_THROTTLE_CLOCK=1000000000
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$KS_TMP" "$D"

# ------------------------------------------------------------- the exchange
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
KT=$(param "$r" keystone_token)
check "Authenticate: alice's IDs, a Keystone token, its expiry" \
    jt "$r" "d['parameters']['user_id'] == '$ALICE_ID' and d['parameters']['user_name'] == 'alice' and d['parameters']['domain_id'] == 'default' and len(d['parameters']['keystone_token']) > 20 and d['parameters']['expires'] > $(date +%s)"
check "the Keystone token is a password authentication of alice's (Keystone says)" \
    bash -c "curl -fsS -H \"X-Auth-Token: $KT\" -H \"X-Subject-Token: $KT\" '$KEYSTONE_URL/v3/auth/tokens' | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin)[\"token\"]; sys.exit(0 if t[\"methods\"] == [\"password\"] and t[\"user\"][\"id\"] == \"$ALICE_ID\" and \"project\" not in t else 1)'"
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Create "{\"credentials\": {\"keystone_token\": \"$KT\"}, \"description\": \"from a session\"}")
SHAPED=$(param "$r" token)
check "the token proves alice to Create" jt "$r" "d['parameters']['user_id'] == '$ALICE_ID'"
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.List "{\"credentials\": {\"keystone_token\": \"$KT\"}}")
check "and to List" jt "$r" "[t['description'] for t in d['parameters']['tokens']] == ['from a session']"
check "an audit line names the session's user, not its token" \
    bash -c "grep -q 'AUDIT.*authenticated user=alice user_id=$ALICE_ID by password' '$D/kaasd.log' && ! grep -qF '$KT' '$D/kaasd.log'"
check "the password is not in kaasd's log" bash -c "! grep -qF '$ALICE_PASSWORD' '$D/kaasd.log'"

r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": {\"keystone_token\": \"$KT\"}}")
check "a Keystone token is no credential for Authenticate" jt "$r" "d.get('error') == 'io.kaas.Token.CredentialsRequired'"
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate '{}')
check "nothing is no credential either" jt "$r" "d.get('error') in ('io.kaas.Token.CredentialsRequired', 'org.varlink.service.InvalidParameter')"
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw dave "$DAVE_PASSWORD")}")
check "a disabled user gets no session proof" jt "$r" "d.get('error') in ('io.kaas.Token.AuthenticationFailed', 'io.kaas.Token.UserDisabled')"

# a KaaS token typed as the user name: refused before Keystone (which logs
# the names it does not know), and not logged by kaasd either
password_calls() { j "$(call io.kaas.Admin.Status)" "[r['requests'] for r in d['parameters']['keystone']['requests'] if r['kind'] == 'password'][0]"; }
p0=$(password_calls)
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw "$SHAPED" "$ALICE_PASSWORD")}")
check "a KaaS token as the user name: CredentialsRequired, saying so" \
    jt "$r" "d.get('error') == 'io.kaas.Token.CredentialsRequired' and 'KaaS token' in d['parameters']['reason']"
check "and Keystone was not asked" [ "$(password_calls)" = "$p0" ]
check "a token with a typo in it is refused the same way" \
    jt "$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw "${SHAPED%?}$([ "${SHAPED: -1}" = a ] && echo b || echo a)" x)}")" \
    "d.get('error') == 'io.kaas.Token.CredentialsRequired' and 'KaaS token' in d['parameters']['reason']"
check "the token is not in kaasd's log" bash -c "[ -n '$SHAPED' ] && ! grep -qF '$SHAPED' '$D/kaasd.log'"

# ------------------------------------------------------------- the proof cache
# token_check: the GET /v3/auth/tokens calls kaasd made so far
checks() { j "$(call io.kaas.Admin.Status)" "[r['requests'] for r in d['parameters']['keystone']['requests'] if r['kind'] == 'token_check'][0]"; }
list_kt() { as_frontend $VL -t 20 "$SOCK" io.kaas.Token.List "{\"credentials\": {\"keystone_token\": \"$1\"}}"; }
n0=$(checks)
r=$(list_kt "$KT")
check "a proof accepted lately is taken again without asking Keystone" \
    bash -c "[ '$(j "$r" "len(d['parameters']['tokens'])")' = 1 ] && [ '$(checks)' = '$n0' ]"
r=$(list_kt "${KT}x")
n1=$(checks)
check "a token never accepted is asked of Keystone (and refused)" \
    bash -c "[ '$(j "$r" "d.get('error')")' = '\"io.kaas.Token.AuthenticationFailed\"' ] && [ '$n1' -gt '$n0' ]"
r=$(list_kt "${KT}x")
check "... every time: refusals are not remembered" [ "$(checks)" -gt "$n1" ]
# proof_cache_ttl = 0: every proof asked of Keystone again
sed -i 's/^\[keystone\]$/[keystone]\nproof_cache_ttl = 0/' "$D/kaasd.conf"
call io.kaas.Admin.Reload >/dev/null
n0=$(checks)
list_kt "$KT" >/dev/null
check "proof_cache_ttl = 0: the proof goes to Keystone each time" [ "$(checks)" -gt "$n0" ]
# a short ttl, and a token revoked in Keystone: taken until the ttl runs out
sed -i 's/^proof_cache_ttl = 0$/proof_cache_ttl = 3/' "$D/kaasd.conf"
call io.kaas.Admin.Reload >/dev/null
# kaasd takes the token it issues as proof from the moment it issues it,
# which falls between these two times (ms)
before=$(date +%s%3N)
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
after=$(date +%s%3N)
KT2=$(param "$r" keystone_token)
curl -fsS -X DELETE -H "X-Auth-Token: $(ks_admin_token)" -H "X-Subject-Token: $KT2" "$KEYSTONE_URL/v3/auth/tokens"
r=$(list_kt "$KT2")
if [ $(($(date +%s%3N) - before)) -lt 3000 ]; then
    check "a token revoked in Keystone still proves alice within proof_cache_ttl (the trade)" \
        jt "$r" "'tokens' in d.get('parameters', {})"
fi
wait_for 30 bash -c "[ \$(date +%s%3N) -ge $((after + 4000)) ]"
r=$(list_kt "$KT2")
check "... and no longer once proof_cache_ttl has run out" jt "$r" "d.get('error') == 'io.kaas.Token.AuthenticationFailed'"
check "no Keystone token in kaasd's log" bash -c "! grep -qF '$KT2' '$D/kaasd.log'"

# ------------------------------------------------------------- ending a session
# a long proof_cache_ttl: only forgetting the proof refuses the token at once
sed -i 's/^proof_cache_ttl = 3$/proof_cache_ttl = 300/' "$D/kaasd.conf"
call io.kaas.Admin.Reload >/dev/null
unauth() { as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Unauthenticate "{\"keystone_token\": \"$1\"}"; }
ks_says() { curl -s -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $(ks_admin_token)" -H "X-Subject-Token: $1" \
    "$KEYSTONE_URL/v3/auth/tokens"; }
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
KT3=$(param "$r" keystone_token)
n0=$(checks)
r=$(list_kt "$KT3")
check "a session's token proves alice (and is remembered as proof)" jt "$r" "'tokens' in d.get('parameters', {})"
check "... without asking Keystone: kaasd took the token as proof when it issued it" [ "$(checks)" = "$n0" ]
check "Keystone takes it" [ "$(ks_says "$KT3")" = 200 ]
r=$(unauth "$KT3")
check "Unauthenticate ends the session" jt "$r" "'error' not in d"
check "Keystone no longer takes the token: it was revoked" [ "$(ks_says "$KT3")" = 404 ]
r=$(list_kt "$KT3")
check "kaasd refuses it at once, though proof_cache_ttl is 300 s" \
    jt "$r" "d.get('error') == 'io.kaas.Token.AuthenticationFailed'"
check "an audit line names alice's ID and the revocation, not the token" \
    bash -c "grep -q 'AUDIT.*session ended: user_id=$ALICE_ID, its Keystone token revoked' '$D/kaasd.log' && ! grep -qF '$KT3' '$D/kaasd.log'"
r=$(unauth "$KT3")
check "ending it again: nothing left to revoke, not an error" jt "$r" "'error' not in d"
r=$(unauth "not a token")
check "a malformed token is refused before Keystone is asked" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument'"
revokes() { j "$(call io.kaas.Admin.Status)" "[r['requests'] for r in d['parameters']['keystone']['requests'] if r['kind'] == 'token_revoke'][0]"; }
check "Status counts the revocations sent to Keystone (two, and a retry after a hiccup)" [ "$(revokes)" -ge 2 ]

# ------------------------------------------------------------- throttling
for i in 1 2 3 4 5; do
    r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw bob wrong-$i)}")
done
check "the front end: bob's wrong passwords end throttled" jt "$r" "d.get('error') == 'io.kaas.Token.RateLimited'"
r=$(as_frontend $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw carol "$CAROL_PASSWORD")}")
check "the front end: carol still logs in (counted per user name)" jt "$r" "d['parameters']['user_name'] == 'carol'"

for i in 1 2 3 4 5; do
    r=$(as_other $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw erin wrong-$i)}")
done
check "another uid: its wrong passwords end throttled" jt "$r" "d.get('error') == 'io.kaas.Token.RateLimited'"
r=$(as_other $VL -t 20 "$SOCK" io.kaas.Token.Authenticate "{\"credentials\": $(creds_pw frank "$FRANK_PASSWORD")}")
check "another uid is throttled as a whole: frank is refused too" jt "$r" "d.get('error') == 'io.kaas.Token.RateLimited'"

check_done
