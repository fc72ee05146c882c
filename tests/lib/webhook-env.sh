# webhook-env.sh -- kaas-webhook over real HTTPS for the tests that run it
# (tests/e2e/test_webhook.sh, tests/integration/test_webhook_load.sh).
# Needs bash, $top_srcdir and $top_builddir. Provides:
#
#   wh_env_init        skips (exit 77) without openssl, curl, python3 (or
#                      setpriv when root); sets RUN_AS (the command prefix
#                      that runs the webhook unprivileged: nobody:nogroup
#                      when the test runs as root, else nothing) and VGROUP
#                      (the group to name as kaasd's validator_group)
#   wh_env_setup DIR   DIR (mode 0755) holds certificates, configurations
#                      and logs; copies the built kaas-webhook there as $WH
#                      (the build tree may be where nobody cannot enter)
#                      and sets W=DIR. Call it after ks_env_setup.
#   wh_mk_ca NAME      a test CA: DIR/NAME.crt and NAME.key
#   wh_mk_cert CA NAME CN EXTENSIONS
#                      DIR/NAME.crt and NAME.key signed by CA; EXTENSIONS
#                      as printf %b takes them (\n between lines)
#   wh_mk_server_cert  wh_mk_ca ca and DIR/server.crt for 127.0.0.1 and
#                      localhost, its key readable by the webhook's user
#   wh_free_port       a free TCP port on 127.0.0.1
#   wh_write_conf FILE LINES [SECTIONS]
#                      a configuration for https://127.0.0.1:$PORT with
#                      DIR/server.crt, asking kaasd at $SOCK (4
#                      connections, 10 s timeout): LINES go into [webhook],
#                      SECTIONS after [kaasd]
#   wh_start CONF LOG  starts $WH -f -c CONF (log appended to LOG) through
#                      RUN_AS; sets WH_PID; waits (bounded) for /healthz on
#                      https://127.0.0.1:$PORT
#   wh_stop            SIGTERM, and the exit status in WH_RC
#   wh_wait_up PID URL NAME LOG
#                      waits until URL/healthz answers over HTTPS trusting
#                      $W/ca.crt (at most 120 s; at once a failure when PID
#                      exits, printing LOG): the start of kaas-webhook and
#                      kaas-panel alike

wh_env_init() {
    local tool
    for tool in openssl curl /usr/bin/python3; do
        command -v "$tool" >/dev/null 2>&1 || { echo "SKIP: $tool is not installed"; exit 77; }
    done
    if [ "$(id -u)" = 0 ]; then
        command -v setpriv >/dev/null 2>&1 || { echo "SKIP: setpriv is not installed (util-linux)"; exit 77; }
        RUN_AS=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
        VGROUP=nogroup
    else
        RUN_AS=()
        VGROUP=$(id -gn)
    fi
    WH_BUILT=$top_builddir/webhook/kaas-webhook
    [ -x "$WH_BUILT" ] || { echo "kaas-webhook is not built: $WH_BUILT" >&2; exit 99; }
    WH_PID=
}

wh_env_setup() {
    W=$1
    # the unprivileged webhook reaches kaasd's socket and its own files in here
    chmod 755 "$KS_TMP"
    mkdir -p "$W"
    chmod 755 "$W"
    cp "$WH_BUILT" "$W/kaas-webhook"
    chmod 755 "$W/kaas-webhook"
    WH=$W/kaas-webhook
}

_wh_ec() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>>"$W/openssl.log"; }

wh_mk_ca() {
    (cd "$W" && _wh_ec -x509 -days 2 -subj "/CN=kaas webhook test CA $1" -keyout "$1.key" -out "$1.crt" \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign)
}

wh_mk_cert() {
    (cd "$W" && _wh_ec -subj "/CN=$3" -keyout "$2.key" -out "$2.csr" &&
        printf '%b\n' "$4" >"$2.ext" &&
        openssl x509 -req -in "$2.csr" -CA "$1.crt" -CAkey "$1.key" -CAcreateserial -days 2 \
            -out "$2.crt" -extfile "$2.ext" 2>>"$W/openssl.log")
}

wh_mk_server_cert() {
    wh_mk_ca ca &&
        wh_mk_cert ca server localhost 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature' || return 1
    if [ -n "${RUN_AS[*]}" ]; then chown nobody:nogroup "$W/server.key"; fi
}

wh_free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wh_write_conf() {
    cat >"$1" <<EOF
[webhook]
listen = 127.0.0.1:$PORT
cert = $W/server.crt
key = $W/server.key
$2

[kaasd]
socket = $SOCK
connections = 4
timeout = 10
${3:-}
EOF
}

wh_wait_up() {
    local end=$(($(date +%s) + 120))
    until curl -s -o /dev/null --max-time 5 --cacert "$W/ca.crt" "$2/healthz"; do
        if ! kill -0 "$1" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
            echo "$3 did not come up; its log:" >&2
            cat "$4" >&2
            return 1
        fi
        sleep 0.2
    done
}

wh_start() {
    "${RUN_AS[@]}" "$WH" -f -c "$1" >>"$2" 2>&1 &
    WH_PID=$!
    wh_wait_up "$WH_PID" "https://127.0.0.1:$PORT" kaas-webhook "$2"
}

wh_stop() {
    kill -TERM "$WH_PID"
    wait "$WH_PID"
    WH_RC=$?
    WH_PID=
}
