# The environment part of tools/demo.sh (sourced by it, after Keystone is up):
# 3 etcd members, one writer kaasd and two readers, a token created on the
# writer and used on a reader. Everything follows docs/environment.md: the
# cluster and its roles come from tests/etcd/etcd-up.sh, which runs the
# guide's etcdctl commands, and each kaasd gets the guide's [etcd] block.

guide=$top/docs/environment.md
# block NAME: the guide's lines between its markers, without the fences
block() {
        awk -v name="$1" '$0 == "<!-- begin " name " -->" { on = 1; next }
                $0 == "<!-- end " name " -->" { on = 0 } on && !/^```/ { print }' "$guide"
}
status_ok() {  # status_ok SOCKET: the replica is loaded and connected
        printf '{"method":"io.kaas.Admin.Status"}\0' | socat - "UNIX-CONNECT:$1" 2>/dev/null | tr -d '\0' |
                python3 -c 'import json, sys; s = json.load(sys.stdin)["parameters"].get("store") or {}
sys.exit(0 if s.get("complete") and s.get("connected") else 1)' 2>/dev/null
}
wait_until() {  # wait_until SECONDS COMMAND...: poll, bounded
        local end=$((SECONDS + $1))
        shift
        until "$@"; do
                [ "$SECONDS" -lt "$end" ] || return 1
                sleep 0.2
        done
}

step "Starting 3 etcd members on 127.0.0.1 with TLS, client certificates and the guide's roles"
bash tests/etcd/etcd-up.sh "$demo/etcd" >"$demo/etcd-up.log" 2>&1 || {
        cat "$demo/etcd-up.log" >&2
        exit 1
}
# shellcheck disable=SC1091
. "$demo/etcd/env"
pki=$ETCD_DIR/pki
echo "etcd: $ETCD_ENDPOINTS"

# kaasd_up NAME BLOCK USER NODE: a kaasd with the guide's block for this cluster
kaasd_up() {
        local d=$demo/$1
        mkdir -p "$d/state"
        install -m 0600 /dev/null "$d/keystone.password"
        printf '%s' "$KAASD_SERVICE_PASSWORD" >"$d/keystone.password"
        install -m 0600 "$ETCD_DIR/secrets/$3.password" "$d/etcd.password"
        [ "$1" = writer ] || install -m 0600 "$demo/writer/state/token.key" "$d/state/token.key"
        {
                cat <<CONF
[kaasd]
socket = $d/kaasd.sock
state_dir = $d/state
log_target = stderr

[keystone]
url = $KEYSTONE_URL
user = kaasd
password_file = $d/keystone.password

[cluster alpha]
admin_roles = k8s-admins-alpha

CONF
                block "$2" | sed -e "s|^endpoints = .*|endpoints = $ETCD_ENDPOINTS|" \
                        -e "s|^ca_file = .*|ca_file = $pki/ca.crt|" -e "s|^cert_file = .*|cert_file = $pki/$3.crt|" \
                        -e "s|^key_file = .*|key_file = $pki/$3.key|" -e "s|^password_file = .*|password_file = $d/etcd.password|" \
                        -e "s|^user = .*|user = $3|" -e "s|^node = .*|node = $4|"
        } >"$d/kaasd.conf"
        "$prefix/sbin/kaasd" -f -c "$d/kaasd.conf" 2>"$d/kaasd.log" &
        echo $! >"$d/kaasd.pid"
        wait_until 60 status_ok "$d/kaasd.sock" || {
                tail -n 20 "$d/kaasd.log" >&2
                echo "kaasd $1 did not load the environment's store" >&2
                exit 1
        }
        echo "kaasd $1 ($4): replica loaded, socket $d/kaasd.sock"
}

step "Starting the writer kaasd (it creates the hashing key and records its fingerprint in etcd)"
kaasd_up writer kaasd-etcd-writer kaas-writer admin-1
step "Starting two reader kaasd with the writer's hashing key (guide, section 4)"
kaasd_up node1 kaasd-etcd-reader kaas-node-node1 node1
kaasd_up node2 kaasd-etcd-reader kaas-node-node2 node2

step "kaasctl status on node1: the replica of the environment's store"
KAAS_SOCKET=$demo/node1/kaasd.sock "$prefix/bin/kaasctl" status

step "alice creates a token on the writer"
token=$(KAAS_SOCKET=$demo/writer/kaasd.sock OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD OS_USER_DOMAIN_NAME=Default \
        "$prefix/bin/kaasctl" token create --description "environment demo")
echo "$token"

step "The token used on reader node1 (it reached node1 through etcd's watch)"
validate_on() { printf '%s\n' "$token" | KAAS_SOCKET=$demo/$1/kaasd.sock "$prefix/bin/kaasctl" token validate; }
wait_until 20 validate_on node1 >/dev/null 2>&1 || true
validate_on node1

step "A reader cannot create tokens: it names where tokens are made"
KAAS_SOCKET=$demo/node2/kaasd.sock OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD OS_USER_DOMAIN_NAME=Default \
        "$prefix/bin/kaasctl" token create --description "refused" || true
unset token

printf '\nThe environment is running under %s: etcd (%s), kaasd writer, node1, node2\n' "$demo" "$ETCD_ENDPOINTS"
printf 'Stop everything with: bash tools/demo.sh stop\n'
