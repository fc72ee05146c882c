#!/bin/bash
# varlink interoperability: a client built with the varlink project's Go
# library (Debian golang-github-varlink-go-dev) against kaasd and a real
# Keystone. The library sends "parameters": null on calls without
# parameters, reads every interface description with its own IDL parser
# and calls a method with parameters (tests/interop/varlink_client.go).
# Debian's library (0.4.0) predates upper-case letters in interface names
# (varlink/go#28): the client lowercases those names before parsing.
# The Go build is offline: GOPATH mode over Debian's /usr/share/gocode,
# with the build cache in this test's temporary directory.
# Exit: 0 pass, 1 fail, 77 skip (no Go or no library), 99 harness error.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
GOLIB=/usr/share/gocode/src/github.com/varlink/go/varlink
command -v go >/dev/null 2>&1 || { echo "SKIP: go not found (apt-get install golang-go)"; exit 77; }
[ -f "$GOLIB/idl/idl.go" ] || {
        echo "SKIP: $GOLIB missing (apt-get install golang-github-varlink-go-dev)"
        exit 77
}

. "$top_srcdir/tests/lib/keystone-env.sh"
. "$top_srcdir/tests/lib/check.sh"

ks_env_setup

# no network: GOPATH mode, no module proxy, nothing fetched
client=$KS_TMP/varlink_client
if ! (cd "$top_srcdir/tests/interop" &&
      env GO111MODULE=off GOPROXY=off GOFLAGS= GOPATH="$KS_TMP/gopath:/usr/share/gocode" \
          GOCACHE="$KS_TMP/gocache" CGO_ENABLED=0 \
          go build -o "$client" varlink_client.go) >"$KS_TMP/go-build.log" 2>&1; then
        cat "$KS_TMP/go-build.log"
        echo "the Go client did not build"
        exit 99
fi

D=$KS_TMP/kaasd
kaasd_write_conf "$D"
kaasd_start "$D" || exit 99

"$client" "$KAASD_SOCKET" "$ALICE_NAME" "$ALICE_DOMAIN_ID" >"$KS_TMP/out" 2>"$KS_TMP/err"
rc=$?
sed 's/^/# /' "$KS_TMP/out" "$KS_TMP/err"
check "the Go client ran every call (exit $rc)" test "$rc" -eq 0

# GetInfo: the library sent "parameters": null and read the reply
check "GetInfo names kaasd and lists io.kaas.Token" \
        grep -qE '^info vendor=kaas product=kaasd interfaces=(.*,)?io\.kaas\.Token(,|$)' "$KS_TMP/out"

# every interface GetInfo lists: described, and parsed by the Go parser
interfaces=$(sed -n 's/^info .* interfaces=//p' "$KS_TMP/out" | tr , ' ')
check "GetInfo listed interfaces" test -n "$interfaces"
for i in $interfaces; do
        check "the Go IDL parser read $i" grep -qE "^idl ${i//./\\.} methods=[1-9][0-9]* " "$KS_TMP/out"
done
# names with upper-case letters are lowercased for library versions that
# predate the varlink specification allowing them (varlink/go#28); the
# all-lower-case ones must always parse as they are
check "org.varlink.service and io.kaas parsed as they are" \
        test "$(grep -cE '^idl (org\.varlink\.service|io\.kaas) .* name=as-is$' "$KS_TMP/out")" -eq 2
# the counts of the interface file kaasd serves (docs/io.kaas.Nss.varlink)
nss_idl=$top_srcdir/docs/io.kaas.Nss.varlink
nss_m=$(grep -c '^method ' "$nss_idl") nss_t=$(grep -c '^type ' "$nss_idl") nss_e=$(grep -c '^error ' "$nss_idl")
check "io.kaas.Nss has its $nss_m methods, $nss_t types and $nss_e errors in the Go parser's view" \
        grep -qE "^idl io\\.kaas\\.Nss methods=$nss_m types=$nss_t errors=$nss_e " "$KS_TMP/out"

# a method with parameters, answered from the real Keystone
check "io.kaas.Identity.GetUser found alice by name and domain" \
        grep -qx "user id=$ALICE_ID name=$ALICE_NAME domain=$ALICE_DOMAIN_ID enabled=true" "$KS_TMP/out"

out=$($VL "$KAASD_SOCKET" io.kaas.Ping 2>&1)
check "io.kaas.Ping answers an empty reply" jt "$out" "d == {'parameters': {}}"

# the same envelope from kaas's own client: null is no parameters
out=$($VL "$KAASD_SOCKET" org.varlink.service.GetInfo null 2>&1)
check "a call with \"parameters\": null gets GetInfo's reply" \
        jt "$out" "d['parameters']['product'] == 'kaasd'"
out=$($VL "$KAASD_SOCKET" org.varlink.service.GetInfo '[]' 2>&1)
check "parameters of another type are still refused" \
        jt "$out" "d.get('error') == 'org.varlink.service.InvalidParameter' and d['parameters']['parameter'] == 'parameters'"

check_done
