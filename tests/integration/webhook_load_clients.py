#!/usr/bin/python3
"""webhook_load_clients.py -- clients for kaas-webhook's load test
(tests/integration/test_webhook_load.sh; standard library only).

Every mode connects to https://127.0.0.1:PORT, checks the server against
CA_FILE, and binds its connections to the source address SRC (127.0.0.1
for the legitimate client, 127.0.0.2 and up for attackers, so the webhook
sees them as other hosts). Each prints one JSON object on stdout; times are
in milliseconds.

  legit PORT CA_FILE STOP_FILE TIMEOUT TOKEN_FILE USER
      Until STOP_FILE exists: POST /authenticate, a TokenReview for the
      token in TOKEN_FILE, each on a new connection from 127.0.0.1 and
      within TIMEOUT seconds (TLS handshake included). A call succeeds on
      HTTP 200, authenticated true and username USER. Reports calls,
      failures and the slowest.
  hold PORT SRC N READY_FILE RELEASE_FILE MAX_SECONDS REFUSALS
      Opens N TCP connections and sends nothing. The connections the
      webhook closes at once are counted as refused: once REFUSALS of them
      are closed (however long the webhook takes to accept them, within
      MAX_SECONDS), whatever is closed then counts.
      Writes READY_FILE, holds the rest until RELEASE_FILE exists (or
      MAX_SECONDS pass) and reports how many the webhook closed meanwhile.
  slow PORT CA_FILE SRC N SECONDS handshake|request
      N connections trickling a byte a second: of the TLS ClientHello
      (handshake), or, after a whole handshake, of an HTTP request
      (request). Reports when the webhook closed each (null: still open
      after SECONDS).
  noread PORT CA_FILE SRC N SECONDS [TOKEN_FILE]
      N connections with small receive buffers sending GET /metrics
      requests (or, with TOKEN_FILE, TokenReviews of that token, whose
      connections are kept alive) one after the other and never reading
      the answers. Reports when each one's sending stalled (null: never)
      and when the webhook closed it (null: not seen within SECONDS).
  oversize PORT CA_FILE SRC MAX_BODY
      Bodies over MAX_BODY: a little over and far over, announced by
      Content-Length and chunked. Reports each one's HTTP status (null
      when there was none to read) and whether the connection was closed.
"""

import json
import os
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from load_client import call_until, closed_by_peer, hold, now_ms, open_many, until_closed  # noqa: E402

HOST = "127.0.0.1"


def tls_context(ca):
    return ssl.create_default_context(cafile=ca)


def tcp(port, src, timeout=10.0):
    return socket.create_connection((HOST, port), timeout=timeout, source_address=(src, 0))


def tls(ctx, port, src, timeout=10.0, rcvbuf=None):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if rcvbuf:
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    raw.settimeout(timeout)
    raw.bind((src, 0))
    raw.connect((HOST, port))
    return ctx.wrap_socket(raw, server_hostname=HOST)


def read_status(s, deadline):
    """The status code of the HTTP answer on s, or None."""
    buf = b""
    try:
        while b"\r\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    except (OSError, ssl.SSLError):
        pass
    parts = buf.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


def review_body(token):
    return json.dumps({"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
                       "metadata": {"creationTimestamp": None}, "spec": {"token": token},
                       "status": {"user": {}}}).encode()


def mode_legit(port, ca, stop, timeout, token_file, user):
    with open(token_file) as f:
        body = review_body(f.read().strip())
    ctx = tls_context(ca)

    def one_call():
        deadline = time.monotonic() + timeout
        got = None
        try:
            s = tls(ctx, port, HOST, timeout)
            try:
                s.sendall(b"POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                          b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
                buf = b""
                while True:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("no whole answer within %s s" % timeout)
                    s.settimeout(left)
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            finally:
                s.close()
            head, _, payload = buf.partition(b"\r\n\r\n")
            status = head.split(b"\r\n", 1)[0]
            d = json.loads(payload)
            good = (status.split()[1] == b"200" and d["status"]["authenticated"] is True
                    and d["status"]["user"]["username"] == user)
            got = {"status": status.decode(errors="replace"), "authenticated": d["status"].get("authenticated")}
        except (OSError, ValueError, KeyError, IndexError, ssl.SSLError) as e:
            good, got = False, {"exception": "%s: %s" % (e.__class__.__name__, e)}
        return good, {"got": got}
    return call_until(stop, one_call, 0.02)


def mode_hold(port, src, n, ready, release, max_seconds, refusals):
    deadline = time.monotonic() + max_seconds
    kept, errors, connect_ms = open_many(n, lambda: tcp(port, src))
    # a refused connection is closed as soon as the webhook accepts it,
    # which lags behind the kernel's accept by as much as the machine is
    # busy: wait for the refusals expected, not for a quiet spell; more
    # closed later show up as dropped while held
    while time.monotonic() < deadline and sum(1 for s in kept if closed_by_peer(s)) < refusals:
        time.sleep(0.2)
    still, refused = [], 0
    for s in kept:
        if closed_by_peer(s):
            refused += 1
            s.close()
        else:
            still.append(s)
    return hold(still, refused, errors, connect_ms, ready, release, max_seconds)


def client_hello(ctx):
    """The bytes of a TLS ClientHello for the webhook, made without a socket."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(incoming, outgoing, server_hostname=HOST)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def mode_slow(port, ca, src, n, seconds, kind):
    ctx = tls_context(ca)
    if kind == "handshake":
        msg = client_hello(ctx)
    else:
        msg = b"POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" \
              b"Content-Length: 100\r\n\r\n" + b"x" * 100
    socks, started = [], []
    for _ in range(n):
        started.append(now_ms())
        socks.append(tcp(port, src) if kind == "handshake" else tls(ctx, port, src))

    def send(k, s, sent, elapsed):
        try:
            # a byte a second never completes the message in time
            s.send(msg[sent % len(msg):sent % len(msg) + 1])
        except (OSError, ssl.SSLError):
            return False
        return True
    closed, sent = until_closed(socks, seconds, 1.0, send, started)
    return {"closed_after_ms": closed, "bytes_sent": sent}


def mode_noread(port, ca, src, n, seconds, token_file=None):
    ctx = tls_context(ca)
    if token_file:
        with open(token_file) as f:
            body = review_body(f.read().strip())
        one = (b"POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               b"Content-Length: %d\r\n\r\n" % len(body)) + body
    else:
        one = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    req = one * 8
    socks = []
    for _ in range(n):
        s = tls(ctx, port, src, rcvbuf=4096)
        s.setblocking(False)
        socks.append(s)
    stalled = [None] * n   # when the webhook stopped reading (our send would block)
    sent = [0] * n

    def send(k, s, rounds, elapsed):
        try:
            s.send(req)
            sent[k] += 8
        except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError):
            if stalled[k] is None:
                stalled[k] = elapsed()
        except (OSError, ssl.SSLError):
            return False
        return True
    closed, _ = until_closed(socks, seconds, 0.02, send)
    return {"closed_after_ms": closed, "stalled_after_ms": stalled, "requests_sent": sent}


def send_oversize(ctx, port, src, head, chunks):
    """Sends head and then chunks (an iterable of bytes) until done or the
    webhook stops taking them; returns the answer's status and whether
    the webhook closed the connection."""
    s = tls(ctx, port, src)
    try:
        try:
            s.sendall(head)
            for c in chunks:
                s.sendall(c)
        except (OSError, ssl.SSLError):
            pass  # the webhook may answer and close while we still write
        status = read_status(s, time.monotonic() + 10)
        closed = False
        try:
            s.settimeout(5)
            while True:
                if not s.recv(65536):
                    closed = True
                    break
        except (OSError, ssl.SSLError):
            closed = True  # a reset counts as closed
        return {"status": status, "closed": closed}
    finally:
        s.close()


def mode_oversize(port, ca, src, max_body):
    ctx = tls_context(ca)
    post = b"POST /authenticate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    results = {}
    little, far = max_body + 4096, 64 * max_body
    body = b"x" * little
    results["length_little_over"] = send_oversize(
        ctx, port, src, post + b"Content-Length: %d\r\n\r\n" % little, [body])
    results["length_far_over"] = send_oversize(
        ctx, port, src, post + b"Content-Length: %d\r\n\r\n" % far, (b"x" * 65536 for _ in range(far // 65536)))

    def chunked(total, size=16384):
        for _ in range(total // size):
            yield b"%x\r\n" % size + b"x" * size + b"\r\n"
        yield b"0\r\n\r\n"
    results["chunked_little_over"] = send_oversize(
        ctx, port, src, post + b"Transfer-Encoding: chunked\r\n\r\n", chunked(little + 16384))
    results["chunked_far_over"] = send_oversize(
        ctx, port, src, post + b"Transfer-Encoding: chunked\r\n\r\n", chunked(far))
    return results


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    mode, port, a = argv[1], int(argv[2]), argv[3:]
    if mode == "legit":
        out = mode_legit(port, a[0], a[1], float(a[2]), a[3], a[4])
    elif mode == "hold":
        out = mode_hold(port, a[0], int(a[1]), a[2], a[3], float(a[4]), int(a[5]))
    elif mode == "slow":
        out = mode_slow(port, a[0], a[1], int(a[2]), float(a[3]), a[4])
    elif mode == "noread":
        out = mode_noread(port, a[0], a[1], int(a[2]), float(a[3]), a[4] if len(a) > 4 else None)
    elif mode == "oversize":
        out = mode_oversize(port, a[0], a[1], int(a[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
