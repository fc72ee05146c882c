#!/usr/bin/python3
"""load_clients.py -- clients for kaasd's load test (standard library only).

Each mode prints one JSON object on stdout; times are in milliseconds.

  load_clients.py hold SOCKET N READY_FILE RELEASE_FILE MAX_SECONDS
      Opens N connections one after the other and keeps them open; a
      connection kaasd refuses (io.kaas.ConnectionLimit, then closed) is
      counted, not kept. Writes READY_FILE when done, then holds until
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
import select
import socket
import sys
import time


def now_ms():
    return time.monotonic() * 1000.0


def connect(path, timeout=10.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
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


def closed_by_peer(s):
    """True once kaasd has closed s (POLLHUP), without reading from it."""
    p = select.poll()
    p.register(s, select.POLLHUP | select.POLLRDHUP)
    return bool(p.poll(0))


def mode_hold(path, n, ready, release, max_seconds):
    kept, refused, errors = [], 0, {}
    t0 = now_ms()
    for _ in range(n):
        try:
            s = connect(path)
        except OSError as e:
            errors[e.__class__.__name__] = errors.get(e.__class__.__name__, 0) + 1
            continue
        kept.append(s)
    connect_ms = now_ms() - t0
    # a refused connection gets io.kaas.ConnectionLimit and is closed at once
    time.sleep(0.5)
    still = []
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
    open(ready, "w").close()
    end = time.monotonic() + max_seconds
    while not os.path.exists(release) and time.monotonic() < end:
        time.sleep(0.05)
    dropped = sum(1 for s in still if closed_by_peer(s))
    for s in still:
        s.close()
    return {"open": len(still), "refused": refused, "errors": errors, "connect_ms": round(connect_ms),
            "dropped_while_held": dropped}


def mode_legit(path, stop, timeout, token):
    calls, failures, slowest, examples = 0, 0, 0.0, []
    i = 0
    while not os.path.exists(stop):
        if token and i % 2:
            method, params, ok = "io.kaas.Token.Validate", {"token": token}, "identity"
        else:
            method, params, ok = "io.kaas.Admin.Status", {}, "version"
        i += 1
        t = now_ms()
        try:
            r = call(path, method, params, timeout)
            good = ok in r.get("parameters", {})
        except (OSError, ValueError, ConnectionError) as e:
            r, good = {"exception": str(e)}, False
        took = now_ms() - t
        calls += 1
        slowest = max(slowest, took)
        if not good:
            failures += 1
            if len(examples) < 3:
                examples.append({"method": method, "got": r, "ms": round(took)})
        time.sleep(0.01)
    return {"calls": calls, "failures": failures, "slowest_ms": round(slowest), "examples": examples}


def mode_slow(path, n, seconds):
    msg = json.dumps({"method": "io.kaas.Admin.Status"}).encode() + b"\0"
    socks = [connect(path) for _ in range(n)]
    t0 = now_ms()
    closed = [None] * n
    sent = 0
    while any(c is None for c in closed) and now_ms() - t0 < seconds * 1000:
        for k, s in enumerate(socks):
            if closed[k] is None:
                if closed_by_peer(s):
                    closed[k] = round(now_ms() - t0)
                    continue
                try:
                    # a byte a second never completes the message in time
                    s.send(msg[sent % (len(msg) - 1):sent % (len(msg) - 1) + 1], socket.MSG_DONTWAIT)
                except OSError:
                    closed[k] = round(now_ms() - t0)
        sent += 1
        time.sleep(1.0)
    for s in socks:
        s.close()
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
    t0 = now_ms()
    closed = [None] * n
    stalled = [None] * n   # when kaasd stopped reading (our send would block)
    sent = [0] * n
    while any(c is None for c in closed) and now_ms() - t0 < seconds * 1000:
        for k, s in enumerate(socks):
            if closed[k] is not None:
                continue
            if closed_by_peer(s):
                closed[k] = round(now_ms() - t0)
                continue
            try:
                s.send(one)
                sent[k] += 1
            except BlockingIOError:
                if stalled[k] is None:
                    stalled[k] = round(now_ms() - t0)
            except OSError:
                closed[k] = round(now_ms() - t0)
        time.sleep(0.02)
    for s in socks:
        s.close()
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
        return read_message(s, time.monotonic() + 3)[0]
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
