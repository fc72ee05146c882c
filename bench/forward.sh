# bench/forward.sh -- sourced by bench/run.sh: `make bench-forward-auth`,
# requests for a managed service through nginx with auth_request asking
# kaas-panel's /auth (docs/managed-services.md), a KaaS token as Bearer
# drawn at random per request, against the same nginx passing the same
# upstream without auth_request, in alternating rounds of the same run.
# The upstream is nginx itself answering a constant body, so the figures
# are nginx's, the panel's and kaasd's. kaasd serves a filled store
# (bench_data: 1,000 tokens, BENCH_IDENTITIES cached identities) without
# Keystone.

bench_forward_auth() {
    local data secs rounds c r port nport uport out sub base
    command -v wrk >/dev/null || { echo "SKIP: wrk is not installed (tools/deps.sh)"; return 0; }
    [ -x /usr/sbin/nginx ] || { echo "SKIP: nginx is not installed (tools/deps.sh)"; return 0; }
    [ -x "$top_builddir/panel/kaas-panel" ] || { echo "SKIP: kaas-panel is not built"; return 0; }
    secs=${BENCH_SECONDS:-2}
    rounds=${BENCH_ROUNDS:-3}
    data=$(bench_data "$SMALL" "$IDS") || return 1

    # the panel (daemon) validates tokens: kaasd's validator group
    KAASD_BENCH_EXTRA="validator_group = daemon
socket_mode = 0666" kaasd_conf fa "$data/state"
    kaasd_up fa || return 1

    (cd "$BW" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:svc.bench.test,DNS:plain.bench.test \
        -keyout fa.key -out fa.crt >/dev/null 2>&1) || { echo "openssl failed" >&2; return 1; }
    cp "$BW/fa.key" "$BW/fa-panel.key"
    chown daemon:daemon "$BW/fa-panel.key"
    port=$(free_port)
    nport=$(free_port)
    uport=$(free_port)
    cat >"$BW/fa-panel.conf" <<CONF
[panel]
listen = 127.0.0.1:$port
cert = $BW/fa.crt
key = $BW/fa-panel.key
origin = https://127.0.0.1:$port
log_level = warning

[kaasd]
socket = $BW/fa.sock
user = root
connections = 16

[cluster bench]
server = https://api.bench.test:6443
ca_file = $BW/fa.crt
service = Service https://svc.bench.test:$nport/
CONF
    cp "$top_builddir/panel/kaas-panel" "$BW/kaas-panel"
    setpriv --reuid=daemon --regid=daemon --clear-groups -- "$BW/kaas-panel" -f -c "$BW/fa-panel.conf" \
        >>"$BW/fa-panel.log" 2>&1 &
    BENCH_PIDS="$BENCH_PIDS $!"
    wait_https "$port" || { cat "$BW/fa-panel.log" >&2; return 1; }

    mkdir -p "$BW/nginx/tmp"
    cat >"$BW/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $BW/nginx/nginx.pid;
error_log $BW/nginx/error.log warn;
daemon off;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $BW/nginx/tmp/body;
    proxy_temp_path $BW/nginx/tmp/proxy;
    upstream kaas_panel { server 127.0.0.1:$port; keepalive 16; }
    upstream service { server 127.0.0.1:$uport; keepalive 16; }
    server { listen 127.0.0.1:$uport; location / { return 200 "service\n"; } }
    server {
        listen 127.0.0.1:$nport ssl;
        server_name svc.bench.test;
        ssl_certificate $BW/fa.crt;
        ssl_certificate_key $BW/fa.key;
        location = /_kaas/auth {
            internal;
            proxy_pass https://kaas_panel/auth;
            proxy_ssl_verify on;
            proxy_ssl_name localhost;
            proxy_ssl_trusted_certificate $BW/fa.crt;
            proxy_ssl_session_reuse on;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Forwarded-Host \$http_host;
            proxy_set_header X-Forwarded-Uri \$request_uri;
            proxy_set_header X-Forwarded-Proto \$scheme;
        }
        location / {
            auth_request /_kaas/auth;
            auth_request_set \$kaas_user \$upstream_http_x_remote_user;
            proxy_set_header X-Remote-User \$kaas_user;
            proxy_set_header Authorization "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://service;
        }
    }
    server {
        listen 127.0.0.1:$nport ssl;
        server_name plain.bench.test;
        ssl_certificate $BW/fa.crt;
        ssl_certificate_key $BW/fa.key;
        location / {
            proxy_set_header Authorization "";
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_pass http://service;
        }
    }
}
CONF
    /usr/sbin/nginx -p "$BW/nginx" -c "$BW/nginx/nginx.conf" 2>>"$BW/nginx/error.log" &
    BENCH_PIDS="$BENCH_PIDS $!"
    local i
    for i in $(seq 200); do
        [ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Host: plain.bench.test' "https://127.0.0.1:$nport/")" = 200 ] && break
        sleep 0.1
    done
    # a token passes, and a request without one does not: what is measured
    # is the check, not a refusal
    local tok
    tok=$(head -n 1 "$data/tokens.txt" | cut -d' ' -f1)
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Host: svc.bench.test' -H "Authorization: Bearer $tok" \
        "https://127.0.0.1:$nport/")" = 200 ] || { echo "a token does not pass nginx + /auth" >&2; cat "$BW/fa-panel.log" >&2; return 1; }
    [ "$(curl -sk -o /dev/null -w '%{http_code}' -H 'Host: svc.bench.test' "https://127.0.0.1:$nport/")" = 401 ] ||
        { echo "a request without a token passes" >&2; return 1; }

    echo "## forward auth: nginx auth_request -> kaas-panel /auth -> kaasd Validate (Bearer, a token at random per request), against nginx without auth_request"
    echo "# machine: $(nproc) x $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "# wrk -t2 -cCONNS -d${secs}s --latency -s bench/bearer.lua https://127.0.0.1:PORT/ -- TOKENS HOST; $rounds rounds"
    out=$BW/forward.results
    : >"$out"
    for c in ${THREADS//,/ }; do
        for r in $(seq "$rounds"); do
            sub=$(wrk_run "https://127.0.0.1:$nport/" "$c" "$secs" -s "$top_srcdir/bench/bearer.lua" -- \
                "$data/tokens.txt" svc.bench.test)
            base=$(wrk_run "https://127.0.0.1:$nport/" "$c" "$secs" -s "$top_srcdir/bench/bearer.lua" -- \
                "$data/tokens.txt" plain.bench.test)
            echo "$c s $sub" >>"$out"
            echo "$c b $base" >>"$out"
        done
    done
    summarize "$out" "nginx + auth_request + /auth" "nginx alone"
    [ -n "${BENCH_FA_DIRECT:-}" ] && wrk_run "https://127.0.0.1:$port/auth" 4 "$secs" -s "$BENCH_FA_DIRECT" -- "$data/tokens.txt"
    kaasd_down fa
}
