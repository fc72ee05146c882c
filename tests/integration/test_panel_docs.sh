#!/bin/bash
# kaas-panel's documentation against its code: every key of the settings
# table (panel/settings.c) is documented in kaas-panel(8) and present in
# dist/panel.conf.in; the configuration kaas-panel(8)'s EXAMPLE tells an
# operator to write, taken verbatim (only the cluster's CA file pointed at
# a real one), and the installed example configuration pass
# kaas-panel --check-config; kaasd.conf(5) and the example kaasd.conf name
# frontend_group. Each check is one "ok"/"not ok" line.
set -uo pipefail

: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/lib/check.sh"

PN=$top_builddir/panel/kaas-panel
[ -x "$PN" ] || { echo "kaas-panel is not built: $PN" >&2; exit 99; }
command -v openssl >/dev/null || { echo "SKIP: openssl is not installed"; exit 77; }
tmp=$(mktemp -d /tmp/kaas-test-panel-docs.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
man8=$top_srcdir/docs/kaas-panel.8
conf_in=$top_srcdir/dist/panel.conf.in

# the table's keys: ROW("panel", "listen", ...)
keys=$(sed -n 's/^ *ROW("\(panel\|kaasd\|forward_auth\)", "\([a-z_]*\)".*/\2/p' "$top_srcdir/panel/settings.c" | sort -u)
check "the settings table has keys" [ -n "$keys" ]
for k in $keys server ca_file service; do
    check "kaas-panel(8) documents $k" grep -qxF ".B $k" "$man8"
    check "dist/panel.conf.in has $k" grep -Eq "^#?$k = " "$conf_in"
done

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=ca \
    -keyout "$tmp/ca.key" -out "$tmp/ca.crt" 2>/dev/null
# the EXAMPLE's first block: the configuration, groff escapes undone
sed -n '/^\.SH EXAMPLE/,/^\.SH/p' "$man8" | sed -n '/^\.nf/,/^\.fi/p' | sed '/^\.nf/,$!d' |
    awk '/^\.fi/{exit} !/^\.nf/' | sed 's/\\-/-/g' >"$tmp/example.conf"
check "the EXAMPLE holds a [panel] and a [cluster] section" bash -c "grep -q '^\[panel\]' '$tmp/example.conf' && grep -q '^\[cluster ' '$tmp/example.conf'"
sed "s|^ca_file = .*|ca_file = $tmp/ca.crt|" "$tmp/example.conf" >"$tmp/example-ca.conf"
out=$("$PN" --check-config -c "$tmp/example-ca.conf" 2>&1)
check "kaas-panel(8)'s EXAMPLE is a valid configuration ($out)" [ "$out" = "kaas-panel: configuration is valid" ]
example=$top_builddir/dist/panel.conf.example
if [ -f "$example" ]; then
    sed "s|^ca_file = .*|ca_file = $tmp/ca.crt|; s|^cert = .*|cert = $tmp/ca.crt|; s|^#key = \(.*\)|key = \1|" "$example" >"$tmp/dist.conf"
    out=$("$PN" --check-config -c "$tmp/dist.conf" 2>&1)
    check "the example panel.conf is valid ($out)" [ "$out" = "kaas-panel: configuration is valid" ]
fi
printf '[panel]\ncert = /c\nkey = /k\norigin = https://x.example\nbogus = 1\n' >"$tmp/bad.conf"
out=$("$PN" --check-config -c "$tmp/bad.conf" 2>&1)
check "an unknown key names file and line ($out)" [ "$out" = "kaas-panel: $tmp/bad.conf:5: unknown key 'bogus' in [panel]" ]
check "kaasd.conf(5) documents frontend_group" grep -q '^\.B frontend_group$' "$top_srcdir/docs/kaasd.conf.5"
check "the example kaasd.conf has frontend_group" grep -q '^#frontend_group =' "$top_srcdir/dist/kaasd.conf.in"
check_done
