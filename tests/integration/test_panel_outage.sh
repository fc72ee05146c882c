#!/bin/bash
# kaas-panel through a Keystone outage: a session that ends by itself
# (here pushed out by max_sessions_per_user = 1) hands its Keystone token
# to the panel's sweep, which has kaasd revoke it. While Keystone is down
# (a fault proxy between kaasd and the real test Keystone answers every
# DELETE with 503 without forwarding it, and passes the rest), kaasd
# answers io.kaas.Token.Unavailable and the panel keeps the token for the
# next sweep instead of dropping it; once Keystone is back, the next sweep
# revokes it, in Keystone itself (its DELETE answered 204), once. Each
# check is one "ok"/"not ok" line; any "not ok" fails.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/webhook-env.sh"
wh_env_init
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/lib/panel-env.sh"

ks_env_setup
P=$KS_TMP/proxy
D=$KS_TMP/kaasd
mkdir -p "$P" "$D"
cleanup() {
    [ -n "${PN_PID:-}" ] && kill "$PN_PID" 2>/dev/null
    ks_cleanup
}
trap cleanup EXIT

# Keystone is down for revocations from the start: logins (POST and GET)
# pass, every DELETE is answered 503 and never reaches Keystone
ks_fault_proxy_start "$P" "503 DELETE"

KAASD_CONF_TAIL=$(pn_kaasd_conf_tail)
KEYSTONE_URL=$PROXY_URL kaasd_write_conf "$D"
kaasd_start "$D" || exit 99
SOCK=$KAASD_SOCKET
chmod 755 "$D"
wh_env_setup "$KS_TMP/panel"
pn_env_setup || exit 99
LOG=$W/panel.log
pn_write_conf "$W/panel.conf" "max_sessions_per_user = 1"
pn_start "$W/panel.conf" "$LOG" || exit 99

OUT=$W/out
pn_form_helpers
deletes() { grep -c "^$1 DELETE /v3/auth/tokens" "$P/requests.log"; }

# carol's second login pushes her first session out: its token waits for
# the sweep (every 10 s)
for i in 1 2; do
    PN_JAR=$W/jar-carol-$i
    code=$(login carol "$CAROL_PASSWORD")
    check "carol logs in through the proxy, session $i (max_sessions_per_user = 1): 303" [ "$code" = 303 ]
done
PN_JAR=$W/jar-carol-1
code=$(get /tokens)
check "her first session is gone ($code)" [ "$code" = 303 ]

# Keystone down: the sweep's revocation fails, and is tried again at the
# next sweep rather than dropped
check "the sweep asked kaasd, whose DELETE Keystone never saw (503)" \
    wait_for 60 bash -c "[ \$(grep -c '^503 DELETE /v3/auth/tokens' '$P/requests.log') -ge 1 ]"
check "kaasd: the token not revoked, Unavailable" \
    wait_for 30 bash -c "[ \$(grep -c 'AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token not revoked' '$D/kaasd.log') -ge 1 ]"
check "the panel keeps it for the next sweep, and says so" \
    wait_for 30 grep -q "cannot revoke the Keystone tokens of ended sessions now, trying again at the next sweep" "$LOG"
check "the next sweep tries the same token again: it was kept, not dropped" \
    wait_for 60 bash -c "[ \$(grep -c 'AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token not revoked' '$D/kaasd.log') -ge 2 ]"
check "no revocation reached Keystone while it was down" [ "$(deletes pass)" = 0 ]
check "... and the panel dropped nothing" bash -c "! grep -qE 'ended faster than|refused to revoke' '$LOG'"

# Keystone back: the next sweep revokes it, in Keystone, once
mode pass
# kaasd's audit names carol at every try: the first forgot the token as
# proof, and kept her ID aside for the tries after it
check "Keystone back: the next sweep revokes the token (kaasd's audit, naming carol)" \
    wait_for 60 bash -c "[ \$(grep -c 'AUDIT.*session ended: user_id=$CAROL_ID, its Keystone token revoked' '$D/kaasd.log') -eq 1 ]"
check "... in Keystone itself: its DELETE passed and was answered 204" \
    bash -c "grep -q '^pass DELETE /v3/auth/tokens 204' '$P/requests.log'"
check "the panel logs the revocation" wait_for 30 grep -q "revoked the Keystone tokens of 1 ended sessions" "$LOG"
PN_JAR=$W/jar-carol-2
code=$(get /tokens)
check "her second session still works ($code): the token revoked was the first session's" [ "$code" = 200 ]
check "exactly one revocation reached Keystone" [ "$(deletes pass)" = 1 ]
check "the panel log names no token, Keystone token or password" \
    bash -c "! grep -qE 'kaas_[A-Za-z0-9]{46}|gAAAA' '$LOG' && ! grep -qF '$CAROL_PASSWORD' '$LOG'"

pn_stop
check "kaas-panel stops cleanly on SIGTERM" [ "$PN_RC" = 0 ]
check_done
