#!/bin/bash
# A reader kaasd killed with SIGKILL in the middle of its first load of
# 100,000 token records restarts and finishes the load by itself, at the
# revision etcd holds, with every record taken. Real 3-member etcd cluster
# (tests/etcd/); no Keystone is needed: nothing here checks an identity.
# The reader reaches etcd through tests/etcd/etcd-budget-proxy.py, which
# stops passing etcd's bytes after about a fifth of the records: the first
# kaasd is held in the middle of its load for as long as the test wants,
# however fast the machine, and the budget is lifted for the second.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/etcd/guide.sh"
command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1 || {
    echo "SKIP: etcd is not installed (apt-get install etcd-server etcd-client)"
    exit 77
}
VL="/usr/bin/python3 $top_srcdir/tests/lib/varlink.py"
COUNT=${KAAS_TEST_LOAD_TOKENS:-100000}
TMP=$(mktemp -d /tmp/kaas-test.XXXXXX)
ETCD=$TMP/etcd
D=$TMP/node1
PID=
cleanup() {
    [ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null
    "$top_srcdir/tests/etcd/etcd-down.sh" "$ETCD" >/dev/null 2>&1
    [ "${KAAS_TEST_KEEP:-0}" = 1 ] || rm -rf -- "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ETCD_WATCH_PID=$$ "$top_srcdir/tests/etcd/etcd-up.sh" "$ETCD" >"$TMP/etcd-up.log" 2>&1 || {
    cat "$TMP/etcd-up.log" >&2
    exit 99
}
. "$ETCD/env"
REV=$(/usr/bin/python3 "$top_srcdir/tests/etcd/etcd-fill.py" "$ETCD" "$COUNT") || exit 99
echo "# $COUNT token records in etcd, revision $REV"

P=$TMP/proxy
mkdir -p "$P" || exit 99
# etcd-fill.py's records take about 520 bytes each in a range reply
echo $((COUNT * 100)) >"$P/budget"
/usr/bin/python3 "$top_srcdir/tests/etcd/etcd-budget-proxy.py" "${ETCD_ENDPOINT_1#https://}" "$P" \
    --watch-pid $$ 2>"$P/proxy.err" &
wait_for 30 test -s "$P/port" || { cat "$P/proxy.err" >&2; exit 99; }
guide_reader_conf "$D" -e "s|^endpoints = .*|endpoints = https://127.0.0.1:$(cat "$P/port")|" || exit 99

start() {
    "$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >>"$D/kaasd.log" 2>&1 &
    PID=$!
    wait_for 60 $VL -t 2 "$D/kaasd.sock" org.varlink.service.GetInfo >/dev/null 2>&1
}
store() { j "$($VL -t 10 "$D/kaasd.sock" io.kaas.Admin.Status 2>/dev/null)" "d['parameters']['store']" 2>/dev/null; }
loading() { jt "$(store)" "d['loading'] and not d['complete'] and 0 < d.get('load_progress', 0) < $COUNT" >/dev/null; }
loaded() { jt "$(store)" "d['complete'] and d['revision'] >= $REV" >/dev/null; }

check "kaasd starts" start
check "the proxy holds etcd's reply in the middle of the load" wait_for 60 test -s "$P/held"
check "it is loading the records (some taken, not all)" wait_for 60 loading
echo "# held with $(j "$(store)" "d['load_progress']" 2>/dev/null) of $COUNT records taken"
kill -KILL "$PID"
wait "$PID" 2>/dev/null
PID=
check "killed during the load, it never marked the replica complete" \
    bash -c "! grep -q 'replica loaded' '$D/kaasd.log'"
rm -f "$P/budget"
check "kaasd starts again" start
check "it finishes the load by itself" wait_for 300 loaded
r=$(store)
check "every record was taken, none ignored" jt "$r" "d['records_ignored'] == 0 and d['revision'] >= $REV"
check "the log counts $COUNT tokens" grep -q "replica loaded at revision [0-9]*: $COUNT tokens" "$D/kaasd.log"
kill -TERM "$PID"
wait "$PID" 2>/dev/null
PID=
check_done
