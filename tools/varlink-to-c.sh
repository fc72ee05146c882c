#!/bin/sh
# Turns varlink interface definitions into a C array of strings so kaasd
# serves, and checks calls against, exactly the text that docs/ ships.
# usage: varlink-to-c.sh OUTPUT.c SRCDIR FILE.varlink... (FILEs relative to SRCDIR)
set -eu
out=$1
srcdir=$2
shift 2
tmp="$out.tmp"
{
        echo "/* Generated from the varlink interface definitions in docs/. Do not edit. */"
        echo "#include \"config.h\""
        echo "#include <stddef.h>"
        echo "#include \"kaasd/interfaces.h\""
        echo "const char *const kaasd_interfaces[] = {"
        for f in "$@"; do
                sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/        "/' -e 's/$/\\n"/' "$srcdir/$f"
                echo "        ,"
        done
        echo "};"
        echo "const size_t kaasd_n_interfaces = sizeof(kaasd_interfaces) / sizeof(kaasd_interfaces[0]);"
} > "$tmp"
mv "$tmp" "$out"
