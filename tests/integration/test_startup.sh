#!/bin/bash
# kaasd's start-up, as an operator meets it: it creates the missing
# parents of state_dir, of its socket and of userdb_socket; a start that
# fails once a socket is bound (the store locked by another kaasd, the
# userdb socket impossible) removes the socket files it made, as kaasd(8)
# says, with "user =" too (a socket directory kaasd creates is its user's),
# and "user =" naming the user kaasd was started as is no switch at all;
# and [keystone] url refuses plain HTTP to another machine unless
# insecure_http is set, with a warning at start. No Keystone is needed:
# kaasd starts without one, and the remote URL is a documentation address
# (192.0.2.0/24) that is never reached within this test. Started by
# systemd's socket activation, kaasd serves the sockets it is passed,
# speaks sd_notify as Type=notify expects and refuses sockets it cannot
# serve.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/check.sh"
KAASD=$top_builddir/kaasd/kaasd
VL="/usr/bin/python3 $top_srcdir/tests/lib/varlink.py"
T=$(mktemp -d /tmp/kaas-startup.XXXXXX)
PIDS=
cleanup() {
    local p
    for p in $PIDS; do
        kill -TERM "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf -- "$T"
}
trap cleanup EXIT

# conf FILE STATE SOCKET [EXTRA [kaasd] LINES [SECTIONS]]
conf() {
    cat >"$1" <<EOF
[kaasd]
state_dir = $2
socket = $3
log_target = stderr
${4:-}
${5:-}
EOF
}
# start CONF LOG: kaasd in the background; sets PID
start() {
    "$KAASD" -f -c "$1" >>"$2" 2>&1 &
    PID=$!
    PIDS="$PIDS $PID"
}
answers() { $VL -t 10 "$1" org.varlink.service.GetInfo >/dev/null 2>&1; }
stop() {
    kill -TERM "$1" 2>/dev/null
    wait "$1" 2>/dev/null
}

# ------------------------------------------------------------------ missing parents
A=$T/a
conf "$A.conf" "$A/lib/deep/state" "$A/run/deep/kaasd.sock" "" "[nss]
userdb_socket = $A/userdb/deep/io.kaas"
start "$A.conf" "$A.log"
KAASD_A=$PID
check "kaasd starts although no parent of state_dir, socket or userdb_socket exists" \
    wait_for 60 answers "$A/run/deep/kaasd.sock"
check "state_dir is created with mode 0700, its parents with 0755" \
    bash -c "[ \"\$(stat -c %a '$A/lib/deep/state')\" = 700 ] && [ \"\$(stat -c %a '$A/lib/deep')\" = 755 ] && [ \"\$(stat -c %a '$A/lib')\" = 755 ]"
check "the userdb socket is there too, in its new directory" [ -S "$A/userdb/deep/io.kaas" ]
check "Status counts no stored id in a subordinate range (a new store)" \
    test "$(param "$($VL -t 10 "$A/run/deep/kaasd.sock" io.kaas.Admin.Status)" stored_ids_in_subordinate_ranges)" = 0

stop "$KAASD_A"
check "a stopped kaasd removes both its sockets" [ ! -e "$A/run/deep/kaasd.sock" -a ! -e "$A/userdb/deep/io.kaas" ]

# ------------------------------------------------------------------ failed starts leave no socket
L=$T/l
mkdir -p "$L"
conf "$L.conf" "$L/state" "$L/kaasd.sock"
start "$L.conf" "$L.log"
KAASD_L=$PID
wait_for 60 answers "$L/kaasd.sock" || { echo "kaasd did not start: $(cat "$L.log")" >&2; exit 99; }
B=$T/b
mkdir -p "$B"
conf "$B.conf" "$L/state" "$B/kaasd.sock"
timeout 60 "$KAASD" -f -c "$B.conf" >"$B.log" 2>&1
rc=$?
check "a second kaasd on the same state_dir fails to start (status $rc: $(tail -1 "$B.log"))" \
    bash -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'cannot open the store' '$B.log'"
check "and removes the socket it had bound" [ ! -e "$B/kaasd.sock" ]
check "the first kaasd still answers" answers "$L/kaasd.sock"
stop "$KAASD_L"

C=$T/c
mkdir -p "$C"
: >"$C/not-a-socket"
conf "$C.conf" "$C/state" "$C/kaasd.sock" "" "[nss]
userdb_socket = $C/not-a-socket"
timeout 60 "$KAASD" -f -c "$C.conf" >"$C.log" 2>&1
rc=$?
check "kaasd fails to start when userdb_socket cannot be bound (status $rc: $(tail -1 "$C.log"))" \
    bash -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'not-a-socket: exists and is not a socket' '$C.log'"
check "and removes the main socket it had bound" [ ! -e "$C/kaasd.sock" ]
check "and leaves the file in the way alone" [ -f "$C/not-a-socket" ]

# ------------------------------------------------------------------ the same with "user ="
# kaasd binds as root and then runs as nobody: a socket directory it
# creates is nobody's, so a start failing after the switch (the store
# locked) can still remove its socket.
if [ "$(id -u)" != 0 ]; then
    echo "# SKIP failed starts with user = nobody: needs root"
else
    chmod 755 "$T"
    U=$T/u
    mkdir -p "$U/first"
    conf "$U.conf" "$U/state" "$U/first/kaasd.sock" "user = nobody"
    start "$U.conf" "$U.log"
    KAASD_U=$PID
    wait_for 60 answers "$U/first/kaasd.sock" || { echo "kaasd did not start: $(cat "$U.log")" >&2; exit 99; }
    conf "$U-2.conf" "$U/state" "$U/run/deep/kaasd.sock" "user = nobody"
    timeout 60 "$KAASD" -f -c "$U-2.conf" >"$U-2.log" 2>&1
    rc=$?
    check "user = nobody: a second kaasd on the same state_dir fails to start (status $rc: $(tail -1 "$U-2.log"))" \
        bash -c "[ $rc != 0 ] && [ $rc != 124 ] && grep -q 'cannot open the store' '$U-2.log'"
    check "and removes the socket it had bound before switching to nobody" [ ! -e "$U/run/deep/kaasd.sock" ]
    check "the socket directory it created is nobody's, its parents root's" \
        bash -c "[ \"\$(stat -c %U:%a '$U/run/deep')\" = nobody:755 ] && [ \"\$(stat -c %U '$U/run')\" = root ]"
    check "the first kaasd still answers" answers "$U/first/kaasd.sock"
    stop "$KAASD_U"

    # started as that user already (systemd's User=kaas with "user = kaas"
    # in kaasd.conf): nothing to switch, and no privilege to switch with
    mkdir -p "$U/same" && chown nobody "$U/same"
    conf "$U-same.conf" "$U/same/state" "$U/same/kaasd.sock" "user = nobody"
    setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$KAASD" -f -c "$U-same.conf" >>"$U-same.log" 2>&1 &
    PID=$!
    PIDS="$PIDS $PID"
    check "user = nobody in a kaasd started as nobody: it starts" \
        wait_for 60 answers "$U/same/kaasd.sock"
    check "and runs as nobody" bash -c "[ \"\$(stat -c %U /proc/$PID)\" = nobody ]"
    stop "$PID"
fi

# ------------------------------------------------------------------ plain HTTP to Keystone
K=$T/k
mkdir -p "$K"
(umask 077 && echo secret >"$K/pw")
conf "$K.conf" "$K/state" "$K/kaasd.sock" "" "[keystone]
url = http://192.0.2.10:5000
user = kaasd
password_file = $K/pw"
out=$("$KAASD" --check-config -c "$K.conf" 2>&1)
check "url = http:// to another machine is refused, naming insecure_http" \
    grep -q "url is plain http:// to 192.0.2.10.*insecure_http = yes" <<<"$out"
sed -i "s|^password_file = .*|&\ninsecure_http = yes|" "$K.conf"
out=$("$KAASD" --check-config -c "$K.conf" 2>&1)
check "with insecure_http = yes it is accepted" grep -q "configuration is valid" <<<"$out"
start "$K.conf" "$K.log"
check "and kaasd starts" wait_for 60 answers "$K/kaasd.sock"
check "with a warning that passwords and tokens cross the network unencrypted" \
    grep -q "warning.*insecure_http: http://192.0.2.10:5000 is plain HTTP to another machine" "$K.log"
stop "$PID"
sed -i "s|^url = .*|url = http://127.0.0.1:9|; /^insecure_http/d" "$K.conf"
out=$("$KAASD" --check-config -c "$K.conf" 2>&1)
check "http:// to this machine needs no option" grep -q "configuration is valid" <<<"$out"

# ------------------------------------------------------------------ socket activation
# As kaasd.socket starts it: systemd-socket-activate (systemd's own
# implementation of the protocol) holds the sockets and execs kaasd on the
# first connection with LISTEN_FDS; NOTIFY_SOCKET receives what
# Type=notify waits for. The sockets are systemd's: kaasd binds none of
# its own and leaves them in place when it stops.
S=$T/s
mkdir -p "$S"
conf "$S.conf" "$S/state" "$S/own.sock"
# userdb_answers SOCKET: a userdb lookup gets an answer of that interface
# (here an error: there is no Keystone to ask), not InterfaceNotFound
userdb_answers() {
    local out
    out=$($VL -t 10 "$1" io.systemd.UserDatabase.GetUserRecord '{"userName":"nobody-here","service":"io.kaas"}' 2>&1)
    grep -q '"error": "io.systemd.UserDatabase\.' <<<"$out" || { echo "#   got: ${out:0:300}"; return 1; }
}
# notified PATTERN: a line of what kaasd sent matches
notified() { grep -q "$1" "$S/notify.log" 2>/dev/null; }
# reloaded: the second and third lines say a reload began and ended
reloaded() { sed -n '2,3p' "$S/notify.log" | tr '\n' ' ' | grep -q '^RELOADING=1.* READY=1'; }
/usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
' "$S/notify" "$S/notify.log" &
PIDS="$PIDS $!"
wait_for 30 test -S "$S/notify" || { echo "the notify listener did not start" >&2; exit 99; }
systemd-socket-activate -l "$S/kaasd.sock" -l "$S/userdb.sock" -E NOTIFY_SOCKET="$S/notify" \
    "$KAASD" -f -c "$S.conf" >>"$S.log" 2>&1 &
SA=$!
PIDS="$PIDS $SA"
check "activated by its first connection, kaasd answers on the socket it was passed" \
    wait_for 60 answers "$S/kaasd.sock"
check "it serves io.systemd.UserDatabase on the second one" userdb_answers "$S/userdb.sock"
check "it binds no socket of its own" [ ! -e "$S/own.sock" ]
check "and tells systemd it is ready (READY=1)" wait_for 30 notified '^READY=1'
kill -HUP "$SA"
check "SIGHUP (ExecReload): RELOADING=1, then READY=1 again" \
    wait_for 30 reloaded
check "and it still answers" answers "$S/kaasd.sock"
kill -TERM "$SA"
wait "$SA"
rc=$?
check "SIGTERM: STOPPING=1, and it exits with status 0 (status $rc)" \
    bash -c "[ $rc = 0 ] && tail -1 '$S/notify.log' | grep -q '^STOPPING=1'"
check "both sockets are left to systemd" [ -S "$S/kaasd.sock" -a -S "$S/userdb.sock" ]

# activated_exit LOG WAKE ARG...: the exit status of a kaasd started by
# systemd-socket-activate ARG... (the first -l is the socket woken), once
# the Python statement WAKE, given that socket's path, has woken it
activated_exit() {
    local log=$1 wake=$2 first=$4 pid
    shift 2
    systemd-socket-activate "$@" "$KAASD" -f -c "$S.conf" >"$log" 2>&1 &
    pid=$!
    wait_for 30 test -S "$first" || { kill "$pid"; return 99; }
    /usr/bin/python3 -c "import socket, sys; $wake" "$first"
    timeout 60 tail --pid="$pid" -f /dev/null
    wait "$pid"
}
activated_exit "$S-3.log" 'socket.socket(socket.AF_UNIX).connect(sys.argv[1])' \
    -l "$S/a.sock" -l "$S/b.sock" -l "$S/c.sock"
rc=$?
check "three sockets are refused (status $rc)" \
    bash -c "[ $rc = 1 ] && grep -q 'expected one or two sockets from systemd, got 3' '$S-3.log'"
activated_exit "$S-d.log" 'socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"x", sys.argv[1])' \
    -l "$S/dgram.sock" --datagram
rc=$?
check "so is a datagram socket (status $rc)" \
    bash -c "[ $rc = 1 ] && grep -q 'not a listening AF_UNIX stream socket' '$S-d.log'"

check_done
