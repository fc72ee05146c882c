#!/bin/sh
# Fails when the documentation drifts from the code. It reads the code's own
# tables rather than a copy of them:
#   - kaasd/config_file.c (option table, config_new defaults) against
#     kaasd.conf(5), the example configuration and ARCHITECTURE.md's limits;
#   - kaasd/methods.c and docs/*.varlink against ARCHITECTURE.md's
#     permission table and kaasd(8);
#   - kaasd/main.c's long options against kaasd --help and kaasd(8);
#   - every man page a Makefile fragment installs: present, named as its
#     .TH says, and silent under groff -ww;
#   - the key role gids are derived from (kaasd/unix_names.h) against
#     nss_kaas(8);
#   - the refused group names (kaasd/unix_names.c) against nss_kaas(8).
# Paths in the documentation are those of a distribution build
# (/etc, /var, /run), whatever this build was configured with.
#
# Exit status (automake): 0 pass, 1 fail. Parts that need a tool or a
# built kaasd that is missing are skipped with a message.
# Standalone: sh tests/integration/test_docs.sh [from a build tree, with
# top_builddir set, to include the checks that run kaasd]
set -u

srcdir=${srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$srcdir}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kaas-test-docs.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP

config_c=$srcdir/kaasd/config_file.c
methods_c=$srcdir/kaasd/methods.c
main_c=$srcdir/kaasd/main.c
conf5=$srcdir/docs/kaasd.conf.5
man8=$srcdir/docs/kaasd.8
arch=$srcdir/docs/ARCHITECTURE.md
varlink_md=$srcdir/docs/varlink.md
example_in=$srcdir/dist/kaasd.conf.in
kaasd=$top_builddir/kaasd/kaasd

checks=0
fails=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL - $*"; }
note() { echo "# $*"; }

for f in "$config_c" "$methods_c" "$main_c" "$conf5" "$man8" "$arch" "$varlink_md" "$example_in"; do
        [ -f "$f" ] || { echo "FAIL - missing $f"; exit 1; }
done

# A size or number as the documentation writes it (4096, 1M, 64K) or as C
# writes it (64u * 1024 * 1024, 0xfffffffeu), as a plain decimal number.
to_number() {
        v=$(printf '%s' "$1" | tr -d 'uU ')
        case $v in
        *[Kk]) v=$(( ${v%?} * 1024 )) ;;
        *M) v=$(( ${v%?} * 1024 * 1024 )) ;;
        *G) v=$(( ${v%?} * 1024 * 1024 * 1024 )) ;;
        esac
        case $v in
        ''|*[!0-9a-fx*]*) echo "NaN($1)"; return ;;
        esac
        echo $(( $v ))
}

# ------------------------------------------------------------ config options

# section|key|kind|field|min|max for every row of the option table
sed -n 's/^[[:space:]]*ROW("\([^"]*\)", *"\([^"]*\)", *\(OPT_[A-Z0-9_]*\), *\([A-Za-z0-9_]*\), *\(.*\), *\(.*\)),[[:space:]]*$/\1|\2|\3|\4|\5|\6/p' \
        "$config_c" > "$tmp/rows"
[ -s "$tmp/rows" ] || bad "no option rows found in kaasd/config_file.c: has the table's form changed?"

# field|default from config_new(), with the build-time directories as a
# distribution build sets them
sed -n '/^int config_new(/,/^}/p' "$config_c" | sed -n \
        -e 's/^[[:space:]]*c->\([a-z_0-9]*\) = \(.*\);[[:space:]]*$/\1|\2/p' \
        -e 's/.*set_string(&c->\([a-z_0-9]*\), \(.*\)) < 0.*/\1|\2/p' |
        sed -e 's/RUNSTATEDIR/"\/run"/; s/LOCALSTATEDIR/"\/var"/; s/SYSCONFDIR/"\/etc"/' \
            -e 's/" *"//g; s/"//g' > "$tmp/defaults"

# The default of a row as the documentation writes it: unset, a number, yes/no...
c_default() {  # kind field
        d=$(sed -n "s/^$2|//p" "$tmp/defaults")
        case $1 in
        OPT_BOOL) case $d in true) echo yes ;; *) echo no ;; esac ;;
        OPT_LOGLEVEL) printf '%s\n' "${d:-LOG_INFO}" | sed 's/^LOG_//' | tr 'A-Z' 'a-z' ;;
        OPT_UINT|OPT_U32|OPT_SIZE) to_number "${d:-0}" ;;
        *) echo "${d:-unset}" ;;
        esac
}

same_default() {  # kind documented expected
        case $1 in
        OPT_UINT|OPT_U32|OPT_SIZE) [ "$(to_number "$2")" = "$3" ] ;;
        *) [ "$2" = "$3" ] ;;
        esac
}

# section|key|default|min|max as kaasd.conf(5) documents them: options are
# ".TP" then ".B key" under ".SH [section] SECTION", each with a
# "Default: \fBvalue\fR." (or "Default: unset ...") and, for numbers,
# a "Range: \fBmin\fR to \fBmax\fR." line.
awk '
        /^\.SH \[[a-z]+\] SECTION$/ { sec = substr($2, 2, length($2) - 2); key = ""; next }
        /^\.SH/ { sec = ""; key = ""; next }
        /^\.TP/ { tp = 1; next }
        tp && /^\.B [a-z_]+$/ && sec != "" { key = $2; order[++n] = sec "|" key; tp = 0; next }
        { tp = 0 }
        key != "" && /^Default: / {
                v = $0; sub(/^Default: /, "", v)
                if (v ~ /^unset/) v = "unset"; else { sub(/^\\fB/, "", v); sub(/\\fR.*$/, "", v) }
                if (!((sec "|" key) in def)) def[sec "|" key] = v
        }
        key != "" && /^Range: / {
                v = $0; sub(/^Range: \\fB/, "", v); split(v, p, /\\fR to \\fB/); sub(/\\fR.*$/, "", p[2])
                rmin[sec "|" key] = p[1]; rmax[sec "|" key] = p[2]
        }
        END { for (i = 1; i <= n; i++) { k = order[i]; print k "|" (k in def ? def[k] : "MISSING") "|" rmin[k] "|" rmax[k] } }
' "$conf5" > "$tmp/man_options"

# section|key|value of the commented-out options of the example
# configuration (value empty when unset)
awk '
        /^\[[a-z]+\]$/ { sec = substr($0, 2, length($0) - 2); next }
        /^#\[cluster / { sec = "cluster"; next }
        /^#[a-z_]+ =/ { line = substr($0, 2); k = line; sub(/ =.*/, "", k); v = line; sub(/^[a-z_]+ = ?/, "", v); print sec "|" k "|" v }
' "$example_in" | sed -e 's|@runstatedir@|/run|g; s|@localstatedir@|/var|g; s|@sysconfdir@|/etc|g' > "$tmp/example_options"

while IFS='|' read -r sec key kind field min max; do
        expected=$(c_default "$kind" "$field")
        line=$(grep -m1 "^$sec|$key|" "$tmp/man_options")
        if [ -z "$line" ]; then
                bad "kaasd.conf(5) does not document [$sec] $key"
        else
                doc=$(echo "$line" | cut -d'|' -f3)
                if [ "$doc" = MISSING ]; then
                        bad "kaasd.conf(5): [$sec] $key has no 'Default:' line"
                elif same_default "$kind" "$doc" "$expected"; then
                        ok
                else
                        bad "kaasd.conf(5): [$sec] $key: documented default '$doc', config_new() sets '$expected'"
                fi
                case $kind in
                OPT_UINT|OPT_U32|OPT_SIZE)
                        dmin=$(echo "$line" | cut -d'|' -f4)
                        dmax=$(echo "$line" | cut -d'|' -f5)
                        if [ -z "$dmin" ] || [ -z "$dmax" ]; then
                                bad "kaasd.conf(5): [$sec] $key has no 'Range:' line"
                        elif [ "$(to_number "$dmin")" = "$(to_number "$min")" ] &&
                             [ "$(to_number "$dmax")" = "$(to_number "$max")" ]; then
                                ok
                        else
                                bad "kaasd.conf(5): [$sec] $key: documented range $dmin to $dmax, the table says $min to $max"
                        fi ;;
                esac
        fi
        line=$(grep -m1 "^$sec|$key|" "$tmp/example_options")
        if [ -z "$line" ]; then
                bad "dist/kaasd.conf.in does not show [$sec] $key"
        else
                doc=$(echo "$line" | cut -d'|' -f3)
                [ -n "$doc" ] || doc=unset
                if same_default "$kind" "$doc" "$expected"; then
                        ok
                else
                        bad "dist/kaasd.conf.in: [$sec] $key shows '$doc', config_new() sets '$expected'"
                fi
        fi
done < "$tmp/rows"

# nothing documented that the table does not have
while IFS='|' read -r sec key rest; do
        if grep -q "^$sec|$key|" "$tmp/rows"; then ok; else bad "kaasd.conf(5) documents [$sec] $key, which kaasd/config_file.c does not know"; fi
done < "$tmp/man_options"
while IFS='|' read -r sec key rest; do
        [ "$sec" = cluster ] && continue
        if grep -q "^$sec|$key|" "$tmp/rows"; then ok; else bad "dist/kaasd.conf.in shows [$sec] $key, which kaasd/config_file.c does not know"; fi
done < "$tmp/example_options"

# the keys of [cluster NAME] sections, parsed outside the table
for key in $(sed -n '/^static int parse_cluster(/,/^}/s/.*strcmp(key, "\([a-z_]*\)").*/\1/p' "$config_c"); do
        if awk -v k="$key" '/^\.SH \[cluster NAME\]/ { s = 1; next } /^\.SH/ { s = 0 } s && $0 == ".B " k { f = 1 } END { exit !f }' "$conf5"; then
                ok
        else
                bad "kaasd.conf(5) does not document $key of [cluster NAME]"
        fi
        if grep -q "^cluster|$key|" "$tmp/example_options"; then ok; else bad "dist/kaasd.conf.in does not show $key of [cluster NAME]"; fi
done

# the example must stay within libinih's line length (see kaasd.conf(5))
long=$(sed -e 's|@runstatedir@|/run|g; s|@localstatedir@|/var|g; s|@sysconfdir@|/etc|g' "$example_in" | awk 'length($0) > 198 { print NR }')
if [ -z "$long" ]; then ok; else bad "dist/kaasd.conf.in: lines longer than 198 characters: $long"; fi

# limits in ARCHITECTURE.md: | `key` | default | ...
grep '^| `[a-z_]*` |' "$arch" | while IFS='|' read -r _ key value _; do
        key=$(echo "$key" | tr -d '` ')
        value=$(echo "$value" | awk '{ print $1 }')
        row=$(grep -m1 "^[a-z]*|$key|" "$tmp/rows")
        [ -n "$row" ] || continue  # not a configuration option
        kind=$(echo "$row" | cut -d'|' -f3)
        field=$(echo "$row" | cut -d'|' -f4)
        expected=$(c_default "$kind" "$field")
        if same_default "$kind" "$value" "$expected"; then
                echo ok
        else
                echo "FAIL - ARCHITECTURE.md: $key default '$value', config_new() sets '$expected'"
        fi
done > "$tmp/arch_limits"
n=$(grep -c '^ok$' "$tmp/arch_limits")
[ "$n" -gt 0 ] || bad "ARCHITECTURE.md: no limits table with configuration options found"
checks=$((checks + n))
if grep -q '^FAIL' "$tmp/arch_limits"; then
        grep '^FAIL' "$tmp/arch_limits"
        fails=$((fails + $(grep -c '^FAIL' "$tmp/arch_limits")))
fi

# limits in kaasd(8): .BR key " (default)"
sed -n 's/^\.BR \([a-z_]*\) " (\([^ )]*\).*/\1|\2/p' "$man8" > "$tmp/man8_limits"
while IFS='|' read -r key value; do
        row=$(grep -m1 "^[a-z]*|$key|" "$tmp/rows")
        [ -n "$row" ] || { bad "kaasd(8) gives a default for $key, which is not an option"; continue; }
        kind=$(echo "$row" | cut -d'|' -f3)
        expected=$(c_default "$kind" "$(echo "$row" | cut -d'|' -f4)")
        if same_default "$kind" "$value" "$expected"; then ok; else bad "kaasd(8): $key default '$value', config_new() sets '$expected'"; fi
done < "$tmp/man8_limits"

# the example configuration is accepted by kaasd as it is, and with every
# default it shows uncommented
if [ -x "$kaasd" ]; then
        sed -e 's|@runstatedir@|/run|g; s|@localstatedir@|/var|g; s|@sysconfdir@|/etc|g' "$example_in" > "$tmp/example.conf"
        awk '
                /^#\[cluster / { print substr($0, 2); real = 1; next }
                /^\[/ { real = 1 }
                real && /^#[a-z_]+ = ./ { print substr($0, 2); next }
                { print }
        ' "$tmp/example.conf" > "$tmp/uncommented.conf"
        for f in example.conf uncommented.conf; do
                if out=$("$kaasd" --check-config -c "$tmp/$f" 2>&1); then
                        ok
                else
                        bad "kaasd --check-config refuses the example configuration ($f): $out"
                fi
        done
else
        note "SKIP kaasd --check-config of the example: $kaasd not built"
fi

# every kaasd.conf snippet of the guides (an ```ini block whose paragraph
# before it names kaasd.conf) is accepted by kaasd as written: a section or
# key the guide invents would be refused when the operator adds it
if [ -x "$kaasd" ]; then
        for doc in "$srcdir"/README.md "$srcdir"/docs/*.md; do
                awk -v dir="$tmp" -v name="$(basename "$doc")" '
                        /^<!--/ { next }
                        inblock && /^```/ { inblock = 0; next }
                        inblock { print > out; next }
                        /^```ini$/ { if ((para != "" ? para : last) ~ /kaasd\.conf/) { inblock = 1; out = dir "/snippet-" name "-" FNR ".conf" } para = last = ""; next }
                        /^```/ { para = last = ""; next }
                        /^$/ { if (para != "") last = para; para = ""; next }
                        { para = para " " $0 }' "$doc"
        done
        n=0
        for f in "$tmp"/snippet-*.conf; do
                [ -e "$f" ] || continue
                n=$((n + 1))
                if out=$("$kaasd" --check-config -c "$f" 2>&1); then ok
                else bad "kaasd --check-config refuses the guide's snippet $(basename "$f" .conf): $out"
                fi
        done
        # kubernetes.md, panel.md, managed-services.md and environment.md show some
        if [ "$n" -ge 4 ]; then ok; else bad "only $n kaasd.conf snippets found in the guides"; fi
        # kaasd.conf(5)'s EXAMPLE, as the page shows it
        sed -n '/^\.SH EXAMPLE/,/^\.SH /{ /^\.nf/,/^\.fi/p; }' "$srcdir/docs/kaasd.conf.5" |
                sed -e '/^\.nf/d; /^\.fi/d' -e 's/\\-/-/g' > "$tmp/man5-example.conf"
        if ! grep -q '^\[kaasd\]' "$tmp/man5-example.conf"; then bad "kaasd.conf(5): no EXAMPLE found"
        elif out=$("$kaasd" --check-config -c "$tmp/man5-example.conf" 2>&1); then ok
        else bad "kaasd --check-config refuses kaasd.conf(5)'s EXAMPLE: $out"
        fi
fi

# ------------------------------------------------------------------- methods

# method|class of kaasd/methods.c
sed -n 's/^[[:space:]]*{ *"\([A-Za-z0-9_.]*\)", *ACCESS_\([A-Z]*\),.*/\1|\2/p' "$methods_c" |
        awk -F'|' '{ print $1 "|" tolower($2) }' > "$tmp/methods"
[ -s "$tmp/methods" ] || bad "no method rows found in kaasd/methods.c: has the table's form changed?"

# method|class|status of ARCHITECTURE.md's permission table
grep '^| *`[a-z][A-Za-z0-9_.]*\.[A-Z][A-Za-z0-9]*` *|' "$arch" | awk -F'|' '
        { m = $2; c = $3; s = $(NF - 1); gsub(/[` ]/, "", m); gsub(/[` ]/, "", c); gsub(/[` ]/, "", s); print m "|" c "|" s }
' > "$tmp/arch_methods"

# method of every docs/*.varlink
for f in "$srcdir"/docs/*.varlink; do
        iface=$(sed -n 's/^interface \([A-Za-z0-9_.]*\).*/\1/p' "$f")
        [ -n "$iface" ] || { bad "$f names no interface"; continue; }
        sed -n "s/^method \([A-Za-z0-9_]*\).*/$iface.\1/p" "$f"
        b=$(basename "$f")
        if grep -qF "$b" "$varlink_md"; then ok; else bad "docs/varlink.md does not mention $b"; fi
done > "$tmp/idl_methods"
# (the loop runs in this shell and has counted its failures; it printed
# them into the file, so show them here)
grep '^FAIL' "$tmp/idl_methods"
sed -i '/^FAIL/d' "$tmp/idl_methods"

while read -r m; do
        if grep -q "^$m|" "$tmp/arch_methods"; then ok; else bad "ARCHITECTURE.md's permission table lacks $m (defined in docs/*.varlink)"; fi
done < "$tmp/idl_methods"

while IFS='|' read -r m class; do
        line=$(grep -m1 "^$m|" "$tmp/arch_methods")
        if [ -z "$line" ]; then
                bad "ARCHITECTURE.md's permission table lacks $m (kaasd/methods.c)"
        elif [ "$line" != "$m|$class|implemented" ]; then
                bad "ARCHITECTURE.md says '$line' where kaasd/methods.c says $m is $class and implemented"
        else
                ok
        fi
        if grep -qxF ".BR $m \" ($class)\"" "$man8"; then ok; else bad "kaasd(8) does not list $m as ($class)"; fi
done < "$tmp/methods"

while IFS='|' read -r m class status; do
        case $class in anyone|validator|user|admin|frontend) ok ;; *) bad "ARCHITECTURE.md: $m has unknown access class '$class'" ;; esac
        case $status in
        implemented) if grep -q "^$m|" "$tmp/methods"; then ok; else bad "ARCHITECTURE.md calls $m implemented; kaasd/methods.c has no row for it"; fi ;;
        planned) if grep -q "^$m|" "$tmp/methods"; then bad "ARCHITECTURE.md calls $m planned; kaasd/methods.c serves it now"; else ok; fi ;;
        *) bad "ARCHITECTURE.md: $m has status '$status' (implemented or planned)" ;;
        esac
done < "$tmp/arch_methods"

# ------------------------------------------------------- command line of kaasd

sed -n '/longopts\[\] = {/,/};/s/^[[:space:]]*{ *"\([a-z-]*\)",.*/\1/p' "$main_c" > "$tmp/longopts"
[ -s "$tmp/longopts" ] || bad "no long options found in kaasd/main.c"
if [ -x "$kaasd" ]; then
        "$kaasd" --help > "$tmp/help" 2>&1 || bad "kaasd --help failed"
else
        note "SKIP kaasd --help: $kaasd not built"
fi
sed -n '/^\.SH OPTIONS/,/^\.SH /p' "$man8" > "$tmp/man8_options"
while read -r o; do
        if [ -x "$kaasd" ]; then
                if grep -qe "--$o\b" "$tmp/help"; then ok; else bad "kaasd --help does not list --$o"; fi
        fi
        esc=$(printf '%s' "--$o" | sed 's/-/\\-/g')
        if grep -qF -- "$esc" "$tmp/man8_options"; then ok; else bad "kaasd(8) OPTIONS does not describe --$o"; fi
done < "$tmp/longopts"
# and no option described there that main.c does not define
for o in $(sed -n 's/^\.B[IR]* *\\-\\-\([a-z\\-]*\).*/\1/p' "$tmp/man8_options" | sed 's/\\-/-/g; s/[^a-z-].*//'); do
        if grep -qx -- "$o" "$tmp/longopts"; then ok; else bad "kaasd(8) describes --$o, which kaasd/main.c does not define"; fi
done

# ---------------------------------------------------------------- man pages

# every Makefile fragment, following includes from Makefile.am
fragments() {
        echo "$1"
        for inc in $(sed -n 's/^include[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' "$srcdir/$1"); do
                [ -f "$srcdir/$inc" ] && fragments "$inc"
        done
}
mans=$(for frag in $(fragments Makefile.am); do
        # join continuation lines, then take the *_MANS assignments
        sed -e ':a' -e '/\\$/N; s/\\\n/ /; ta' "$srcdir/$frag" |
                sed -n 's/^[[:space:]]*[a-z_]*man[0-9]*_MANS[[:space:]]*+\{0,1\}=\(.*\)/\1/p' |
                tr ' \t' '\n\n' | grep -E '^[^$]+\.[0-9][a-z]*$'
done | sort -u)
[ -n "$mans" ] || bad "no man page named in any Makefile fragment"
have_groff=yes
command -v groff >/dev/null 2>&1 || { have_groff=no; note "SKIP groff checks: groff not installed (apt-get install groff-base)"; }
for m in $mans; do
        if [ -f "$srcdir/$m" ]; then f=$srcdir/$m
        elif [ -f "$top_builddir/$m" ]; then f=$top_builddir/$m
        else bad "man page $m is named in a Makefile fragment but does not exist"; continue
        fi
        ok
        base=$(basename "$m")
        th=$(sed -n 's/^\.TH[[:space:]]\{1,\}"\{0,1\}\([^" ]*\)"\{0,1\}[[:space:]]\{1,\}\([0-9][a-z]*\).*/\1 \2/p' "$f" | head -n1)
        want="$(printf '%s' "${base%.*}" | tr 'a-z' 'A-Z') ${base##*.}"
        if [ "$th" = "$want" ]; then ok; else bad "$m: .TH says '$th', the file name wants '$want'"; fi
        if [ "$have_groff" = yes ]; then
                if out=$(groff -man -Tutf8 -ww -z "$f" 2>&1) && [ -z "$out" ]; then
                        ok
                else
                        bad "$m: groff -man -ww warns: $out"
                fi
        fi
done

# ------------------------------------------------------------ role gids
# unix_role_key(): UNIX_ROLE_KEY_PREFIX and the role ID, or the prefix,
# "#" and 16 hex digits of the ID's FNV-1a hash past 64 bytes in all
prefix=$(sed -n 's/^#define UNIX_ROLE_KEY_PREFIX "\(.*\)"$/\1/p' "$srcdir/kaasd/unix_names.h")
[ -n "$prefix" ] || bad "no UNIX_ROLE_KEY_PREFIX in kaasd/unix_names.h"
limit=$((64 - ${#prefix}))
sentence=$(sed -n '/^Role gids are derived/,/^\.SH\|^For uids/p' "$srcdir/docs/nss_kaas.8" | tr '\n' ' ')
case $sentence in
*".B $prefix followed by the role ID"*) ok ;;
*) bad "nss_kaas(8) does not say role gids derive from \"$prefix\" followed by the role ID: $sentence" ;;
esac
case $sentence in
*"longer than $limit bytes, .B $prefix# followed by the 16 hexadecimal digits of the ID's FNV-1a hash"*) ok ;;
*) bad "nss_kaas(8) does not describe role IDs longer than $limit bytes as unix_role_key() treats them" ;;
esac
grep -q "snprintf(buf, size, UNIX_ROLE_KEY_PREFIX \"#%016llx\"" "$srcdir/kaasd/unix_names.c" && ok ||
        bad "kaasd/unix_names.c: unix_role_key() no longer writes the prefix, # and 16 hex digits"

# ------------------------------------------------------------ refused group names
# privileged_groups[] in kaasd/unix_names.c against the list under
# REFUSED GROUP NAMES in nss_kaas(8), both ways
sed -n '/^static const char \*const privileged_groups\[\] = {/,/^};/p' "$srcdir/kaasd/unix_names.c" |
        grep -v '^[[:space:]]*/\*' | grep -o '"[^"]*"' | tr -d '"' | sort >"$tmp/groups.code"
sed -n '/^\.SH REFUSED GROUP NAMES/,/^every name starting with/p' "$srcdir/docs/nss_kaas.8" |
        sed -n 's/^\.BR \([^ ]*\) ,$/\1/p' | sed 's/\\-/-/g' | sort >"$tmp/groups.doc"
if [ "$(wc -l <"$tmp/groups.code")" -lt 40 ]; then
        bad "kaasd/unix_names.c: privileged_groups[] not found or shorter than 40 names"
elif d=$(diff "$tmp/groups.code" "$tmp/groups.doc"); then
        ok
else
        bad "nss_kaas(8) REFUSED GROUP NAMES and privileged_groups[] in kaasd/unix_names.c differ (< code, > doc): $d"
fi
sed -n '/^\.SH REFUSED GROUP NAMES/,/^\.SH/p' "$srcdir/docs/nss_kaas.8" | tr '\n' ' ' |
        grep -q 'every name starting with \.BR systemd\\- ' && ok ||
        bad "nss_kaas(8) does not say every name starting with systemd- is refused"
grep -q 'strncasecmp(name, "systemd-", 8) == 0' "$srcdir/kaasd/unix_names.c" && ok ||
        bad "kaasd/unix_names.c no longer refuses every name starting with systemd-"

echo "# $checks checks, $fails failed"
[ "$fails" -eq 0 ]
