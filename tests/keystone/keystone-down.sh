#!/usr/bin/env bash
# keystone-down.sh DIR — stop the Keystone that keystone-up.sh started in DIR
# (SIGTERM, then SIGKILL after KEYSTONE_STOP_TIMEOUT seconds, default 10) and
# remove DIR. Only directories made by keystone-up.sh are removed. Idempotent:
# a missing DIR is not an error. Set KEYSTONE_KEEP_DIR=1 to keep DIR (logs).
set -euo pipefail

prog=keystone-down
die() { echo "$prog: error: $*" >&2; exit 1; }

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }
DIR=$1
STOP_TIMEOUT=${KEYSTONE_STOP_TIMEOUT:-10}

[ -d "$DIR" ] || exit 0
[ -f "$DIR/.kaas-keystone-harness" ] ||
    die "$DIR was not created by keystone-up.sh; not touching it"

read_pid() {  # prints the pid in file $1 if it is a number
    local p
    [ -f "$1" ] || return 0
    p=$(head -n 1 "$1")
    case $p in ''|*[!0-9]*) return 0 ;; esac
    echo "$p"
}

alive() {  # alive PID: running, not a zombie (kill -0 succeeds on zombies)
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

start_time() {  # kernel start time of pid $1 (guards against pid reuse)
    local stat fields
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
    stat=${stat##*) }          # drop "pid (comm) ", comm may hold spaces
    read -r -a fields <<<"$stat"
    echo "${fields[19]}"
}

same_process() {  # same_process PID STARTTIME
    [ -n "$2" ] && alive "$1" && [ "$(start_time "$1")" = "$2" ]
}

pid=$(read_pid "$DIR/keystone.pid")
watch_pid=$(read_pid "$DIR/watchdog.pid")

if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi

pid_start=$(sed -n 2p "$DIR/keystone.pid" 2>/dev/null || true)
if [ -n "$pid" ] && [ -n "$pid_start" ] && ! same_process "$pid" "$pid_start"; then
    pid=  # Keystone is long gone and its pid now belongs to someone else
fi

if [ -n "$pid" ] && alive "$pid"; then
    # Remember the workers now: once the master is gone they are reparented.
    children=
    for c in $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
        children="$children $c:$(start_time "$c")"
    done
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$(( $(date +%s) + STOP_TIMEOUT ))
    while alive "$pid" && [ "$(date +%s)" -lt "$deadline" ]; do
        sleep 0.1
    done
    if alive "$pid"; then
        echo "$prog: Keystone (pid $pid) ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    for entry in $children; do
        c=${entry%%:*}
        same_process "$c" "${entry#*:}" || continue
        # Workers leave shortly after their master; give them the same bound.
        deadline=$(( $(date +%s) + STOP_TIMEOUT ))
        while same_process "$c" "${entry#*:}" && [ "$(date +%s)" -lt "$deadline" ]; do
            sleep 0.1
        done
        if same_process "$c" "${entry#*:}"; then
            kill -KILL "$c" 2>/dev/null || true
        fi
    done
fi

if [ "${KEYSTONE_KEEP_DIR:-0}" = 1 ]; then
    echo "$prog: Keystone stopped; keeping $DIR" >&2
else
    rm -rf -- "$DIR"
fi
