#!/bin/bash
# Installs kaas and shows it working end to end on this machine: a local
# Keystone on 127.0.0.1 with demo users, kaasd configured against it, a
# KaaS token created with an OpenStack password and then used, and the KaaS
# Control Panel (kaas-panel) on https://127.0.0.1:8444 with a demo user to log
# in as. Run as root on Debian 12 from the source tree.
# Everything it starts lives under $KAAS_DEMO_DIR (default /tmp/kaas-demo);
# run it again to restart, or `bash tools/demo.sh stop` to stop it.
#
# `bash tools/demo.sh --environment` shows one token store for a whole
# environment instead (docs/environment.md): a 3-member etcd cluster on
# 127.0.0.1 with TLS, client certificates and the guide's roles
# (tests/etcd/etcd-up.sh), one writer kaasd and two reader kaasd configured
# with the guide's [etcd] blocks; a token created on the writer is used on a
# reader. KAAS_DEMO_NO_BUILD=1 uses kaas as already installed under the prefix.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
demo=${KAAS_DEMO_DIR:-/tmp/kaas-demo}
prefix=${KAAS_DEMO_PREFIX:-/usr/local}

stop() {
        local f
        for f in "$demo"/panel.pid "$demo"/kaasd.pid "$demo"/*/kaasd.pid; do
                [ -f "$f" ] || continue
                kill "$(cat "$f")" 2>/dev/null || true
                rm -f "$f"
        done
        if [ -d "$demo/etcd" ]; then
                bash tests/etcd/etcd-down.sh "$demo/etcd" >/dev/null 2>&1 || true
                rm -rf "$demo/etcd"
        fi
        [ -d "$demo/keystone" ] && bash tests/keystone/keystone-down.sh "$demo/keystone" >/dev/null 2>&1 || true
}
environment=false
case "${1:-}" in
stop)
        stop
        exit 0
        ;;
--environment) environment=true ;;
"") ;;
*)
        echo "usage: bash tools/demo.sh [--environment | stop]" >&2
        exit 2
        ;;
esac

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

if [ "${KAAS_DEMO_NO_BUILD:-0}" != 1 ]; then
        step "Installing dependencies"
        bash tools/deps.sh >/dev/null

        step "Building and installing kaas into $prefix"
        autoreconf -fi >/dev/null
        mkdir -p build/demo
        (cd build/demo && "$top/configure" -q --prefix="$prefix" --sysconfdir=/etc --localstatedir=/var --runstatedir=/run &&
                make -j"$(nproc)" >/dev/null && make install >/dev/null)
        ldconfig
fi

stop
mkdir -p "$demo"
step "Starting a local Keystone on 127.0.0.1 with demo users"
bash tests/keystone/keystone-up.sh "$demo/keystone"
python3 tests/keystone/fixtures.py "$demo/keystone" >/dev/null
# shellcheck disable=SC1091
. "$demo/keystone/env"
# shellcheck disable=SC1091
. "$demo/keystone/fixtures.env"

if $environment; then
        # shellcheck source=tools/demo-environment.sh
        . tools/demo-environment.sh
        exit 0
fi

# the panel runs unprivileged: as its own user where the sysusers entry
# made it, else as nobody; kaasd throttles its group per account
if id kaas-panel >/dev/null 2>&1; then
        panel_user=kaas-panel panel_group=$(id -gn kaas-panel)
else
        panel_user=nobody panel_group=$(id -gn nobody)
fi

step "Configuring and starting kaasd"
install -m 0600 /dev/null "$demo/keystone.password"
printf '%s' "$KAASD_SERVICE_PASSWORD" > "$demo/keystone.password"
cat > "$demo/kaasd.conf" <<CONF
[kaasd]
socket = $demo/kaasd.sock
state_dir = $demo/state
log_target = stderr
frontend_group = $panel_group

[keystone]
url = $KEYSTONE_URL
user = kaasd
password_file = $demo/keystone.password

[cluster alpha]
admin_roles = k8s-admins-alpha
CONF
"$prefix/sbin/kaasd" -f -c "$demo/kaasd.conf" 2>"$demo/kaasd.log" &
echo $! > "$demo/kaasd.pid"
for _ in $(seq 100); do [ -S "$demo/kaasd.sock" ] && break; sleep 0.1; done
export KAAS_SOCKET=$demo/kaasd.sock

step "kaasctl status"
"$prefix/bin/kaasctl" status

step "Introspection with a plain varlink client (socat)"
printf '{"method":"org.varlink.service.GetInfo"}\0' | socat - "UNIX-CONNECT:$KAAS_SOCKET" | tr -d '\0'
echo

step "alice creates a KaaS token with her OpenStack password (shown once)"
token=$(OS_USERNAME=alice OS_PASSWORD=$ALICE_PASSWORD OS_USER_DOMAIN_NAME=Default \
        "$prefix/bin/kaasctl" token create --description "demo")
echo "$token"

step "kaasctl user show alice: her Keystone roles and the clusters she administers"
"$prefix/bin/kaasctl" user show alice

step "Using the token: who is it? (the webhook and PAM module ask the same question)"
printf '%s\n' "$token" | "$prefix/bin/kaasctl" token validate

step "Her tokens (root needs no credentials; alice would give hers)"
"$prefix/bin/kaasctl" token list --user alice
unset token

step "Starting the KaaS Control Panel (kaas-panel) on https://127.0.0.1:8444"
# a CA of the demo's own, the panel's certificate for 127.0.0.1, and a CA
# standing for the cluster's (it goes into the kubeconfigs handed out)
mkdir -p "$demo/panel"
ec() { openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "$@" 2>>"$demo/panel/openssl.log"; }
(cd "$demo/panel" &&
        ec -x509 -days 30 -subj "/CN=kaas demo CA" -keyout ca.key -out ca.crt \
                -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        ec -subj "/CN=127.0.0.1" -keyout tls.key -out tls.csr &&
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' >tls.ext &&
        openssl x509 -req -in tls.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -out tls.crt \
                -extfile tls.ext 2>>openssl.log &&
        ec -x509 -days 30 -subj "/CN=alpha cluster CA" -keyout alpha-ca.key -out alpha-ca.crt \
                -addext basicConstraints=critical,CA:TRUE) || { cat "$demo/panel/openssl.log" >&2; exit 1; }
chown "$panel_user" "$demo/panel/tls.key"
cat > "$demo/panel/panel.conf" <<CONF
[panel]
listen = 127.0.0.1:8444
cert = $demo/panel/tls.crt
key = $demo/panel/tls.key
origin = https://127.0.0.1:8444
default_domain = Default
session_idle = 1800

[kaasd]
socket = $demo/kaasd.sock
user = root

[cluster alpha]
server = https://alpha.k8s.example.com:6443
ca_file = $demo/panel/alpha-ca.crt
service = Grafana https://grafana.alpha.k8s.example.com
service = Kibana https://kibana.alpha.k8s.example.com
CONF
setpriv --reuid="$panel_user" --regid="$panel_group" --clear-groups -- \
        "$prefix/sbin/kaas-panel" -f -c "$demo/panel/panel.conf" 2>"$demo/panel.log" &
echo $! > "$demo/panel.pid"
up=false
for _ in $(seq 150); do
        if curl -fsS -o /dev/null --max-time 2 --cacert "$demo/panel/ca.crt" https://127.0.0.1:8444/healthz 2>/dev/null; then
                up=true
                break
        fi
        sleep 0.2
done
$up || { echo "kaas-panel did not come up; its log:" >&2; cat "$demo/panel.log" >&2; exit 1; }

printf '\nkaasd is running (log: %s). KAAS_SOCKET=%s\n' "$demo/kaasd.log" "$KAAS_SOCKET"
printf '\n\033[1mKaaS Control Panel: https://127.0.0.1:8444\033[0m  (log: %s)\n' "$demo/panel.log"
printf '  log in as:   alice / %s / domain Default   (she administers cluster alpha)\n' "$ALICE_PASSWORD"
printf '               bob / %s / domain Default\n' "$BOB_PASSWORD"
printf '  its CA:      %s (trust it in the browser, or accept the warning)\n' "$demo/panel/ca.crt"
printf '  from another machine: ssh -L 8444:127.0.0.1:8444 THIS-HOST, then open the same URL\n'
printf '\nStop everything with: bash tools/demo.sh stop\n'
