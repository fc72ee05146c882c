#!/usr/bin/env python3
"""tests/forward/echo_upstream.py -- a managed service stand-in for the
forward-auth tests: answers every request with a small HTML page that
names the service and holds the request's headers as JSON, so that a
browser test and curl can both read what nginx passed upstream, and the
test can check that no KaaS token or session cookie ever got there.

  echo_upstream.py NAME PORT_FILE

Listens on 127.0.0.1 on a free port, written to PORT_FILE once it accepts
connections; runs until killed."""
import html
import http.server
import json
import os
import sys


class Echo(http.server.BaseHTTPRequestHandler):
    server_version = "echo-upstream"

    def do_GET(self):
        headers = {k.lower(): v for k, v in self.headers.items()}
        body = json.dumps({"service": self.server.name, "path": self.path, "headers": headers}, sort_keys=True)
        page = ("<!doctype html><html lang=\"en\"><title>%s</title><h1 id=\"service\">%s</h1>"
                "<pre id=\"request\">%s</pre></html>\n" % (html.escape(self.server.name),
                                                              html.escape(self.server.name), html.escape(body)))
        data = page.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_POST = do_GET

    def log_message(self, fmt, *args):
        sys.stderr.write("%s: %s\n" % (self.server.name, fmt % args))


def main():
    name, port_file = sys.argv[1], sys.argv[2]
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    srv.name = name
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
