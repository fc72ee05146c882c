#!/bin/sh
# Fails when kaas-webhook's documentation drifts from its code:
#   - every option row of webhook/settings.c is described in
#     kaas-webhook(8) and listed in the example configuration
#     (dist/webhook.conf.in), and nothing else is;
#   - the example, with every option uncommented, passes --check-config;
#   - every long option of httpd/daemon.c (both daemons' command line) is in --help and in OPTIONS of
#     kaas-webhook(8), and OPTIONS describes no other;
#   - every metric family the code renders is named in kaas-webhook(8);
#   - docs/kubernetes.md: its webhook.conf, taken verbatim, passes
#     --check-config, and its cluster-admin binding is what its kaasctl
#     command line, run verbatim, writes.
# Needs a built kaas-webhook for the checks that run it.
set -u

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$srcdir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kaas-test-webhook-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

settings_c=$srcdir/webhook/settings.c
# the command line is the one httpd/daemon.c parses for both HTTPS daemons
main_c=$srcdir/httpd/daemon.c
metrics_c=$srcdir/webhook/metrics.c
man8=$srcdir/docs/kaas-webhook.8
example=$srcdir/dist/webhook.conf.in
wh=$top_builddir/webhook/kaas-webhook
for f in "$settings_c" "$main_c" "$metrics_c" "$man8" "$example"; do
        [ -f "$f" ] || { echo "FAIL - missing $f"; exit 1; }
done

checks=0
fails=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $*"; }

# ------------------------------------------------------------ options of the file
sed -n 's/^[[:space:]]*ROW("\([a-z]*\)", *"\([a-z_]*\)",.*/\1 \2/p' "$settings_c" >"$tmp/rows"
[ -s "$tmp/rows" ] || bad "no option rows in webhook/settings.c: has the table's form changed?"
# the man page's sections: ".SS [name]" followed by ".TP/.B key" entries
awk '/^\.SS \[/ { s = $2; gsub(/[][]/, "", s); next }
     /^\.SH / { s = "" }
     s != "" && prev == ".TP" && /^\.B [a-z_]+$/ { print s, $2 }
     { prev = $0 }' "$man8" | sort >"$tmp/man_rows"
# the example's sections and (commented or not) keys
awk '/^\[/ { s = $0; gsub(/[][]/, "", s); next }
     s != "" && /^#?[a-z_]+ =/ { k = $0; sub(/^#/, "", k); sub(/ =.*/, "", k); print s, k }' "$example" |
        sort -u >"$tmp/example_rows"
sort -u "$tmp/rows" >"$tmp/code_rows"
while read -r sec key; do
        if grep -qx "$sec $key" "$tmp/man_rows"; then ok; else bad "kaas-webhook(8) does not describe [$sec] $key"; fi
        if grep -qx "$sec $key" "$tmp/example_rows"; then ok; else bad "dist/webhook.conf.in does not list [$sec] $key"; fi
done <"$tmp/code_rows"
while read -r sec key; do
        if grep -qx "$sec $key" "$tmp/code_rows"; then ok; else bad "kaas-webhook(8) describes [$sec] $key, which webhook/settings.c does not define"; fi
done <"$tmp/man_rows"
while read -r sec key; do
        if grep -qx "$sec $key" "$tmp/code_rows"; then ok; else bad "dist/webhook.conf.in lists [$sec] $key, which webhook/settings.c does not define"; fi
done <"$tmp/example_rows"

# ------------------------------------------------------------ command line
sed -n '/longopts\[\] = {/,/};/s/^[[:space:]]*{ \(p->client_ca ? \)\{0,1\}"\([a-z-]*\)".*/\2/p' "$main_c" >"$tmp/longopts"
[ -s "$tmp/longopts" ] || bad "no long options found in httpd/daemon.c"
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man8" >"$tmp/man_options"
if [ -x "$wh" ]; then
        "$wh" --help >"$tmp/help" 2>&1 || bad "kaas-webhook --help failed"
fi
while read -r o; do
        esc=$(printf '%s' "--$o" | sed 's/-/\\-/g')
        if grep -qF -- "$esc" "$tmp/man_options"; then ok; else bad "kaas-webhook(8) OPTIONS does not describe --$o"; fi
        if [ -x "$wh" ]; then
                if grep -qe "--$o\b" "$tmp/help"; then ok; else bad "kaas-webhook --help does not list --$o"; fi
        fi
done <"$tmp/longopts"
for o in $(sed -n 's/^\.B[IR]* .*\\-\\-\([a-z\\-]*\).*/\1/p' "$tmp/man_options" | sed 's/\\-/-/g; s/[^a-z-].*//'); do
        if grep -qx -- "$o" "$tmp/longopts"; then ok; else bad "kaas-webhook(8) describes --$o, which httpd/daemon.c does not define"; fi
done

# ------------------------------------------------------------ the example parses
if [ -x "$wh" ]; then
        sed -e 's|@sysconfdir@|/etc|g; s|@runstatedir@|/run|g' -e 's/^#\([a-z_]* =\)/\1/' "$example" >"$tmp/webhook.conf"
        if out=$("$wh" --check-config -c "$tmp/webhook.conf" 2>&1); then ok
        else bad "the example configuration with every option set is refused: $out"
        fi
else
        echo "# SKIP the checks that run kaas-webhook: $wh not built"
fi

# ------------------------------------------------------------ metrics
for m in $(grep -o '"# TYPE [a-z_]*' "$metrics_c" | sed 's/.* //' | sort -u); do
        if grep -qF "$m" "$man8"; then ok; else bad "kaas-webhook(8) does not name the metric $m"; fi
done

# ------------------------------------------------------------ kubernetes.md
k8s_md=$srcdir/docs/kubernetes.md
kaasctl=$top_builddir/client/kaasctl
# the fenced block after the line $1 (a fixed string), with fence $2
md_block() {
        awk -v head="$1" -v fence="$2" '
                index($0, head) == 1 { armed = 1; next }
                armed && !inside && $0 == fence { inside = 1; next }
                inside && $0 == "```" { exit }
                inside { print }' "$k8s_md"
}
md_block '`/etc/kaas/webhook.conf`:' '```ini' >"$tmp/k8s-webhook.conf"
[ -s "$tmp/k8s-webhook.conf" ] || bad "kubernetes.md: no webhook.conf example found"
if [ -x "$wh" ]; then
        if out=$("$wh" --check-config -c "$tmp/k8s-webhook.conf" 2>&1); then ok
        else bad "kubernetes.md's webhook.conf, as written, is refused: $out"
        fi
fi
# kaas-webhook(8)'s EXAMPLE, its first block: no key, as under the unit,
# which passes the key with --key
sed -n '/^\.SH EXAMPLE/,/^\.SH /{ /^\.nf/,/^\.fi/p; }' "$srcdir/docs/kaas-webhook.8" |
        awk '/^\.fi/ { exit } !/^\.nf/ { gsub(/\\-/, "-"); print }' >"$tmp/man8-webhook.conf"
if ! grep -q '^\[webhook\]' "$tmp/man8-webhook.conf"; then bad "kaas-webhook(8): no EXAMPLE found"
elif [ -x "$wh" ]; then
        if out=$("$wh" --check-config -c "$tmp/man8-webhook.conf" --key /etc/kaas/webhook/tls.key 2>&1); then ok
        else bad "kaas-webhook(8)'s EXAMPLE, with the unit's --key, is refused: $out"
        fi
fi
cmd=$(grep -m1 '^kaasctl rbac cluster-admin ' "$k8s_md" | sed 's/ |.*//')
md_block 'applies this binding' '```yaml' >"$tmp/k8s-binding.yaml"
if [ -z "$cmd" ] || [ ! -s "$tmp/k8s-binding.yaml" ]; then
        bad "kubernetes.md: no kaasctl rbac cluster-admin command, or no binding after it"
elif [ -x "$kaasctl" ] && python3 -c 'import yaml' 2>/dev/null; then
        # shellcheck disable=SC2086
        if "$kaasctl" ${cmd#kaasctl } >"$tmp/kaasctl-binding.yaml" 2>&1 &&
                python3 -c 'import sys, yaml; a, b = (yaml.safe_load(open(f)) for f in sys.argv[1:]); sys.exit(a != b)' \
                        "$tmp/k8s-binding.yaml" "$tmp/kaasctl-binding.yaml"; then
                ok
        else
                bad "kubernetes.md's binding is not what '$cmd' writes: $(cat "$tmp/kaasctl-binding.yaml")"
        fi
else
        echo "# SKIP the binding check: kaasctl not built or python3-yaml missing"
fi
for name in $(grep -o 'kaas:[a-z:-]*cluster-admin[a-zA-Z:_.-]*' "$k8s_md" | sort -u); do
        case $name in
        kaas:cluster-admin | kaas:cluster-admin:NAME) ok ;;
        *) bad "kubernetes.md names the binding $name; kaasctl writes kaas:cluster-admin[:CLUSTER]" ;;
        esac
done

echo "# $checks checks, $fails failed"
[ "$fails" -eq 0 ]
