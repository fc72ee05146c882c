#!/usr/bin/env bash
# etcd-up.sh DIR — start a throw-away, real 3-member etcd cluster for tests.
#
# Everything lives under DIR (created if missing; must be empty): a test CA
# made with openssl, the members' and the clients' certificates, the data
# directories and logs. The members listen on 127.0.0.1 on free ports, speak
# TLS to clients and to each other, and require client certificates
# (--client-cert-auth). The members' command line, the kaasd certificates
# and the authentication and roles set up with etcdctl are exactly what
# docs/environment.md tells an operator: the commands run are extracted
# from that guide (blocks etcd-member, kaasd-cert, etcd-rbac), not copied
# here; only addresses, ports and paths are replaced.
#
# Client certificates (DIR/pki/NAME.crt, NAME.key; the CN is the etcd user):
#   root                the etcd administrator
#   kaas-writer         a writer kaasd (no CN: see below)
#   kaas-node-NODE      a reader kaasd, for NODE in $ETCD_READER_NODES
#                       (default "node1 node2")
# and the etcd passwords of those kaasd users in DIR/secrets/NAME.password.
#
# On success DIR/env (shell-sourceable) holds:
#   ETCD_DIR              DIR (absolute)
#   ETCD_ENDPOINTS        https://127.0.0.1:P1,https://127.0.0.1:P2,https://127.0.0.1:P3
#   ETCD_ENDPOINT_1..3    each member's client URL
#   ETCD_PID_1..3         each member's pid (also DIR/mN.pid)
#   ETCD_CA               DIR/pki/ca.crt
#   ETCD_PREFIX           /kaas/ (the key prefix the guide uses)
#   ETCD_READER_NODES     the reader node names
# and DIR/start-member.sh N starts member N again (after etcd-stop-member).
#
# Knobs: ETCD_START_TIMEOUT (60 s), ETCD_WATCH_PID (stop the cluster when
# that process is gone, so a killed test leaves nothing running),
# ETCD_READER_NODES, ETCD_GUIDE (the guide to take the commands from).
#
# Exit status: 0 ready; 77 etcd, etcdctl or openssl is not installed; 1 any
# other failure.
set -euo pipefail

prog=etcd-up
die() { echo "$prog: error: $*" >&2; exit 1; }
missing() { echo "$prog: missing dependency: $*" >&2; exit 77; }

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
START_TIMEOUT=${ETCD_START_TIMEOUT:-60}
READER_NODES=${ETCD_READER_NODES:-node1 node2}
GUIDE=${ETCD_GUIDE:-$here/../../docs/environment.md}

command -v etcd >/dev/null 2>&1 || missing "etcd (apt-get install etcd-server)"
command -v etcdctl >/dev/null 2>&1 || missing "etcdctl (apt-get install etcd-client)"
command -v openssl >/dev/null 2>&1 || missing openssl
command -v python3 >/dev/null 2>&1 || missing python3
[ -f "$GUIDE" ] || die "cannot find the operator's guide $GUIDE"

DIR=$1
mkdir -p -- "$DIR" || die "cannot create $DIR"
DIR=$(cd -- "$DIR" && pwd -P)
case $DIR in
    *[!A-Za-z0-9._/+-]*) die "DIR must be a plain path (letters, digits, . _ / + -): $DIR" ;;
esac
[ -z "$(ls -A -- "$DIR")" ] || die "$DIR is not empty (one cluster per directory)"
echo "$$" >"$DIR/.kaas-etcd-harness"

extract_block() {  # extract_block NAME: the sh lines between the guide's markers
    awk -v name="$1" '
        $0 == "<!-- begin " name " -->" { on = 1; next }
        $0 == "<!-- end " name " -->" { on = 0 }
        on && !/^```/ { print }' "$GUIDE"
}

# ---------------------------------------------------------------- certificates
pki=$DIR/pki
mkdir -m 0700 "$pki"
ossl() { openssl "$@" >>"$DIR/openssl.log" 2>&1 || die "openssl $1 failed (see $DIR/openssl.log)"; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=kaas test etcd CA" -keyout "$pki/ca.key" -out "$pki/ca.crt"

# cert NAME CN EXTENDED-KEY-USAGE [SUBJECT-ALT-NAMES]: the members' and
# the administrator's (kaasd's come from the guide's block below)
cert() {
    local ext="$pki/$1.ext"
    {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=digitalSignature,keyEncipherment"
        echo "extendedKeyUsage=$3"
        [ -z "${4:-}" ] || echo "subjectAltName=$4"
    } >"$ext"
    ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
        -keyout "$pki/$1.key" -out "$pki/$1.csr"
    ossl x509 -req -in "$pki/$1.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
        -days 2 -extfile "$ext" -out "$pki/$1.crt"
    rm -f "$pki/$1.csr" "$ext"
    chmod 0600 "$pki/$1.key"
}
# members: server for clients, server and client for their peers
cert member etcd-member serverAuth,clientAuth "IP:127.0.0.1,DNS:localhost"
cert root root clientAuth
# kaasd's certificates carry no CN: etcd's JSON gateway refuses requests
# whose certificate has one (it cannot map it to a user); kaasd logs in
# with a user name and password instead. Made by the guide's commands, in
# a directory holding the CA, with NAME for the guide's OU node1.
extract_block kaasd-cert >"$DIR/kaasd-cert.sh"
grep -qF /O=kaas/OU=node1 "$DIR/kaasd-cert.sh" || die "no kaasd-cert block naming /O=kaas/OU=node1 in $GUIDE"
kaasd_cert() {  # kaasd_cert NAME
    local d=$pki/make-$1
    mkdir -m 0700 "$d" && cp "$pki/ca.crt" "$pki/ca.key" "$d/" || die "cannot prepare $d"
    sed "s|/O=kaas/OU=node1|/O=kaas/OU=$1|" "$DIR/kaasd-cert.sh" >"$d/kaasd-cert.sh"
    (cd "$d" && bash -euo pipefail kaasd-cert.sh) >>"$DIR/openssl.log" 2>&1 ||
        die "the guide's kaasd-cert commands failed (see $DIR/openssl.log)"
    mv "$d/kaasd.crt" "$pki/$1.crt" && mv "$d/kaasd.key" "$pki/$1.key" && chmod 0600 "$pki/$1.key" ||
        die "the guide's kaasd-cert commands made no kaasd.crt and kaasd.key"
    rm -rf "$d"
}
kaasd_cert kaas-writer
for node in $READER_NODES; do
    kaasd_cert "kaas-node-$node"
done

# ---------------------------------------------------------------- members
ports=$(python3 -c '
import socket
ss = []
for _ in range(6):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); ss.append(s)
print(" ".join(str(s.getsockname()[1]) for s in ss))')
read -r -a p <<<"$ports"
endpoints="https://127.0.0.1:${p[0]},https://127.0.0.1:${p[1]},https://127.0.0.1:${p[2]}"

# The guide's command line for member N (its m1 line, with m1's address
# replaced by N's outside --initial-cluster), on this cluster's ports and
# directories; kept in start-member.sh so a test can restart a member.
extract_block etcd-member >"$DIR/etcd-member.sh"
grep -q '^etcd --name m1 ' "$DIR/etcd-member.sh" || die "no etcd-member block starting 'etcd --name m1' in $GUIDE"
member_cmd() {  # member_cmd N
    sed -e "/--initial-cluster m1=/!s|10\.0\.0\.11:|10.0.0.1$1:|g" -e "s|--name m1 |--name m$1 |" \
        -e "s|--data-dir /var/lib/etcd |--data-dir $DIR/m$1 |" \
        -e "s|https://10\.0\.0\.11:2379|https://127.0.0.1:${p[0]}|g" -e "s|https://10\.0\.0\.12:2379|https://127.0.0.1:${p[1]}|g" \
        -e "s|https://10\.0\.0\.13:2379|https://127.0.0.1:${p[2]}|g" -e "s|https://10\.0\.0\.11:2380|https://127.0.0.1:${p[3]}|g" \
        -e "s|https://10\.0\.0\.12:2380|https://127.0.0.1:${p[4]}|g" -e "s|https://10\.0\.0\.13:2380|https://127.0.0.1:${p[5]}|g" \
        -e "s|--initial-cluster-state new |--initial-cluster-state \$state |" \
        -e "s|--initial-cluster-token kaas |--initial-cluster-token kaas-test-$$ |" \
        -e "s|/etc/etcd/|$pki/|g" "$DIR/etcd-member.sh"
}
{
    echo '#!/usr/bin/env bash'
    echo '# start-member.sh N: starts etcd member N of this cluster (in the background),'
    echo '# with docs/environment.md'"'"'s etcd-member command line.'
    echo 'set -eu'
    echo 'n=$1'
    echo 'state=new'
    echo "[ ! -d \"$DIR/m\$n/member\" ] || state=existing"
    echo 'case $n in'
    for n in 1 2 3; do
        echo "$n)"
        printf 'setsid '
        member_cmd "$n" | sed '$ s|$| \\|'
        echo "    --heartbeat-interval 100 --election-timeout 1000 </dev/null >>\"$DIR/m$n.log\" 2>&1 &"
        echo "    ;;"
    done
    echo '*) exit 2 ;;'
    echo 'esac'
    echo "echo \$! >\"$DIR/m\$n.pid\""
} >"$DIR/start-member.sh"
! grep -qE '10\.0\.0\.|/etc/etcd|/var/lib/etcd|kaas \\$' "$DIR/start-member.sh" ||
    die "the guide's etcd-member block changed: $DIR/start-member.sh still holds its addresses or paths"
chmod 0755 "$DIR/start-member.sh"
# on any failure from here on, leave nothing running
trap '[ -f "$DIR/env" ] || ETCD_KEEP_DIR=1 "$here/etcd-down.sh" "$DIR" 2>/dev/null || true' EXIT
for n in 1 2 3; do "$DIR/start-member.sh" "$n"; done

export ETCDCTL_API=3 ETCDCTL_ENDPOINTS="$endpoints" ETCDCTL_CACERT="$pki/ca.crt" \
    ETCDCTL_CERT="$pki/root.crt" ETCDCTL_KEY="$pki/root.key"
deadline=$(( $(date +%s) + START_TIMEOUT ))
until etcdctl endpoint health >/dev/null 2>&1; do
    for n in 1 2 3; do
        kill -0 "$(cat "$DIR/m$n.pid")" 2>/dev/null || {
            tail -n 20 "$DIR/m$n.log" >&2; die "etcd member m$n exited"; }
    done
    [ "$(date +%s)" -lt "$deadline" ] || die "etcd not healthy after ${START_TIMEOUT}s (see $DIR/m*.log)"
    sleep 0.1
done

# ---------------------------------------------------------------- roles
# The guide's "Roles and users" commands, run with its variables bound to
# this cluster: KAAS_PREFIX and KAAS_READER_NODES.
extract_block etcd-rbac >"$DIR/rbac.sh"
[ -s "$DIR/rbac.sh" ] || die "no etcd-rbac block in $GUIDE"
mkdir -m 0700 "$DIR/secrets"
KAAS_PREFIX=/kaas/ KAAS_READER_NODES=$READER_NODES KAAS_SECRETS=$DIR/secrets \
    bash -euo pipefail "$DIR/rbac.sh" >"$DIR/rbac.log" 2>&1 ||
    { cat "$DIR/rbac.log" >&2; die "the guide's etcd-rbac commands failed"; }

if [ -n "${ETCD_WATCH_PID:-}" ]; then
    # Remembers the members' pids as it goes (a test may restart them), so
    # it can stop them even when DIR was removed under it.
    ( pids=
      while kill -0 "$ETCD_WATCH_PID" 2>/dev/null && [ -d "$DIR" ]; do
          pids=$(cat "$DIR"/m[123].pid 2>/dev/null || true)
          sleep 1
      done
      "$here/etcd-down.sh" "$DIR" || true
      for p in $pids; do
          [ "$(cat "/proc/$p/comm" 2>/dev/null)" = etcd ] && kill -KILL "$p" 2>/dev/null
      done ) </dev/null >/dev/null 2>&1 &
    echo $! >"$DIR/watchdog.pid"
fi

{
    echo "ETCD_DIR=$DIR"
    echo "ETCD_ENDPOINTS=$endpoints"
    for n in 1 2 3; do
        echo "ETCD_ENDPOINT_$n=https://127.0.0.1:${p[$((n - 1))]}"
        echo "ETCD_PID_$n=$(cat "$DIR/m$n.pid")"
    done
    echo "ETCD_CA=$pki/ca.crt"
    echo "ETCD_PREFIX=/kaas/"
    echo "ETCD_READER_NODES='$READER_NODES'"
} >"$DIR/env"
