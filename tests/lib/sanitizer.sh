# sanitizer.sh -- for tests that load a module of this build (pam_kaas.so,
# libnss_kaas.so.2) into programs that are not instrumented (libpam under
# pam_wrapper, sshd, getent). Source it. Provides:
#
#   sanitizer_runtimes MODULE
#       prints the AddressSanitizer and UndefinedBehaviorSanitizer
#       runtimes MODULE is linked with (paths, space-separated, ASan
#       first), which must come first in LD_PRELOAD; prints nothing when
#       MODULE is not built with ASan

sanitizer_runtimes() {
    local module=$1 lib p runtimes=
    readelf -d "$module" | grep 'NEEDED.*libasan' >/dev/null || return 0
    for lib in asan ubsan; do
        p=$(ldd "$module" | awk -v l="lib$lib.so" 'index($1, l) == 1 { print $3 }')
        [ -n "$p" ] && runtimes="$runtimes $p"
    done
    echo "${runtimes# }"
}
