#!/usr/bin/python3
"""keystone_fault_proxy.py -- an HTTP proxy in front of a real Keystone that
spoils its answers on command, for fault tests (standard library only).

  keystone_fault_proxy.py UPSTREAM_URL DIR [--watch-pid PID]

Listens on 127.0.0.1 on a free port, written to DIR/port once it accepts
connections. Every request is forwarded to UPSTREAM_URL (the real Keystone,
e.g. http://127.0.0.1:5000); what goes back depends on the mode, read from
DIR/mode at each request (a missing or empty file means "pass"):

  pass       Keystone's answer, unchanged
  500        HTTP 500 with a Keystone-style JSON error body (the request
             reached Keystone: what it did, it did)
  503        HTTP 503 with a Keystone-style JSON error body, and the
             request never forwarded: Keystone down behind its balancer
  garbage    Keystone's status and headers, a body that is not JSON
  truncated  Keystone's status and headers, a Content-Length 4096 bytes
             larger than the half of the body that is sent; then the
             connection is closed
  huge       HTTP 200 with a 50 MB JSON body, chunked (no Content-Length
             to warn the client), streamed until the client stops reading
  stall      nothing at all: the connection stays open, silent, until the
             client gives up (or 120 s pass)
  hold       the request is logged ("held METHOD PATH") as it arrives and
             kept until the mode is no longer "hold" (at most 120 s), then
             forwarded and answered as in "pass": calls stay in flight for
             as long as the test wants, however fast the machine is

"MODE METHOD" (say "503 DELETE") applies MODE to requests of that method
only, and passes the others.

DIR/requests.log gets one line per request: "MODE METHOD PATH UPSTREAM_STATUS"
("-" for a request not forwarded).
Exits when PID (the test) is gone, or on SIGTERM.
"""

import http.client
import json
import os
import select
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HUGE_SIZE = 50 * 1024 * 1024
STALL_MAX = 120.0
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection", "te",
              "trailer", "upgrade"}

upstream = None
state_dir = None
log_lock = threading.Lock()


def read_mode(method):
    try:
        with open(os.path.join(state_dir, "mode")) as f:
            words = f.read().split()
    except OSError:
        return "pass"
    if not words or (len(words) > 1 and words[1] != method):
        return "pass"
    return words[0]


def log(line):
    with log_lock, open(os.path.join(state_dir, "requests.log"), "a") as f:
        f.write(line + "\n")


def forward(method, path, headers, body):
    conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
    try:
        out = {k: v for k, v in headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"}
        out["Host"] = upstream.netloc
        if body:
            out["Content-Length"] = str(len(body))
        conn.request(method, path, body=body if body else None, headers=out)
        resp = conn.getresponse()
        data = resp.read()
        kept = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
        return resp.status, resp.reason, kept, data
    finally:
        conn.close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, headers, data, length=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data) if length is None else length))
        self.end_headers()

    def handle_any(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        mode = read_mode(self.command)
        if mode == "hold":
            log("held %s %s" % (self.command, self.path))
            end = time.monotonic() + STALL_MAX
            while read_mode(self.command) == "hold" and time.monotonic() < end:
                time.sleep(0.05)
        if mode == "503":
            log("503 %s %s -" % (self.command, self.path))
            data = json.dumps({"error": {"code": 503, "title": "Service Unavailable",
                                         "message": "fault injected by the test proxy"}}).encode()
            try:
                self.reply(503, [("Content-Type", "application/json")], data)
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError, OSError):
                self.close_connection = True
            return
        try:
            status, reason, headers, data = forward(self.command, self.path, self.headers, body)
        except OSError as e:
            status, reason, headers = 502, "Bad Gateway", [("Content-Type", "application/json")]
            data = json.dumps({"error": {"code": 502, "title": "Bad Gateway", "message": str(e)}}).encode()
        log("%s %s %s %d" % (mode, self.command, self.path, status))
        try:
            if mode == "500":
                data = json.dumps({"error": {"code": 500, "title": "Internal Server Error",
                                             "message": "fault injected by the test proxy"}}).encode()
                self.reply(500, [("Content-Type", "application/json")], data)
                self.wfile.write(data)
            elif mode == "garbage":
                data = b"\x00\xff<html><body>502 \xc3\x28 this is not JSON {\"token\": [</body></html>"
                self.reply(status, [(k, v) for k, v in headers if k.lower() != "content-type"] +
                           [("Content-Type", "application/json")], data)
                self.wfile.write(data)
            elif mode == "truncated":
                self.reply(status, headers, data, length=len(data) + 4096)
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
            elif mode == "huge":
                # chunked, so no Content-Length warns the client: its own
                # limit on what it keeps must stop it
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                item = b'{"id": "0123456789abcdef0123456789abcdef", "name": "x", "enabled": true}, '
                body = [b'{"users": [', item * 900]
                sent = 0
                while sent < HUGE_SIZE:
                    data = body[0] if sent == 0 else body[1]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    sent += len(data)
                self.wfile.write(b"2\r\n]}\r\n0\r\n\r\n")
            elif mode == "stall":
                self.close_connection = True
                end = time.monotonic() + STALL_MAX
                while time.monotonic() < end:
                    r, _, _ = select.select([self.connection], [], [], 0.2)
                    if r and not self.connection.recv(4096, socket.MSG_PEEK):
                        break  # the client gave up
            else:
                self.reply(status, headers, data)
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True  # the client stopped reading (huge) or left

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


def main(argv):
    global upstream, state_dir
    if len(argv) not in (3, 5) or (len(argv) == 5 and argv[3] != "--watch-pid"):
        print(__doc__, file=sys.stderr)
        return 2
    upstream = urllib.parse.urlsplit(argv[1])
    state_dir = argv[2]
    watch = int(argv[4]) if len(argv) == 5 else 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    tmp = os.path.join(state_dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.rename(tmp, os.path.join(state_dir, "port"))
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))

    def watcher():
        while True:
            time.sleep(1)
            try:
                os.kill(watch, 0)
            except ProcessLookupError:
                os._exit(0)
            except PermissionError:
                pass

    if watch:
        threading.Thread(target=watcher, daemon=True).start()
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
