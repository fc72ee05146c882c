#!/usr/bin/python3
"""varlink.py -- a minimal varlink client for tests (standard library only).

  varlink.py [-t SECONDS] SOCKET METHOD [JSON]
      One call; prints the reply message as JSON on one line. Exit 0 for a
      reply, 1 for an error reply, 2 when no reply came (timeout, refused).
  varlink.py [-t SECONDS] -n N SOCKET METHOD [JSON]
      N connections, each sending the same call before any reply is read
      (identical concurrent calls); prints a JSON array of the N replies.
"""

import json
import socket
import sys
import time


def connect(path, deadline):
    """A connection to path; a full listen backlog (EAGAIN: the server was
    not scheduled to accept yet) is waited out until deadline, as libkaas
    does."""
    wait = 0.001
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            s.close()
            if time.monotonic() + wait > deadline:
                raise
            time.sleep(wait)
            wait = min(wait * 2, 0.1)


def send(s, method, params):
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")


def receive(s, deadline):
    buf = b""
    while b"\0" not in buf:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed without a reply")
        buf += chunk
    return json.loads(buf.split(b"\0", 1)[0])


def main(argv):
    args = argv[1:]
    timeout, count = 10.0, 0
    while args and args[0].startswith("-"):
        if args[0] == "-t":
            timeout = float(args[1])
        elif args[0] == "-n":
            count = int(args[1])
        else:
            print(__doc__, file=sys.stderr)
            return 2
        args = args[2:]
    if len(args) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    path, method = args[0], args[1]
    params = json.loads(args[2]) if len(args) == 3 else {}
    deadline = time.monotonic() + timeout
    try:
        if count:
            conns = [connect(path, deadline) for _ in range(count)]
            for s in conns:
                send(s, method, params)
            replies = [receive(s, deadline) for s in conns]
            print(json.dumps(replies, ensure_ascii=False))
            return 0
        s = connect(path, deadline)
        send(s, method, params)
        reply = receive(s, deadline)
    except (OSError, ConnectionError, ValueError) as e:
        print("varlink.py: %s: %s" % (method, e), file=sys.stderr)
        return 2
    print(json.dumps(reply, ensure_ascii=False))
    return 1 if "error" in reply else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
