#!/usr/bin/python3
"""Keystone tokens of every origin for one user, from a real Keystone.

Usage: KEYSTONE_AUTH_URL=... ALICE_ID=... ALICE_PASSWORD=... BOB_ID=...
       BOB_PASSWORD=... PROJECT_DEMO_ID=... delegated_tokens.py

Takes the variables of tests/keystone/ (DIR/env, DIR/fixtures.env) from the
environment and prints one JSON object with tokens of alice:
  password          unscoped, from her password
  project           scoped to project demo, from her password
  app_cred          from an application credential of hers restricted to
                    the reader role on demo (created here)
  trust             bob's token through a trust from alice with
                    impersonation, restricted to reader on demo (created
                    here): Keystone names alice as its user
  app_cred_roles    the role names the app_cred token carries
Exits 1 with a message on stderr when Keystone refuses a step.
"""

import json
import os
import secrets
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "keystone"))
import fixtures  # noqa: E402  (tests/keystone/fixtures.py: env reader and REST client)


def auth(ks, identity, scope=None):
    body = {"auth": {"identity": identity}}
    if scope:
        body["auth"]["scope"] = scope
    hdrs, out = {}, {}
    out.update(ks.request("POST", "/auth/tokens", body, token="", expect=(201,), headers_out=hdrs))
    tok = {k.lower(): v for k, v in hdrs.items()}.get("x-subject-token")
    if not tok:
        raise fixtures.Failure("POST /auth/tokens: no X-Subject-Token header")
    return tok, out


def main(argv):
    env = os.environ
    ks = fixtures.Keystone(env["KEYSTONE_AUTH_URL"])
    alice, bob, demo = env["ALICE_ID"], env["BOB_ID"], env["PROJECT_DEMO_ID"]
    out = {}
    out["password"] = ks.get_token(user_id=alice, password=env["ALICE_PASSWORD"])
    out["project"] = ks.get_token(user_id=alice, password=env["ALICE_PASSWORD"],
                                  scope={"project": {"id": demo}})

    # an application credential carrying only "reader" (a unique name: the
    # shared Keystone may hold one from an earlier run)
    ac = ks.request("POST", "/users/%s/application_credentials" % alice,
                    {"application_credential": {"name": "kaas-proof-" + secrets.token_hex(6),
                                                "roles": [{"name": "reader"}]}},
                    token=out["project"], expect=(201,))["application_credential"]
    tok, body = auth(ks, {"methods": ["application_credential"],
                          "application_credential": {"id": ac["id"], "secret": ac["secret"]}})
    out["app_cred"] = tok
    out["app_cred_roles"] = sorted(r["name"] for r in body["token"].get("roles", []))

    # a trust from alice to bob, impersonating alice
    trust = ks.request("POST", "/OS-TRUST/trusts",
                       {"trust": {"trustor_user_id": alice, "trustee_user_id": bob, "project_id": demo,
                                  "impersonation": True, "roles": [{"name": "reader"}]}},
                       token=out["project"], expect=(201,))["trust"]
    tok, body = auth(ks, {"methods": ["password"],
                          "password": {"user": {"id": bob, "password": env["BOB_PASSWORD"]}}},
                     scope={"OS-TRUST:trust": {"id": trust["id"]}})
    out["trust"] = tok
    out["trust_user"] = body["token"]["user"]["id"]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except fixtures.Failure as e:
        print("delegated_tokens: %s" % e, file=sys.stderr)
        sys.exit(1)
