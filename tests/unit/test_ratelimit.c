/* The authentication throttle: attempts counted from their start, free
 * attempts, a delay that doubles up to a cap, forgetting after the window,
 * success releasing an attempt (or clearing a key), one exclusive attempt
 * at a time per key, and a bounded table that forgets keys that are not
 * blocked first, the fewest failures and then the longest idle, but never
 * one with an attempt outstanding. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "kaasd/ratelimit.h"

static const struct ratelimit_params params = {
        .free_failures = 3, .base_delay_sec = 2, .max_delay_sec = 30, .window_sec = 900, .capacity = 4,
};

#define PW (RATELIMIT_COUNT | RATELIMIT_EXCLUSIVE)

/* One attempt of key at now that fails; returns what begin said. */
static int fail_once(struct ratelimit *rl, const char *key, int64_t now, unsigned *wait) {
        int r = ratelimit_begin(rl, key, now, PW, wait);
        if (r == 0)
                ratelimit_end(rl, key, false, false);
        return r;
}

static void test_delays_grow_to_the_cap(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        int64_t t = 1000;
        for (int i = 0; i < 3; i++)
                assert_int_equal(fail_once(rl, "uid:1000", t, &w), 0);  /* three are free */
        assert_int_equal(ratelimit_begin(rl, "uid:1000", t, PW, &w), -EBUSY);
        assert_int_equal(w, 2);
        assert_int_equal(fail_once(rl, "uid:1000", t + 2, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:1000", t + 2, PW, &w), -EBUSY);
        assert_int_equal(w, 4);
        assert_int_equal(fail_once(rl, "uid:1000", t + 6, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:1000", t + 6, PW, &w), -EBUSY);
        assert_int_equal(w, 8);
        for (int64_t k = 14; k < 400; k += 30)
                (void)fail_once(rl, "uid:1000", t + k, &w);
        assert_int_equal(ratelimit_begin(rl, "uid:1000", t + 374, PW, &w), -EBUSY);
        assert_int_equal(w, 30);  /* capped */
        assert_int_equal(ratelimit_refused(rl), 4);
        /* other keys are untouched */
        assert_int_equal(fail_once(rl, "uid:1001", t + 20, &w), 0);
        ratelimit_free(rl);
}

/* The bug this shape prevents: counting only when an answer comes back let
 * hundreds of guesses start before the first was counted. */
static void test_counted_when_started(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        /* an exclusive attempt outstanding refuses the next at once */
        assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 50, PW, &w), 0);
        for (int i = 0; i < 50; i++)
                assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 50, PW, &w), -EBUSY);
        assert_true(w >= 1);
        /* the answer never came ("unavailable"): still counted */
        ratelimit_end(rl, "user:bob@Default", false, false);
        /* overlapping counted attempts: the fourth start is refused
         * before any of the first three has ended */
        for (int i = 0; i < 2; i++)
                assert_int_equal(ratelimit_begin(rl, "uid:7", 60, RATELIMIT_COUNT, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:7", 60, RATELIMIT_COUNT, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:7", 60, RATELIMIT_COUNT, &w), -EBUSY);
        /* a success releases its own attempt only */
        ratelimit_end(rl, "uid:7", true, false);
        assert_int_equal(ratelimit_begin(rl, "uid:7", 60, RATELIMIT_COUNT, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:7", 60, RATELIMIT_COUNT, &w), -EBUSY);
        ratelimit_free(rl);
}

static void test_window_and_success(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(fail_once(rl, "user:bob@Default", 100, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 100, PW, &w), -EBUSY);
        /* an attempt after the window starts the count afresh */
        assert_int_equal(fail_once(rl, "user:bob@Default", 100 + 901, &w), 0);
        assert_int_equal(fail_once(rl, "user:bob@Default", 100 + 901, &w), 0);
        for (int i = 0; i < 3; i++)
                (void)fail_once(rl, "user:bob@Default", 2000, &w);
        assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 2000, PW, &w), -EBUSY);
        /* the owner got in (after the delay): the key is cleared */
        assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 2100, PW, &w), 0);
        ratelimit_end(rl, "user:bob@Default", true, true);
        for (int i = 0; i < 3; i++)
                assert_int_equal(fail_once(rl, "user:bob@Default", 2100, &w), 0);
        ratelimit_free(rl);
}

static void test_bounded_table(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        char key[32];
        /* key 0 is the oldest; filling past capacity forgets it first */
        for (int k = 0; k < 5; k++) {
                snprintf(key, sizeof(key), "uid:%d", k);
                for (int i = 0; i < 3; i++)
                        (void)fail_once(rl, key, 10 + k, &w);
        }
        /* uid:k is blocked until 12 + k if remembered */
        assert_int_equal(fail_once(rl, "uid:0", 11, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:2", 13, PW, &w), -EBUSY);
        assert_int_equal(ratelimit_begin(rl, "uid:4", 14, PW, &w), -EBUSY);
        ratelimit_free(rl);
}

static void test_outstanding_never_forgotten(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        char key[32];
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        for (int k = 0; k < 4; k++) {
                snprintf(key, sizeof(key), "user:u%d@Default", k);
                assert_int_equal(ratelimit_begin(rl, key, 5, RATELIMIT_EXCLUSIVE, &w), 0);
        }
        /* a full table of attempts in flight refuses a fifth key rather
         * than forgetting one of them */
        assert_int_equal(ratelimit_begin(rl, "user:u4@Default", 5, PW, &w), -ENOSPC);
        assert_int_equal(ratelimit_begin(rl, "user:u0@Default", 5, PW, &w), -EBUSY);
        ratelimit_end(rl, "user:u0@Default", false, false);
        assert_int_equal(ratelimit_begin(rl, "user:u4@Default", 5, PW, &w), 0);
        ratelimit_free(rl);
}

/* Names tried once each cannot push a blocked key out of a full table
 * (that would lift its block), nor one a failure short of its block. */
static void test_blocked_outlive_a_crowd(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        char key[32];
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(fail_once(rl, "user:alice@Default", 100, &w), 0);
        for (int i = 0; i < 2; i++)
                assert_int_equal(fail_once(rl, "user:bob@Default", 100, &w), 0);
        for (int k = 0; k < 20; k++) {
                snprintf(key, sizeof(key), "user:x%d@Default", k);
                assert_int_equal(fail_once(rl, key, 101, &w), 0);
        }
        assert_int_equal(ratelimit_begin(rl, "user:alice@Default", 101, PW, &w), -EBUSY);
        assert_int_equal(fail_once(rl, "user:bob@Default", 101, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "user:bob@Default", 101, PW, &w), -EBUSY);
        ratelimit_free(rl);
}

/* A table of blocked keys still takes a new one: the block that ends
 * first is forgotten, not the newcomer refused. */
static void test_full_of_blocked_keys(void **state) {
        struct ratelimit *rl;
        unsigned w = 0;
        char key[32];
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        for (int k = 0; k < 4; k++) {
                snprintf(key, sizeof(key), "uid:%d", k);
                for (int i = 0; i < 3; i++)
                        assert_int_equal(fail_once(rl, key, k == 2 ? 11 : 10, &w), 0);
                if (k != 2)
                        assert_int_equal(fail_once(rl, key, 12, &w), 0);
        }
        /* at 12, uid:2 is blocked until 13, the others until 16 */
        assert_int_equal(fail_once(rl, "uid:9", 12, &w), 0);
        assert_int_equal(fail_once(rl, "uid:2", 12, &w), 0);
        assert_int_equal(ratelimit_begin(rl, "uid:0", 12, PW, &w), -EBUSY);
        assert_int_equal(ratelimit_begin(rl, "uid:3", 12, PW, &w), -EBUSY);
        ratelimit_free(rl);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_delays_grow_to_the_cap),
                cmocka_unit_test(test_counted_when_started),
                cmocka_unit_test(test_window_and_success),
                cmocka_unit_test(test_bounded_table),
                cmocka_unit_test(test_outstanding_never_forgotten),
                cmocka_unit_test(test_blocked_outlive_a_crowd),
                cmocka_unit_test(test_full_of_blocked_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
