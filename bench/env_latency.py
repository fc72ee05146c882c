#!/usr/bin/env python3
"""bench/env_latency.py -- creation and revocation latency across the
environment's shared store, next to its baseline in the same run (make
bench-environment).

  env_latency.py ETCD_DIR WRITER_SOCK READER_SOCK TOKENS_FILE COUNT

Baseline: etcd's own put -> watch-event latency through the JSON gateway
(a watch stream open on a key, a put of that key, the time until the event
line arrives), with the writer's credentials. Subjects: a token is created on the writer
(io.kaas.Token.Create with an existing token of the store as kaas_token
credentials, which prove the user without Keystone; answered once the
writer's replica holds it) and the reader is polled with Validate until it
accepts the new token; the time from sending Create to the first
acceptance. And a token valid on
the reader is deleted on the writer (io.kaas.Token.Delete as the local
administrator, answered once the writer's replica holds the deletion) and
the reader is polled with Validate until it refuses the token; the time
from sending Delete to the first refusal. Prints p50 and p99 of each."""
import base64
import http.client
import json
import os
import socket
import ssl
import sys
import threading
import time


def varlink(sock, method, params):
    sock.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = sock.recv(65536)
        if not chunk:
            raise SystemExit("kaasd closed the connection")
        buf += chunk
    return json.loads(buf[:-1])


def unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * p / 100))]


def etcd_baseline(etcd_dir, count):
    env = dict(l.split("=", 1) for l in open(os.path.join(etcd_dir, "env")).read().split("\n") if "=" in l)
    host, port = env["ETCD_ENDPOINT_1"].replace("https://", "").split(":")
    pki = os.path.join(etcd_dir, "pki")
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(pki, "kaas-writer.crt"), os.path.join(pki, "kaas-writer.key"))
    password = open(os.path.join(etcd_dir, "secrets", "kaas-writer.password")).read()

    def conn():
        return http.client.HTTPSConnection(host, int(port), context=ctx, timeout=30)

    c = conn()
    c.request("POST", "/v3/auth/authenticate", json.dumps({"name": "kaas-writer", "password": password}))
    token = json.loads(c.getresponse().read())["token"]
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    key = "/kaas/bench-latency"
    w = conn()
    w.request("POST", "/v3/watch", json.dumps({"create_request": {"key": b64(key)}}),
              {"Authorization": token})
    stream = w.getresponse()
    stream.readline()  # created
    lat = []
    for i in range(count):
        t0 = time.monotonic()
        c.request("POST", "/v3/kv/put", json.dumps({"key": b64(key), "value": b64(str(i))}),
                  {"Authorization": token})
        c.getresponse().read()
        while True:
            line = stream.readline()
            if b'"events"' in line:
                break
        lat.append((time.monotonic() - t0) * 1000)
    return lat


def creation(writer, reader, credentials, count):
    ws, rs = unix(writer), unix(reader)
    lat = []
    for i in range(count):
        cred = credentials[i % len(credentials)]
        t0 = time.monotonic()
        r = varlink(ws, "io.kaas.Token.Create", {"credentials": {"kaas_token": cred}, "description": "bench-latency"})
        if "parameters" not in r or "token" not in r["parameters"]:
            raise SystemExit("Create failed: %s" % r.get("error"))
        tok = r["parameters"]["token"]
        while "parameters" not in varlink(rs, "io.kaas.Token.Validate", {"token": tok}):
            pass
        lat.append((time.monotonic() - t0) * 1000)
    return lat


def revocation(writer, reader, tokens, count):
    ws, rs = unix(writer), unix(reader)
    lat = []
    for tok in tokens[:count]:
        r = varlink(rs, "io.kaas.Token.Validate", {"token": tok})
        if "parameters" not in r or "token_id" not in r["parameters"]:
            raise SystemExit("a bench token is not valid on the reader: %s" % r.get("error"))
        tid = r["parameters"]["token_id"]
        t0 = time.monotonic()
        r = varlink(ws, "io.kaas.Token.Delete", {"ids": [tid]})
        if "error" in r:
            raise SystemExit("Delete failed: %s" % r)
        while varlink(rs, "io.kaas.Token.Validate", {"token": tok}).get("error") != "io.kaas.Token.InvalidToken":
            pass
        lat.append((time.monotonic() - t0) * 1000)
    return lat


def main():
    etcd_dir, writer, reader, tokens_file, count = sys.argv[1:6]
    count = int(count)
    tokens = [l.split()[0] for l in open(tokens_file) if l.strip()]
    if len(tokens) < 2 * count:
        raise SystemExit("need %d tokens, %s has %d" % (2 * count, tokens_file, len(tokens)))
    base = etcd_baseline(etcd_dir, count)
    # the tokens deleted below are the first count: the credentials are others
    made = creation(writer, reader, tokens[count:2 * count], count)
    gone = revocation(writer, reader, tokens, count)
    print("%-58s %8s %8s" % ("latency, %d each" % count, "p50 ms", "p99 ms"))
    print("%-58s %8.2f %8.2f" % ("create on the writer -> valid on a reader", pct(made, 50), pct(made, 99)))
    print("%-58s %8.2f %8.2f" % ("delete on the writer -> refused on a reader", pct(gone, 50), pct(gone, 99)))
    print("%-58s %8.2f %8.2f" % ("etcd put -> watch event (baseline)", pct(base, 50), pct(base, 99)))
    print("%-58s %8.2f %8.2f" % ("ratio create / baseline", pct(made, 50) / pct(base, 50), pct(made, 99) / pct(base, 99)))
    print("%-58s %8.2f %8.2f" % ("ratio delete / baseline", pct(gone, 50) / pct(base, 50), pct(gone, 99) / pct(base, 99)))


main()
