#!/usr/bin/python3
"""load_clients.py -- clients for kaasd's load test (standard library only).

Each mode prints one JSON object on stdout; times are in milliseconds.

  load_clients.py hold SOCKET N READY_FILE RELEASE_FILE MAX_SECONDS
      Opens N connections one after the other and keeps them open; a
      connection kaasd refuses (io.kaas.ConnectionLimit, then closed) is
      counted, not kept; N is meant to be one over the per-uid limit, and
      it waits (up to MAX_SECONDS) until kaasd has refused the last one,
      however slowly kaasd gets to it. Writes READY_FILE when done, then holds until
      RELEASE_FILE exists (or MAX_SECONDS pass) and reports how many of the
      kept connections kaasd closed meanwhile.
  load_clients.py legit SOCKET STOP_FILE TIMEOUT TOKEN
      Until STOP_FILE exists: io.kaas.Admin.Status and, with a TOKEN,
      io.kaas.Token.Validate, alternately, each on a new connection and
      within TIMEOUT seconds. Reports calls, failures and the slowest.
  load_clients.py slow SOCKET N SECONDS
      N connections each sending one byte of a call per second; reports
      after how long kaasd closed each (null: still open after SECONDS).
  load_clients.py noread SOCKET N SECONDS
      N connections with small socket buffers sending calls and never
      reading a reply; reports when kaasd closed each (it must stop
      reading them, then drop them at the output limit or idle timeout).
  load_clients.py refused SOCKET
      One connection that sends nothing: prints what kaasd says first
      (io.kaas.ConnectionLimit when it refuses), or null.
  load_clients.py oversize SOCKET N SIZE
      N connections each sending one message of SIZE bytes; reports each
      reply's error and whether kaasd closed the connection after it.
"""

import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from load_client import call_until, closed_by_peer, hold, now_ms, open_many, until_closed  # noqa: E402
import varlink  # noqa: E402


def connect(path, timeout=10.0):
    """A connection to path (a full listen backlog waited out, see
    varlink.connect), its reads and writes bounded by timeout."""
    s = varlink.connect(path, time.monotonic() + timeout)
    s.settimeout(timeout)
    return s


def read_message(s, deadline):
    buf = b""
    while b"\0" not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("no reply in time")
        s.settimeout(left)
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed without a reply")
        buf += chunk
    return json.loads(buf.split(b"\0", 1)[0]), buf.split(b"\0", 1)[1]


def call(path, method, params, timeout):
    deadline = time.monotonic() + timeout
    s = connect(path, timeout)
    try:
        s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
        return read_message(s, deadline)[0]
    finally:
        s.close()


def mode_hold(path, n, ready, release, max_seconds):
    kept, errors, connect_ms = open_many(n, lambda: connect(path))
    # a refused connection gets io.kaas.ConnectionLimit and is closed at
    # once, once kaasd has accepted it: kaasd accepts in order, so the last
    deadline = time.monotonic() + max_seconds
    while kept and not closed_by_peer(kept[-1]) and time.monotonic() < deadline:
        time.sleep(0.05)
    still, refused = [], 0
    for s in kept:
        if closed_by_peer(s):
            try:
                s.settimeout(1)
                msg = s.recv(4096).split(b"\0")[0]
                if b"io.kaas.ConnectionLimit" in msg:
                    refused += 1
                else:
                    errors["closed"] = errors.get("closed", 0) + 1
            except OSError:
                errors["closed"] = errors.get("closed", 0) + 1
            s.close()
        else:
            still.append(s)
    return hold(still, refused, errors, connect_ms, ready, release, max_seconds)


def mode_legit(path, stop, timeout, token):
    i = 0

    def one_call():
        nonlocal i
        if token and i % 2:
            method, params, ok = "io.kaas.Token.Validate", {"token": token}, "identity"
        else:
            method, params, ok = "io.kaas.Admin.Status", {}, "version"
        i += 1
        try:
            r = call(path, method, params, timeout)
            good = ok in r.get("parameters", {})
        except (OSError, ValueError, ConnectionError) as e:
            r, good = {"exception": str(e)}, False
        return good, {"method": method, "got": r}
    return call_until(stop, one_call, 0.01)


def mode_slow(path, n, seconds):
    msg = json.dumps({"method": "io.kaas.Admin.Status"}).encode() + b"\0"
    socks, started = [], []
    for _ in range(n):
        started.append(now_ms())
        socks.append(connect(path))

    def send(k, s, sent, elapsed):
        try:
            # a byte a second never completes the message in time
            s.send(msg[sent % (len(msg) - 1):sent % (len(msg) - 1) + 1], socket.MSG_DONTWAIT)
        except OSError:
            return False
        return True
    closed, _ = until_closed(socks, seconds, 1.0, send, started)
    return {"closed_after_ms": closed}


def mode_noread(path, n, seconds):
    one = json.dumps({"method": "org.varlink.service.GetInterfaceDescription",
                      "parameters": {"interface": "io.kaas.Token"}}).encode() + b"\0"
    socks = []
    for _ in range(n):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        s.settimeout(10)
        s.connect(path)
        s.setblocking(False)
        socks.append(s)
    stalled = [None] * n   # when kaasd stopped reading (our send would block)
    sent = [0] * n

    def send(k, s, rounds, elapsed):
        try:
            s.send(one)
            sent[k] += 1
        except BlockingIOError:
            if stalled[k] is None:
                stalled[k] = elapsed()
        except OSError:
            return False
        return True
    closed, _ = until_closed(socks, seconds, 0.02, send)
    return {"closed_after_ms": closed, "stalled_after_ms": stalled, "calls_sent": sent}


def mode_oversize(path, n, size):
    head = b'{"method":"io.kaas.Admin.Status","parameters":{"x":"'
    big = head + b"x" * (size - len(head))
    results = []
    for _ in range(n):
        s = connect(path)
        try:
            s.sendall(big)
        except OSError:
            pass  # kaasd may close while we still write
        deadline = time.monotonic() + 10
        try:
            reply, rest = read_message(s, deadline)
            err = reply.get("error")
        except (OSError, ValueError, ConnectionError) as e:
            err, rest = "no reply: %s" % e, b""
        closed = False
        try:
            s.settimeout(5)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    closed = True
                    break
        except OSError:
            closed = True  # reset counts as closed
        results.append({"error": err, "closed": closed})
        s.close()
    return {"results": results}


def mode_refused(path):
    s = connect(path)
    try:
        # a refusal comes at once, but kaasd holds 5,000 other connections
        # and the machine may be busy: 30 s only bound a hang
        return read_message(s, time.monotonic() + 30)[0]
    except (OSError, ValueError, ConnectionError):
        return None
    finally:
        s.close()


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, path, args = argv[1], argv[2], argv[3:]
    if mode == "hold":
        out = mode_hold(path, int(args[0]), args[1], args[2], float(args[3]))
    elif mode == "legit":
        out = mode_legit(path, args[0], float(args[1]), args[2] if len(args) > 2 else "")
    elif mode == "slow":
        out = mode_slow(path, int(args[0]), float(args[1]))
    elif mode == "noread":
        out = mode_noread(path, int(args[0]), float(args[1]))
    elif mode == "refused":
        out = mode_refused(path)
    elif mode == "oversize":
        out = mode_oversize(path, int(args[0]), int(args[1]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
