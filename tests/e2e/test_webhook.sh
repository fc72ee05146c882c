#!/bin/bash
# kaas-webhook end to end: a real Keystone, a real kaasd, the webhook over
# real HTTPS (certificates made here with openssl), and TokenReview bodies
# exactly as kube-apiserver sends them (v1 and v1beta1), sent with curl.
# The webhook runs unprivileged: as nobody:nogroup when the test runs as
# root (kaasd's validator_group is then nogroup), else as the caller.
#
# Tokens come from kaasd (io.kaas.Token.Create with the users' passwords);
# an expired one is planted in the stopped kaasd's store by
# tests/tools/kaas-store-put-expired. A user disabled in Keystone is one
# this test creates (and deletes), so a shared Keystone's fixtures are left
# as they are, and so is a user holding a Keystone role named
# "system:masters" (the role too, unless it already exists). Replies are
# also decoded as python3-kubernetes' typed client does (those checks alone
# are skipped without it). Each check is one "ok"/"not ok" line; any
# "not ok" fails. Exit 77 only when a tool is missing.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
PUT_EXPIRED=$top_builddir/tests/tools/kaas-store-put-expired
[ -x "$PUT_EXPIRED" ] || { echo "kaas-store-put-expired is not built: $PUT_EXPIRED" >&2; exit 99; }

. "$top_srcdir/tests/lib/keystone-env.sh"

PY=/usr/bin/python3
# only the typed-client decoding needs python3-kubernetes: without it those
# checks are skipped, one "# SKIP" line each, and every other check runs
HAVE_KUBE=yes
$PY -c 'import kubernetes' 2>/dev/null || HAVE_KUBE=no
VL="$PY $top_srcdir/tests/lib/varlink.py"
passes=0
fails=0
ok() { echo "ok $((passes + fails + 1)) - $*"; passes=$((passes + 1)); }
not_ok() { echo "not ok $((passes + fails + 1)) - $*"; fails=$((fails + 1)); }
check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}
# j JSON EXPR: a Python expression over the JSON value d, printed as JSON
j() { $PY -c 'import json, sys; d = json.loads(sys.argv[1]); print(json.dumps(eval(sys.argv[2]), ensure_ascii=False))' "$1" "$2"; }
jt() { [ "$(j "$1" "$2" 2>/dev/null)" = true ]; }
jv() { j "$1" "$2" | tr -d '"'; }

ks_env_setup
wh_env_setup "$KS_TMP/webhook"
DIS_ID=
SYS_ID=
SYS_ROLE_ID=
SYS_ROLE_OURS=
ADMIN_TOKEN=
cleanup() {
    if [ -n "$WH_PID" ]; then
        kill -TERM "$WH_PID" 2>/dev/null
        wait "$WH_PID" 2>/dev/null
    fi
    if [ -n "$DIS_ID" ] && [ -n "$ADMIN_TOKEN" ]; then
        curl -sS -o /dev/null --max-time 20 -X DELETE -H "X-Auth-Token: $ADMIN_TOKEN" \
            "$KEYSTONE_AUTH_URL/users/$DIS_ID" || true
    fi
    if [ -n "$SYS_ID" ] && [ -n "$ADMIN_TOKEN" ]; then
        curl -sS -o /dev/null --max-time 20 -X DELETE -H "X-Auth-Token: $ADMIN_TOKEN" \
            "$KEYSTONE_AUTH_URL/users/$SYS_ID" || true
    fi
    if [ -n "$SYS_ROLE_OURS" ] && [ -n "$ADMIN_TOKEN" ]; then
        curl -sS -o /dev/null --max-time 20 -X DELETE -H "X-Auth-Token: $ADMIN_TOKEN" \
            "$KEYSTONE_AUTH_URL/roles/$SYS_ROLE_ID" || true
    fi
    ks_cleanup
}
trap cleanup EXIT

# ------------------------------------------------------------------ certificates
cd "$W" || exit 99
wh_mk_server_cert && wh_mk_ca rogue &&
    wh_mk_cert ca client kube-apiserver 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' &&
    wh_mk_cert rogue rogue-client kube-apiserver 'extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' &&
    wh_mk_cert ca server-as-client kube-apiserver 'extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' ||
    { cat "$W/openssl.log" >&2; echo "openssl failed" >&2; exit 99; }

# ------------------------------------------------------------------ kaasd
KAASD_CONF_EXTRA="cache_ttl = 2
retry_min = 1
retry_max = 2"
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
sed -i "/^\[kaasd\]\$/a validator_group = $VGROUP" "$D/kaasd.conf"
# restart_kaasd: kaasd_start waits for the socket file, which a stopped
# kaasd leaves behind: remove it, then wait (bounded) for an answer
restart_kaasd() {
    local i
    rm -f "$D/kaasd.sock"
    kaasd_start "$D" || exit 99
    for i in $(seq 100); do
        $VL -t 2 "$D/kaasd.sock" org.varlink.service.GetInfo >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "kaasd does not answer on $D/kaasd.sock" >&2
    exit 99
}
restart_kaasd
SOCK=$KAASD_SOCKET
kaasd_validations() { jv "$($VL "$SOCK" io.kaas.Admin.Status)" "d['parameters']['tokens']['validations']"; }

# create_token USER PASSWORD: prints the reply's parameters
create_token() {
    $VL -t 30 "$SOCK" io.kaas.Token.Create \
        "{\"credentials\": {\"user\": \"$1\", \"password\": \"$2\"}, \"description\": \"webhook test\"}" |
        $PY -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["parameters"]))'
}
r=$(create_token alice "$ALICE_PASSWORD") || { echo "Token.Create for alice failed: $r" >&2; exit 99; }
T_ALICE=$(jv "$r" "d['token']")
r=$(create_token alice "$ALICE_PASSWORD") || exit 99
T_DEL=$(jv "$r" "d['token']")
T_DEL_ID=$(jv "$r" "d['id']")

# a Keystone user of our own, to disable: member on demo, with a password
ADMIN_TOKEN=$(ks_admin_token)
[ -n "$ADMIN_TOKEN" ] || { echo "no admin token from Keystone" >&2; exit 99; }
DIS_NAME=webhook-test-$$-$RANDOM
DIS_PW=$($PY -c 'import secrets, string; print("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24)))')
ks_write() {  # METHOD PATH [JSON]: retried, as SQLite may refuse a write under load
    local i out
    for i in 1 2 3 4 5; do
        if out=$(curl -fsS --max-time 30 -X "$1" -H "X-Auth-Token: $ADMIN_TOKEN" -H 'Content-Type: application/json' \
            ${3:+-d "$3"} "$KEYSTONE_AUTH_URL$2"); then
            printf '%s' "$out"
            return 0
        fi
        sleep 1
    done
    return 1
}
r=$(ks_write POST /users "{\"user\": {\"name\": \"$DIS_NAME\", \"domain_id\": \"default\", \"enabled\": true, \"password\": \"$DIS_PW\"}}") ||
    { echo "creating a Keystone user failed" >&2; exit 99; }
DIS_ID=$(jv "$r" "d['user']['id']")
ks_write PUT "/projects/$PROJECT_DEMO_ID/users/$DIS_ID/roles/$ROLE_MEMBER_ID" >/dev/null ||
    { echo "assigning a role failed" >&2; exit 99; }
r=$(create_token "$DIS_NAME" "$DIS_PW") || { echo "Token.Create for $DIS_NAME failed: $r" >&2; exit 99; }
T_DIS=$(jv "$r" "d['token']")
T_DIS_ID=$(jv "$r" "d['id']")

# a Keystone role named like Kubernetes' cluster-admin group, and a user
# holding it (and member) on demo
SYS_ROLE_ID=$(curl -fsS --max-time 30 -H "X-Auth-Token: $ADMIN_TOKEN" "$KEYSTONE_AUTH_URL/roles?name=system:masters" |
    $PY -c 'import json, sys; r = json.load(sys.stdin)["roles"]; print(r[0]["id"] if r else "")')
if [ -z "$SYS_ROLE_ID" ]; then
    r=$(ks_write POST /roles '{"role": {"name": "system:masters"}}') || { echo "creating a Keystone role failed" >&2; exit 99; }
    SYS_ROLE_ID=$(jv "$r" "d['role']['id']")
    SYS_ROLE_OURS=1
fi
SYS_NAME=webhook-sys-$$-$RANDOM
r=$(ks_write POST /users "{\"user\": {\"name\": \"$SYS_NAME\", \"domain_id\": \"default\", \"enabled\": true, \"password\": \"$DIS_PW\"}}") ||
    { echo "creating a Keystone user failed" >&2; exit 99; }
SYS_ID=$(jv "$r" "d['user']['id']")
for role in "$ROLE_MEMBER_ID" "$SYS_ROLE_ID"; do
    ks_write PUT "/projects/$PROJECT_DEMO_ID/users/$SYS_ID/roles/$role" >/dev/null ||
        { echo "assigning a role failed" >&2; exit 99; }
done
r=$(create_token "$SYS_NAME" "$DIS_PW") || { echo "Token.Create for $SYS_NAME failed: $r" >&2; exit 99; }
T_SYS=$(jv "$r" "d['token']")

# an expired token of alice's, planted while kaasd is stopped
kaasd_stop "$D"
T_EXP=$("$PUT_EXPIRED" "$D/state" "$ALICE_ID" alice default 2>"$W/expired.id") ||
    { cat "$W/expired.id" >&2; exit 99; }
T_EXP_ID=$(cat "$W/expired.id")
restart_kaasd

# tokens kaasd never made: well-formed with a valid checksum, a typo of a
# real one, too short, and a service-account JWT as kube-apiserver also
# sends to the webhook
T_UNKNOWN=$($PY -c '
import secrets, zlib
A = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
t = "kaas_" + "".join(secrets.choice(A) for _ in range(40))
c = zlib.crc32(t.encode()); s = ""
for _ in range(6): s = A[c % 62] + s; c //= 62
print(t + s)')
T_TYPO=${T_ALICE:0:20}$([ "${T_ALICE:20:1}" = A ] && echo B || echo A)${T_ALICE:21}
T_SHORT=kaas_0123456789
T_JWT=$($PY -c '
import base64, json
b = lambda o: base64.urlsafe_b64encode(json.dumps(o, separators=(",", ":")).encode()).rstrip(b"=").decode()
print(b({"alg": "RS256", "kid": "Wg2-kaas-test"}) + "." + b({"aud": ["https://kubernetes.default.svc.cluster.local"],
    "exp": 2000000000, "iat": 1700000000, "iss": "https://kubernetes.default.svc.cluster.local",
    "kubernetes.io": {"namespace": "default", "serviceaccount": {"name": "default", "uid": "5b1f1c3e"}},
    "nbf": 1700000000, "sub": "system:serviceaccount:default:default"}) + ".c2lnbmF0dXJlLW5vdC1jaGVja2Vk")')

# ------------------------------------------------------------------ the webhook
AUD=https://kubernetes.default.svc.cluster.local
write_conf() {  # FILE [EXTRA [webhook] LINES [EXTRA [kubernetes] LINES]]
    wh_write_conf "$1" "log_level = debug
${2:-}" "
[kubernetes]
audiences = $AUD
audiences = kaas-test
${3:-}"
}
PORT=$(wh_free_port)
write_conf "$W/webhook.conf"
wh_start "$W/webhook.conf" "$W/webhook.log" || exit 99
URL=https://127.0.0.1:$PORT

# body VERSION TOKEN [AUDIENCES-JSON]: a TokenReview as kube-apiserver
# encodes it, in a file only we can read (it holds a token)
body() {
    local spec="\"token\":\"$2\""
    [ -n "${3:-}" ] && spec="$spec,\"audiences\":$3"
    (umask 077 && printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/%s","metadata":{"creationTimestamp":null},"spec":{%s},"status":{"user":{}}}' \
        "$1" "$spec" >"$W/body.json")
}
# post [CURL-ARGS...]: POSTs body.json to /authenticate with kube-apiserver's
# headers; prints "CODE BODY"
post() {
    local code
    code=$(curl -sS -o "$W/reply" -w '%{http_code}' --max-time 30 --cacert "$W/ca.crt" \
        -H 'Content-Type: application/json' -H 'Accept: application/json, */*' \
        -H 'User-Agent: kube-apiserver/v1.29.3 (linux/amd64) kubernetes/6813625' \
        --data-binary "@$W/body.json" "$@" "${TARGET:-$URL/authenticate}")
    echo "$code $(cat "$W/reply" 2>/dev/null)"
}
review() { body "$@"; post; }
code() { echo "${1%% *}"; }
reply() { echo "${1#* }"; }
metric() {  # NAME{LABELS}: its value now
    curl -sS --max-time 10 --cacert "$W/ca.crt" "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
# a review answered 200 with authenticated false and no error
refused_cleanly() { [ "$(code "$1")" = 200 ] && jt "$(reply "$1")" "d['status'] == {'authenticated': False}"; }
# kube_check DESCRIPTION COMMAND...: check, or a "# SKIP" line without
# python3-kubernetes
kube_check() {
    if [ "$HAVE_KUBE" = yes ]; then
        check "$@"
    else
        echo "# SKIP $1: python3-kubernetes is not installed"
    fi
}
# kube_decode REPLY: the reply as python3-kubernetes' typed client decodes
# it (V1TokenReview, which requires a spec), summed up as JSON
kube_decode() {
    $PY -c '
import json, sys
from kubernetes import client
class Response:
    data = sys.argv[1]
t = client.ApiClient().deserialize(Response(), "V1TokenReview")
u = t.status.user
print(json.dumps({"kind": t.kind, "authenticated": t.status.authenticated, "username": u.username if u else None,
                  "groups": u.groups if u else None, "spec_token": t.spec.token, "spec_audiences": t.spec.audiences}))' "$1"
}

# ------------------------------------------------------------------ valid tokens
ROLES=$(curl -fsS --max-time 30 -H "X-Auth-Token: $ADMIN_TOKEN" \
    "$KEYSTONE_AUTH_URL/role_assignments?user.id=$ALICE_ID&effective" |
    $PY -c 'import json, sys; print(json.dumps(sorted({a["role"]["id"] for a in json.load(sys.stdin)["role_assignments"]})))')
a0=$(metric 'kaas_webhook_reviews_total{result="authenticated"}')
r=$(review v1 "$T_ALICE" "[\"$AUD\"]")
R=$(reply "$r")
check "v1, alice's token: HTTP 200, apiVersion v1, kind TokenReview, authenticated" \
    jt "$R" "'$(code "$r")' == '200' and d['apiVersion'] == 'authentication.k8s.io/v1' and d['kind'] == 'TokenReview' and d['status']['authenticated'] is True"
check "v1: username alice, uid = alice's Keystone ID" \
    jt "$R" "d['status']['user']['username'] == 'alice' and d['status']['user']['uid'] == '$ALICE_ID'"
check "v1: groups hold k8s-admins-alpha, developer, member (and implied reader) by ID" \
    jt "$R" "{'$ROLE_K8S_ADMINS_ALPHA_ID', '$ROLE_DEVELOPER_ID', '$ROLE_MEMBER_ID', '$ROLE_READER_ID'} <= set(d['status']['user']['groups'])"
check "v1: groups are exactly alice's effective role IDs in Keystone, without repeats" \
    jt "$R" "sorted(d['status']['user']['groups']) == $ROLES and len(set(d['status']['user']['groups'])) == len(d['status']['user']['groups'])"
check "v1: extra carries the k8s-keystone-auth keys (roles, projects, domain)" \
    jt "$R" "set(d['status']['user']['extra']) == {'alpha.kubernetes.io/identity/roles', 'alpha.kubernetes.io/identity/project/id', 'alpha.kubernetes.io/identity/project/name', 'alpha.kubernetes.io/identity/user/domain/id', 'alpha.kubernetes.io/identity/user/domain/name'} and {'developer', 'k8s-admins-alpha'} <= set(d['status']['user']['extra']['alpha.kubernetes.io/identity/roles']) and d['status']['user']['extra']['alpha.kubernetes.io/identity/project/name'] == ['demo'] and d['status']['user']['extra']['alpha.kubernetes.io/identity/user/domain/id'] == ['default']"
check "v1: status.audiences is the accepted requested audience; no error" \
    jt "$R" "d['status']['audiences'] == ['$AUD'] and 'error' not in d['status']"
K=$(kube_decode "$R" 2>"$W/kube_decode.err")
kube_check "v1: python3-kubernetes decodes the reply into V1TokenReview ($(tail -1 "$W/kube_decode.err"))" \
    jt "$K" "d['kind'] == 'TokenReview' and d['authenticated'] is True and d['username'] == 'alice'"
check "v1: the reply's spec is empty: neither the token nor the audiences come back" \
    jt "$R" "d['spec'] == {}"
r=$(review v1beta1 "$T_ALICE")
R=$(reply "$r")
check "v1beta1, alice's token, no audiences: answered as v1beta1, same user, no status.audiences" \
    jt "$R" "'$(code "$r")' == '200' and d['apiVersion'] == 'authentication.k8s.io/v1beta1' and d['kind'] == 'TokenReview' and d['status']['authenticated'] is True and d['status']['user']['uid'] == '$ALICE_ID' and 'audiences' not in d['status']"
r=$(review v1beta1 "$T_ALICE" "[\"vault\", \"kaas-test\", \"kaas-test\", \"$AUD\"]")
check "audiences: the reply lists the intersection in request order, without repeats" \
    jt "$(reply "$r")" "d['status']['authenticated'] is True and d['status']['audiences'] == ['kaas-test', '$AUD']"
r=$(review v1beta1 "$T_ALICE")
kube_check "v1beta1: python3-kubernetes decodes the reply too" \
    jt "$(kube_decode "$(reply "$r")" 2>/dev/null)" "d['authenticated'] is True and d['spec_token'] is None"
a1=$(metric 'kaas_webhook_reviews_total{result="authenticated"}')
check "metrics: authenticated reviews counted (4)" [ $((a1 - a0)) = 4 ]

# ------------------------------------------------------------------ tokens that do not authenticate
v0=$(kaasd_validations)
r=$(review v1 "$T_ALICE" '["vault"]')
check "no accepted audience requested: authenticated false, no error" refused_cleanly "$r"
r=$(review v1 "$T_SHORT" "[\"$AUD\"]")
check "malformed token (too short): authenticated false, no error" refused_cleanly "$r"
r=$(review v1beta1 "$T_TYPO")
check "a typo in a real token (checksum fails): authenticated false, no error" refused_cleanly "$r"
r=$(review v1 "$T_JWT" "[\"$AUD\"]")
check "a service-account JWT: authenticated false, no error" refused_cleanly "$r"
v1=$(kaasd_validations)
check "format failures and refused audiences never reach kaasd (its validations: $v0 -> $v1)" [ "$v0" = "$v1" ]
check "metrics: 3 format failures and 1 audience refusal" \
    [ "$(metric 'kaas_webhook_unauthenticated_total{reason="format"}')" = 3 -a \
      "$(metric 'kaas_webhook_unauthenticated_total{reason="audience"}')" = 1 ]

r=$(review v1 "$T_UNKNOWN" "[\"$AUD\"]")
check "a well-formed token kaasd never issued: authenticated false, no error" refused_cleanly "$r"
kube_check "python3-kubernetes decodes a refusal too; its spec holds neither token nor audiences" \
    jt "$(kube_decode "$(reply "$r")" 2>/dev/null)" "d['authenticated'] is False and d['spec_token'] is None and d['spec_audiences'] is None"
r=$(review v1 "$T_EXP")
check "an expired token: authenticated false, no error" refused_cleanly "$r"
check "metrics: the expired token was refused as expired, the unknown one as invalid" \
    [ "$(metric 'kaas_webhook_unauthenticated_total{reason="expired"}')" = 1 -a \
      "$(metric 'kaas_webhook_unauthenticated_total{reason="invalid"}')" = 1 ]
check "the log names the expired token by its token ID" grep -q "not authenticated (expired).*token $T_EXP_ID" "$W/webhook.log"

r=$(review v1 "$T_DEL")
check "the second token of alice authenticates before it is deleted" jt "$(reply "$r")" "d['status']['authenticated'] is True"
r=$($VL "$SOCK" io.kaas.Token.Delete "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}, \"ids\": [\"$T_DEL_ID\"]}")
check "io.kaas.Token.Delete of that token" jt "$r" "d['parameters']['deleted'] == ['$T_DEL_ID']"
r=$(review v1 "$T_DEL")
check "a deleted token: authenticated false, no error, at once" refused_cleanly "$r"

# ------------------------------------------------------------------ a user disabled in Keystone
r=$(review v1 "$T_DIS")
check "$DIS_NAME's token authenticates while the user is enabled" \
    jt "$(reply "$r")" "d['status']['authenticated'] is True and d['status']['user']['username'] == '$DIS_NAME' and sorted(d['status']['user']['groups']) == sorted(['$ROLE_MEMBER_ID', '$ROLE_READER_ID'])"
ks_write PATCH "/users/$DIS_ID" '{"user": {"enabled": false}}' >/dev/null || not_ok "disabling $DIS_NAME in Keystone"
t0=$(date +%s)
while :; do
    r=$(review v1 "$T_DIS")
    refused_cleanly "$r" && break
    [ $(($(date +%s) - t0)) -ge 30 ] && break
    sleep 0.5
done
check "disabled in Keystone: authenticated false without error once kaasd's cache_ttl (2 s) passed ($(($(date +%s) - t0)) s)" \
    refused_cleanly "$r"
check "metrics: refused as user_disabled" [ "$(metric 'kaas_webhook_unauthenticated_total{reason="user_disabled"}')" -ge 1 ]
check "the refusal of the disabled user's token names its token ID in the log, as kaasd's audit line does" \
    grep -q "not authenticated (user_disabled).*token $T_DIS_ID" "$W/webhook.log"

# ------------------------------------------------------------------ HTTP errors
TARGET=
b0=$(metric 'kaas_webhook_reviews_total{result="bad_request"}')
printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"%s"' "$T_ALICE" >"$W/body.json"
r=$(post)
check "malformed JSON: 400 with a Status naming the error, not the token" \
    jt "$(reply "$r")" "'$(code "$r")' == '400' and d['kind'] == 'Status' and d['code'] == 400 and 'malformed JSON' in d['message'] and '$T_ALICE' not in json.dumps(d)"
printf '{"kind":"TokenReviewList","apiVersion":"authentication.k8s.io/v1","spec":{"token":"x"}}' >"$W/body.json"
r=$(post)
check "wrong kind: 400" [ "$(code "$r")" = 400 ]
printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v2","spec":{"token":"x"}}' >"$W/body.json"
r=$(post)
check "wrong apiVersion: 400" [ "$(code "$r")" = 400 ]
printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","metadata":{"creationTimestamp":null},"spec":{},"status":{"user":{}}}' >"$W/body.json"
r=$(post)
check "missing spec.token: 400 saying so" jt "$(reply "$r")" "'$(code "$r")' == '400' and d['message'] == 'spec.token is missing'"
$PY -c 'import sys; sys.stdout.write("{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"" + "a" * 70000 + "\"}}")' >"$W/body.json"
r=$(post)
check "a body over 64 KiB (Content-Length): 413" [ "$(code "$r")" = 413 ]
r=$(post -H 'Transfer-Encoding: chunked')
check "a body over 64 KiB (chunked, no length): 413" [ "$(code "$r")" = 413 ]
b1=$(metric 'kaas_webhook_reviews_total{result="bad_request"}')
check "metrics: 6 bad requests counted" [ $((b1 - b0)) = 6 ]
check "metrics: two 413 responses" [ "$(metric 'kaas_webhook_http_responses_total{code="413"}')" = 2 ]
body v1 "$T_ALICE"
r=$(TARGET=$URL/authenticate/x post)
check "another path: 404" [ "$(code "$r")" = 404 ]
r=$(TARGET=$URL/ post)
check "the root path: 404" [ "$(code "$r")" = 404 ]
h=$(curl -sS -D - -o /dev/null --max-time 10 --cacert "$W/ca.crt" "$URL/authenticate" | tr -d '\r')
check "GET /authenticate: 405 with Allow: POST" \
    bash -c "grep -q '^HTTP/1.1 405' <<<\"\$1\" && grep -qi '^Allow: POST\$' <<<\"\$1\"" _ "$h"
h=$(curl -sS -D - -o /dev/null --max-time 10 --cacert "$W/ca.crt" -X PUT -d x "$URL/healthz" | tr -d '\r')
check "PUT /healthz: 405 with Allow: GET, HEAD" \
    bash -c "grep -q '^HTTP/1.1 405' <<<\"\$1\" && grep -qi '^Allow: GET, HEAD\$' <<<\"\$1\"" _ "$h"
r=$(curl -sS -w ' %{http_code}' --max-time 10 --cacert "$W/ca.crt" "$URL/healthz")
check "GET /healthz with kaasd up: 200 ok" [ "$r" = "ok
 200" ]
r=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/ca.crt" "https://localhost:$PORT/healthz")
check "the certificate's SAN covers localhost too" [ "$r" = 200 ]

m=$(curl -sS --max-time 10 --cacert "$W/ca.crt" "$URL/metrics")
check "metrics: Prometheus text with every family typed" \
    bash -c 'for f in kaas_webhook_reviews_total kaas_webhook_unauthenticated_total kaas_webhook_kaasd_errors_total kaas_webhook_review_duration_seconds kaas_webhook_reviews_in_flight kaas_webhook_http_responses_total; do grep -q "^# TYPE $f " <<<"$1" || exit 1; done' _ "$m"
check "metrics: the latency histogram counts every well-formed review" \
    jt "$($PY -c '
import json, re, sys
m = dict(l.rsplit(" ", 1) for l in sys.argv[1].splitlines() if l and not l.startswith("#"))
r = sum(float(m["kaas_webhook_reviews_total{result=\"%s\"}" % k]) for k in ("authenticated", "unauthenticated", "error"))
print(json.dumps({"count": float(m["kaas_webhook_review_duration_seconds_count"]), "inf": float(m["kaas_webhook_review_duration_seconds_bucket{le=\"+Inf\"}"]), "reviews": r, "inflight": float(m["kaas_webhook_reviews_in_flight"])}))' "$m")" \
    "d['count'] == d['reviews'] == d['inf'] and d['count'] > 0 and d['inflight'] == 0"

# ------------------------------------------------------------------ client certificates
wh_stop
check "the first webhook stops on SIGTERM with status 0" [ "$WH_RC" = 0 ]
PORT=$(wh_free_port)
write_conf "$W/webhook-mtls.conf" "client_ca = $W/ca.crt" "role_names_as_groups = yes"
wh_start "$W/webhook-mtls.conf" "$W/webhook-mtls.log" || exit 99
URL=https://127.0.0.1:$PORT
body v1 "$T_ALICE"
r=$(post --cert "$W/client.crt" --key "$W/client.key")
check "client CA: a client certificate from it is accepted" jt "$(reply "$r")" "'$(code "$r")' == '200' and d['status']['authenticated'] is True"
body v1 "$T_SYS"
r=$(post --cert "$W/client.crt" --key "$W/client.key")
check "role_names_as_groups: a Keystone role named system:masters is no group, by name or ID; member is" \
    jt "$(reply "$r")" "d['status']['authenticated'] is True and 'member' in d['status']['user']['groups'] and '$ROLE_MEMBER_ID' in d['status']['user']['groups'] and not any(g.startswith('system:') for g in d['status']['user']['groups'])"
body v1 "$T_ALICE"
r=$(post)
check "client CA: no client certificate: 401" [ "$(code "$r")" = 401 ]
r=$(post --cert "$W/rogue-client.crt" --key "$W/rogue-client.key")
check "client CA: a certificate from another CA: 403" [ "$(code "$r")" = 403 ]
r=$(post --cert "$W/server-as-client.crt" --key "$W/server-as-client.key")
check "client CA: a certificate of the CA not meant for client authentication: 403" [ "$(code "$r")" = 403 ]
r=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/ca.crt" "$URL/healthz")
check "client CA: /healthz stays anonymous" [ "$r" = 200 ]
check "client CA: refusals are logged with their reason" grep -q "refused 127.0.0.1:[0-9]*: no client certificate" "$W/webhook-mtls.log"

# ------------------------------------------------------------------ kaasd and Keystone unavailable
kaasd_stop "$D"
r=$(post --cert "$W/client.crt" --key "$W/client.key")
check "kaasd stopped: HTTP 200, authenticated false, status.error set" \
    jt "$(reply "$r")" "'$(code "$r")' == '200' and d['status']['authenticated'] is False and d['status']['error'] == 'kaasd is unreachable'"
r=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 --cacert "$W/ca.crt" "$URL/healthz")
check "kaasd stopped: /healthz 503" [ "$r" = 503 ]
check "metrics: kaasd unreachable counted" [ "$(metric 'kaas_webhook_kaasd_errors_total{kind="unreachable"}')" = 1 ]

# the same store under a kaasd whose Keystone does not answer and whose
# cache is empty: io.kaas.Token.Unavailable
cp "$D/kaasd.conf" "$D/kaasd.conf.good"
sed -i -e "s|^url = .*|url = http://127.0.0.1:$(wh_free_port)|" -e 's/^cache_ttl = 2$/cache_ttl = 2\noffline_ttl = 0/' "$D/kaasd.conf"
restart_kaasd
$VL "$SOCK" io.kaas.Admin.FlushCache >/dev/null
r=$(post --cert "$W/client.crt" --key "$W/client.key")
check "Keystone unreachable, nothing cached: HTTP 200, authenticated false, error identity service unavailable" \
    jt "$(reply "$r")" "'$(code "$r")' == '200' and d['status']['authenticated'] is False and d['status']['error'] == 'identity service unavailable'"
check "metrics: Keystone unavailability counted" [ "$(metric 'kaas_webhook_kaasd_errors_total{kind="unavailable"}')" = 1 ]
r=$(post)
check "without a client certificate it is still 401, whatever kaasd says" [ "$(code "$r")" = 401 ]
# kaasd completes the waiting user and role lookups with the failed service
# login; cancelling one from the other's callback once crashed it
sleep 1.5
check "kaasd still runs after answering Unavailable (and retrying Keystone)" kill -0 "$KAASD_PID" 2>/dev/null
kaasd_stop "$D"
cp "$D/kaasd.conf.good" "$D/kaasd.conf"

# ------------------------------------------------------------------ start-up checks, shutdown, secrets
if [ "$(id -u)" = 0 ]; then
    out=$("$WH" -f -c "$W/webhook.conf" 2>&1)
    rc=$?
    check "as root it refuses to start (status $rc)" \
        bash -c '[ "$1" != 0 ] && grep -q "refusing to run as root" <<<"$2"' _ "$rc" "$out"
fi
printf '[webhook]\ncert = %s\nkey = %s\nlisten = 127.0.0.1:1\nbogus = 1\n' "$W/server.crt" "$W/server.key" >"$W/bad.conf"
out=$("${RUN_AS[@]}" "$WH" --check-config -c "$W/bad.conf" 2>&1)
check "an unknown key is an error naming file and line" grep -qF "$W/bad.conf:5: unknown key 'bogus' in [webhook]" <<<"$out"
out=$("${RUN_AS[@]}" "$WH" --check-config -c "$W/webhook.conf" 2>&1)
check "--check-config accepts the test's configuration" grep -q "configuration is valid" <<<"$out"
write_conf "$W/system-prefix.conf" "" "group_prefix = system:"
out=$("${RUN_AS[@]}" "$WH" --check-config -c "$W/system-prefix.conf" 2>&1)
check "group_prefix = system: is refused: every group would be a reserved one" \
    grep -q 'group_prefix may not start with "system:"' <<<"$out"

wh_stop
check "SIGTERM: the webhook exits with status 0" [ "$WH_RC" = 0 ]
check "SIGTERM: the log says it stopped" grep -q "notice: stopped" "$W/webhook-mtls.log"

leaks=0
for t in "$T_ALICE" "$T_DEL" "$T_EXP" "$T_DIS" "$T_SYS" "$T_UNKNOWN" "$T_TYPO" "$T_SHORT" "$T_JWT" "${T_ALICE:5:20}"; do
    grep -qF -- "$t" "$W/webhook.log" "$W/webhook-mtls.log" && leaks=$((leaks + 1))
done
check "no token (nor part of one) appears in the webhook's debug-level logs" [ "$leaks" = 0 ]
check "the logs are not empty (the check above looked at something)" \
    [ "$(grep -c 'review from' "$W/webhook.log")" -ge 15 ]

echo "# $passes passed, $fails failed"
[ "$fails" = 0 ]
