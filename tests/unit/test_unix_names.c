/* The rules that make Keystone identities Unix users and groups: user and
 * group names, uid derivation, home directories, and the snapshot of the
 * local passwd and group files that kaasd never shadows. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "local_accounts.h"
#include "unix_names.h"

static void expect_user(const char *name, const char *did, const char *dname, const char *want) {
        char *s = NULL;
        int r = unix_user_name(name, did, dname, "Default", '@', &s);
        if (!want) {
                assert_int_equal(r, -EINVAL);
                return;
        }
        assert_int_equal(r, 0);
        assert_string_equal(s, want);
        free(s);
}

static void test_user_names(void **state) {
        expect_user("alice", "default", "Default", "alice");
        expect_user("alice", "default", NULL, "alice");
        expect_user("carol", "d7a1", "partners", "carol@partners");
        expect_user("carol", "d7a1", "DEFAULT", "carol");           /* names compare without case */
        expect_user("carol", "d7a1", NULL, "carol@d7a1");           /* no name: the ID */
        expect_user("zo\xc3\xab", "default", "Default", "zo\xc3\xab"); /* UTF-8 is fine */
        /* would read as user bob of a domain "example.com": not served */
        expect_user("bob@example.com", "default", "Default", NULL);
        expect_user("carol@partners", "default", "Default", NULL);
        expect_user("system:evil", "default", "Default", NULL);     /* ':' breaks /etc/passwd lines */
        expect_user("a b", "default", "Default", NULL);
        expect_user("a,b", "default", "Default", NULL);             /* ',' breaks member lists */
        expect_user("a/b", "default", "Default", NULL);
        expect_user("-rf", "default", "Default", NULL);
        expect_user("+nis", "default", "Default", NULL);
        expect_user("1234", "default", "Default", NULL);            /* would read as a uid */
        expect_user("..", "default", "Default", NULL);
        expect_user("tab\there", "default", "Default", NULL);
        expect_user("carol", "x", "part@ners", NULL);               /* separator in the domain */
        expect_user("carol", "x", "a:b", NULL);
        char longname[300];
        memset(longname, 'a', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        expect_user(longname, "default", "Default", NULL);
}

static void test_split(void **state) {
        char *u = NULL, *d = NULL;
        assert_int_equal(unix_split_name("carol@partners", '@', &u, &d), 1);
        assert_string_equal(u, "carol");
        assert_string_equal(d, "partners");
        free(u);
        free(d);
        /* the last separator splits: the user part may hold one */
        assert_int_equal(unix_split_name("bob@example.com@partners", '@', &u, &d), 1);
        assert_string_equal(u, "bob@example.com");
        assert_string_equal(d, "partners");
        free(u);
        free(d);
        assert_int_equal(unix_split_name("alice", '@', &u, &d), 0);
        assert_int_equal(unix_split_name("@partners", '@', &u, &d), 0);
        assert_int_equal(unix_split_name("carol@", '@', &u, &d), 0);
        assert_int_equal(unix_split_name("carol%partners", '%', &u, &d), 1);
        free(u);
        free(d);
}

static void expect_group(const char *prefix, const char *role, const char *want) {
        char *s = NULL;
        int r = unix_role_group_name(prefix, role, &s);
        if (!want) {
                assert_int_equal(r, -EINVAL);
                return;
        }
        assert_int_equal(r, 0);
        assert_string_equal(s, want);
        free(s);
}

static void test_role_groups(void **state) {
        expect_group(NULL, "k8s-admins-alpha", "k8s-admins-alpha");
        expect_group(NULL, "Member", "member");
        expect_group("os-", "reader", "os-reader");
        expect_group(NULL, "load balancer:admin", "load_balancer_admin");
        expect_group(NULL, "caf\xc3\xa9.ops", "caf__ops");     /* one '_' per character */
        expect_group(NULL, "-x", "_-x");
        expect_group(NULL, "2024", "_2024");
        expect_group("", "", NULL);
        char longrole[300];
        memset(longrole, 'r', sizeof(longrole) - 1);
        longrole[sizeof(longrole) - 1] = '\0';
        expect_group(NULL, longrole, NULL);

        char key[80];
        unix_role_key("4c5e8f", key, sizeof(key));
        assert_string_equal(key, "role:4c5e8f");
        unix_role_key(longrole, key, sizeof(key));
        assert_int_equal(strncmp(key, "role:#", 6), 0);
        assert_true(strlen(key) <= 64);
}

static void test_privileged_group_names(void **state) {
        const char *refused[] = { "root", "wheel", "sudo", "admin", "Admin", "ADMIN", "adm", "shadow", "disk",
                                  "docker", "lxd", "kmem", "systemd-journal", "systemd-network", "Systemd-X",
                                  "libvirt", "kvm", "incus-admin", "staff", "kaas",
                                  /* Debian's static groups (base-passwd), any case */
                                  "mail", "news", "man", "proxy", "fax", "voice", "cdrom", "floppy", "tape",
                                  "dip", "www-data", "backup", "list", "irc", "gnats", "sasl", "plugdev",
                                  "games", "CDROM", "Plugdev",
                                  /* package groups */
                                  "crontab", "messagebus", "sgx", "wireshark", "netdev", "_ssh", "input",
                                  "render", "systemd-timesync" };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                if (!unix_group_name_privileged(refused[i]))
                        fail_msg("%s is not refused", refused[i]);
        const char *fine[] = { "kaas-admin", "admins-alpha", "developer", "member", "reader", "alice", "sudo-x",
                               "systemd", "rooted", "k8s-admins-alpha" };
        for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
                if (unix_group_name_privileged(fine[i]))
                        fail_msg("%s is refused", fine[i]);
}

static void test_uid_derivation(void **state) {
        /* FNV-1a-64 reference values */
        assert_true(unix_fnv1a64("") == 0xcbf29ce484222325ull);
        assert_true(unix_fnv1a64("a") == 0xaf63dc4c8601ec8cull);
        const char *ids[] = { "22975806dca143ea96194521fc951693", "0", "f", "a-much-longer-ldap-user-id" };
        for (size_t i = 0; i < 4; i++) {
                uint32_t u = unix_id_preferred(ids[i], 200000, 299999);
                assert_true(u >= 200000 && u <= 299999);
                assert_int_equal(u, unix_id_preferred(ids[i], 200000, 299999));  /* every node agrees */
                assert_int_equal(u, 200000 + unix_fnv1a64(ids[i]) % 100000);
        }
        assert_int_equal(unix_id_preferred("x", 5000, 5000), 5000);
        uint32_t top = unix_id_preferred("x", 0, 0xfffffffeu);
        assert_true(top <= 0xfffffffeu);
}

static void expect_home(const char *tmpl, const char *want) {
        char *s = NULL;
        int r = unix_expand_home(tmpl, "carol@partners", "c0ffee", "partners", &s);
        if (!want) {
                assert_int_equal(r, -EINVAL);
                return;
        }
        assert_int_equal(r, 0);
        assert_string_equal(s, want);
        free(s);
}

static void test_home(void **state) {
        expect_home("/home/%u", "/home/carol@partners");
        expect_home("/home/%d/%i", "/home/partners/c0ffee");
        expect_home("/srv/100%%/%u", "/srv/100%/carol@partners");
        expect_home("home/%u", NULL);       /* not absolute */
        expect_home("/home/%x", NULL);      /* unknown escape */
        expect_home("/home/%", NULL);       /* escape cut short */
        expect_home("/home/../%u", NULL);
        expect_home("/home/./%u", NULL);
        expect_home("/a:b/%u", NULL);
        char *s = NULL;
        assert_int_equal(unix_expand_home("/home/%u", "..", "id", "d", &s), -EINVAL);
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_local_accounts(void **state) {
        char dir[] = "/tmp/kaas-test-local.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char pw[300], gr[300];
        snprintf(pw, sizeof(pw), "%s/passwd", dir);
        snprintf(gr, sizeof(gr), "%s/group", dir);
        write_file(pw, "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n"
                       "garbage line\nsvc:x:250000:250000::/:/usr/sbin/nologin\n");
        write_file(gr, "root:x:0:\nadmins:x:300005:alice\nsvc:x:250000:\n");

        struct local_accounts *la;
        assert_int_equal(local_accounts_new(&la), 0);
        assert_int_equal(local_accounts_refresh(la, pw, gr), 0);
        assert_true(local_accounts_has_user(la, "alice"));
        assert_false(local_accounts_has_user(la, "bob"));
        assert_true(local_accounts_has_uid(la, 250000));
        assert_true(local_accounts_has_group(la, "admins"));
        assert_true(local_accounts_has_name(la, "admins"));
        assert_true(local_accounts_has_gid(la, 300005));
        assert_false(local_accounts_has_gid(la, 300006));

        uint32_t *ids;
        size_t n;
        assert_int_equal(local_accounts_ids_in_range(la, 200000, 399999, &ids, &n), 0);
        assert_int_equal(n, 2);  /* 250000 once, though user and group */
        assert_int_equal(ids[0], 250000);
        assert_int_equal(ids[1], 300005);
        free(ids);

        /* a change is seen; a file that goes away fails closed, keeping the old snapshot */
        write_file(pw, "bob:x:1001:1001::/home/bob:/bin/sh\n");
        assert_int_equal(local_accounts_refresh(la, pw, gr), 0);
        assert_true(local_accounts_has_user(la, "bob"));
        assert_false(local_accounts_has_user(la, "alice"));
        unlink(pw);
        assert_int_equal(local_accounts_refresh(la, pw, gr), -ENOENT);
        assert_true(local_accounts_has_user(la, "bob"));

        local_accounts_free(la);
        unlink(gr);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_user_names),   cmocka_unit_test(test_split),
                cmocka_unit_test(test_role_groups),  cmocka_unit_test(test_uid_derivation),
                cmocka_unit_test(test_privileged_group_names),
                cmocka_unit_test(test_home),         cmocka_unit_test(test_local_accounts),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
