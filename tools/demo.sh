#!/bin/bash
# Installs kaas and shows it working end to end on this machine: a local
# Keystone on 127.0.0.1 with demo users, kaasd configured against it, a
# KaaS token created with an OpenStack password and then used. Run as root on Debian 12 from the source tree.
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
        for f in "$demo"/kaasd.pid "$demo"/*/kaasd.pid; do
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

step "Configuring and starting kaasd"
install -m 0600 /dev/null "$demo/keystone.password"
printf '%s' "$KAASD_SERVICE_PASSWORD" > "$demo/keystone.password"
cat > "$demo/kaasd.conf" <<CONF
[kaasd]
socket = $demo/kaasd.sock
state_dir = $demo/state
log_target = stderr

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

printf '\nkaasd is running (log: %s). KAAS_SOCKET=%s\nStop everything with: bash tools/demo.sh stop\n' \
        "$demo/kaasd.log" "$KAAS_SOCKET"
