#!/bin/bash
# kaasd stopped while token checks wait for Keystone: a Validate and a
# List proved by a KaaS token, each waiting for its owner's identity,
# are answered "unavailable" when kaasd stops, and kaasd exits cleanly:
# the checks are answered and forgotten before the identity cache that
# would answer them goes (under the sanitizers, any use of what was
# freed is a report and a failed exit). A proxy in front of the real
# Keystone (tests/lib/keystone_fault_proxy.py, mode "hold") keeps the
# owner's fetch in flight until kaasd stops, however fast the machine.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

PY=/usr/bin/python3
call() { $VL -t "${T:-20}" "$SOCK" "$@"; }

ks_env_setup
P=$KS_TMP/proxy
D=$KS_TMP/kaasd
mkdir -p "$P" "$D"

ks_fault_proxy_start "$P"
# Keystone's timeout far beyond the test: the held fetch ends only with kaasd
KAASD_CONF_EXTRA="timeout = 120"
KEYSTONE_URL=$PROXY_URL kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
PID=$KAASD_PID

r=$(call io.kaas.Token.Create "{\"credentials\": {\"user\": \"alice\", \"password\": \"$ALICE_PASSWORD\"}}")
TOKEN=$(param "$r" token 2>/dev/null)
check "a token for alice" [ -n "$TOKEN" ]
check "it validates" jt "$(call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}")" \
    "d['parameters']['identity']['username'] == 'alice'"

# alice forgotten: each check must fetch her again, and the fetch is held
check "the identity cache flushed" call io.kaas.Admin.FlushCache
mode hold
T=120 call io.kaas.Token.Validate "{\"token\": \"$TOKEN\"}" >"$KS_TMP/validate.out" 2>&1 &
V_PID=$!
T=120 call io.kaas.Token.List "{\"credentials\": {\"kaas_token\": \"$TOKEN\"}}" >"$KS_TMP/list.out" 2>&1 &
L_PID=$!
checks_waiting() { jt "$(T=10 call io.kaas.Admin.Status)" \
    "[m['calls'] for m in d['parameters']['methods'] if m['method'] == 'io.kaas.Token.List'] == [1]" >/dev/null; }
check "alice's fetch is held at the proxy" wait_for 60 grep -q "^held GET /v3/users/" "$P/requests.log"
check "the List call reached kaasd too" wait_for 60 checks_waiting

rm -f "$D/kaasd.pid"    # stopped here, not by the cleanup
kill -TERM "$PID"
exited() { ! kaasd_running "$PID"; }
check "kaasd stops, its shutdown_timeout spent on the held checks" wait_for 60 exited
wait "$PID"
rc=$?
check "kaasd exits with status 0 (got $rc)" [ "$rc" -eq 0 ]
wait "$V_PID"
wait "$L_PID"
check "the Validate is answered: unavailable ($(head -c 200 "$KS_TMP/validate.out"))" \
    jt "$(cat "$KS_TMP/validate.out")" "d['error'] == 'io.kaas.Token.Unavailable'"
check "the List is answered: unavailable ($(head -c 200 "$KS_TMP/list.out"))" \
    jt "$(cat "$KS_TMP/list.out")" "d['error'] == 'io.kaas.Token.Unavailable'"
check "no sanitizer report" bash -c "! grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$D/kaasd.log'"
check_done
