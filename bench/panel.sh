# bench/panel.sh -- sourced by bench/run.sh: bench-panel. kaas-panel needs
# a real Keystone (a login is a password check, every page kaasd's check of
# the session's Keystone token), so this starts the test Keystone with its
# fixtures, a kaasd using it, kaas-webhook and kaas-panel, logs alice in and
# measures, in the same run on the same machine:
#   - logged-in page views per second: wrk GET /tokens with her session
#     cookie (the page lists her tokens: one kaasd List per view), beside
#     kaas-webhook's TokenReview rate for her tokens;
#   - the time to create a token through the panel: POST /tokens and the
#     GET /tokens/new that shows it, one after the other on one keep-alive
#     connection (bench/panel_client.py), BENCH_PANEL_CREATES times (20).

bench_panel() {
    local secs rounds c r kdir port wport out sub base cookie n
    command -v wrk >/dev/null || { echo "SKIP: wrk is not installed (tools/deps.sh)"; return 0; }
    command -v setpriv >/dev/null || { echo "SKIP: setpriv is not installed"; return 0; }
    command -v keystone-manage >/dev/null || { echo "SKIP: keystone is not installed (tools/deps.sh)"; return 0; }
    [ -x "$top_builddir/panel/kaas-panel" ] || { echo "SKIP: kaas-panel is not built"; return 0; }
    secs=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-3}
    n=${BENCH_PANEL_CREATES:-20}

    kdir=$BW/keystone
    KEYSTONE_WATCH_PID=$$ "$top_srcdir/tests/keystone/keystone-up.sh" "$kdir" >"$BW/keystone-up.log" 2>&1 ||
        { cat "$BW/keystone-up.log" >&2; return 1; }
    BENCH_KEYSTONE=$kdir
    /usr/bin/python3 "$top_srcdir/tests/keystone/fixtures.py" "$kdir" >"$BW/fixtures.log" 2>&1 ||
        { cat "$BW/fixtures.log" >&2; return 1; }
    # shellcheck disable=SC1091
    . "$kdir/env"
    # shellcheck disable=SC1091
    . "$kdir/fixtures.env"

    # kaasd: Keystone as the tests use it; the webhook (nobody:nogroup) a
    # validator, the panel (daemon) a front end throttled per account
    mkdir -p "$BW/panel-state"
    (umask 077 && printf '%s\n' "$KAASD_SERVICE_PASSWORD" >"$BW/panel-kaasd.password")
    cat >"$BW/pk.conf" <<EOF
[kaasd]
socket = $BW/pk.sock
state_dir = $BW/panel-state
log_target = stderr
log_level = warning
validator_group = nogroup
frontend_group = daemon
socket_mode = 0666

[keystone]
url = $KEYSTONE_URL
user = $KAASD_SERVICE_USER
user_domain = Default
password_file = $BW/panel-kaasd.password

[cluster alpha]
admin_roles = k8s-admins-alpha
EOF
    kaasd_up pk || return 1

    (cd "$BW" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
        -keyout panel.key -out panel.crt >/dev/null 2>&1) || { echo "openssl failed" >&2; return 1; }
    cp "$BW/panel.key" "$BW/webhook.key"
    chown daemon:daemon "$BW/panel.key"
    chown nobody:nogroup "$BW/webhook.key"
    port=$(free_port)
    wport=$(free_port)
    cat >"$BW/panel.conf" <<EOF
[panel]
listen = 127.0.0.1:$port
cert = $BW/panel.crt
key = $BW/panel.key
origin = https://127.0.0.1:$port
log_level = warning

[kaasd]
socket = $BW/pk.sock
user = root

[cluster alpha]
server = https://alpha.k8s.example.com:6443
ca_file = $BW/panel.crt
EOF
    cat >"$BW/pk-webhook.conf" <<EOF
[webhook]
listen = 127.0.0.1:$wport
cert = $BW/panel.crt
key = $BW/webhook.key
log_target = stderr
log_level = warning

[kaasd]
socket = $BW/pk.sock
connections = 16
EOF
    cp "$top_builddir/panel/kaas-panel" "$BW/kaas-panel"
    cp "$top_builddir/webhook/kaas-webhook" "$BW/kaas-webhook"
    setpriv --reuid=daemon --regid=daemon --clear-groups -- "$BW/kaas-panel" -f -c "$BW/panel.conf" \
        >>"$BW/panel.log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$BW/kaas-webhook" -f -c "$BW/pk-webhook.conf" \
        >>"$BW/pk-webhook.log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
    wait_https "$port" || { cat "$BW/panel.log" >&2; return 1; }
    wait_https "$wport" || { cat "$BW/pk-webhook.log" >&2; return 1; }

    cookie=$(PANEL_PASSWORD=$ALICE_PASSWORD /usr/bin/python3 "$top_srcdir/bench/panel_client.py" login \
        "https://127.0.0.1:$port" "$BW/panel.crt" alice) || return 1
    : >"$BW/panel-tokens.txt"
    echo "## kaas-panel: creating a token (POST /tokens + GET /tokens/new, one keep-alive connection), real Keystone ($KEYSTONE_SERVER)"
    echo "# kaasd's state directory on $(df --output=source,fstype "$BW/panel-state" | tail -n 1)"
    echo "# machine: $(nproc) x $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# n median_ms p90_ms min_ms max_ms"
    /usr/bin/python3 "$top_srcdir/bench/panel_client.py" create "https://127.0.0.1:$port" "$BW/panel.crt" \
        "$cookie" "$n" "$BW/panel-tokens.txt" || return 1

    # the tokens the panel showed are real: the webhook authenticates them
    awk 'NR == 1 { printf "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"%s\"}}", $1 }' \
        "$BW/panel-tokens.txt" >"$BW/panel-review.json"
    curl -sS --max-time 30 --cacert "$BW/panel.crt" -H 'Content-Type: application/json' --data-binary @"$BW/panel-review.json" \
        "https://127.0.0.1:$wport/authenticate" | grep -q '"authenticated":true' ||
        { echo "the webhook does not authenticate a token the panel created" >&2; return 1; }
    echo
    echo "## kaas-panel: logged-in page views (GET /tokens, $n tokens listed) against kaas-webhook TokenReviews of the same tokens"
    echo "# wrk -t2 -cCONNS -d${secs}s --latency -H 'Cookie: __Host-kaas-session=...' URL/tokens; $rounds rounds, alternating with"
    echo "# wrk ... -s bench/tokenreview.lua WEBHOOK/authenticate -- TOKENS_FILE"
    out=$BW/panel.results
    : >"$out"
    for c in ${THREADS//,/ }; do
        for r in $(seq "$rounds"); do
            sub=$(wrk_run "https://127.0.0.1:$port/tokens" "$c" "$secs" -H "Cookie: __Host-kaas-session=$cookie")
            base=$(wrk_run "https://127.0.0.1:$wport/authenticate" "$c" "$secs" \
                -s "$top_srcdir/bench/tokenreview.lua" -- "$BW/panel-tokens.txt")
            echo "$c s $sub" >>"$out"
            echo "$c b $base" >>"$out"
        done
    done
    summarize "$out" "kaas-panel GET /tokens" "kaas-webhook TokenReview"
    # every view must have been a logged-in page, not a redirect to /login
    [ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$BW/panel.crt" -H "Cookie: __Host-kaas-session=$cookie" \
        "https://127.0.0.1:$port/tokens")" = 200 ] || { echo "the session ended during the run" >&2; return 1; }
}
