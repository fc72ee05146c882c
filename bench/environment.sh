# bench/environment.sh -- sourced by bench/run.sh: `make bench-environment`,
# the environment's shared token store (docs/environment.md) next to its
# baselines in the same run, on a real 3-member etcd cluster with TLS and
# the guide's roles (tests/etcd/):
#
#   1. Validate on a reader kaasd (tokens replicated from etcd) against
#      Validate on a standalone kaasd holding the same store;
#   2. creation latency (Create on the writer until a reader accepts the new
#      token) and revocation latency (Delete on the writer until a reader
#      refuses the token), against etcd's own put -> watch-event latency
#      (bench/env_latency.py, BENCH_ENV_REVOKE of each, default 200);
#   3. a reader's first load of BENCH_ENV_LOAD_TOKENS records (default
#      1,000,000) against `etcdctl get --prefix` of the same keys.
#
# The reader starts from a copy of a filled standalone store (tokens and
# cached identities); a writer started on another copy moves its tokens
# into etcd first (each only if absent), as a standalone kaasd joining an
# environment does.

ENV_LOAD=${BENCH_ENV_LOAD_TOKENS:-1000000}

# env_conf NAME STATE ROLE USER NODE: NAME.conf for kaasd with [etcd]
env_conf() {
    local name=$1 state=$2 role=$3 user=$4 node=$5
    kaasd_conf "$name" "$state"
    install -m 0600 "$ETCD_DIR/secrets/$user.password" "$BW/$name.etcd-password"
    cat >>"$BW/$name.conf" <<CONF

[etcd]
endpoints = $ETCD_ENDPOINTS
ca_file = $ETCD_DIR/pki/ca.crt
cert_file = $ETCD_DIR/pki/$user.crt
key_file = $ETCD_DIR/pki/$user.key
user = $user
password_file = $BW/$name.etcd-password
role = $role
node = $node
timeout = 120
CONF
}

store_status() {
    /usr/bin/python3 "$top_srcdir/tests/lib/varlink.py" -t 10 "$BW/$1.sock" io.kaas.Admin.Status 2>/dev/null |
        /usr/bin/python3 -c 'import json, sys; s = json.load(sys.stdin)["parameters"]["store"]; print("%d %d" % (s["complete"], s["revision"]))' 2>/dev/null
}

# wait_complete NAME SECONDS: until NAME's replica is complete
wait_complete() {
    local end=$(( $(date +%s) + $2 )) st
    while :; do
        st=$(store_status "$1")
        [ "${st%% *}" = 1 ] && return 0
        kill -0 "$(cat "$BW/$1.pid" 2>/dev/null)" 2>/dev/null ||
            { echo "bench: kaasd $1 exited" >&2; cat "$BW/$1.log" >&2; return 1; }
        [ "$(date +%s)" -lt "$end" ] || { echo "bench: $1 did not complete its load" >&2; cat "$BW/$1.log" >&2; return 1; }
        sleep 0.2
    done
}

bench_environment() {
    local data
    data=$(bench_data "$SMALL" "$IDS") || return 1
    ETCD_WATCH_PID=$$ "$top_srcdir/tests/etcd/etcd-up.sh" "$BW/etcd" >"$BW/etcd-up.log" 2>&1 || {
        cat "$BW/etcd-up.log" >&2
        return 1
    }
    . "$BW/etcd/env"
    BENCH_ETCD=$BW/etcd

    # BENCH_ENV_LOAD_ONLY=1: only the first-load figure
    [ -n "${BENCH_ENV_LOAD_ONLY:-}" ] || bench_environment_live "$data" || return 1
    bench_environment_load "$data"
}

# Validate on a reader against standalone; creation and revocation latency
bench_environment_live() {
    local data=$1
    cp -a "$data/state" "$BW/writer-state"
    cp -a "$data/state" "$BW/reader-state"
    env_conf writer "$BW/writer-state" writer kaas-writer admin-1
    env_conf reader "$BW/reader-state" reader kaas-node-node1 node1
    kaasd_conf standalone "$data/state"
    kaasd_up writer || return 1
    wait_complete writer 600 || return 1
    kaasd_up reader || return 1
    wait_complete reader 600 || return 1
    kaasd_up standalone || return 1
    echo "## Validate through libkaas on a reader kaasd (store replicated from etcd); then on a standalone kaasd, same store"
    "$B/bench-validate" --socket "$BW/reader.sock" --tokens "$data/tokens.txt" --echo-server "$B/bench-echo-server" \
        --workdir "$BW" --threads "$THREADS" --label "Validate, reader" \
        --other "$BW/standalone.sock" --other-tokens "$data/tokens.txt" --other-label "Validate, standalone" || return 1
    echo
    echo "## Creation and revocation: Create (Delete) on the writer until a reader accepts (refuses), against etcd's put -> watch event"
    /usr/bin/python3 "$top_srcdir/bench/env_latency.py" "$BW/etcd" "$BW/writer.sock" "$BW/reader.sock" \
        "$data/tokens.txt" "${BENCH_ENV_REVOKE:-200}" || return 1
    kaasd_down writer
    kaasd_down reader
    kaasd_down standalone
}

# A reader's first load of ENV_LOAD records against etcdctl get --prefix
bench_environment_load() {
    local data=$1 ms0 ms1 rev
    echo
    echo "## First load of $ENV_LOAD token records by a reader, against etcdctl get --prefix of the same keys"
    rev=$(/usr/bin/python3 "$top_srcdir/tests/etcd/etcd-fill.py" "$BW/etcd" "$ENV_LOAD") || return 1
    mkdir -m 0700 "$BW/load-state"
    install -m 0600 "$data/state/token.key" "$BW/load-state/token.key"  # the environment's key
    env_conf load "$BW/load-state" reader kaas-node-node2 node2
    ms0=$(date +%s%N)
    kaasd_up load || return 1
    wait_complete load 3600 || return 1
    ms1=$(date +%s%N)
    local kaasd_ms=$(( (ms1 - ms0) / 1000000 )) etcdctl_ms
    echo "# kaasd reader: start to complete replica: $kaasd_ms ms"
    ms0=$(date +%s%N)
    # etcdctl gives up after 5 s by default: a million records take longer
    ETCDCTL_API=3 etcdctl --command-timeout=3600s --endpoints="$ETCD_ENDPOINT_1" --cacert "$ETCD_DIR/pki/ca.crt" \
        --cert "$ETCD_DIR/pki/root.crt" --key "$ETCD_DIR/pki/root.key" \
        get --prefix /kaas/tokens/ --rev "$rev" >/dev/null || return 1
    ms1=$(date +%s%N)
    etcdctl_ms=$(( (ms1 - ms0) / 1000000 ))
    printf '%-52s %10s\n' "what" "ms"
    printf '%-52s %10d\n' "kaasd reader: start to complete replica" "$kaasd_ms"
    printf '%-52s %10d\n' "etcdctl get --prefix (baseline)" "$etcdctl_ms"
    printf '%-52s %10s\n' "ratio kaasd / etcdctl" "$(awk -v a="$kaasd_ms" -v b="$etcdctl_ms" 'BEGIN { printf "%.2f", b ? a / b : 0 }')"
    kaasd_down load
}
