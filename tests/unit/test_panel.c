/*
 * Unit tests of kaas-panel's own parsing and rendering (panel/libkaas-panel.la): the template
 * layer escapes every %s value and only %r is raw; the form decoder takes well-formed bodies
 * whole and refuses anything else whole; sessions end when idle, at their absolute expiry and
 * before their proof's, get a new ID at login, check CSRF tokens in constant time and show a
 * new token once; kubeconfigs and the ClusterRoleBinding quote every value.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "panel/form.h"
#include "panel/html.h"
#include "panel/kubeconfig.h"
#include "panel/session.h"
#include "panel/settings.h"
#include "token_format.h"

static char *render(const char *fmt, ...) {
        struct html h = { 0 };
        va_list ap;
        va_start(ap, fmt);
        html_vprintf(&h, fmt, ap);
        va_end(ap);
        size_t len;
        return html_finish(&h, &len);
}

/* ------------------------------------------------------------ templates */

static void test_escape_by_default(void **state) {
        char *s = render("<td>%s</td>", "<script>alert(1)</script>");
        assert_string_equal(s, "<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>");
        free(s);
        s = render("<a href=\"%s\" title='%s'>", "\" onmouseover=\"x", "' `y` &");
        assert_string_equal(s, "<a href=\"&quot; onmouseover=&quot;x\" title='&#39; &#96;y&#96; &amp;'>");
        free(s);
}

static void test_control_characters_dropped(void **state) {
        char *s = render("%s", "a\x01" "b\x7f" "c\td\n");
        assert_string_equal(s, "abc\td\n");
        free(s);
}

static void test_raw_only_when_asked(void **state) {
        char *s = render("%r|%s|%d|%u|%lld|%zu|%%", "<b>", "<b>", -3, 4u, 5ll, (size_t)6);
        assert_string_equal(s, "<b>|&lt;b&gt;|-3|4|5|6|%");
        free(s);
        s = render("%s%s", NULL, "x");
        assert_string_equal(s, "x");
        free(s);
}

static void test_unknown_directive_fails_the_page(void **state) {
        assert_null(render("a %x b", 1));
        assert_null(render("trailing %"));
}

/* ------------------------------------------------------------ forms */

static void test_form_decodes(void **state) {
        struct form f;
        const char *body = "user=al%69ce&password=p%26ss+w%3Dord&domain=&csrf=x%C3%A9";
        assert_int_equal(form_parse(body, strlen(body), &f), 0);
        assert_string_equal(form_get(&f, "user"), "alice");
        assert_string_equal(form_get(&f, "password"), "p&ss w=ord");
        assert_string_equal(form_get(&f, "domain"), "");
        assert_string_equal(form_get(&f, "csrf"), "x\xc3\xa9");
        assert_null(form_get(&f, "other"));
        form_clear(&f);
        assert_int_equal(f.n, 0);
}

static void test_form_refuses_whole(void **state) {
        static const char *const bad[] = {
                "a=%zz", "a=%4", "a=1&a=2", "a=%00", "=x", "a=%C0%AF", "a=%ED%A0%80", "a=%FF", "a=%E2%82",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct form f;
                assert_int_equal(form_parse(bad[i], strlen(bad[i]), &f), -EINVAL);
                assert_int_equal(f.n, 0);
        }
}

static void test_form_bounds(void **state) {
        char body[4 * FORM_VALUE_MAX];
        struct form f;
        /* 17 fields */
        body[0] = '\0';
        for (int i = 0; i < FORM_MAX_FIELDS + 1; i++)
                snprintf(body + strlen(body), sizeof(body) - strlen(body), "f%d=1&", i);
        assert_int_equal(form_parse(body, strlen(body), &f), -EINVAL);
        /* a value one byte too long, and one at the limit */
        memcpy(body, "v=", 2);
        memset(body + 2, 'x', FORM_VALUE_MAX + 1);
        assert_int_equal(form_parse(body, FORM_VALUE_MAX + 3, &f), -EINVAL);
        assert_int_equal(form_parse(body, FORM_VALUE_MAX + 2, &f), 0);
        assert_int_equal(strlen(form_get(&f, "v")), FORM_VALUE_MAX);
        form_clear(&f);
        /* a name too long */
        memset(body, 'n', FORM_NAME_MAX + 1);
        memcpy(body + FORM_NAME_MAX + 1, "=1", 2);
        assert_int_equal(form_parse(body, FORM_NAME_MAX + 3, &f), -EINVAL);
        /* empty fields are skipped, a bare name is an empty value */
        assert_int_equal(form_parse("&&a&b=2&", 8, &f), 0);
        assert_string_equal(form_get(&f, "a"), "");
        assert_string_equal(form_get(&f, "b"), "2");
        form_clear(&f);
}

/* ------------------------------------------------------------ sessions */

static const struct session_login alice = {
        .user_name = "alice",
        .user_id = "a11ce",
        .domain_id = "default",
        .keystone_token = "gAAAAAB-keystone-token",
        .proof_expires = 1000000 + 3600,
        .admin_mask = 1,
};

static void test_session_idle_and_absolute(void **state) {
        struct session_table *t;
        struct session_view v;
        char id[SESSION_ID_CHARS + 1];
        assert_int_equal(session_table_new(10, 10, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &alice, 1000000, id), 0);
        assert_int_equal(strlen(id), SESSION_ID_CHARS);
        /* each request restarts the idle clock... */
        for (int i = 1; i <= 11; i++) {
                assert_int_equal(session_lookup(t, id, 1000000 + i * 50, &v), 0);
                assert_string_equal(v.user_name, "alice");
                assert_string_equal(v.keystone_token, "gAAAAAB-keystone-token");
                session_view_clear(&v);
        }
        /* ...but not the absolute lifetime (600 s) */
        assert_int_equal(session_lookup(t, id, 1000000 + 600, &v), -ENOENT);
        /* idle: 60 s without a request */
        assert_int_equal(session_create(t, &alice, 1000000, id), 0);
        assert_int_equal(session_lookup(t, id, 1000000 + 59, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_lookup(t, id, 1000000 + 59 + 60, &v), -ENOENT);
        /* an ended session stays ended */
        assert_int_equal(session_lookup(t, id, 1000000 + 60, &v), -ENOENT);
        assert_int_equal(session_count(t), 0);
        session_table_free(t);
}

/* An abandoned session's proof and a token it never showed go when the
 * session ends, not when the table next fills up. */
static void test_session_sweep(void **state) {
        struct session_table *t;
        struct session_view v;
        char idle[SESSION_ID_CHARS + 1], busy[SESSION_ID_CHARS + 1], idle2[SESSION_ID_CHARS + 1];
        assert_int_equal(session_table_new(10, 10, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &alice, 1000000, idle), 0);
        assert_int_equal(session_create(t, &alice, 1000000, busy), 0);
        assert_int_equal(session_create(t, &alice, 1000000, idle2), 0);
        assert_int_equal(session_lookup(t, busy, 1000000 + 50, &v), 0);
        session_view_clear(&v);
        session_sweep(t, 1000000 + 59);
        assert_int_equal(session_count(t), 3);
        /* idle and idle2 have had no request for 60 s; busy had one 10 s ago */
        session_sweep(t, 1000000 + 60);
        assert_int_equal(session_count(t), 1);
        assert_int_equal(session_lookup(t, busy, 1000000 + 60, &v), 0);
        session_view_clear(&v);
        /* the absolute lifetime too */
        session_sweep(t, 1000000 + 600);
        assert_int_equal(session_count(t), 0);
        session_table_free(t);
}

static void test_session_not_past_its_proof(void **state) {
        struct session_table *t;
        struct session_view v;
        char id[SESSION_ID_CHARS + 1];
        struct session_login short_proof = alice;
        short_proof.proof_expires = 1000000 + 300;
        assert_int_equal(session_table_new(10, 10, 3600, 86400, &t), 0);
        assert_int_equal(session_create(t, &short_proof, 1000000, id), 0);
        assert_int_equal(session_lookup(t, id, 1000000 + 200, &v), 0);
        session_view_clear(&v);
        /* ends a margin before the Keystone token does */
        assert_int_equal(session_lookup(t, id, 1000000 + 299, &v), -ENOENT);
        session_table_free(t);
}

static void test_session_ids_and_logout(void **state) {
        struct session_table *t;
        struct session_view v;
        char first[SESSION_ID_CHARS + 1], id[SESSION_ID_CHARS + 1], forged[SESSION_ID_CHARS + 1];
        assert_int_equal(session_table_new(10, 10, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &alice, 1000000, first), 0);
        assert_int_equal(session_create(t, &alice, 1000000, id), 0);
        assert_string_not_equal(first, id);     /* every login its own ID */
        /* only what the cookie held finds it: one character off, malformed, empty */
        memcpy(forged, id, sizeof(id));
        forged[0] = forged[0] == 'A' ? 'B' : 'A';
        assert_int_equal(session_lookup(t, forged, 1000000, &v), -ENOENT);
        assert_int_equal(session_lookup(t, "short", 1000000, &v), -ENOENT);
        assert_int_equal(session_lookup(t, "", 1000000, &v), -ENOENT);
        session_end(t, id);
        assert_int_equal(session_lookup(t, id, 1000000, &v), -ENOENT);
        session_table_free(t);
}

static void test_session_csrf(void **state) {
        struct session_table *t;
        struct session_view v, w;
        char a[SESSION_ID_CHARS + 1], b[SESSION_ID_CHARS + 1];
        assert_int_equal(session_table_new(10, 10, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &alice, 1000000, a), 0);
        assert_int_equal(session_create(t, &alice, 1000000, b), 0);
        assert_int_equal(session_lookup(t, a, 1000000, &v), 0);
        assert_int_equal(session_lookup(t, b, 1000000, &w), 0);
        assert_int_equal(strlen(v.csrf), SESSION_ID_CHARS);
        assert_true(session_csrf_ok(&v, v.csrf));
        assert_false(session_csrf_ok(&v, w.csrf));  /* another session's */
        assert_false(session_csrf_ok(&v, NULL));
        assert_false(session_csrf_ok(&v, ""));
        char almost[SESSION_ID_CHARS + 1];
        memcpy(almost, v.csrf, sizeof(almost));
        almost[SESSION_ID_CHARS - 1] ^= 1;
        assert_false(session_csrf_ok(&v, almost));
        session_view_clear(&v);
        session_view_clear(&w);
        session_table_free(t);
}

static void test_session_new_token_once(void **state) {
        struct session_table *t;
        char id[SESSION_ID_CHARS + 1];
        char *tok = NULL;
        struct session_login now = alice;
        now.proof_expires = (int64_t)time(NULL) + 3600;
        assert_int_equal(session_table_new(10, 10, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &now, time(NULL), id), 0);
        assert_int_equal(session_take_new_token(t, id, &tok), -ENOENT);
        assert_int_equal(session_put_new_token(t, id, "kaas_secret"), 0);
        assert_int_equal(session_take_new_token(t, id, &tok), 0);
        assert_string_equal(tok, "kaas_secret");
        free(tok);
        assert_int_equal(session_take_new_token(t, id, &tok), -ENOENT);
        session_table_free(t);
}

static void test_session_max(void **state) {
        struct session_table *t;
        struct session_view v;
        char ids[3][SESSION_ID_CHARS + 1], more[SESSION_ID_CHARS + 1];
        struct session_login bob = alice;
        bob.user_name = "bob";
        bob.user_id = "bob-id";
        assert_int_equal(session_table_new(3, 3, 60, 600, &t), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(session_create(t, &alice, 1000000 + i, ids[i]), 0);
        /* full: another user's login is refused, nobody is logged out */
        assert_int_equal(session_create(t, &bob, 1000003, more), -EBUSY);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(session_lookup(t, ids[i], 1000004, &v), 0);
                session_view_clear(&v);
        }
        /* expired sessions go first */
        assert_int_equal(session_create(t, &bob, 1000000 + 1000, more), 0);
        session_table_free(t);
}

/* Logs n users in at now with the Keystone tokens prefix0, prefix1, ...,
 * and ends their sessions (idle) in one sweep, in no particular order. */
static void end_sessions(struct session_table *t, const char *prefix, int n, time_t now) {
        char id[SESSION_ID_CHARS + 1];
        for (int i = 0; i < n; i++) {
                char name[48];
                snprintf(name, sizeof(name), "%s%d", prefix, i);
                struct session_login u = alice;
                u.user_id = name;
                u.keystone_token = name;
                assert_int_equal(session_create(t, &u, now, id), 0);
        }
        session_sweep(t, now + 60);
}

/* The Keystone token of a session that ends by itself (idle, at its
 * expiry, pushed out by max_per_user) is handed over once for
 * revocation; one ended by session_end() (logout, whose route revokes it
 * itself) hands over nothing. When more end than
 * the table keeps, the oldest go and are counted. */
static void test_session_ended_tokens(void **state) {
        struct session_table *t;
        struct session_view v;
        char idle[SESSION_ID_CHARS + 1], out[SESSION_ID_CHARS + 1], first[SESSION_ID_CHARS + 1],
                second[SESSION_ID_CHARS + 1];
        char *got[4] = { NULL };
        size_t dropped = 99;
        struct session_login bob = alice, alice2 = alice;
        bob.user_id = "b0b";
        bob.keystone_token = "gAAAAAB-bob";
        alice2.keystone_token = "gAAAAAB-alice-2";
        assert_int_equal(session_table_new(10, 1, 60, 600, &t), 0);
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 0);
        assert_int_equal(dropped, 0);
        assert_int_equal(session_create(t, &bob, 1000000, idle), 0);
        assert_int_equal(session_create(t, &alice, 1000000, first), 0);
        assert_int_equal(session_create(t, &alice2, 1000010, out), 1);
        /* max_per_user = 1: alice's second login pushed her first out */
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 1);
        assert_string_equal(got[0], "gAAAAAB-keystone-token");
        free(got[0]);
        /* logout: nothing to hand over */
        session_end(t, out);
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 0);
        /* bob idles out: his token comes */
        session_sweep(t, 1000000 + 60);
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 1);
        assert_string_equal(got[0], "gAAAAAB-bob");
        free(got[0]);
        /* found expired by a lookup: the same */
        assert_int_equal(session_create(t, &bob, 1000100, second), 0);
        assert_int_equal(session_lookup(t, second, 1000100 + 60, &v), -ENOENT);
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 1);
        assert_string_equal(got[0], "gAAAAAB-bob");
        /* handed back, it comes again */
        session_keep_ended(t, got[0]);
        assert_int_equal(session_take_ended(t, got, 4, &dropped), 1);
        assert_string_equal(got[0], "gAAAAAB-bob");
        free(got[0]);
        session_table_free(t);

        /* more ended than kept: the oldest go, counted once; the rest come
         * in the order they ended */
        assert_int_equal(session_table_new(SESSION_ENDED_MAX + 10, 1, 60, 600, &t), 0);
        end_sessions(t, "A", 3, 1000000);
        end_sessions(t, "B", SESSION_ENDED_MAX - 1, 1000100);
        end_sessions(t, "C", 1, 1000200);
        assert_int_equal(session_ended_count(t), SESSION_ENDED_MAX);
        char *x = NULL, oldest[48];
        assert_int_equal(session_take_ended(t, &x, 1, &dropped), 1);
        assert_int_equal(dropped, 3);
        assert_int_equal(x[0], 'B');
        snprintf(oldest, sizeof(oldest), "%s", x);
        /* one handed back comes first again */
        session_keep_ended(t, x);
        assert_int_equal(session_take_ended(t, &x, 1, &dropped), 1);
        assert_int_equal(dropped, 0);
        assert_string_equal(x, oldest);
        /* handed back to a queue that filled meanwhile: it was the oldest,
         * so it is the one that goes */
        end_sessions(t, "D", 1, 1000300);
        session_keep_ended(t, x);
        char **all = calloc(SESSION_ENDED_MAX + 1, sizeof(*all));
        assert_non_null(all);
        assert_int_equal(session_take_ended(t, all, SESSION_ENDED_MAX + 1, &dropped), SESSION_ENDED_MAX);
        assert_int_equal(dropped, 1);
        for (size_t i = 0; i < SESSION_ENDED_MAX - 2; i++) {
                assert_int_equal(all[i][0], 'B');
                assert_string_not_equal(all[i], oldest);
        }
        assert_string_equal(all[SESSION_ENDED_MAX - 2], "C0");
        assert_string_equal(all[SESSION_ENDED_MAX - 1], "D0");
        for (size_t i = 0; i < SESSION_ENDED_MAX; i++)
                free(all[i]);
        free(all);
        assert_int_equal(session_ended_count(t), 0);
        session_table_free(t);
}

/* One account cannot fill the table: its least recently used session
 * makes room for its next login; other users' sessions stay. */
static void test_session_max_per_user(void **state) {
        struct session_table *t;
        struct session_view v;
        char a[3][SESSION_ID_CHARS + 1], b[SESSION_ID_CHARS + 1], more[SESSION_ID_CHARS + 1];
        struct session_login bob = alice;
        bob.user_name = "bob";
        bob.user_id = "b0b";
        assert_int_equal(session_table_new(10, 3, 60, 600, &t), 0);
        assert_int_equal(session_create(t, &bob, 1000000, b), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(session_create(t, &alice, 1000001 + i, a[i]), 0);
        /* a[0] is used after a[1]: a[1] is alice's least recently used */
        assert_int_equal(session_lookup(t, a[0], 1000010, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_create(t, &alice, 1000011, more), 1);  /* one of hers ended */
        assert_int_equal(session_count(t), 4);
        assert_int_equal(session_lookup(t, a[1], 1000012, &v), -ENOENT);
        assert_int_equal(session_lookup(t, a[0], 1000012, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_lookup(t, a[2], 1000012, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_lookup(t, more, 1000012, &v), 0);
        assert_string_equal(v.user_name, "alice");
        session_view_clear(&v);
        assert_int_equal(session_lookup(t, b, 1000012, &v), 0);
        session_view_clear(&v);
        /* her expired sessions do not count, and end: 60 s after their
         * last use a[0] and a[2] are over, more (used since) is not, and
         * her next login ends only those two */
        assert_int_equal(session_lookup(t, more, 1000060, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_count(t), 4);
        assert_int_equal(session_create(t, &alice, 1000073, a[1]), 0);
        assert_int_equal(session_count(t), 3);
        assert_int_equal(session_lookup(t, more, 1000073, &v), 0);
        session_view_clear(&v);
        assert_int_equal(session_lookup(t, a[1], 1000073, &v), 0);
        session_view_clear(&v);
        /* a maximum of 0 is refused */
        struct session_table *zero = NULL;
        assert_int_equal(session_table_new(10, 0, 60, 600, &zero), -EINVAL);
        assert_int_equal(session_table_new(0, 1, 60, 600, &zero), -EINVAL);
        assert_null(zero);
        session_table_free(t);
}

/* ------------------------------------------------------------ documents */

static void test_kubeconfig_quoted(void **state) {
        struct panel_cluster c = {
                .name = (char *)"prod",
                .server = (char *)"https://prod.example.com:6443",
                .ca_data = (char *)"Q0E=",
        };
        char token[TOKEN_STRING_SIZE];
        assert_int_equal(token_generate(token), 0);
        char *doc = NULL;
        size_t len = 0;
        assert_int_equal(panel_kubeconfig(&c, "al\"ice\n", token, &doc, &len), 0);
        assert_non_null(strstr(doc, "server: \"https://prod.example.com:6443\"\n"));
        assert_non_null(strstr(doc, "certificate-authority-data: \"Q0E=\"\n"));
        assert_non_null(strstr(doc, "current-context: \"prod\"\n"));
        char line[128];
        snprintf(line, sizeof(line), "token: \"%s\"\n", token);
        assert_non_null(strstr(doc, line));
        free(doc);
        /* nothing but a KaaS token goes in */
        assert_int_equal(panel_kubeconfig(&c, "alice", "kaas_x\"\nuser: root", &doc, &len), -EINVAL);
}

static void test_rbac_quoted(void **state) {
        json_t *ids = json_pack("[s, s, s]", "abc", "x\": y\n- z", "abc");
        char *doc = NULL;
        size_t len = 0;
        assert_int_equal(panel_rbac_yaml("alpha", ids, &doc, &len), 0);
        assert_non_null(strstr(doc, "name: \"kaas:cluster-admin:alpha\"\n"));
        assert_non_null(strstr(doc, "  name: \"abc\"\n"));
        assert_non_null(strstr(doc, "  name: \"x\\\": y\\x0a- z\"\n"));
        /* duplicates named once */
        assert_null(strstr(strstr(doc, "\"abc\"") + 1, "\"abc\""));
        free(doc);
        json_decref(ids);
}

/* ------------------------------------------------------------ settings */

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_settings_services_and_forward_auth(void **state) {
        char dir[] = "/tmp/kaas-test-panel-unit.XXXXXX", conf[128], ca[128], err[600];
        assert_non_null(mkdtemp(dir));
        snprintf(conf, sizeof(conf), "%s/panel.conf", dir);
        snprintf(ca, sizeof(ca), "%s/ca.crt", dir);
        write_file(ca, "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n");
        char text[1024];
        snprintf(text, sizeof(text),
                 "[panel]\ncert = /c\nkey = /k\norigin = https://Kaas.Example.com:8444\ncookie_domain = example.com\n"
                 "[forward_auth]\nuser_header = X-User\n"
                 "[cluster prod]\nserver = https://prod.example.com:6443\nca_file = %s\n"
                 "service = Grafana https://grafana.prod.example.com\n"
                 "service = Big Registry https://registry.prod.example.com/ui k8s-admins,reader\n",
                 ca);
        write_file(conf, text);
        struct panel_settings *s;
        assert_int_equal(panel_settings_new(&s), 0);
        assert_int_equal(panel_settings_load(s, conf, err, sizeof(err)), 0);
        assert_int_equal(panel_settings_validate(s, err, sizeof(err)), 0);
        assert_string_equal(panel_cookie_name(s), "__Secure-kaas-session");
        assert_string_equal(s->origin, "https://kaas.example.com:8444");     /* as a browser sends it */
        assert_string_equal(s->fa_user_header, "X-User");
        assert_string_equal(s->fa_uid_header, "X-Remote-Uid");
        assert_string_equal(s->fa_groups_header, "X-Remote-Groups");
        const struct panel_cluster *c = panel_cluster_find(s, "prod");
        assert_non_null(c);
        assert_int_equal(c->n_services, 2);
        assert_string_equal(c->services[0].label, "Grafana");
        assert_int_equal(c->services[0].n_roles, 0);
        assert_string_equal(c->services[1].label, "Big Registry");
        assert_string_equal(c->services[1].url, "https://registry.prod.example.com/ui");
        assert_int_equal(c->services[1].n_roles, 2);
        assert_string_equal(c->services[1].roles[0], "k8s-admins");
        assert_string_equal(c->services[1].roles[1], "reader");
        assert_string_equal(c->ca_data, "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tClFVSkQKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=");
        /* return_to may lead to the origin's host and the services' */
        assert_int_equal(s->n_return_to_hosts, 3);
        assert_string_equal(s->return_to_hosts[0], "kaas.example.com");
        assert_string_equal(s->return_to_hosts[1], "grafana.prod.example.com");
        assert_string_equal(s->return_to_hosts[2], "registry.prod.example.com");
        panel_settings_free(s);

        /* https's own port is never in an Origin */
        snprintf(text, sizeof(text),
                 "[panel]\ncert = /c\nkey = /k\norigin = https://KAAS.example.com:443\n"
                 "[cluster prod]\nserver = https://prod.example.com:6443\nca_file = %s\n", ca);
        write_file(conf, text);
        assert_int_equal(panel_settings_new(&s), 0);
        assert_int_equal(panel_settings_load(s, conf, err, sizeof(err)), 0);
        assert_int_equal(panel_settings_validate(s, err, sizeof(err)), 0);
        assert_string_equal(s->origin, "https://kaas.example.com");
        panel_settings_free(s);

        /* what is refused, with file and line */
        static const char *const bad[] = {
                "[panel]\nbogus = 1\n",
                "[forward_auth]\nuser_header = X User\n",
                "[cluster prod]\nservice = https://x.example.com\n",
                "[cluster prod]\nservice = Label javascript:alert(1)\n",
                "[cluster prod]\nservice = Label https://x.example.com a b\n",
                "[cluster prod]\nserver = http://plain.example.com\n",
                "[cluster bad/name]\nserver = https://x.example.com\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                write_file(conf, bad[i]);
                assert_int_equal(panel_settings_new(&s), 0);
                assert_int_equal(panel_settings_load(s, conf, err, sizeof(err)), -EINVAL);
                assert_non_null(strstr(err, conf));
                panel_settings_free(s);
        }
        unlink(conf);
        unlink(ca);
        rmdir(dir);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_by_default),
                cmocka_unit_test(test_control_characters_dropped),
                cmocka_unit_test(test_raw_only_when_asked),
                cmocka_unit_test(test_unknown_directive_fails_the_page),
                cmocka_unit_test(test_form_decodes),
                cmocka_unit_test(test_form_refuses_whole),
                cmocka_unit_test(test_form_bounds),
                cmocka_unit_test(test_session_idle_and_absolute),
                cmocka_unit_test(test_session_sweep),
                cmocka_unit_test(test_session_not_past_its_proof),
                cmocka_unit_test(test_session_ids_and_logout),
                cmocka_unit_test(test_session_csrf),
                cmocka_unit_test(test_session_new_token_once),
                cmocka_unit_test(test_session_max),
                cmocka_unit_test(test_session_max_per_user),
                cmocka_unit_test(test_session_ended_tokens),
                cmocka_unit_test(test_kubeconfig_quoted),
                cmocka_unit_test(test_rbac_quoted),
                cmocka_unit_test(test_settings_services_and_forward_auth),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
