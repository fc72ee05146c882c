#!/bin/bash
# kaas-panel without a browser: a real Keystone, a real kaasd, the panel
# over real HTTPS (running unprivileged: nobody:nogroup when the test runs
# as root, nogroup then being kaasd's frontend_group), driven with curl as
# a browser would drive it: cookie jar, forms with their CSRF tokens, and
# the Origin and Sec-Fetch-Site headers a browser sends. Checks the
# security headers and cookie flags in the raw responses, the login (and
# one generic message for every wrong credential), the token life cycle
# (the new token shown once, used through kaasd, deleted), the refusals
# (missing and wrong CSRF token, another origin, 403 on every admin URL
# for a non-administrator), escaping, administration, idle expiry and
# logout. Each check is one "ok"/"not ok" line; any "not ok" fails.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/panel-env.sh"

ks_env_setup
D=$KS_TMP/kaasd
KAASD_CONF_TAIL=$(pn_kaasd_conf_tail)
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$D"
wh_env_setup "$KS_TMP/panel"
pn_env_setup || exit 99
LOG=$W/panel.log
pn_write_conf "$W/panel.conf"
pn_start "$W/panel.conf" "$LOG" || exit 99

OUT=$W/out
pn_form_helpers

# ---------------------------------------------------------------- static files
for f in panel.css panel.js; do
    check "/static/$f is the source file, byte for byte" cmp -s <(curl -s --cacert "$W/ca.crt" "$PN_URL/static/$f") "$top_srcdir/panel/static/$f"
done

# ---------------------------------------------------------------- login page
PN_JAR=$W/jar-anon
check "logged out, / goes to /login" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --cacert '$W/ca.crt' '$PN_URL/')\" = '303 $PN_URL/login' ]"
check "logged out, /tokens goes to /login" bash -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' --cacert '$W/ca.crt' '$PN_URL/tokens')\" = 303 ]"
code=$(get /login)
check "GET /login: 200" [ "$code" = 200 ]
check "the login form: user, password, domain preset, csrf" bash -c "grep -q '<form id=\"login\" method=\"post\" action=\"/login\">' '$OUT.body' && grep -q 'id=\"user\" name=\"user\"' '$OUT.body' && grep -q 'id=\"password\" name=\"password\" type=\"password\"' '$OUT.body' && grep -q 'id=\"domain\" name=\"domain\" value=\"Default\"' '$OUT.body' && grep -q 'name=\"csrf\" value=\"' '$OUT.body'"
check "every input has its label" bash -c "grep -q '<label for=\"user\">' '$OUT.body' && grep -q '<label for=\"password\">' '$OUT.body' && grep -q '<label for=\"domain\">' '$OUT.body'"
check "Content-Security-Policy as the contract says" [ "$(header Content-Security-Policy)" = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'" ]
check "nosniff, no-referrer, HSTS, no-store" bash -c "[ '$(header X-Content-Type-Options)' = nosniff ] && [ '$(header Referrer-Policy)' = no-referrer ] && [ '$(header Strict-Transport-Security)' = max-age=31536000 ] && [ '$(header Cache-Control)' = no-store ]"
cookie=$(header Set-Cookie)
check "the login cookie (the form's CSRF nonce, not a session): __Host-, 256 bits, Secure, HttpOnly, SameSite=Strict, Path=/" \
    bash -c "[[ '$cookie' =~ ^__Host-kaas-login=[A-Za-z0-9_-]{43}\;\ Secure\;\ HttpOnly\;\ SameSite=Strict\;\ Path=/$ ]]"
check "only that cookie: no session before a login" [ "$(grep -ci '^Set-Cookie:' "$OUT.head")" -eq 1 ]
LOGIN_NONCE=$(echo "$cookie" | sed 's/^__Host-kaas-login=//; s/;.*//')

# ---------------------------------------------------------------- wrong credentials
PN_JAR=$W/jar-alice
code=$(login alice wrong-password)
check "a wrong password: 401" [ "$code" = 401 ]
check "a wrong password: the generic message" body_has '<p id="error" role="alert">Login failed: wrong user name, password or domain.</p>'
code=$(login nosuchuser "$ALICE_PASSWORD")
check "an unknown user: 401 and the same message" bash -c "[ '$code' = 401 ] && grep -qF 'Login failed: wrong user name, password or domain.' '$OUT.body'"
code=$(login alice "$ALICE_PASSWORD" partners)
check "the wrong domain: 401 and the same message" bash -c "[ '$code' = 401 ] && grep -qF 'Login failed: wrong user name, password or domain.' '$OUT.body'"
PN_JAR=$W/jar-nocsrf
rm -f "$PN_JAR"
get /login >/dev/null
code=$(post /login "user=alice" "password=$ALICE_PASSWORD" "domain=Default")
check "a login POST without its CSRF token: 403, no session" bash -c "[ '$code' = 403 ] && grep -q 'id=\"error\" role=\"alert\"' '$OUT.body' && ! grep -q 'id=\"whoami\"' '$OUT.body'"

# ---------------------------------------------------------------- bob logs in
PN_JAR=$W/jar-bob
code=$(login bob "$BOB_PASSWORD")
check "bob logs in: 303 to /tokens" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = /tokens ]"
cookie=$(header Set-Cookie)
BOB_SID=$(echo "$cookie" | sed 's/^__Host-kaas-session=//; s/;.*//')
check "the session cookie after login has every flag" \
    bash -c "[[ '$cookie' =~ ^__Host-kaas-session=[A-Za-z0-9_-]{43}\;\ Secure\;\ HttpOnly\;\ SameSite=Strict\;\ Path=/$ ]]"
check "login gives a new session ID" bash -c "[ -n '$BOB_SID' ] && [ '$BOB_SID' != '$LOGIN_NONCE' ]"
check "the password is in no log line" bash -c "! grep -qF '$BOB_PASSWORD' '$LOG' '$D/kaasd.log'"
check "the session ID is in no log line" bash -c "! grep -qF '$BOB_SID' '$LOG' '$D/kaasd.log'"
code=$(get /tokens)
check "GET /tokens: 200, no-store, bob named, no tokens yet" bash -c "[ '$code' = 200 ] && [ '$(header Cache-Control)' = no-store ] && grep -q '<span id=\"whoami\">bob</span>' '$OUT.body' && grep -q '<p id=\"no-tokens\">' '$OUT.body'"
check "bob (no admin role) has no Administration link" bash -c "! grep -q 'id=\"nav-admin\"' '$OUT.body'"
check "two clusters: the dropdown with alpha active" bash -c "grep -q '<select id=\"cluster\" name=\"cluster\">' '$OUT.body' && grep -q '<option value=\"alpha\" selected>' '$OUT.body'"
BOB_CSRF=$(csrf)
for u in /admin /admin/tokens "/admin/tokens?user=alice" /admin/user "/admin/user?name=alice" /admin/rbac "/admin/tokens/delete?id=tid_0000000000000000000000" /admin/nosuchpage; do
    code=$(get "$u")
    check "bob: GET $u is 403 Forbidden" bash -c "[ '$code' = 403 ] && grep -q '<h1>Forbidden</h1>' '$OUT.body'"
done
for u in /admin/revoke /admin/tokens/delete; do
    code=$(post "$u" "user=$ALICE_ID" "id=tid_0000000000000000000000" "confirm=yes" "csrf=$BOB_CSRF")
    check "bob: POST $u is 403 Forbidden" bash -c "[ '$code' = 403 ] && grep -q '<h1>Forbidden</h1>' '$OUT.body'"
done

# ---------------------------------------------------------------- create, once
code=$(post /tokens "description=<script>alert(1)</script>" "lifetime_days=30" "csrf=$BOB_CSRF")
check "create: 303 to /tokens/new" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = /tokens/new ]"
code=$(get /tokens/new)
TOKEN=$(grep -o '<code id="new-token">kaas_[A-Za-z0-9]*</code>' "$OUT.body" | sed 's/<[^>]*>//g')
check "the new token is shown: 200, no-store, a kaas_ token" bash -c "[ '$code' = 200 ] && [ '$(header Cache-Control)' = no-store ] && [ ${#TOKEN} -eq 51 ]"
check "the copy button and the kubectl lines" bash -c "grep -q '<button id=\"copy\" type=\"button\" data-copy=\"new-token\">' '$OUT.body' && grep -q 'kubectl --server=https://alpha.example.com:6443 --certificate-authority=$W/alpha-ca.crt --token=$TOKEN get namespaces' '$OUT.body' && grep -q 'kubectl config set-credentials bob --token=$TOKEN' '$OUT.body'"
r=$($VL "$SOCK" io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "the token authenticates bob at kaasd" jt "$r" "d['parameters']['identity']['username'] == 'bob'"
check "the token is in no log line" bash -c "! grep -qF '$TOKEN' '$LOG' '$D/kaasd.log'"
PN_JAR=$W/jar-pasted
code=$(login "$TOKEN" "$BOB_PASSWORD")
check "the token pasted as the user name: 401, saying so, and not shown again" \
    bash -c "[ '$code' = 401 ] && grep -qF '<p id=\"error\" role=\"alert\">That is a KaaS token, not a user name' '$OUT.body' && ! grep -qF '$TOKEN' '$OUT.body'"
code=$(login " $TOKEN@Default" "")
check "with blanks before it, a suffix, and no password: the same, not shown again" \
    bash -c "[ '$code' = 401 ] && grep -qF 'That is a KaaS token, not a user name' '$OUT.body' && ! grep -qF '$TOKEN' '$OUT.body'"
check "the panel logs the refusal without the token; neither it nor kaasd logs the token" \
    bash -c "grep -q 'refused: a KaaS token as the user name' '$LOG' && ! grep -qF '$TOKEN' '$LOG' '$D/kaasd.log'"
PN_JAR=$W/jar-bob
code=$(get /tokens/new)
check "reloaded: 404 and #gone, the token never again" bash -c "[ '$code' = 404 ] && grep -q '<p id=\"gone\"' '$OUT.body' && ! grep -qF '$TOKEN' '$OUT.body'"
code=$(get /tokens)
TID=$(grep -o 'data-token-id="tid_[A-Za-z0-9]*"' "$OUT.body" | head -1 | sed 's/.*="//; s/"$//')
check "the list shows the token, not the token itself" bash -c "[ -n '$TID' ] && ! grep -qF '$TOKEN' '$OUT.body'"
check "a <script> description is text" bash -c "grep -qF '<td class=\"description\">&lt;script&gt;alert(1)&lt;/script&gt;</td>' '$OUT.body' && ! grep -qF '<script>alert' '$OUT.body'"

# ---------------------------------------------------------------- kubeconfig
post /tokens/kubeconfig "token=$TOKEN" "csrf=$BOB_CSRF" >/dev/null
check "kubeconfig: YAML attachment named after the cluster" bash -c "[ '$(header Content-Type)' = application/yaml ] && [ '$(header Content-Disposition)' = 'attachment; filename=\"kubeconfig-alpha.yaml\"' ]"
check "kubeconfig: server, CA data, token, current context" bash -c "grep -qF 'server: \"https://alpha.example.com:6443\"' '$OUT.body' && grep -qF 'certificate-authority-data: \"$(base64 -w0 "$W/alpha-ca.crt")\"' '$OUT.body' && grep -qF 'token: \"$TOKEN\"' '$OUT.body' && grep -qF 'current-context: \"alpha\"' '$OUT.body'"

# ---------------------------------------------------------------- refusals
before=$(grep -c 'data-token-id' <(pn_curl "$PN_URL/tokens"))
code=$(post /tokens "description=no csrf" "lifetime_days=1")
check "POST without a CSRF token: 403 with #error" bash -c "[ '$code' = 403 ] && grep -q '<p id=\"error\" role=\"alert\">' '$OUT.body'"
code=$(post /tokens "description=wrong csrf" "lifetime_days=1" "csrf=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
check "POST with a wrong CSRF token: 403" [ "$code" = 403 ]
code=$(get /tokens -H "Origin: https://evil.example.com" --data-urlencode "description=evil" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "POST from another Origin (with the right token): 403" bash -c "[ '$code' = 403 ] && grep -q '<p id=\"error\" role=\"alert\">' '$OUT.body'"
code=$(get /tokens -H "Sec-Fetch-Site: cross-site" --data-urlencode "description=evil" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "POST with Sec-Fetch-Site: cross-site: 403" [ "$code" = 403 ]
code=$(get /tokens --data-urlencode "description=no origin" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "POST without Origin: 403" [ "$code" = 403 ]
code=$(get /tokens -H "Origin: null" --data-urlencode "description=null" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "POST with Origin: null but no Sec-Fetch-Site: 403" [ "$code" = 403 ]
code=$(get /tokens -H "Origin: $PN_URL" -H "Sec-Fetch-Site: same-site" --data-urlencode "description=sibling" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "POST with Sec-Fetch-Site: same-site: 403" [ "$code" = 403 ]
check "none of them created a token" [ "$(grep -c 'data-token-id' <(pn_curl "$PN_URL/tokens"))" = "$before" ]
code=$(get /tokens -H "Origin: null" -H "Sec-Fetch-Site: same-origin" --data-urlencode "description=from a no-referrer page" --data-urlencode "lifetime_days=1" --data-urlencode "csrf=$BOB_CSRF")
check "a browser's form (Origin: null, Sec-Fetch-Site: same-origin) is accepted" [ "$code" = 303 ]
get /tokens/new >/dev/null
code=$(get /favicon.ico)
check "/favicon.ico: 404, no redirect to /login" [ "$code" = 404 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" -X GET --data-binary "a body" "$PN_URL/login")
check "a GET with a body: 400, not a dropped connection" [ "$code" = 400 ]
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" -X GET -H "Transfer-Encoding: chunked" --data-binary "a body" "$PN_URL/login")
check "a GET with a chunked body: 400" [ "$code" = 400 ]
code=$(post /tokens "description=x" "lifetime_days=366" "csrf=$BOB_CSRF")
check "a lifetime over the maximum: 400 with #error" bash -c "[ '$code' = 400 ] && grep -q 'id=\"error\"' '$OUT.body'"

# ---------------------------------------------------------------- delete
code=$(get "/tokens/delete?id=$TID")
check "delete asks first" bash -c "[ '$code' = 200 ] && grep -q '<form id=\"confirm-delete\" method=\"post\" action=\"/tokens/delete\">' '$OUT.body'"
code=$(post /tokens/delete "id=$TID" "csrf=$BOB_CSRF")
check "delete: 303 to /tokens" [ "$code" = 303 ]
r=$($VL "$SOCK" io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "the deleted token is refused" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"

# ---------------------------------------------------------------- services, cluster
get /services >/dev/null
check "services of alpha" bash -c "grep -qF '<li><a href=\"https://grafana.alpha.example.com\">Grafana</a></li>' '$OUT.body'"
code=$(post /cluster "cluster=beta" "csrf=$BOB_CSRF")
check "switch to beta: 303" [ "$code" = 303 ]
get /services >/dev/null
check "beta has no services" body_has '<p id="no-services">'
code=$(post /cluster "cluster=gamma" "csrf=$BOB_CSRF")
check "an unknown cluster: 400" [ "$code" = 400 ]

# ---------------------------------------------------------------- administration
PN_JAR=$W/jar-alice
login alice "$ALICE_PASSWORD" >/dev/null
get /tokens >/dev/null
ALICE_CSRF=$(csrf)
check "alice (admin of alpha) sees Administration on alpha" body_has 'id="nav-admin" href="/admin"'
PN_JAR=$W/jar-bob
post /tokens "description=bob one" "lifetime_days=5" "csrf=$BOB_CSRF" >/dev/null
get /tokens/new >/dev/null
BOB_T1=$(grep -o 'kaas_[A-Za-z0-9]*' "$OUT.body" | head -1)
PN_JAR=$W/jar-alice
code=$(get "/admin/tokens?user=bob")
check "alice lists bob's tokens" bash -c "[ '$code' = 200 ] && grep -q '<td class=\"user\">bob</td>' '$OUT.body'"
code=$(get "/admin/user?name=bob")
check "alice looks bob up: roles, projects, clusters" bash -c "[ '$code' = 200 ] && grep -q '<section id=\"user-info\"' '$OUT.body' && grep -q '<table id=\"roles\">' '$OUT.body' && grep -q '<table id=\"projects\">' '$OUT.body' && grep -q '<ul id=\"admin-clusters\">' '$OUT.body'"
code=$(post /admin/revoke "user=$BOB_ID" "csrf=$ALICE_CSRF")
check "revoke without confirm: 400" [ "$code" = 400 ]
code=$(post /admin/revoke "user=$BOB_ID" "confirm=yes" "csrf=$ALICE_CSRF")
check "alice revokes bob's tokens" bash -c "[ '$code' = 200 ] && grep -q '<p id=\"revoked\">2 tokens revoked</p>' '$OUT.body'"
r=$($VL "$SOCK" io.kaas.Token.Validate "{\"token\": \"$BOB_T1\"}")
check "bob's token is refused after the revocation" jt "$r" "d.get('error') == 'io.kaas.Token.InvalidToken'"
code=$(get /admin/rbac)
check "the ClusterRoleBinding of alpha names its admin role" bash -c "[ '$code' = 200 ] && grep -q '<pre id=\"rbac\">' '$OUT.body' && grep -qF 'name: &quot;$ROLE_K8S_ADMINS_ALPHA_ID&quot;' '$OUT.body' && grep -qF 'kind: &quot;ClusterRoleBinding&quot;' '$OUT.body'"
post /cluster "cluster=beta" "csrf=$ALICE_CSRF" >/dev/null
get /tokens >/dev/null
check "on beta alice is no administrator: no link" bash -c "! grep -q 'id=\"nav-admin\"' '$OUT.body'"
code=$(get /admin)
check "on beta alice's /admin is 403" [ "$code" = 403 ]

# ---------------------------------------------------------------- return_to
PN_JAR=$W/jar-carol
rm -f "$PN_JAR"
get "/login?return_to=https%3A%2F%2Fgrafana.alpha.example.com%2Fd%2Fx%3Fa%3D1" >/dev/null
check "return_to rides in the login form" body_has '<input type="hidden" name="return_to" value="https://grafana.alpha.example.com/d/x?a=1">'
code=$(post /login "user=carol" "password=$CAROL_PASSWORD" "domain=Default" "csrf=$(csrf)" "return_to=https://grafana.alpha.example.com/d/x?a=1")
check "after login, back to the managed service" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = 'https://grafana.alpha.example.com/d/x?a=1' ]"
code=$(get "/login?return_to=https%3A%2F%2Fkibana.alpha.example.com%2F")
check "logged in, /login?return_to goes there at once" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = 'https://kibana.alpha.example.com/' ]"
code=$(get "/login?return_to=https%3A%2F%2Fevil.example.com%2F")
check "a return_to outside the environment is ignored" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = /tokens ]"
PN_JAR=$W/jar-carol2
rm -f "$PN_JAR"
get /login >/dev/null
code=$(post /login "user=carol" "password=$CAROL_PASSWORD" "domain=Default" "csrf=$(csrf)" "return_to=https://evil.example.com/")
check "... at login too" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = /tokens ]"

# ---------------------------------------------------------------- /auth's headers
PN_JAR=$W/jar-none
rm -f "$PN_JAR"
for h in "X-Forwarded-Host: grafana.alpha.example.com" "X-Forwarded-Host: nosuch.example.com"; do
    code=$(get /auth -H "$h" -H "X-Forwarded-Uri: /d/x")
    check "/auth ($h): $code with the CSP of every answer" [ "$(header Content-Security-Policy)" = "default-src 'none'; frame-ancestors 'none'" ]
    check "/auth ($h): HSTS, no-referrer, nosniff, no-store" \
        bash -c "[ '$(header Strict-Transport-Security)' = max-age=31536000 ] && [ '$(header Referrer-Policy)' = no-referrer ] && [ '$(header X-Content-Type-Options)' = nosniff ] && [ '$(header Cache-Control)' = no-store ]"
done

# ---------------------------------------------------------------- a login over a live session
# the session it replaces ends with its Keystone token revoked, as at a logout
PN_JAR=$W/jar-carol
code=$(login carol "$CAROL_PASSWORD")
check "carol logs in" [ "$code" = 303 ]
get /tokens >/dev/null
revoked_before=$(grep -c "AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token revoked" "$D/kaasd.log")
code=$(post /login "user=carol" "password=$CAROL_PASSWORD" "domain=Default" "csrf=$(csrf)")
check "carol logs in again from her live session" [ "$code" = 303 ]
check "the replaced session's Keystone token was revoked" \
    [ "$(grep -c "AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token revoked" "$D/kaasd.log")" -eq $((revoked_before + 1)) ]

# ---------------------------------------------------------------- control bytes in the log
# a user name with C1 controls (CSI, U+009B: an escape sequence on a
# terminal) reaches the log as spaces, as C0 controls do
PN_JAR=$W/jar-c1
code=$(login $'c1\xc2\x9b2J\xc2\x9b31mname' wrong-password)
check "a login as a name with C1 controls: 401" [ "$code" = 401 ]
check "the log has the attempt, its C1 controls as spaces" grep -qF "login of c1  2J  31mname" "$LOG"
check "no C1 control byte in the log" bash -c "! LC_ALL=C grep -q \$'\\xc2[\\x80-\\x9f]' '$LOG'"
# a URL's %9B is a lone 0x9b byte once decoded, CSI to a terminal of
# 8-bit controls: a space in the log line of the refusal too
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" -X POST "$PN_URL/%9B2J")
check "a cross-site POST to /%9B2J: 403, logged as '/ 2J'" \
    bash -c "[ '$code' = 403 ] && grep -qF 'cross-site POST / 2J' '$LOG'"
check "... with no byte 0x9b in that line" bash -c "! LC_ALL=C grep -F 'cross-site POST /' '$LOG' | LC_ALL=C grep -q \$'\\x9b'"

# ---------------------------------------------------------------- logout, idle
PN_JAR=$W/jar-alice
code=$(post /logout "csrf=$ALICE_CSRF")
check "logout: 303 to /login, the cookie cleared" bash -c "[ '$code' = 303 ] && [ '$(header Location)' = /login ] && grep -qi '^Set-Cookie: __Host-kaas-session=; .*Max-Age=0' '$OUT.head'"
check "logout: kaasd revoked the session's Keystone token" \
    grep -q "AUDIT.*session ended: user_id=$ALICE_ID, its Keystone token revoked" "$D/kaasd.log"
pn_stop
check "kaas-panel stops cleanly on SIGTERM, sessions open" [ "$PN_RC" = 0 ]

# session_idle = 4 from here on (only here: before, a check that came more
# than 4 s after its session's last request on a busy machine would find
# the session gone). bob logs in, and his new session is asked at once.
# Only a login and ask that took less than session_idle together proves
# anything; a slower try is made again.
pn_write_conf "$W/panel-idle.conf" "session_idle = 4"
pn_start "$W/panel-idle.conf" "$LOG" || exit 99
bob_fresh_session() {
    local try t0 elapsed
    PN_JAR=$W/jar-bob
    for try in 1 2 3 4 5; do
        t0=$(date +%s%N)
        [ "$(login bob "$BOB_PASSWORD")" = 303 ] || return 1
        BOB_SID=$(header Set-Cookie | sed 's/^__Host-kaas-session=//; s/;.*//')
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" \
            -H "Cookie: __Host-kaas-session=$BOB_SID" "$PN_URL/tokens")
        last=$(date +%s)
        elapsed=$((($(date +%s%N) - t0) / 1000000))
        [ "$elapsed" -lt 3500 ] && return 0
        echo "# login and ask took $elapsed ms, more than the idle timeout allows: again"
    done
    return 1
}
# revocations of bob's Keystone tokens so far, in kaasd's audit log
bob_before=$(grep -c "AUDIT.*session ended: user_id=$BOB_ID, its Keystone token revoked" "$D/kaasd.log")
bob_logins_before=$(grep -c "login of bob ($BOB_ID) from" "$LOG")
code=
bob_fresh_session
check "bob's session is alive before its idle timeout ($code)" [ "$code" = 200 ]
# session_idle is 4 s: wait (bounded) until more than that has passed
# since bob's last request, touching nothing, then ask once
wait_for 30 bash -c "[ \$(date +%s) -ge $((last + 6)) ]"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' --cacert "$W/ca.crt" -H "Cookie: __Host-kaas-session=$BOB_SID" "$PN_URL/tokens")
check "after session_idle without a request, the session is gone (303 to /login)" [ "$code" = "303 $PN_URL/login" ]
# a session that ended by itself takes its Keystone token along: the
# panel's sweep (every 10 s) has kaasd revoke it, as a logout does
bob_new=$(($(grep -c "login of bob ($BOB_ID) from" "$LOG") - bob_logins_before))
check "bob's $bob_new idle sessions each had their Keystone token revoked by the panel's sweep" \
    wait_for 60 bash -c "[ \$(grep -c 'AUDIT.*session ended: user_id=$BOB_ID, its Keystone token revoked' '$D/kaasd.log') -eq $((bob_before + bob_new)) ] && [ $bob_new -ge 1 ]"
check "the panel logs the revocations" \
    wait_for 30 grep -q "revoked the Keystone tokens of [0-9]* ended sessions" "$LOG"
check "the panel log names no token, Keystone token or password" \
    bash -c "! grep -qE 'kaas_[A-Za-z0-9]{46}|gAAAA' '$LOG' && ! grep -qF '$ALICE_PASSWORD' '$LOG'"

pn_stop
check "kaas-panel stops cleanly on SIGTERM" [ "$PN_RC" = 0 ]

# ---------------------------------------------------------------- one user's sessions
# max_sessions_per_user = 2: carol's third login ends one of her first two
# sessions (the one used least recently; both were used in the same second
# at most, so either), and keeps the newest
pn_write_conf "$W/panel-per-user.conf" "max_sessions_per_user = 2"
pn_start "$W/panel-per-user.conf" "$LOG" || exit 99
carol_before=$(grep -c "AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token revoked" "$D/kaasd.log")
for i in 1 2 3; do
    PN_JAR=$W/jar-carol-s$i
    code=$(login carol "$CAROL_PASSWORD")
    check "carol logs in, session $i of 3 (max_sessions_per_user = 2): 303" [ "$code" = 303 ]
done
alive=""
for i in 1 2 3; do
    PN_JAR=$W/jar-carol-s$i
    [ "$(get /tokens)" = 200 ] && alive="$alive$i"
done
check "her newest session and one of the two before it are alive, not all three ($alive)" \
    bash -c "[ '$alive' = 13 ] || [ '$alive' = 23 ]"
check "the panel's log says her third login ended one of her sessions, and why" \
    grep -q "login of carol ($CAROL_ID): their session used least recently ended (max_sessions_per_user)" "$LOG"
check "the Keystone token of the session her third login ended is revoked (the panel's next sweep)" \
    wait_for 60 bash -c "[ \$(grep -c 'AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token revoked' '$D/kaasd.log') -eq $((carol_before + 1)) ]"
still=""
for i in $(grep -o . <<<"$alive"); do
    PN_JAR=$W/jar-carol-s$i
    [ "$(get /tokens)" = 200 ] && still="$still$i"
done
check "... and not the tokens of the two sessions still alive ($still)" [ "$still" = "$alive" ]
pn_stop

# ---------------------------------------------------------------- login forms cost nothing
# max_sessions = 5: an anonymous client loading the login page 200 times
# takes no room, so a form opened before the flood still logs its user
# in; and a page loaded without the session cookie (a link from another
# site: SameSite=Strict keeps it back) never sets one over it
pn_write_conf "$W/panel-small.conf" "max_sessions = 5
shutdown_timeout = 300"
pn_start "$W/panel-small.conf" "$LOG" || exit 99
PN_JAR=$W/jar-erin
rm -f "$PN_JAR"
get /login >/dev/null
ERIN_FORM_CSRF=$(csrf)
flood_ok=0
for i in $(seq 200); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$W/ca.crt" "$PN_URL/login")" = 200 ] && flood_ok=$((flood_ok + 1))
done
check "200 anonymous loads of the login page, each answered ($flood_ok)" [ "$flood_ok" -eq 200 ]
code=$(post /login "user=erin" "password=$ERIN_PASSWORD" "domain=Default" "csrf=$ERIN_FORM_CSRF")
check "the form erin opened before them logs her in: 303" [ "$code" = 303 ]
code=$(get /tokens)
check "... into a live session" [ "$code" = 200 ]
code=$(curl -s -o "$OUT.body" -D "$OUT.head" -w '%{http_code}' --cacert "$W/ca.crt" -H "Sec-Fetch-Site: cross-site" \
    "$PN_URL/login")
check "the login page reached without the session cookie sets only the login cookie" \
    bash -c "[ '$code' = 200 ] && grep -qi '^Set-Cookie: __Host-kaas-login=' '$OUT.head' && ! grep -qi '^Set-Cookie: __Host-kaas-session=' '$OUT.head'"
check "erin's session is still hers" [ "$(get /tokens)" = 200 ]

# a session whose proof kaasd no longer takes (its user disabled in
# Keystone) ends: the page says so as a logged-out page and clears the
# cookie
PN_JAR=$W/jar-frank
code=$(login frank "$FRANK_PASSWORD")
check "frank logs in" [ "$code" = 303 ]
get /tokens >/dev/null
FRANK_CSRF=$(csrf)
trap 'ks_set_enabled user "$FRANK_ID" true >/dev/null 2>&1; ks_cleanup' EXIT
check "frank disabled in Keystone" ks_set_enabled user "$FRANK_ID" false
check "kaasd forgets what it had cached of him" $VL "$SOCK" io.kaas.Admin.InvalidateUser "{\"user\": \"$FRANK_ID\"}"
code=$(post /tokens "description=after disabling" "lifetime_days=1" "csrf=$FRANK_CSRF")
check "his next form: 401, his session has ended" bash -c "[ '$code' = 401 ] && grep -qF 'Your session has ended' '$OUT.body'"
check "... on a logged-out page, the session cookie cleared" \
    bash -c "! grep -q 'id=\"whoami\"' '$OUT.body' && grep -qi '^Set-Cookie: __Host-kaas-session=; .*Max-Age=0' '$OUT.head'"
check "frank enabled again" ks_set_enabled user "$FRANK_ID" true
trap ks_cleanup EXIT
PN_JAR=$W/jar-erin

# a GET waiting for kaasd when the panel is told to stop is answered: the
# shutdown waits for it (shutdown_timeout, 300 s here) as for a POST.
# kaasd is stopped until the panel has begun its shutdown, so the page's
# call to it is in flight all along, however fast the machine
kill -STOP "$KAASD_PID"
get /tokens >"$W/late.code" &
LATE_PID=$!
# the page's call waits, unread, at kaasd's end of a connection
call_waiting() { ss -xn | awk -v p="$SOCK" '$5 == p && $3 > 0 { found = 1 } END { exit !found }'; }
check "the page's call waits in kaasd's socket" wait_for 30 call_waiting
stops_before=$(grep -c "finishing the requests in flight" "$LOG")
kill -TERM "$PN_PID"
check "the panel begins its shutdown" \
    wait_for 30 bash -c "[ \$(grep -c 'finishing the requests in flight' '$LOG') -gt $stops_before ]"
kill -CONT "$KAASD_PID"
wait "$LATE_PID"
check "the GET in flight is answered: 200 ($(cat "$W/late.code"))" [ "$(cat "$W/late.code")" = 200 ]
wait "$PN_PID"
PN_RC=$?
PN_PID=
check "the panel then stops cleanly" [ "$PN_RC" = 0 ]

# ---------------------------------------------------------------- cookie_domain
pn_write_conf "$W/panel-domain.conf" "cookie_domain = example.com"
pn_start "$W/panel-domain.conf" "$LOG" || exit 99
PN_JAR=$W/jar-domain
code=$(login bob "$BOB_PASSWORD")
check "with cookie_domain: a __Secure- cookie for the domain, every flag kept" \
    bash -c "[[ '$(header Set-Cookie)' =~ ^__Secure-kaas-session=[A-Za-z0-9_-]{43}\;\ Domain=example.com\;\ Secure\;\ HttpOnly\;\ SameSite=Strict\;\ Path=/$ ]]"
pn_stop
check_done
