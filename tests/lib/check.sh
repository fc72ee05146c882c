# check.sh -- TAP-style assertions for shell integration tests. Source it;
# each check prints "ok N - ..." or "not ok N - ..."; check_done prints the
# totals and returns non-zero when anything failed.
#
#   check DESCRIPTION COMMAND...   passes when COMMAND succeeds
#   ok DESCRIPTION / not_ok DESCRIPTION
#   j JSON EXPR                    evaluates a Python expression over the
#                                  parsed JSON value d, prints it as JSON
#   jt JSON EXPR                   true when that expression is true;
#                                  otherwise prints the JSON (cut to 400
#                                  characters) as a "#   got:" comment
#   param JSON KEY                 prints parameter KEY of a varlink reply
#                                  (a string without its quotes)
#   wait_for SECONDS COMMAND...    polls COMMAND (every 0.2 s) until it
#                                  succeeds or SECONDS pass

CHECK_PY=${CHECK_PY:-/usr/bin/python3}
check_passes=0
check_fails=0

ok() { check_passes=$((check_passes + 1)); echo "ok $((check_passes + check_fails)) - $*"; }
not_ok() { check_fails=$((check_fails + 1)); echo "not ok $((check_passes + check_fails)) - $*"; }

check() {
    local d=$1
    shift
    if "$@"; then ok "$d"; else not_ok "$d"; fi
}

j() {
    $CHECK_PY -c 'import json, sys; d = json.loads(sys.argv[1]); print(json.dumps(eval(sys.argv[2]), ensure_ascii=False))' "$1" "$2"
}

jt() {
    [ "$(j "$1" "$2" 2>/dev/null)" = true ] && return 0
    echo "#   got: ${1:0:400}"
    return 1
}

param() { j "$1" "d['parameters']['$2']" | tr -d '"'; }

wait_for() {
    local limit=$1 end
    shift
    end=$(($(date +%s%N) + limit * 1000000000))
    until "$@"; do
        [ "$(date +%s%N)" -lt "$end" ] || return 1
        sleep 0.2
    done
}

check_done() {
    echo "# $check_passes passed, $check_fails failed"
    [ "$check_fails" -eq 0 ] && [ "$check_passes" -gt 0 ]
}
