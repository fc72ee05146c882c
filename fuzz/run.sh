#!/bin/sh
# Runs libFuzzer targets built in the current (build) directory, as many
# at once as there are CPUs (FUZZ_JOBS), each for a fixed time over its
# seed corpus.
# usage: run.sh SRCDIR SECONDS NAME...
#
# For NAME it runs fuzz/fuzz_NAME with the seeds of SRCDIR/fuzz/corpus/NAME
# and SRCDIR/fuzz/regressions/NAME (only read), the dictionary
# SRCDIR/fuzz/NAME.dict or, failing that, the one named by NAME's first
# word (varlink_frame: varlink.dict). New inputs go to fuzz/work/NAME,
# crashes to fuzz/artifacts/NAME/ (both emptied first), the output to
# fuzz/work/NAME.log.
# Prints one line per target, "PASS: fuzz_NAME (...)" or "FAIL: fuzz_NAME
# (...)", with the executions, and the crash report for a failure. Exits
# non-zero when any target failed.
set -u
srcdir=$1
seconds=$2
shift 2

# a leak, an ASan report or UBSan's first finding is a crash
ASAN_OPTIONS=${FUZZ_ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
UBSAN_OPTIONS=${FUZZ_UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS UBSAN_OPTIONS

# one target: its report goes to fuzz/work/NAME.result; exits non-zero
# when it failed
run_one() {
        name=$1
        bin=fuzz/fuzz_$name
        work=fuzz/work/$name
        artifacts=fuzz/artifacts/$name
        log=fuzz/work/$name.log
        rm -rf "$work" "$artifacts"
        mkdir -p "$work" "$artifacts"
        if [ ! -x "$bin" ]; then
                echo "FAIL: fuzz_$name (not built: $bin)"
                return 1
        fi
        set --  # the seed directories
        for d in "$srcdir/fuzz/corpus/$name" "$srcdir/fuzz/regressions/$name"; do
                [ -d "$d" ] && set -- "$@" "$d"
        done
        dict=
        for f in "$srcdir/fuzz/$name.dict" "$srcdir/fuzz/${name%%_*}.dict"; do
                if [ -f "$f" ]; then
                        dict=-dict=$f
                        break
                fi
        done
        # -timeout: one input taking this long is a hang; -rss_limit_mb: a
        # parser that balloons is a finding too
        "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
                -print_final_stats=1 -artifact_prefix="$artifacts/" $dict "$work" "$@" >"$log" 2>&1
        rc=$?
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
        rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
        cov=$(sed -n 's/^#[0-9]*.*DONE *cov: \([0-9]*\).*/\1/p' "$log" | tail -1)
        summary="${runs:-?} runs in ${secs:-?} s, ${rate:-?}/s, coverage ${cov:-?}"
        if [ "$rc" -eq 0 ]; then
                echo "PASS: fuzz_$name ($summary)"
        else
                echo "FAIL: fuzz_$name (exit $rc; $summary; log $log)"
                # the report: from the first sanitizer or libFuzzer error line on
                sed -n '/^==[0-9]*==\|^SUMMARY\|runtime error\|property violated\|^artifact_prefix\|Test unit written/,$p' "$log" | head -60
                for a in "$artifacts"/*; do
                        [ -f "$a" ] && echo "  crashing input: $a"
                done
                return 1
        fi
}

# FUZZ_JOBS targets at a time (default: one per CPU): every target runs for
# the same time, so a batch ends together; reports come in the given order
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null)}
case $jobs in
''|*[!0-9]*|0) jobs=1 ;;
esac
failed=0
while [ "$#" -gt 0 ]; do
        batch=
        i=0
        while [ "$#" -gt 0 ] && [ "$i" -lt "$jobs" ]; do
                mkdir -p fuzz/work
                run_one "$1" >"fuzz/work/$1.result" 2>&1 &
                batch="$batch $1:$!"
                i=$((i + 1))
                shift
        done
        for job in $batch; do
                wait "${job#*:}" || failed=$((failed + 1))
                cat "fuzz/work/${job%%:*}.result"
        done
done
[ "$failed" -eq 0 ]
