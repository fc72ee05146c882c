#!/usr/bin/python3
"""crash_creations.py KAASD CONF SOCKET KAAS_TOKEN N

Creates N KaaS tokens from 16 concurrent connections (authenticated with an
existing KaaS token) while killing kaasd with SIGKILL at random moments and
restarting it. A token counts as acknowledged only when its Create reply
arrived. At the end every acknowledged token must validate. Prints a JSON
summary; exit status 0 when none was lost. Leaves the last kaasd running
(its pid is in the summary)."""

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

kaasd, conf, sock_path, cred, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
log = open(os.path.join(os.path.dirname(conf), "kaasd.log"), "ab")
lock = threading.Lock()
acked = []
proc = None
deadline = time.monotonic() + 600


def start():
    global proc
    proc = subprocess.Popen([kaasd, "-f", "-c", conf], stdout=log, stderr=log)


def call(s, method, params):
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return json.loads(buf.split(b"\0", 1)[0])


def connect():
    while time.monotonic() < deadline:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(30)
            s.connect(sock_path)
            return s
        except OSError:
            s.close()
            time.sleep(0.05)
    raise TimeoutError("kaasd did not come back")


def worker():
    s = None
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= n:
                break
        try:
            s = s or connect()
            r = call(s, "io.kaas.Token.Create", {"credentials": {"kaas_token": cred}, "description": "crash test"})
        except (OSError, ConnectionError, ValueError):
            if s:
                s.close()
            s = None
            continue
        if "error" in r:
            print("create failed: %s" % json.dumps(r), file=sys.stderr)
            time.sleep(0.1)
            continue
        with lock:
            acked.append(r["parameters"]["token"])
    if s:
        s.close()


start()
threads = [threading.Thread(target=worker) for _ in range(16)]
for t in threads:
    t.start()
kills = 0
# kill at random points spread over the run, at least three times
marks = sorted(random.sample(range(n // 10, n - n // 10), 4))
for mark in marks:
    while time.monotonic() < deadline:
        with lock:
            if len(acked) >= mark:
                break
        time.sleep(0.001 * random.randint(1, 20))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    kills += 1
    start()
for t in threads:
    t.join()

bad = 0
s = connect()
for tok in acked:
    for attempt in range(3):
        try:
            r = call(s, "io.kaas.Token.Validate", {"token": tok})
            break
        except (OSError, ConnectionError):
            s.close()
            s = connect()
    if "error" in r:
        bad += 1
        print("lost: %s" % json.dumps(r), file=sys.stderr)
s.close()
print(json.dumps({"kills": kills, "acknowledged": len(acked), "lost": bad, "pid": proc.pid}))
sys.exit(0 if bad == 0 and len(acked) >= n else 1)
