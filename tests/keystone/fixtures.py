#!/usr/bin/python3
"""fixtures.py DIR -- populate the Keystone started by keystone-up.sh in DIR.

Reads DIR/env, talks REST to Keystone as the bootstrap admin (system scope),
and writes DIR/fixtures.env (shell-sourceable) and DIR/fixtures.json.
Standard library only; run it with the system /usr/bin/python3.

What it creates (domain "default" unless said otherwise):

  domain   partners
  projects demo, other
  roles    member, reader, admin (from bootstrap, reused), developer,
           k8s-admins-alpha, k8s-admins-beta (admin roles of clusters alpha/beta)
  group    devs                 developer on demo
  users    kaasd          system-scoped reader (the kaasd service account)
           alice          member + developer + k8s-admins-alpha on demo
           bob            member on demo
           carol          member on other
           carol@partners (domain partners, same name, other password)
                          developer + k8s-admins-beta on other
           dave           member on demo, DISABLED
           erin           no direct role; member of group devs (=> developer on demo)
           system:evil    member on demo
           zoë            member on demo (non-ASCII name, UTF-8)
           frank          no role at all

Note: bootstrap makes admin imply member and member imply reader, so an
effective role-assignment listing of alice also shows "reader".

Variables in DIR/fixtures.env (all exported):

  KEYSTONE_URL, KEYSTONE_AUTH_URL     copied from DIR/env
  DOMAIN_DEFAULT_ID (=default), DOMAIN_PARTNERS_ID
  PROJECT_ADMIN_ID, PROJECT_DEMO_ID, PROJECT_OTHER_ID (+ _NAME)
  ROLE_ADMIN_ID, ROLE_MEMBER_ID, ROLE_READER_ID, ROLE_DEVELOPER_ID,
  ROLE_K8S_ADMINS_ALPHA_ID, ROLE_K8S_ADMINS_BETA_ID (+ _NAME for each)
  GROUP_DEVS_ID, GROUP_DEVS_NAME
  For each user U in ADMIN KAASD ALICE BOB CAROL CAROL_PARTNERS DAVE ERIN
  SYSTEM_EVIL ZOE FRANK:  U_ID, U_NAME, U_PASSWORD, U_DOMAIN_ID
  KAASD_SERVICE_USER (=kaasd), KAASD_SERVICE_USER_ID, KAASD_SERVICE_PASSWORD,
  KAASD_SERVICE_DOMAIN_ID       (aliases of the KAASD_* ones)
  CLUSTER_ALPHA_ADMIN_ROLE_ID, CLUSTER_BETA_ADMIN_ROLE_ID

DIR/fixtures.json holds the same, structured: {"env": {...flat variables...},
"domains", "projects", "roles", "groups", "users": {"alice": {...},
"carol@partners": {...}, ...}}.
Environment: KEYSTONE_FIXTURES_PARALLEL (calls in flight, 4),
KEYSTONE_FIXTURES_TIMEOUT (seconds per call, 60).
Exit status: 0 done, 1 failure (message on stderr).
"""

import concurrent.futures
import http.client
import itertools
import json
import os
import secrets
import shlex
import string
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = float(os.environ.get("KEYSTONE_FIXTURES_TIMEOUT", "60"))
# How long a write that Keystone failed with a 5xx is tried again (its
# SQLite "database is locked" lasts as long as another worker's commit, which
# a busy machine stretches)
RETRY_SECONDS = 30
# Calls in flight at once: uwsgi runs 4 Keystone workers by default.
PARALLEL = int(os.environ.get("KEYSTONE_FIXTURES_PARALLEL", "4"))


class Failure(Exception):
    pass


def read_env(path):
    env = {}
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if not line or line.startswith("#") or line.startswith("export "):
                    continue
                key, sep, value = line.partition("=")
                if sep:
                    words = shlex.split(value)
                    env[key] = words[0] if words else ""
    except OSError as e:
        raise Failure("cannot read %s (did keystone-up.sh succeed?): %s" % (path, e))
    return env


class Keystone:
    def __init__(self, auth_url):
        self.auth_url = auth_url.rstrip("/")
        self.token = None
        self.calls = 0
        self.retries = 0
        self.lock = threading.Lock()

    def request(self, method, path, body=None, token=None, expect=(200,),
                headers_out=None, retry=True):
        """One REST call. A 5xx answer or a connection closed without an
        answer is retried for up to RETRY_SECONDS: Keystone on SQLite fails a write with
        "database is locked" when another worker commits at the same moment
        (the failed write is rolled back, so retrying is safe; creates treat a
        409 as success and PUTs are idempotent)."""
        url = self.auth_url + path
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = json.dumps(body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        tok = token if token is not None else self.token
        if tok:
            headers["X-Auth-Token"] = tok
        deadline = time.monotonic() + RETRY_SECONDS
        for attempt in itertools.count():
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            with self.lock:
                self.calls += 1
            try:
                with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                    status, raw, hdrs = resp.status, resp.read(), resp.headers
            except urllib.error.HTTPError as e:
                status, raw, hdrs = e.code, e.read(), e.headers
            except (http.client.RemoteDisconnected, ConnectionResetError) as e:
                # What uwsgi does when Keystone fails with "database is locked".
                status, raw, hdrs = 599, str(e).encode(), {}
            except (urllib.error.URLError, OSError) as e:
                raise Failure("%s %s: %s" % (method, url, e))
            if status >= 500 and retry and time.monotonic() < deadline:
                with self.lock:
                    self.retries += 1
                time.sleep(min(0.2 * (attempt + 1), 1.0))
                continue
            break
        if status not in expect:
            raise Failure("%s %s: HTTP %d (expected %s): %s"
                          % (method, url, status, "/".join(map(str, expect)),
                             raw.decode("utf-8", "replace")[:500]))
        if headers_out is not None:
            headers_out.update(hdrs.items())
        return json.loads(raw) if raw else None

    def get_token(self, user_id=None, user_name=None, domain_id="default",
                  password=None, scope=None, body_out=None):
        user = {"password": password}
        if user_id:
            user["id"] = user_id
        else:
            user["name"] = user_name
            user["domain"] = {"id": domain_id}
        auth = {"identity": {"methods": ["password"], "password": {"user": user}}}
        if scope:
            auth["scope"] = scope
        hdrs = {}
        body = self.request("POST", "/auth/tokens", {"auth": auth}, token="",
                            expect=(201,), headers_out=hdrs)
        if body_out is not None:
            body_out.update(body)
        tok = {k.lower(): v for k, v in hdrs.items()}.get("x-subject-token")
        if not tok:
            raise Failure("POST /auth/tokens: no X-Subject-Token header")
        return tok

    def create(self, collection, singular, body, **lookup):
        """POST a new entity; if it already exists (409), return the existing one."""
        result = self.request("POST", "/" + collection, {singular: body},
                              expect=(201, 409))
        if singular in result:
            return result[singular]
        query = urllib.parse.urlencode(lookup)
        found = self.request("GET", "/%s?%s" % (collection, query))[collection]
        if len(found) != 1:
            raise Failure("%s %r: conflict on create, but lookup found %d"
                          % (singular, lookup, len(found)))
        found[0]["_existed"] = True
        return found[0]


def q(value):
    return urllib.parse.quote(value, safe="")


def parallel(jobs):
    """Run the callables in jobs (a dict name -> callable) side by side."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        futures = {name: pool.submit(fn) for name, fn in jobs.items()}
        return {name: f.result() for name, f in futures.items()}


def password():
    # Letters and digits only: safe on any command line, in JSON and in PAM prompts.
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24))


# key, env prefix, name, domain ("partners" = the second domain), enabled,
# [(project, role)], [system roles], [groups]
USERS = [
    ("kaasd", "KAASD", "kaasd", "default", True, [], ["reader"], []),
    ("alice", "ALICE", "alice", "default", True,
     [("demo", "member"), ("demo", "developer"), ("demo", "k8s-admins-alpha")], [], []),
    ("bob", "BOB", "bob", "default", True, [("demo", "member")], [], []),
    ("carol", "CAROL", "carol", "default", True, [("other", "member")], [], []),
    ("carol@partners", "CAROL_PARTNERS", "carol", "partners", True,
     [("other", "developer"), ("other", "k8s-admins-beta")], [], []),
    ("dave", "DAVE", "dave", "default", False, [("demo", "member")], [], []),
    ("erin", "ERIN", "erin", "default", True, [], [], ["devs"]),
    ("system:evil", "SYSTEM_EVIL", "system:evil", "default", True,
     [("demo", "member")], [], []),
    ("zoë", "ZOE", "zoë", "default", True, [("demo", "member")], [], []),
    ("frank", "FRANK", "frank", "default", True, [], [], []),
]
NEW_ROLES = ("developer", "k8s-admins-alpha", "k8s-admins-beta")
BOOTSTRAP_ROLES = ("admin", "member", "reader")


def main(argv):
    if len(argv) != 2:
        print("usage: %s DIR" % argv[0], file=sys.stderr)
        return 1
    top = os.path.abspath(argv[1])
    t0 = time.monotonic()
    env_in = read_env(os.path.join(top, "env"))
    for key in ("KEYSTONE_AUTH_URL", "KEYSTONE_ADMIN_PASSWORD"):
        if not env_in.get(key):
            raise Failure("%s/env has no %s" % (top, key))
    ks = Keystone(env_in["KEYSTONE_AUTH_URL"])
    admin_user = env_in.get("KEYSTONE_ADMIN_USER", "admin")
    admin_password = env_in["KEYSTONE_ADMIN_PASSWORD"]
    admin_project = env_in.get("KEYSTONE_ADMIN_PROJECT", "admin")
    # System-scoped admin token: allowed everything under both the old and the
    # new (scope-aware) default policies.
    token_body = {}
    ks.token = ks.get_token(user_name=admin_user, password=admin_password,
                            scope={"system": {"all": True}}, body_out=token_body)
    admin_id = token_body["token"]["user"]["id"]

    out = {"env": {}, "domains": {}, "projects": {}, "roles": {}, "groups": {},
           "users": {}}
    env = out["env"]
    env["KEYSTONE_URL"] = env_in.get("KEYSTONE_URL", "")
    env["KEYSTONE_AUTH_URL"] = env_in["KEYSTONE_AUTH_URL"]

    # Step 1: everything that depends on nothing but the token.
    jobs = {
        "domain:partners": lambda: ks.create(
            "domains", "domain",
            {"name": "partners", "description": "second domain (kaas tests)"},
            name="partners"),
        "group:devs": lambda: ks.create(
            "groups", "group", {"name": "devs", "domain_id": "default"},
            name="devs", domain_id="default"),
        "roles": lambda: ks.request("GET", "/roles")["roles"],
        "project:admin": lambda: ks.request(
            "GET", "/projects?name=%s&domain_id=default" % q(admin_project))["projects"],
    }
    for name in ("demo", "other"):
        jobs["project:" + name] = (lambda n: lambda: ks.create(
            "projects", "project",
            {"name": n, "domain_id": "default", "description": "kaas test project"},
            name=n, domain_id="default"))(name)
    for name in NEW_ROLES:
        jobs["role:" + name] = (lambda n: lambda: ks.create(
            "roles", "role", {"name": n}, name=n))(name)
    r = parallel(jobs)

    domain = {"default": "default", "partners": r["domain:partners"]["id"]}
    out["domains"] = {"default": {"id": "default", "name": "Default"},
                      "partners": {"id": domain["partners"], "name": "partners"}}
    if len(r["project:admin"]) != 1:
        raise Failure("bootstrap project %r not found" % admin_project)
    proj = {"admin": r["project:admin"][0]["id"],
            "demo": r["project:demo"]["id"], "other": r["project:other"]["id"]}
    role = {x["name"]: x["id"] for x in r["roles"] if x["name"] in BOOTSTRAP_ROLES}
    for name in BOOTSTRAP_ROLES:
        if name not in role:
            raise Failure("role %r from keystone-manage bootstrap not found" % name)
    for name in NEW_ROLES:
        role[name] = r["role:" + name]["id"]
    group = {"devs": r["group:devs"]["id"]}

    # Step 2: users (password set at creation) and the group's role.
    passwords = {u[0]: password() for u in USERS}
    jobs = {"grant:devs": lambda: ks.request(
        "PUT", "/projects/%s/groups/%s/roles/%s"
        % (proj["demo"], group["devs"], role["developer"]), expect=(204,))}
    for key, var, name, dom, enabled, _, _, _ in USERS:
        jobs["user:" + key] = (lambda k, n, d, e: lambda: ks.create(
            "users", "user",
            {"name": n, "domain_id": domain[d], "password": passwords[k], "enabled": e},
            name=n, domain_id=domain[d]))(key, name, dom, enabled)
    r = parallel(jobs)
    user_id = {u[0]: r["user:" + u[0]]["id"] for u in USERS}
    for key, var, name, dom, enabled, _, _, _ in USERS:
        if r["user:" + key].get("_existed"):
            # Left from an earlier run (409): bring it to the wanted state.
            ks.request("PATCH", "/users/" + user_id[key],
                       {"user": {"password": passwords[key], "enabled": enabled}})

    # Step 3: role assignments and group membership.
    jobs = {}
    for key, var, name, dom, enabled, proj_roles, sys_roles, groups in USERS:
        uid = user_id[key]
        for p, rn in proj_roles:
            jobs["grant:%s:%s:%s" % (key, p, rn)] = (lambda path: lambda: ks.request(
                "PUT", path, expect=(204,)))(
                "/projects/%s/users/%s/roles/%s" % (proj[p], uid, role[rn]))
        for rn in sys_roles:
            jobs["grant:%s:system:%s" % (key, rn)] = (lambda path: lambda: ks.request(
                "PUT", path, expect=(204,)))(
                "/system/users/%s/roles/%s" % (uid, role[rn]))
        for g in groups:
            jobs["member:%s:%s" % (key, g)] = (lambda path: lambda: ks.request(
                "PUT", path, expect=(204,)))(
                "/groups/%s/users/%s" % (group[g], uid))
    parallel(jobs)

    # Results
    for name, pid in proj.items():
        out["projects"][name] = {"id": pid, "name": name, "domain_id": "default"}
        env["PROJECT_%s_ID" % name.upper()] = pid
        env["PROJECT_%s_NAME" % name.upper()] = name
    env["DOMAIN_DEFAULT_ID"] = "default"
    env["DOMAIN_PARTNERS_ID"] = domain["partners"]
    for name in BOOTSTRAP_ROLES + NEW_ROLES:
        out["roles"][name] = {"id": role[name], "name": name}
        var = "ROLE_" + name.upper().replace("-", "_")
        env[var + "_ID"] = role[name]
        env[var + "_NAME"] = name
    env["CLUSTER_ALPHA_ADMIN_ROLE_ID"] = role["k8s-admins-alpha"]
    env["CLUSTER_BETA_ADMIN_ROLE_ID"] = role["k8s-admins-beta"]
    out["groups"]["devs"] = {"id": group["devs"], "name": "devs", "domain_id": "default",
                             "project_roles": [["demo", "developer"]]}
    env["GROUP_DEVS_ID"] = group["devs"]
    env["GROUP_DEVS_NAME"] = "devs"
    out["users"]["admin"] = {"id": admin_id, "name": admin_user,
                             "password": admin_password, "domain_id": "default",
                             "enabled": True}
    for key, var, name, dom, enabled, proj_roles, sys_roles, groups in USERS:
        out["users"][key] = {"id": user_id[key], "name": name, "password": passwords[key],
                             "domain_id": domain[dom], "enabled": enabled,
                             "project_roles": [[p, rn] for p, rn in proj_roles],
                             "system_roles": sys_roles, "groups": groups}
    for key, var in [("admin", "ADMIN")] + [(u[0], u[1]) for u in USERS]:
        u = out["users"][key]
        env[var + "_ID"] = u["id"]
        env[var + "_NAME"] = u["name"]
        env[var + "_PASSWORD"] = u["password"]
        env[var + "_DOMAIN_ID"] = u["domain_id"]
    env["KAASD_SERVICE_USER"] = "kaasd"
    env["KAASD_SERVICE_USER_ID"] = env["KAASD_ID"]
    env["KAASD_SERVICE_PASSWORD"] = env["KAASD_PASSWORD"]
    env["KAASD_SERVICE_DOMAIN_ID"] = "default"

    verify_service_account(ks, env)

    write_outputs(top, out)
    print("fixtures: %d REST calls (%d retried) in %.1f s; source %s"
          % (ks.calls, ks.retries, time.monotonic() - t0,
             os.path.join(top, "fixtures.env")))
    return 0


def verify_service_account(ks, env):
    """The kaasd account must be able to do what kaasd does (DESIGN.md #7)."""
    try:
        tok = ks.get_token(user_id=env["KAASD_ID"], password=env["KAASD_PASSWORD"],
                           scope={"system": {"all": True}})
    except Failure as e:
        raise Failure("service user kaasd cannot get a system-scoped token: %s" % e)
    alice = env["ALICE_ID"]
    get = lambda path: lambda: ks.request("GET", path, token=tok)
    try:
        r = parallel({
            "user": get("/users/" + alice),
            "by_name": get("/users?name=alice&domain_id=default"),
            "roles": get("/role_assignments?user.id=%s&effective&include_names" % q(alice)),
        })
        if r["user"]["user"]["name"] != "alice":
            raise Failure("GET /users/{alice}: unexpected name %r" % r["user"]["user"]["name"])
        found = [x["id"] for x in r["by_name"]["users"]]
        if found != [alice]:
            raise Failure("GET /users?name=alice&domain_id=default: got %r" % found)
        names = {a["role"]["name"] for a in r["roles"]["role_assignments"]}
        if "k8s-admins-alpha" not in names:
            raise Failure("alice's effective roles lack k8s-admins-alpha: %r" % sorted(names))
    except Failure as e:
        raise Failure("service user kaasd (system reader) cannot read identities: %s" % e)


def write_outputs(top, out):
    env_path = os.path.join(top, "fixtures.env")
    json_path = os.path.join(top, "fixtures.json")
    lines = ["# Written by tests/keystone/fixtures.py; see the variable list at the top",
             "# of that file. Values are shell-quoted; names are UTF-8."]
    for k, v in out["env"].items():
        lines.append("export %s=%s" % (k, shlex.quote(str(v))))
    for path, text in ((env_path, "\n".join(lines) + "\n"),
                       (json_path, json.dumps(out, indent=2, ensure_ascii=False) + "\n")):
        tmp = path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Failure as e:
        print("fixtures: error: %s" % e, file=sys.stderr)
        sys.exit(1)
