/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of kaasd/token_key.c: the key file is created 0600 only when the store is empty,
 * refused when exposed, of the wrong size or type, and the keyed hash is stable, key-dependent
 * and matches an independent BLAKE2b implementation (Python's hashlib).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "token_key.h"

struct fixture {
        char dir[256];
        char path[300];
};

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");

        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "%s/test_token_key.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->path, sizeof(f->path), "%s/token.key", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;
        DIR *d = opendir(f->dir);
        struct dirent *de;

        while (d && (de = readdir(d))) {
                char p[600];
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                snprintf(p, sizeof(p), "%s/%s", f->dir, de->d_name);
                if (rmdir(p) < 0)
                        unlink(p);
        }
        if (d)
                closedir(d);
        rmdir(f->dir);
        free(f);
        return 0;
}

static void write_file(const char *path, size_t size, mode_t mode) {
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        uint8_t buf[64] = {};

        assert_true(fd >= 0);
        assert_true(size <= sizeof(buf));
        assert_int_equal(write(fd, buf, size), (ssize_t) size);
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static size_t count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        size_t n = 0;

        assert_non_null(d);
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void test_create_and_reload(void **state) {
        struct fixture *f = *state;
        struct token_key a = {}, b = {};
        struct stat st;

        assert_int_equal(token_key_load(f->path, false, &a), 0);
        assert_true(a.loaded);
        assert_int_equal(stat(f->path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(st.st_size, TOKEN_KEY_SIZE);
        assert_int_equal(count_entries(f->dir), 1);     /* no temporary file left behind */

        /* present: loaded, not recreated, whatever store_has_tokens says */
        assert_int_equal(token_key_load(f->path, true, &b), 0);
        assert_memory_equal(a.bytes, b.bytes, TOKEN_KEY_SIZE);
        token_key_clear(&a);
        token_key_clear(&b);
}

static void test_missing_with_tokens(void **state) {
        struct fixture *f = *state;
        struct token_key k = { .loaded = true, .bytes = { 7 } };

        assert_int_equal(token_key_load(f->path, true, &k), -ENOKEY);
        assert_int_equal(access(f->path, F_OK), -1);    /* and nothing created */
        assert_int_equal(k.bytes[0], 7);                 /* output untouched */
        assert_non_null(strstr(token_key_strerror(-ENOKEY), "restore"));
}

static void test_refuse_exposed(void **state) {
        struct fixture *f = *state;
        struct token_key k = {};
        const mode_t bad[] = { 0644, 0640, 0604, 0660, 0601 };

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                write_file(f->path, TOKEN_KEY_SIZE, bad[i]);
                assert_int_equal(token_key_load(f->path, false, &k), -EPERM);
                assert_false(k.loaded);
        }
        write_file(f->path, TOKEN_KEY_SIZE, 0400);
        assert_int_equal(token_key_load(f->path, false, &k), 0);
        token_key_clear(&k);
}

static void test_refuse_wrong_size(void **state) {
        struct fixture *f = *state;
        struct token_key k = {};
        const size_t sizes[] = { 0, 1, 31, 33, 64 };

        for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                write_file(f->path, sizes[i], 0600);
                assert_int_equal(token_key_load(f->path, false, &k), -EBADMSG);
        }
}

static void test_refuse_non_regular(void **state) {
        struct fixture *f = *state;
        struct token_key k = {};
        char target[400];

        assert_int_equal(mkdir(f->path, 0700), 0);
        assert_int_equal(token_key_load(f->path, false, &k), -EISDIR);
        assert_int_equal(rmdir(f->path), 0);

        snprintf(target, sizeof(target), "%s/real.key", f->dir);
        write_file(target, TOKEN_KEY_SIZE, 0600);
        assert_int_equal(symlink(target, f->path), 0);
        assert_int_equal(token_key_load(f->path, false, &k), -ELOOP);
        assert_int_equal(unlink(f->path), 0);

        assert_int_equal(mkfifo(f->path, 0600), 0);
        assert_int_equal(token_key_load(f->path, false, &k), -EBADFD);
        assert_false(k.loaded);
        assert_non_null(token_key_strerror(-EBADFD));
        assert_non_null(token_key_strerror(-EIO));
}

static void test_missing_directory(void **state) {
        struct fixture *f = *state;
        struct token_key k = {};
        char p[400];

        snprintf(p, sizeof(p), "%s/nonexistent/token.key", f->dir);
        assert_int_equal(token_key_load(p, false, &k), -ENOENT);
}

static void test_hash(void **state) {
        struct token_key k1 = { .loaded = true }, k2 = { .loaded = true };
        static const char tok[] = "kaas_00000000000000000000000000000000000000002k8uhP";
        static const uint8_t expected[32] = {   /* hashlib.blake2b(tok, key=bytes(range(32)), digest_size=32) */
                0xdf, 0x4a, 0x2a, 0x12, 0xf1, 0x4b, 0xd9, 0x73, 0x5e, 0x88, 0x9f, 0xe4, 0x34, 0xe3,
                0x58, 0x09, 0x68, 0x92, 0xb3, 0xb6, 0xe5, 0x2b, 0xf5, 0x6f, 0x7e, 0x1d, 0x07, 0x96,
                0xe7, 0x97, 0x7d, 0xc0,
        };
        uint8_t h1[32], h2[32], h3[32];

        for (int i = 0; i < TOKEN_KEY_SIZE; i++) {
                k1.bytes[i] = (uint8_t) i;
                k2.bytes[i] = (uint8_t) i;
        }
        k2.bytes[31] ^= 1;

        assert_int_equal(token_key_hash(&k1, tok, strlen(tok), h1), 0);
        assert_memory_equal(h1, expected, 32);
        assert_int_equal(token_key_hash(&k1, tok, strlen(tok), h2), 0);
        assert_memory_equal(h1, h2, 32);
        assert_int_equal(token_key_hash(&k2, tok, strlen(tok), h3), 0);
        assert_memory_not_equal(h1, h3, 32);
        assert_int_equal(token_key_hash(&k1, tok, strlen(tok) - 1, h3), 0);
        assert_memory_not_equal(h1, h3, 32);

        token_key_clear(&k1);
        assert_false(k1.loaded);
        for (int i = 0; i < TOKEN_KEY_SIZE; i++)
                assert_int_equal(k1.bytes[i], 0);
        assert_int_equal(token_key_hash(&k1, tok, strlen(tok), h3), -EINVAL);
        token_key_clear(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_create_and_reload, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_with_tokens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_exposed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_wrong_size, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_non_regular, setup, teardown),
                cmocka_unit_test_setup_teardown(test_missing_directory, setup, teardown),
                cmocka_unit_test(test_hash),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
