#!/usr/bin/env python3
"""etcd-fill.py ETCD_DIR COUNT [PREFIX] -- writes COUNT random, well-formed
token records under PREFIX (default /kaas/) tokens/ of the cluster etcd-up.sh
started in ETCD_DIR, as the writer user through etcd's JSON gateway, in
transactions of 100 puts. Prints the etcd revision reached."""
import base64
import http.client
import json
import os
import secrets
import ssl
import sys

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def main():
    etcd_dir, count = sys.argv[1], int(sys.argv[2])
    prefix = sys.argv[3] if len(sys.argv) > 3 else "/kaas/"
    env = dict(line.split("=", 1) for line in open(os.path.join(etcd_dir, "env")).read().split("\n") if "=" in line)
    host, port = env["ETCD_ENDPOINT_1"].replace("https://", "").split(":")
    pki = os.path.join(etcd_dir, "pki")
    ctx = ssl.create_default_context(cafile=os.path.join(pki, "ca.crt"))
    ctx.load_cert_chain(os.path.join(pki, "kaas-writer.crt"), os.path.join(pki, "kaas-writer.key"))
    conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=60)

    def post(path, body, token=None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = token
        conn.request("POST", path, json.dumps(body), headers)
        r = conn.getresponse()
        data = json.loads(r.read())
        if r.status != 200 or "error" in data:
            sys.exit("etcd: %s %s" % (r.status, data))
        return data

    password = open(os.path.join(etcd_dir, "secrets", "kaas-writer.password")).read()
    token = post("/v3/auth/authenticate", {"name": "kaas-writer", "password": password})["token"]
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    revision = 0
    for start in range(0, count, 100):
        ops = []
        for _ in range(min(100, count - start)):
            record = {"owner_id": secrets.token_hex(16), "owner_name": "load-" + secrets.token_hex(4),
                      "owner_domain_id": "default", "description": "",
                      "token_id": "tid_" + "".join(secrets.choice(ALPHABET) for _ in range(22)),
                      "created": 1700000000, "expires": 4000000000}
            key = prefix + "tokens/" + secrets.token_hex(32)
            ops.append({"request_put": {"key": b64(key), "value": b64(json.dumps(record))}})
        revision = int(post("/v3/kv/txn", {"success": ops}, token)["header"]["revision"])
    print(revision)


main()
