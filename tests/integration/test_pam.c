/* pam_kaas through the real libpam, loaded by pam_wrapper from service
 * files that name the module by absolute path, talking to a real kaasd
 * that asks a real Keystone. Driven by test_pam.sh, which starts Keystone
 * and kaasd, creates the tokens, writes the service files and runs this
 * program once per phase (argv[1]), changing kaasd between phases:
 *
 *   up         kaasd serving: tokens, users, roles, options, stages
 *   typo       only malformed tokens (the script checks kaasd saw none)
 *   names      kaasd with [nss] default_domain = partners and
 *              domain_separator = %, carol of partners disabled: the
 *              module decides for the user kaasd maps the name to
 *   untrusted  the socket (kaas_fake) belongs to a process not running as root
 *   kaasd_uid  the same socket, trusted with kaasd_uid= (kaas_fake_uid)
 *   offline    Keystone stopped and kaasd's copies too old to use
 *   stalled    kaasd stopped with SIGSTOP: the timeout must fire
 *   down       no kaasd at all
 *
 * Services (see test_pam.sh): "kaas" (every stage, plain), "kaas_ign"
 * (every stage as [ignore=ignore default=die] followed by pam_permit, so
 * the stack succeeds exactly when pam_kaas returns PAM_IGNORE; libpam
 * itself never reports PAM_IGNORE to the application), "kaas_ignopt"
 * (the same with ignore_unknown_user ignore_authinfo_unavail), "kaas_role"
 * (require_role=developer), "kaas_role_id" (require_role=nosuchrole,<ID of
 * k8s-admins-alpha>), "kaas_cluster" (require_cluster_admin=alpha),
 * "kaas_first" and "kaas_try" (pam_wrapper's pam_set_items.so sets
 * PAM_AUTHTOK from $PAM_AUTHTOK, then use_first_pass / try_first_pass),
 * "kaas_preset" (the same without an option: must ask anyway),
 * "kaas_prompt" (prompt=...), "kaas_timeout" (timeout=1500), "kaas_slow"
 * (auth with timeout=3000, for a user slower than that), "kaas_badrole"
 * (require_role= without a value), "kaas_fake" and "kaas_fake_uid"
 * (socket= a fake kaasd, with ignore_authinfo_unavail; the latter also
 * with kaasd_uid= the fake's uid), and for the names phase "kaas_names"
 * (auth and account, a passwd file with root only), "kaas_names_dd" (the
 * same with default_domain=Default, which kaasd's naming overrules) and
 * "kaas_names_role" (require_role=developer).
 *
 * Inputs from the environment: KAAS_TEST_{ALICE,ALICE_DELETED,BOB,FRANK,
 * CAROL_P,EXPIRED}_TOKEN (EXPIRED may be empty: that case is skipped),
 * KAAS_TEST_LOCAL_USER (a user of the passwd file the services name). */
#include "config.h"

#include <stdarg.h>
#include <setjmp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libpamtest.h>

#include "kaas.h"  /* KAAS_DEFAULT_TIMEOUT_MS */
#include <security/pam_appl.h>

#define MAX_PROMPTS 4
#define MAX_MESSAGES 8

/* A conversation that answers echo-off prompts from a list, counts them,
 * remembers the last prompt and collects error and info messages. */
struct conv {
        const char *answers[MAX_PROMPTS];
        unsigned typing_ms;             /* how long the user takes at each prompt */
        int prompts;
        char last_prompt[PAM_MAX_MSG_SIZE];
        char errors[MAX_MESSAGES][PAM_MAX_MSG_SIZE];
        int n_errors;
};

static int conv_fn(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        struct conv *cv = data;
        struct pam_response *r = calloc((size_t)n, sizeof(*r));
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++) {
                switch (msg[i]->msg_style) {
                case PAM_PROMPT_ECHO_OFF:
                case PAM_PROMPT_ECHO_ON:
                        if (cv->typing_ms)
                                nanosleep(&(struct timespec){ .tv_sec = cv->typing_ms / 1000,
                                                              .tv_nsec = (long)(cv->typing_ms % 1000) * 1000000L },
                                          NULL);
                        snprintf(cv->last_prompt, sizeof(cv->last_prompt), "%s", msg[i]->msg);
                        if (cv->prompts < MAX_PROMPTS && cv->answers[cv->prompts])
                                r[i].resp = strdup(cv->answers[cv->prompts]);
                        cv->prompts++;
                        if (!r[i].resp) {
                                for (int j = 0; j < i; j++)
                                        free(r[j].resp);
                                free(r);
                                return PAM_CONV_ERR;
                        }
                        break;
                case PAM_ERROR_MSG:
                case PAM_TEXT_INFO:
                        if (cv->n_errors < MAX_MESSAGES)
                                snprintf(cv->errors[cv->n_errors++], PAM_MAX_MSG_SIZE, "%s", msg[i]->msg);
                        break;
                default:
                        break;
                }
        }
        *resp = r;
        return PAM_SUCCESS;
}

static const char *code_name(int rv) {
        switch (rv) {
        case PAM_SUCCESS: return "PAM_SUCCESS";
        case PAM_AUTH_ERR: return "PAM_AUTH_ERR";
        case PAM_AUTHINFO_UNAVAIL: return "PAM_AUTHINFO_UNAVAIL";
        case PAM_USER_UNKNOWN: return "PAM_USER_UNKNOWN";
        case PAM_IGNORE: return "PAM_IGNORE";
        case PAM_PERM_DENIED: return "PAM_PERM_DENIED";
        case PAM_ACCT_EXPIRED: return "PAM_ACCT_EXPIRED";
        case PAM_AUTHTOK_ERR: return "PAM_AUTHTOK_ERR";
        case PAM_SERVICE_ERR: return "PAM_SERVICE_ERR";
        case PAM_SYSTEM_ERR: return "PAM_SYSTEM_ERR";
        case PAM_CONV_ERR: return "PAM_CONV_ERR";
        case PAM_SESSION_ERR: return "PAM_SESSION_ERR";
        default: return "another PAM code";
        }
}

static const char *env(const char *name) {
        const char *v = getenv(name);
        if (!v || !*v) {
                fprintf(stderr, "test_pam: %s is not set (run test_pam.sh)\n", name);
                exit(99);
        }
        return v;
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs ops (with their expected codes) in one PAM transaction and fails
 * the test at the first unexpected result, naming both codes. */
static void run_ops(const char *service, const char *user, struct conv *cv, struct pam_testcase *cases, size_t n) {
        enum pamtest_err perr = _pamtest_conv(service, user, conv_fn, cv, cases, n, NULL);
        if (perr == PAMTEST_ERR_CASE) {
                const struct pam_testcase *tc = _pamtest_failed_case(cases, n);
                fail_msg("%s/%s: operation %d returned %s (%d), expected %s (%d)", service, user,
                         (int)tc->pam_operation, code_name(tc->op_rv), tc->op_rv, code_name(tc->expected_rv),
                         tc->expected_rv);
        }
        assert_int_equal(perr, PAMTEST_ERR_OK);
}

/* One operation with one answer ready for a prompt. */
static void expect1(const char *service, const char *user, const char *token, enum pamtest_ops op, int rv,
                    struct conv *cv) {
        struct conv local = { .answers = { token } };
        if (!cv)
                cv = &local;
        else
                cv->answers[0] = token;
        struct pam_testcase cases[] = { pam_test(op, rv) };
        run_ops(service, user, cv, cases, 1);
}

static void assert_said(const struct conv *cv, const char *text) {
        for (int i = 0; i < cv->n_errors; i++)
                if (strstr(cv->errors[i], text))
                        return;
        fail_msg("expected a message containing \"%s\"; got %d message(s)%s%s", text, cv->n_errors,
                 cv->n_errors ? ", the first: " : "", cv->n_errors ? cv->errors[0] : "");
}

/* ------------------------------------------------------------ up */

/* timeout= bounds the waits for kaasd, not the user: a token typed in
 * longer than the timeout (kaas_slow: timeout=3000) still logs in. */
static void slow_typist(void **state) {
        struct conv cv = { .answers = { env("KAAS_TEST_ALICE_TOKEN") }, .typing_ms = 4000 };
        struct pam_testcase cases[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS) };
        run_ops("kaas_slow", "alice", &cv, cases, 1);
        assert_int_equal(cv.prompts, 1);
}

static void good_token_every_stage(void **state) {
        struct conv cv = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        struct pam_testcase cases[] = {
                pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
                pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
                pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
                pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
                pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
        };
        run_ops("kaas", "alice", &cv, cases, sizeof(cases) / sizeof(cases[0]));
        assert_int_equal(cv.prompts, 1);
        assert_string_equal(cv.last_prompt, "KaaS token: ");
        assert_int_equal(cv.n_errors, 0);
}

static void other_users_token(void **state) {
        struct conv cv = { 0 };
        expect1("kaas", "bob", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv);
        assert_said(&cv, "KaaS token rejected");
        /* and the other way round */
        struct conv cv2 = { 0 };
        expect1("kaas", "alice", env("KAAS_TEST_BOB_TOKEN"), PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv2);
        assert_said(&cv2, "KaaS token rejected");
}

static void other_domain_same_name(void **state) {
        /* carol@partners' token is not the token of carol (default domain) */
        struct conv cv = { 0 };
        expect1("kaas", "carol@partners", env("KAAS_TEST_CAROL_P_TOKEN"), PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv);
        expect1("kaas", "carol@partners", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas", "bob@partners", env("KAAS_TEST_BOB_TOKEN"), PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN, NULL);
        expect1("kaas", "alice@Default", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN,
                NULL);
}

static void deleted_token(void **state) {
        struct conv cv = { 0 };
        expect1("kaas", "alice", env("KAAS_TEST_ALICE_DELETED_TOKEN"), PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv);
        assert_said(&cv, "KaaS token rejected");
}

static void expired_token(void **state) {
        const char *t = getenv("KAAS_TEST_EXPIRED_TOKEN");
        if (!t || !*t)
                skip();
        struct conv cv = { 0 };
        expect1("kaas", "alice", t, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv);
        assert_said(&cv, "KaaS token expired");
}

static void mistyped_tokens(void **state) {
        char typo[128];
        snprintf(typo, sizeof(typo), "%s", env("KAAS_TEST_ALICE_TOKEN"));
        typo[20] = typo[20] == 'a' ? 'b' : 'a';
        struct conv cv = { 0 };
        expect1("kaas", "alice", typo, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv);
        assert_said(&cv, "mistyped");
        expect1("kaas", "alice", "correct horse battery staple", PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, NULL);
        expect1("kaas", "alice", "", PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, NULL);
}

static void disabled_user(void **state) {
        /* frank was disabled in Keystone after his token was made */
        struct conv cv = { 0 };
        expect1("kaas", "frank", env("KAAS_TEST_FRANK_TOKEN"), PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, &cv);
        assert_said(&cv, "KaaS token rejected");
        struct conv cv2 = { 0 };
        expect1("kaas", "frank", NULL, PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, &cv2);
        assert_said(&cv2, "disabled");
        /* dave was disabled from the start */
        expect1("kaas", "dave", NULL, PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, NULL);
}

static void unknown_user(void **state) {
        struct conv cv = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        struct pam_testcase cases[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN) };
        run_ops("kaas", "nosuchuser", &cv, cases, 1);
        assert_int_equal(cv.prompts, 0);  /* nothing asked that could not succeed */
        expect1("kaas", "nosuchuser", NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        /* a name that is not UTF-8 is nobody's too: not an outage */
        expect1("kaas", "\xff" "bob", NULL, PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN, NULL);
        expect1("kaas", "\xff" "bob", NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        /* ignore_unknown_user: PAM_IGNORE, so pam_permit decides */
        expect1("kaas_ignopt", "nosuchuser", NULL, PAMTEST_AUTHENTICATE, PAM_SUCCESS, NULL);
        expect1("kaas_ignopt", "nosuchuser", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_ign", "nosuchuser", NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        /* a KaaS token typed as the login name is no user either, asked
         * nothing; test_pam.sh checks that no log line holds it */
        struct conv cv2 = { .answers = { "a password" } };
        run_ops("kaas", env("KAAS_TEST_ALICE_TOKEN"), &cv2, cases, 1);
        assert_int_equal(cv2.prompts, 0);
        expect1("kaas", env("KAAS_TEST_ALICE_TOKEN"), NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        expect1("kaas_ignopt", env("KAAS_TEST_ALICE_TOKEN"), NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
}

static void local_users_ignored(void **state) {
        const char *users[] = { "root", env("KAAS_TEST_LOCAL_USER"), "carol" /* also in Keystone */ };
        for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
                struct conv cv = { 0 };
                struct pam_testcase cases[] = {
                        pam_test(PAMTEST_AUTHENTICATE, PAM_SUCCESS),
                        pam_test(PAMTEST_SETCRED, PAM_SUCCESS),
                        pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
                        pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
                        pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
                        pam_test(PAMTEST_CHAUTHTOK, PAM_SUCCESS),
                };
                run_ops("kaas_ign", users[i], &cv, cases, sizeof(cases) / sizeof(cases[0]));
                assert_int_equal(cv.prompts, 0);
        }
        /* and a Keystone user in the same stacks is handled, not ignored */
        expect1("kaas_ign", "alice", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_PERM_DENIED, NULL);
}

static void require_role(void **state) {
        expect1("kaas_role", "alice", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        /* erin holds developer through her group */
        expect1("kaas_role", "erin", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        struct conv cv = { 0 };
        expect1("kaas_role", "bob", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, &cv);
        assert_said(&cv, "lacks a role");
        expect1("kaas_role_id", "alice", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_role_id", "bob", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, NULL);
        expect1("kaas_cluster", "alice", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_cluster", "bob", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, NULL);
        /* an admin of cluster beta is not one of alpha */
        expect1("kaas_cluster", "carol@partners", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, NULL);
        expect1("kaas_badrole", "alice", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, NULL);
}

static void public_key_style_login(void **state) {
        /* sshd with a public key runs account and session, never auth */
        struct conv cv = { 0 };
        struct pam_testcase ok[] = {
                pam_test(PAMTEST_ACCOUNT, PAM_SUCCESS),
                pam_test(PAMTEST_OPEN_SESSION, PAM_SUCCESS),
                pam_test(PAMTEST_CLOSE_SESSION, PAM_SUCCESS),
        };
        run_ops("kaas_role", "alice", &cv, ok, sizeof(ok) / sizeof(ok[0]));
        assert_int_equal(cv.prompts, 0);
        struct conv cv2 = { 0 };
        struct pam_testcase denied[] = { pam_test(PAMTEST_ACCOUNT, PAM_PERM_DENIED) };
        run_ops("kaas_role", "bob", &cv2, denied, 1);
        assert_int_equal(cv2.prompts, 0);
}

static void use_first_pass(void **state) {
        struct conv cv = { 0 };
        setenv("PAM_AUTHTOK", env("KAAS_TEST_ALICE_TOKEN"), 1);
        expect1("kaas_first", "alice", NULL, PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv);
        assert_int_equal(cv.prompts, 0);
        /* a wrong first password is final: no prompt */
        struct conv cv2 = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        setenv("PAM_AUTHTOK", env("KAAS_TEST_BOB_TOKEN"), 1);
        struct pam_testcase cases[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_AUTH_ERR) };
        run_ops("kaas_first", "alice", &cv2, cases, 1);
        assert_int_equal(cv2.prompts, 0);
        /* no earlier password at all */
        unsetenv("PAM_AUTHTOK");
        struct conv cv3 = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        run_ops("kaas_first", "alice", &cv3, cases, 1);
        assert_int_equal(cv3.prompts, 0);
}

static void try_first_pass(void **state) {
        setenv("PAM_AUTHTOK", env("KAAS_TEST_ALICE_TOKEN"), 1);
        struct conv cv = { 0 };
        expect1("kaas_try", "alice", NULL, PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv);
        assert_int_equal(cv.prompts, 0);
        /* a Unix password from an earlier module: asked for the token */
        setenv("PAM_AUTHTOK", "my-unix-password", 1);
        struct conv cv2 = { 0 };
        expect1("kaas_try", "alice", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv2);
        assert_int_equal(cv2.prompts, 1);
        /* without an option the module asks even when an item is set */
        struct conv cv3 = { 0 };
        setenv("PAM_AUTHTOK", env("KAAS_TEST_BOB_TOKEN"), 1);
        expect1("kaas_preset", "alice", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv3);
        assert_int_equal(cv3.prompts, 1);
        unsetenv("PAM_AUTHTOK");
}

static void custom_prompt(void **state) {
        struct conv cv = { 0 };
        expect1("kaas_prompt", "alice", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_SUCCESS, &cv);
        assert_string_equal(cv.last_prompt, "Token for this node: ");
}

static void password_stage_refused(void **state) {
        struct conv cv = { .answers = { "new", "new", "new" } };
        struct pam_testcase cases[] = { pam_test(PAMTEST_CHAUTHTOK, PAM_AUTHTOK_ERR) };
        run_ops("kaas", "alice", &cv, cases, 1);
        assert_int_equal(cv.prompts, 0);
        assert_said(&cv, "kaasctl");
}

/* ------------------------------------------------------------ typo */

static void typo_only(void **state) {
        char typo[128];
        snprintf(typo, sizeof(typo), "%s", env("KAAS_TEST_ALICE_TOKEN"));
        typo[30] = typo[30] == 'Z' ? 'Y' : 'Z';
        expect1("kaas", "alice", typo, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, NULL);
        /* a whole token with one character dropped */
        snprintf(typo, sizeof(typo), "%s", env("KAAS_TEST_ALICE_TOKEN"));
        memmove(typo + 10, typo + 11, strlen(typo + 11) + 1);
        expect1("kaas", "alice", typo, PAMTEST_AUTHENTICATE, PAM_AUTH_ERR, NULL);
        expect1("kaas", "alice", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.sig", PAMTEST_AUTHENTICATE, PAM_AUTH_ERR,
                NULL);
}

/* ------------------------------------------------------------ names */

static void kaasd_maps_names(void **state) {
        /* "carol" is carol of partners here, whom Keystone disabled; carol
         * of Default is enabled, and must not stand in for her, whatever
         * the module's default_domain= says */
        struct conv cv = { 0 };
        expect1("kaas_names", "carol", NULL, PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, &cv);
        assert_said(&cv, "disabled");
        expect1("kaas_names_dd", "carol", NULL, PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, NULL);
        /* a public-key login (account and session, no auth) of her fails */
        struct conv cv2 = { 0 };
        struct pam_testcase pubkey[] = { pam_test(PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED) };
        run_ops("kaas_names", "carol", &cv2, pubkey, 1);
        assert_int_equal(cv2.prompts, 0);
        /* users of Default are name%Default */
        expect1("kaas_names", "alice%Default", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_names_dd", "alice%Default", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_names_role", "alice%Default", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        expect1("kaas_names_role", "bob%Default", NULL, PAMTEST_ACCOUNT, PAM_PERM_DENIED, NULL);
        expect1("kaas_names", "frank%Default", NULL, PAMTEST_ACCOUNT, PAM_ACCT_EXPIRED, NULL);
        expect1("kaas_names", "alice%Default", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_SUCCESS,
                NULL);
        /* and no other spelling is anybody */
        const char *nobody[] = { "alice", "alice@Default", "alice@default", "carol%partners", "carol@partners" };
        for (size_t i = 0; i < sizeof(nobody) / sizeof(nobody[0]); i++)
                expect1("kaas_names_dd", nobody[i], NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        expect1("kaas_names", "alice", env("KAAS_TEST_ALICE_TOKEN"), PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN,
                NULL);
}

/* ------------------------------------------------------------ untrusted */

static void untrusted_socket(void **state) {
        /* the fake kaasd must never get the token: the script checks it
         * received nothing at all */
        struct conv cv = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        struct pam_testcase cases[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_SERVICE_ERR) };
        run_ops("kaas_fake", "alice", &cv, cases, 1);
        assert_int_equal(cv.prompts, 0);
        /* kaas_fake has ignore_authinfo_unavail: an impostor is not an outage */
        expect1("kaas_fake", "alice", NULL, PAMTEST_ACCOUNT, PAM_SERVICE_ERR, NULL);
}

static void trusted_by_kaasd_uid(void **state) {
        /* with kaasd_uid= naming the fake's uid the module talks to it; the
         * fake answers every call with UserNotFound */
        expect1("kaas_fake_uid", "alice", NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
}

/* ------------------------------------------------------------ offline, stalled, down */

static void unavailable(void **state) {
        const char *service = *state ? *state : "kaas";
        int64_t t0 = now_ms();
        struct conv cv = { .answers = { env("KAAS_TEST_ALICE_TOKEN") } };
        struct pam_testcase cases[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_AUTHINFO_UNAVAIL) };
        run_ops(service, "alice", &cv, cases, 1);
        int64_t auth_ms = now_ms() - t0;
        assert_int_equal(cv.prompts, 0);
        t0 = now_ms();
        expect1(service, "alice", NULL, PAMTEST_ACCOUNT, PAM_AUTHINFO_UNAVAIL, NULL);
        int64_t acct_ms = now_ms() - t0;
        print_message("# %s: auth answered after %lld ms, account after %lld ms\n", service, (long long)auth_ms,
                      (long long)acct_ms);
        if (strcmp(service, "kaas_timeout") == 0) {
                /* it waited for kaasd rather than failing at once, and
                 * the deadline reached libkaas: not its own default of
                 * 10 s, nor the 60 s of the other services (the bound
                 * leaves a busy machine 7.5 s; that the option was read,
                 * test_pam.sh sees in the log, which names the timeout) */
                assert_true(auth_ms >= 1400 && auth_ms < KAAS_DEFAULT_TIMEOUT_MS - 1000);
                assert_true(acct_ms >= 1400 && acct_ms < KAAS_DEFAULT_TIMEOUT_MS - 1000);
        }
        /* a KaaS token typed as the login name is refused before kaasd is
         * asked: no such user, even with kaasd away (asked, it would be
         * PAM_AUTHINFO_UNAVAIL) */
        struct conv cv2 = { .answers = { "a password" } };
        struct pam_testcase unknown[] = { pam_test(PAMTEST_AUTHENTICATE, PAM_USER_UNKNOWN) };
        run_ops(service, env("KAAS_TEST_ALICE_TOKEN"), &cv2, unknown, 1);
        assert_int_equal(cv2.prompts, 0);
        expect1(service, env("KAAS_TEST_ALICE_TOKEN"), NULL, PAMTEST_ACCOUNT, PAM_USER_UNKNOWN, NULL);
        /* ignore_authinfo_unavail turns it into PAM_IGNORE */
        expect1("kaas_ignopt", "alice", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
        /* local users never need kaasd */
        expect1("kaas_ign", "root", NULL, PAMTEST_ACCOUNT, PAM_SUCCESS, NULL);
}

static int service_plain(void **state) {
        *state = (void *)"kaas";
        return 0;
}

/* timeout=30000: longer than kaasd's own Keystone timeout, so kaasd answers */
static int service_patient(void **state) {
        *state = (void *)"kaas_patient";
        return 0;
}

static int service_timeout(void **state) {
        *state = (void *)"kaas_timeout";
        return 0;
}

int main(int argc, char **argv) {
        const char *phase = argc > 1 ? argv[1] : "up";
        const struct CMUnitTest up[] = {
                cmocka_unit_test(good_token_every_stage),
                cmocka_unit_test(slow_typist),
                cmocka_unit_test(other_users_token),
                cmocka_unit_test(other_domain_same_name),
                cmocka_unit_test(deleted_token),
                cmocka_unit_test(expired_token),
                cmocka_unit_test(mistyped_tokens),
                cmocka_unit_test(disabled_user),
                cmocka_unit_test(unknown_user),
                cmocka_unit_test(local_users_ignored),
                cmocka_unit_test(require_role),
                cmocka_unit_test(public_key_style_login),
                cmocka_unit_test(use_first_pass),
                cmocka_unit_test(try_first_pass),
                cmocka_unit_test(custom_prompt),
                cmocka_unit_test(password_stage_refused),
        };
        const struct CMUnitTest typo[] = { cmocka_unit_test(typo_only) };
        const struct CMUnitTest names[] = { cmocka_unit_test(kaasd_maps_names) };
        const struct CMUnitTest untrusted[] = { cmocka_unit_test(untrusted_socket) };
        const struct CMUnitTest kaasd_uid[] = { cmocka_unit_test(trusted_by_kaasd_uid) };
        const struct CMUnitTest down[] = { cmocka_unit_test_setup(unavailable, service_plain) };
        const struct CMUnitTest offline[] = { cmocka_unit_test_setup(unavailable, service_patient) };
        const struct CMUnitTest stalled[] = { cmocka_unit_test_setup(unavailable, service_timeout) };

        if (strcmp(phase, "up") == 0)
                return cmocka_run_group_tests_name("pam_kaas, kaasd up", up, NULL, NULL);
        if (strcmp(phase, "typo") == 0)
                return cmocka_run_group_tests_name("pam_kaas, malformed tokens", typo, NULL, NULL);
        if (strcmp(phase, "names") == 0)
                return cmocka_run_group_tests_name("pam_kaas, kaasd's naming rules", names, NULL, NULL);
        if (strcmp(phase, "untrusted") == 0)
                return cmocka_run_group_tests_name("pam_kaas, a socket not kaasd's", untrusted, NULL, NULL);
        if (strcmp(phase, "kaasd_uid") == 0)
                return cmocka_run_group_tests_name("pam_kaas, kaasd_uid=", kaasd_uid, NULL, NULL);
        if (strcmp(phase, "offline") == 0)
                return cmocka_run_group_tests_name("pam_kaas, Keystone offline", offline, NULL, NULL);
        if (strcmp(phase, "stalled") == 0)
                return cmocka_run_group_tests_name("pam_kaas, kaasd stopped with SIGSTOP", stalled, NULL, NULL);
        if (strcmp(phase, "down") == 0)
                return cmocka_run_group_tests_name("pam_kaas, no kaasd", down, NULL, NULL);
        fprintf(stderr, "usage: %s up|typo|names|untrusted|kaasd_uid|offline|stalled|down\n", argv[0]);
        return 2;
}
