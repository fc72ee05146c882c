/* SPDX-License-Identifier: MIT */
/*
 * The store's side of the etcd replica (kaasd/store_replica.c) against a real Berkeley DB
 * environment: changes and the applied revision land together and survive a reopen; a token
 * ID that moved to another hash replaces the old one; a bad record applies nothing.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <sodium.h>

#include "store.h"

static char dir[256];
static struct store *s;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static void open_store(void) {
        char err[STORE_ERROR_SIZE];
        assert_int_equal(store_open(dir, &s, err, sizeof(err)), 0);
}

static struct token_record record(const char *token_id) {
        struct token_record r = { .owner_id = "a0cba8b7ca3046da8375b62192fe10ca", .owner_name = "alice",
                                  .owner_domain_id = "default", .description = "", .created = 1700000000,
                                  .expires = 4000000000 };
        memcpy(r.token_id, token_id, TOKEN_ID_LENGTH + 1);
        return r;
}

static void test_apply(void **state) {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/test_store_replica.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));
        open_store();

        struct store_replica_state st;
        assert_int_equal(store_replica_state_get(s, &st), 0);
        assert_int_equal(st.revision, 0);
        assert_false(st.complete);

        char id1[TOKEN_ID_STRING_SIZE], id2[TOKEN_ID_STRING_SIZE];
        assert_int_equal(token_id_generate(id1), 0);
        assert_int_equal(token_id_generate(id2), 0);
        struct token_record r1 = record(id1), r2 = record(id2);
        uint8_t h1[STORE_HASH_SIZE], h2[STORE_HASH_SIZE], h3[STORE_HASH_SIZE];
        memset(h1, 1, sizeof(h1));
        memset(h2, 2, sizeof(h2));
        memset(h3, 3, sizeof(h3));
        struct store_replica_change puts[] = { { .hash = h1, .rec = &r1 }, { .hash = h2, .rec = &r2 } };
        struct store_replica_state s7 = { .revision = 7, .complete = true };
        assert_int_equal(store_replica_apply(s, puts, 2, &s7), 0);

        /* a delete, and token ID 1 moving to another hash, at revision 9 */
        struct store_replica_change next[] = { { .deleted = true, .hash = h2 }, { .hash = h3, .rec = &r1 },
                                               { .deleted = true, .hash = h2 } };
        struct store_replica_state s9 = { .revision = 9, .complete = true };
        assert_int_equal(store_replica_apply(s, next, 3, &s9), 0);

        /* a record out of bounds applies nothing, not even the revision */
        struct token_record bad = record(id2);
        bad.owner_id = "";
        struct store_replica_change bads[] = { { .deleted = true, .hash = h3 }, { .hash = h2, .rec = &bad } };
        struct store_replica_state s10 = { .revision = 10, .complete = true };
        assert_int_equal(store_replica_apply(s, bads, 2, &s10), -EINVAL);

        s = store_close(s);
        open_store();
        assert_int_equal(store_replica_state_get(s, &st), 0);
        assert_int_equal(st.revision, 9);
        assert_true(st.complete);
        struct token_record got = { 0 };
        uint8_t h[STORE_HASH_SIZE];
        assert_int_equal(store_token_get(s, h1, &got), -ENOENT);
        assert_int_equal(store_token_get(s, h2, &got), -ENOENT);
        assert_int_equal(store_token_get_by_id(s, id1, h, &got), 0);
        assert_memory_equal(h, h3, sizeof(h));
        token_record_free(&got);
        uint64_t n;
        assert_int_equal(store_token_count(s, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(store_check(s), 0);

        s = store_close(s);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
        if (sodium_init() < 0)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
