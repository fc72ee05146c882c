#!/bin/bash
# kaas-panel end to end in a real browser. Starts a private real Keystone
# (tests/keystone/), a kaasd with the clusters alpha and beta (alice
# administers alpha only), kaas-webhook and two kaas-panel instances over
# HTTPS with a test CA (the second with a short session_idle, for the
# idle-timeout test alone), then runs panel.test.js: Debian's chromium,
# headless, driven by puppeteer-core (tests/browser/package.json, installed
# by `npm ci --prefix tests/browser`; no browser is downloaded).
#
# The main panel's configuration is docs/panel.md's example, verbatim but
# for the paths, addresses and the kaasd user that are this machine's.
# Screenshots of every page visited: $top_builddir/tests/browser/shots/
# (tools/panel-screenshots.sh copies the documented ones to docs/panel/).
#
# Exit 77 (skip) when chromium, node or puppeteer-core is missing, unless
# CI=true: then that is a failure. puppeteer-core is looked for where node
# looks from tests/browser/ (its node_modules, then NODE_PATH). PANEL_TESTS=name,name runs only those
# tests of panel.test.js; PANEL_TEST_TIMEOUT (ms, default 60000) bounds
# every wait.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
BR=$top_srcdir/tests/browser

missing() {
    if [ "${CI:-}" = true ]; then
        echo "FAIL: $1 (CI=true: the browser tests must run)" >&2
        exit 99
    fi
    echo "SKIP: $1"
    exit 77
}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || missing "chromium is not installed (apt-get install chromium)"
command -v node >/dev/null 2>&1 || missing "node is not installed (apt-get install nodejs npm)"
# from tests/browser/node_modules, or a directory in NODE_PATH (a
# distribution tree has no node_modules)
(cd "$BR" && node -e 'require.resolve("puppeteer-core")' >/dev/null 2>&1) ||
    missing "puppeteer-core is not installed (npm ci --prefix tests/browser, or NODE_PATH)"
PANEL_BUILT=$top_builddir/panel/kaas-panel
[ -x "$PANEL_BUILT" ] || { echo "kaas-panel is not built: $PANEL_BUILT" >&2; exit 99; }

. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/keystone-env.sh"

# the panel runs unprivileged and as another user than the webhook: it is a
# user-class client of kaasd, never a validator
if [ "$(id -u)" = 0 ]; then
    PANEL_AS=(setpriv --reuid=daemon --regid=daemon --clear-groups --)
    PANEL_OWNER=daemon:daemon
    KAASD_USER=root
else
    PANEL_AS=()
    PANEL_OWNER=
    KAASD_USER=$(id -un)
fi

SHOTS=$top_builddir/tests/browser/shots
mkdir -p "$SHOTS"
rm -f "$SHOTS"/*.png

ks_env_setup --private
wh_env_setup "$KS_TMP/webhook"
P=$KS_TMP/panel
mkdir -p "$P"
chmod 755 "$P"
PANEL_PIDS=
cleanup() {
    local pid
    for pid in $PANEL_PIDS; do
        kill -TERM "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    if [ -n "${WH_PID:-}" ]; then
        kill -TERM "$WH_PID" 2>/dev/null
        wait "$WH_PID" 2>/dev/null
    fi
    # the logs are kept next to the test's own log
    cp "$P"/*.log "$top_builddir/tests/browser/" 2>/dev/null
    ks_cleanup
}
trap cleanup EXIT

# ------------------------------------------------------------------ certificates
cd "$W" || exit 99
wh_mk_server_cert &&
    wh_mk_cert ca panel localhost 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' &&
    wh_mk_ca alpha-cluster && wh_mk_ca beta-cluster ||
    { cat "$W/openssl.log" >&2; echo "openssl failed" >&2; exit 99; }
cp "$W/panel.crt" "$W/panel.key" "$W/alpha-cluster.crt" "$W/beta-cluster.crt" "$P/"
[ -n "$PANEL_OWNER" ] && chown "$PANEL_OWNER" "$P/panel.key"
chmod 644 "$P"/*.crt
# chromium trusts the panel's certificate by the hash of its public key
SPKI=$(openssl x509 -in "$P/panel.crt" -pubkey -noout | openssl pkey -pubin -outform der |
    openssl dgst -sha256 -binary | base64)
cp "$PANEL_BUILT" "$P/kaas-panel"
chmod 755 "$P/kaas-panel"

# ------------------------------------------------------------------ kaasd, webhook
D=$KS_TMP/kaasd
kaasd_write_conf "$D"
sed -i "/^\[kaasd\]\$/a validator_group = $VGROUP" "$D/kaasd.conf"
# the panel acts for many people from one uid: throttled per account
[ -n "$PANEL_OWNER" ] && sed -i "/^\[kaasd\]\$/a frontend_group = ${PANEL_OWNER#*:}" "$D/kaasd.conf"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
PORT=$(wh_free_port)
wh_write_conf "$W/webhook.conf" "log_level = debug"
wh_start "$W/webhook.conf" "$P/webhook.log" || exit 99
WEBHOOK_URL=https://127.0.0.1:$PORT

# ------------------------------------------------------------------ the panels
# docs/panel.md's example configuration: the ```ini block after the line
# naming /etc/kaas/panel.conf
md_block() {
    awk -v start="$1" '
        index($0, start) { found = 1; next }
        found && !inside && $0 == "```ini" { inside = 1; next }
        inside && $0 == "```" { exit }
        inside { print }' "$top_srcdir/docs/panel.md"
}
DOC_CONF=$(md_block 'Example `/etc/kaas/panel.conf`')
[ -n "$DOC_CONF" ] || { echo "no example configuration in docs/panel.md" >&2; exit 99; }
# panel_conf FILE PORT [SESSION_IDLE]: the example with this machine's
# paths, address, origin and kaasd user; nothing else changed
panel_conf() {
    printf '%s\n' "$DOC_CONF" | awk -v port="$2" -v p="$P" -v sock="$SOCK" -v kuser="$KAASD_USER" -v idle="${3:-}" '
        /^\[cluster / { cluster = $2; sub(/\]$/, "", cluster) }
        /^listen *=/ { print "listen = 127.0.0.1:" port; next }
        /^cert *=/ { print "cert = " p "/panel.crt"; next }
        /^key *=/ { print "key = " p "/panel.key"; next }
        /^origin *=/ { print "origin = https://127.0.0.1:" port; next }
        /^socket *=/ { print "socket = " sock; next }
        /^user *=/ { print "user = " kuser; next }
        /^ca_file *=/ { print "ca_file = " p "/" cluster "-cluster.crt"; next }
        /^session_idle *=/ && idle != "" { print "session_idle = " idle; next }
        { print }' >"$1"
}
# panel_start CONF LOG: starts it unprivileged, waits (bounded) for /healthz
panel_start() {
    local port pid
    port=$(sed -n 's/^listen = 127.0.0.1://p' "$1")
    "${PANEL_AS[@]}" "$P/kaas-panel" -f -c "$1" >>"$2" 2>&1 &
    pid=$!
    PANEL_PIDS="$PANEL_PIDS $pid"
    wh_wait_up "$pid" "https://127.0.0.1:$port" "kaas-panel ($1)" "$2"
}
PANEL_PORT=$(wh_free_port)
panel_conf "$P/panel.conf" "$PANEL_PORT"
IDLE=8
IDLE_PORT=$(wh_free_port)
panel_conf "$P/panel-idle.conf" "$IDLE_PORT" "$IDLE"
# without a session_idle line in the example, put one into [panel]
if ! grep -q '^session_idle' "$P/panel-idle.conf"; then
    sed -i "/^\[panel\]\$/a session_idle = $IDLE" "$P/panel-idle.conf"
fi
panel_start "$P/panel.conf" "$P/panel.log" || exit 99
panel_start "$P/panel-idle.conf" "$P/panel-idle.log" || exit 99

check "docs/panel.md's example: every key is in dist/panel.conf.in" bash -c '
    for k in $(printf "%s\n" "$1" | sed -n "s/^\([a-z_]*\) *=.*/\1/p" | sort -u); do
        grep -Eq "^#? *$k *=" "$2" || { echo "#   $k is not in $2"; exit 1; }
    done' _ "$DOC_CONF" "$top_srcdir/dist/panel.conf.in"
# the first cluster of the example, and its services, as the tests expect them
SERVER_ALPHA=$(printf '%s\n' "$DOC_CONF" | awk '/^\[cluster alpha\]/ { s = 1; next } /^\[/ { s = 0 } s && /^server *=/ { print $3; exit }')
SERVICES_ALPHA=$(printf '%s\n' "$DOC_CONF" | awk '/^\[cluster alpha\]/ { s = 1; next } /^\[/ { s = 0 }
    s && /^service *=/ { sub(/^service *= */, ""); out = out sep $0; sep = "," } END { print out }')

# ------------------------------------------------------------------ the browser
KUBECTL=$(command -v kubectl || true)
[ -n "$KUBECTL" ] || echo "# kubectl is not installed: the kubeconfig is checked without it"
(umask 077 && : >"$P/secrets")
printf '%s\n' "$ALICE_PASSWORD" "$BOB_PASSWORD" >>"$P/secrets"
mkdir -p "$P/profile" "$P/work"
PANEL_URL=https://127.0.0.1:$PANEL_PORT \
    PANEL_IDLE_URL=https://127.0.0.1:$IDLE_PORT PANEL_IDLE_SECONDS=$IDLE \
    PANEL_CA=$W/ca.crt PANEL_SPKI=$SPKI WEBHOOK_URL=$WEBHOOK_URL \
    PANEL_SHOTS=$SHOTS PANEL_PROFILE_DIR=$P/profile PANEL_WORK=$P/work PANEL_SECRETS=$P/secrets \
    PANEL_CLUSTER_SERVER=$SERVER_ALPHA PANEL_CLUSTER_CA=$P/alpha-cluster.crt PANEL_ALPHA_SERVICES=$SERVICES_ALPHA \
    ALICE_PASSWORD=$ALICE_PASSWORD BOB_PASSWORD=$BOB_PASSWORD ROLE_K8S_ADMINS_ALPHA_ID=$ROLE_K8S_ADMINS_ALPHA_ID \
    KUBECTL=$KUBECTL CHROMIUM=$CHROMIUM \
    node "$BR/panel.test.js"
browser_rc=$?
check "the browser tests passed (status $browser_rc)" [ "$browser_rc" = 0 ]

# ------------------------------------------------------------------ stop
# SIGTERM: each panel stops with status 0 (under --enable-sanitizers, a
# leak or error report makes that fail, and its report is in the log)
rcs=
for pid in $PANEL_PIDS; do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    rcs="$rcs $?"
done
PANEL_PIDS=
check "SIGTERM: both panels exit with status 0 (got$rcs)" [ "$rcs" = " 0 0" ]
check "no sanitizer report in the panels' logs" bash -c '! grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$@"' _ \
    "$P/panel.log" "$P/panel-idle.log"

# ------------------------------------------------------------------ logs
leaks=0
while IFS= read -r s; do
    [ -n "$s" ] || continue
    if grep -qF -- "$s" "$P/panel.log" "$P/panel-idle.log"; then
        leaks=$((leaks + 1))
        echo "#   a secret (${#s} characters) is in a panel log"
    fi
done <"$P/secrets"
check "no token, password or session ID in the panels' logs ($(wc -l <"$P/secrets") secrets looked for)" [ "$leaks" = 0 ]
check "the panel's log is not empty (the check above looked at something)" [ -s "$P/panel.log" ]
check "screenshots were saved ($(ls "$SHOTS" | wc -l) in $SHOTS)" [ "$(ls "$SHOTS"/*.png 2>/dev/null | wc -l)" -ge 20 ]

check_done
