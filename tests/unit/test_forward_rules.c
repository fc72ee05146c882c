/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of panel/forward_rules.c: the Authorization header as nginx
 * and Traefik pass it on (Bearer, Basic with the user's name and the token
 * as password), the return_to check that keeps the login redirect inside
 * the environment, host normalisation, role requirements, the values
 * allowed into response headers and which headers name the original
 * request.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "forward_rules.h"

/* a well-formed token (checksum from zlib.crc32), as in test_token_format.c */
#define TOKEN "kaas_abcdefghijABCDEFGHIJ0123456789zyxwvutsrq4aMsra"

static char *basic(const char *user_colon_password) {
        size_t n = strlen(user_colon_password);
        size_t size = sodium_base64_encoded_len(n, sodium_base64_VARIANT_ORIGINAL);
        char *out = malloc(size + 6);

        assert_non_null(out);
        memcpy(out, "Basic ", 6);
        sodium_bin2base64(out + 6, size, (const unsigned char *)user_colon_password, n,
                          sodium_base64_VARIANT_ORIGINAL);
        return out;
}

static void test_bearer(void **state) {
        struct fa_credentials c;

        assert_int_equal(fa_parse_authorization("Bearer " TOKEN, &c), 0);
        assert_false(c.basic);
        assert_string_equal(c.token, TOKEN);
        assert_string_equal(c.user, "");
        /* the scheme without case, extra spaces around the token */
        assert_int_equal(fa_parse_authorization("bearer   " TOKEN "  ", &c), 0);
        assert_string_equal(c.token, TOKEN);
        fa_credentials_wipe(&c);
        assert_string_equal(c.token, "");
}

static void test_bearer_refused(void **state) {
        struct fa_credentials c;

        /* a typo in the token: refused by its checksum, nothing kept */
        assert_int_equal(fa_parse_authorization("Bearer kaas_abcdefghijABCDEFGHIJ0123456789zyxwvutsrq4aMsrb", &c),
                         -EBADMSG);
        assert_string_equal(c.token, "");
        /* a service-account JWT or an OpenStack token is not ours */
        assert_int_equal(fa_parse_authorization("Bearer eyJhbGciOiJSUzI1NiJ9.e30.sig", &c), -EBADMSG);
        assert_int_equal(fa_parse_authorization("Bearer", &c), -ENOENT);
        assert_int_equal(fa_parse_authorization("Bearer\t" TOKEN, &c), -ENOENT);
        assert_int_equal(fa_parse_authorization("Negotiate YIIB", &c), -ENOENT);
        assert_int_equal(fa_parse_authorization("", &c), -ENOENT);
}

static void test_basic(void **state) {
        struct fa_credentials c;
        char *h = basic("alice:" TOKEN);

        assert_int_equal(fa_parse_authorization(h, &c), 0);
        assert_true(c.basic);
        assert_string_equal(c.user, "alice");
        assert_string_equal(c.token, TOKEN);
        free(h);
        /* a user name with spaces and UTF-8 is a name like any other */
        h = basic("Zo\xc3\xab Li:" TOKEN);
        assert_int_equal(fa_parse_authorization(h, &c), 0);
        assert_string_equal(c.user, "Zo\xc3\xab Li");
        free(h);
        fa_credentials_wipe(&c);
}

static void test_basic_refused(void **state) {
        struct fa_credentials c;
        char long_user[FA_MAX_USER + 2 + sizeof(TOKEN)];
        char *h;

        h = basic("alice"); /* no colon */
        assert_int_equal(fa_parse_authorization(h, &c), -EINVAL);
        free(h);
        h = basic(":" TOKEN); /* no user */
        assert_int_equal(fa_parse_authorization(h, &c), -EINVAL);
        free(h);
        h = basic("alice:password"); /* an OpenStack password is not a KaaS token */
        assert_int_equal(fa_parse_authorization(h, &c), -EBADMSG);
        assert_string_equal(c.user, "");
        free(h);
        h = basic("al\nice:" TOKEN); /* control characters would reach a header */
        assert_int_equal(fa_parse_authorization(h, &c), -EINVAL);
        free(h);
        memset(long_user, 'a', FA_MAX_USER + 1);
        memcpy(long_user + FA_MAX_USER + 1, ":" TOKEN, sizeof(":" TOKEN));
        h = basic(long_user);
        assert_int_equal(fa_parse_authorization(h, &c), -EINVAL);
        free(h);
        assert_int_equal(fa_parse_authorization("Basic !!!!", &c), -EINVAL);
        assert_int_equal(fa_parse_authorization("Basic YWxpY2U6", &c), -EBADMSG); /* "alice:" */
}

static const char *const hosts[] = { "kibana.prod.example.com", "prod.example.com", "grafana.stage.example.com." };

static void test_return_to_inside(void **state) {
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com/app/discover?q=1#x", hosts, 3), 0);
        assert_int_equal(fa_check_return_to("https://prod.example.com/", hosts, 3), 0);
        assert_int_equal(fa_check_return_to("https://Grafana.STAGE.example.com:8443/d/abc", hosts, 3), 0);
        assert_int_equal(fa_check_return_to("HTTPS://kibana.prod.example.com", hosts, 3), 0);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com./", hosts, 3), 0);
}

static void test_return_to_outside(void **state) {
        /* other hosts, look-alikes and suffix tricks */
        assert_int_equal(fa_check_return_to("https://evil.example.net/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://evilprod.example.com/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://prod.example.com.evil.net/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://example.com/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com/", hosts, 0), -EPERM);
        /* a subdomain of a service's host, or another service under the
         * origin's, is not the host itself */
        assert_int_equal(fa_check_return_to("https://x.kibana.prod.example.com/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://grafana.prod.example.com/", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://a.grafana.stage.example.com./", hosts, 3), -EPERM);
        assert_int_equal(fa_check_return_to("https://stage.example.com/", hosts, 3), -EPERM);
        /* not a URL the browser would keep on our hosts */
        assert_int_equal(fa_check_return_to("https://prod.example.com@evil.net/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://evil.net\\@prod.example.com/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("//evil.net/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("/relative", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("http://kibana.prod.example.com/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("javascript:alert(1)//prod.example.com", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com\r\nSet-Cookie: x/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com?x", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com:/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://kibana.prod.example.com:123456/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://.prod.example.com/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://a..prod.example.com/", hosts, 3), -EINVAL);
        assert_int_equal(fa_check_return_to("https://[::1]/", hosts, 3), -EINVAL);
}

static void test_return_to_long(void **state) {
        char url[2100];

        snprintf(url, sizeof(url), "https://kibana.prod.example.com/");
        memset(url + strlen(url), 'a', 2040 - strlen(url));
        url[2040] = '\0';
        assert_int_equal(fa_check_return_to(url, hosts, 3), 0);
        memset(url + 2040, 'a', 20);
        url[2060] = '\0';
        assert_int_equal(fa_check_return_to(url, hosts, 3), -EINVAL);
}

static void test_normalize_host(void **state) {
        char h[64];

        assert_int_equal(fa_normalize_host("Kibana.Prod.Example.COM:443", h, sizeof(h)), 0);
        assert_string_equal(h, "kibana.prod.example.com");
        assert_int_equal(fa_normalize_host("grafana.prod.example.com.", h, sizeof(h)), 0);
        assert_string_equal(h, "grafana.prod.example.com");
        assert_int_equal(fa_normalize_host("127.0.0.1:8443", h, sizeof(h)), 0);
        assert_string_equal(h, "127.0.0.1");
        assert_int_equal(fa_normalize_host("", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_normalize_host("a b", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_normalize_host("host:", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_normalize_host("host:80x", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_normalize_host("kibana.prod.example.com", h, 8), -EINVAL);
}

static void test_roles(void **state) {
        const char *ids[] = { "0f1e2d", "9a8b7c" };
        const char *names[] = { "member", "kibana-user" };
        const char *need_name[] = { "kibana-user" };
        const char *need_id[] = { "other", "9a8b7c" };
        const char *need_missing[] = { "admin" };

        assert_true(fa_roles_allow(NULL, 0, ids, names, 2));
        assert_true(fa_roles_allow(need_name, 1, ids, names, 2));
        assert_true(fa_roles_allow(need_id, 2, ids, names, 2));
        assert_false(fa_roles_allow(need_missing, 1, ids, names, 2));
        assert_false(fa_roles_allow(need_name, 1, ids, names, 0));
}

static void test_header_values(void **state) {
        char big[4200];

        assert_true(fa_header_value_ok("alice"));
        assert_true(fa_header_value_ok("Zo\xc3\xab, 0f1e2d,9a8b7c"));
        assert_false(fa_header_value_ok("alice\r\nX-Remote-Groups: admin"));
        assert_false(fa_header_value_ok("a\x7f"));
        assert_false(fa_header_value_ok("a\xc2\x85"));
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_false(fa_header_value_ok(big));
}

static void test_url_host(void **state) {
        char h[64];

        assert_int_equal(fa_url_host("https://Kibana.prod.example.com:9443/app?x=1", h, sizeof(h)), 0);
        assert_string_equal(h, "kibana.prod.example.com");
        assert_int_equal(fa_url_host("http://grafana.prod.example.com", h, sizeof(h)), 0);
        assert_string_equal(h, "grafana.prod.example.com");
        assert_int_equal(fa_url_host("ftp://x.example.com/", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_url_host("https://a@b.example.com/", h, sizeof(h)), -EINVAL);
        assert_int_equal(fa_url_host("https:///path", h, sizeof(h)), -EINVAL);
}

static void test_original_url(void **state) {
        char u[128];

        /* nginx as documented, Traefik: X-Forwarded-* */
        assert_int_equal(fa_original_url(NULL, "grafana.prod.example.com", "/d?x=1", "https", u, sizeof(u)), 0);
        assert_string_equal(u, "https://grafana.prod.example.com/d?x=1");
        assert_int_equal(fa_original_url(NULL, "grafana.prod.example.com", NULL, "http", u, sizeof(u)), 0);
        assert_string_equal(u, "http://grafana.prod.example.com/");
        /* ingress-nginx: X-Original-URL */
        assert_int_equal(fa_original_url("https://grafana.prod.example.com/d", NULL, NULL, NULL, u, sizeof(u)), 0);
        assert_string_equal(u, "https://grafana.prod.example.com/d");
        /* both, naming one host (case, port and a trailing dot aside) */
        assert_int_equal(fa_original_url("https://grafana.prod.example.com:8443/d", "Grafana.prod.example.com.:8443",
                                         "/d", NULL, u, sizeof(u)),
                         0);
        assert_string_equal(u, "https://Grafana.prod.example.com.:8443/d");
        /* a client's own X-Forwarded-Host passed on by ingress-nginx, or
         * its own X-Original-URL passed on by nginx: another service */
        assert_int_equal(fa_original_url("https://grafana.prod.example.com/d", "kibana.prod.example.com", "/d",
                                         NULL, u, sizeof(u)),
                         -EPERM);
        assert_string_equal(u, "");
        assert_int_equal(fa_original_url("", "kibana.prod.example.com", "/", NULL, u, sizeof(u)), -EPERM);
        assert_int_equal(fa_original_url("https://a@kibana.prod.example.com/", "kibana.prod.example.com", "/", NULL,
                                         u, sizeof(u)),
                         -EPERM);
        assert_int_equal(fa_original_url(NULL, NULL, "/d", NULL, u, sizeof(u)), -ENOENT);
        assert_int_equal(fa_original_url(NULL, "", "/d", NULL, u, sizeof(u)), -ENOENT);
        assert_int_equal(fa_original_url(NULL, "grafana.prod.example.com", "/a-path-far-too-long-for-the-buffer",
                                         NULL, u, 40),
                         -ENOBUFS);
        assert_string_equal(u, "");
}

static void test_login_url(void **state) {
        char u[128];

        assert_int_equal(fa_login_url("https://kaas.example.com", "https://kibana.prod.example.com/a b?x=1&y=%", u,
                                      sizeof(u)),
                         0);
        assert_string_equal(u, "https://kaas.example.com/login?return_to="
                               "https%3A%2F%2Fkibana.prod.example.com%2Fa%20b%3Fx%3D1%26y%3D%25");
        assert_int_equal(fa_login_url("https://kaas.example.com", "https://kibana.prod.example.com/", u, 50),
                         -ENOBUFS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bearer),          cmocka_unit_test(test_bearer_refused),
                cmocka_unit_test(test_basic),           cmocka_unit_test(test_basic_refused),
                cmocka_unit_test(test_return_to_inside), cmocka_unit_test(test_return_to_outside),
                cmocka_unit_test(test_return_to_long),  cmocka_unit_test(test_normalize_host),
                cmocka_unit_test(test_roles),           cmocka_unit_test(test_header_values),
                cmocka_unit_test(test_url_host),        cmocka_unit_test(test_login_url),
                cmocka_unit_test(test_original_url),
        };

        if (sodium_init() < 0)
                return 1;
        return cmocka_run_group_tests(tests, NULL, NULL);
}
