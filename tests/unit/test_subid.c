/* Subordinate ids against kaasd's ranges: an overlap, however slight, is
 * refused with the file and line; what cannot be read is refused too; a
 * missing file is no subordinate id at all. And the default ranges stay
 * clear of useradd's blocks and systemd's ranges. */
#include "config.h"

#include <errno.h>
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
#include "kaasd/subid.h"

static char path[64];

static void write_file(const char *text) {
        snprintf(path, sizeof(path), "/tmp/kaas-test-subid-XXXXXX");
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        size_t n = strlen(text);
        assert_int_equal(write(fd, text, n), (ssize_t)n);
        close(fd);
}

static int check(const char *text, uint32_t min, uint32_t max, char *err, size_t size) {
        write_file(text);
        int r = subid_check_range(path, min, max, "[nss] uid_min..uid_max", err, size);
        unlink(path);
        return r;
}

static void expect_overlap(const char *text, uint32_t min, uint32_t max, unsigned line) {
        char err[512] = "", want[128];
        assert_int_equal(check(text, min, max, err, sizeof(err)), -EEXIST);
        snprintf(want, sizeof(want), "%s line %u (", path, line);
        if (!strstr(err, want) || !strstr(err, "[nss] uid_min..uid_max"))
                fail_msg("got \"%s\", expected it to hold \"%s\"", err, want);
}

static void test_overlaps(void **state) {
        const char *std = "# written by useradd\nalice:100000:65536\nbob:165536:65536\n";
        expect_overlap(std, 200000, 299999, 3);         /* the old default uid range */
        expect_overlap(std, 165535, 165535, 2);         /* the last id of a block */
        expect_overlap(std, 1000, 100000, 2);           /* the first */
        expect_overlap(std, 90000, 300000, 2);          /* around both: the first is named */
        expect_overlap("1000:4294901760:65535\n", 4294967290u, 4294967294u, 1);  /* by uid, at the top */
}

static void test_clear(void **state) {
        char err[512] = "";
        const char *std = "alice:100000:65536\n\n   \n#c:1:1\nbob:165536:65536\r\nnone:5000:0\n";
        assert_int_equal(check(std, 231072, 299999, err, sizeof(err)), 0);
        assert_int_equal(check(std, 1000, 99999, err, sizeof(err)), 0);
        assert_int_equal(check(std, 5000, 5000, err, sizeof(err)), 0);  /* a range of no ids */
        assert_int_equal(check("", 1000, 2000, err, sizeof(err)), 0);
        assert_int_equal(subid_check_range("/nonexistent/subuid", 0, 4294967294u, "x", err, sizeof(err)), 0);
}

static void test_unreadable_lines(void **state) {
        const char *bad[] = { "alice:100000\n", "alice:x:65536\n", "alice:100000:65536:1\n", ":100000:65536\n",
                              "alice:-1:65536\n", "alice:4294967296:1\n", "alice:100000:\n", "junk\n" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char err[512] = "", want[128];
                char text[128];
                snprintf(text, sizeof(text), "ok:1:1\n%s", bad[i]);
                assert_int_equal(check(text, 5000000, 6000000, err, sizeof(err)), -EINVAL);
                snprintf(want, sizeof(want), "%s line 2 is not", path);
                if (!strstr(err, want))
                        fail_msg("\"%s\": got \"%s\"", bad[i], err);
        }
}

static void test_config(void **state) {
        struct config *c;
        char err[512] = "";
        assert_int_equal(config_new(&c), 0);
        assert_string_equal(c->subuid_file, "/etc/subuid");
        assert_string_equal(c->subgid_file, "/etc/subgid");
        write_file("alice:100000:65536\n");
        free(c->subuid_file);
        c->subuid_file = strdup(path);
        free(c->subgid_file);
        c->subgid_file = strdup(path);
        assert_int_equal(subid_check_config(c, err, sizeof(err)), 0);
        /* private groups have gid = uid: the uid range against subgid too */
        free(c->subuid_file);
        c->subuid_file = strdup("/nonexistent/subuid");
        c->uid_min = 150000;
        c->uid_max = 160000;
        assert_int_equal(subid_check_config(c, err, sizeof(err)), -EEXIST);
        assert_non_null(strstr(err, "private groups"));
        c->uid_min = 1879048192;
        c->uid_max = 1946157055;
        c->gid_min = 100001;
        c->gid_max = 100001;
        assert_int_equal(subid_check_config(c, err, sizeof(err)), -EEXIST);
        assert_non_null(strstr(err, "[nss] gid_min..gid_max (100001..100001)"));
        unlink(path);
        config_free(c);
}

/* [a, b] and [c, d] share an id */
static bool meet(uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
        return a <= d && c <= b;
}

static void test_default_ranges(void **state) {
        struct config *c;
        assert_int_equal(config_new(&c), 0);
        const uint64_t lo[] = { c->uid_min, c->gid_min };
        const uint64_t hi[] = { c->uid_max, c->gid_max };
        config_free(c);
        for (int i = 0; i < 2; i++) {
                assert_true(lo[i] <= hi[i]);
                /* useradd's SUB_UID_MIN..SUB_UID_MAX (and SUB_GID_*), login.defs(5) */
                assert_false(meet(lo[i], hi[i], 100000, 600100000));
                /* systemd, docs/UIDS-GIDS.md: system, regular, homed, dynamic, 16-bit special */
                assert_false(meet(lo[i], hi[i], 0, 65535));
                /* container ranges, foreign ids, and nothing from 2^31 */
                assert_false(meet(lo[i], hi[i], 524288, 1879048191));
                assert_false(meet(lo[i], hi[i], 2147352576, 2147418111));
                assert_true(hi[i] < 2147483648u);
        }
        assert_false(meet(lo[0], hi[0], lo[1], hi[1]));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_overlaps),
                cmocka_unit_test(test_clear),
                cmocka_unit_test(test_unreadable_lines),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_default_ranges),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
