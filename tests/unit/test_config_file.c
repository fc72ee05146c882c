/* kaasd.conf parsing: every mistake names the file and line, and a valid
 * file sets exactly what it says. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "kaasd/config_file.h"
#include "kaasd/keystone_url.h"

static char path[256];

static int write_conf(const char *text) {
        snprintf(path, sizeof(path), "/tmp/kaas-test-conf-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0)
                return -1;
        size_t n = strlen(text);
        int r = write(fd, text, n) == (ssize_t)n ? 0 : -1;
        close(fd);
        return r;
}

static void expect_error(const char *text, int line, const char *needle) {
        assert_int_equal(write_conf(text), 0);
        struct config *c = NULL;
        char err[512] = "";
        assert_int_equal(config_load(path, &c, err, sizeof(err)), -EINVAL);
        assert_null(c);
        char where[300];
        if (line > 0)
                snprintf(where, sizeof(where), "%s:%d: ", path, line);
        else
                snprintf(where, sizeof(where), "%s: ", path);
        if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, needle))
                fail_msg("got \"%s\", expected \"%s...%s\"", err, where, needle);
        unlink(path);
}

static void test_defaults(void **state) {
        struct config *c;
        assert_int_equal(config_new(&c), 0);
        assert_int_equal(c->token_default_days, 365);
        assert_int_equal(c->cache_ttl_sec, 300);
        assert_int_equal(c->max_message_size, 1024 * 1024);
        assert_true(c->keystone_verify_tls);
        assert_null(c->keystone_url);
        /* the role admin must not become the group admin */
        assert_string_equal(c->role_group_prefix, "kaas-");
        char err[256];
        assert_int_equal(config_validate(c, err, sizeof(err)), 0);
        config_free(c);
}

static void test_full_file(void **state) {
        assert_int_equal(write_conf("# comment\n"
                                    "[kaasd]\n"
                                    "socket = /tmp/x.sock\n"
                                    "socket_mode = 0660\n"
                                    "max_message_size = 64K\n"
                                    "idle_timeout = 30\n"
                                    "log_level = debug\n"
                                    "validator_group = kaas-validators\n"
                                    "[keystone]\n"
                                    "url = https://keystone.example:5000\n"
                                    "user = kaasd\n"
                                    "password_file = /etc/kaas/keystone.password\n"
                                    "verify_tls = no\n"
                                    "[tokens]\n"
                                    "default_lifetime_days = 30\n"
                                    "max_lifetime_days = 90\n"
                                    "[cluster alpha]\n"
                                    "admin_roles = k8s-admins-alpha, f6120fe6406a473682c3b25cdea4510a\n"
                                    "[cluster beta]\n"
                                    "admin_roles = k8s-admins-beta, r\xc3\xb4le-admins\n"),
                         0);
        struct config *c = NULL;
        char err[512] = "";
        if (config_load(path, &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_string_equal(c->socket_path, "/tmp/x.sock");
        assert_int_equal(c->socket_mode, 0660);
        assert_int_equal(c->max_message_size, 65536);
        assert_int_equal(c->idle_timeout_sec, 30);
        assert_int_equal(c->log_level, LOG_DEBUG);
        assert_string_equal(c->validator_group, "kaas-validators");
        assert_string_equal(c->keystone_url, "https://keystone.example:5000");
        assert_false(c->keystone_verify_tls);
        assert_int_equal(c->token_default_days, 30);
        assert_int_equal(c->n_clusters, 2);
        assert_string_equal(c->clusters[0].name, "alpha");
        assert_int_equal(c->clusters[0].n_admin_roles, 2);
        assert_string_equal(c->clusters[0].admin_roles[1], "f6120fe6406a473682c3b25cdea4510a");
        assert_string_equal(c->clusters[1].admin_roles[0], "k8s-admins-beta");
        assert_string_equal(c->clusters[1].admin_roles[1], "r\xc3\xb4le-admins");  /* UTF-8 role names */
        config_free(c);
        unlink(path);
}

static void test_errors(void **state) {
        expect_error("[kaasd]\nbogus = 1\n", 2, "unknown key 'bogus' in [kaasd]");
        expect_error("[kaasd]\n\n\nsocket = relative/path\n", 4, "absolute path");
        expect_error("[nope]\nx = 1\n", 2, "unknown section [nope]");
        expect_error("[kaasd]\nmax_connections = many\n", 2, "must be a number");
        expect_error("[kaasd]\nmax_connections = -5\n", 2, "must be a number");
        expect_error("[kaasd]\nmax_connections = 0\n", 2, "between 1 and");
        expect_error("[kaasd]\nmax_connections = 99999999999999999999999\n", 2, "must be a number");
        expect_error("[kaasd]\nsocket_mode = 0999\n", 2, "octal mode");
        expect_error("[kaasd]\nlog_level = loud\n", 2, "one of");
        expect_error("[keystone]\nverify_tls = maybe\n", 2, "yes or no");
        expect_error("[kaasd]\nthis line has no equals sign\n", 2, "syntax error");
        expect_error("[cluster alpha]\nadmin_roles = \n", 2, "empty");
        expect_error("[cluster alpha]\nowner = x\n", 2, "unknown key 'owner'");
        expect_error("[kaasd]\nsocket = /a\nbogus = 2\nother = 3\n", 3, "bogus");  /* first error wins */
        expect_error("[tokens]\ndefault_lifetime_days = 400\nmax_lifetime_days = 365\n", 0,
                     "default_lifetime_days (400) exceeds max_lifetime_days (365)");
        expect_error("[nss]\nuid_min = 300000\nuid_max = 200000\n", 0, "uid_min");
        expect_error("[keystone]\nurl = ftp://x\nuser = u\npassword_file = /p\n", 0, "https://");
        expect_error("[keystone]\nurl = https://x\n", 0, "user or password_file is missing");
        /* plain HTTP only to this machine unless insecure_http says otherwise */
        expect_error("[keystone]\nurl = http://keystone.example:5000\nuser = u\npassword_file = /p\n", 0,
                     "insecure_http");
        expect_error("[keystone]\nurl = http://10.0.0.5/identity\nuser = u\npassword_file = /p\n", 0, "10.0.0.5");
        expect_error("[keystone]\nurl = http://127.0.0.1.example/\nuser = u\npassword_file = /p\n", 0,
                     "not this machine");
        expect_error("[keystone]\nurl = HTTP://[2001:db8::1]:5000\nuser = u\npassword_file = /p\n", 0,
                     "insecure_http");
        expect_error("[keystone]\nurl = http://localhost@keystone.example/\nuser = u\npassword_file = /p\n", 0,
                     "user@");
        expect_error("[keystone]\nurl = https://\nuser = u\npassword_file = /p\n", 0, "name a host");
}

static void load_ok(const char *text, bool want_plain_remote) {
        assert_int_equal(write_conf(text), 0);
        struct config *c = NULL;
        char err[512] = "";
        if (config_load(path, &c, err, sizeof(err)) != 0)
                fail_msg("%s: %s", text, err);
        assert_int_equal(keystone_url_is_plain_remote(c->keystone_url), want_plain_remote);
        config_free(c);
        unlink(path);
}

static void test_keystone_url(void **state) {
        load_ok("[keystone]\nurl = https://keystone.example:5000\nuser = u\npassword_file = /p\n", false);
        load_ok("[keystone]\nurl = http://127.0.0.1:5000\nuser = u\npassword_file = /p\n", false);
        load_ok("[keystone]\nurl = http://127.8.9.1/identity\nuser = u\npassword_file = /p\n", false);
        load_ok("[keystone]\nurl = http://localhost:5000\nuser = u\npassword_file = /p\n", false);
        load_ok("[keystone]\nurl = http://[::1]:5000/\nuser = u\npassword_file = /p\n", false);
        load_ok("[keystone]\nurl = http://keystone.example:5000\nuser = u\npassword_file = /p\ninsecure_http = yes\n",
                true);
}

static void test_role_group_prefix(void **state) {
        struct config *c = NULL;
        char err[512] = "";
        /* an empty value turns the prefix off */
        assert_int_equal(write_conf("[nss]\nrole_group_prefix =\n"), 0);
        if (config_load(path, &c, err, sizeof(err)) != 0)
                fail_msg("%s", err);
        assert_string_equal(c->role_group_prefix, "");
        config_free(c);
        unlink(path);
        assert_int_equal(write_conf("[nss]\nrole_group_prefix = os-\n"), 0);
        assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
        assert_string_equal(c->role_group_prefix, "os-");
        config_free(c);
        unlink(path);
        expect_error("[nss]\nrole_group_prefix = Kaas\n", 0, "role_group_prefix may hold only");
}

#define ETCD_OK "[etcd]\nendpoints = https://10.0.0.1:2379, https://10.0.0.2:2379\n" \
        "ca_file = /etc/kaas/etcd/ca.crt\ncert_file = /etc/kaas/etcd/kaasd.crt\n" \
        "key_file = /etc/kaas/etcd/kaasd.key\nuser = kaas-writer\n" \
        "password_file = /etc/kaas/etcd/password\nnode = cp-1\n"

static void test_etcd(void **state) {
        struct config *c = NULL;
        char err[512] = "";
        /* without [etcd], kaasd is standalone */
        assert_int_equal(config_new(&c), 0);
        assert_null(c->etcd_endpoints);
        assert_string_equal(c->etcd_prefix, "/kaas/");
        assert_string_equal(c->etcd_role, "reader");
        assert_int_equal(c->etcd_max_disconnected_sec, 0);
        config_free(c);

        assert_int_equal(write_conf(ETCD_OK "role = writer\nprefix = /env1/kaas/\nmax_disconnected = 600\n"), 0);
        assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
        assert_string_equal(c->etcd_endpoints, "https://10.0.0.1:2379, https://10.0.0.2:2379");
        assert_string_equal(c->etcd_role, "writer");
        assert_string_equal(c->etcd_node, "cp-1");
        assert_string_equal(c->etcd_prefix, "/env1/kaas/");
        assert_int_equal(c->etcd_max_disconnected_sec, 600);
        config_free(c);
        unlink(path);

        expect_error(ETCD_OK "role = admin\n", 0, "[etcd] role must be writer or reader");
        expect_error(ETCD_OK "prefix = kaas\n", 0, "[etcd] prefix must start and end with /");
        expect_error(ETCD_OK "node = a b\n", 0, "[etcd] node may hold only");
        expect_error("[etcd]\nuser = kaas-writer\n", 0, "[etcd] endpoints is required");
        expect_error("[etcd]\nendpoints = http://10.0.0.1:2379\n", 0, "[etcd] needs endpoints, ca_file");
        expect_error(ETCD_OK "endpoints = https://a:1,http://b:2\n", 0, "[etcd] endpoints must be https://");
        expect_error(ETCD_OK "max_disconnected = -1\n", 9, "max_disconnected must be");
}

static void test_missing_file(void **state) {
        struct config *c = NULL;
        char err[512];
        assert_int_equal(config_load("/nonexistent/kaasd.conf", &c, err, sizeof(err)), -ENOENT);
        assert_non_null(strstr(err, "/nonexistent/kaasd.conf: cannot open"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults),
                cmocka_unit_test(test_full_file),
                cmocka_unit_test(test_errors),
                cmocka_unit_test(test_etcd),
                cmocka_unit_test(test_keystone_url),
                cmocka_unit_test(test_role_group_prefix),
                cmocka_unit_test(test_missing_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
