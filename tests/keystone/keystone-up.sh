#!/usr/bin/env bash
# keystone-up.sh DIR — start a throw-away, real OpenStack Keystone for tests.
#
# Everything lives under DIR (created if missing; must be empty): keystone.conf,
# the SQLite database, fernet and credential key repositories, logs. The server
# listens on 127.0.0.1 on a free port. Nothing is written outside DIR.
#
# On success DIR/env (shell-sourceable) holds:
#   KEYSTONE_DIR             DIR (absolute)
#   KEYSTONE_URL             http://127.0.0.1:PORT          (no /v3)
#   KEYSTONE_AUTH_URL        http://127.0.0.1:PORT/v3
#   KEYSTONE_HOST, KEYSTONE_PORT
#   KEYSTONE_PID             server master process (uwsgi master or python)
#   KEYSTONE_SERVER          uwsgi | wsgiref
#   KEYSTONE_ADMIN_USER      admin            (domain "default")
#   KEYSTONE_ADMIN_PASSWORD  random bootstrap password
#   KEYSTONE_ADMIN_PROJECT   admin            (domain "default")
#   KEYSTONE_REGION          RegionOne
#   KEYSTONE_CONF            DIR/keystone.conf
#   KEYSTONE_LOG             DIR/access.log: one line per HTTP request:
#                              EPOCH METHOD RAW-URI STATUS BODY-BYTES MSECSms
#                            e.g. "1795617177 GET /v3/users/3f2a...c1 200 412 91ms"
#   KEYSTONE_APP_LOG         DIR/keystone.log  (Keystone's own log)
#   KEYSTONE_SERVER_LOG      DIR/server.log    (uwsgi / python server output)
#
# Knobs (environment): KEYSTONE_SERVER=auto|uwsgi|wsgiref (default auto: uwsgi
# when uwsgi and its python3 plugin are installed), KEYSTONE_PROCESSES (4),
# KEYSTONE_THREADS (1 per process: Keystone leaks SQLite connections that the
# garbage collector may then close from another thread, which fails),
# KEYSTONE_DEBUG=1 (Keystone debug logging), KEYSTONE_PASSWORD_HASH_ROUNDS
# (4: bcrypt's minimum, keeps password checks cheap in tests),
# KEYSTONE_START_TIMEOUT (120 s), KEYSTONE_WATCH_PID (stop Keystone when that
# process is gone, so a killed test leaves nothing running).
#
# Exit status: 0 ready; 77 Keystone (or curl) is not installed; 1 any other failure.
set -euo pipefail

prog=keystone-up
die() { echo "$prog: error: $*" >&2; exit 1; }
die_log() {  # die_log LOGFILE MESSAGE: fail, showing the end of the log concerned
    local log=$1; shift
    echo "$prog: error: $* (see $log)" >&2
    if [ -s "$log" ]; then
        echo "--- last lines of $log:" >&2
        grep -v -e 'running as root' -e 'use the --uid flag' "$log" | tail -n 20 >&2 || true
    fi
    exit 1
}
missing() { echo "$prog: missing dependency: $*" >&2; exit 77; }

[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 1; }

started=$(date +%s%N)
PY=${KEYSTONE_PYTHON:-/usr/bin/python3}
SERVER=${KEYSTONE_SERVER:-auto}
PROCESSES=${KEYSTONE_PROCESSES:-4}
THREADS=${KEYSTONE_THREADS:-1}
HASH_ROUNDS=${KEYSTONE_PASSWORD_HASH_ROUNDS:-4}
START_TIMEOUT=${KEYSTONE_START_TIMEOUT:-120}

command -v keystone-manage >/dev/null 2>&1 || missing "keystone-manage (apt-get install keystone)"
command -v curl >/dev/null 2>&1 || missing "curl"
[ -x "$PY" ] || missing "$PY"
"$PY" -c 'import importlib.util, sys; sys.exit(importlib.util.find_spec("keystone") is None)' 2>/dev/null ||
    missing "python3-keystone for $PY (apt-get install keystone)"

DIR=$1
mkdir -p -- "$DIR" || die "cannot create $DIR"
DIR=$(cd -- "$DIR" && pwd -P)
# DIR ends up in an ini file, a SQLAlchemy URL and shell files: keep it plain.
case $DIR in
    *[!A-Za-z0-9._/+-]*) die "DIR must be a plain path (letters, digits, . _ / + -): $DIR" ;;
esac
[ -z "$(ls -A -- "$DIR")" ] || die "$DIR is not empty (one Keystone per directory)"
# Marks the directory as ours, so keystone-down.sh only ever removes such directories.
echo "$$" >"$DIR/.kaas-keystone-harness"

CONF=$DIR/keystone.conf
ACCESS_LOG=$DIR/access.log
APP_LOG=$DIR/keystone.log
SERVER_LOG=$DIR/server.log
HOST=127.0.0.1
ADMIN_PASSWORD=$("$PY" -c 'import secrets, string; a = string.ascii_letters + string.digits; print("".join(secrets.choice(a) for _ in range(32)))')
KS_USER=$(id -un)
KS_GROUP=$(id -gn)
server_pid=
watch_pid=
ok=0

alive() {  # alive PID: running, not a zombie (kill -0 succeeds on zombies)
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

on_exit() {
    if [ "$ok" != 1 ]; then
        if [ -n "$watch_pid" ]; then kill "$watch_pid" 2>/dev/null || true; fi
        if [ -n "$server_pid" ] && alive "$server_pid"; then
            kill -TERM "$server_pid" 2>/dev/null || true
        fi
        echo "$prog: Keystone was NOT started; $DIR is left for inspection" \
             "(remove it with keystone-down.sh $DIR)" >&2
    fi
}
trap on_exit EXIT

case $SERVER in
    auto)
        if command -v uwsgi >/dev/null 2>&1 &&
           ! uwsgi --plugins python3,logfile --version 2>&1 | grep -q 'UNABLE to load'; then
            SERVER=uwsgi
        else
            SERVER=wsgiref
        fi ;;
    uwsgi)
        command -v uwsgi >/dev/null 2>&1 || missing "uwsgi (apt-get install uwsgi-core uwsgi-plugin-python3)"
        ! uwsgi --plugins python3,logfile --version 2>&1 | grep -q 'UNABLE to load' ||
            missing "uwsgi python3 plugin (apt-get install uwsgi-plugin-python3)" ;;
    wsgiref) ;;
    *) die "KEYSTONE_SERVER must be auto, uwsgi or wsgiref, not '$SERVER'" ;;
esac

# 0700: otherwise Keystone warns "key_repository is world readable" on every request.
mkdir -m 700 "$DIR/fernet-keys" "$DIR/credential-keys"
mkdir "$DIR/policy.d" "$DIR/conf.d"
cat >"$CONF" <<EOF
# Generated by keystone-up.sh for tests only.
[DEFAULT]
log_file = $APP_LOG
use_stderr = false
debug = $([ "${KEYSTONE_DEBUG:-0}" = 1 ] && echo true || echo false)

[database]
connection = sqlite:///$DIR/keystone.db

[token]
provider = fernet

[fernet_tokens]
key_repository = $DIR/fernet-keys

[fernet_receipts]
key_repository = $DIR/fernet-keys

[credential]
key_repository = $DIR/credential-keys

[identity]
password_hash_rounds = $HASH_ROUNDS

[oslo_policy]
# Point away from /etc/keystone so only Keystone's built-in defaults apply.
policy_file = $DIR/policy.yaml
policy_dirs = $DIR/policy.d

[oslo_concurrency]
lock_path = $DIR
EOF

manage() {  # manage NAME ARGS...: keystone-manage with its noise in DIR/manage-NAME.log
    local name=$1; shift
    # --config-dir: an empty one of ours instead of /etc/keystone/keystone.conf.d
    keystone-manage --config-file "$CONF" --config-dir "$DIR/conf.d" "$@" \
        </dev/null >>"$DIR/manage-$name.log" 2>&1
}

# The three are independent: run them side by side.
manage db_sync db_sync & p_db=$!
manage fernet_setup fernet_setup --keystone-user "$KS_USER" --keystone-group "$KS_GROUP" & p_fernet=$!
manage credential_setup credential_setup --keystone-user "$KS_USER" --keystone-group "$KS_GROUP" & p_cred=$!
wait "$p_db" || die_log "$DIR/manage-db_sync.log" "keystone-manage db_sync failed"
wait "$p_fernet" || die_log "$DIR/manage-fernet_setup.log" "keystone-manage fernet_setup failed"
wait "$p_cred" || die_log "$DIR/manage-credential_setup.log" "keystone-manage credential_setup failed"

# Keystone (via oslo.db) wraps even reads in BEGIN, and some request paths leave
# such a read transaction open in a worker. In SQLite's default rollback-journal
# mode that shared lock blocks every writer in the other workers ("database is
# locked" after 5 s). In WAL mode readers never block writers.
"$PY" - "$DIR/keystone.db" <<'EOF' || die "cannot switch $DIR/keystone.db to WAL mode"
import sqlite3, sys
mode = sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode=WAL").fetchone()[0]
sys.exit(mode.lower() != "wal")
EOF

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

write_server_config() {  # $1 = port
    if [ "$SERVER" = uwsgi ]; then
        cat >"$DIR/keystone_wsgi.py" <<'EOF'
# Keystone's WSGI application for uwsgi, loaded once by the master process and
# then forked into the workers.
import logging
import sys

del sys.argv[1:]  # Keystone parses sys.argv as its own command line
from keystone.server.wsgi import initialize_public_application  # noqa: E402

application = initialize_public_application()


def _after_fork():
    # With eventlet loaded, oslo.log gives every logging handler a lock made
    # of a pipe. Forked workers would share the master's pipe (a lock across
    # all workers), and a worker waiting for it sleeps in eventlet's inherited
    # hub, whose epoll fd is shared too: it can miss its wake-up and hang for
    # 60 s in the middle of a request. Give each worker locks of its own.
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values()
        if isinstance(lg, logging.Logger)]
    seen = set()
    for lg in loggers:
        for handler in lg.handlers:
            if id(handler) not in seen:
                seen.add(id(handler))
                handler.createLock()


try:
    import uwsgi
    uwsgi.post_fork_hook = _after_fork
except ImportError:
    pass
EOF
        cat >"$DIR/uwsgi.ini" <<EOF
[uwsgi]
plugins = python3,logfile
http-socket = $HOST:$1
wsgi-file = $DIR/keystone_wsgi.py
env = OS_KEYSTONE_CONFIG_FILES=$CONF
chdir = $DIR
master = true
processes = $PROCESSES
threads = $THREADS
enable-threads = true
; Keystone is loaded once in the master and forked into the workers (~2 s
; instead of ~6 s for loading it in each). keystone_wsgi.py makes that safe.
lazy-apps = false
buffer-size = 65535
die-on-term = true
no-orphans = true
thunder-lock = true
need-app = true
logto = $SERVER_LOG
req-logger = file:$ACCESS_LOG
log-format = %(epoch) %(method) %(uri) %(status) %(rsize) %(msecs)ms
EOF
    else
        cat >"$DIR/serve.py" <<'EOF'
# Threaded stand-in for keystone-wsgi-public (used when uwsgi is missing).
# Writes the same access-log format as the uwsgi configuration.
import socketserver, sys, threading, time
from wsgiref import simple_server
from keystone.server.wsgi import initialize_public_application

host, port, access_log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
del sys.argv[1:]  # Keystone parses sys.argv as its own command line
log = open(access_log, "a", buffering=1)

class Handler(simple_server.WSGIRequestHandler):
    def handle(self):
        self._t0 = time.monotonic()
        super().handle()
    def log_request(self, code="-", size="-"):
        ms = int((time.monotonic() - self._t0) * 1000)
        log.write("%d %s %s %s %s %dms\n" % (time.time(), self.command, self.path, code, size, ms))
    def log_message(self, *args):
        pass

class Server(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True
    allow_reuse_address = False

keystone_app = initialize_public_application()
lock = threading.Lock()

def app(environ, start_response):
    # Connections are accepted in parallel, but Keystone runs one request at a
    # time: it is not safe with threads (policy set-up races, SQLite connections
    # closed from the wrong thread).
    with lock:
        return list(keystone_app(environ, start_response))

httpd = simple_server.make_server(host, port, app, server_class=Server, handler_class=Handler)
print("serving on %s:%d" % (host, port), flush=True)
httpd.serve_forever()
EOF
    fi
}

start_server() {  # $1 = port; sets server_pid
    if [ "$SERVER" = uwsgi ]; then
        env -u OS_KEYSTONE_CONFIG_DIR uwsgi --ini "$DIR/uwsgi.ini" </dev/null >>"$SERVER_LOG" 2>&1 &
    else
        env -u OS_KEYSTONE_CONFIG_DIR OS_KEYSTONE_CONFIG_FILES="$CONF" \
            "$PY" "$DIR/serve.py" "$HOST" "$1" "$ACCESS_LOG" </dev/null >>"$SERVER_LOG" 2>&1 &
    fi
    server_pid=$!
}

# Bootstrap needs the public URL, so pick the port first and run bootstrap while
# the server starts. Another process may grab the port between our probe and the
# server's bind: then the server exits with EADDRINUSE and we retry on a new port
# (and bootstrap again, which updates the catalog endpoints).
PORT=
for _ in 1 2 3 4 5; do
    PORT=$(free_port) || die "cannot find a free port on $HOST"
    URL=http://$HOST:$PORT
    write_server_config "$PORT"
    start_server "$PORT"
    manage bootstrap bootstrap --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-username admin --bootstrap-project-name admin \
        --bootstrap-role-name admin --bootstrap-service-name keystone \
        --bootstrap-region-id RegionOne \
        --bootstrap-admin-url "$URL/v3" --bootstrap-public-url "$URL/v3" \
        --bootstrap-internal-url "$URL/v3" & p_boot=$!

    # Bounded wait for GET /v3 from *our* process (alive + answering means it
    # holds the port: nobody else can listen on it at the same time).
    deadline=$(( $(date +%s) + START_TIMEOUT ))
    up=0
    while [ "$(date +%s)" -lt "$deadline" ]; do
        if ! alive "$server_pid"; then break; fi
        if curl -fsS -o /dev/null --max-time 5 "$URL/v3" 2>/dev/null; then up=1; break; fi
        sleep 0.1
    done
    wait "$p_boot" || die_log "$DIR/manage-bootstrap.log" "keystone-manage bootstrap failed"
    if [ "$up" = 1 ] && alive "$server_pid"; then
        break
    fi
    if alive "$server_pid"; then
        die_log "$SERVER_LOG" "Keystone ($SERVER, pid $server_pid) did not answer GET $URL/v3 within ${START_TIMEOUT}s"
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    if grep -q -i 'address already in use' "$SERVER_LOG"; then
        echo "$prog: port $PORT was taken meanwhile, retrying on another one" >&2
        mv "$SERVER_LOG" "$SERVER_LOG.port-$PORT"
        PORT=
        continue
    fi
    die_log "$SERVER_LOG" "Keystone ($SERVER) exited during start-up"
done
[ -n "$PORT" ] || die "no free port could be bound after 5 attempts"

if [ -n "${KEYSTONE_WATCH_PID:-}" ]; then
    # Stops Keystone once the watched process (e.g. the test script) is gone.
    (
        trap '' HUP INT
        while kill -0 "$KEYSTONE_WATCH_PID" 2>/dev/null && alive "$server_pid"; do
            sleep 1
        done
        kill -TERM "$server_pid" 2>/dev/null || true
    ) </dev/null >/dev/null 2>&1 &
    watch_pid=$!
    echo "$watch_pid" >"$DIR/watchdog.pid"
fi
# Line 2: the kernel start time, so keystone-down.sh never signals a reused pid.
stat=$(cat "/proc/$server_pid/stat"); stat=${stat##*) }
printf '%s\n%s\n' "$server_pid" "$(echo "$stat" | cut -d' ' -f20)" >"$DIR/keystone.pid"

q() { printf '%q' "$1"; }
cat >"$DIR/env" <<EOF
# Written by keystone-up.sh; source it. Remove everything with keystone-down.sh $(q "$DIR").
KEYSTONE_DIR=$(q "$DIR")
KEYSTONE_URL=$(q "$URL")
KEYSTONE_AUTH_URL=$(q "$URL/v3")
KEYSTONE_HOST=$HOST
KEYSTONE_PORT=$PORT
KEYSTONE_PID=$server_pid
KEYSTONE_SERVER=$SERVER
KEYSTONE_ADMIN_USER=admin
KEYSTONE_ADMIN_PASSWORD=$(q "$ADMIN_PASSWORD")
KEYSTONE_ADMIN_PROJECT=admin
KEYSTONE_ADMIN_DOMAIN_ID=default
KEYSTONE_REGION=RegionOne
KEYSTONE_CONF=$(q "$CONF")
KEYSTONE_LOG=$(q "$ACCESS_LOG")
KEYSTONE_APP_LOG=$(q "$APP_LOG")
KEYSTONE_SERVER_LOG=$(q "$SERVER_LOG")
export KEYSTONE_DIR KEYSTONE_URL KEYSTONE_AUTH_URL KEYSTONE_HOST KEYSTONE_PORT KEYSTONE_PID
export KEYSTONE_SERVER KEYSTONE_ADMIN_USER KEYSTONE_ADMIN_PASSWORD KEYSTONE_ADMIN_PROJECT
export KEYSTONE_ADMIN_DOMAIN_ID KEYSTONE_REGION KEYSTONE_CONF KEYSTONE_LOG KEYSTONE_APP_LOG
export KEYSTONE_SERVER_LOG
EOF
ok=1
elapsed=$(( ($(date +%s%N) - started) / 1000000 ))
echo "Keystone ($SERVER, pid $server_pid) ready at $URL/v3 in ${elapsed} ms; source $DIR/env"
