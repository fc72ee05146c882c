#!/bin/bash
# bench/run.sh NAME... -- runs benchmarks (validate, webhook, nss, pam,
# create, memory, panel, or all), each next to its baseline in the same run, and
# prints their tables. Called by `make bench` / `make bench-NAME` with
# top_srcdir and top_builddir set. BENCH_SECONDS and BENCH_ROUNDS lengthen
# the runs; BENCH_THREADS (default 1,4,16) sets the client counts;
# BENCH_BIG_TOKENS / BENCH_IDENTITIES size the large store (1,000,000 /
# 100,000); BENCH_KEEP=1 keeps the work directory.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/bench/lib.sh"
. "$top_srcdir/bench/http.sh"
. "$top_srcdir/bench/environment.sh"
. "$top_srcdir/bench/panel.sh"
. "$top_srcdir/bench/forward.sh"

THREADS=${BENCH_THREADS:-1,4,16}
BIG=${BENCH_BIG_TOKENS:-1000000}
IDS=${BENCH_IDENTITIES:-100000}
SMALL=1000

bench_validate() {
    local small big
    small=$(bench_data "$SMALL" "$IDS") || return 1
    big=$(bench_data "$BIG" "$IDS") || return 1
    kaasd_conf small "$small/state"
    kaasd_conf big "$big/state"
    kaasd_up small || return 1
    kaasd_up big || return 1
    echo "## Validate through libkaas, $SMALL tokens, $IDS cached identities"
    "$B/bench-validate" --socket "$BW/small.sock" --tokens "$small/tokens.txt" --echo-server "$B/bench-echo-server" \
        --workdir "$BW" --threads "$THREADS" --label "Validate, $SMALL tokens" || return 1
    echo
    echo "## Validate through libkaas, $BIG tokens, $IDS cached identities; then against $SMALL tokens"
    "$B/bench-validate" --socket "$BW/big.sock" --tokens "$big/tokens.txt" --echo-server "$B/bench-echo-server" \
        --workdir "$BW" --threads "$THREADS" --label "Validate, $BIG tokens" \
        --other "$BW/small.sock" --other-tokens "$small/tokens.txt" --other-label "Validate, $SMALL tokens" || return 1
    kaasd_down small
    kaasd_down big
}

bench_memory() {
    local big empty
    big=$(bench_data "$BIG" "$IDS") || return 1
    empty=$BW/empty
    mkdir -p "$empty"
    kaasd_conf mem "$big/state"
    kaasd_conf memempty "$empty"
    echo "## kaasd start-up and memory: $BIG tokens + $IDS identities, against an empty store"
    "$B/bench-startup" measure "$top_builddir/kaasd/kaasd" "$BW/mem.conf" "$BW/mem.sock" "$big/tokens.txt" \
        "$BW/memempty.conf" "$BW/memempty.sock"
}

bench_nss() {
    local small module
    module=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
    [ -e "$module" ] || { echo "SKIP: $module is not built"; return 0; }
    small=$(bench_data "$SMALL" "$IDS") || return 1
    kaasd_conf nss "$small/state"
    kaasd_up nss || return 1
    echo "## NSS: libnss_kaas.so.2 dlopen()ed, _nss_kaas_getpwnam_r/_nss_kaas_getgrnam_r called directly; $IDS cached identities"
    KAAS_NSS_TIMEOUT_MS=${KAAS_NSS_TIMEOUT_MS:-60000} "$B/bench-nss" --module "$module" --socket "$BW/nss.sock" --names "$small/tokens.txt" --group bench000000 \
        --echo-server "$B/bench-echo-server" --workdir "$BW" --threads "${BENCH_NSS_THREADS:-1,4}"
    kaasd_down nss
}

# Group lookups through the module and Validate beside a storm of them, at
# BENCH_SCALE_IDS cached identities (default 1000 10000 100000), each
# store with 1000 tokens, then the lookups again with max_group_members
# set to each of BENCH_SCALE_CAPS (default "1000 ignore", where ignore is
# ignore_group_members = yes; "" for none); then
# Validate at BENCH_SCALE_TOKENS tokens against 1000.
bench_scale() {
    local module ids d base tokens cache cap opt
    module=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
    [ -e "$module" ] || { echo "SKIP: $module is not built"; return 0; }
    for ids in ${BENCH_SCALE_IDS:-1000 10000 100000}; do
        d=$(bench_data 1000 "$ids") || return 1
        kaasd_conf scale "$d/state"
        kaasd_up scale || return 1
        echo "## scale: $ids cached identities, 1000 tokens"
        BENCH_ECHO_SERVER=$B/bench-echo-server BENCH_WORKDIR=$BW "$B/bench-scale" "$module" "$BW/scale.sock" "$d/tokens.txt"
        kaasd_down scale
        # the same group lookups with [nss] max_group_members (SSSD's
        # ignore_group_members, with a number), and without the group
        # files (the storm too), beside the run with neither
        for cap in ${BENCH_SCALE_CAPS-1000 ignore nofiles}; do
            only="0 2 4"
            case $cap in
            ignore) opt="ignore_group_members = yes" ;;
            # every role group asked of kaasd, as before the group files
            nofiles) opt="group_files = no" only="0 2 4 5" ;;
            *) opt="max_group_members = $cap" ;;
            esac
            KAASD_BENCH_NSS_EXTRA=$opt kaasd_conf scale "$d/state"
            kaasd_up scale || return 1
            echo "## scale: $ids cached identities, $opt"
            BENCH_SCALE_ONLY=$only "$B/bench-scale" "$module" "$BW/scale.sock" "$d/tokens.txt"
            kaasd_down scale
        done
    done
    # Validate on the large store against a store of 1000 tokens, each
    # behind its own kaasd, in alternating rounds: the fixed 32M cache
    # kaasd had before it sized the cache from the store, then the sized one
    for tokens in ${BENCH_SCALE_TOKENS:-}; do
        d=$(bench_data "$tokens" 1000) || return 1
        base=$(bench_data 1000 1000) || return 1
        # notice: the line saying the store is read into the cache
        KAASD_BENCH_LOG_LEVEL=notice kaasd_conf base "$base/state"
        kaasd_up base || return 1
        kaasd_wait_warm base || return 1
        for cache in 32M 0; do
            KAASD_BENCH_LOG_LEVEL=notice KAASD_BENCH_EXTRA="store_cache_max = $cache" kaasd_conf scale "$d/state"
            kaasd_up scale || return 1
            # the sized cache is read ahead after start: measured once read
            if [ "$cache" = 0 ]; then kaasd_wait_warm scale || return 1; fi
            echo "## scale: $tokens tokens (store_cache_max = $cache) against 1000 tokens, 1000 cached identities"
            "$B/bench-scale" "$module" "$BW/scale.sock" "$d/tokens.txt" "$BW/base.sock" "$base/tokens.txt"
            kaasd_down scale
        done
        kaasd_down base
    done
}

bench_pam() {
    local small module pwrap permit libpam
    module=$top_builddir/pam_kaas/.libs/pam_kaas.so
    [ -e "$module" ] || { echo "SKIP: $module is not built"; return 0; }
    pwrap=$(ldconfig -p | awk '$1 == "libpam_wrapper.so" { print $NF; exit }')
    [ -n "$pwrap" ] || { echo "SKIP: libpam_wrapper.so is not installed"; return 0; }
    libpam=$(ldd "$module" | awk '$1 == "libpam.so.0" { print $3 }')
    permit=$(dirname "$(readlink -f "$libpam")")/security/pam_permit.so
    small=$(bench_data "$SMALL" "$IDS") || return 1
    kaasd_conf pam "$small/state"
    kaasd_up pam || return 1
    mkdir -p "$BW/pam.d"
    echo "auth required $module socket=$BW/pam.sock passwd_file=$BW/passwd nodelay" >"$BW/pam.d/kaas-bench"
    echo "auth required $permit" >"$BW/pam.d/kaas-permit"
    echo "auth required $permit" >"$BW/pam.d/other"
    echo "## PAM: pam_start + pam_authenticate (KaaS token) + pam_end, pam_wrapper, $SMALL tokens"
    LD_PRELOAD=$pwrap PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR=$BW/pam.d \
        "$B/bench-pam" --service kaas-bench --permit-service kaas-permit --socket "$BW/pam.sock" \
        --tokens "$small/tokens.txt" --threads "${BENCH_PAM_THREADS:-1}"
    kaasd_down pam
}

bench_create() {
    local d
    # a store of its own: every run adds the tokens it creates
    d=$BW/create
    mkdir -p "$d/state"
    "$B/bench-fill-store" "$d/state" 10 100 >/dev/null || return 1
    kaasd_conf create "$d/state"
    kaasd_up create || return 1
    echo "## Token creation, durable commits (DB_TXN_SYNC), several clients; state directory on $(df --output=source "$d" | tail -n 1)"
    "$B/bench-create" --socket "$BW/create.sock" --tokens "$d/tokens.txt" --dir "$d/state" --threads "$THREADS"
    kaasd_down create
}

# getgrnam of large role groups from the group files, against the least
# any lookup must do (bench/bench_group_file.c)
bench_group_file() {
    local module=$top_builddir/nss_kaas/.libs/libnss_kaas.so.2
    [ -e "$module" ] || { echo "SKIP: $module is not built"; return 0; }
    mkdir -p "$BW/group-file"
    "$B/bench-group-file" "$module" "$BW/group-file"
}

run_one() {
    case $1 in
    validate) bench_validate ;;
    memory) bench_memory ;;
    webhook) bench_webhook ;;
    nss) bench_nss ;;
    scale) bench_scale ;;
    group-file) bench_group_file ;;
    pam) bench_pam ;;
    create) bench_create ;;
    environment) bench_environment ;;
    panel) bench_panel ;;
    forward-auth) bench_forward_auth ;;
    *) echo "bench/run.sh: unknown benchmark '$1'" >&2; return 2 ;;
    esac
}

[ $# -gt 0 ] || set -- all
[ "$1" = all ] && set -- validate webhook nss pam create memory
rc=0
for b in "$@"; do
    echo
    echo "######## bench-$b"
    run_one "$b" || { echo "bench-$b FAILED" >&2; rc=1; }
    bench_stop_all
done
exit $rc
