/* Unit tests of webhook/tokenreview.c: TokenReview bodies exactly as
 * kube-apiserver's webhook token authenticator sends them (v1 and
 * v1beta1), missing and mistyped fields, malformed JSON, sizes at and past
 * the limits, audiences, the identity-to-user mapping and the replies. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tokenreview.h"

#define TOKEN "kaas_0123456789ABCDEFGHIJabcdefghij0123456789XXXXXX"

/* What kube-apiserver (k8s.io/apiserver webhook authenticator, encoded by
 * the client-go REST client) puts on the wire, byte for byte. */
static const char kube_v1[] =
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"metadata\":{\"creationTimestamp\":null},"
        "\"spec\":{\"token\":\"" TOKEN "\",\"audiences\":[\"https://kubernetes.default.svc.cluster.local\"]},"
        "\"status\":{\"user\":{}}}";
static const char kube_v1beta1[] =
        "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1beta1\",\"metadata\":{\"creationTimestamp\":null},"
        "\"spec\":{\"token\":\"" TOKEN "\"},\"status\":{\"user\":{}}}";

static int parse(const char *body, struct tokenreview_request *req, char *err, size_t err_size) {
        return tokenreview_parse(body, strlen(body), req, err, err_size);
}

static void test_kube_v1(void **state) {
        struct tokenreview_request req;
        char err[200];
        assert_int_equal(parse(kube_v1, &req, err, sizeof(err)), 0);
        assert_int_equal(req.version, TOKENREVIEW_V1);
        assert_string_equal(req.token, TOKEN);
        assert_int_equal(req.token_len, strlen(TOKEN));
        assert_int_equal(req.n_audiences, 1);
        assert_string_equal(req.audiences[0], "https://kubernetes.default.svc.cluster.local");
        tokenreview_request_clear(&req);
        assert_null(req.root);
        assert_null(req.token);
}

static void test_kube_v1beta1(void **state) {
        struct tokenreview_request req;
        char err[200];
        assert_int_equal(parse(kube_v1beta1, &req, err, sizeof(err)), 0);
        assert_int_equal(req.version, TOKENREVIEW_V1BETA1);
        assert_string_equal(req.token, TOKEN);
        assert_int_equal(req.n_audiences, 0);
        tokenreview_request_clear(&req);
}

static void test_minimal_and_extra_members(void **state) {
        struct tokenreview_request req;
        char err[200];
        /* no metadata or status; unknown members and audiences: null are ignored */
        assert_int_equal(parse("{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"TokenReview\","
                               "\"spec\":{\"token\":\"t\",\"audiences\":null,\"future\":1},\"x\":[1,2]}",
                               &req, err, sizeof(err)),
                         0);
        assert_string_equal(req.token, "t");
        assert_int_equal(req.n_audiences, 0);
        tokenreview_request_clear(&req);
        /* a zeroed request may be cleared */
        tokenreview_request_clear(&req);
        tokenreview_request_clear(NULL);
}

struct bad_case {
        const char *body;
        const char *message;  /* a part of the expected message */
};

static void check_bad(const struct bad_case *cases, size_t n) {
        for (size_t i = 0; i < n; i++) {
                struct tokenreview_request req = { 0 };
                char err[200] = "";
                int r = parse(cases[i].body, &req, err, sizeof(err));
                if (r != -EINVAL || !strstr(err, cases[i].message))
                        fail_msg("case %zu (%s): got %d \"%s\", wanted -EINVAL \"%s\"", i, cases[i].body, r, err,
                                 cases[i].message);
                assert_null(req.root);
        }
}

#define V1 "\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v1\""

static void test_missing_fields(void **state) {
        static const struct bad_case cases[] = {
                { "{}", "kind" },
                { "{\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}", "kind must be" },
                { "{\"kind\":\"TokenReviewList\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}",
                  "kind must be" },
                { "{\"kind\":\"tokenreview\",\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}",
                  "kind must be" },
                { "{\"kind\":\"TokenReview\",\"spec\":{\"token\":\"x\"}}", "apiVersion must be" },
                { "{\"kind\":\"TokenReview\",\"apiVersion\":\"authentication.k8s.io/v2\",\"spec\":{\"token\":\"x\"}}",
                  "apiVersion must be" },
                { "{\"kind\":\"TokenReview\",\"apiVersion\":\"v1\",\"spec\":{\"token\":\"x\"}}", "apiVersion must be" },
                { "{\"kind\":\"TokenReview\",\"apiVersion\":\"authorization.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}",
                  "apiVersion must be" },
                { "{" V1 "}", "spec.token is missing" },
                { "{" V1 ",\"spec\":null}", "spec.token is missing" },
                { "{" V1 ",\"spec\":{}}", "spec.token is missing" },
                { "{" V1 ",\"spec\":{\"token\":null}}", "spec.token is missing" },
                { "{" V1 ",\"spec\":{\"token\":\"\"}}", "spec.token is empty" },
                { "{" V1 ",\"status\":{\"token\":\"x\"}}", "spec.token is missing" },
        };
        check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_wrong_types(void **state) {
        static const struct bad_case cases[] = {
                { "{\"kind\":1,\"apiVersion\":\"authentication.k8s.io/v1\",\"spec\":{\"token\":\"x\"}}", "kind must be" },
                { "{\"kind\":\"TokenReview\",\"apiVersion\":true,\"spec\":{\"token\":\"x\"}}", "apiVersion must be" },
                { "{\"kind\":\"TokenReview\",\"apiVersion\":[\"authentication.k8s.io/v1\"],\"spec\":{\"token\":\"x\"}}",
                  "apiVersion must be" },
                { "{" V1 ",\"spec\":[]}", "spec must be an object" },
                { "{" V1 ",\"spec\":\"token\"}", "spec must be an object" },
                { "{" V1 ",\"spec\":{\"token\":42}}", "spec.token must be a string" },
                { "{" V1 ",\"spec\":{\"token\":{}}}", "spec.token must be a string" },
                { "{" V1 ",\"spec\":{\"token\":[\"x\"]}}", "spec.token must be a string" },
                { "{" V1 ",\"spec\":{\"token\":true}}", "spec.token must be a string" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",\"audiences\":\"a\"}}", "spec.audiences must be an array" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",\"audiences\":{\"a\":1}}}", "spec.audiences must be an array" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",\"audiences\":[\"a\",1]}}", "spec.audiences[1] must be a string" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",\"audiences\":[null]}}", "spec.audiences[0] must be a string" },
        };
        check_bad(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_malformed_json(void **state) {
        static const struct bad_case cases[] = {
                { "", "malformed JSON" },
                { "{", "malformed JSON" },
                { "[]", "not a JSON object" },
                { "[{\"kind\":\"TokenReview\"}]", "not a JSON object" },
                { "null", "malformed JSON" },
                { "\"TokenReview\"", "malformed JSON" },
                { "{" V1 ",\"spec\":{\"token\":\"x\"}} {}", "text after the JSON value" },
                { "{" V1 ",\"spec\":{\"token\":\"x\"}}x", "malformed JSON" },
                { "{" V1 "," V1 ",\"spec\":{\"token\":\"x\"}}", "duplicate object key" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",\"token\":\"y\"}}", "duplicate object key" },
                { "{" V1 ",\"spec\":{\"token\":\"x\\u0000y\"}}", "NUL character" },
                { "{" V1 ",\"spec\":{\"token\":\"\xff\xfe\"}}", "invalid UTF-8" },
                { "{" V1 ",\"spec\":{\"token\":'x'}}", "malformed JSON" },
                { "{" V1 ",\"spec\":{\"token\":\"x\",}}", "malformed JSON" },
        };
        check_bad(cases, sizeof(cases) / sizeof(cases[0]));
        /* a body with a NUL byte inside (not an escape) */
        struct tokenreview_request req;
        char err[200];
        static const char with_nul[] = "{" V1 ",\"spec\":{\"token\":\"a\0b\"}}";
        assert_int_equal(tokenreview_parse(with_nul, sizeof(with_nul) - 1, &req, err, sizeof(err)), -EINVAL);
        /* NULL body of length 0 */
        assert_int_equal(tokenreview_parse(NULL, 0, &req, err, sizeof(err)), -EINVAL);
}

/* A body of many tiny values is refused before jansson builds it: at the
 * limit it is parsed (and judged on its fields), one value past it is
 * refused as such; commas and brackets inside strings do not count. */
static void test_value_count(void **state) {
        struct tokenreview_request req;
        char err[200];
        size_t cap = 64 + 3 * TOKENREVIEW_MAX_VALUES + 64;
        char *body = malloc(cap);
        assert_non_null(body);
        /* the review's own values (the object, kind, apiVersion, spec, token
         * and x) are 6; the array's n elements bring the rest */
        for (int extra = 0; extra <= 1; extra++) {
                int n = TOKENREVIEW_MAX_VALUES - 6 + extra;
                size_t len = (size_t)snprintf(body, cap, "{" V1 ",\"spec\":{\"token\":\"" TOKEN "\"},\"x\":[");
                for (int i = 0; i < n; i++)
                        len += (size_t)snprintf(body + len, cap - len, "%s0", i ? "," : "");
                len += (size_t)snprintf(body + len, cap - len, "]}");
                assert_true(len < cap);
                int r = tokenreview_parse(body, len, &req, err, sizeof(err));
                if (extra) {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(err, "more than 1024 JSON values"));
                } else {
                        assert_int_equal(r, 0);
                        assert_string_equal(req.token, TOKEN);
                        tokenreview_request_clear(&req);
                }
        }
        free(body);
        /* ',', '[' and '{' in a string are text, not values */
        char many[4096 + 64];
        size_t len = (size_t)snprintf(many, sizeof(many), "{" V1 ",\"spec\":{\"token\":\"" TOKEN "\"},\"x\":\"");
        while (len < sizeof(many) - 8) {
                many[len] = "[{,"[len % 3];
                len++;
        }
        len += (size_t)snprintf(many + len, sizeof(many) - len, "\"}");
        assert_int_equal(tokenreview_parse(many, len, &req, err, sizeof(err)), 0);
        tokenreview_request_clear(&req);
}

/* Whatever is wrong, the message never quotes the body: a token in it
 * would reach the log and the client. */
static void test_errors_never_quote_the_token(void **state) {
        static const char *const bodies[] = {
                "{" V1 ",\"spec\":{\"token\":\"kaas_SECRETSECRET",                    /* unterminated */
                "{" V1 ",\"spec\":{\"token\":\"kaas_SECRETSECRET\" \"x\"}}",           /* missing colon */
                "{" V1 ",\"spec\":{\"token\":kaas_SECRETSECRET}}",                     /* bare word */
                "{" V1 ",\"spec\":{\"token\":\"kaas_SECRETSECRET\\q\"}}",              /* bad escape */
                "{" V1 ",\"spec\":{\"token\":\"kaas_SECRETSECRET\",\"token\":\"kaas_SECRETSECRET\"}}",
                "{\"kind\":\"kaas_SECRETSECRET\",\"spec\":{\"token\":\"kaas_SECRETSECRET\"}}",
                "{\"kind\":\"TokenReview\",\"apiVersion\":\"kaas_SECRETSECRET\"}",
                "{" V1 ",\"spec\":{\"token\":\"kaas_SECRETSECRET\",\"audiences\":[\"kaas_SECRETSECRET\",7]}}",
        };
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                struct tokenreview_request req;
                char err[300] = "";
                assert_int_equal(parse(bodies[i], &req, err, sizeof(err)), -EINVAL);
                if (strstr(err, "SECRET"))
                        fail_msg("case %zu: the message quotes the body: %s", i, err);
        }
}

static char *body_with(const char *token, const char *audiences_json) {
        size_t n = strlen(token) + (audiences_json ? strlen(audiences_json) : 0) + 200;
        char *b = malloc(n);
        assert_non_null(b);
        snprintf(b, n, "{" V1 ",\"spec\":{\"token\":\"%s\"%s%s}}", token, audiences_json ? ",\"audiences\":" : "",
                 audiences_json ? audiences_json : "");
        return b;
}

static void test_huge_strings(void **state) {
        struct tokenreview_request req;
        char err[200];
        /* a token far longer than any real one still parses: the format
         * check, not the parser, turns it away */
        char *tok = malloc(60001);
        memset(tok, 'a', 60000);
        tok[60000] = 0;
        char *b = body_with(tok, NULL);
        assert_int_equal(parse(b, &req, err, sizeof(err)), 0);
        assert_int_equal(req.token_len, 60000);
        tokenreview_request_clear(&req);
        free(b);
        free(tok);

        /* audiences: TOKENREVIEW_MAX_AUDIENCES entries of
         * TOKENREVIEW_MAX_AUDIENCE_LENGTH bytes are fine, one more is not */
        char *aud = malloc(TOKENREVIEW_MAX_AUDIENCE_LENGTH + 2);
        memset(aud, 'x', TOKENREVIEW_MAX_AUDIENCE_LENGTH + 1);
        aud[TOKENREVIEW_MAX_AUDIENCE_LENGTH] = 0;
        size_t n = (TOKENREVIEW_MAX_AUDIENCES + 1) * (TOKENREVIEW_MAX_AUDIENCE_LENGTH + 4) + 10;
        char *list = malloc(n);
        for (int count = TOKENREVIEW_MAX_AUDIENCES; count <= TOKENREVIEW_MAX_AUDIENCES + 1; count++) {
                size_t len = 0;
                list[len++] = '[';
                for (int i = 0; i < count; i++)
                        len += (size_t)snprintf(list + len, n - len, "%s\"%s\"", i ? "," : "", aud);
                list[len++] = ']';
                list[len] = 0;
                b = body_with("t", list);
                int r = parse(b, &req, err, sizeof(err));
                if (count == TOKENREVIEW_MAX_AUDIENCES) {
                        assert_int_equal(r, 0);
                        assert_int_equal(req.n_audiences, TOKENREVIEW_MAX_AUDIENCES);
                        tokenreview_request_clear(&req);
                } else {
                        assert_int_equal(r, -EINVAL);
                        assert_non_null(strstr(err, "more than 64"));
                }
                free(b);
        }
        aud[TOKENREVIEW_MAX_AUDIENCE_LENGTH] = 'x';
        aud[TOKENREVIEW_MAX_AUDIENCE_LENGTH + 1] = 0;
        snprintf(list, n, "[\"%s\"]", aud);
        b = body_with("t", list);
        assert_int_equal(parse(b, &req, err, sizeof(err)), -EINVAL);
        assert_non_null(strstr(err, "longer than"));
        free(b);
        free(list);
        free(aud);

        /* deep nesting in an ignored member */
        char deep[5000];
        size_t len = (size_t)snprintf(deep, sizeof(deep), "{" V1 ",\"spec\":{\"token\":\"t\"},\"x\":");
        for (int i = 0; i < 2000; i++)
                deep[len++] = '[';
        for (int i = 0; i < 2000; i++)
                deep[len++] = ']';
        deep[len++] = '}';
        deep[len] = 0;
        int r = parse(deep, &req, err, sizeof(err));
        assert_true(r == 0 || r == -EINVAL);
        if (r == 0)
                tokenreview_request_clear(&req);
}

static void test_audiences(void **state) {
        struct tokenreview_request req;
        char err[200];
        const char *out[TOKENREVIEW_MAX_AUDIENCES];
        size_t n = 99;
        const char *accepted[] = { "https://kubernetes.default.svc", "kaas" };

        char *b = body_with("t", "[\"vault\",\"kaas\",\"https://kubernetes.default.svc\",\"kaas\"]");
        assert_int_equal(parse(b, &req, err, sizeof(err)), 0);
        /* nothing configured: not audience-bound, status.audiences left out */
        assert_true(tokenreview_match_audiences(&req, NULL, 0, out, &n));
        assert_int_equal(n, 0);
        /* the intersection, in request order, without repeats */
        assert_true(tokenreview_match_audiences(&req, accepted, 2, out, &n));
        assert_int_equal(n, 2);
        assert_string_equal(out[0], "kaas");
        assert_string_equal(out[1], "https://kubernetes.default.svc");
        /* no accepted audience requested */
        const char *other[] = { "https://other.example" };
        assert_false(tokenreview_match_audiences(&req, other, 1, out, &n));
        assert_int_equal(n, 0);
        tokenreview_request_clear(&req);
        free(b);

        /* the request names none: the API server's own audience is meant */
        b = body_with("t", "[]");
        assert_int_equal(parse(b, &req, err, sizeof(err)), 0);
        assert_true(tokenreview_match_audiences(&req, accepted, 2, out, &n));
        assert_int_equal(n, 0);
        tokenreview_request_clear(&req);
        free(b);

        /* exact comparison: no prefix, case or trailing-slash matching */
        b = body_with("t", "[\"KAAS\",\"kaa\",\"kaas/\",\"https://kubernetes.default.svc/\"]");
        assert_int_equal(parse(b, &req, err, sizeof(err)), 0);
        assert_false(tokenreview_match_audiences(&req, accepted, 2, out, &n));
        tokenreview_request_clear(&req);
        free(b);
}

static json_t *alice_identity(void) {
        json_t *id = json_loads(
                "{\"username\":\"alice\",\"uid\":\"2297580\",\"groups\":[\"r-dev\",\"r-k8s\",\"r-member\",\"r-dev\"],"
                "\"extra\":{\"alpha.kubernetes.io/identity/roles\":[\"developer\",\"k8s-admins-alpha\",\"member\"],"
                "\"alpha.kubernetes.io/identity/project/id\":[\"p1\"],"
                "\"alpha.kubernetes.io/identity/project/name\":[\"demo\"],"
                "\"alpha.kubernetes.io/identity/user/domain/id\":[\"default\"],"
                "\"alpha.kubernetes.io/identity/user/domain/name\":[\"Default\"]}}",
                0, NULL);
        assert_non_null(id);
        return id;
}

static void assert_groups(const json_t *user, const char *const *want, size_t n) {
        const json_t *g = json_object_get(user, "groups");
        assert_int_equal(json_array_size(g), n);
        for (size_t i = 0; i < n; i++)
                assert_string_equal(json_string_value(json_array_get(g, i)), want[i]);
}

static void test_user_from_identity(void **state) {
        json_t *id = alice_identity();
        json_t *user = NULL;
        char err[200];
        struct tokenreview_user_options plain = { 0 };
        assert_int_equal(tokenreview_user_from_identity(id, &plain, &user, err, sizeof(err)), 0);
        assert_string_equal(json_string_value(json_object_get(user, "username")), "alice");
        assert_string_equal(json_string_value(json_object_get(user, "uid")), "2297580");
        static const char *const ids[] = { "r-dev", "r-k8s", "r-member" };
        assert_groups(user, ids, 3);
        assert_true(json_equal(json_object_get(user, "extra"), json_object_get(id, "extra")));
        json_decref(user);

        struct tokenreview_user_options names = { .group_prefix = "keystone:", .role_names = true };
        assert_int_equal(tokenreview_user_from_identity(id, &names, &user, err, sizeof(err)), 0);
        static const char *const both[] = { "keystone:r-dev", "keystone:r-k8s", "keystone:r-member",
                                            "keystone:developer", "keystone:k8s-admins-alpha", "keystone:member" };
        assert_groups(user, both, 6);
        json_decref(user);

        /* no extra, no groups: a user with no roles */
        json_t *bare = json_pack("{s:s, s:s}", "username", "frank", "uid", "f1");
        assert_int_equal(tokenreview_user_from_identity(bare, &names, &user, err, sizeof(err)), 0);
        assert_int_equal(json_array_size(json_object_get(user, "groups")), 0);
        assert_null(json_object_get(user, "extra"));
        json_decref(user);
        json_decref(bare);
        json_decref(id);
}

static void test_user_refused_and_malformed(void **state) {
        struct tokenreview_user_options o = { 0 };
        json_t *user = NULL;
        char err[200];
        static const struct {
                const char *identity;
                int expected;
        } cases[] = {
                { "{\"username\":\"system:evil\",\"uid\":\"e\",\"groups\":[]}", -EPERM },
                { "{\"username\":\"system:masters\",\"uid\":\"e\"}", -EPERM },
                { "{\"username\":\"\",\"uid\":\"e\"}", -EPERM },
                { "[]", -EBADMSG },
                { "{\"uid\":\"e\"}", -EBADMSG },
                { "{\"username\":\"a\"}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"\"}", -EBADMSG },
                { "{\"username\":1,\"uid\":\"e\"}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"e\",\"groups\":\"r\"}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"e\",\"groups\":[1]}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"e\",\"extra\":[]}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"e\",\"extra\":{\"k\":\"v\"}}", -EBADMSG },
                { "{\"username\":\"a\",\"uid\":\"e\",\"extra\":{\"k\":[1]}}", -EBADMSG },
                { "{\"username\":\"a\\u0000b\",\"uid\":\"e\"}", -EBADMSG },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *id = json_loads(cases[i].identity, JSON_ALLOW_NUL, NULL);
                assert_non_null(id);
                int r = tokenreview_user_from_identity(id, &o, &user, err, sizeof(err));
                if (r != cases[i].expected)
                        fail_msg("case %zu (%s): got %d (%s), wanted %d", i, cases[i].identity, r, err,
                                 cases[i].expected);
                json_decref(id);
        }
        /* "system" without the colon is an ordinary name */
        json_t *id = json_pack("{s:s, s:s}", "username", "system", "uid", "s");
        assert_int_equal(tokenreview_user_from_identity(id, &o, &user, err, sizeof(err)), 0);
        json_decref(user);
        json_decref(id);
}

/* Kubernetes' reserved groups never come from Keystone: a role named
 * "system:masters" (as an ID or, with role_names, a name) is dropped, and
 * so is any group that the prefix turns into a "system:" name. */
static void test_reserved_groups_dropped(void **state) {
        json_t *id = json_loads(
                "{\"username\":\"mallory\",\"uid\":\"m1\",\"groups\":[\"system:masters\",\"r-dev\",\"tem:nodes\"],"
                "\"extra\":{\"alpha.kubernetes.io/identity/roles\":[\"system:masters\",\"developer\",\"system:nodes\"]}}",
                0, NULL);
        assert_non_null(id);
        json_t *user = NULL;
        char err[200];
        struct tokenreview_user_options names = { .role_names = true };
        assert_int_equal(tokenreview_user_from_identity(id, &names, &user, err, sizeof(err)), 0);
        static const char *const plain[] = { "r-dev", "tem:nodes", "developer" };
        assert_groups(user, plain, 3);
        json_decref(user);

        /* a prefix keeps the reserved names out of "system:" but they are still dropped */
        struct tokenreview_user_options keystone = { .group_prefix = "keystone:", .role_names = true };
        assert_int_equal(tokenreview_user_from_identity(id, &keystone, &user, err, sizeof(err)), 0);
        static const char *const prefixed[] = { "keystone:r-dev", "keystone:tem:nodes", "keystone:developer" };
        assert_groups(user, prefixed, 3);
        json_decref(user);

        /* "sys" + "tem:nodes" is "system:nodes": dropped after the prefix */
        struct tokenreview_user_options sys = { .group_prefix = "sys", .role_names = true };
        assert_int_equal(tokenreview_user_from_identity(id, &sys, &user, err, sizeof(err)), 0);
        static const char *const joined[] = { "sysr-dev", "sysdeveloper" };
        assert_groups(user, joined, 2);
        json_decref(user);
        json_decref(id);
}

static json_t *render(enum tokenreview_version v, const struct tokenreview_status *st) {
        size_t len = 0;
        char *s = tokenreview_render(v, st, &len);
        assert_non_null(s);
        assert_int_equal(len, strlen(s));
        json_t *j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(j);
        free(s);
        return j;
}

static void test_render(void **state) {
        json_t *id = alice_identity(), *user = NULL;
        char err[200];
        struct tokenreview_user_options o = { 0 };
        assert_int_equal(tokenreview_user_from_identity(id, &o, &user, err, sizeof(err)), 0);
        const char *auds[] = { "https://kubernetes.default.svc" };

        struct tokenreview_status ok = { .authenticated = true, .user = user, .audiences = auds, .n_audiences = 1 };
        json_t *j = render(TOKENREVIEW_V1, &ok);
        assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "authentication.k8s.io/v1");
        assert_string_equal(json_string_value(json_object_get(j, "kind")), "TokenReview");
        /* a spec, as typed clients require, with nothing of the request in it */
        json_t *spec = json_object_get(j, "spec");
        assert_true(json_is_object(spec));
        assert_int_equal(json_object_size(spec), 0);
        json_t *status = json_object_get(j, "status");
        assert_true(json_is_true(json_object_get(status, "authenticated")));
        assert_true(json_equal(json_object_get(status, "user"), user));
        assert_string_equal(json_string_value(json_array_get(json_object_get(status, "audiences"), 0)), auds[0]);
        assert_null(json_object_get(status, "error"));
        json_decref(j);

        /* v1beta1, no audiences: none in the reply */
        ok.n_audiences = 0;
        j = render(TOKENREVIEW_V1BETA1, &ok);
        assert_string_equal(json_string_value(json_object_get(j, "apiVersion")), "authentication.k8s.io/v1beta1");
        assert_null(json_object_get(json_object_get(j, "status"), "audiences"));
        json_decref(j);

        /* a bad token: authenticated false and nothing else, so kube caches it */
        struct tokenreview_status no = { .authenticated = false, .audiences = auds, .n_audiences = 1 };
        j = render(TOKENREVIEW_V1BETA1, &no);
        assert_true(json_is_object(json_object_get(j, "spec")) && json_object_size(json_object_get(j, "spec")) == 0);
        status = json_object_get(j, "status");
        assert_true(json_is_false(json_object_get(status, "authenticated")));
        assert_int_equal(json_object_size(status), 1);
        json_decref(j);

        /* unavailable: error set */
        struct tokenreview_status down = { .authenticated = false, .error = "identity service unavailable" };
        j = render(TOKENREVIEW_V1, &down);
        status = json_object_get(j, "status");
        assert_true(json_is_false(json_object_get(status, "authenticated")));
        assert_string_equal(json_string_value(json_object_get(status, "error")), "identity service unavailable");
        assert_null(json_object_get(status, "user"));
        json_decref(j);

        /* authenticated without a user is not authenticated */
        struct tokenreview_status odd = { .authenticated = true };
        j = render(TOKENREVIEW_V1, &odd);
        assert_true(json_is_false(json_object_get(json_object_get(j, "status"), "authenticated")));
        json_decref(j);

        json_decref(user);
        json_decref(id);
}

static void test_render_failure(void **state) {
        size_t len;
        char *s = tokenreview_render_failure(400, "BadRequest", "spec.token is missing", &len);
        assert_non_null(s);
        json_t *j = json_loads(s, 0, NULL);
        assert_non_null(j);
        assert_string_equal(json_string_value(json_object_get(j, "kind")), "Status");
        assert_string_equal(json_string_value(json_object_get(j, "status")), "Failure");
        assert_string_equal(json_string_value(json_object_get(j, "reason")), "BadRequest");
        assert_string_equal(json_string_value(json_object_get(j, "message")), "spec.token is missing");
        assert_int_equal(json_integer_value(json_object_get(j, "code")), 400);
        json_decref(j);
        free(s);
}

/* Every prefix of a valid body is refused cleanly (what a fuzzer would
 * find first). */
static void test_truncations(void **state) {
        size_t n = strlen(kube_v1);
        for (size_t i = 0; i < n; i++) {
                struct tokenreview_request req;
                char err[200];
                char *copy = malloc(i ? i : 1);
                memcpy(copy, kube_v1, i);
                assert_int_equal(tokenreview_parse(copy, i, &req, err, sizeof(err)), -EINVAL);
                free(copy);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_kube_v1),
                cmocka_unit_test(test_kube_v1beta1),
                cmocka_unit_test(test_minimal_and_extra_members),
                cmocka_unit_test(test_missing_fields),
                cmocka_unit_test(test_wrong_types),
                cmocka_unit_test(test_malformed_json),
                cmocka_unit_test(test_errors_never_quote_the_token),
                cmocka_unit_test(test_huge_strings),
                cmocka_unit_test(test_audiences),
                cmocka_unit_test(test_user_from_identity),
                cmocka_unit_test(test_user_refused_and_malformed),
                cmocka_unit_test(test_reserved_groups_dropped),
                cmocka_unit_test(test_value_count),
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_render_failure),
                cmocka_unit_test(test_truncations),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
