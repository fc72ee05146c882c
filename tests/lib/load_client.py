"""load_client.py -- what the load tests' clients share (standard library
only): tests/integration/load_clients.py (kaasd over its Unix socket) and
tests/integration/webhook_load_clients.py (kaas-webhook over HTTPS). Each
client brings its own connections and messages; the timing, counting and
holding that the tests' checks read is here, the same for both.

Times are in milliseconds, counted from a phase's start."""

import os
import select
import time


def now_ms():
    return time.monotonic() * 1000.0


def closed_by_peer(s):
    """True once the server has closed or reset s, without reading from it."""
    p = select.poll()
    p.register(s.fileno(), select.POLLRDHUP | select.POLLHUP | select.POLLERR)
    return bool(p.poll(0))


def call_until(stop, one_call, pause):
    """Calls one_call() until the file stop exists, pause seconds apart.
    one_call returns (good, what_to_show): a dict that describes a failed
    call. Reports calls, failures, the slowest and the first three
    failures, each with how long it took."""
    calls, failures, slowest, examples = 0, 0, 0.0, []
    while not os.path.exists(stop):
        t = now_ms()
        good, shown = one_call()
        took = now_ms() - t
        calls += 1
        slowest = max(slowest, took)
        if not good:
            failures += 1
            if len(examples) < 3:
                examples.append(dict(shown, ms=round(took)))
        time.sleep(pause)
    return {"calls": calls, "failures": failures, "slowest_ms": round(slowest), "examples": examples}


def open_many(n, connect):
    """n connections from connect(), one after the other; a failed one is
    counted by its exception's class. Returns the connections, the counts
    and how long it took."""
    kept, errors = [], {}
    t0 = now_ms()
    for _ in range(n):
        try:
            kept.append(connect())
        except OSError as e:
            errors[e.__class__.__name__] = errors.get(e.__class__.__name__, 0) + 1
    return kept, errors, now_ms() - t0


def hold(still, refused, errors, connect_ms, ready, release, max_seconds):
    """Writes the file ready, keeps the connections still open until the
    file release exists (or max_seconds pass), then closes them. Reports
    how many were open, refused and failed, and how many the server closed
    while they were held."""
    open(ready, "w").close()
    end = time.monotonic() + max_seconds
    while not os.path.exists(release) and time.monotonic() < end:
        time.sleep(0.05)
    dropped = sum(1 for s in still if closed_by_peer(s))
    for s in still:
        s.close()
    return {"open": len(still), "refused": refused, "errors": errors, "connect_ms": round(connect_ms),
            "dropped_while_held": dropped}


def until_closed(socks, seconds, interval, send, started=None):
    """Every interval seconds, until the server has closed every one of
    socks or seconds pass: send(k, s, rounds, elapsed) on each one still
    open (elapsed() is the time since the start), which returns False when
    the sending showed it closed. Closes them all; returns when each was
    closed (None: still open), counted from started[k] (now_ms() before
    socket k was connected: a server's deadlines run from its accept, and
    opening many takes a while on a busy machine) or else from the start,
    and how many rounds were sent."""
    t0 = now_ms()
    if started is None:
        started = [t0] * len(socks)
    closed = [None] * len(socks)
    rounds = 0
    while any(c is None for c in closed) and now_ms() - t0 < seconds * 1000:
        for k, s in enumerate(socks):
            if closed[k] is not None:
                continue
            if closed_by_peer(s) or not send(k, s, rounds, lambda: round(now_ms() - t0)):
                closed[k] = round(now_ms() - started[k])
        rounds += 1
        time.sleep(interval)
    for s in socks:
        s.close()
    return closed, rounds
