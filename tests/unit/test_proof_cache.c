/*
 * Unit tests of kaasd/proof_cache.c: an accepted Keystone-token proof is found again until the
 * earlier of the ttl and the token's own expiry, never with another token, not at all with ttl
 * 0, and a full set gives up its oldest entry.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "proof_cache.h"

#define T0 1000000

static void test_found_until_ttl(void **state) {
        struct proof_cache *pc;
        char uid[PROOF_CACHE_USER_ID_MAX + 1];
        assert_int_equal(proof_cache_new(&pc), 0);
        proof_cache_set_ttl(pc, 60);
        proof_cache_put(pc, "gAAAAtoken", 10, "a11ce", T0, T0 + 3600);
        assert_int_equal(proof_cache_get(pc, "gAAAAtoken", 10, T0 + 59, uid), 0);
        assert_string_equal(uid, "a11ce");
        assert_int_equal(proof_cache_get(pc, "gAAAAtokeN", 10, T0 + 1, uid), -ENOENT);
        assert_int_equal(proof_cache_get(pc, "gAAAAtoken", 9, T0 + 1, uid), -ENOENT);
        assert_int_equal(proof_cache_get(pc, "gAAAAtoken", 10, T0 + 60, uid), -ENOENT);
        proof_cache_free(pc);
}

/* A session's end forgets its token and nothing else. */
static void test_forget(void **state) {
        struct proof_cache *pc;
        char uid[PROOF_CACHE_USER_ID_MAX + 1];
        assert_int_equal(proof_cache_new(&pc), 0);
        proof_cache_set_ttl(pc, 600);
        proof_cache_put(pc, "ended", 5, "a11ce", T0, T0 + 3600);
        proof_cache_put(pc, "other", 5, "b0b", T0, T0 + 3600);
        assert_int_equal(proof_cache_forget(pc, "ended", 5, uid), 0);
        assert_string_equal(uid, "a11ce");
        assert_int_equal(proof_cache_get(pc, "ended", 5, T0 + 1, uid), -ENOENT);
        assert_int_equal(proof_cache_get(pc, "other", 5, T0 + 1, uid), 0);
        assert_string_equal(uid, "b0b");
        assert_int_equal(proof_cache_forget(pc, "ended", 5, NULL), -ENOENT);
        assert_int_equal(proof_cache_forget(pc, "never", 5, NULL), -ENOENT);
        proof_cache_free(pc);
}

static void test_never_past_the_token(void **state) {
        struct proof_cache *pc;
        char uid[PROOF_CACHE_USER_ID_MAX + 1];
        assert_int_equal(proof_cache_new(&pc), 0);
        proof_cache_set_ttl(pc, 600);
        proof_cache_put(pc, "short", 5, "a11ce", T0, T0 + 10);
        assert_int_equal(proof_cache_get(pc, "short", 5, T0 + 9, uid), 0);
        assert_int_equal(proof_cache_get(pc, "short", 5, T0 + 10, uid), -ENOENT);
        /* an expired token is not kept at all */
        proof_cache_put(pc, "old", 3, "a11ce", T0, T0);
        assert_int_equal(proof_cache_get(pc, "old", 3, T0, uid), -ENOENT);
        proof_cache_free(pc);
}

static void test_ttl_zero_and_lowered(void **state) {
        struct proof_cache *pc;
        char uid[PROOF_CACHE_USER_ID_MAX + 1];
        assert_int_equal(proof_cache_new(&pc), 0);
        proof_cache_set_ttl(pc, 600);
        proof_cache_put(pc, "tok", 3, "a11ce", T0, T0 + 3600);
        /* a lowered ttl bounds what was kept before */
        proof_cache_set_ttl(pc, 30);
        assert_int_equal(proof_cache_get(pc, "tok", 3, T0 + 29, uid), 0);
        assert_int_equal(proof_cache_get(pc, "tok", 3, T0 + 31, uid), -ENOENT);
        proof_cache_put(pc, "tok", 3, "a11ce", T0, T0 + 3600);
        proof_cache_set_ttl(pc, 0);
        assert_int_equal(proof_cache_get(pc, "tok", 3, T0, uid), -ENOENT);
        proof_cache_put(pc, "tok", 3, "a11ce", T0, T0 + 3600);
        proof_cache_set_ttl(pc, 60);
        assert_int_equal(proof_cache_get(pc, "tok", 3, T0, uid), -ENOENT);
        proof_cache_free(pc);
}

static void test_bounded(void **state) {
        struct proof_cache *pc;
        char uid[PROOF_CACHE_USER_ID_MAX + 1], tok[32];
        assert_int_equal(proof_cache_new(&pc), 0);
        proof_cache_set_ttl(pc, 3600);
        /* far more tokens than entries: the newest are found, most old ones gone */
        for (int i = 0; i < 20000; i++) {
                snprintf(tok, sizeof(tok), "token-%d", i);
                proof_cache_put(pc, tok, strlen(tok), "u", T0 + i, T0 + 100000);
        }
        int old = 0;
        for (int i = 0; i < 1000; i++) {
                snprintf(tok, sizeof(tok), "token-%d", i);
                old += proof_cache_get(pc, tok, strlen(tok), T0 + 20000, uid) == 0;
        }
        assert_true(old < 50);
        snprintf(tok, sizeof(tok), "token-%d", 19999);
        assert_int_equal(proof_cache_get(pc, tok, strlen(tok), T0 + 20000, uid), 0);
        /* a user ID too long for an entry is not kept */
        char long_id[PROOF_CACHE_USER_ID_MAX + 2];
        memset(long_id, 'x', sizeof(long_id) - 1);
        long_id[sizeof(long_id) - 1] = '\0';
        proof_cache_put(pc, "x", 1, long_id, T0, T0 + 100);
        assert_int_equal(proof_cache_get(pc, "x", 1, T0, uid), -ENOENT);
        proof_cache_free(pc);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_found_until_ttl),
                cmocka_unit_test(test_forget),
                cmocka_unit_test(test_never_past_the_token),
                cmocka_unit_test(test_ttl_zero_and_lowered),
                cmocka_unit_test(test_bounded),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
