#!/usr/bin/python3
"""bench/panel_client.py -- the browser's part in bench-panel, over one
keep-alive HTTPS connection as a browser keeps it (the Origin and
Sec-Fetch-Site headers a browser sends with a form):

  login URL CAFILE USER              logs USER in (password in $PANEL_PASSWORD),
                                     prints the session cookie's value
  create URL CAFILE COOKIE N TOKENS  creates N tokens as a user does (POST
                                     /tokens, then GET /tokens/new, which
                                     shows the token); appends them to the
                                     file TOKENS ("TOKEN -" lines, as
                                     bench/tokenreview.lua reads them);
                                     prints "N MEDIAN_MS P90_MS MIN_MS MAX_MS"
                                     of the two requests together
"""
import html.parser
import http.client
import os
import ssl
import sys
import time
import urllib.parse

COOKIE = "__Host-kaas-session"


class Inputs(html.parser.HTMLParser):
    """the value of <input name=NAME> and the text of <code id=new-token>"""

    def __init__(self):
        super().__init__()
        self.values = {}
        self.in_token = False
        self.token = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            self.values.setdefault(a["name"], a.get("value") or "")
        if a.get("id") == "new-token":
            self.in_token = True

    def handle_endtag(self, tag):
        self.in_token = False

    def handle_data(self, data):
        if self.in_token:
            self.token += data


def parse(body):
    p = Inputs()
    p.feed(body)
    return p


class Client:
    def __init__(self, url, cafile):
        u = urllib.parse.urlsplit(url)
        self.origin = f"{u.scheme}://{u.netloc}"
        ctx = ssl.create_default_context(cafile=cafile)
        self.conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=120)
        self.cookies = {}

    def request(self, method, path, fields=None):
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            headers.update({"Content-Type": "application/x-www-form-urlencoded", "Origin": self.origin,
                            "Sec-Fetch-Site": "same-origin"})
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read().decode("utf-8", "replace")
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, _, rest = v.partition("=")
                value = rest.split(";", 1)[0]
                if value:
                    self.cookies[name.strip()] = value
                else:
                    self.cookies.pop(name.strip(), None)
        return r.status, r.getheader("Location"), data


def login(url, cafile, user):
    c = Client(url, cafile)
    status, _, body = c.request("GET", "/login")
    if status != 200:
        sys.exit(f"GET /login: {status}")
    f = parse(body).values
    status, location, body = c.request("POST", "/login", {"user": user, "password": os.environ["PANEL_PASSWORD"],
                                                          "domain": f.get("domain", "Default"), "csrf": f.get("csrf", "")})
    if status != 303 or COOKIE not in c.cookies:
        sys.exit(f"POST /login: {status} {location}")
    print(c.cookies[COOKIE])


def create(url, cafile, cookie, n, tokens):
    c = Client(url, cafile)
    c.cookies[COOKIE] = cookie
    status, _, body = c.request("GET", "/tokens")
    if status != 200:
        sys.exit(f"GET /tokens: {status}")
    csrf = parse(body).values.get("csrf", "")
    times = []
    with open(tokens, "a", encoding="ascii") as out:
        for i in range(n):
            t0 = time.monotonic()
            status, location, _ = c.request("POST", "/tokens", {"description": f"bench {i}", "lifetime_days": "1",
                                                                "csrf": csrf})
            if status != 303:
                sys.exit(f"POST /tokens: {status} {location}")
            status, _, body = c.request("GET", "/tokens/new")
            times.append((time.monotonic() - t0) * 1000)
            token = parse(body).token.strip()
            if status != 200 or not token.startswith("kaas_"):
                sys.exit(f"GET /tokens/new: {status}, no token")
            out.write(f"{token} -\n")
    times.sort()
    print(f"{n} {times[n // 2]:.1f} {times[min(n - 1, int(n * 0.9))]:.1f} {times[0]:.1f} {times[-1]:.1f}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "login":
        login(*sys.argv[2:])
    elif len(sys.argv) == 7 and sys.argv[1] == "create":
        create(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6])
    else:
        sys.exit(__doc__)
