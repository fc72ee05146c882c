#!/usr/bin/python3
"""etcd-budget-proxy.py UPSTREAM_HOST:PORT DIR [--watch-pid PID] -- a TCP
proxy in front of one etcd member that stops passing the member's bytes
once a budget is spent, so that a test can hold a reader in the middle of
its first load however fast the machine is (standard library only).

Listens on 127.0.0.1 on a free port, written to DIR/port once it accepts
connections. What a client sends goes to the member unchanged. What the
member sends goes back until DIR/budget's number of bytes (over all
connections together) has been passed; then the member's bytes are no
longer read, and every connection stays open, as with a member that
stalled in the middle of a reply. A missing DIR/budget means no limit:
removing the file releases what is held. TLS passes through untouched (the
proxy sees ciphertext only), so the member's certificate still names
127.0.0.1. DIR/held is written, with the count, when the budget is spent.

Exits when PID (the test) is gone, or on SIGTERM.
"""

import os
import selectors
import signal
import socket
import sys

CHUNK = 65536


def read_budget(state_dir):
    try:
        with open(os.path.join(state_dir, "budget")) as f:
            return int(f.read().strip() or "0")
    except FileNotFoundError:
        return None


def main():
    args = sys.argv[1:]
    watch_pid = None
    if "--watch-pid" in args:
        i = args.index("--watch-pid")
        watch_pid = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    host, port = args[0].rsplit(":", 1)
    state_dir = args[1]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(listener, selectors.EVENT_READ, None)
    tmp = os.path.join(state_dir, "port.tmp")
    with open(tmp, "w") as f:
        f.write("%d\n" % listener.getsockname()[1])
    os.rename(tmp, os.path.join(state_dir, "port"))

    peer = {}       # socket -> the other end of its pair
    upstream = set()  # the sockets that lead to the member
    passed = 0      # the member's bytes passed back so far
    held = False

    def close_pair(s):
        other = peer.pop(s, None)
        for x in (s, other):
            if x is None:
                continue
            peer.pop(x, None)
            upstream.discard(x)
            try:
                sel.unregister(x)
            except (KeyError, ValueError):
                pass
            x.close()

    while True:
        if watch_pid is not None:
            try:
                os.kill(watch_pid, 0)
            except ProcessLookupError:
                return
        budget = read_budget(state_dir)
        if budget is not None and passed >= budget and not held:
            held = True
            with open(os.path.join(state_dir, "held"), "w") as f:
                f.write("%d\n" % passed)
        # the member's side is read only while there is budget left
        for s in list(upstream):
            want = selectors.EVENT_READ if budget is None or passed < budget else 0
            key = sel.get_map().get(s)
            if want and key is None:
                sel.register(s, selectors.EVENT_READ, None)
            elif not want and key is not None:
                sel.unregister(s)
        for key, _ in sel.select(timeout=0.1):
            s = key.fileobj
            if s is listener:
                try:
                    client, _ = listener.accept()
                except BlockingIOError:
                    continue
                try:
                    member = socket.create_connection((host, int(port)), timeout=10)
                except OSError:
                    client.close()
                    continue
                for x in (client, member):
                    x.settimeout(60)
                peer[client], peer[member] = member, client
                upstream.add(member)
                sel.register(client, selectors.EVENT_READ, None)
                sel.register(member, selectors.EVENT_READ, None)
                continue
            if s not in peer:
                continue
            n = CHUNK
            if s in upstream and budget is not None:
                n = min(n, budget - passed)
                if n <= 0:
                    continue
            try:
                data = s.recv(n)
                if not data:
                    close_pair(s)
                    continue
                peer[s].sendall(data)
            except OSError:
                close_pair(s)
                continue
            if s in upstream:
                passed += len(data)


main()
