# bench/lib.sh -- sourced by bench/run.sh. Needs bash.
#
#   bench_data TOKENS IDENTITIES   prints the directory of a filled store
#                                  (DIR/state, DIR/tokens.txt), making it with
#                                  bench-fill-store when missing or older than
#                                  a week (its identities were fetched when it
#                                  was made; kaasd serves them up to offline_ttl)
#   kaasd_conf NAME STATE_DIR      writes $BW/NAME.conf: socket $BW/NAME.sock,
#                                  no Keystone, identities served from the cache
#   kaasd_up NAME                  starts kaasd with $BW/NAME.conf (on CPU
#                                  $KAASD_BENCH_CPU when set), waits until it
#                                  answers; log in $BW/NAME.log
#   kaasd_down NAME
#   bench_cleanup                  stops everything started here (EXIT trap)

: "${top_srcdir:?top_srcdir must be set}"
: "${top_builddir:?top_builddir must be set}"

B=$top_builddir/bench
BENCH_DATA=${BENCH_DATA:-$top_builddir/bench-data}
# sockets need short paths: the work directory is in /tmp, not the build tree
BW=$(mktemp -d /tmp/kaas-bench.XXXXXX)
chmod 755 "$BW"
BENCH_PIDS=
BENCH_KEYSTONE=

# Stops every process a benchmark started (kaasd, servers), so the next
# one finds the stores unlocked and the ports free.
bench_stop_all() {
    local p
    if [ -n "${BENCH_ETCD:-}" ]; then
        "$top_srcdir/tests/etcd/etcd-down.sh" "$BENCH_ETCD" >/dev/null 2>&1 || true
        BENCH_ETCD=
    fi
    if [ -n "$BENCH_KEYSTONE" ]; then
        "$top_srcdir/tests/keystone/keystone-down.sh" "$BENCH_KEYSTONE" >/dev/null 2>&1 || true
        BENCH_KEYSTONE=
    fi
    for p in $BENCH_PIDS; do
        kill -TERM "$p" 2>/dev/null || true
    done
    for p in $BENCH_PIDS; do
        wait "$p" 2>/dev/null || true
    done
    BENCH_PIDS=
    rm -f "$BW"/*.pid
}

bench_cleanup() {
    bench_stop_all
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "# bench work directory kept: $BW" >&2
    else
        rm -rf -- "$BW"
    fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

bench_data() {
    local tokens=$1 ids=$2 d
    d=$BENCH_DATA/t$tokens-i$ids
    if [ -f "$d/stamp" ] && [ -z "$(find "$d/stamp" -mtime +6 2>/dev/null)" ]; then
        echo "$d"
        return 0
    fi
    rm -rf -- "$d"
    mkdir -p "$d/state"
    chmod 700 "$d" "$d/state"
    echo "# filling $d ($tokens tokens, $ids identities) ..." >&2
    "$B/bench-fill-store" "$d/state" "$tokens" "$ids" >&2 || { rm -rf -- "$d"; return 1; }
    touch "$d/stamp"
    echo "$d"
}

kaasd_conf() {
    local name=$1 state=$2
    cat >"$BW/$name.conf" <<EOF
[kaasd]
socket = $BW/$name.sock
state_dir = $state
log_target = stderr
log_level = ${KAASD_BENCH_LOG_LEVEL:-warning}
max_connections_per_uid = 4096
${KAASD_BENCH_EXTRA:-}

[keystone]
# no url: kaasd serves cached identities only; the bench stores hold them,
# fetched when the store was made
cache_ttl = 86400
offline_ttl = 2592000

[nss]
passwd_file = $BW/passwd
group_file = $BW/group
${KAASD_BENCH_NSS_EXTRA:-}
EOF
    [ -f "$BW/passwd" ] || cp /etc/passwd "$BW/passwd"
    [ -f "$BW/group" ] || cp /etc/group "$BW/group"
}

kaasd_up() {
    local name=$1 pid
    rm -f "$BW/$name.sock"
    # KAASD_BENCH_CPU=N: kaasd on that CPU only (bench-scale's pinned storm)
    ${KAASD_BENCH_CPU:+taskset -c "$KAASD_BENCH_CPU"} "$top_builddir/kaasd/kaasd" -f -c "$BW/$name.conf" >>"$BW/$name.log" 2>&1 &
    pid=$!
    echo "$pid" >"$BW/$name.pid"
    BENCH_PIDS="$BENCH_PIDS $pid"
    if ! "$B/bench-startup" wait "$BW/$name.sock" 120000; then
        cat "$BW/$name.log" >&2
        return 1
    fi
}

# Waits (at most 600 s) until kaasd NAME has read its token and identity
# databases into its cache after start, and prints how long that took:
# the rounds that follow measure the cache as it stays, not the time
# after a start while it is being read (which the line printed gives).
kaasd_wait_warm() {
    local name=$1 deadline line
    deadline=$((SECONDS + 600))
    while [ "$SECONDS" -lt "$deadline" ]; do
        line=$(grep -m 1 'read into the cache' "$BW/$name.log" || true)
        if [ -n "$line" ]; then
            echo "# kaasd $name: ${line#*store: }"
            return 0
        fi
        kill -0 "$(cat "$BW/$name.pid")" 2>/dev/null || { cat "$BW/$name.log" >&2; return 1; }
        sleep 0.2
    done
    echo "kaasd $name: store not read into the cache after 600 s" >&2
    return 1
}

kaasd_down() {
    local name=$1 pid
    [ -f "$BW/$name.pid" ] || return 0
    pid=$(cat "$BW/$name.pid")
    rm -f "$BW/$name.pid"
    # reaped here: never signal that number again, another process may get it
    BENCH_PIDS=$(echo " $BENCH_PIDS " | sed "s/ $pid / /")
    kill -TERM "$pid" 2>/dev/null || return 0
    wait "$pid" 2>/dev/null || true
}
