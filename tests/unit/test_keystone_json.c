/* Keystone reply checking (kaasd/keystone_json.c): real replies as
 * Keystone 22 sends them, then each way a reply can be wrong: missing
 * fields, wrong types, bad strings, huge values, other users' entries. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keystone_json.h"

#define ALICE "a0cba8b7ca3046da8375b62192fe10ca"

static const char token_reply[] =
        "{\"token\": {\"methods\": [\"password\"], \"user\": {\"domain\": {\"id\": \"default\", \"name\": \"Default\"},"
        " \"id\": \"" ALICE "\", \"name\": \"alice\", \"password_expires_at\": null},"
        " \"audit_ids\": [\"eV12TePgRQ--tL84kje5SA\"], \"expires_at\": \"2026-11-25T15:40:57.000000Z\","
        " \"issued_at\": \"2026-11-25T14:40:57.000000Z\"}}";

static const char system_token_reply[] =
        "{\"token\": {\"methods\": [\"password\"], \"user\": {\"domain\": {\"id\": \"default\", \"name\": \"Default\"},"
        " \"id\": \"fa47e3216f8a4312a1ca533e9c275ff2\", \"name\": \"kaasd\", \"password_expires_at\": null},"
        " \"expires_at\": \"2026-11-25T15:40:57.000000Z\", \"issued_at\": \"2026-11-25T14:40:57.000000Z\","
        " \"roles\": [{\"id\": \"e83ed07bc4304fc1a175949562057e04\", \"name\": \"reader\"}], \"system\": {\"all\": true},"
        " \"catalog\": []}}";

static const char user_reply[] =
        "{\"user\": {\"id\": \"" ALICE "\", \"name\": \"alice\", \"domain_id\": \"default\", \"enabled\": true,"
        " \"password_expires_at\": null, \"options\": {}, \"links\": {\"self\": \"http://127.0.0.1:1/v3/users/x\"}}}";

static const char users_reply[] =
        "{\"users\": [{\"id\": \"5f5275cf9582479a8499795f5757370c\", \"name\": \"Carol\", \"domain_id\": \"default\","
        " \"enabled\": true}, {\"id\": \"6f5275cf9582479a8499795f5757370c\", \"name\": \"carol\", \"domain_id\":"
        " \"default\", \"enabled\": false, \"options\": {}}], \"links\": {\"next\": null}}";

/* alice: member, k8s-admins-alpha, developer, and member again through an
 * implied role (must be listed once) */
#define ASSIGNMENT(role_id, role_name)                                                                            \
        "{\"links\": {}, \"scope\": {\"project\": {\"id\": \"1a9a529b0ec54d3e9ce981b1dabbed55\", \"name\": \"demo\"," \
        " \"domain\": {\"id\": \"default\", \"name\": \"Default\"}}}, \"user\": {\"id\": \"" ALICE "\", \"name\":"  \
        " \"alice\", \"domain\": {\"id\": \"default\", \"name\": \"Default\"}}, \"role\": {\"id\": \"" role_id     \
        "\", \"name\": \"" role_name "\"}}"
static const char roles_reply[] =
        "{\"role_assignments\": [" ASSIGNMENT("4d1cc6a16baa4df3abff908477d08559", "member") ","
        ASSIGNMENT("a2d71bea9b6742bba8b3a63c713699eb", "k8s-admins-alpha") ","
        ASSIGNMENT("d316db1bd2ec4da6bc4b27879c2e228d", "developer") ","
        ASSIGNMENT("4d1cc6a16baa4df3abff908477d08559", "member") ","
        "{\"scope\": {\"system\": {\"all\": true}}, \"user\": {\"id\": \"" ALICE "\"},"
        " \"role\": {\"id\": \"e83ed07bc4304fc1a175949562057e04\", \"name\": \"reader\"}},"
        "{\"scope\": {\"domain\": {\"id\": \"bce1304d5e324764beb80ee0003cedc5\", \"name\": \"partners\"}},"
        " \"user\": {\"id\": \"" ALICE "\"}, \"role\": {\"id\": \"e83ed07bc4304fc1a175949562057e04\", \"name\": \"reader\"}}"
        "], \"links\": {\"next\": null}}";

static const char domain_reply[] =
        "{\"domain\": {\"id\": \"bce1304d5e324764beb80ee0003cedc5\", \"name\": \"partners\", \"description\": \"x\","
        " \"enabled\": true, \"tags\": [], \"options\": {}}}";

static char err[KS_ERROR_SIZE];

#define PARSE_USER(s, u) ks_json_parse_user((s), strlen(s), (u), err, sizeof(err))

static void test_token_good(void **state) {
        struct ks_token_info t;
        assert_int_equal(ks_json_parse_token(token_reply, strlen(token_reply), &t, err, sizeof(err)), 0);
        assert_string_equal(t.user.id, ALICE);
        assert_string_equal(t.user.name, "alice");
        assert_string_equal(t.user.domain_id, "default");
        assert_string_equal(t.user.domain_name, "Default");
        assert_int_equal(t.expires_at - t.issued_at, 3600);
        assert_false(t.system_scope);
        ks_token_info_clear(&t);

        assert_int_equal(ks_json_parse_token(system_token_reply, strlen(system_token_reply), &t, err, sizeof(err)), 0);
        assert_true(t.system_scope);
        ks_token_info_clear(&t);
}

static void test_token_bad(void **state) {
        static const char *const bad[] = {
                "",
                "null",
                "[]",
                "{\"token\": 1}",
                "{\"token\": {}}",
                "{\"token\": {\"user\": {\"id\": \"x\", \"name\": \"y\"}, \"expires_at\": \"2026-11-25T15:40:57Z\","
                " \"issued_at\": \"2026-11-25T14:40:57Z\"}}",
                /* expires_at not a time */
                "{\"token\": {\"user\": {\"domain\": {\"id\": \"d\", \"name\": \"D\"}, \"id\": \"x\", \"name\": \"y\"},"
                " \"expires_at\": \"tomorrow\", \"issued_at\": \"2026-11-25T14:40:57Z\"}}",
                /* expires before issued */
                "{\"token\": {\"user\": {\"domain\": {\"id\": \"d\", \"name\": \"D\"}, \"id\": \"x\", \"name\": \"y\"},"
                " \"expires_at\": \"2026-11-25T13:40:57Z\", \"issued_at\": \"2026-11-25T14:40:57Z\"}}",
                /* id a number */
                "{\"token\": {\"user\": {\"domain\": {\"id\": \"d\", \"name\": \"D\"}, \"id\": 5, \"name\": \"y\"},"
                " \"expires_at\": \"2026-11-25T15:40:57Z\", \"issued_at\": \"2026-11-25T14:40:57Z\"}}",
                /* duplicate key */
                "{\"token\": {}, \"token\": {}}",
                /* trailing garbage */
                "{\"token\": {}} x",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ks_token_info t = { .issued_at = 42 };
                err[0] = '\0';
                assert_int_equal(ks_json_parse_token(bad[i], strlen(bad[i]), &t, err, sizeof(err)), -EBADMSG);
                assert_true(err[0] != '\0');
                assert_int_equal(t.issued_at, 42);  /* untouched on failure */
                assert_null(t.user.id);
        }
        struct ks_token_info t;
        assert_int_equal(ks_json_parse_token(NULL, 0, &t, err, sizeof(err)), -EBADMSG);
}

/* How a token was obtained, as Keystone 22 renders it
 * (keystone/common/render_token.py): the project part every scoped reply
 * shares, then one reply per kind of token. */
#define PROJECT_PART                                                                                               \
        " \"project\": {\"domain\": {\"id\": \"default\", \"name\": \"Default\"},"                                \
        " \"id\": \"1a9a529b0ec54d3e9ce981b1dabbed55\", \"name\": \"demo\"}, \"is_domain\": false,"                \
        " \"roles\": [{\"id\": \"e83ed07bc4304fc1a175949562057e04\", \"name\": \"reader\"}], \"catalog\": [],"
#define TOKEN_TAIL                                                                                                 \
        " \"audit_ids\": [\"eV12TePgRQ--tL84kje5SA\"], \"expires_at\": \"2026-11-25T15:40:57.000000Z\","            \
        " \"issued_at\": \"2026-11-25T14:40:57.000000Z\"}}"
#define ALICE_USER                                                                                                 \
        " \"user\": {\"domain\": {\"id\": \"default\", \"name\": \"Default\"}, \"id\": \"" ALICE "\","            \
        " \"name\": \"alice\", \"password_expires_at\": null},"

static const char app_cred_token_reply[] =
        "{\"token\": {\"methods\": [\"application_credential\"]," ALICE_USER PROJECT_PART
        " \"application_credential\": {\"id\": \"0b2f6b3a4c1e4f3c9b5d8c7e6a5f4d3c\", \"name\": \"ci\","
        " \"restricted\": true}," TOKEN_TAIL;

/* impersonation: the token names the trustor as its user */
static const char trust_token_reply[] =
        "{\"token\": {\"methods\": [\"password\"]," ALICE_USER PROJECT_PART
        " \"OS-TRUST:trust\": {\"id\": \"5a0e2a4c3b1d4e6f8a9b0c1d2e3f4a5b\", \"trustor_user\": {\"id\": \"" ALICE "\"},"
        " \"trustee_user\": {\"id\": \"6f5275cf9582479a8499795f5757370c\"}, \"impersonation\": true}," TOKEN_TAIL;

static const char oauth1_token_reply[] =
        "{\"token\": {\"methods\": [\"oauth1\"]," ALICE_USER PROJECT_PART
        " \"OS-OAUTH1\": {\"access_token_id\": \"8c4b1a2d3e5f6a7b8c9d0e1f2a3b4c5d\","
        " \"consumer_id\": \"7d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a\"}," TOKEN_TAIL;

/* a password token rescoped to a project: "token" added, "password" kept */
static const char rescoped_token_reply[] =
        "{\"token\": {\"methods\": [\"password\", \"token\"]," ALICE_USER PROJECT_PART TOKEN_TAIL;

static const char totp_token_reply[] =
        "{\"token\": {\"methods\": [\"password\", \"totp\"]," ALICE_USER TOKEN_TAIL;

/* federated through a protocol the operator named "oidc" */
static const char federated_token_reply[] =
        "{\"token\": {\"methods\": [\"oidc\"], \"user\": {\"domain\": {\"id\": \"4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e\","
        " \"name\": \"Federated\"}, \"id\": \"" ALICE "\", \"name\": \"alice\", \"OS-FEDERATION\": {\"groups\":"
        " [{\"id\": \"9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b\"}], \"identity_provider\": {\"id\": \"corp\"},"
        " \"protocol\": {\"id\": \"oidc\"}}}," TOKEN_TAIL;

static const char ec2_token_reply[] =
        "{\"token\": {\"methods\": [\"ec2credential\"]," ALICE_USER PROJECT_PART TOKEN_TAIL;

static void test_token_origin(void **state) {
        static const struct {
                const char *body;
                unsigned methods;
                enum ks_delegation delegation;
                bool federated;
        } cases[] = {
                { token_reply, KS_METHOD_PASSWORD, KS_DELEGATION_NONE, false },
                { app_cred_token_reply, KS_METHOD_APPLICATION_CREDENTIAL, KS_DELEGATION_APPLICATION_CREDENTIAL, false },
                { trust_token_reply, KS_METHOD_PASSWORD, KS_DELEGATION_TRUST, false },
                { oauth1_token_reply, KS_METHOD_OAUTH1, KS_DELEGATION_OAUTH1, false },
                { rescoped_token_reply, KS_METHOD_PASSWORD | KS_METHOD_TOKEN, KS_DELEGATION_NONE, false },
                { totp_token_reply, KS_METHOD_PASSWORD | KS_METHOD_TOTP, KS_DELEGATION_NONE, false },
                { federated_token_reply, KS_METHOD_FEDERATED, KS_DELEGATION_NONE, true },
                { ec2_token_reply, KS_METHOD_OTHER, KS_DELEGATION_NONE, false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct ks_token_info t;
                assert_int_equal(ks_json_parse_token(cases[i].body, strlen(cases[i].body), &t, err, sizeof(err)), 0);
                assert_int_equal(t.methods, cases[i].methods);
                assert_int_equal(t.delegation, cases[i].delegation);
                assert_int_equal(t.federated, cases[i].federated);
                assert_string_equal(t.user.id, ALICE);
                ks_token_info_clear(&t);
        }
}

/* Sections present in any form count; methods that are not a list of
 * names are a bad reply, not an empty list. */
static void test_token_origin_hostile(void **state) {
#define T(extra) "{\"token\": {" extra ALICE_USER TOKEN_TAIL
        static const struct {
                const char *body;
                enum ks_delegation delegation;
        } odd[] = {
                { T("\"methods\": [\"password\"], \"application_credential\": null,"),
                  KS_DELEGATION_APPLICATION_CREDENTIAL },
                { T("\"methods\": [\"password\"], \"OS-TRUST:trust\": 1,"), KS_DELEGATION_TRUST },
                { T("\"methods\": [\"password\"], \"OS-OAUTH1\": {},"), KS_DELEGATION_OAUTH1 },
                { T(""), KS_DELEGATION_NONE },  /* no methods at all: none known */
        };
        for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
                struct ks_token_info t;
                assert_int_equal(ks_json_parse_token(odd[i].body, strlen(odd[i].body), &t, err, sizeof(err)), 0);
                assert_int_equal(t.delegation, odd[i].delegation);
                ks_token_info_clear(&t);
        }
        struct ks_token_info t;
        assert_int_equal(ks_json_parse_token(T(""), strlen(T("")), &t, err, sizeof(err)), 0);
        assert_int_equal(t.methods, 0);
        ks_token_info_clear(&t);

        static const char *const bad[] = {
                T("\"methods\": \"password\","),
                T("\"methods\": [\"password\", 7],"),
                T("\"methods\": [\"pass word\"],"),
                T("\"methods\": [\"\"],"),
                T("\"methods\": [\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\",\"a\","
                  "\"a\",\"a\",\"a\"],"),
                "{\"token\": {\"methods\": [\"oidc\"], \"user\": {\"domain\": {\"id\": \"d\", \"name\": \"D\"},"
                " \"id\": \"x\", \"name\": \"y\", \"OS-FEDERATION\": []}," TOKEN_TAIL,
                "{\"token\": {\"methods\": [\"oidc\"], \"user\": {\"domain\": {\"id\": \"d\", \"name\": \"D\"},"
                " \"id\": \"x\", \"name\": \"y\", \"OS-FEDERATION\": {\"protocol\": {\"id\": 3}}}," TOKEN_TAIL,
        };
#undef T
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                err[0] = '\0';
                assert_int_equal(ks_json_parse_token(bad[i], strlen(bad[i]), &t, err, sizeof(err)), -EBADMSG);
                assert_true(err[0] != '\0');
        }
}

static void test_user_good(void **state) {
        struct ks_user u;
        assert_int_equal(PARSE_USER(user_reply, &u), 0);
        assert_string_equal(u.id, ALICE);
        assert_string_equal(u.name, "alice");
        assert_string_equal(u.domain_id, "default");
        assert_null(u.domain_name);
        assert_true(u.enabled);
        ks_user_clear(&u);

        const char *zoe = "{\"user\": {\"id\": \"z1\", \"name\": \"zo\\u00eb\", \"domain_id\": \"default\", \"enabled\": false}}";
        assert_int_equal(PARSE_USER(zoe, &u), 0);
        assert_string_equal(u.name, "zo\xc3\xab");
        assert_false(u.enabled);
        ks_user_clear(&u);
}

static void test_user_missing_fields(void **state) {
        static const char *const bad[] = {
                "{}",
                "{\"users\": []}",
                "{\"user\": null}",
                "{\"user\": {\"name\": \"a\", \"domain_id\": \"d\", \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"domain_id\": \"d\", \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"domain_id\": \"d\"}}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ks_user u = { 0 };
                assert_int_equal(PARSE_USER(bad[i], &u), -EBADMSG);
                assert_non_null(strstr(err, "missing") ? err : strstr(err, "not an object"));
                assert_null(u.id);
        }
}

static void test_user_wrong_types(void **state) {
        static const char *const bad[] = {
                "{\"user\": {\"id\": 1, \"name\": \"a\", \"domain_id\": \"d\", \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"name\": [], \"domain_id\": \"d\", \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"domain_id\": null, \"enabled\": true}}",
                "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"domain_id\": \"d\", \"enabled\": \"yes\"}}",
                "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"domain_id\": \"d\", \"enabled\": 1}}",
                "{\"user\": [1, 2]}",
                "\"user\"",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ks_user u = { 0 };
                assert_int_equal(PARSE_USER(bad[i], &u), -EBADMSG);
                assert_null(u.id);
        }
}

static char *make_user(const char *id, const char *name) {
        size_t n = strlen(id) + strlen(name) + 128;
        char *s = malloc(n);
        assert_non_null(s);
        snprintf(s, n, "{\"user\": {\"id\": \"%s\", \"name\": \"%s\", \"domain_id\": \"default\", \"enabled\": true}}",
                 id, name);
        return s;
}

static void test_user_bad_strings(void **state) {
        char big_id[KS_ID_MAX + 2], big_name[KS_NAME_MAX + 2];
        memset(big_id, 'a', sizeof(big_id) - 1);
        big_id[sizeof(big_id) - 1] = '\0';
        memset(big_name, 'n', sizeof(big_name) - 1);
        big_name[sizeof(big_name) - 1] = '\0';
        struct {
                const char *id, *name;
                int want;
        } cases[] = {
                { "abc", "alice", 0 },
                { big_id, "alice", -EBADMSG },          /* 65-byte ID */
                { big_id + 1, "alice", 0 },             /* 64 bytes: the limit */
                { "abc", big_name, -EBADMSG },          /* 256-byte name */
                { "abc", big_name + 1, 0 },
                { "", "alice", -EBADMSG },
                { "abc", "", -EBADMSG },
                { "a b", "alice", -EBADMSG },           /* space in an ID */
                { "a/../b", "alice", 0 },               /* odd, but escaped in URLs */
                { "abc", "ali\\nce", -EBADMSG },        /* control character: log injection */
                { "abc", "ali\\u0000ce", -EBADMSG },    /* NUL */
                { "ab\\u00e9", "alice", -EBADMSG },     /* non-ASCII ID */
                { "abc", "system:evil", 0 },            /* refused later, at token level */
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *s = make_user(cases[i].id, cases[i].name);
                struct ks_user u = { 0 };
                int r = PARSE_USER(s, &u);
                if (r != cases[i].want)
                        fail_msg("case %zu: got %d (%s), want %d", i, r, err, cases[i].want);
                ks_user_clear(&u);
                free(s);
        }
}

static void test_huge_values(void **state) {
        /* a 3 MB name, an enormous number, deep nesting: refused, no crash */
        size_t n = 3 * 1024 * 1024;
        char *s = malloc(n + 200);
        assert_non_null(s);
        int k = snprintf(s, 200, "{\"user\": {\"id\": \"i\", \"domain_id\": \"d\", \"enabled\": true, \"name\": \"");
        memset(s + k, 'x', n);
        strcpy(s + k + n, "\"}}");
        struct ks_user u = { 0 };
        assert_int_equal(PARSE_USER(s, &u), -EBADMSG);
        free(s);

        const char *num = "{\"user\": {\"id\": \"i\", \"name\": \"a\", \"domain_id\": \"d\", \"enabled\": "
                          "123456789012345678901234567890123456789012345678901234567890}}";
        assert_int_equal(PARSE_USER(num, &u), -EBADMSG);

        size_t depth = 100000;
        char *deep = malloc(depth * 2 + 1);
        assert_non_null(deep);
        memset(deep, '[', depth);
        memset(deep + depth, ']', depth);
        deep[depth * 2] = '\0';
        assert_int_equal(PARSE_USER(deep, &u), -EBADMSG);
        free(deep);

        /* more assignments than we represent */
        size_t count = KS_ASSIGNMENTS_MAX + 1, one = 8;
        char *many = malloc(count * one + 64);
        assert_non_null(many);
        size_t o = (size_t)sprintf(many, "{\"role_assignments\": [");
        for (size_t i = 0; i < count; i++)
                o += (size_t)sprintf(many + o, "%s{}", i ? "," : "");
        strcpy(many + o, "]}");
        struct ks_assignments a = { 0 };
        assert_int_equal(ks_json_parse_assignments(many, strlen(many), ALICE, &a, err, sizeof(err)), -EBADMSG);
        assert_non_null(strstr(err, "entries"));
        free(many);
}

static void test_user_list(void **state) {
        struct ks_user u = { 0 };
        /* the filter may match case-insensitively: only the exact name counts */
        assert_int_equal(ks_json_parse_user_list(users_reply, strlen(users_reply), "carol", "default", &u, err, sizeof(err)), 0);
        assert_string_equal(u.id, "6f5275cf9582479a8499795f5757370c");
        assert_false(u.enabled);
        ks_user_clear(&u);
        assert_int_equal(ks_json_parse_user_list(users_reply, strlen(users_reply), "carl", "default", &u, err, sizeof(err)), -ENOENT);
        const char *empty = "{\"users\": [], \"links\": {}}";
        assert_int_equal(ks_json_parse_user_list(empty, strlen(empty), "x", "d", &u, err, sizeof(err)), -ENOENT);
        const char *two = "{\"users\": [{\"id\": \"1\", \"name\": \"x\", \"domain_id\": \"d\", \"enabled\": true},"
                          " {\"id\": \"2\", \"name\": \"x\", \"domain_id\": \"d\", \"enabled\": true}]}";
        assert_int_equal(ks_json_parse_user_list(two, strlen(two), "x", "d", &u, err, sizeof(err)), -EBADMSG);
        const char *notlist = "{\"users\": {}}";
        assert_int_equal(ks_json_parse_user_list(notlist, strlen(notlist), "x", "d", &u, err, sizeof(err)), -EBADMSG);
        const char *badentry = "{\"users\": [{\"id\": \"1\", \"name\": \"x\"}]}";
        assert_int_equal(ks_json_parse_user_list(badentry, strlen(badentry), "x", "d", &u, err, sizeof(err)), -EBADMSG);
        const char *scalar = "{\"users\": [7]}";
        assert_int_equal(ks_json_parse_user_list(scalar, strlen(scalar), "x", "d", &u, err, sizeof(err)), -EBADMSG);
        assert_null(u.id);

        /* the domain filter may be ignored too: a user of another domain
         * with the name asked for is not the user asked for */
        const char *other = "{\"users\": [{\"id\": \"9\", \"name\": \"x\", \"domain_id\": \"evil\", \"enabled\": true}]}";
        assert_int_equal(ks_json_parse_user_list(other, strlen(other), "x", "d", &u, err, sizeof(err)), -ENOENT);
        assert_null(u.id);
        const char *both = "{\"users\": [{\"id\": \"9\", \"name\": \"x\", \"domain_id\": \"evil\", \"enabled\": true},"
                           " {\"id\": \"1\", \"name\": \"x\", \"domain_id\": \"d\", \"enabled\": false}]}";
        assert_int_equal(ks_json_parse_user_list(both, strlen(both), "x", "d", &u, err, sizeof(err)), 0);
        assert_string_equal(u.id, "1");
        assert_string_equal(u.domain_id, "d");
        ks_user_clear(&u);
}

static void test_assignments_good(void **state) {
        struct ks_assignments a;
        assert_int_equal(ks_json_parse_assignments(roles_reply, strlen(roles_reply), ALICE, &a, err, sizeof(err)), 0);
        assert_int_equal(a.n, 5);  /* the second "member" on demo is a duplicate */
        assert_string_equal(a.user_domain_name, "Default");
        assert_string_equal(a.items[0].role_name, "member");
        assert_int_equal(a.items[0].scope, KS_SCOPE_PROJECT);
        assert_string_equal(a.items[0].scope_id, "1a9a529b0ec54d3e9ce981b1dabbed55");
        assert_string_equal(a.items[0].scope_name, "demo");
        assert_string_equal(a.items[0].scope_domain_id, "default");
        assert_string_equal(a.items[0].scope_domain_name, "Default");
        assert_string_equal(a.items[1].role_name, "k8s-admins-alpha");
        assert_int_equal(a.items[3].scope, KS_SCOPE_SYSTEM);
        assert_string_equal(a.items[3].scope_id, "all");
        assert_null(a.items[3].scope_name);
        assert_int_equal(a.items[4].scope, KS_SCOPE_DOMAIN);
        assert_string_equal(a.items[4].scope_name, "partners");
        ks_assignments_clear(&a);

        const char *none = "{\"role_assignments\": [], \"links\": {\"next\": null}}";
        assert_int_equal(ks_json_parse_assignments(none, strlen(none), ALICE, &a, err, sizeof(err)), 0);
        assert_int_equal(a.n, 0);
        assert_null(a.user_domain_name);
        ks_assignments_clear(&a);
}

static void test_assignments_bad(void **state) {
        static const char *const bad[] = {
                "{\"role_assignments\": {}}",
                "{\"role_assignments\": [1]}",
                /* another user's assignment */
                "{\"role_assignments\": [{\"scope\": {\"system\": {\"all\": true}}, \"user\": {\"id\": \"bob\"},"
                " \"role\": {\"id\": \"r\", \"name\": \"reader\"}}]}",
                /* no role name (include_names missing) */
                "{\"role_assignments\": [{\"scope\": {\"system\": {\"all\": true}}, \"user\": {\"id\": \"" ALICE "\"},"
                " \"role\": {\"id\": \"r\"}}]}",
                /* two scopes */
                "{\"role_assignments\": [{\"scope\": {\"system\": {\"all\": true}, \"domain\": {\"id\": \"d\"}},"
                " \"user\": {\"id\": \"" ALICE "\"}, \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
                /* no scope at all */
                "{\"role_assignments\": [{\"scope\": {}, \"user\": {\"id\": \"" ALICE "\"},"
                " \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
                /* a project without a name */
                "{\"role_assignments\": [{\"scope\": {\"project\": {\"id\": \"p\", \"domain\": {\"id\": \"d\"}}},"
                " \"user\": {\"id\": \"" ALICE "\"}, \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
                /* a project that is a string */
                "{\"role_assignments\": [{\"scope\": {\"project\": \"p\"}, \"user\": {\"id\": \"" ALICE "\"},"
                " \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
                /* system scope not "all" */
                "{\"role_assignments\": [{\"scope\": {\"system\": {\"all\": false}}, \"user\": {\"id\": \"" ALICE "\"},"
                " \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
                /* a group assignment (not expanded) */
                "{\"role_assignments\": [{\"scope\": {\"system\": {\"all\": true}}, \"group\": {\"id\": \"g\"},"
                " \"role\": {\"id\": \"r\", \"name\": \"n\"}}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct ks_assignments a = { 0 };
                int r = ks_json_parse_assignments(bad[i], strlen(bad[i]), ALICE, &a, err, sizeof(err));
                if (r != -EBADMSG)
                        fail_msg("case %zu: got %d", i, r);
                assert_null(a.items);
        }
}

static void test_domain(void **state) {
        struct ks_domain d;
        assert_int_equal(ks_json_parse_domain(domain_reply, strlen(domain_reply), &d, err, sizeof(err)), 0);
        assert_string_equal(d.name, "partners");
        assert_true(d.enabled);
        ks_domain_clear(&d);
        const char *list = "{\"domains\": [{\"id\": \"default\", \"name\": \"Default\", \"enabled\": true}]}";
        assert_int_equal(ks_json_parse_domain_list(list, strlen(list), "Default", &d, err, sizeof(err)), 0);
        assert_string_equal(d.id, "default");
        ks_domain_clear(&d);
        assert_int_equal(ks_json_parse_domain_list(list, strlen(list), "default", &d, err, sizeof(err)), -ENOENT);
        const char *bad = "{\"domain\": {\"id\": \"x\", \"name\": \"y\"}}";
        assert_int_equal(ks_json_parse_domain(bad, strlen(bad), &d, err, sizeof(err)), -EBADMSG);
}

static void test_time(void **state) {
        int64_t t;
        assert_int_equal(ks_parse_time("1970-01-01T00:00:00Z", &t), 0);
        assert_int_equal(t, 0);
        assert_int_equal(ks_parse_time("2026-11-25T15:40:57.000000Z", &t), 0);
        assert_int_equal(t, 1795621257);
        assert_int_equal(ks_parse_time("2000-02-29T12:00:00+00:00", &t), 0);
        assert_int_equal(t, 951825600);
        assert_int_equal(ks_parse_time("2026-11-25T15:40:57", &t), 0);
        static const char *const bad[] = { "", "2026-11-25", "2026-13-01T00:00:00Z", "2026-11-25T25:00:00Z",
                                           "2026-11-25T15:40:57.Z", "2026-11-25T15:40:57+02:00", "1969-12-31T23:59:59Z",
                                           "2026-11-25T15:40:57.0000000000Z", "x026-11-25T15:40:57Z" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(ks_parse_time(bad[i], &t), -EINVAL);
}

static void test_error_message(void **state) {
        char m[64];
        const char *e = "{\"error\":{\"code\":401,\"message\":\"The request you have made requires authentication.\","
                        "\"title\":\"Unauthorized\"}}";
        ks_json_error_message(e, strlen(e), m, sizeof(m));
        assert_string_equal(m, "The request you have made requires authentication.");
        const char *ctl = "{\"error\":{\"message\":\"a\\nb\\u00e9\"}}";
        ks_json_error_message(ctl, strlen(ctl), m, sizeof(m));
        assert_string_equal(m, "a?b??");
        ks_json_error_message("<html>", 6, m, sizeof(m));
        assert_string_equal(m, "");
        char tiny[4];
        ks_json_error_message(e, strlen(e), tiny, sizeof(tiny));
        assert_string_equal(tiny, "The");
}

static void test_valid_strings(void **state) {
        assert_true(ks_valid_id("default"));
        assert_false(ks_valid_id(NULL));
        assert_false(ks_valid_id("with space"));
        assert_true(ks_valid_name("zo\xc3\xab"));
        assert_true(ks_valid_name("with space"));
        assert_false(ks_valid_name("tab\there"));
        assert_false(ks_valid_name("del\x7f"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_token_good),       cmocka_unit_test(test_token_bad),
                cmocka_unit_test(test_token_origin),     cmocka_unit_test(test_token_origin_hostile),
                cmocka_unit_test(test_user_good),        cmocka_unit_test(test_user_missing_fields),
                cmocka_unit_test(test_user_wrong_types), cmocka_unit_test(test_user_bad_strings),
                cmocka_unit_test(test_huge_values),      cmocka_unit_test(test_user_list),
                cmocka_unit_test(test_assignments_good), cmocka_unit_test(test_assignments_bad),
                cmocka_unit_test(test_domain),           cmocka_unit_test(test_time),
                cmocka_unit_test(test_error_message),    cmocka_unit_test(test_valid_strings),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
