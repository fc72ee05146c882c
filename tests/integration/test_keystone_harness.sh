#!/usr/bin/env bash
# Checks the real-Keystone test harness (tests/keystone/): Keystone comes up,
# the fixtures exist and behave as the other integration tests expect.
#
# Exit status (automake): 0 pass, 77 skip (Keystone not installed, unless
# KAAS_REQUIRE_KEYSTONE=1, which turns that into a failure), 1 fail.
# Standalone: bash tests/integration/test_keystone_harness.sh
# Under automake, $srcdir is the top source directory.
set -euo pipefail

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
harness=$srcdir/tests/keystone
PY=/usr/bin/python3

fails=0
checks=0
pass() { checks=$((checks + 1)); echo "ok   - $*"; }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $*"; }
check() {  # check MESSAGE COMMAND...: pass or fail MESSAGE by COMMAND's status
    local msg=$1; shift
    if "$@"; then pass "$msg"; else fail "$msg"; fi
}
oneline() { tr '\n' ' ' <<<"$1" | sed 's/ *$//'; }
skip_or_fail() {
    if [ "${KAAS_REQUIRE_KEYSTONE:-0}" = 1 ]; then
        echo "FAIL - $* (KAAS_REQUIRE_KEYSTONE=1)"; exit 1
    fi
    echo "SKIP - $*"; exit 77
}

command -v keystone-manage >/dev/null 2>&1 || skip_or_fail "keystone-manage not installed (apt-get install keystone)"
command -v curl >/dev/null 2>&1 || skip_or_fail "curl not installed"
[ -x "$PY" ] || skip_or_fail "$PY not installed"
[ -f "$harness/keystone-up.sh" ] || { echo "FAIL - harness not found at $harness"; exit 1; }

KS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/kaas-keystone.XXXXXX")
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local rc=$?
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -f "$KS_DIR/access.log" ]; then
        echo "--- Keystone access log (last lines):"
        tail -n 20 "$KS_DIR/access.log" || true
    fi
    bash "$harness/keystone-down.sh" "$KS_DIR" || true
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

echo "# starting Keystone in $KS_DIR"
t0=$(date +%s%N)
rc=0
KEYSTONE_WATCH_PID=$$ bash "$harness/keystone-up.sh" "$KS_DIR" || rc=$?
[ "$rc" -eq 77 ] && skip_or_fail "keystone-up.sh: dependencies missing"
[ "$rc" -eq 0 ] || { echo "FAIL - keystone-up.sh exited with $rc"; exit 1; }
t1=$(date +%s%N)
"$PY" "$harness/fixtures.py" "$KS_DIR" || { echo "FAIL - fixtures.py"; exit 1; }
t2=$(date +%s%N)
echo "# keystone-up.sh: $(( (t1 - t0) / 1000000 )) ms, fixtures.py: $(( (t2 - t1) / 1000000 )) ms"

# shellcheck disable=SC1091
. "$KS_DIR/env"
# shellcheck disable=SC1091
. "$KS_DIR/fixtures.env"
check "fixtures.json written" [ -s "$KS_DIR/fixtures.json" ]
for v in KEYSTONE_URL KEYSTONE_AUTH_URL KEYSTONE_PID KEYSTONE_ADMIN_PASSWORD KEYSTONE_LOG \
         ALICE_ID ALICE_PASSWORD CAROL_ID CAROL_PARTNERS_ID DOMAIN_PARTNERS_ID ZOE_NAME \
         ROLE_K8S_ADMINS_ALPHA_ID ROLE_DEVELOPER_ID KAASD_SERVICE_USER_ID KAASD_SERVICE_PASSWORD; do
    check "$v is set" [ -n "${!v:-}" ]
done
case $KEYSTONE_URL in
    http://127.0.0.1:*) pass "Keystone listens on 127.0.0.1 ($KEYSTONE_URL)" ;;
    *) fail "KEYSTONE_URL is not on 127.0.0.1: $KEYSTONE_URL" ;;
esac
check "KEYSTONE_AUTH_URL ($KEYSTONE_AUTH_URL) = KEYSTONE_URL/v3" [ "$KEYSTONE_AUTH_URL" = "$KEYSTONE_URL/v3" ]

json_str() { "$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }

# auth USER-JSON [SCOPE-JSON]: POST /v3/auth/tokens;
# prints the HTTP status; headers in $tmp.h, body in $tmp.b
tmp=$KS_DIR/t
auth() {
    local user=$1 scope=${2:-}
    local body="{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":$user}}${scope:+,\"scope\":$scope}}}"
    curl -sS -o "$tmp.b" -D "$tmp.h" -w '%{http_code}' --max-time 30 \
        -H 'Content-Type: application/json' -d "$body" "$KEYSTONE_AUTH_URL/auth/tokens"
}
subject_token() { awk -F': *' 'tolower($1) == "x-subject-token" { print $2 }' "$tmp.h" | tr -d '\r'; }
by_name() {  # by_name NAME DOMAIN_ID PASSWORD
    echo "{\"name\":$(json_str "$1"),\"domain\":{\"id\":\"$2\"},\"password\":$(json_str "$3")}"
}

# 1. alice, unscoped, right password -> 201 + X-Subject-Token
code=$(auth "$(by_name alice default "$ALICE_PASSWORD")")
tok=$(subject_token)
if [ "$code" = 201 ] && [ -n "$tok" ]; then
    pass "alice authenticates with her password (201, X-Subject-Token)"
else
    fail "alice: HTTP $code, token '${tok:0:10}'"
fi

# 2. wrong password -> 401
code=$(auth "$(by_name alice default "not-$ALICE_PASSWORD")")
check "alice with a wrong password: 401 (got $code)" [ "$code" = 401 ]

# 3. dave is disabled -> 401 even with his password
code=$(auth "$(by_name dave default "$DAVE_PASSWORD")")
check "disabled dave with his password: 401 (got $code)" [ "$code" = 401 ]

# 4. carol exists twice; each password works only in its own domain
code=$(auth "$(by_name carol "$DOMAIN_PARTNERS_ID" "$CAROL_PARTNERS_PASSWORD")")
check "carol@partners authenticates in domain partners: 201 (got $code)" [ "$code" = 201 ]
code=$(auth "$(by_name carol default "$CAROL_PARTNERS_PASSWORD")")
check "carol@partners' password fails for carol@default: 401 (got $code)" [ "$code" = 401 ]

# 5. non-ASCII user name
code=$(auth "$(by_name "$ZOE_NAME" default "$ZOE_PASSWORD")")
check "zoë authenticates by her UTF-8 name: 201 (got $code)" [ "$code" = 201 ]

# 6. kaasd service account: system-scoped token reads effective role assignments
code=$(auth "{\"id\":\"$KAASD_SERVICE_USER_ID\",\"password\":$(json_str "$KAASD_SERVICE_PASSWORD")}" \
            '{"system":{"all":true}}')
svc=$(subject_token)
if [ "$code" = 201 ] && [ -n "$svc" ]; then
    pass "kaasd gets a system-scoped token"
else
    fail "kaasd system-scoped token: HTTP $code"
fi

effective_roles() {  # effective_roles USER_ID -> role names, one per line
    curl -fsS --max-time 30 -H "X-Auth-Token: $svc" \
        "$KEYSTONE_AUTH_URL/role_assignments?user.id=$1&effective&include_names" |
        "$PY" -c 'import json, sys
for a in json.load(sys.stdin)["role_assignments"]:
    print(a["role"]["name"])' | sort -u
}
before=$(grep -cF " GET /v3/role_assignments?user.id=$ALICE_ID&" "$KEYSTONE_LOG" || true)
alice_roles=$(effective_roles "$ALICE_ID") || alice_roles=
check "alice's effective roles include k8s-admins-alpha ($(oneline "$alice_roles"))" \
    grep -qx k8s-admins-alpha <<<"$alice_roles"
erin_roles=$(effective_roles "$ERIN_ID") || erin_roles=
check "erin's effective roles include developer via group devs ($(oneline "$erin_roles"))" \
    grep -qx developer <<<"$erin_roles"
frank_roles=$(effective_roles "$FRANK_ID") || frank_roles=x
check "frank has no role ($(oneline "$frank_roles"))" [ -z "$frank_roles" ]
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "X-Auth-Token: $svc" \
       "$KEYSTONE_AUTH_URL/users?name=carol&domain_id=$DOMAIN_PARTNERS_ID")
check "kaasd can look users up by name and domain: 200 (got $code)" [ "$code" = 200 ]

# 7. the access log counts requests (the line may land just after the reply)
n=0
for _ in $(seq 600); do
    n=$(grep -cF " GET /v3/role_assignments?user.id=$ALICE_ID&" "$KEYSTONE_LOG" || true)
    [ "$n" -gt "$before" ] && break
    sleep 0.1
done
check "access log: role_assignments requests for alice went from $before to $n (+1)" \
    [ "$n" -eq $((before + 1)) ]

# 8. the harness keeps to its directory
if grep -h -E "(^|[ '\"])/etc/" "$KS_DIR"/keystone.log "$KS_DIR"/manage-*.log 2>/dev/null | grep -q .; then
    fail "Keystone mentions a path under /etc in its logs (a default not overridden?)"
else
    pass "Keystone logged no path under /etc"
fi

echo "# $checks checks, $fails failed"
if [ "$fails" -eq 0 ]; then
    echo "$checks passed, 0 failed"
    exit 0
fi
echo "$((checks - fails)) passed, $fails failed"
exit 1
