/* Ids kaasd remembered before the subordinate ranges were checked (an
 * installation upgraded from the old default range 200000-399999): those
 * inside /etc/subuid or /etc/subgid ranges are counted and the first few
 * named with their user ID or role, id, file and line; local accounts'
 * reserved ids are not Keystone ids and are left out; ids outside every
 * range are not reported. */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kaasd/config_file.h"
#include "kaasd/store.h"
#include "kaasd/subid_stored.h"

struct fixture {
        char dir[256], subuid[300], subgid[300];
        struct store *s;
        struct config *c;
};

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw) {
        (void)st, (void)flag, (void)ftw;
        return remove(p);
}

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");
        char err[STORE_ERROR_SIZE];
        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "%s/test_subid_stored.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->subuid, sizeof(f->subuid), "%s/subuid", f->dir);
        snprintf(f->subgid, sizeof(f->subgid), "%s/subgid", f->dir);
        char state_dir[300];
        snprintf(state_dir, sizeof(state_dir), "%s/state", f->dir);
        if (mkdir(state_dir, 0700) < 0 || store_open(state_dir, &f->s, err, sizeof(err)) < 0)
                return -1;
        if (config_new(&f->c) < 0)
                return -1;
        free(f->c->subuid_file);
        free(f->c->subgid_file);
        f->c->subuid_file = strdup(f->subuid);
        f->c->subgid_file = strdup(f->subgid);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        store_close(f->s);
        config_free(f->c);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void assign(struct fixture *f, const char *key, uint32_t id) {
        uint32_t got = 0;
        assert_int_equal(store_uid_get_or_assign(f->s, key, id, id, id, &got), 0);
        assert_int_equal(got, id);
}

static void expect_in(const char *msg, const char *want) {
        if (!strstr(msg, want))
                fail_msg("got \"%s\", expected it to hold \"%s\"", msg, want);
}

static void test_upgraded_ids(void **state) {
        struct fixture *f = *state;
        /* the old defaults: users and roles from 200000 up */
        assign(f, "0a1b2c3d4e5f", 200007);                      /* in alice's subuid and subgid range */
        assign(f, "9f8e7d6c5b4a", 399999);                      /* in no range */
        assign(f, "role:5e5e5e", 231073);                       /* a role gid in bob's subgid range */
        assign(f, "local:uid:165540", 165540);                  /* a local account's reserved id */
        assign(f, "1111aaaa2222", 1879048200);                  /* the new defaults */
        write_file(f->subuid, "# written by useradd\nalice:200000:65536\nbob:265536:65536\nlocal:165536:10\n");
        write_file(f->subgid, "alice:200000:10\n\nbob:231000:100\n");

        uint64_t n = 99;
        char msg[1024] = "";
        assert_int_equal(subid_stored_check(f->s, f->c, &n, msg, sizeof(msg)), 0);
        /* subuid: the user's uid only (not the role's gid, not the local id);
         * subgid: the user's private gid and the role's gid */
        assert_int_equal(n, 3);
        char want[1024];
        snprintf(want, sizeof(want), "3 stored ids lie in subordinate ranges (1 in %s, 2 in %s)", f->subuid, f->subgid);
        expect_in(msg, want);
        snprintf(want, sizeof(want), "user ID 0a1b2c3d4e5f uid 200007 (%s line 2)", f->subuid);
        expect_in(msg, want);
        snprintf(want, sizeof(want), "user ID 0a1b2c3d4e5f gid 200007 (%s line 1)", f->subgid);
        expect_in(msg, want);
        snprintf(want, sizeof(want), "role 5e5e5e gid 231073 (%s line 3)", f->subgid);
        expect_in(msg, want);
        assert_null(strstr(msg, "9f8e7d6c5b4a"));
        assert_null(strstr(msg, "165540"));
        assert_null(strstr(msg, "1111aaaa2222"));
}

static void test_clear_and_missing(void **state) {
        struct fixture *f = *state;
        assign(f, "0a1b2c3d4e5f", 1879048200);
        uint64_t n = 99;
        char msg[256] = "x";
        /* no subordinate-id files at all */
        assert_int_equal(subid_stored_check(f->s, f->c, &n, msg, sizeof(msg)), 0);
        assert_int_equal(n, 0);
        assert_string_equal(msg, "");
        write_file(f->subuid, "alice:100000:65536\n");
        write_file(f->subgid, "alice:100000:65536\n");
        assert_int_equal(subid_stored_check(f->s, f->c, &n, msg, sizeof(msg)), 0);
        assert_int_equal(n, 0);
        /* a line that is no range is an error that names it */
        write_file(f->subgid, "alice:100000\n");
        assert_int_equal(subid_stored_check(f->s, f->c, &n, msg, sizeof(msg)), -EINVAL);
        expect_in(msg, "line 1 is not");
}

static void test_many_shown_few(void **state) {
        struct fixture *f = *state;
        char key[32];
        for (uint32_t i = 0; i < 50; i++) {
                snprintf(key, sizeof(key), "user%04u", i);
                assign(f, key, 200000 + i * 7);
        }
        write_file(f->subuid, "alice:200000:65536\n");
        uint64_t n = 0;
        char msg[1024];
        assert_int_equal(subid_stored_check(f->s, f->c, &n, msg, sizeof(msg)), 0);
        assert_int_equal(n, 50);
        expect_in(msg, "user ID user0000 uid 200000");
        expect_in(msg, "user ID user0002 uid 200014");
        assert_null(strstr(msg, "user0003"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_upgraded_ids, setup, teardown),
                cmocka_unit_test_setup_teardown(test_clear_and_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_many_shown_few, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
