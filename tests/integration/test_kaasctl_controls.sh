#!/bin/bash
# Terminal control characters from Keystone and from users never reach an
# administrator's terminal through kaasctl. A Keystone user and a project
# whose names hold C1 controls (CSI U+009B, DCS U+0090), created in the
# real Keystone by REST, are shown by kaasctl as \u00NN escapes in tables,
# messages and JSON; kaasd refuses a token description with a C1 (or C0)
# control with a clear error. Each check is one "ok"/"not ok" line.
# Exit: 0 pass, 1 fail, 77 skip, 99 harness error.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
KC=$top_builddir/client/kaasctl
[ -x "$KC" ] || { echo "SKIP: kaasctl not built"; exit 77; }
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3

# a private Keystone: this test adds a user and a project to it
ks_env_setup --private
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
export KAAS_SOCKET=$KAASD_SOCKET
T=$KS_TMP/t
mkdir -p "$T"
unset OS_TOKEN OS_USERNAME OS_PASSWORD OS_USER_DOMAIN_NAME OS_AUTH_URL OS_CLOUD

# clean FILE: no byte a terminal would act on (C0 but newline, DEL, C1)
clean() {
    $PY - "$1" <<'PYEOF'
import re, sys
data = open(sys.argv[1], "rb").read()
sys.exit(1 if re.search(rb"[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]", data) else 0)
PYEOF
}
run() {
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
# line_has FILE TEXT...: one line of FILE holds every TEXT
line_has() {
    local file=$1 line t ok
    shift
    while IFS= read -r line; do
        ok=1
        for t in "$@"; do
            [[ $line == *"$t"* ]] || { ok=0; break; }
        done
        [ "$ok" = 1 ] && return 0
    done <"$file"
    return 1
}

# ------------------------------------------------- fixtures in Keystone
# names with C1 controls; this run's pid keeps them apart from other runs
tag=$$
USER_JSON="eve\\u009b2J\\u0090x-$tag"       # as JSON writes it
USER_SHOWN="eve\\u009b2J\\u0090x-$tag"      # as kaasctl must show it
PROJECT_JSON="ops\\u009b31m-$tag"
PROJECT_SHOWN="ops\\u009b31m-$tag"
USER_NAME=$(printf 'eve\xc2\x9b2J\xc2\x90x-%s' "$tag")  # the raw names
PROJECT_NAME=$(printf 'ops\xc2\x9b31m-%s' "$tag")
EVE_PASSWORD="eve-pw-$tag"
ADMIN_TOKEN=$(ks_admin_token)
[ -n "$ADMIN_TOKEN" ] || { echo "no admin token from Keystone"; exit 99; }

# ks_post PATH JSON KIND NAME: creates, or finds what an earlier attempt
# created (the test Keystone's SQLite may drop a reply); prints the ID
ks_post() {
    local path=$1 body=$2 kind=$3 name=$4 i out id
    for i in 1 2 3 4 5; do
        out=$(curl -sS --max-time 20 -X POST -H "X-Auth-Token: $ADMIN_TOKEN" \
            -H 'Content-Type: application/json' -d "$body" "$KEYSTONE_AUTH_URL/$path" 2>/dev/null)
        id=$(j "$out" "d['$kind']['id']" 2>/dev/null | tr -d '"')
        [ -n "$id" ] && { echo "$id"; return 0; }
        out=$(curl -sS --max-time 20 -G -H "X-Auth-Token: $ADMIN_TOKEN" \
            --data-urlencode "name=$name" \
            "$KEYSTONE_AUTH_URL/$path" 2>/dev/null)
        id=$(j "$out" "d['${kind}s'][0]['id']" 2>/dev/null | tr -d '"')
        [ -n "$id" ] && { echo "$id"; return 0; }
        sleep 0.5
    done
    return 1
}
EVE_ID=$(ks_post users "{\"user\": {\"name\": \"$USER_JSON\", \"domain_id\": \"default\", \"enabled\": true, \"password\": \"$EVE_PASSWORD\", \"description\": \"CSI \\u009b in a description\"}}" user "$USER_NAME") ||
    { echo "could not create the user in Keystone"; exit 99; }
PROJECT_ID=$(ks_post projects "{\"project\": {\"name\": \"$PROJECT_JSON\", \"domain_id\": \"default\"}}" project "$PROJECT_NAME") ||
    { echo "could not create the project in Keystone"; exit 99; }
for i in 1 2 3 4 5; do
    curl -sS -o /dev/null --max-time 20 -X PUT -H "X-Auth-Token: $ADMIN_TOKEN" \
        "$KEYSTONE_AUTH_URL/projects/$PROJECT_ID/users/$EVE_ID/roles/$ROLE_DEVELOPER_ID" 2>/dev/null
    curl -fsS -o /dev/null --max-time 20 -I -H "X-Auth-Token: $ADMIN_TOKEN" \
        "$KEYSTONE_AUTH_URL/projects/$PROJECT_ID/users/$EVE_ID/roles/$ROLE_DEVELOPER_ID" 2>/dev/null && break
    sleep 0.5
done
echo "# Keystone user $EVE_ID and project $PROJECT_ID created"

# ------------------------------------------------------ kaasctl user show
run "$KC" user show "$USER_NAME"
check "user show: exit 0 (exit $rc)" test "$rc" -eq 0 || sed 's/^/#   /' "$T/err"
check "user show: the name as escapes" line_has "$T/out" "Name:" "$USER_SHOWN"
check "user show: the project's name as escapes" line_has "$T/out" "$PROJECT_SHOWN" "$PROJECT_ID"
check "user show: no terminal control in the output" clean "$T/out"

run "$KC" --json user show "$USER_NAME"
check "user show --json: exit 0" test "$rc" -eq 0
check "user show --json: C1 controls as \\u escapes" grep -qF "\"name\": \"$USER_JSON\"" "$T/out"
check "user show --json: no terminal control in the output" clean "$T/out"
check "user show --json: the escapes read back as the Keystone name" \
    jt "$(cat "$T/out")" "d['name'] == $(printf '"%s"' "$USER_JSON") and d['projects'][0]['name'] == $(printf '"%s"' "$PROJECT_JSON")"

run "$KC" call io.kaas.Identity.GetUser "{\"id\": \"$EVE_ID\"}"
check "call: the raw reply is escaped too" grep -qF "\"name\": \"$USER_JSON\"" "$T/out"
check "call: no terminal control in the output" clean "$T/out"

# ------------------------------------------------- descriptions refused
for desc in "$(printf 'csi \xc2\x9b2J')" "$(printf 'nel \xc2\x85')" "$(printf 'esc \x1b[2J')" "$(printf 'del \x7f')"; do
    run env OS_USERNAME="$USER_NAME" OS_PASSWORD="$EVE_PASSWORD" "$KC" token create --description="$desc"
    check "token create --description with a control character: refused, exit 1 (exit $rc)" test "$rc" -eq 1
    check "the refusal names the rule" grep -qxF \
        "kaasctl: invalid argument: description: at most 256 bytes, no control characters (U+0000-U+001F, U+007F-U+009F) (InvalidArgument)" "$T/err"
    check "no token printed" test ! -s "$T/out"
done
r=$($VL "$KAASD_SOCKET" io.kaas.Token.Create "{\"credentials\": {\"user\": \"$USER_JSON\", \"password\": \"$EVE_PASSWORD\"}, \"description\": \"\\u009b\"}")
check "Token.Create with a C1 description: io.kaas.Token.InvalidArgument" \
    jt "$r" "d.get('error') == 'io.kaas.Token.InvalidArgument' and 'U+007F-U+009F' in d['parameters']['reason']"
r=$($VL "$KAASD_SOCKET" io.kaas.Token.Create "{\"credentials\": {\"user\": \"$USER_JSON\", \"password\": \"$EVE_PASSWORD\"}, \"description\": \"caf\\u00e9 \\u00a0ok\"}")
check "Token.Create with non-ASCII text past U+009F: accepted" jt "$r" "'token' in d['parameters']"

# ----------------------------------------- the user's name in token output
run env OS_USERNAME="$USER_NAME" OS_PASSWORD="$EVE_PASSWORD" "$KC" token create --description=laptop
check "token create for that user: exit 0 (exit $rc)" test "$rc" -eq 0 || sed 's/^/#   /' "$T/err"
check "token create: the message names the user as escapes" grep -qF "for $USER_SHOWN, valid until" "$T/err"
check "token create: no terminal control on stderr" clean "$T/err"

run "$KC" token list --all
check "token list --all (root): exit 0" test "$rc" -eq 0
check "token list --all: the user's name as escapes" line_has "$T/out" "$USER_SHOWN" laptop
check "token list --all: non-ASCII text is shown as it is" grep -qF "$(printf 'caf\xc3\xa9 \xc2\xa0ok')" "$T/out"
check "token list --all: no terminal control in the output" clean "$T/out"

check_done
