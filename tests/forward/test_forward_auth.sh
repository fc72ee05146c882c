#!/bin/bash
# Managed services behind a real nginx protected by kaas-panel's /auth, set
# up as docs/managed-services.md tells an operator: its nginx block and its
# panel.conf lines are used as written, with the example names, addresses
# and files replaced by the test's own (a map below, nothing else changed).
#
# Two fake services (tests/forward/echo_upstream.py: they answer with the
# headers they got) on the hosts kibana.prod.kaas.test (no role required)
# and grafana.prod.kaas.test (role developer), the panel on
# panel.kaas.test, all on 127.0.0.1 (curl --resolve; chromium
# --host-resolver-rules). Shown with curl: a KaaS token as Bearer and as
# Basic passes with the identity headers and never reaches the upstream; a
# user without the role gets 403; no credentials, a deleted token and a
# forged cookie get 401 (curl) or the login redirect (a browser); a
# return_to outside the environment is not followed. Then in chromium
# (forward.test.js): a service sends the browser to the panel's login,
# which sends it back, and the service sees the identity; after logout the
# service sends it to the login again.
#
# The same nginx passes TLS through to the panel with docs/panel.md's
# stream block (ssl_preread), also used as written with the map above.
#
# nginx runs from its own configuration in the test's directory: nothing in
# /etc is touched. Skipped (77) without nginx; the browser part is skipped
# like tests/browser/test_panel_browser.sh's (CI=true makes that a failure).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
NGINX=${NGINX:-/usr/sbin/nginx}
[ -x "$NGINX" ] || { echo "SKIP: nginx is not installed (apt-get install nginx-core)"; exit 77; }

. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/panel-env.sh"

DOC=$top_srcdir/docs/managed-services.md
ks_env_setup --private
wh_env_setup "$KS_TMP/forward"
F=$W
NGINX_PID=
UP_PIDS=
cleanup_forward() {
    local pid
    [ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null
    for pid in $UP_PIDS ${PN_PID:-}; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    cp "$F"/*.log "$top_builddir/tests/forward/" 2>/dev/null
    ks_cleanup
}
trap cleanup_forward EXIT
mkdir -p "$top_builddir/tests/forward"

# ------------------------------------------------------------------ certificates
# one certificate for the panel's and the services' names: chromium trusts
# it by its key (one SPKI hash), curl by the test CA
wh_mk_ca ca &&
    wh_mk_cert ca site panel.kaas.test 'subjectAltName=DNS:panel.kaas.test,DNS:kibana.prod.kaas.test,DNS:grafana.prod.kaas.test,IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' ||
    { cat "$F/openssl.log" >&2; exit 99; }
cp "$F/site.crt" "$F/server.crt"
cp "$F/site.key" "$F/server.key"
[ -n "${RUN_AS[*]}" ] && chown nobody:nogroup "$F/server.key"
chmod 644 "$F/ca.crt" "$F/site.crt" "$F/server.crt"
SPKI=$(openssl x509 -in "$F/site.crt" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)

# ------------------------------------------------------------------ kaasd
# the panel is kaasd's frontend (throttled per account) and, for /auth, a
# validator: docs/managed-services.md's validator_group line
D=$KS_TMP/kaasd
KAASD_CONF_TAIL="$(pn_kaasd_conf_tail)
validator_group = $VGROUP" kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET

# ------------------------------------------------------------------ upstreams
start_upstream() {
    /usr/bin/python3 "$top_srcdir/tests/forward/echo_upstream.py" "$1" "$F/$1.port" 2>>"$F/upstream-$1.log" &
    UP_PIDS="$UP_PIDS $!"
    wait_for 60 test -s "$F/$1.port" || exit 99
}
start_upstream kibana
start_upstream grafana
KIBANA_PORT=$(cat "$F/kibana.port")
GRAFANA_PORT=$(cat "$F/grafana.port")

# ------------------------------------------------------------------ the panel
pn_env_setup || exit 99
NG_PORT=$(wh_free_port)
ORIGIN=https://panel.kaas.test:$PN_PORT

KIBANA=https://kibana.prod.kaas.test:$NG_PORT
GRAFANA=https://grafana.prod.kaas.test:$NG_PORT

# md_block START LANG: the first ```LANG block after the line holding START
md_block() {
    awk -v start="$1" -v lang="$2" '
        index($0, start) { found = 1; next }
        found && !inside && $0 == "```" lang { inside = 1; next }
        inside && $0 == "```" { exit }
        inside { print }' "$DOC"
}
DOC_PANEL=$(md_block '## Configuring kaas-panel' ini)
DOC_NGINX=$(md_block '## nginx' nginx)
[ -n "$DOC_PANEL" ] && [ -n "$DOC_NGINX" ] || { echo "docs/managed-services.md lost its examples" >&2; exit 99; }
DOC_STREAM=$(DOC=$top_srcdir/docs/panel.md md_block '### TLS and a reverse proxy' nginx)
[ -n "$DOC_STREAM" ] || { echo "docs/panel.md lost its nginx stream block" >&2; exit 99; }

# the doc's [panel], [cluster prod] and [forward_auth] lines with the
# test's names; listen, cert, key and [kaasd] come from pn_write_conf
doc_value() { printf '%s\n' "$DOC_PANEL" | sed -n "s/^$1 = //p" | head -1; }
sed_names=(-e "s#https://kaas.example.com#$ORIGIN#g"
    -e "s#https://kibana.prod.example.com/#$KIBANA/#g" -e "s#https://grafana.prod.example.com/#$GRAFANA/#g"
    -e "s#kibana.prod.example.com#kibana.prod.kaas.test#g" -e "s#grafana.prod.example.com#grafana.prod.kaas.test#g"
    -e "s#kaas.example.com#panel.kaas.test#g" -e "s#cookie_domain = example.com#cookie_domain = kaas.test#"
    -e "s#grafana-users,admin#$ROLE_DEVELOPER_NAME#")
CLUSTER_LINES=$(printf '%s\n' "$DOC_PANEL" | sed -n '/^\[cluster prod\]/,/^$/p' | sed "${sed_names[@]}" |
    sed -e "s#^ca_file = .*#ca_file = $F/ca.crt#")
FA_LINES=$(printf '%s\n' "$DOC_PANEL" | sed -n '/^\[forward_auth\]/,$p')
pn_write_conf "$F/panel.conf" "$(printf '%s\n' "$DOC_PANEL" | sed -n '/^cookie_domain/p' | sed "${sed_names[@]}")" \
    "$CLUSTER_LINES

$FA_LINES"
# the panel's origin is what users type
sed -i "s#^origin = .*#origin = $ORIGIN#" "$F/panel.conf"
pn_start "$F/panel.conf" "$F/panel.log" || exit 99
check "the doc's cookie_domain is used" grep -q '^cookie_domain = kaas.test$' "$F/panel.conf"

# ------------------------------------------------------------------ nginx
# the doc's block: its upstream is the panel, its services ours
mkdir -p "$F/nginx/logs" "$F/nginx/tmp"
SERVER_BLOCK=$(printf '%s\n' "$DOC_NGINX" | sed "${sed_names[@]}" -e "s#192.0.2.10:443#127.0.0.1:$PN_PORT#" \
    -e "s#listen 443 ssl;#listen 127.0.0.1:$NG_PORT ssl;#" \
    -e "s#/etc/ssl/kaas/services.crt#$F/site.crt#" -e "s#/etc/ssl/kaas/services.key#$F/site.key#" \
    -e "s#/etc/ssl/certs/ca-certificates.crt#$F/ca.crt#")
# a second service: the same server block for grafana, its upstream its own
SERVICE_BLOCK=$(printf '%s\n' "$SERVER_BLOCK" | sed -n '/^server {/,$p')
GRAFANA_BLOCK=$(printf '%s\n' "$SERVICE_BLOCK" | sed -e "s#kibana.prod.kaas.test#grafana.prod.kaas.test#" \
    -e "s#http://127.0.0.1:5601#http://127.0.0.1:$GRAFANA_PORT#")
SERVER_BLOCK=$(printf '%s\n' "$SERVER_BLOCK" | sed "s#http://127.0.0.1:5601#http://127.0.0.1:$KIBANA_PORT#")
# panel.md's stream block: TLS passed through to the panel on a port of its own
ST_PORT=$(wh_free_port)
while [ "$ST_PORT" = "$NG_PORT" ] || [ "$ST_PORT" = "$PN_PORT" ]; do ST_PORT=$(wh_free_port); done
STREAM_BLOCK=$(printf '%s\n' "$DOC_STREAM" | sed -e "s#kaas.example.com #panel.kaas.test #" \
    -e "s#127.0.0.1:8444;#127.0.0.1:$PN_PORT;#" -e "s#listen 443;#listen 127.0.0.1:$ST_PORT;#")
for want in "panel.kaas.test  127.0.0.1:$PN_PORT;" "listen 127.0.0.1:$ST_PORT;"; do
    grep -qF -- "$want" <<<"$STREAM_BLOCK" || { echo "docs/panel.md's stream block changed: no '$want' after the map" >&2; exit 99; }
done
STREAM_MODULE=/usr/lib/nginx/modules/ngx_stream_module.so
[ -f "$STREAM_MODULE" ] || { echo "nginx's stream module is not installed (apt-get install libnginx-mod-stream)" >&2; exit 99; }
cat >"$F/nginx/nginx.conf" <<EOF
load_module $STREAM_MODULE;
worker_processes 1;
pid $F/nginx/nginx.pid;
error_log $F/nginx.log info;
daemon off;
events { worker_connections 256; }
http {
    access_log $F/nginx-access.log;
    client_body_temp_path $F/nginx/tmp/body;
    proxy_temp_path $F/nginx/tmp/proxy;
    fastcgi_temp_path $F/nginx/tmp/fastcgi;
    uwsgi_temp_path $F/nginx/tmp/uwsgi;
    scgi_temp_path $F/nginx/tmp/scgi;
$SERVER_BLOCK
$GRAFANA_BLOCK
}
$STREAM_BLOCK
EOF
"$NGINX" -t -p "$F/nginx" -c "$F/nginx/nginx.conf" >"$F/nginx-t.log" 2>&1 ||
    { cat "$F/nginx-t.log" "$F/nginx/nginx.conf" >&2; exit 99; }
"$NGINX" -p "$F/nginx" -c "$F/nginx/nginx.conf" 2>>"$F/nginx.log" &
NGINX_PID=$!
wait_for 60 curl -s -o /dev/null --cacert "$F/ca.crt" \
    --resolve "kibana.prod.kaas.test:$NG_PORT:127.0.0.1" "$KIBANA/" || { cat "$F/nginx.log" >&2; exit 99; }

# svc_curl ARGS...: curl resolving the test's names to 127.0.0.1
svc_curl() {
    curl -s --max-time 30 --cacert "$F/ca.crt" --resolve "kibana.prod.kaas.test:$NG_PORT:127.0.0.1" \
        --resolve "grafana.prod.kaas.test:$NG_PORT:127.0.0.1" --resolve "panel.kaas.test:$PN_PORT:127.0.0.1" "$@"
}
# ------------------------------------------------------------------ TLS passed through
# panel.md's stream block: the browser's TLS goes to the panel unchanged
# (the panel's own key, pinned), and a name the map does not hold goes nowhere
stream_get() {
    curl -s --max-time 30 --cacert "$F/ca.crt" --resolve "$1:$ST_PORT:127.0.0.1" "${@:3}" "https://$1:$ST_PORT$2"
}
out=$(stream_get panel.kaas.test /healthz --pinnedpubkey "sha256//$SPKI")
check "panel.md's stream block: the panel's /healthz through nginx, its TLS passed through ($out)" test "$out" = ok
code=$(stream_get panel.kaas.test /login -o /dev/null -w '%{http_code}')
check "... and its login page ($code)" test "$code" = 200
check "a server name the map does not hold gets no connection" \
    bash -c "! curl -s --max-time 30 -k --resolve 'kibana.prod.kaas.test:$ST_PORT:127.0.0.1' -o /dev/null 'https://kibana.prod.kaas.test:$ST_PORT/'"

# request_json FILE: the upstream's echo of what it was sent
request_json() {
    /usr/bin/python3 -c 'import html, re, sys
m = re.search(r"<pre id=\"request\">(.*)</pre>", open(sys.argv[1]).read(), re.S)
print(html.unescape(m.group(1)) if m else "{}")' "$1"
}

create_token() { # USER PASSWORD: a new KaaS token of USER
    $VL "$SOCK" io.kaas.Token.Create "{\"credentials\": {\"user\": \"$1\", \"password\": \"$2\"}, \"description\": \"forward-auth\"}" |
        /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["parameters"]["token"])'
}
ALICE_TOKEN=$(create_token alice "$ALICE_PASSWORD")
BOB_TOKEN=$(create_token bob "$BOB_PASSWORD")
[ -n "$ALICE_TOKEN" ] && [ -n "$BOB_TOKEN" ] || { echo "cannot create tokens" >&2; exit 99; }

# ------------------------------------------------------------------ curl
code=$(svc_curl -o "$F/bearer.html" -w '%{http_code}' -H "Authorization: Bearer $ALICE_TOKEN" "$GRAFANA/dashboards?x=1")
check "a Bearer token with the role passes ($code)" test "$code" = 200
request_json "$F/bearer.html" >"$F/bearer.json"
check "the service gets the user's name" test "$(j "$(cat "$F/bearer.json")" "d['headers'].get('x-remote-user')")" = '"alice"'
check "the service gets the Keystone user ID" \
    test "$(j "$(cat "$F/bearer.json")" "d['headers'].get('x-remote-uid')")" = "\"$ALICE_ID\""
check "the service gets the role IDs as groups" \
    jt "$(cat "$F/bearer.json")" "'$ROLE_DEVELOPER_ID' in d['headers'].get('x-remote-groups', '').split(',') and '$ROLE_MEMBER_ID' in d['headers']['x-remote-groups'].split(',')"
check "the service never sees the token (no Authorization header)" \
    jt "$(cat "$F/bearer.json")" "'authorization' not in d['headers'] and '$ALICE_TOKEN' not in json.dumps(d)"

code=$(svc_curl -o "$F/basic.html" -w '%{http_code}' -u "alice:$ALICE_TOKEN" "$KIBANA/")
check "a token as Basic password with the user's name passes ($code)" test "$code" = 200
request_json "$F/basic.html" >"$F/basic.json"
check "Basic: the service gets the identity, not the token" \
    jt "$(cat "$F/basic.json")" "d['headers'].get('x-remote-user') == 'alice' and 'authorization' not in d['headers'] and '$ALICE_TOKEN' not in json.dumps(d)"
code=$(svc_curl -o /dev/null -w '%{http_code}' -u "bob:$ALICE_TOKEN" "$KIBANA/")
check "Basic with another user's name is refused ($code)" test "$code" = 401

code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" "$GRAFANA/")
check "a user without the service's role gets 403 ($code)" test "$code" = 403
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" "$KIBANA/")
check "the same user passes where no role is required ($code)" test "$code" = 200

# ingress-nginx's subrequest: X-Original-URL set by the ingress, any
# X-Forwarded-Host the client sent passed on as it came
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" -H "X-Original-URL: $GRAFANA/" \
    "$ORIGIN/auth")
check "ingress-nginx: a user without Grafana's role gets 403 ($code)" test "$code" = 403
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" -H "X-Original-URL: $GRAFANA/" \
    -H "X-Forwarded-Host: kibana.prod.kaas.test:$NG_PORT" "$ORIGIN/auth")
check "ingress-nginx: the client's own X-Forwarded-Host naming Kibana does not let him in ($code)" test "$code" = 403
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ALICE_TOKEN" -H "X-Original-URL: $GRAFANA/x" \
    -H "X-Forwarded-Host: Grafana.prod.kaas.test:$NG_PORT" -H "X-Forwarded-Uri: /x" "$ORIGIN/auth")
check "both headers naming the same host pass ($code)" test "$code" = 204

# a forged identity header from the client is replaced, not passed on
svc_curl -o "$F/forged-header.html" -H "Authorization: Bearer $BOB_TOKEN" -H "X-Remote-User: admin" "$KIBANA/"
check "a client's own X-Remote-User is overwritten" \
    jt "$(request_json "$F/forged-header.html")" "d['headers'].get('x-remote-user') == 'bob'"

code=$(svc_curl -o /dev/null -w '%{http_code}' "$KIBANA/")
loc=$(svc_curl -o /dev/null -w '%{redirect_url}' "$KIBANA/app?q=a&b=c")
check "no credentials: the browser is sent to the panel's login ($code)" test "$code" = 302
check "... with return_to naming the page it asked for" \
    test "$loc" = "$ORIGIN/login?return_to=https%3A%2F%2Fkibana.prod.kaas.test%3A$NG_PORT%2Fapp%3Fq%3Da%26b%3Dc"

TID=$($VL "$SOCK" io.kaas.Token.Validate "{\"token\": \"$BOB_TOKEN\"}" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["parameters"]["token_id"])')
$VL "$SOCK" io.kaas.Token.Delete "{\"credentials\": {\"kaas_token\": \"$BOB_TOKEN\"}, \"ids\": [\"$TID\"]}" >/dev/null
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $BOB_TOKEN" "$KIBANA/")
check "a deleted token gets 401 ($code)" test "$code" = 401
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer kaas_notatoken" "$KIBANA/")
check "a malformed token gets 401 ($code)" test "$code" = 401

FORGED=$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
code=$(svc_curl -o /dev/null -w '%{http_code}' -b "__Secure-kaas-session=$FORGED" "$KIBANA/")
check "a forged session cookie is sent to the login ($code)" test "$code" = 302
code=$(svc_curl -o /dev/null -w '%{http_code}' -b "__Secure-kaas-session=$FORGED" -H "X-Forwarded-Host: kibana.prod.kaas.test:$NG_PORT" \
    -H "X-Forwarded-Uri: /" "$ORIGIN/auth")
check "... which the panel's /auth answers 401 ($code)" test "$code" = 401
code=$(svc_curl -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ALICE_TOKEN" -H "X-Forwarded-Host: evil.example.net" \
    -H "X-Forwarded-Uri: /" "$ORIGIN/auth")
check "a host that is no configured service gets 403 ($code)" test "$code" = 403

# an ingress keeps its connections to the panel: two subrequests, one
# connection (a GET answered too early would close it after each)
svc_curl -v -o /dev/null -o /dev/null -H "Authorization: Bearer $ALICE_TOKEN" -H "X-Forwarded-Host: kibana.prod.kaas.test:$NG_PORT" \
    "$ORIGIN/auth" "$ORIGIN/auth" 2>"$F/keepalive.trace"
check "two /auth requests share one connection" grep -q "Re-using existing connection" "$F/keepalive.trace"

# the panel itself: a return_to outside the environment is never followed
PN_JAR=$F/jar-alice
svc_curl -b "$PN_JAR" -c "$PN_JAR" -o "$F/login.html" "$ORIGIN/login?return_to=https%3A%2F%2Fevil.example.net%2F"
CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$F/login.html" | head -1)
RT=$(sed -n 's/.*name="return_to" value="\([^"]*\)".*/\1/p' "$F/login.html" | head -1)
loc=$(svc_curl -b "$PN_JAR" -c "$PN_JAR" -o /dev/null -w '%{redirect_url}' -H "Origin: $ORIGIN" \
    --data-urlencode "csrf=$CSRF" --data-urlencode "user=alice" --data-urlencode "password=$ALICE_PASSWORD" \
    --data-urlencode "domain=Default" --data-urlencode "return_to=https://evil.example.net/" "$ORIGIN/login")
check "a return_to outside the environment is not followed ($loc)" test "$loc" = "$ORIGIN/tokens"
check "... nor offered in the login form" test -z "$RT"
check "the panel's session cookie is scoped to the environment's domain" \
    grep -q "^#HttpOnly_\.kaas\.test	TRUE	/	TRUE	.*	__Secure-kaas-session	" "$PN_JAR"
SESSION=$(awk '$6 == "__Secure-kaas-session" { print $7 }' "$PN_JAR")
svc_curl -o "$F/session.html" -b "__Secure-kaas-session=$SESSION; theme=dark" "$GRAFANA/"
check "the panel session passes at a service" jt "$(request_json "$F/session.html")" "d['headers'].get('x-remote-user') == 'alice'"
check "the service never sees the session cookie, and keeps its own" \
    jt "$(request_json "$F/session.html")" "d['headers'].get('cookie') == 'theme=dark' and '$SESSION' not in json.dumps(d)"
# logged out: the same cookie no longer passes
svc_curl -b "$PN_JAR" -c "$PN_JAR" -o "$F/tokens.html" "$ORIGIN/tokens"
CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$F/tokens.html" | head -1)
svc_curl -b "$PN_JAR" -c "$PN_JAR" -o /dev/null -H "Origin: $ORIGIN" --data-urlencode "csrf=$CSRF" "$ORIGIN/logout"
code=$(svc_curl -o /dev/null -w '%{http_code}' -b "__Secure-kaas-session=$SESSION" "$GRAFANA/")
check "a logged-out session is sent to the login ($code)" test "$code" = 302
code=$(svc_curl -o /dev/null -w '%{http_code}' -b "__Secure-kaas-session=$SESSION" -H "X-Forwarded-Host: grafana.prod.kaas.test:$NG_PORT" \
    "$ORIGIN/auth")
check "... which the panel's /auth answers 401 ($code)" test "$code" = 401
check "no log line holds a token or the session ID" \
    bash -c "! grep -h -e '$ALICE_TOKEN' -e '$BOB_TOKEN' -e '$SESSION' '$F'/*.log '$D/kaasd.log'"
check "the panel logged its decisions" grep -q 'forward-auth: Grafana of cluster prod: alice (bearer) passes' "$F/panel.log"

# ------------------------------------------------------------------ chromium
BR=$top_srcdir/tests/browser
if [ -x "${CHROMIUM:-/usr/bin/chromium}" ] && [ -f "$BR/node_modules/puppeteer-core/package.json" ]; then
    mkdir -p "$top_builddir/tests/forward/shots" "$F/profile"
    PANEL_URL=$ORIGIN PANEL_SPKI=$SPKI PANEL_SHOTS=$top_builddir/tests/forward/shots PANEL_PROFILE_DIR=$F/profile \
        KIBANA_URL=$KIBANA GRAFANA_URL=$GRAFANA ALICE_PASSWORD=$ALICE_PASSWORD BOB_PASSWORD=$BOB_PASSWORD \
        BROWSER_EXTRA_ARGS="--host-resolver-rules=MAP *.kaas.test 127.0.0.1" \
        node "$top_srcdir/tests/forward/forward.test.js"
    check "the browser's sign-in through the ingress" test $? = 0
elif [ "${CI:-}" = true ]; then
    not_ok "chromium or puppeteer-core missing (CI=true: the browser part must run)"
else
    echo "# chromium or puppeteer-core missing: the browser part is skipped"
fi
pn_stop
check "kaas-panel stops cleanly ($PN_RC)" test "$PN_RC" = 0
check "no sanitizer report in the panel's log" bash -c "! grep -q -e Sanitizer -e 'runtime error' '$F/panel.log'"
check_done
