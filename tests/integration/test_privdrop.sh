#!/bin/bash
# Least privilege. kaasd started as root with "user = nobody" binds its
# socket as root and then runs as nobody: no root uid or gid left (real,
# effective, saved, filesystem), no supplementary root group, no
# capabilities; it still serves, and writes its store (a token is created
# and validated, a reload re-reads the configuration). A state directory
# that is not nobody's is refused with a message saying whose it must be.
# kaas-webhook, which parses network input, refuses to run with a root
# uid, real or effective. Needs root (skipped otherwise) and a Keystone
# (the shared one will do).
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
if [ "$(id -u)" != 0 ]; then
    echo "SKIP: needs root to start kaasd as root"
    exit 77
fi
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

call() { $VL -t "${T:-15}" "$SOCK" "$@"; }
RUN_AS=nobody
RUN_UID=$(id -u "$RUN_AS")
RUN_GID=$(id -g "$RUN_AS")

ks_env_setup
D=$KS_TMP/kaasd
mkdir -p "$D/state"
# nobody must reach its state directory and password file through the
# test's directories (and may not write to them)
chmod 755 "$KS_TMP" "$D"
chown "$RUN_UID:$RUN_GID" "$D/state"
chmod 0700 "$D/state"
(umask 077 && printf '%s\n' "$KAASD_SERVICE_PASSWORD" >"$D/service-password")
chown "$RUN_UID" "$D/service-password"
KAASD_CONF_TAIL="
[kaasd]
user = $RUN_AS"
# (a second [kaasd] section continues the first one)
kaasd_write_conf "$D" "$D/service-password"
chmod 644 "$D/kaasd.conf"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET

# ------------------------------------------------------------------ the process
status_field() { awk -v f="$1:" '$1 == f { $1 = ""; print substr($0, 2) }' "/proc/$KAASD_PID/status"; }
uids=$(status_field Uid)
gids=$(status_field Gid)
groups=$(status_field Groups)
echo "# kaasd: Uid: $uids; Gid: $gids; Groups: $groups"
check "kaasd runs as $RUN_AS: real, effective, saved and filesystem uid $RUN_UID" \
    [ "$(echo $uids)" = "$RUN_UID $RUN_UID $RUN_UID $RUN_UID" ]
check "and gid $RUN_GID in all four" [ "$(echo $gids)" = "$RUN_GID $RUN_GID $RUN_GID $RUN_GID" ]
check "no supplementary root group" bash -c "! grep -qw 0 <<<'$groups'"
check "no capabilities left (effective, permitted, bounding aside)" \
    bash -c "[ \"\$(awk '/^CapEff:/ { print \$2 }' /proc/$KAASD_PID/status)\" = 0000000000000000 ] && [ \"\$(awk '/^CapPrm:/ { print \$2 }' /proc/$KAASD_PID/status)\" = 0000000000000000 ]"
check "the socket was bound as root before the switch (root's socket, as under systemd)" \
    [ "$(stat -c %u "$SOCK")" = 0 ]

# ------------------------------------------------------------------ it serves, and writes
r=$(call io.kaas.Admin.Status)
check "Status answers" jt "$r" "'version' in d['parameters']"
r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
TOKEN=$(param "$r" token)
check "a token is created (the store is written as $RUN_AS, the password file read as $RUN_AS)" \
    jt "$r" "d['parameters']['token'].startswith('kaas_')"
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "and validates" jt "$r" "d['parameters']['identity']['username'] == 'alice'"
check "every file in the state directory is $RUN_AS's" \
    bash -c "[ -z \"\$(find '$D/state' ! -uid $RUN_UID)\" ]"
r=$(call io.kaas.Admin.Reload)
check "Reload works after the switch (the configuration is readable)" jt "$r" "'error' not in d"
kaasd_stop "$D"
# (the unprivileged kaasd cannot unlink its socket from root's directory;
# the next start, as root, replaces the stale one)
kaasd_start "$D" || exit 99
r=$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")
check "after a restart the token still validates" jt "$r" "d['parameters']['identity']['username'] == 'alice'"
kaasd_stop "$D"

# ------------------------------------------------------------------ a state directory not nobody's
chown 0:0 "$D/state"
"$top_builddir/kaasd/kaasd" -f -c "$D/kaasd.conf" >"$D/refused.log" 2>&1 &
pid=$!
wait_for 60 bash -c "! kill -0 $pid 2>/dev/null"
if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    not_ok "kaasd started on a state directory of root's while running as $RUN_AS"
else
    wait "$pid"
    rc=$?
    check "a state directory of root's: kaasd exits with an error (exit $rc)" [ "$rc" != 0 ]
    check "and says whose it is and whose it must be" \
        grep -q -E "state directory $D/state (belongs to uid 0, but kaasd runs as '$RUN_AS' \\(uid $RUN_UID\\)|has mode 0700 and owner uid 0: it must be owned by uid $RUN_UID)" "$D/refused.log"
    sed 's/^/#   /' "$D/refused.log"
fi
chown -R "$RUN_UID:$RUN_GID" "$D/state"

# ------------------------------------------------------------------ the webhook never runs as root
WEBHOOK=$top_builddir/webhook/kaas-webhook
if [ -x "$WEBHOOK" ]; then
    W=$KS_TMP/webhook
    mkdir -p "$W"
    # refusing root comes before the certificate is read: empty files do
    : >"$W/cert.pem"
    : >"$W/key.pem"
    wh() { "$@" "$WEBHOOK" -f --listen 127.0.0.1:1 --cert "$W/cert.pem" --key "$W/key.pem" --socket "$SOCK" 2>&1; }
    out=$(wh env)
    check "kaas-webhook as root: refused (exit $?)" grep -q "refusing to run as root" <<<"$out"
    out=$(wh setpriv --ruid="$RUN_UID")
    check "kaas-webhook with a root effective uid only: refused" grep -q "refusing to run as root" <<<"$out"
    out=$(wh setpriv --euid="$RUN_UID")
    check "kaas-webhook with a root real uid only: refused" grep -q "refusing to run as root" <<<"$out"
    out=$(wh setpriv --reuid="$RUN_UID" --regid="$RUN_GID" --clear-groups)
    check "kaas-webhook as $RUN_AS gets past that check (and stops at the empty certificate)" \
        bash -c "! grep -q 'refusing to run as root' <<<'$out' && grep -q 'cert.pem' <<<'$out'"
else
    echo "# SKIP webhook checks: $WEBHOOK is not built"
fi

# ------------------------------------------------------------------ nor does the panel
PANEL=$top_builddir/panel/kaas-panel
if [ -x "$PANEL" ] && command -v openssl >/dev/null; then
    P=$KS_TMP/panel
    mkdir -p "$P"
    # a configuration that validates: refusing root comes after that, and
    # before the (empty) certificate is read
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" \
        -out "$P/ca.pem" -subj /CN=cluster-ca -days 1 2>/dev/null
    printf '[panel]\norigin = https://127.0.0.1:8444\n\n[cluster prod]\nserver = https://127.0.0.1:6443\nca_file = %s\n' \
        "$P/ca.pem" >"$P/panel.conf"
    : >"$P/cert.pem"
    : >"$P/key.pem"
    chmod 0755 "$P"
    chmod 0644 "$P/panel.conf" "$P/ca.pem" "$P/cert.pem"
    pn() { "$@" "$PANEL" -f -c "$P/panel.conf" --listen 127.0.0.1:1 --cert "$P/cert.pem" --key "$P/key.pem" \
        --socket "$SOCK" 2>&1; }
    out=$(pn env)
    check "kaas-panel as root: refused" grep -q "kaas-panel: refusing to run as root: run it as its own unprivileged user" <<<"$out"
    out=$(pn setpriv --ruid="$RUN_UID")
    check "kaas-panel with a root effective uid only: refused" grep -q "refusing to run as root" <<<"$out"
    out=$(pn setpriv --reuid="$RUN_UID" --regid="$RUN_GID" --clear-groups)
    check "kaas-panel as $RUN_AS gets past that check (and stops at the empty certificate)" \
        bash -c "! grep -q 'refusing to run as root' <<<'$out' && grep -q 'cert.pem' <<<'$out'"
    out=$("$PANEL" -c "$P/panel.conf" --listen 127.0.0.1:1 --cert "$P/cert.pem" --key "$P/key.pem" --check-config 2>&1)
    check "kaas-panel --check-config, as root too: valid" grep -q "^kaas-panel: configuration is valid" <<<"$out"
else
    echo "# SKIP panel checks: $PANEL is not built, or no openssl"
fi

check "kaasd logged no sanitizer report" \
    bash -c "! grep -q -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' '$D/kaasd.log'"
check_done
