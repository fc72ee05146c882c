#!/bin/bash
# What may prove an identity to io.kaas.Token, against a real kaasd and a
# real Keystone: a Keystone token counts only when it comes from the user's
# own authentication (an application credential token, a trust token are
# refused with ProofNotAccepted, through varlink and through kaasctl
# OS_TOKEN), and a KaaS token cannot make a successor that outlives it.
# Each check is one "ok"/"not ok" line. Exit: 0 pass, 1 fail, 77 skip.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
KC=$top_builddir/client/kaasctl
call() { $VL -t "${T:-30}" "$SOCK" "$@"; }
creds_ks() { echo "{\"keystone_token\": \"$1\"}"; }
creds_kaas() { echo "{\"kaas_token\": \"$1\"}"; }

ks_env_setup
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET

toks=$(env KEYSTONE_AUTH_URL="$KEYSTONE_AUTH_URL" ALICE_ID="$ALICE_ID" ALICE_PASSWORD="$ALICE_PASSWORD" \
    BOB_ID="$BOB_ID" BOB_PASSWORD="$BOB_PASSWORD" PROJECT_DEMO_ID="$PROJECT_DEMO_ID" \
    $PY "$top_srcdir/tests/integration/delegated_tokens.py") || {
    echo "Keystone refused to make the tokens this test needs" >&2
    exit 99
}
check "Keystone: the application credential token carries only reader" jt "$toks" "d['app_cred_roles'] == ['reader']"
check "Keystone: the trust token (impersonation) names alice as its user" jt "$toks" "d['trust_user'] == '$ALICE_ID'"

# ------------------------------------------------ delegated Keystone tokens
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_ks "$(j "$toks" "d['app_cred']" | tr -d '"')")}")
check "an application credential token (reader only) is no proof for Create" \
    jt "$r" "d.get('error') == 'io.kaas.Token.ProofNotAccepted' and 'application credential' in d['parameters']['reason']"
r=$(call io.kaas.Token.List "{\"credentials\": $(creds_ks "$(j "$toks" "d['app_cred']" | tr -d '"')"), \"all\": true}")
check "... nor for List, where alice would be a cluster admin" \
    jt "$r" "d.get('error') == 'io.kaas.Token.ProofNotAccepted'"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_ks "$(j "$toks" "d['trust']" | tr -d '"')")}")
check "bob's trust token impersonating alice is no proof" \
    jt "$r" "d.get('error') == 'io.kaas.Token.ProofNotAccepted' and 'trust' in d['parameters']['reason']"
check "an audit line records the refusal and why" \
    grep -q "AUDIT.*authentication by keystone_token failed (application credential tokens cannot prove" "$D/kaasd.log"
r=$(call io.kaas.Token.List "{\"all\": true}")
check "no token was created from a delegated one" jt "$r" "d['parameters']['tokens'] == []"

# kaasctl, as an operator holding an application credential token would try
out=$(env -u OS_USERNAME -u OS_PASSWORD KAAS_SOCKET="$SOCK" OS_TOKEN="$(j "$toks" "d['app_cred']" | tr -d '"')" \
    setsid -w "$KC" token create </dev/null 2>&1)
rc=$?
check "kaasctl token create with an application credential OS_TOKEN: exit 1" [ "$rc" = 1 ]
check "... saying why, naming ProofNotAccepted" \
    bash -c '[[ $1 == *"application credential tokens cannot prove an identity"*"(ProofNotAccepted)"* ]]' _ "$out"

# ------------------------------------------- the user's own Keystone tokens
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_ks "$(j "$toks" "d['password']" | tr -d '"')")}")
check "an unscoped password token proves alice" jt "$r" "d['parameters']['user_id'] == '$ALICE_ID'"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_ks "$(j "$toks" "d['project']" | tr -d '"')"), \"expires_in_days\": 2}")
check "a project-scoped password token proves alice" jt "$r" "d['parameters']['user_id'] == '$ALICE_ID'"
T1=$(param "$r" token)
E1=$(param "$r" expires)
check "... for the 2 days asked (a Keystone token does not cap it)" \
    jt "$r" "abs(d['parameters']['expires'] - $(date +%s) - 2 * 86400) < 120"

# --------------------------------- a KaaS token cannot outlive itself
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_kaas "$T1"), \"description\": \"successor\"}")
T2=$(param "$r" token)
T2ID=$(param "$r" id)
check "Create with a KaaS token (default lifetime): expires with the presenting token" \
    jt "$r" "d['parameters']['expires'] == $E1"
r=$(call io.kaas.Token.List "{\"credentials\": $(creds_kaas "$T1")}")
check "... and List shows that expiry for the new token" \
    jt "$r" "[t['expires'] for t in d['parameters']['tokens'] if t['id'] == '$T2ID'] == [$E1]"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_kaas "$T2"), \"expires_in_days\": 365}")
check "a successor's successor expires with the first token too" jt "$r" "d['parameters']['expires'] == $E1"
r=$(call io.kaas.Token.Create "{\"credentials\": $(creds_kaas "$T1"), \"expires_in_days\": 1}")
check "a shorter lifetime asked for is kept" \
    jt "$r" "d['parameters']['expires'] < $E1 and abs(d['parameters']['expires'] - $(date +%s) - 86400) < 120"

check_done
