#!/bin/bash
# Installs everything kaas needs to build, run and test on Debian 12.
# Run as root. Safe to run again.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
        # build
        build-essential autoconf automake libtool pkg-config
        libpam0g-dev libcurl4-openssl-dev libjansson-dev libsodium-dev
        libdb5.3-dev db5.3-util libmicrohttpd-dev libgnutls28-dev libinih-dev
        libsystemd-dev
        # tests
        systemd  # systemd-socket-activate and systemd-analyze: kaasd as its units start it
        systemd-container  # systemd-nspawn: the packaged units under systemd as PID 1 (tests/lib/machine.sh)
        systemd-userdbd  # userdbctl: docs/varlink.md's userdb lines in that machine
        libcmocka-dev libpamtest0-dev libpam-wrapper libnss-wrapper libuid-wrapper
        keystone uwsgi-core uwsgi-plugin-python3 python3 socat curl openssl
        python3-kubernetes  # the typed client that decodes kaas-webhook's replies in the e2e test
        openssh-server openssh-client sshpass pamtester
        valgrind util-linux procps groff-base
        wrk  # the load generator of make bench-webhook
        etcd-server etcd-client  # the environment-wide token store (tests/etcd/)
        golang-go golang-github-varlink-go-dev  # tests/interop: a Go varlink client
        stress-ng  # CPU load beside the suite: no test may depend on speed
        chromium  # kaas-panel's browser tests (tests/browser/), headless
        nginx-core  # managed services behind auth_request (tests/forward/, bench-forward-auth)
        libnginx-mod-stream  # docs/panel.md's TLS pass-through block (tests/forward/)
        python3-yaml  # reads the panel's kubeconfig where kubectl is missing
        debhelper dh-nss lintian dpkg-dev  # the Debian packages (debian/, tests/packages/)
        # fuzzing and sanitizers
        clang libclang-rt-14-dev
)

# a freshly installed keystone package must not try to start its own
# service on this machine: the tests run private instances on 127.0.0.1
if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi

# node and npm run puppeteer-core; kubectl checks the kubeconfig the panel
# hands out. Either may come from elsewhere (NodeSource, Kubernetes' own
# repository): Debian's packages only where none is installed
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
command -v kubectl >/dev/null 2>&1 || packages+=(kubernetes-client)

apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"

# puppeteer-core for the browser tests, at the version package-lock.json
# pins; it drives Debian's chromium and never downloads a browser
top=$(cd "$(dirname "$0")/.." && pwd)
PUPPETEER_SKIP_DOWNLOAD=1 npm ci --prefix "$top/tests/browser" --no-audit --no-fund --ignore-scripts
