#!/bin/bash
# Installs the dependencies, builds kaas and runs the whole test suite
# twice — once plain with warnings as errors, once under AddressSanitizer
# and UndefinedBehaviorSanitizer — runs kaasd under valgrind memcheck
# through the hardening suites, then runs the libFuzzer targets briefly in
# a clang build (KAAS_SKIP_FUZZ=1 skips them), builds, installs and purges
# the Debian packages, plus `make distcheck`.
# Ends with one line "tests: N passed, N failed[, N skipped]" and a
# non-zero exit status when anything failed. Run as root on Debian 12 from
# the source tree.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=${JOBS:-$(nproc)}
out=${KAAS_BUILD_ROOT:-$top/build}

passed=0 failed=0 skipped=0
# Each stage's line says when it began (seconds into the run), so a log
# shows where the run's time goes.
note() { printf '\n=== %s (at %d s)\n' "$*" "$SECONDS"; }

if [ "${KAAS_SKIP_DEPS:-0}" != 1 ]; then
        note "installing dependencies"
        bash tools/deps.sh || { echo "tests: 0 passed, 1 failed"; exit 1; }
fi

note "generating the build system"
autoreconf -fi >/dev/null || { echo "tests: 0 passed, 1 failed"; exit 1; }

# One real Keystone serves every test of the run (tests start a private
# one when this is not set).
ks_dir=$(mktemp -d /tmp/kaas-keystone-XXXXXX)
cleanup() { bash tests/keystone/keystone-down.sh "$ks_dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
note "starting a test Keystone on 127.0.0.1"
if bash tests/keystone/keystone-up.sh "$ks_dir" && python3 tests/keystone/fixtures.py "$ks_dir"; then
        export KAAS_TEST_KEYSTONE_DIR=$ks_dir
else
        echo "could not start the shared test Keystone; tests will start their own"
fi

# Adds the counts of one automake test run to the totals.
count() {
        local log=$1 p f s e
        if [ ! -f "$log" ]; then
                failed=$((failed + 1))
                return
        fi
        p=$(sed -n 's/^# PASS: *//p' "$log")
        f=$(sed -n 's/^# FAIL: *//p' "$log")
        s=$(sed -n 's/^# SKIP: *//p' "$log")
        e=$(sed -n 's/^# ERROR: *//p' "$log")
        passed=$((passed + ${p:-0}))
        failed=$((failed + ${f:-0} + ${e:-0}))
        skipped=$((skipped + ${s:-0}))
}

# The slowest tests of a suite, from when each one's log was made to when
# its result was written (where the file system keeps birth times).
slowest() {
        local trs log born
        for trs in $(find "$1" -name '*.trs'); do
                log=${trs%.trs}.log
                born=$(stat -c %W "$log" 2>/dev/null) || continue
                [ "$born" -gt 0 ] && echo "$(($(stat -c %Y "$trs") - born)) s ${log#"$1"/}"
        done | sort -rn | head -n "${2:-8}" | sed 's/^/  /'
}

# run_suite NAME CONFIGURE-FLAGS...
run_suite() {
        local name=$1 dir="$out/$1"
        shift
        note "$name: configure $*"
        rm -rf "$dir"
        mkdir -p "$dir"
        if ! (cd "$dir" && "$top/configure" -q "$@" >configure.out 2>&1); then
                cat "$dir/configure.out"
                failed=$((failed + 1))
                return
        fi
        note "$name: build"
        if ! make -C "$dir" -j"$jobs" >"$dir/build.out" 2>&1; then
                tail -50 "$dir/build.out"
                failed=$((failed + 1))
                return
        fi
        # One test at a time: several start their own Keystone and kaasd and
        # check behaviour in time (cache expiry, stalls, timeouts); two at
        # once on a 2-core machine made those flaky. CHECK_JOBS overrides.
        note "$name: make check"
        make -C "$dir" -j"${CHECK_JOBS:-1}" check >"$dir/check.out" 2>&1
        grep -E '^(PASS|FAIL|SKIP|ERROR|XPASS|XFAIL):' "$dir/check.out"
        if grep -qE '^(FAIL|ERROR|XPASS):' "$dir/check.out"; then
                # show what failed, without drowning the summary
                for log in $(grep -lE '^(FAIL|ERROR)' $(find "$dir/tests" -name '*.log' ! -name test-suite.log) 2>/dev/null); do
                        note "$name: $log"
                        tail -60 "$log"
                done
        fi
        echo "slowest:"
        slowest "$dir/tests"
        count "$dir/test-suite.log"
}

run_suite plain --enable-werror

# kaasd under valgrind memcheck through the integration suites of
# tests/hardening.mk: no memory error, no definite leak (KAAS_SKIP_VALGRIND=1
# skips it). It needs the build without sanitizers, so it uses the plain one.
run_valgrind() {
        local dir="$out/plain"
        note "valgrind: make check-valgrind"
        if [ ! -x "$dir/kaasd/kaasd" ]; then
                echo "FAIL: check-valgrind (the plain build failed)"
                failed=$((failed + 1))
                return
        fi
        if make -C "$dir" check-valgrind >"$dir/valgrind.out" 2>&1; then
                passed=$((passed + 1))
                grep '^check-valgrind:' "$dir/valgrind.out"
                echo "PASS: make check-valgrind"
        else
                grep -E '^(PASS|FAIL|ERROR):' "$dir/valgrind.out"
                tail -80 "$dir/valgrind.out"
                failed=$((failed + 1))
                echo "FAIL: make check-valgrind"
        fi
}
[ "${KAAS_SKIP_VALGRIND:-0}" != 1 ] && run_valgrind
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        run_suite sanitizers --enable-werror --enable-sanitizers

# The libFuzzer targets (fuzz/README.md), built with clang and run briefly
# over their seeds; each target counts as one test.
run_fuzz() {
        local dir="$out/fuzz" p f
        note "fuzz: configure CC=clang --enable-fuzzing --enable-sanitizers"
        if ! command -v clang >/dev/null 2>&1; then
                echo "FAIL: fuzz (clang not found: install clang and libclang-rt-14-dev)"
                failed=$((failed + 1))
                return
        fi
        rm -rf "$dir"
        mkdir -p "$dir"
        if ! (cd "$dir" && "$top/configure" -q CC=clang --enable-fuzzing --enable-sanitizers >configure.out 2>&1); then
                tail -20 "$dir/configure.out"
                echo "FAIL: fuzz (configure)"
                failed=$((failed + 1))
                return
        fi
        note "fuzz: build"
        if ! make -C "$dir" -j"$jobs" >"$dir/build.out" 2>&1; then
                tail -50 "$dir/build.out"
                echo "FAIL: fuzz (build)"
                failed=$((failed + 1))
                return
        fi
        note "fuzz: make fuzz-smoke"
        make -C "$dir" fuzz-smoke >"$dir/fuzz.out" 2>&1
        grep -v '^make' "$dir/fuzz.out"
        p=$(grep -c '^PASS: fuzz_' "$dir/fuzz.out")
        f=$(grep -c '^FAIL: fuzz_' "$dir/fuzz.out")
        if [ "$((p + f))" -eq 0 ]; then
                echo "FAIL: fuzz (make fuzz-smoke ran no target)"
                f=1
        fi
        passed=$((passed + p))
        failed=$((failed + f))
}
[ "${KAAS_SKIP_FUZZ:-0}" != 1 ] && run_fuzz

# The Debian packages (tests/packages/test_packages.sh): built from a copy
# of this tree with the README's commands, linted, installed over a
# previous build, used, purged; one test (KAAS_SKIP_PACKAGES=1 skips it).
run_packages() {
        local log="$out/packages.out" rc
        note "Debian packages: tests/packages/test_packages.sh"
        mkdir -p "$out"
        bash tests/packages/test_packages.sh >"$log" 2>&1
        rc=$?
        grep -E '^(ok|not ok|#|SKIP)' "$log"
        case $rc in
        0) passed=$((passed + 1)); echo "PASS: packages" ;;
        77) skipped=$((skipped + 1)); echo "SKIP: packages" ;;
        *) tail -40 "$log"; failed=$((failed + 1)); echo "FAIL: packages" ;;
        esac
}
[ "${KAAS_SKIP_PACKAGES:-0}" != 1 ] && run_packages

# distcheck proves the tarball is complete and builds, installs and
# uninstalls cleanly out of tree; the integration suites already ran twice
# above, so inside it only the unit tests and the docs check run
# (KAAS_DISTCHECK_ALL=1 runs everything there too).
if [ "${KAAS_SKIP_DISTCHECK:-0}" != 1 ]; then
        note "make distcheck"
        dc_tests=()
        if [ "${KAAS_DISTCHECK_ALL:-0}" != 1 ]; then
                dc_tests=("TESTS=$(cd "$out/plain" && find tests/unit -maxdepth 1 -type f -perm -u+x -name 'test_*' | sort | tr '\n' ' ')tests/integration/test_docs.sh")
        fi
        if make -C "$out/plain" -j"$jobs" distcheck "${dc_tests[@]}" >"$out/distcheck.out" 2>&1; then
                passed=$((passed + 1))
                echo "PASS: make distcheck"
        else
                tail -60 "$out/distcheck.out"
                failed=$((failed + 1))
                echo "FAIL: make distcheck"
        fi
fi

summary="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo
echo "finished after $SECONDS s"
echo "$summary"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
