# bench/http.sh -- sourced by bench/run.sh: the webhook benchmark (wrk
# against kaas-webhook, against a constant-body server with the same
# libmicrohttpd + GnuTLS set-up, and Keystone's own token validation).

# wrk_run URL CONNS SECONDS [wrk options...] [-- script arguments...]:
# prints "RATE P50_US P99_US ERRORS"
wrk_run() {
    local url=$1 conns=$2 secs=$3 threads=2 opts=() args=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
    [ $# -gt 0 ] && shift && args=("$@")
    [ "$conns" -lt 2 ] && threads=1
    wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "${opts[@]}" "$url" -- "${args[@]}" 2>&1 | tee -a "$BW/wrk.log" | awk '
        function us(v) {
            if (v ~ /us$/) return v + 0
            if (v ~ /ms$/) return v * 1000
            if (v ~ /s$/) return v * 1000000
            return v
        }
        /Requests\/sec:/ { rate = $2 }
        $1 == "50%" { p50 = us($2) }
        $1 == "99%" { p99 = us($2) }
        /Non-2xx or 3xx responses:/ { errors += $NF }
        /Socket errors:/ { errors += 1 }
        END { printf "%.1f %.1f %.1f %d\n", rate, p50, p99, errors + 0 }'
}

# summarize FILE SUBJECT BASELINE: FILE holds "CONNS SIDE RATE P50 P99
# ERRORS" lines, SIDE s (subject) or b (baseline), one per round; prints
# the medians over rounds and the ratios, as bench_compare() does.
summarize() {
    awk -v sname="$2" -v bname="$3" '
        function median(a, n,   i, j, t) {
            for (i = 1; i <= n; i++)
                for (j = i + 1; j <= n; j++)
                    if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        {
            c = $1
            if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
            if ($2 == "s") { k = ++ns[c]; sr[c, k] = $3; s50[c, k] = $4; s99[c, k] = $5 }
            else { k = ++nb[c]; br[c, k] = $3; b50[c, k] = $4; b99[c, k] = $5 }
            err[c] += $6
        }
        END {
            printf "%-7s | %-28s %9s %9s %9s | %9s %9s %9s | %-24s %s\n", "conns", "subject", "req/s", "p50 us",
                "p99 us", "req/s", "p50 us", "p99 us", "rate ratio (min-max)", "p99 ratio"
            printf "%-7s | %-28s %9s %9s %9s | %-29s | %s\n", "", "", "", "", "", bname, "subject/baseline"
            for (i = 1; i <= nc; i++) {
                c = order[i]
                n = ns[c] < nb[c] ? ns[c] : nb[c]
                lo = 1e18; hi = 0
                for (k = 1; k <= n; k++) {
                    rr[k] = br[c, k] > 0 ? sr[c, k] / br[c, k] : 0
                    if (rr[k] < lo) lo = rr[k]
                    if (rr[k] > hi) hi = rr[k]
                    pr[k] = b99[c, k] > 0 ? s99[c, k] / b99[c, k] : 0
                    a1[k] = sr[c, k]; a2[k] = s50[c, k]; a3[k] = s99[c, k]
                    a4[k] = br[c, k]; a5[k] = b50[c, k]; a6[k] = b99[c, k]
                }
                printf "%-7s | %-28s %9.1f %9.1f %9.1f | %9.1f %9.1f %9.1f | %8.4g (%.4g-%.4g)    %6.3g%s\n", c, sname,
                    median(a1, n), median(a2, n), median(a3, n), median(a4, n), median(a5, n), median(a6, n),
                    median(rr, n), lo, hi, median(pr, n), err[c] ? "  (errors: " err[c] ")" : ""
            }
        }' "$1"
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_https() {  # PORT: until something answers TLS on 127.0.0.1:PORT
    local i
    for i in $(seq 200); do
        curl -sk -o /dev/null --max-time 2 "https://127.0.0.1:$1/healthz" && return 0
        sleep 0.05
    done
    return 1
}

bench_webhook() {
    local small secs rounds c r port cport out sub base
    command -v wrk >/dev/null || { echo "SKIP: wrk is not installed (tools/deps.sh)"; return 0; }
    command -v setpriv >/dev/null || { echo "SKIP: setpriv is not installed"; return 0; }
    secs=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-3}
    small=$(bench_data "$SMALL" "$IDS") || return 1
    KAASD_BENCH_EXTRA="validator_group = nogroup
socket_mode = 0666" kaasd_conf wh "$small/state"
    kaasd_up wh || return 1
    (cd "$BW" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
        -keyout server.key -out server.crt >/dev/null 2>&1) || { echo "openssl failed" >&2; return 1; }
    chown nobody:nogroup "$BW/server.key"
    port=$(free_port)
    cport=$(free_port)
    cat >"$BW/webhook.conf" <<EOF
[webhook]
listen = 127.0.0.1:$port
cert = $BW/server.crt
key = $BW/server.key
log_target = stderr
log_level = warning

[kaasd]
socket = $BW/wh.sock
connections = 16
EOF
    # the webhook refuses root; nobody must be able to reach it all
    cp "$top_builddir/webhook/kaas-webhook" "$BW/kaas-webhook"
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$BW/kaas-webhook" -f -c "$BW/webhook.conf" \
        >>"$BW/webhook.log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
    wait_https "$port" || { cat "$BW/webhook.log" >&2; return 1; }
    # the constant body is what the webhook answers for one of the tokens
    sed -n 1p "$small/tokens.txt" | awk '{ printf "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{\"creationTimestamp\":null},\"spec\":{\"token\":\"%s\"},\"status\":{\"user\":{}}}", $1 }' >"$BW/review.json"
    curl -sk --max-time 10 -H 'Content-Type: application/json' --data-binary @"$BW/review.json" \
        "https://127.0.0.1:$port/authenticate" >"$BW/answer.json" || return 1
    grep -q '"authenticated":true' "$BW/answer.json" ||
        { echo "the webhook does not authenticate the bench token: $(cat "$BW/answer.json")" >&2; return 1; }
    "$B/bench-const-https-server" "$cport" "$BW/server.crt" "$BW/server.key" "$BW/answer.json" >>"$BW/const.log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
    wait_https "$cport" || { cat "$BW/const.log" >&2; return 1; }

    echo "## kaas-webhook: TokenReview over HTTPS keep-alive (wrk), $SMALL tokens, against a constant-body libmicrohttpd+GnuTLS server"
    echo "# machine: $(nproc) x $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# wrk -t2 -cCONNS -d${secs}s --latency -s bench/tokenreview.lua URL -- TOKENS_FILE; $rounds rounds, alternating"
    echo "# review body $(wc -c <"$BW/review.json") bytes, answer $(wc -c <"$BW/answer.json") bytes; webhook with 16 kaasd connections"
    out=$BW/webhook.results
    : >"$out"
    for c in ${THREADS//,/ }; do
        for r in $(seq "$rounds"); do
            sub=$(wrk_run "https://127.0.0.1:$port/authenticate" "$c" "$secs" \
                -s "$top_srcdir/bench/tokenreview.lua" -- "$small/tokens.txt")
            base=$(wrk_run "https://127.0.0.1:$cport/authenticate" "$c" "$secs" \
                -s "$top_srcdir/bench/tokenreview.lua" -- "$small/tokens.txt")
            echo "$c s $sub" >>"$out"
            echo "$c b $base" >>"$out"
        done
    done
    summarize "$out" "kaas-webhook TokenReview" "constant-body MHD+GnuTLS"
    bench_keystone_baseline "$out" "$secs" "$rounds"
}

# Keystone validating one of its own tokens (GET /v3/auth/tokens with a
# service token and the user's token), as k8s-keystone-auth does for every
# review, against the real test Keystone; compared with the webhook's own
# figures at the same concurrency (4 connections: Keystone's worker count).
bench_keystone_baseline() {
    local results=$1 secs=$2 rounds=$3 kdir admin subject ks r
    [ "${BENCH_NO_KEYSTONE:-0}" = 1 ] && { echo "# the Keystone baseline is skipped (BENCH_NO_KEYSTONE=1)"; return 0; }
    command -v keystone-manage >/dev/null ||
        { echo "SKIP: the Keystone baseline: keystone is not installed"; return 0; }
    kdir=$BW/keystone
    KEYSTONE_WATCH_PID=$$ "$top_srcdir/tests/keystone/keystone-up.sh" "$kdir" >"$BW/keystone-up.log" 2>&1 ||
        { cat "$BW/keystone-up.log" >&2; return 1; }
    BENCH_KEYSTONE=$kdir
    (
        # shellcheck disable=SC1091
        . "$kdir/env"
        ks_token() {  # SCOPE-JSON: a token of the bootstrap admin
            curl -fsS -D - -o /dev/null --max-time 60 -H 'Content-Type: application/json' \
                -d "{\"auth\":{\"identity\":{\"methods\":[\"password\"],\"password\":{\"user\":{\"name\":\"$KEYSTONE_ADMIN_USER\",\"domain\":{\"id\":\"default\"},\"password\":\"$KEYSTONE_ADMIN_PASSWORD\"}}}$1}}" \
                "$KEYSTONE_AUTH_URL/auth/tokens" | tr -d '\r' | sed -n 's/^[Xx]-[Ss]ubject-[Tt]oken: //p'
        }
        admin=$(ks_token ',"scope":{"system":{"all":true}}')
        subject=$(ks_token ',"scope":{"project":{"name":"admin","domain":{"id":"default"}}}')
        [ -n "$admin" ] && [ -n "$subject" ] || { echo "cannot get Keystone tokens" >&2; exit 1; }
        curl -fsS -o /dev/null --max-time 60 -H "X-Auth-Token: $admin" -H "X-Subject-Token: $subject" \
            "$KEYSTONE_AUTH_URL/auth/tokens" || { echo "Keystone does not validate its own token" >&2; exit 1; }
        echo
        echo "## Keystone validating its own token (GET /v3/auth/tokens, $KEYSTONE_SERVER) against kaas-webhook, 4 connections each"
        echo "# wrk -t2 -c4 -d$((secs * 5))s --latency -H 'X-Auth-Token: SERVICE' -H 'X-Subject-Token: USER' $KEYSTONE_AUTH_URL/auth/tokens"
        : >"$BW/keystone.results"
        for r in $(seq "$rounds"); do
            ks=$(wrk_run "$KEYSTONE_AUTH_URL/auth/tokens" 4 $((secs * 5)) \
                -H "X-Auth-Token: $admin" -H "X-Subject-Token: $subject")
            echo "4 b $ks" >>"$BW/keystone.results"
        done
        awk '$1 == 4 && $2 == "s"' "$results" >>"$BW/keystone.results"
        summarize "$BW/keystone.results" "kaas-webhook TokenReview" "Keystone GET /v3/auth/tokens"
    )
    r=$?
    "$top_srcdir/tests/keystone/keystone-down.sh" "$kdir" >/dev/null 2>&1 || true
    BENCH_KEYSTONE=
    return $r
}
