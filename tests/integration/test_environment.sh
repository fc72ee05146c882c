#!/bin/bash
# One token store for the whole environment: a real 3-member etcd cluster
# with TLS, client certificates and the roles docs/environment.md sets up,
# one writer kaasd and two reader kaasd (configured with the guide's
# [etcd] blocks), all against the same real Keystone. Every wait is a
# bounded poll for a condition.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"
. "$top_srcdir/tests/etcd/guide.sh"
. "$top_srcdir/tests/lib/webhook-env.sh"

command -v etcd >/dev/null 2>&1 && command -v etcdctl >/dev/null 2>&1 || {
    echo "SKIP: etcd is not installed (apt-get install etcd-server etcd-client)"
    exit 77
}
creds_pw() { echo "{\"user\": \"$1\", \"password\": \"$2\"${3:+, \"domain\": \"$3\"}}"; }
call() { local sock=$1; shift; $VL -t "${T:-20}" "$sock" "$@"; }

ks_env_setup --private
ETCD=$KS_TMP/etcd
wh_env_init
# etcd first: ks_cleanup removes KS_TMP, where the cluster lives
PROXY_PID=
etcd_cleanup() {
    [ -n "$PROXY_PID" ] && kill -TERM "$PROXY_PID" 2>/dev/null
    if [ -n "$WH_PID" ]; then
        kill -TERM "$WH_PID" 2>/dev/null
        wait "$WH_PID" 2>/dev/null
    fi
    ETCD_KEEP_DIR=${KAAS_TEST_KEEP:-0} "$top_srcdir/tests/etcd/etcd-down.sh" "$ETCD" >/dev/null 2>&1 || true
    ks_cleanup
}
trap etcd_cleanup EXIT
trap 'exit 130' INT TERM
ETCD_WATCH_PID=$$ "$top_srcdir/tests/etcd/etcd-up.sh" "$ETCD" >"$KS_TMP/etcd-up.log" 2>&1 || {
    cat "$KS_TMP/etcd-up.log" >&2
    echo "etcd-up.sh failed" >&2
    exit 99
}
. "$ETCD/env"
PKI=$ETCD_DIR/pki

# etcd_conf NAME BLOCK USER NODE: the guide's [etcd] block for this test's
# cluster: its endpoints, and files where this test keeps them
etcd_conf() {
    local d=$KS_TMP/$1
    mkdir -p "$d"
    install -m 0600 "$ETCD_DIR/secrets/$3.password" "$d/etcd-password"
    guide_block "$2" | sed -e "s|^endpoints = .*|endpoints = $ETCD_ENDPOINTS|" \
        -e "s|^ca_file = .*|ca_file = $PKI/ca.crt|" \
        -e "s|^cert_file = .*|cert_file = $PKI/$3.crt|" \
        -e "s|^key_file = .*|key_file = $PKI/$3.key|" \
        -e "s|^password_file = .*|password_file = $d/etcd-password|" \
        -e "s|^user = .*|user = $3|" -e "s|^node = .*|node = $4|"
}

W=$KS_TMP/writer R1=$KS_TMP/node1 R2=$KS_TMP/node2
# the writer host ran a standalone kaasd before the environment had etcd
kaasd_write_conf "$W"
kaasd_start "$W" || exit 99
r=$(call "$W/kaasd.sock" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"description\": \"standalone\"}")
T0=$(param "$r" token)
check "standalone: the writer host has a token of its own" jt "$r" "d['parameters']['token'].startswith('kaas_')"
kaasd_stop "$W"
# uid_min + FNV-1a-64(ID) mod range size (the default range): where a user goes when it is free
preferred() {
    "$CHECK_PY" -c '
import sys
h = 0xcbf29ce484222325
for b in sys.argv[1].encode():
    h = ((h ^ b) * 0x100000001b3) % 2**64
print(int(sys.argv[2]) + h % (int(sys.argv[3]) - int(sys.argv[2]) + 1))' "$1" 1879048192 1946157055
}
ERIN_PREFERRED=$(preferred "$ERIN_ID")
# on the writer host alone, erin's preferred uid is a local account's: the
# writer gives erin another uid, which every node must then give too
printf 'root:x:0:0:root:/root:/bin/bash\nsvc:x:%s:%s:local service:/:/usr/sbin/nologin\n' \
    "$ERIN_PREFERRED" "$ERIN_PREFERRED" >"$KS_TMP/writer-passwd"
printf 'root:x:0:\nsvc:x:%s:\n' "$ERIN_PREFERRED" >"$KS_TMP/writer-group"
KAASD_CONF_TAIL="$(etcd_conf writer kaasd-etcd-writer kaas-writer admin-1)

[nss]
passwd_file = $KS_TMP/writer-passwd
group_file = $KS_TMP/writer-group" kaasd_write_conf "$W"
check "the guide's writer block names the writer role" grep -qx 'role = writer' "$W/kaasd.conf"
kaasd_start "$W" || exit 99
WS=$W/kaasd.sock
# the hashing key is shared: the readers get the writer's, as the guide says
for d in "$R1" "$R2"; do
    n=${d##*/}
    conf=$(etcd_conf "$n" kaasd-etcd-reader "kaas-node-$n" "$n")
    # node2 prefers failing closed: it refuses tokens 4 s after losing etcd;
    # and it lists the members rotated, as the guide tells nodes to
    [ "$n" = node2 ] && conf=$(sed -e 's/^max_disconnected = 0$/max_disconnected = 4/' \
        -e "s|^endpoints = .*|endpoints = $ETCD_ENDPOINT_2,$ETCD_ENDPOINT_3,$ETCD_ENDPOINT_1|" <<<"$conf")
    KAASD_CONF_TAIL=$conf kaasd_write_conf "$d"
    # node1 serves a kaas-webhook
    [ "$n" = node1 ] && sed -i "/^\[kaasd\]\$/a validator_group = $VGROUP" "$d/kaasd.conf"
    install -m 0600 "$W/state/token.key" "$d/state/token.key"
    kaasd_start "$d" || exit 99
done
RS1=$R1/kaasd.sock RS2=$R2/kaasd.sock

status() { call "$1" io.kaas.Admin.Status; }
complete() { jt "$(status "$1")" "d['parameters']['store']['complete'] and d['parameters']['store']['connected']" >/dev/null; }
for s in "$WS" "$RS1" "$RS2"; do
    check "${s%/kaasd.sock}: the replica loads the store" wait_for 30 complete "$s"
done
r=$(status "$RS1")
check "Status shows the reader's replica" \
    jt "$r" "d['parameters']['store']['role'] == 'reader' and d['parameters']['store']['node'] == 'node1' and 'disconnected_since' not in d['parameters']['store']"

# ---------------------------------------------------------------- kaas-webhook's /metrics on node1
wh_env_setup "$KS_TMP/webhook"
WHD=$W W=$KS_TMP/writer
in_wh() { local W=$WHD; "$@"; }  # webhook-env.sh's helpers work in $W
in_wh wh_mk_server_cert || { cat "$WHD/openssl.log" >&2; echo "openssl failed" >&2; exit 99; }
SOCK=$RS1 PORT=$(wh_free_port)
in_wh wh_write_conf "$WHD/webhook.conf" "log_level = info"
in_wh wh_start "$WHD/webhook.conf" "$WHD/webhook.log" || exit 99
metric() { curl -sS --max-time 10 --cacert "$WHD/ca.crt" "https://127.0.0.1:$PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
store_metrics() {
    local rev
    rev=$(j "$(status "$RS1")" "d['parameters']['store']['revision']")
    [ "$(metric kaas_webhook_store_revision)" -ge "$rev" ] 2>/dev/null &&
        [ "$(metric kaas_webhook_store_complete)" = 1 ] && [ "$(metric kaas_webhook_store_connected)" = 1 ] &&
        [ "$(metric kaas_webhook_store_disconnected_since_seconds)" = 0 ] &&
        [ -n "$(metric kaas_webhook_store_lag_revisions)" ] &&
        [ "$(metric 'kaas_webhook_store_info{role="reader",node="node1"}')" = 1 ]
}
check "webhook on node1: /metrics shows the replica's revision, lag, complete and connected" wait_for 20 store_metrics

validate() { call "$1" io.kaas.Token.Validate "{\"token\": \"$2\"}"; }
valid() { jt "$(validate "$1" "$2")" "'user_id' in d.get('parameters', {})" >/dev/null; }
invalid() { jt "$(validate "$1" "$2")" "d.get('error') == 'io.kaas.Token.InvalidToken'"; }

check "the standalone store's token moved into etcd: valid on node1" wait_for 30 valid "$RS1" "$T0"
check "the standalone store's token moved into etcd: valid on node2" wait_for 30 valid "$RS2" "$T0"
check "the writer says how many tokens it moved" grep -q "moved the standalone store's 1 tokens into etcd (0 were there already)" "$W/kaasd.log"

# ---------------------------------------------------------------- create on the writer
r=$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"description\": \"laptop\"}")
TOKEN=$(param "$r" token)
TID=$(param "$r" id)
check "writer: Create answers a token" jt "$r" "d['parameters']['token'].startswith('kaas_')"
check "writer: its own replica has it at once (read-your-writes)" valid "$WS" "$TOKEN"
check "reader node1: the token becomes valid" wait_for 20 valid "$RS1" "$TOKEN"
check "reader node2: the token becomes valid" wait_for 20 valid "$RS2" "$TOKEN"
r=$(validate "$RS2" "$TOKEN")
check "reader node2: Validate names alice" jt "$r" "d['parameters']['user_id'] == '$ALICE_ID'"

# ---------------------------------------------------------------- readers cannot write
r=$(call "$RS1" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
check "reader: Create is refused with ReadOnly, naming the writer hosts" \
    jt "$r" "d['error'] == 'io.kaas.Token.ReadOnly' and 'writer hosts' in d['parameters']['reason']"
r=$(call "$RS1" io.kaas.Token.Delete "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"ids\": [\"$TID\"]}")
check "reader: Delete is refused with ReadOnly" jt "$r" "d['error'] == 'io.kaas.Token.ReadOnly'"
check "reader: the token is still valid after the refused Delete" valid "$RS1" "$TOKEN"

# the reader's own etcd credentials, used directly, cannot write a token record
key=$(printf '%stokens/%064d' "$ETCD_PREFIX" 0 | base64 -w0)
val=$(printf '{"owner_id":"x"}' | base64 -w0)
login=$(curl -sS --cacert "$PKI/ca.crt" --cert "$PKI/kaas-node-node1.crt" --key "$PKI/kaas-node-node1.key" \
    "$ETCD_ENDPOINT_1/v3/auth/authenticate" \
    -d "{\"name\":\"kaas-node-node1\",\"password\":\"$(cat "$ETCD_DIR/secrets/kaas-node-node1.password")\"}")
etok=$(j "$login" "d['token']" | tr -d '"')
check "reader's etcd user logs in" test -n "$etok"
put=$(curl -sS --cacert "$PKI/ca.crt" --cert "$PKI/kaas-node-node1.crt" --key "$PKI/kaas-node-node1.key" \
    -H "Authorization: $etok" "$ETCD_ENDPOINT_2/v3/kv/put" -d "{\"key\":\"$key\",\"value\":\"$val\"}")
check "etcd refuses the reader's own credentials writing a token record" \
    jt "$put" "'permission denied' in d.get('message', '')"
lu=$(printf '%slast-used/node1/x' "$ETCD_PREFIX" | base64 -w0)
put=$(curl -sS --cacert "$PKI/ca.crt" --cert "$PKI/kaas-node-node1.crt" --key "$PKI/kaas-node-node1.key" \
    -H "Authorization: $etok" "$ETCD_ENDPOINT_2/v3/kv/put" -d "{\"key\":\"$lu\",\"value\":\"$val\"}")
check "etcd lets the reader write its own last-used prefix" jt "$put" "'header' in d and 'error' not in d"
put=$(ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/kaas-node-node2.crt" \
    --key "$PKI/kaas-node-node2.key" --user "kaas-node-node2:$(cat "$ETCD_DIR/secrets/kaas-node-node2.password")" \
    put "${ETCD_PREFIX}tokens/$(printf '%064d' 1)" x 2>&1)
check "etcdctl with node2's credentials cannot write a token record either" \
    bash -c "grep -q 'permission denied' <<<'$put'"

etcdctl_root_early() {
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/root.crt" \
        --key "$PKI/root.key" "$@"
}
# ---------------------------------------------------------------- kaasctl store migrate, as the guide says
migrate() { KAAS_SOCKET=$1 PATH="$top_builddir/client:$PATH" bash -c "$(guide_block store-migrate)" 2>&1; }
n_tokens=$(etcdctl_root_early get "${ETCD_PREFIX}tokens/" --prefix --keys-only | grep -c .)
out=$(migrate "$WS")
check "writer: store migrate finds its $n_tokens tokens in etcd already ($out)" \
    test "$out" = "moved 0 tokens into etcd; $n_tokens were there already"
out=$(migrate "$WS")
check "writer: store migrate again changes nothing ($out)" \
    test "$out" = "moved 0 tokens into etcd; $n_tokens were there already"
check "writer: the request is in the audit log" grep -q "local store moved into etcd on request of uid 0: moved=0 present=$n_tokens" "$W/kaasd.log"
out=$(migrate "$RS1")
check "reader: store migrate is refused, naming where tokens are made ($out)" grep -q "writer host" <<<"$out"

# ---------------------------------------------------------------- the shared uid map
etcdctl_root() {
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/root.crt" \
        --key "$PKI/root.key" "$@"
}
uid_on() { j "$(call "$1" io.kaas.Nss.GetPasswdByName '{"name": "erin"}')" "d['parameters']['passwd']['uid']"; }
WUID=$(uid_on "$WS")
check "writer: erin's preferred uid is a local account's there: erin gets $WUID instead" \
    test -n "$WUID" -a "$WUID" != "$ERIN_PREFERRED"
entry() { etcdctl_root get "${ETCD_PREFIX}uids/$ERIN_ID" --print-value-only; }
has_entry() { [ "$(entry)" = "$WUID" ]; }
check "etcd's uid map holds the writer's uid of erin" wait_for 20 has_entry
rev=$(j "$(etcdctl_root get "${ETCD_PREFIX}uids/$ERIN_ID" -w json)" "d['kvs'][0]['mod_revision']")
applied() { jt "$(status "$1")" "d['parameters']['store']['revision'] >= ${rev:-1}" >/dev/null; }
for s in "$RS1" "$RS2"; do
    check "${s%/kaasd.sock}: its replica reaches the uid map entry" wait_for 20 applied "$s"
    check "${s%/kaasd.sock}: io.kaas.Nss gives erin the writer's uid $WUID" test "$(uid_on "$s")" = "$WUID"
done
rev=$(j "$(etcdctl_root put "${ETCD_PREFIX}uids/$ERIN_ID" "$((WUID + 1))" -w json)" "d['header']['revision']")
conflict() { jt "$(status "$1")" "d['parameters']['store']['uid_conflicts'] >= 1" >/dev/null; }
for s in "$WS" "$RS1" "$RS2"; do
    check "${s%/kaasd.sock}: a changed uid map entry is reported in Status" wait_for 20 conflict "$s"
    check "${s%/kaasd.sock}: and erin keeps uid $WUID" test "$(uid_on "$s")" = "$WUID"
done
check "a changed uid map entry is logged" grep -q "the uid map gives $ERIN_ID id $((WUID + 1)) at revision $rev, this node gave $WUID: $WUID kept" "$R1/kaasd.log"

# ---------------------------------------------------------------- uids given at once on several nodes
ADM_TOKEN=$(ks_admin_token)
new_user() {
    j "$(curl -fsS --max-time 30 -X POST -H "X-Auth-Token: $ADM_TOKEN" -H 'Content-Type: application/json' \
        -d "{\"user\": {\"name\": \"$1\", \"domain_id\": \"default\", \"enabled\": true}}" \
        "$KEYSTONE_AUTH_URL/users")" "d['user']['id']" | tr -d '"'
}
uid_of() { j "$(call "$1" io.kaas.Nss.GetPasswdByName "{\"name\": \"$2\"}")" "d['parameters']['passwd']['uid']"; }
etcd_uid() { etcdctl_root get "${ETCD_PREFIX}uids/$1" --print-value-only; }
# NAME ID: every kaasd and etcd give NAME one uid, and etcd notes that uid as ID's
one_uid() {
    local u w n1 n2
    u=$(etcd_uid "$2")
    [ -n "$u" ] || return 1
    w=$(uid_of "$WS" "$1") n1=$(uid_of "$RS1" "$1") n2=$(uid_of "$RS2" "$1")
    [ "$w" = "$u" ] && [ "$n1" = "$u" ] && [ "$n2" = "$u" ] &&
        [ "$(etcdctl_root get "${ETCD_PREFIX}uids/number:$u" --print-value-only)" = "$2" ]
}
FA=$(new_user fresh-a) FB=$(new_user fresh-b) FC=$(new_user fresh-c)
check "Keystone has three users no kaasd has seen" test -n "$FA" -a -n "$FB" -a -n "$FC"
# one user asked on the three nodes at once; two users on two nodes at once
asked=()
for s in "$WS" "$RS1" "$RS2"; do
    call "$s" io.kaas.Nss.GetPasswdByName '{"name": "fresh-a"}' >/dev/null &
    asked+=($!)
done
call "$RS1" io.kaas.Nss.GetPasswdByName '{"name": "fresh-b"}' >/dev/null &
asked+=($!)
call "$RS2" io.kaas.Nss.GetPasswdByName '{"name": "fresh-c"}' >/dev/null &
asked+=($!)
wait "${asked[@]}"
check "fresh-a, asked on three nodes at once: one uid everywhere, its number held in etcd" wait_for 20 one_uid fresh-a "$FA"
both_uids() { one_uid fresh-b "$FB" && one_uid fresh-c "$FC"; }
check "fresh-b and fresh-c, asked on two nodes at once: one uid each everywhere" wait_for 20 both_uids
# another node has just given fresh-d's preferred uid to another user, and
# this node has not seen that entry yet: etcd holds only that number's key
FD=$(new_user fresh-d)
FD_PREFERRED=$(preferred "$FD")
etcdctl_root put "${ETCD_PREFIX}uids/number:$FD_PREFERRED" "someone-else" >/dev/null
check "node1 gives fresh-d a uid" test -n "$(uid_of "$RS1" fresh-d)"
check "fresh-d's preferred uid was another's in etcd: node1 took another, and so did every node" \
    wait_for 20 one_uid fresh-d "$FD"
check "fresh-d's uid is not the number another node held" test "$(etcd_uid "$FD")" != "$FD_PREFERRED"
check "node1 says it yielded the number" grep -q "$FD: id $FD_PREFERRED was given first to another key by another node" "$R1/kaasd.log"
no_duplicates() {
    etcdctl_root get "${ETCD_PREFIX}uids/" --prefix | paste - - | grep -v "uids/number:" | cut -f2 | sort | uniq -d | grep -q . && return 1
    return 0
}
check "no uid is given to two users in etcd" no_duplicates

# ---------------------------------------------------------------- last used, merged from every node
r=$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"description\": \"used on node1\"}")
TL=$(param "$r" token) TLID=$(param "$r" id)
check "node1: a token made on the writer is used there" wait_for 20 valid "$RS1" "$TL"
used_on_writer() {
    jt "$(call "$WS" io.kaas.Token.List '{"all": true}')" \
        "any(t['id'] == '$TLID' and t.get('last_used', 0) > 0 for t in d['parameters']['tokens'])" >/dev/null
}
check "writer: List shows the last use the token had on node1" wait_for 30 used_on_writer
lu=$(etcdctl_root get "${ETCD_PREFIX}last-used/node1/" --prefix --keys-only)
check "node1 wrote the last use under its own prefix" test -n "$lu"

# ---------------------------------------------------------------- delete and revoke on the writer
r=$(call "$WS" io.kaas.Token.Delete "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"ids\": [\"$TID\"]}")
check "writer: Delete answers the deleted ID" jt "$r" "d['parameters']['deleted'] == ['$TID']"
check "writer: refused at once after Delete (read-your-writes)" invalid "$WS" "$TOKEN"
check "reader node1: the deleted token is refused" wait_for 20 invalid "$RS1" "$TOKEN"
check "reader node2: the deleted token is refused" wait_for 20 invalid "$RS2" "$TOKEN"

T1=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw bob "$BOB_PASSWORD")}")" token)
T2=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw bob "$BOB_PASSWORD")}")" token)
T3=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")" token)
for t in "$T1" "$T2" "$T3"; do
    wait_for 20 valid "$RS1" "$t" && wait_for 20 valid "$RS2" "$t" || not_ok "a new token did not reach both readers"
done
r=$(call "$WS" io.kaas.Token.RevokeUser "{\"user\": \"$BOB_ID\"}")
check "writer: RevokeUser deletes bob's two tokens" jt "$r" "d['parameters']['deleted'] == 2"
bob_refused() { invalid "$1" "$T1" >/dev/null && invalid "$1" "$T2" >/dev/null; }
check "writer: bob's tokens refused at once" bob_refused "$WS"
for s in "$RS1" "$RS2"; do
    check "reader ${s%/kaasd.sock}: bob's revoked tokens are refused" wait_for 20 bob_refused "$s"
    check "reader ${s%/kaasd.sock}: alice's token stays valid" valid "$s" "$T3"
done

# ---------------------------------------------------------------- the leader killed mid-stream
# the member number (1..3) of the current leader
leader() {
    local st
    st=$(etcdctl_root endpoint status -w json 2>/dev/null) || return 1
    j "$st" "[i + 1 for i, e in enumerate(d) if e['Status']['header']['member_id'] == e['Status']['leader']][0]"
}
: >"$KS_TMP/stream.ok"
(
    for i in $(seq 40); do
        t=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")" token 2>/dev/null)
        case $t in kaas_*) echo "$t" >>"$KS_TMP/stream.ok" ;; esac
    done
) &
stream=$!
some_created() { [ "$(wc -l <"$KS_TMP/stream.ok")" -ge 5 ]; }
check "a stream of creations is under way" wait_for 60 some_created
L=$(leader)
check "etcd has a leader (member $L)" test -n "$L"
kill -KILL "$(cat "$ETCD_DIR/m$L.pid")"
wait "$stream"
n_ok=$(wc -l <"$KS_TMP/stream.ok")
check "creations went on around the leader's death ($n_ok of 40 succeeded)" test "$n_ok" -ge 5
all_valid() {
    local t
    while read -r t; do valid "$1" "$t" || return 1; done <"$KS_TMP/stream.ok"
}
check "leader killed: every Create that succeeded validates on node1" wait_for 60 all_valid "$RS1"
check "leader killed: every Create that succeeded validates on node2" wait_for 60 all_valid "$RS2"
created_after() {
    local t
    t=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")" token 2>/dev/null)
    [ "${t#kaas_}" != "$t" ]
}
check "leader killed: the writer creates again, without a restart" wait_for 60 created_after
"$ETCD_DIR/start-member.sh" "$L"
check "the killed member rejoins" wait_for 60 etcdctl_root endpoint health

# ---------------------------------------------------------------- etcd's gRPC proxy, as the guide starts it
P=$KS_TMP/proxy PP=$(wh_free_port)
mkdir -p "$P"
# its certificate towards the members has no CN, made as kaasd's (section 2)
(cd "$P" && openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /O=kaas/OU=grpc-proxy \
    -keyout proxy-client.key -out proxy-client.csr &&
    openssl x509 -req -in proxy-client.csr -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -CAcreateserial -days 2 \
        -extfile <(printf 'extendedKeyUsage=clientAuth\n') -out proxy-client.crt) >"$P/openssl.log" 2>&1 ||
    not_ok "the proxy's certificate"
members=$(sed 's|https://||g' <<<"$ETCD_ENDPOINTS")
proxy_cmd=$(guide_block etcd-grpc-proxy | sed -e "s|--endpoints=[^ ]*|--endpoints=$members|" \
    -e "s|10.0.1.5:23790|127.0.0.1:$PP|g" -e "s|/etc/etcd/ca.crt|$PKI/ca.crt|g" \
    -e "s|/etc/etcd/proxy-client|$P/proxy-client|g" -e "s|/etc/etcd/proxy.crt|$PKI/member.crt|" \
    -e "s|/etc/etcd/proxy.key|$PKI/member.key|" -e "s|/var/lib/etcd-proxy|$P/data|")
check "the guide's grpc-proxy command names the members" grep -q -- "--endpoints=$members" <<<"$proxy_cmd"
bash -c "exec $proxy_cmd" >"$P/proxy.log" 2>&1 &
PROXY_PID=$!
via_proxy() {
    ETCDCTL_API=3 etcdctl --endpoints="https://127.0.0.1:$PP" --cacert "$PKI/ca.crt" \
        --user "kaas-node-node1:$(cat "$ETCD_DIR/secrets/kaas-node-node1.password")" \
        get "${ETCD_PREFIX}meta/key-fingerprint" --print-value-only 2>/dev/null | grep -q .
}
check "gRPC proxy: etcdctl reads through it with a node's own etcd user" wait_for 30 via_proxy
code=$(curl -sS --http1.1 -o /dev/null -w '%{http_code}' --cacert "$PKI/ca.crt" --cert "$PKI/kaas-node-node1.crt" \
    --key "$PKI/kaas-node-node1.key" "https://127.0.0.1:$PP/v3/kv/range" -d '{"key":"L2thYXMv"}')
check "gRPC proxy: it does not serve the JSON gateway kaasd speaks (HTTP $code), as the guide says" test "$code" = 404
PX=$KS_TMP/proxied
KAASD_CONF_TAIL=$(etcd_conf proxied kaasd-etcd-reader kaas-node-node2 node2 |
    sed "s|^endpoints = .*|endpoints = https://127.0.0.1:$PP|") kaasd_write_conf "$PX"
install -m 0600 "$W/state/token.key" "$PX/state/token.key"
kaasd_start "$PX" || exit 99
proxied_fails() { grep -q "etcd: reading the hashing key's fingerprint failed: https://127.0.0.1:$PP" "$PX/kaasd.log"; }
check "gRPC proxy: a reader pointed at it is refused by it" wait_for 30 proxied_fails
check "gRPC proxy: and has no replica to validate from" \
    jt "$(status "$PX/kaasd.sock")" "not d['parameters']['store']['complete']"
kaasd_stop "$PX"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" 2>/dev/null
PROXY_PID=

# ---------------------------------------------------------------- another hashing key
X=$KS_TMP/stranger
KAASD_CONF_TAIL=$(etcd_conf stranger kaasd-etcd-reader kaas-node-node2 node2) kaasd_write_conf "$X"
timeout 60 "$top_builddir/kaasd/kaasd" -f -c "$X/kaasd.conf" >"$X/kaasd.log" 2>&1
rc=$?
check "a kaasd with another hashing key stops (exit status $rc)" test "$rc" = 1
check "it names both fingerprints" grep -q "hashing key (fingerprint [0-9a-f]\{32\}) is not the environment's (fingerprint [0-9a-f]\{32\}" "$X/kaasd.log"

# ---------------------------------------------------------------- etcd entirely down
stop_member() {
    local pid
    pid=$(cat "$ETCD_DIR/m$1.pid")
    kill -TERM "$pid" 2>/dev/null
    wait_for 20 bash -c "! kill -0 $pid 2>/dev/null"
}
for n in 1 2 3; do stop_member "$n" || not_ok "etcd member $n did not stop"; done
disconnected() { jt "$(status "$1")" "'disconnected_since' in d['parameters']['store'] and not d['parameters']['store']['connected']" >/dev/null; }
check "etcd down: the reader's Status shows since when it is disconnected" wait_for 30 disconnected "$RS1"
wh_disconnected() {
    [ "$(metric kaas_webhook_store_connected)" = 0 ] && [ "$(metric kaas_webhook_store_disconnected_since_seconds)" -gt 0 ] 2>/dev/null
}
check "etcd down: the webhook's /metrics shows since when node1 is disconnected" wait_for 30 wh_disconnected
out=$("$top_builddir/client/kaasctl" --socket="$RS1" status 2>&1)
check "etcd down: kaasctl status shows the replica's revision, lag and since when it is disconnected" \
    bash -c 'grep -q "revision" <<<"$1" && grep -q "lag" <<<"$1" && grep -q "disconnected_since" <<<"$1"' _ "$out"
check "etcd down: reader node1 still validates an existing token" valid "$RS1" "$T3"
unavailable() { jt "$(validate "$1" "$2")" "d.get('error') == 'io.kaas.Token.Unavailable'" >/dev/null; }
check "etcd down: node2 (max_disconnected = 4) refuses tokens once that is exceeded" wait_for 30 unavailable "$RS2" "$T3"
check "etcd down: node1 (max_disconnected = 0) still validates" valid "$RS1" "$T3"
r=$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
check "etcd down: the writer answers Create with StoreUnavailable" jt "$r" "d['error'] == 'io.kaas.StoreUnavailable'"
# a uid given while etcd is away, and kaasd restarted before etcd is back
FE=$(new_user fresh-e)
FE_UID=$(uid_of "$RS1" fresh-e)
check "etcd down: node1 gives fresh-e a uid of its own" test -n "$FE_UID"
kaasd_stop "$R1"
kaasd_start "$R1" || exit 99

for n in 1 2 3; do "$ETCD_DIR/start-member.sh" "$n"; done
healthy() {
    ETCDCTL_API=3 etcdctl --endpoints="$ETCD_ENDPOINTS" --cacert "$PKI/ca.crt" --cert "$PKI/root.crt" \
        --key "$PKI/root.key" endpoint health >/dev/null 2>&1
}
check "etcd back: the cluster is healthy" wait_for 60 healthy
created() {
    local r
    r=$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
    T4=$(param "$r" token 2>/dev/null)
    [ "${T4#kaas_}" != "$T4" ]
}
check "etcd back: the writer creates again, without a restart" wait_for 60 created
for s in "$RS1" "$RS2"; do
    check "etcd back: ${s%/kaasd.sock} catches up without a restart" wait_for 30 valid "$s" "$T4"
    check "etcd back: ${s%/kaasd.sock} is connected again" wait_for 30 complete "$s"
done

check "etcd back: the uid node1 gave fresh-e before its restart is shared, and every node gives it" \
    wait_for 30 one_uid fresh-e "$FE"
check "etcd back: fresh-e keeps the uid node1 gave it" test "$(etcd_uid "$FE")" = "$FE_UID"

# ---------------------------------------------------------------- a reader away while etcd compacts
r=$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")
T5=$(param "$r" token) TID5=$(param "$r" id)
check "node1 holds a token before it stops" wait_for 30 valid "$RS1" "$T5"
kaasd_stop "$R1"
r=$(call "$WS" io.kaas.Token.Delete "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD"), \"ids\": [\"$TID5\"]}")
check "node1 away: that token is deleted on the writer" jt "$r" "d['parameters']['deleted'] == ['$TID5']"
T6=$(param "$(call "$WS" io.kaas.Token.Create "{\"credentials\": $(creds_pw alice "$ALICE_PASSWORD")}")" token)
rev=$(j "$(etcdctl_root get "${ETCD_PREFIX}" -w json)" "d['header']['revision']")
check "node1 away: etcd compacts up to revision $rev" etcdctl_root compact "$rev"
kaasd_start "$R1" || exit 99
check "node1 back after the compaction: the token deleted meanwhile is refused" wait_for 30 invalid "$RS1" "$T5"
check "node1 back after the compaction: the token created meanwhile is valid" wait_for 30 valid "$RS1" "$T6"
check "node1 back after the compaction: older tokens are still valid" valid "$RS1" "$T3"
check "node1 back after the compaction: its Status counts the reload" \
    jt "$(status "$RS1")" "d['parameters']['store']['reloads'] >= 1 and d['parameters']['store']['complete']"

check "no token appears in any kaasd log" bash -c "! grep -qF -e '$TOKEN' -e '$T1' -e '$T3' -e '$T5' '$W/kaasd.log' '$R1/kaasd.log' '$R2/kaasd.log'"
for d in "$W" "$R1" "$R2"; do kaasd_stop "$d"; done
check "no kaasd logged a sanitizer report" \
    bash -c "! grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$W/kaasd.log' '$R1/kaasd.log' '$R2/kaasd.log' '$X/kaasd.log'"
check_done
