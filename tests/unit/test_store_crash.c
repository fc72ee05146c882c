/* SPDX-License-Identifier: MIT */
/*
 * Crash test of the store's durability promise: "a token is returned to its creator only after
 * its commit is durable". A child process stores tokens in a loop (with touches and
 * checkpoints in between) and acknowledges each hash on a pipe only after store_token_put()
 * returned 0. The parent kills it with SIGKILL after a random number of acknowledgements, so
 * the kill lands anywhere in the write path, reopens the store (running recovery) and checks
 * that every acknowledged token is present and that every index agrees with its primary.
 *
 * SIGKILL loses the process, not the kernel's page cache: this tests BDB's atomicity and
 * recovery across a process crash, not the fsync path against power loss.
 */
#include "config.h"

#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "store.h"

#define ROUNDS          20
#define ACKS_MAX        150     /* per round: a kill after 1..ACKS_MAX acknowledgements */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int write_full(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                p = (const uint8_t *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

/* 1 = one full hash read, 0 = end of file, -1 = error */
static int read_hash(int fd, uint8_t h[STORE_HASH_SIZE]) {
        size_t got = 0;

        while (got < STORE_HASH_SIZE) {
                ssize_t k = read(fd, h + got, STORE_HASH_SIZE - got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -1;
                if (k == 0)
                        return got == 0 ? 0 : -1;       /* a torn hash was never acknowledged */
                got += (size_t) k;
        }
        return 1;
}

static _Noreturn void child(const char *dir, int ack_fd) {
        struct store *s;
        char err[STORE_ERROR_SIZE];
        uint8_t h[STORE_HASH_SIZE];

        if (store_open(dir, &s, err, sizeof(err)) < 0) {
                fprintf(stderr, "child: store_open: %s\n", err);
                _exit(2);
        }
        for (unsigned i = 0;; i++) {
                struct token_record r = { .owner_id = (char *) "u-crash",
                                          .owner_name = (char *) "crash",
                                          .owner_domain_id = (char *) "default",
                                          .description = (char *) "crash test",
                                          .created = 1700000000, .expires = 1800000000 };
                randombytes_buf(h, sizeof(h));
                if (token_id_generate(r.token_id) < 0 || store_token_put(s, h, &r) < 0)
                        _exit(3);
                if (write_full(ack_fd, h, sizeof(h)) < 0)
                        _exit(4);
                /* unsynced writes and checkpoints in flight make the kill land in more places */
                if (store_token_touch(s, h, 1700000000 + i) < 0)
                        _exit(5);
                if (i % 16 == 0 && store_maintenance(s, 1, 10, NULL) < 0)
                        _exit(6);
        }
}

struct acked {
        size_t n, cap;
        uint8_t (*hash)[STORE_HASH_SIZE];
};

static void acked_add(struct acked *a, const uint8_t h[STORE_HASH_SIZE]) {
        if (a->n == a->cap) {
                a->cap = a->cap ? 2 * a->cap : 256;
                a->hash = realloc(a->hash, a->cap * STORE_HASH_SIZE);
                assert_non_null(a->hash);
        }
        memcpy(a->hash[a->n++], h, STORE_HASH_SIZE);
}

static void test_crash_keeps_acknowledged_tokens(void **state) {
        const char *tmp = getenv("TMPDIR");
        char dir[256], err[STORE_ERROR_SIZE];
        struct acked acked = {};
        uint8_t h[STORE_HASH_SIZE];

        assert_true(sodium_init() >= 0);
        snprintf(dir, sizeof(dir), "%s/test_store_crash.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(dir));

        for (int round = 0; round < ROUNDS; round++) {
                unsigned target = 1 + randombytes_uniform(ACKS_MAX);
                int fds[2], status, r;
                pid_t pid;

                assert_int_equal(pipe(fds), 0);
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        close(fds[0]);
                        child(dir, fds[1]);
                }
                close(fds[1]);

                for (unsigned i = 0; i < target; i++) {
                        r = read_hash(fds[0], h);
                        if (r != 1) {
                                waitpid(pid, &status, 0);
                                fail_msg("round %d: child stopped early (status %d)", round, status);
                        }
                        acked_add(&acked, h);
                }
                assert_int_equal(kill(pid, SIGKILL), 0);
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

                /* acknowledgements written before the kill count too */
                while ((r = read_hash(fds[0], h)) == 1)
                        acked_add(&acked, h);
                assert_int_equal(r, 0);
                close(fds[0]);

                struct store *s = NULL;
                uint64_t count;
                r = store_open(dir, &s, err, sizeof(err));
                if (r < 0)
                        fail_msg("round %d: reopen after kill: %s", round, err);
                for (size_t i = 0; i < acked.n; i++) {
                        struct token_record rec;
                        r = store_token_get(s, acked.hash[i], &rec);
                        if (r < 0)
                                fail_msg("round %d: acknowledged token %zu of %zu lost: %s",
                                         round, i, acked.n, strerror(-r));
                        token_record_free(&rec);
                }
                r = store_check(s);
                if (r < 0)
                        fail_msg("round %d: inconsistent after recovery: %s", round,
                                 store_last_error(s));
                assert_int_equal(store_token_count(s, &count), 0);
                assert_true(count >= acked.n);
                /* at most one committed but unacknowledged token per kill */
                assert_true(count <= acked.n + (uint64_t) round + 1);
                store_close(s);
        }

        free(acked.hash);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crash_keeps_acknowledged_tokens),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
