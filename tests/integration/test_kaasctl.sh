#!/bin/sh
# kaasctl against the real kaasd from the build tree: status (table and
# JSON), introspection, raw calls, and the exit codes for a varlink error,
# an unreachable kaasd and a bad command line. Also checks that a plain
# varlink client (socat) can talk to kaasd.
# Needs $top_builddir and $srcdir (the top source dir) from the harness.
# Exit: 0 pass, 1 fail, 77 skip.
set -u

: "${top_builddir:?set by the test harness}"
: "${srcdir:?set by the test harness}"
kaasd="$top_builddir/kaasd/kaasd"
kaasctl="$top_builddir/client/kaasctl"
[ -x "$kaasd" ] && [ -x "$kaasctl" ] || { echo "SKIP: kaasd or kaasctl not built"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not found"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_kaasctl.XXXXXX") || exit 1
sock="$tmp/kaasd.sock"
kaasd_pid=
cleanup() {
        if [ -n "$kaasd_pid" ]; then
                kill "$kaasd_pid" 2>/dev/null
                wait "$kaasd_pid" 2>/dev/null
        fi
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

failures=0
fail() {
        echo "FAIL: $*"
        failures=$((failures + 1))
}
pass() {
        echo "ok: $*"
}

# Runs kaasctl, keeping stdout, stderr and the exit code for checks.
run() {
        "$kaasctl" "$@" >"$tmp/out" 2>"$tmp/err"
        rc=$?
}

expect_rc() {
        want=$1
        shift
        if [ "$rc" -eq "$want" ]; then
                pass "$* (exit $rc)"
        else
                fail "$*: exit $rc, expected $want; stderr: $(cat "$tmp/err")"
        fi
}

expect_in() {
        file=$1 text=$2 what=$3
        if grep -qF -- "$text" "$file"; then
                pass "$what"
        else
                fail "$what: '$text' not in: $(cat "$file")"
        fi
}

# ---------------------------------------------------------- kaasd down
run --socket "$sock" status
expect_rc 3 "status without kaasd"
expect_in "$tmp/err" "kaasd is not running (no socket at $sock)" "message names the missing socket"

# ------------------------------------------------------------- start
"$kaasd" -f --socket "$sock" --state-dir "$tmp/state" 2>"$tmp/kaasd.log" &
kaasd_pid=$!
# bounded wait for the socket: up to ~10 s in 0.05 s steps, no fixed sleep
i=0
while [ ! -S "$sock" ]; do
        if ! kill -0 "$kaasd_pid" 2>/dev/null; then
                echo "FAIL: kaasd exited at start:"
                cat "$tmp/kaasd.log"
                kaasd_pid=
                exit 1
        fi
        i=$((i + 1))
        if [ "$i" -gt 1200 ]; then
                echo "FAIL: kaasd did not create $sock within 60 s"
                exit 1
        fi
        sleep 0.05
done

export KAAS_SOCKET="$sock"

# ------------------------------------------------------------ status
run status
expect_rc 0 "status"
expect_in "$tmp/out" "Version:" "status shows the version"
expect_in "$tmp/out" "Uptime:" "status shows the uptime"
expect_in "$tmp/out" "io.kaas.Admin.Status" "status lists per-method counters"

run --json status
expect_rc 0 "--json status"
if python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert isinstance(d["version"], str) and isinstance(d["uptime_seconds"], int)
assert any(m["method"] == "io.kaas.Admin.Status" for m in d["methods"])' "$tmp/out"; then
        pass "status --json is valid JSON with the Status fields"
else
        fail "status --json: $(cat "$tmp/out")"
fi

# options after the command word work too
run status --json --socket "$sock" --timeout 5
expect_rc 0 "status with options after the command"

# -------------------------------------------------------- introspect
run introspect
expect_rc 0 "introspect"
expect_in "$tmp/out" "io.kaas.Admin" "introspect lists io.kaas.Admin"
expect_in "$tmp/out" "org.varlink.service" "introspect lists org.varlink.service"

run introspect io.kaas.Admin
expect_rc 0 "introspect io.kaas.Admin"
if cmp -s "$tmp/out" "$srcdir/docs/io.kaas.Admin.varlink"; then
        pass "introspect io.kaas.Admin prints docs/io.kaas.Admin.varlink verbatim"
else
        fail "introspect io.kaas.Admin differs from docs/io.kaas.Admin.varlink"
        diff "$srcdir/docs/io.kaas.Admin.varlink" "$tmp/out"
fi

run introspect io.kaas.Nope
expect_rc 1 "introspect of an unknown interface"
expect_in "$tmp/err" "io.kaas.Nope" "the unknown interface is named"

# -------------------------------------------------------------- call
run call io.kaas.Admin.Status
expect_rc 0 "call io.kaas.Admin.Status"
if python3 -c 'import json, sys; assert "calls" in json.load(open(sys.argv[1]))' "$tmp/out"; then
        pass "call prints the reply parameters as JSON"
else
        fail "call output: $(cat "$tmp/out")"
fi

run call org.varlink.service.GetInterfaceDescription '{"interface":"io.kaas"}'
expect_rc 0 "call with JSON parameters"
expect_in "$tmp/out" "interface io.kaas" "parameters reached kaasd"

echo '{"interface":"io.kaas.Admin"}' >"$tmp/params.json"
"$kaasctl" call org.varlink.service.GetInterfaceDescription - <"$tmp/params.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
expect_rc 0 "call reading parameters from stdin"

run call io.kaas.Admin.Nope
expect_rc 1 "call of an unknown method"
expect_in "$tmp/err" "org.varlink.service.MethodNotFound" "the error name is on stderr"
expect_in "$tmp/err" '"method": "io.kaas.Admin.Nope"' "the error parameters are on stderr"

run call org.varlink.service.GetInterfaceDescription '{"bogus":1}'
expect_rc 1 "call with a parameter kaasd rejects"
expect_in "$tmp/err" "org.varlink.service.InvalidParameter" "InvalidParameter reported"

run call io.kaas.Admin.Status --more
expect_rc 0 "call --more of a single-reply method"
run call io.kaas.Admin.Status --oneway
expect_rc 0 "call --oneway"
[ -s "$tmp/out" ] && fail "call --oneway printed a reply" || pass "call --oneway prints nothing"

# ------------------------------------------------------- usage errors
run call io.kaas.Admin.Status '{not json'
expect_rc 2 "call with bad JSON"
expect_in "$tmp/err" "invalid JSON" "bad JSON is explained"
run call io.kaas.Admin.Status '[1]'
expect_rc 2 "call with a JSON array"
run call io.kaas.Admin.Status --more --oneway
expect_rc 2 "call --more --oneway"
run frobnicate
expect_rc 2 "unknown command"
run
expect_rc 2 "no command"
run status extra
expect_rc 2 "too many arguments"
run --timeout soon status
expect_rc 2 "bad --timeout"
run --help
expect_rc 0 "--help"
expect_in "$tmp/out" "introspect [INTERFACE]" "--help lists the commands"
run call --help
expect_rc 0 "call --help"
expect_in "$tmp/out" "--oneway" "call --help lists its options"
run --version
expect_rc 0 "--version"

# ------------------------------------------------ a plain varlink client
if command -v socat >/dev/null 2>&1; then
        printf '{"method":"org.varlink.service.GetInfo"}\0' | socat -t 5 - "UNIX-CONNECT:$sock" | tr '\0' '\n' >"$tmp/socat.out"
        expect_in "$tmp/socat.out" '"io.kaas.Admin"' "socat GetInfo lists io.kaas.Admin"
else
        echo "note: socat not found, plain-client check skipped"
fi

# ---------------------------------------------- kaasd gone while in use
kill "$kaasd_pid"
wait "$kaasd_pid" 2>/dev/null
kaasd_pid=
run status
expect_rc 3 "status after kaasd stopped"
expect_in "$tmp/err" "kaasd is not running" "clear message after kaasd stopped"

if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed; kaasd log:"
        cat "$tmp/kaasd.log"
        exit 1
fi
exit 0
