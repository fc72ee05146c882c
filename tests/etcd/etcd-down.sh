#!/usr/bin/env bash
# etcd-down.sh DIR — stop the etcd members etcd-up.sh started in DIR
# (SIGTERM, then SIGKILL after ETCD_STOP_TIMEOUT seconds, default 10) and
# remove DIR. Only directories made by etcd-up.sh are removed. Idempotent.
# ETCD_KEEP_DIR=1 keeps DIR (logs).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }
DIR=$1
STOP_TIMEOUT=${ETCD_STOP_TIMEOUT:-10}
[ -d "$DIR" ] || exit 0
[ -f "$DIR/.kaas-etcd-harness" ] || { echo "etcd-down: $DIR was not created by etcd-up.sh" >&2; exit 1; }

pid_of() {  # the pid in file $1, if it is an etcd process
    local p
    [ -f "$1" ] || return 0
    p=$(head -n 1 "$1")
    case $p in ''|*[!0-9]*) return 0 ;; esac
    [ "$(cat "/proc/$p/comm" 2>/dev/null)" = etcd ] && echo "$p"
    return 0
}

if [ -f "$DIR/watchdog.pid" ]; then kill "$(cat "$DIR/watchdog.pid")" 2>/dev/null || true; fi
pids=
for n in 1 2 3; do
    p=$(pid_of "$DIR/m$n.pid")
    [ -z "$p" ] || { kill -TERM "$p" 2>/dev/null || true; pids="$pids $p"; }
done
deadline=$(( $(date +%s) + STOP_TIMEOUT ))
for p in $pids; do
    while [ -d "/proc/$p" ] && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
    [ ! -d "/proc/$p" ] || kill -KILL "$p" 2>/dev/null || true
done
if [ "${ETCD_KEEP_DIR:-0}" = 1 ]; then
    echo "etcd-down: cluster stopped; keeping $DIR" >&2
else
    rm -rf -- "$DIR"
fi
