/* The failed-authentication throttle: free attempts, a delay that doubles
 * up to a cap, forgetting after the window, success clearing a key, and a
 * bounded table that forgets the longest-idle key first. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "kaasd/ratelimit.h"

static const struct ratelimit_params params = {
        .free_failures = 3, .base_delay_sec = 2, .max_delay_sec = 30, .window_sec = 900, .capacity = 4,
};

static void test_delays_grow_to_the_cap(void **state) {
        struct ratelimit *rl;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        int64_t t = 1000;
        for (int i = 0; i < 3; i++) {
                assert_int_equal(ratelimit_check(rl, "uid:1000", t), 0);
                ratelimit_failure(rl, "uid:1000", t);
        }
        assert_int_equal(ratelimit_check(rl, "uid:1000", t), 0);  /* three are free */
        ratelimit_failure(rl, "uid:1000", t);
        assert_int_equal(ratelimit_check(rl, "uid:1000", t), 2);
        assert_int_equal(ratelimit_check(rl, "uid:1000", t + 2), 0);
        ratelimit_failure(rl, "uid:1000", t + 2);
        assert_int_equal(ratelimit_check(rl, "uid:1000", t + 2), 4);
        ratelimit_failure(rl, "uid:1000", t + 6);
        assert_int_equal(ratelimit_check(rl, "uid:1000", t + 6), 8);
        for (int i = 0; i < 10; i++)
                ratelimit_failure(rl, "uid:1000", t + 20);
        assert_int_equal(ratelimit_check(rl, "uid:1000", t + 20), 30);  /* capped */
        assert_int_equal(ratelimit_refused(rl), 4);  /* the four refusals above */
        /* other keys are untouched */
        assert_int_equal(ratelimit_check(rl, "uid:1001", t + 20), 0);
        ratelimit_free(rl);
}

static void test_window_and_success(void **state) {
        struct ratelimit *rl;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        for (int i = 0; i < 4; i++)
                ratelimit_failure(rl, "user:bob@Default", 100);
        assert_true(ratelimit_check(rl, "user:bob@Default", 100) > 0);
        /* a failure after the window starts the count afresh */
        ratelimit_failure(rl, "user:bob@Default", 100 + 901);
        assert_int_equal(ratelimit_check(rl, "user:bob@Default", 100 + 901), 0);
        for (int i = 0; i < 4; i++)
                ratelimit_failure(rl, "user:bob@Default", 2000);
        assert_true(ratelimit_check(rl, "user:bob@Default", 2000) > 0);
        ratelimit_success(rl, "user:bob@Default");
        assert_int_equal(ratelimit_check(rl, "user:bob@Default", 2000), 0);
        ratelimit_free(rl);
}

static void test_bounded_table(void **state) {
        struct ratelimit *rl;
        assert_int_equal(ratelimit_new(&params, &rl), 0);
        char key[32];
        /* key 0 is the oldest; filling past capacity forgets it first */
        for (int k = 0; k < 5; k++) {
                snprintf(key, sizeof(key), "uid:%d", k);
                for (int i = 0; i < 4; i++)
                        ratelimit_failure(rl, key, 10 + k);
        }
        /* uid:k is blocked until 12 + k if remembered */
        assert_int_equal(ratelimit_check(rl, "uid:0", 11), 0);
        assert_true(ratelimit_check(rl, "uid:1", 12) > 0);
        assert_true(ratelimit_check(rl, "uid:4", 14) > 0);
        ratelimit_free(rl);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_delays_grow_to_the_cap),
                cmocka_unit_test(test_window_and_success),
                cmocka_unit_test(test_bounded_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
