# panel-env.sh -- kaas-panel over real HTTPS for the tests that run it
# (tests/integration/test_panel.sh, the browser tests). Source
# keystone-env.sh and webhook-env.sh first and call wh_env_init,
# ks_env_setup and wh_env_setup DIR (certificates come from there).
# Provides:
#
#   pn_env_setup      copies the built kaas-panel into $W as $PN, makes the
#                     server certificate (wh_mk_server_cert) and CA files
#                     for clusters alpha and beta, picks PN_PORT and sets
#                     PN_URL=https://127.0.0.1:$PN_PORT
#   pn_kaasd_conf_tail
#                     the lines for $KAASD_CONF_TAIL that put the panel's
#                     user in kaasd's frontend_group
#   pn_write_conf FILE [LINES] [SECTIONS]
#                     a configuration for $PN_URL asking kaasd at $SOCK,
#                     with clusters alpha (services Grafana, Kibana) and
#                     beta: LINES go into [panel], SECTIONS at the end
#   pn_start CONF LOG starts $PN -f -c CONF through RUN_AS (log appended to
#                     LOG); sets PN_PID; waits (bounded) for /healthz
#   pn_stop           SIGTERM, and the exit status in PN_RC
#   pn_curl ARGS...   curl against the panel trusting $W/ca.crt, with the
#                     cookie jar $PN_JAR (set it per browser session)
#   pn_form_helpers   defines, for a test driving the panel as a browser
#                     does with curl (set OUT first): get, post, csrf,
#                     header, body_has and login (below)

pn_env_setup() {
    PN_BUILT=$top_builddir/panel/kaas-panel
    [ -x "$PN_BUILT" ] || { echo "kaas-panel is not built: $PN_BUILT" >&2; exit 99; }
    cp "$PN_BUILT" "$W/kaas-panel"
    chmod 755 "$W/kaas-panel"
    PN=$W/kaas-panel
    [ -f "$W/server.crt" ] || wh_mk_server_cert || return 1
    cp "$W/ca.crt" "$W/alpha-ca.crt"
    cp "$W/ca.crt" "$W/beta-ca.crt"
    chmod 644 "$W/alpha-ca.crt" "$W/beta-ca.crt"
    PN_PORT=$(wh_free_port)
    PN_URL=https://127.0.0.1:$PN_PORT
    PN_PID=
    PN_JAR=$W/cookies
}

pn_kaasd_conf_tail() {
    printf '[kaasd]\nfrontend_group = %s\n' "$VGROUP"
}

pn_write_conf() {
    cat >"$1" <<EOF
[panel]
listen = 127.0.0.1:$PN_PORT
cert = $W/server.crt
key = $W/server.key
origin = $PN_URL
${2:-}

[kaasd]
socket = $SOCK
connections = 4
timeout = 20

[cluster alpha]
server = https://alpha.example.com:6443
ca_file = $W/alpha-ca.crt
service = Grafana https://grafana.alpha.example.com
service = Kibana https://kibana.alpha.example.com

[cluster beta]
server = https://beta.example.com:6443
ca_file = $W/beta-ca.crt
${3:-}
EOF
}

pn_start() {
    "${RUN_AS[@]}" "$PN" -f -c "$1" >>"$2" 2>&1 &
    PN_PID=$!
    wh_wait_up "$PN_PID" "$PN_URL" kaas-panel "$2"
}

pn_stop() {
    kill -TERM "$PN_PID"
    wait "$PN_PID"
    PN_RC=$?
    PN_PID=
}

pn_curl() {
    curl -s --max-time 30 --cacert "$W/ca.crt" -b "$PN_JAR" -c "$PN_JAR" "$@"
}

pn_form_helpers() {
    # get PATH [CURL ARGS...]: the page into $OUT.body, headers into $OUT.head;
    # prints the status
    get() {
        local path=$1
        shift
        pn_curl -o "$OUT.body" -D "$OUT.head" -w '%{http_code}' "$@" "$PN_URL$path"
    }
    # post PATH FIELDS... : a form POST as the browser sends it (same origin)
    post() {
        local path=$1 args=() f
        shift
        for f in "$@"; do args+=(--data-urlencode "$f"); done
        get "$path" -H "Origin: $PN_URL" -H "Sec-Fetch-Site: same-origin" "${args[@]}"
    }
    csrf() { grep -o 'name="csrf" value="[^"]*"' "$OUT.body" | head -1 | sed 's/.*value="//; s/"$//'; }
    header() { grep -i "^$1:" "$OUT.head" | head -1 | cut -d: -f2- | sed 's/^ //; s/\r$//'; }
    body_has() { grep -qF -- "$1" "$OUT.body"; }
    # login USER PASSWORD [DOMAIN]: in a fresh cookie jar $W/jar-USER (set
    # PN_JAR to it first: this may run in a subshell)
    login() {
        rm -f "$PN_JAR"
        get /login >/dev/null
        post /login "user=$1" "password=$2" "domain=${3:-Default}" "csrf=$(csrf)"
    }
}
