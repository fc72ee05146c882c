#!/bin/bash
# kaasctl's token, user, cache and Kubernetes commands against a real
# kaasd and a real Keystone (tests/lib/keystone-env.sh): credentials as
# the openstack CLI takes them (OS_USERNAME/OS_PASSWORD, OS_TOKEN,
# --password-stdin, --kaas-token-stdin), tokens shown once, listed,
# validated from stdin, deleted and revoked; what another user (run as
# "nobody" with setpriv, since root is a local administrator) may not do;
# the messages and exit codes of refusals; the identity cache; and the
# kubeconfig and RBAC documents, checked line by line, by base64 round
# trip and, when present, by a YAML parser and kubectl.
# Each check is one "ok"/"not ok" line. Exit: 0 pass, 1 fail, 77 skip.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
KC=$top_builddir/client/kaasctl
[ -x "$KC" ] || { echo "SKIP: kaasctl not built"; exit 77; }
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3

ks_env_setup
# the socket must be reachable for the unprivileged user of the
# "another user" checks
chmod 0711 "$KS_TMP"
D=$KS_TMP/kaasd
mkdir -p "$D"
chmod 0711 "$D"
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
export KAAS_SOCKET=$KAASD_SOCKET
T=$KS_TMP/t
mkdir -p "$T"
# no OS_* variable of the caller's shell may leak into these checks
unset OS_TOKEN OS_USERNAME OS_PASSWORD OS_USER_DOMAIN_NAME OS_AUTH_URL OS_CLOUD

# Commands run without a controlling terminal (setsid), so that kaasctl
# can never stop to ask a question, even when the test runs in one.
NOTTY=
command -v setsid >/dev/null 2>&1 && NOTTY="setsid -w"
# split [VAR=VALUE...] ARGS...: sets VARS and ARGS
split() {
    VARS=()
    while [ $# -gt 0 ] && [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]]; do
        VARS+=("$1")
        shift
    done
    ARGS=("$@")
}
# run [VAR=VALUE...] ARGS...: kaasctl with those variables and nothing on
# stdin, keeping stdout, stderr and the exit code
run() {
    split "$@"
    $NOTTY env "${VARS[@]}" "$KC" "${ARGS[@]}" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
# run_in INPUT [VAR=VALUE...] ARGS...: the same with INPUT on stdin
run_in() {
    local input=$1
    shift
    split "$@"
    printf '%s\n' "$input" | $NOTTY env "${VARS[@]}" "$KC" "${ARGS[@]}" >"$T/out" 2>"$T/err"
    rc=$?
}
# run_as: as run, as another local user: nobody (uid 65534), or $AS_UID
NOBODY=0
# (only when nobody can run this build's kaasctl: the build tree may be
# private)
if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" = 0 ] &&
   setpriv --reuid=65534 --regid=65534 --clear-groups "$KC" --version >/dev/null 2>&1; then
    NOBODY=1
fi
run_as() {
    local uid=${AS_UID:-65534}
    split "$@"
    $NOTTY setpriv --reuid="$uid" --regid="$uid" --clear-groups env "${VARS[@]}" "$KC" "${ARGS[@]}" \
        </dev/null >"$T/out" 2>"$T/err"
    rc=$?
}
rc_is() { [ "$rc" -eq "$1" ]; }
out_has() { grep -qF -- "$1" "$T/out"; }
err_has() { grep -qF -- "$1" "$T/err"; }
# jft FILE EXPR: a Python expression over the JSON in FILE (as d) is true
jft() { $PY -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$1" "$2"; }
show() { echo "# rc=$rc out: $(head -c 600 "$T/out")"; echo "# err: $(head -c 600 "$T/err")"; }

ALICE="OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD"
BOB="OS_USERNAME=bob OS_PASSWORD=$BOB_PASSWORD"

# ------------------------------------------------------ no secret in argv
run token create --password "$ALICE_PASSWORD"
check "token create takes no --password option (usage error)" rc_is 2
"$KC" --help >"$T/help"
check "no command takes a password or token argument" \
    bash -c "! grep -E -- '--(password|token|kaas-token|keystone-token)[= ]' '$T/help'"

# ----------------------------------------------------- create, list, validate
run $ALICE token create --description "alice laptop"
check "alice creates a token with OS_USERNAME/OS_PASSWORD" rc_is 0
check "the token is printed on stdout, alone, as kaas_<base62>" \
    grep -qxE 'kaas_[A-Za-z0-9]{38,}' "$T/out"
check "stdout holds exactly one line" [ "$(wc -l <"$T/out")" -eq 1 ]
check "stderr warns that it cannot be shown again" err_has "only time the token is shown"
TOK1=$(cat "$T/out")
check "stderr does not repeat the token" bash -c "! grep -qF -- '$TOK1' '$T/err'"

# stdout that cannot take the token: the ID is named so that it can be
# deleted, the failure said once, exit 4
split $ALICE token create --description "to a full disk"
$NOTTY env "${VARS[@]}" "$KC" "${ARGS[@]}" </dev/null >/dev/full 2>"$T/err"
rc=$?
check "token create > /dev/full: exit 4" rc_is 4
check "... naming the new token's ID to delete" \
    bash -c "grep -qE 'the new token tid_[A-Za-z0-9]+ was not shown: delete it with kaasctl token delete tid_' '$T/err'"
check "... saying once that the output could not be written" [ "$(grep -c 'cannot write the output' "$T/err")" -eq 1 ]
unshown=$(grep -oE 'kaasctl token delete tid_[A-Za-z0-9]+' "$T/err" | cut -d' ' -f4)
# a stdout pipe whose reader is gone: no death by SIGPIPE
$PY - "$KC" "$T/err" $ALICE <<'PYEOF' >"$T/pipe-rc"
import os, subprocess, sys
kc, err, env = sys.argv[1], sys.argv[2], dict(os.environ)
env.update(a.split("=", 1) for a in sys.argv[3:])
r, w = os.pipe()
os.close(r)
with open(err, "w") as e:
    p = subprocess.run([kc, "token", "create", "--description", "to a closed pipe"], stdin=subprocess.DEVNULL,
                       stdout=w, stderr=e, env=env)    # SIGPIPE back to its default, as a shell leaves it
print(p.returncode)
PYEOF
check "token create into a closed pipe: exit 4, not killed by SIGPIPE (got $(cat "$T/pipe-rc"))" \
    [ "$(cat "$T/pipe-rc")" = 4 ]
check "... naming the new token's ID to delete" err_has "was not shown: delete it with kaasctl token delete tid_"
unshown="$unshown $(grep -oE 'kaasctl token delete tid_[A-Za-z0-9]+' "$T/err" | cut -d' ' -f4)"
# shellcheck disable=SC2086
run token delete $unshown
check "root deletes the two tokens never shown, by the IDs given" rc_is 0

run $ALICE token list
check "alice lists her tokens" rc_is 0
check "the list has ID, DESCRIPTION, CREATED, EXPIRES, LAST USED" \
    bash -c "head -1 '$T/out' | grep -qE '^ID +DESCRIPTION +CREATED +EXPIRES +LAST USED'"
check "the list shows the description" out_has "alice laptop"
check "the list never shows the token" bash -c "! grep -qF -- '$TOK1' '$T/out'"
run $ALICE --json token list
ID1=$($PY -c 'import json, sys; print([t["id"] for t in json.load(open(sys.argv[1]))["tokens"] if t["description"] == "alice laptop"][0])' "$T/out" 2>/dev/null)
check "token list --json has the token's ID (tid_...)" [ "${ID1#tid_}" != "$ID1" ]
run $ALICE token list
check "the table shows the token ID" out_has "$ID1"

run_in "$TOK1" token validate
check "token validate reads the token from stdin" rc_is 0
check "validate shows user name alice" grep -qE '^User name: +alice$' "$T/out"
check "validate shows alice's user ID" out_has "$ALICE_ID"
check "validate lists her role IDs (k8s-admins-alpha, member, developer)" \
    bash -c "grep -qF '$ROLE_K8S_ADMINS_ALPHA_ID' '$T/out' && grep -qF '$ROLE_MEMBER_ID' '$T/out' && grep -qF '$ROLE_DEVELOPER_ID' '$T/out'"
run_in "$TOK1" --json token validate
check "validate --json: username, uid and groups" \
    jft "$T/out" "d['identity']['username'] == 'alice' and d['identity']['uid'] == '$ALICE_ID' and '$ROLE_K8S_ADMINS_ALPHA_ID' in d['identity']['groups'] and d['token_id'] == '$ID1'"
run_in "$TOK1" token validate --user bob
check "validate --user bob of alice's token: exit 1" rc_is 1
check "... naming the error InvalidToken" err_has "InvalidToken"
run_in "kaas_notatoken" token validate
check "a malformed token: exit 1, InvalidToken" bash -c "[ $rc -eq 1 ] && grep -qF InvalidToken '$T/err'"
run token validate
check "validate with nothing on stdin is a usage error" rc_is 2

# ------------------------------------------- the password never in argv
# A create reading the password from a pipe that stays open: while kaasctl
# waits for it, no process's command line may hold the password.
mkfifo "$T/pw"
exec 9<>"$T/pw"
env OS_USERNAME=alice "$KC" token create --password-stdin --description "from pipe" <"$T/pw" >"$T/pipe.out" 2>"$T/pipe.err" &
cpid=$!
kaasctl_running() { case $(readlink "/proc/$cpid/exe" 2>/dev/null) in *kaasctl*) return 0 ;; esac; return 1; }
wait_for 60 kaasctl_running
printf '%s' "$ALICE_PASSWORD" >"$T/pw.pattern"
leaked=0
for f in /proc/[0-9]*/cmdline; do
    tr '\0' '\n' 2>/dev/null <"$f" | grep -qF -f "$T/pw.pattern" && leaked=1
done
check "kaasctl is running and waiting for the password" bash -c "readlink /proc/$cpid/exe | grep -q kaasctl"
check "no command line holds the password while kaasctl runs" [ "$leaked" = 0 ]
printf '%s\n' "$ALICE_PASSWORD" >&9
exec 9>&-
wait "$cpid"
rc=$?
check "token create --password-stdin succeeds" rc_is 0
TOK2=$(cat "$T/pipe.out")
check "... and prints a second token" grep -qxE 'kaas_[A-Za-z0-9]{38,}' "$T/pipe.out"
rm -f "$T/pw" "$T/pw.pattern"

run OS_USERNAME=alice token create
check "no password and no terminal: refused, not read from stdin" bash -c "[ $rc -ne 0 ] && grep -qF 'OS_PASSWORD' '$T/err'"

# ------------------------------------------------------- wrong password
run OS_USERNAME=alice OS_PASSWORD=wrong-password token create
check "a wrong password: exit 1" rc_is 1
check "... 'authentication failed'" err_has "authentication failed"
check "... naming AuthenticationFailed" err_has "(AuthenticationFailed)"

# ------------------------------------------------------------- OS_TOKEN
KS_BOB=$(curl -fsS -D - -o /dev/null --max-time 20 -H 'Content-Type: application/json' \
    -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"bob\",\"domain\":{\"id\":\"default\"},\"password\":\"$BOB_PASSWORD\"}}}}}" \
    "$KEYSTONE_AUTH_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p')
check "a Keystone token for bob from Keystone" [ -n "$KS_BOB" ]
run OS_TOKEN="$KS_BOB" token create --description "bob via keystone token" --expires-in 30
check "token create with OS_TOKEN" rc_is 0
BOB_TOK=$(cat "$T/out")
run OS_TOKEN="$KS_BOB" --json token list
check "OS_TOKEN: bob's list holds the token, expiring in 30 days" \
    jft "$T/out" "any(t['description'] == 'bob via keystone token' and t['user_name'] == 'bob' and 29*86400 < t['expires'] - t['created'] <= 30*86400 for t in d['tokens'])"
run_in "$BOB_TOK" token validate
check "bob's token validates as bob" grep -qE '^User name: +bob$' "$T/out"
run_in "$BOB_TOK" token create --kaas-token-stdin --description "bob via kaas token"
check "token create --kaas-token-stdin with bob's KaaS token" rc_is 0
run_in "$BOB_TOK" --json token list --kaas-token-stdin
check "--kaas-token-stdin lists bob's two tokens" \
    jft "$T/out" "len(d['tokens']) == 2 and all(t['user_name'] == 'bob' for t in d['tokens'])"

# ------------------------------------------------ another user's tokens
if [ "$NOBODY" = 1 ]; then
    run_as KAAS_SOCKET="$KAAS_SOCKET" $BOB token list --user alice
    check "bob (not root) cannot list alice's tokens: exit 1" rc_is 1
    check "... PermissionDenied" err_has "PermissionDenied"
    run_as KAAS_SOCKET="$KAAS_SOCKET" $BOB token list --all
    check "bob cannot list all tokens" bash -c "[ $rc -eq 1 ] && grep -qF PermissionDenied '$T/err'"
    run_as KAAS_SOCKET="$KAAS_SOCKET" $BOB token delete "$ID1"
    check "bob cannot delete alice's token: exit 1, NotFound" bash -c "[ $rc -eq 1 ] && grep -qF NotFound '$T/err'"
    run_as KAAS_SOCKET="$KAAS_SOCKET" $BOB token revoke-user alice
    check "bob cannot revoke alice" bash -c "[ $rc -eq 1 ] && grep -qF PermissionDenied '$T/err'"
    run_as KAAS_SOCKET="$KAAS_SOCKET" token list --user alice
    check "without root and without credentials: CredentialsRequired explained" \
        bash -c "[ $rc -ne 0 ] && grep -qF OS_USERNAME '$T/err'"
    printf '%s\n' "$TOK1" >"$T/tok1"
    $NOTTY setpriv --reuid=65534 --regid=65534 --clear-groups env KAAS_SOCKET="$KAAS_SOCKET" "$KC" token validate \
        <"$T/tok1" >"$T/out" 2>"$T/err"
    rc=$?
    check "a user outside the validator group cannot validate: exit 1, permission denied" \
        bash -c "[ $rc -eq 1 ] && grep -qF 'permission denied' '$T/err'"
    run_as KAAS_SOCKET="$KAAS_SOCKET" cache invalidate alice
    check "a user outside the admin group cannot invalidate the cache" rc_is 1
    # alice deletes her own token as an ordinary user: kaasctl asks kaasd
    # without credentials first, then with them
    run_as KAAS_SOCKET="$KAAS_SOCKET" $ALICE token delete "$ID1"
    check "alice (not root) deletes her own token" rc_is 0
    check "... which is reported" out_has "deleted $ID1"
else
    echo "# not root, no setpriv, or nobody cannot run $KC: checks as another user skipped"
    run token delete "$ID1"
    check "root deletes alice's token" rc_is 0
fi
run_in "$TOK1" token validate
check "the deleted token no longer validates: exit 1" rc_is 1
check "... InvalidToken" err_has "InvalidToken"
run token delete "$ID1"
check "deleting it again: exit 1, NotFound" bash -c "[ $rc -eq 1 ] && grep -qF NotFound '$T/err'"

# ----------------------------------------------------------- root admin
run token list --user alice
check "root lists alice's tokens without credentials" rc_is 0
check "... the one from the pipe" out_has "from pipe"
check "... with a USER column" bash -c "head -1 '$T/out' | grep -qE '^ID +USER +DESCRIPTION'"
run --json token list --all
check "root lists all tokens" jft "$T/out" "{'alice', 'bob'} <= {t['user_name'] for t in d['tokens']}"
run token revoke-user alice
check "root revokes alice" rc_is 0
check "... one token revoked" out_has "revoked 1 token of alice"
run_in "$TOK2" token validate
check "alice's remaining token no longer validates" rc_is 1
run token list --user alice
check "alice has no tokens left" bash -c "[ $rc -eq 0 ] && grep -qF 'no tokens' '$T/err'"
run token list --user alice --all
check "--user with --all is a usage error" rc_is 2

# -------------------------------------------------------------- user show
run user show alice
check "user show alice" rc_is 0
check "... her ID" out_has "$ALICE_ID"
check "... role k8s-admins-alpha with its ID" grep -qE "^k8s-admins-alpha +$ROLE_K8S_ADMINS_ALPHA_ID +project demo" "$T/out"
check "... admin of cluster alpha" grep -qE '^Admin of clusters: +alpha$' "$T/out"
check "... project demo" grep -qE "^demo +$PROJECT_DEMO_ID" "$T/out"
run --json user show alice
check "user show --json" jft "$T/out" "d['name'] == 'alice' and d['admin_of_clusters'] == ['alpha'] and d['enabled']"
run user show "$ALICE_ID"
check "user show by ID" grep -qE '^Name: +alice$' "$T/out"
run user show bob
check "bob administers no cluster" grep -qE '^Admin of clusters: +-$' "$T/out"
run user show no-such-user-here
check "an unknown user: exit 1, 'no such user'" bash -c "[ $rc -eq 1 ] && grep -qF 'no such user' '$T/err'"

# ------------------------------------------------------------------ cache
run user show alice
check "alice is now answered from the cache" out_has "kaasd's cache"
run cache invalidate alice
check "cache invalidate alice" rc_is 0
check "... removed her entry" out_has "removed 1 cached entry of alice"
run user show alice
check "after invalidation, user show alice comes from Keystone" grep -qE '^Source: +keystone' "$T/out"
run cache invalidate --all
check "cache invalidate --all" bash -c "[ $rc -eq 0 ] && grep -qE '^removed [0-9]+ cached entr' '$T/out'"
run cache invalidate
check "cache invalidate without a user or --all: usage error" rc_is 2
run cache invalidate alice --all
check "cache invalidate with both: usage error" rc_is 2

# ----------------------------------------------------- Kubernetes documents
# b64 FILE KEY: the base64 value of the first "KEY: ..." line, decoded
b64() { sed -n "s/^ *$2: \"\\(.*\\)\"\$/\\1/p" "$1" | head -1 | base64 -d; }
yaml_ok() {  # parses as YAML when a parser is at hand
    if $PY -c 'import yaml' 2>/dev/null; then
        $PY -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$1"
    else
        return 0
    fi
}
if command -v openssl >/dev/null 2>&1; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=kaas-test-ca \
        -keyout "$T/ca.key" -out "$T/ca.pem" 2>/dev/null
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=kube-apiserver \
        -keyout "$T/client.key" -out "$T/client.pem" 2>/dev/null
    openssl pkey -in "$T/client.key" -aes256 -passout pass:secret -out "$T/encrypted.key" 2>/dev/null
else
    for f in ca client; do
        { echo "-----BEGIN CERTIFICATE-----"; head -c 300 /dev/urandom | base64; echo "-----END CERTIFICATE-----"; } >"$T/$f.pem"
    done
    { echo "-----BEGIN PRIVATE KEY-----"; head -c 100 /dev/urandom | base64; echo "-----END PRIVATE KEY-----"; } >"$T/client.key"
    { echo "-----BEGIN ENCRYPTED PRIVATE KEY-----"; head -c 100 /dev/urandom | base64; echo "-----END ENCRYPTED PRIVATE KEY-----"; } >"$T/encrypted.key"
fi

run webhook kubeconfig --server https://127.0.0.1:8443 --ca "$T/ca.pem" --client-cert "$T/client.pem" \
    --client-key "$T/client.key" --output "$T/webhook.kubeconfig"
check "webhook kubeconfig" rc_is 0
W=$T/webhook.kubeconfig
check "... mode 0600 (it holds a private key)" [ "$(stat -c %a "$W")" = 600 ]
check "... server ends with /authenticate" grep -qxF '    server: "https://127.0.0.1:8443/authenticate"' "$W"
check "... apiVersion v1, kind Config" bash -c "grep -qx 'apiVersion: \"v1\"' '$W' && grep -qx 'kind: \"Config\"' '$W'"
check "... current-context set" grep -qE '^current-context: "[^"]+"$' "$W"
check "... certificate-authority-data is the CA file in base64" cmp -s <(b64 "$W" certificate-authority-data) "$T/ca.pem"
check "... client-certificate-data round trip" cmp -s <(b64 "$W" client-certificate-data) "$T/client.pem"
check "... client-key-data round trip" cmp -s <(b64 "$W" client-key-data) "$T/client.key"
check "... parses as YAML" yaml_ok "$W"
run webhook kubeconfig --server https://kaas.example:8443/authenticate/ --ca "$T/ca.pem"
check "webhook kubeconfig to stdout, /authenticate not doubled" \
    bash -c "[ $rc -eq 0 ] && grep -qxF '    server: \"https://kaas.example:8443/authenticate\"' '$T/out'"
check "... without client certificate: user {}" grep -qxF '  user: {}' "$T/out"
run webhook kubeconfig --server https://127.0.0.1:8443 --ca "$T/client.key"
check "a private key given as --ca is refused (exit 2)" bash -c "[ $rc -eq 2 ] && grep -qF 'not a certificate' '$T/err'"
run webhook kubeconfig --server https://127.0.0.1:8443 --ca "$T/missing.pem"
check "a missing --ca file: exit 2, named" bash -c "[ $rc -eq 2 ] && grep -qF 'missing.pem' '$T/err'"
run webhook kubeconfig --server https://127.0.0.1:8443 --ca "$T/ca.pem" --client-cert "$T/client.pem" \
    --client-key "$T/encrypted.key"
check "an encrypted client key is refused" bash -c "[ $rc -eq 2 ] && grep -qF 'encrypted' '$T/err'"
run webhook kubeconfig --server http://127.0.0.1:8443 --ca "$T/ca.pem"
check "a plain http:// webhook URL is refused" rc_is 2
run webhook kubeconfig --server https://127.0.0.1:8443 --ca "$T/ca.pem" --client-cert "$T/client.pem"
check "--client-cert without --client-key is refused" rc_is 2

run rbac cluster-admin --cluster alpha --role-id "$ROLE_K8S_ADMINS_ALPHA_ID"
check "rbac cluster-admin" rc_is 0
cp "$T/out" "$T/crb.yaml"
check "... a ClusterRoleBinding of rbac.authorization.k8s.io/v1" \
    bash -c "grep -qx 'apiVersion: \"rbac.authorization.k8s.io/v1\"' '$T/crb.yaml' && grep -qx 'kind: \"ClusterRoleBinding\"' '$T/crb.yaml'"
check "... named kaas:cluster-admin:alpha" grep -qxF '  name: "kaas:cluster-admin:alpha"' "$T/crb.yaml"
check "... the role ID as a Group subject" bash -c "grep -qxF '  kind: \"Group\"' '$T/crb.yaml' && grep -qxF '  name: \"$ROLE_K8S_ADMINS_ALPHA_ID\"' '$T/crb.yaml'"
check "... roleRef ClusterRole cluster-admin" bash -c "grep -A3 '^roleRef:' '$T/crb.yaml' | grep -qxF '  name: \"cluster-admin\"'"
check "... parses as YAML" yaml_ok "$T/crb.yaml"
if $PY -c 'import yaml' 2>/dev/null; then
    check "... whose structure is what kube-apiserver expects" $PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert d["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "cluster-admin"}
assert d["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": sys.argv[2]}]' \
        "$T/crb.yaml" "$ROLE_K8S_ADMINS_ALPHA_ID"
fi
run --json rbac cluster-admin --cluster alpha --role-id "a1,b2,a1"
check "rbac --json: several role IDs, duplicates dropped" \
    jft "$T/out" "[s['name'] for s in d['subjects']] == ['a1', 'b2'] and d['metadata']['name'] == 'kaas:cluster-admin:alpha'"
run rbac cluster-admin --cluster alpha
check "rbac without --role-id: usage error" rc_is 2
run rbac cluster-admin --cluster alpha --role-id ''
check "rbac with an empty --role-id (an unset variable): usage error, no binding" \
    bash -c "[ $rc -eq 2 ] && [ ! -s '$T/out' ] && grep -qF 'role-id is empty' '$T/err'"
run rbac cluster-admin --cluster 'a b' --role-id x
check "rbac with a cluster name outside [A-Za-z0-9._-]: usage error" rc_is 2

run_in "$BOB_TOK" kubeconfig --cluster alpha --server https://127.0.0.1:6443 --ca "$T/ca.pem" --output "$T/bob.kubeconfig"
check "kubeconfig with a token from stdin" rc_is 0
K=$T/bob.kubeconfig
check "... mode 0600" [ "$(stat -c %a "$K")" = 600 ]
check "... carries the token" grep -qxF "    token: \"$BOB_TOK\"" "$K"
check "... the server" grep -qxF '    server: "https://127.0.0.1:6443"' "$K"
check "... the CA, base64 round trip" cmp -s <(b64 "$K" certificate-authority-data) "$T/ca.pem"
check "... context alpha is current" grep -qxF 'current-context: "alpha"' "$K"
check "... parses as YAML" yaml_ok "$K"
if command -v kubectl >/dev/null 2>&1; then
    check "... kubectl reads it: server and token" bash -c "
        [ \"\$(kubectl --kubeconfig '$K' config view --raw -o jsonpath='{.clusters[0].cluster.server}')\" = https://127.0.0.1:6443 ] &&
        [ \"\$(kubectl --kubeconfig '$K' config view --raw -o jsonpath='{.users[0].user.token}')\" = '$BOB_TOK' ]"
fi
umask 022
printf 'old\n' >"$T/existing.kubeconfig"
chmod 0644 "$T/existing.kubeconfig"
run_in "$BOB_TOK" kubeconfig --cluster alpha --server https://127.0.0.1:6443 --output "$T/existing.kubeconfig"
check "an existing kubeconfig is replaced, and becomes 0600" \
    bash -c "[ $rc -eq 0 ] && [ \"\$(stat -c %a '$T/existing.kubeconfig')\" = 600 ] && grep -qF 'token:' '$T/existing.kubeconfig'"
run_in "not-a-token" kubeconfig --cluster alpha --server https://127.0.0.1:6443
check "kubeconfig refuses stdin that is not a KaaS token" rc_is 2
run kubeconfig --cluster alpha --server https://127.0.0.1:6443 --description x
check "--description without --create: usage error" rc_is 2

run $ALICE kubeconfig --create --description "kubeconfig alpha" --cluster alpha \
    --server https://127.0.0.1:6443 --output "$T/alice.kubeconfig"
check "kubeconfig --create with alice's credentials" rc_is 0
check "... mode 0600" [ "$(stat -c %a "$T/alice.kubeconfig")" = 600 ]
ATOK=$(sed -n 's/^    token: "\(.*\)"$/\1/p' "$T/alice.kubeconfig")
check "... the new token is in the file" grep -qxE 'kaas_[A-Za-z0-9]{38,}' <<<"$ATOK"
check "... and nowhere on stdout or stderr" bash -c "! grep -qF -- '$ATOK' '$T/out' '$T/err'"
run_in "$ATOK" token validate
check "... and it validates as alice" grep -qE '^User name: +alice$' "$T/out"

# ------------------------------------------------------ terminal prompts
# kaasctl on a pseudo-terminal of its own: the user name is asked with
# echo, the password without; SIGINT at the password prompt ends kaasctl
# with the terminal's echo restored.
cat >"$T/prompt_check.py" <<'PYEOF'
import os, pty, sys, termios, time, signal, select
kc, user, password, mode = sys.argv[1:5]
env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
pid, fd = pty.fork()
if pid == 0:
    # as from a login shell, whatever the test runner ignores; "ignored":
    # SIGINT ignored, as under nohup or in a shell's background job
    signal.signal(signal.SIGINT, signal.SIG_IGN if mode == "ignored" else signal.SIG_DFL)
    os.execve(kc, [kc, "token", "create", "--description", "from a terminal"], env)
def read_until(text, timeout=20):
    buf = b""
    end = time.monotonic() + timeout
    while text.encode() not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
        if not r:
            raise SystemExit("timeout waiting for %r, got %r" % (text, buf))
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    return buf
def echo_on():
    return bool(termios.tcgetattr(fd)[3] & termios.ECHO)
def wait_child(timeout=60):
    # bounded: a kaasctl that does not end is a failure, not a hang
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise SystemExit("kaasctl did not end within %d s" % timeout)
read_until("OpenStack user name: ")
assert echo_on(), "the user name prompt echoes"
os.write(fd, (user + "\n").encode())
read_until("OpenStack password for %s: " % user)
# kaasctl turns echo off around the prompt: waited for, bounded, not slept
end = time.monotonic() + 20
while echo_on() and time.monotonic() < end:
    time.sleep(0.01)
assert not echo_on(), "echo is off at the password prompt"
if mode == "interrupt":
    os.kill(pid, signal.SIGINT)
    status = wait_child()
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGINT, status
    assert echo_on(), "echo restored after SIGINT"
    print("interrupted, echo restored")
    sys.exit(0)
if mode == "ignored":
    # nothing may come of it: the password typed next answers this same
    # prompt (a kaasctl that caught the signal ends the prompt, flushes the
    # input and asks again, which the output below would show, or waits)
    os.kill(pid, signal.SIGINT)
    # before typing, the signal must have been dealt with (not pending) and
    # kaasctl be waiting again: the password must not race the signal
    def settled():
        st = dict(l.split(":", 1) for l in open("/proc/%d/status" % pid) if ":" in l)
        bit = 1 << (signal.SIGINT - 1)
        pending = int(st["SigPnd"], 16) | int(st["ShdPnd"], 16)
        return not (pending & bit) and st["State"].split()[0] == "S"
    end = time.monotonic() + 30
    while not settled():
        assert time.monotonic() < end, "kaasctl did not settle after SIGINT"
        time.sleep(0.02)
os.write(fd, (password + "\n").encode())
out = b""
end = time.monotonic() + 60
while time.monotonic() < end:
    r, _, _ = select.select([fd], [], [], max(0, end - time.monotonic()))
    if not r:
        break
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    out += chunk
status = wait_child()
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, out)
assert password.encode() not in out, "the password was echoed"
assert b"password for" not in out, "the prompt started over"  # out holds the new token: not shown
assert b"kaas_" in out, out
assert echo_on(), "echo restored"
print("created through the terminal, password not echoed")
PYEOF
$PY "$T/prompt_check.py" "$KC" alice "$ALICE_PASSWORD" create >"$T/out" 2>&1
rc=$?
check "prompts on the terminal, password without echo ($(tail -1 "$T/out"))" rc_is 0
$PY "$T/prompt_check.py" "$KC" alice "$ALICE_PASSWORD" interrupt >"$T/out" 2>&1
rc=$?
check "SIGINT at the password prompt restores the echo ($(tail -1 "$T/out"))" rc_is 0
$PY "$T/prompt_check.py" "$KC" alice "$ALICE_PASSWORD" ignored >"$T/out" 2>&1
rc=$?
check "SIGINT ignored by its parent (nohup): kaasctl stays at the prompt and creates the token ($(tail -1 "$T/out"))" rc_is 0

# ------------------------------------------------------------- throttling
# another uid, so that the throttle does not touch the checks above
if [ "$NOBODY" = 1 ]; then
    # three failures are free, the fourth blocks for 2 s, each further one
    # doubles that: stop at the first refusal
    for _ in $(seq 8); do
        AS_UID=65533 run_as KAAS_SOCKET="$KAAS_SOCKET" OS_USERNAME=frank OS_PASSWORD=wrong token create
        grep -qF RateLimited "$T/err" && break
    done
    check "repeated wrong passwords: exit 1, 'try again in N s'" \
        bash -c "[ $rc -eq 1 ] && grep -qE 'try again in [0-9]+ s \\(RateLimited\\)' '$T/err'"
fi

# ------------------------------------------------------------ unreachable
run KAAS_SOCKET="$T/no.sock" user show alice
check "kaasd not running: exit 3" rc_is 3

check_done || {
    echo "# kaasd log (tail):"
    tail -n 40 "$D/kaasd.log" | sed 's/^/# /'
    exit 1
}
exit 0
