/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of common/token_format.c: generated tokens and token IDs are well-formed and
 * unique, golden tokens computed independently (Python's zlib.crc32) are accepted, and every
 * typo a checksum can guarantee to catch is rejected before any lookup.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "token_format.h"

static const char alphabet[] = TOKEN_BASE62_ALPHABET;

/* kaas_ + body, checksum from zlib.crc32 and the base62 alphabet above */
static const char *const golden[] = {
        "kaas_00000000000000000000000000000000000000002k8uhP",
        "kaas_abcdefghijABCDEFGHIJ0123456789zyxwvutsrq4aMsra",
};

static void test_crc32_vector(void **state) {
        assert_int_equal(token_crc32("123456789", 9), 0xCBF43926u);
        assert_int_equal(token_crc32("", 0), 0);
}

static void test_golden(void **state) {
        for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++)
                assert_int_equal(token_check_format(golden[i], strlen(golden[i])), 0);
}

static void test_generate_well_formed(void **state) {
        char t[TOKEN_STRING_SIZE];

        for (int i = 0; i < 1000; i++) {
                assert_int_equal(token_generate(t), 0);
                assert_int_equal(strlen(t), TOKEN_LENGTH);
                assert_memory_equal(t, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH);
                assert_int_equal(strspn(t + TOKEN_PREFIX_LENGTH, alphabet),
                                 TOKEN_BODY_LENGTH + TOKEN_CHECKSUM_LENGTH);
                assert_int_equal(token_check_format(t, strlen(t)), 0);
        }
}

static int cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static void test_generate_unique(void **state) {
        enum { N = 20000 };
        char (*t)[TOKEN_STRING_SIZE] = calloc(N, TOKEN_STRING_SIZE);
        size_t seen[62] = {};

        assert_non_null(t);
        for (int i = 0; i < N; i++) {
                assert_int_equal(token_generate(t[i]), 0);
                for (int j = 0; j < TOKEN_BODY_LENGTH; j++)
                        seen[strchr(alphabet, t[i][TOKEN_PREFIX_LENGTH + j]) - alphabet]++;
        }
        qsort(t, N, TOKEN_STRING_SIZE, cmp);
        for (int i = 1; i < N; i++)
                assert_string_not_equal(t[i - 1], t[i]);
        free(t);

        /* 800,000 digits, ~12,900 expected per digit: a biased generator (byte % 62 favours
         * the first 8 digits by 25%) or a missing digit shows far outside this band. */
        for (int d = 0; d < 62; d++) {
                assert_in_range(seen[d], 11900, 13900);
        }
}

/* Every single-character substitution of a valid token fails: in the prefix with -EINVAL, in
 * the body or checksum with -EBADMSG (alphabet characters) or -EINVAL (others). CRC32 detects
 * every error confined to 32 consecutive bits, so this holds for every token, not by luck. */
static void check_all_substitutions(const char *valid) {
        char t[TOKEN_STRING_SIZE];

        for (size_t pos = 0; pos < TOKEN_LENGTH; pos++) {
                for (int c = 1; c < 256; c++) {
                        if (c == (unsigned char) valid[pos])
                                continue;
                        memcpy(t, valid, TOKEN_STRING_SIZE);
                        t[pos] = (char) c;
                        int r = token_check_format(t, TOKEN_LENGTH);
                        if (pos < TOKEN_PREFIX_LENGTH || !strchr(alphabet, c))
                                assert_int_equal(r, -EINVAL);
                        else
                                assert_int_equal(r, -EBADMSG);
                }
        }
}

static void test_single_substitution_rejected(void **state) {
        char t[TOKEN_STRING_SIZE];

        for (size_t i = 0; i < sizeof(golden) / sizeof(golden[0]); i++)
                check_all_substitutions(golden[i]);
        for (int i = 0; i < 20; i++) {
                assert_int_equal(token_generate(t), 0);
                check_all_substitutions(t);
        }
}

static void test_adjacent_transposition_rejected(void **state) {
        char t[TOKEN_STRING_SIZE], u[TOKEN_STRING_SIZE];

        for (int i = 0; i < 50; i++) {
                assert_int_equal(token_generate(t), 0);
                for (size_t pos = TOKEN_PREFIX_LENGTH; pos + 1 < TOKEN_LENGTH; pos++) {
                        if (t[pos] == t[pos + 1] ||
                            pos + 1 == TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH)
                                continue;       /* a swap across body and checksum is not a burst */
                        memcpy(u, t, sizeof(u));
                        u[pos] = t[pos + 1];
                        u[pos + 1] = t[pos];
                        assert_int_equal(token_check_format(u, TOKEN_LENGTH), -EBADMSG);
                }
        }
}

static void test_wrong_prefix_length_alphabet(void **state) {
        const char *g = golden[0];
        char t[TOKEN_STRING_SIZE + 1];

        assert_int_equal(token_check_format(NULL, 0), -EINVAL);
        assert_int_equal(token_check_format("", 0), -EINVAL);
        assert_int_equal(token_check_format(g, TOKEN_LENGTH - 1), -EINVAL);
        assert_int_equal(token_check_format(g, TOKEN_LENGTH + 1), -EINVAL);     /* reads the NUL */

        memcpy(t, g, TOKEN_STRING_SIZE);
        memcpy(t, "KAAS_", 5);
        assert_int_equal(token_check_format(t, TOKEN_LENGTH), -EINVAL);
        memcpy(t, "kaas-", 5);
        assert_int_equal(token_check_format(t, TOKEN_LENGTH), -EINVAL);

        /* longer body, same checksum: wrong length */
        memcpy(t, g, TOKEN_LENGTH);
        t[TOKEN_LENGTH] = '0';
        assert_int_equal(token_check_format(t, TOKEN_LENGTH + 1), -EINVAL);

        /* a service-account JWT and an OpenStack token are rejected as foreign */
        const char *jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";
        assert_int_equal(token_check_format(jwt, strlen(jwt)), -EINVAL);
        const char *os = "gAAAAABk1234567890abcdefghijABCDEFGHIJklmnopqrstu_-xyz";
        assert_int_equal(token_check_format(os, strlen(os)), -EINVAL);

        /* checksum digits above 2^32 are well-formed but impossible */
        memcpy(t, g, TOKEN_STRING_SIZE);
        memcpy(t + TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH, "zzzzzz", 6);
        assert_int_equal(token_check_format(t, TOKEN_LENGTH), -EBADMSG);
}

/* what a name field refuses: tokens, near misses that give one away, and nothing else */
static void test_token_shaped(void **state) {
        char t[TOKEN_STRING_SIZE + 16];

        assert_true(token_is_token_shaped(golden[1]));
        memcpy(t, golden[1], TOKEN_STRING_SIZE);
        t[10] = t[10] == 'a' ? 'b' : 'a';  /* a typo: the checksum no longer matches */
        assert_int_equal(token_check_format(t, TOKEN_LENGTH), -EBADMSG);
        assert_true(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_STRING_SIZE);
        t[TOKEN_LENGTH - 1] = '\0';  /* one character short */
        assert_true(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_LENGTH);
        memcpy(t + TOKEN_LENGTH, "0", 2);  /* one character over */
        assert_true(token_is_token_shaped(t));
        snprintf(t, sizeof(t), "%s@partners", golden[1]);
        assert_true(token_is_token_shaped(t));
        snprintf(t, sizeof(t), " \t%s ", golden[1]);  /* pasted with blanks */
        assert_true(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH);  /* the body, no checksum */
        t[TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH] = '\0';
        assert_true(token_is_token_shaped(t));

        assert_false(token_is_token_shaped(""));
        assert_false(token_is_token_shaped("alice"));
        assert_false(token_is_token_shaped("kaas_admin"));
        t[TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH - 1] = '\0';  /* one body character short */
        assert_false(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_STRING_SIZE);
        t[20] = '-';  /* outside the alphabet */
        assert_false(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_STRING_SIZE);
        memcpy(t, "tid_x", 5);
        assert_false(token_is_token_shaped(t));
        memcpy(t, golden[1], TOKEN_STRING_SIZE);
        t[0] = 'K';
        assert_false(token_is_token_shaped(t));
}

static void test_token_id(void **state) {
        enum { N = 5000 };
        char (*t)[TOKEN_ID_STRING_SIZE] = calloc(N, TOKEN_ID_STRING_SIZE);
        char u[TOKEN_ID_STRING_SIZE];

        assert_non_null(t);
        for (int i = 0; i < N; i++) {
                assert_int_equal(token_id_generate(t[i]), 0);
                assert_int_equal(strlen(t[i]), TOKEN_ID_LENGTH);
                assert_memory_equal(t[i], TOKEN_ID_PREFIX, TOKEN_ID_PREFIX_LENGTH);
                assert_int_equal(token_id_check_format(t[i], TOKEN_ID_LENGTH), 0);
                /* a token ID is never mistaken for a token */
                assert_int_equal(token_check_format(t[i], TOKEN_ID_LENGTH), -EINVAL);
        }
        qsort(t, N, TOKEN_ID_STRING_SIZE, cmp);
        for (int i = 1; i < N; i++)
                assert_string_not_equal(t[i - 1], t[i]);

        memcpy(u, t[0], sizeof(u));
        assert_int_equal(token_id_check_format(NULL, 0), -EINVAL);
        assert_int_equal(token_id_check_format(u, TOKEN_ID_LENGTH - 1), -EINVAL);
        assert_int_equal(token_id_check_format(u, TOKEN_ID_LENGTH + 1), -EINVAL);
        u[0] = 'T';
        assert_int_equal(token_id_check_format(u, TOKEN_ID_LENGTH), -EINVAL);
        memcpy(u, t[0], sizeof(u));
        u[10] = '/';
        assert_int_equal(token_id_check_format(u, TOKEN_ID_LENGTH), -EINVAL);
        u[10] = '\0';
        assert_int_equal(token_id_check_format(u, TOKEN_ID_LENGTH), -EINVAL);
        /* and a token is not a token ID */
        assert_int_equal(token_id_check_format(golden[0], TOKEN_LENGTH), -EINVAL);
        free(t);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc32_vector),
                cmocka_unit_test(test_golden),
                cmocka_unit_test(test_generate_well_formed),
                cmocka_unit_test(test_generate_unique),
                cmocka_unit_test(test_single_substitution_rejected),
                cmocka_unit_test(test_adjacent_transposition_rejected),
                cmocka_unit_test(test_wrong_prefix_length_alphabet),
                cmocka_unit_test(test_token_shaped),
                cmocka_unit_test(test_token_id),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
