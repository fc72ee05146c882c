/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the store (kaasd/store*.c) against a real Berkeley DB environment in a
 * temporary directory: tokens, identities and the uid map, record decoding of corrupt bytes,
 * the format-version refusal and sharing one handle between threads.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <db.h>
#include <sodium.h>

#include "store.h"
#include "store_internal.h"
#include "store_record.h"

struct fixture {
        char dir[256];
        struct store *s;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int setup(void **state) {
        struct fixture *f = calloc(1, sizeof(*f));
        const char *tmp = getenv("TMPDIR");
        char err[STORE_ERROR_SIZE];

        if (!f)
                return -1;
        snprintf(f->dir, sizeof(f->dir), "%s/test_store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(f->dir))
                return -1;
        if (store_open(f->dir, &f->s, err, sizeof(err)) < 0) {
                fprintf(stderr, "store_open: %s\n", err);
                return -1;
        }
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fixture *f = *state;

        store_close(f->s);
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void reopen(struct fixture *f) {
        char err[STORE_ERROR_SIZE];

        f->s = store_close(f->s);
        assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
}

static void make_hash(uint8_t h[STORE_HASH_SIZE], unsigned i) {
        memset(h, 0xA5, STORE_HASH_SIZE);
        memcpy(h, &i, sizeof(i));
}

/* A record whose strings are static: the caller owns it and does not free it. */
static struct token_record make_record(const char *owner, int64_t expires) {
        struct token_record r = {
                .owner_id = (char *) owner,
                .owner_name = (char *) "alice",
                .owner_domain_id = (char *) "default",
                .description = (char *) "laptop kubectl",
                .created = 1700000000,
                .expires = expires,
        };
        assert_int_equal(token_id_generate(r.token_id), 0);
        return r;
}

static void put_tokens(struct store *s, const char *owner, unsigned first, unsigned n,
                       int64_t expires) {
        uint8_t h[STORE_HASH_SIZE];

        for (unsigned i = first; i < first + n; i++) {
                struct token_record r = make_record(owner, expires);
                make_hash(h, i);
                assert_int_equal(store_token_put(s, h, &r), 0);
        }
}

/* ---------------------------------------------------------------- lifetime */

static void test_open_files_and_lock(void **state) {
        struct fixture *f = *state;
        struct store *other = NULL;
        char err[STORE_ERROR_SIZE] = "", path[512];
        struct stat st;
        const char *files[] = { "tokens.db", "tokens-by-owner.db", "tokens-by-id.db",
                                "tokens-by-expiry.db", "identities.db", "meta.db",
                                "uid-by-user.db", "user-by-uid.db", "kaasd.lock" };

        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                snprintf(path, sizeof(path), "%s/%s", f->dir, files[i]);
                assert_int_equal(stat(path, &st), 0);
                assert_int_equal(st.st_mode & 0077, 0);
        }

        /* one process (here: one open) at a time, since every open runs recovery */
        assert_int_equal(store_open(f->dir, &other, err, sizeof(err)), -EBUSY);
        assert_null(other);
        assert_non_null(strstr(err, "another process"));

        /* a fresh subdirectory is created 0700 */
        snprintf(path, sizeof(path), "%s/sub", f->dir);
        f->s = store_close(f->s);
        assert_int_equal(store_open(path, &other, err, sizeof(err)), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);
        store_close(other);
        reopen(f);
}

/* ---------------------------------------------------------------- tokens */

/* The cache follows the databases' size: a store that outgrew a fixed
 * cache read a page from disk for every lookup. */
static void test_cache_sized_from_store(void **state) {
        struct fixture *f = *state;
        const uint64_t MiB = 1024 * 1024;
        assert_int_equal(store_cache_size(f->s), 32 * MiB);
        assert_int_equal(store_cache_size_for(0, 0), 32 * MiB);
        assert_int_equal(store_cache_size_for(600 * MiB, 0), 675 * MiB);
        assert_int_equal(store_cache_size_for(2048 * MiB, 0), 1024 * MiB);
        assert_int_equal(store_cache_size_for(600 * MiB, 256 * MiB), 256 * MiB);
        assert_int_equal(store_cache_size_for(600 * MiB, 1 * MiB), 32 * MiB);

        /* reopened over 64 MiB more of databases: the cache grows with
         * them (a sparse file stands for a grown one) */
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/grown.db", f->dir);
        f->s = store_close(f->s);
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 64 * MiB), 0);
        close(fd);
        char err[STORE_ERROR_SIZE];
        assert_int_equal(store_open_sized(f->dir, 0, &f->s, err, sizeof(err)), 0);
        assert_true(store_cache_size(f->s) >= 72 * MiB);
        f->s = store_close(f->s);
        assert_int_equal(store_open_sized(f->dir, 48 * MiB, &f->s, err, sizeof(err)), 0);
        assert_int_equal(store_cache_size(f->s), 48 * MiB);
}

static void test_token_put_get(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE], h2[STORE_HASH_SIZE], got_hash[STORE_HASH_SIZE];
        struct token_record r = make_record("u-alice", 1800000000), got = {}, dup;

        r.last_used = 1700000100;
        make_hash(h, 1);
        assert_int_equal(store_token_put(f->s, h, &r), 0);

        assert_int_equal(store_token_get(f->s, h, &got), 0);
        assert_string_equal(got.owner_id, "u-alice");
        assert_string_equal(got.owner_name, "alice");
        assert_string_equal(got.owner_domain_id, "default");
        assert_string_equal(got.description, "laptop kubectl");
        assert_string_equal(got.token_id, r.token_id);
        assert_int_equal(got.created, 1700000000);
        assert_int_equal(got.expires, 1800000000);
        assert_int_equal(got.last_used, 1700000100);
        token_record_free(&got);

        assert_int_equal(store_token_get_by_id(f->s, r.token_id, got_hash, &got), 0);
        assert_memory_equal(got_hash, h, STORE_HASH_SIZE);
        assert_string_equal(got.owner_id, "u-alice");
        token_record_free(&got);

        /* same hash, or same token ID under another hash: refused, nothing changed */
        dup = make_record("u-bob", 1800000000);
        assert_int_equal(store_token_put(f->s, h, &dup), -EEXIST);
        make_hash(h2, 2);
        memcpy(dup.token_id, r.token_id, sizeof(r.token_id));
        assert_int_equal(store_token_put(f->s, h2, &dup), -EEXIST);
        assert_int_equal(store_token_get(f->s, h2, &got), -ENOENT);
        assert_int_equal(store_check(f->s), 0);

        /* negative and far timestamps survive the order-preserving encoding */
        struct token_record odd = make_record("u-alice", -5);
        odd.created = INT64_MIN;
        odd.last_used = INT64_MAX;
        odd.description = NULL;
        make_hash(h2, 3);
        assert_int_equal(store_token_put(f->s, h2, &odd), 0);
        assert_int_equal(store_token_get(f->s, h2, &got), 0);
        assert_int_equal(got.created, INT64_MIN);
        assert_int_equal(got.expires, -5);
        assert_int_equal(got.last_used, INT64_MAX);
        assert_string_equal(got.description, "");
        token_record_free(&got);

        /* durable across close and recovery */
        reopen(f);
        assert_int_equal(store_token_get(f->s, h, &got), 0);
        assert_string_equal(got.token_id, r.token_id);
        token_record_free(&got);
        token_record_free(NULL);
}

static void test_token_put_invalid(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE];
        char longdesc[STORE_DESCRIPTION_MAX + 2], longid[STORE_USER_ID_MAX + 2];
        struct token_record r;

        make_hash(h, 1);
        memset(longdesc, 'd', sizeof(longdesc) - 1);
        longdesc[sizeof(longdesc) - 1] = '\0';
        memset(longid, 'i', sizeof(longid) - 1);
        longid[sizeof(longid) - 1] = '\0';

        r = make_record("", 1);
        assert_int_equal(store_token_put(f->s, h, &r), -EINVAL);
        r = make_record(longid, 1);
        assert_int_equal(store_token_put(f->s, h, &r), -EINVAL);
        r = make_record("u", 1);
        r.description = longdesc;
        assert_int_equal(store_token_put(f->s, h, &r), -EINVAL);
        longdesc[STORE_DESCRIPTION_MAX] = '\0';         /* exactly at the bound: fine */
        assert_int_equal(store_token_put(f->s, h, &r), 0);
        r = make_record("u", 1);
        r.token_id[3] = '-';
        assert_int_equal(store_token_put(f->s, h, &r), -EINVAL);
        r = make_record("u", 1);
        r.owner_name = NULL;
        assert_int_equal(store_token_put(f->s, h, &r), -EINVAL);

        struct token_record got = { .created = 42 };
        assert_int_equal(store_token_get_by_id(f->s, "tid_short", NULL, &got), -EINVAL);
        assert_int_equal(got.created, 42);              /* untouched on failure */
        assert_int_equal(store_token_delete_by_id(f->s, "nonsense"), -EINVAL);
}

static void test_token_delete(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE];
        struct token_record r = make_record("u-alice", 1800000000), got;
        struct token_record r2 = make_record("u-alice", 1800000000);
        uint64_t n;

        make_hash(h, 1);
        assert_int_equal(store_token_put(f->s, h, &r), 0);
        assert_int_equal(store_token_delete_by_id(f->s, r.token_id), 0);
        assert_int_equal(store_token_get(f->s, h, &got), -ENOENT);
        assert_int_equal(store_token_get_by_id(f->s, r.token_id, NULL, &got), -ENOENT);
        assert_int_equal(store_token_delete_by_id(f->s, r.token_id), -ENOENT);

        assert_int_equal(store_token_put(f->s, h, &r2), 0);
        assert_int_equal(store_token_delete(f->s, h), 0);
        assert_int_equal(store_token_delete(f->s, h), -ENOENT);
        assert_int_equal(store_token_count(f->s, &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(store_check(f->s), 0);
}

struct collect {
        unsigned calls;
        int stop_at;                    /* return value once calls reaches stop_after */
        unsigned stop_after;
        char last_id[TOKEN_ID_STRING_SIZE];
        bool ordered;
        struct store *delete_from;
        uint8_t seen[512];
};

static int collect_cb(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec,
                      void *userdata) {
        struct collect *c = userdata;
        unsigned i;

        memcpy(&i, hash, sizeof(i));
        assert_true(i < sizeof(c->seen));
        c->seen[i]++;
        if (c->last_id[0] && strcmp(c->last_id, rec->token_id) >= 0)
                c->ordered = false;
        memcpy(c->last_id, rec->token_id, sizeof(c->last_id));
        c->calls++;
        if (c->delete_from)
                assert_int_equal(store_token_delete(c->delete_from, hash), 0);
        if (c->stop_after && c->calls == c->stop_after)
                return c->stop_at;
        return 0;
}

static void test_token_list(void **state) {
        struct fixture *f = *state;
        struct collect c;

        /* more than one batch for alice, to exercise resuming between transactions */
        put_tokens(f->s, "u-alice", 0, 150, 1800000000);
        put_tokens(f->s, "u-bob", 200, 3, 1800000000);

        c = (struct collect) { .ordered = true };
        assert_int_equal(store_token_list_by_owner(f->s, "u-alice", collect_cb, &c), 0);
        assert_int_equal(c.calls, 150);
        for (unsigned i = 0; i < 150; i++)
                assert_int_equal(c.seen[i], 1);

        c = (struct collect) { .ordered = true };
        assert_int_equal(store_token_list_by_owner(f->s, "u-bob", collect_cb, &c), 0);
        assert_int_equal(c.calls, 3);
        c = (struct collect) { .ordered = true };
        assert_int_equal(store_token_list_by_owner(f->s, "u-nobody", collect_cb, &c), 0);
        assert_int_equal(c.calls, 0);

        c = (struct collect) { .ordered = true };
        assert_int_equal(store_token_list_all(f->s, collect_cb, &c), 0);
        assert_int_equal(c.calls, 153);
        assert_true(c.ordered);                         /* token ID order */
        for (unsigned i = 0; i < 150; i++)
                assert_int_equal(c.seen[i], 1);

        /* a positive return stops quietly, a negative one is passed on */
        c = (struct collect) { .stop_after = 70, .stop_at = 1 };
        assert_int_equal(store_token_list_all(f->s, collect_cb, &c), 0);
        assert_int_equal(c.calls, 70);
        c = (struct collect) { .stop_after = 5, .stop_at = -EINTR };
        assert_int_equal(store_token_list_by_owner(f->s, "u-alice", collect_cb, &c), -EINTR);
        assert_int_equal(c.calls, 5);

        /* callbacks run outside transactions: they may modify the store */
        c = (struct collect) { .delete_from = f->s };
        assert_int_equal(store_token_list_by_owner(f->s, "u-alice", collect_cb, &c), 0);
        assert_int_equal(c.calls, 150);
        uint64_t n;
        assert_int_equal(store_token_count(f->s, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(store_check(f->s), 0);
        assert_int_equal(store_token_list_by_owner(f->s, "", collect_cb, &c), -EINVAL);
}

static void test_token_delete_by_owner(void **state) {
        struct fixture *f = *state;
        uint64_t n = 99;
        bool any;

        assert_int_equal(store_token_any(f->s, &any), 0);
        assert_false(any);
        put_tokens(f->s, "u-alice", 0, 250, 1800000000);        /* several delete batches */
        put_tokens(f->s, "u-bob", 300, 4, 1800000000);
        assert_int_equal(store_token_any(f->s, &any), 0);
        assert_true(any);

        assert_int_equal(store_token_delete_by_owner(f->s, "u-alice", &n), 0);
        assert_int_equal(n, 250);
        assert_int_equal(store_token_delete_by_owner(f->s, "u-alice", &n), 0);
        assert_int_equal(n, 0);
        assert_int_equal(store_token_count(f->s, &n), 0);
        assert_int_equal(n, 4);
        assert_int_equal(store_check(f->s), 0);
}

static void test_token_touch(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE];
        struct token_record r = make_record("u-alice", 1800000000), got;

        make_hash(h, 1);
        assert_int_equal(store_token_put(f->s, h, &r), 0);
        assert_int_equal(store_token_touch(f->s, h, 1700000500), 0);
        assert_int_equal(store_token_get(f->s, h, &got), 0);
        assert_int_equal(got.last_used, 1700000500);
        token_record_free(&got);

        assert_int_equal(store_token_touch(f->s, h, 1700000400), 0);    /* never backwards */
        assert_int_equal(store_token_get(f->s, h, &got), 0);
        assert_int_equal(got.last_used, 1700000500);
        assert_string_equal(got.token_id, r.token_id);
        token_record_free(&got);

        make_hash(h, 2);
        assert_int_equal(store_token_touch(f->s, h, 1700000500), -ENOENT);
        assert_int_equal(store_check(f->s), 0);
}

static void test_token_touch_many(void **state) {
        struct fixture *f = *state;
        struct token_record r = make_record("u-alice", 1800000000), got;
        struct store_touch t[3] = { { .last_used = 1700000500 }, { .last_used = 1700000600 },
                                    { .last_used = 1700000700 } };
        bool written[3] = { false, true, false };

        make_hash(t[0].hash, 1);
        make_hash(t[1].hash, 2);        /* no such token: skipped */
        make_hash(t[2].hash, 3);
        assert_int_equal(store_token_put(f->s, t[0].hash, &r), 0);
        struct token_record r3 = make_record("u-bob", 1800000000);
        assert_int_equal(store_token_put(f->s, t[2].hash, &r3), 0);
        assert_int_equal(store_token_touch_many(f->s, t, 3, written), 0);
        assert_true(written[0] && !written[1] && written[2]);

        /* the last use written in place, everything else as it was */
        assert_int_equal(store_token_get(f->s, t[0].hash, &got), 0);
        assert_int_equal(got.last_used, 1700000500);
        assert_int_equal(got.created, r.created);
        assert_int_equal(got.expires, r.expires);
        assert_string_equal(got.token_id, r.token_id);
        assert_string_equal(got.owner_id, "u-alice");
        assert_string_equal(got.description, "laptop kubectl");
        token_record_free(&got);

        /* never backwards */
        t[2].last_used = 1700000100;
        assert_int_equal(store_token_touch_many(f->s, &t[2], 1, written), 0);
        assert_true(written[0]);
        assert_int_equal(store_token_get(f->s, t[2].hash, &got), 0);
        assert_int_equal(got.last_used, 1700000700);
        assert_string_equal(got.owner_id, "u-bob");
        token_record_free(&got);
        assert_int_equal(store_check(f->s), 0);
}

static uint64_t cache_misses(struct store *s) {
        DB_MPOOL_STAT *st = NULL;
        assert_int_equal(s->env->memp_stat(s->env, &st, NULL, 0), 0);
        uint64_t misses = st->st_cache_miss;
        free(st);
        return misses;
}

/* After warming, a lookup of any token reads no page from the file, and
 * the warming went in slices. */
static void test_warm(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE];
        struct token_record got;
        uint64_t bytes = 0;
        unsigned steps = 0;
        int r;

        put_tokens(f->s, "u-alice", 0, 2000, 1800000000);
        reopen(f);
        while ((r = store_warm_step(f->s, 16, &bytes)) == 0)
                steps++;
        assert_int_equal(r, 1);
        assert_true(steps > 4);
        struct stat st;
        char path[PATH_MAX + 16];
        snprintf(path, sizeof(path), "%s/tokens.db", f->dir);
        assert_int_equal(stat(path, &st), 0);
        assert_true(bytes >= (uint64_t) st.st_size);

        uint64_t before = cache_misses(f->s);
        for (unsigned i = 0; i < 2000; i++) {
                make_hash(h, i);
                assert_int_equal(store_token_get(f->s, h, &got), 0);
                token_record_free(&got);
        }
        assert_int_equal(cache_misses(f->s), before);
        assert_int_equal(store_warm_step(f->s, 16, NULL), 1);
}

static void test_token_purge_expired(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE];
        struct token_record got;
        unsigned purged = 99;
        uint64_t n;

        put_tokens(f->s, "u-alice", 0, 5, 1000);        /* expired */
        put_tokens(f->s, "u-alice", 10, 130, 2000);     /* expired later; > one purge batch */
        put_tokens(f->s, "u-bob", 200, 3, 3000);        /* still valid */

        assert_int_equal(store_token_purge_expired(f->s, 999, 100, &purged), 0);
        assert_int_equal(purged, 0);
        assert_int_equal(store_token_purge_expired(f->s, 1000, 2, &purged), 0);
        assert_int_equal(purged, 2);                    /* bounded */
        assert_int_equal(store_token_purge_expired(f->s, 1500, 100, &purged), 0);
        assert_int_equal(purged, 3);
        assert_int_equal(store_maintenance(f->s, 2500, 1000, &purged), 0);
        assert_int_equal(purged, 130);

        assert_int_equal(store_token_count(f->s, &n), 0);
        assert_int_equal(n, 3);
        make_hash(h, 200);
        assert_int_equal(store_token_get(f->s, h, &got), 0);
        token_record_free(&got);
        make_hash(h, 0);
        assert_int_equal(store_token_get(f->s, h, &got), -ENOENT);
        assert_int_equal(store_check(f->s), 0);
        assert_int_equal(store_maintenance(f->s, 2500, 0, NULL), 0);
}

/* ---------------------------------------------------------------- identities */

static void test_identity(void **state) {
        struct fixture *f = *state;
        static const char blob[] = "{\"id\":\"u1\",\"roles\":[\"member\"]}";
        struct identity_record in = {
                .user_id = (char *) "u1", .name = (char *) "alice",
                .domain_id = (char *) "default", .blob_version = 3,
                .fetched_at = 1700000000, .blob = (char *) blob, .blob_size = sizeof(blob) - 1,
        };
        struct identity_record got = {};

        assert_int_equal(store_identity_get(f->s, "u1", &got), -ENOENT);
        assert_int_equal(store_identity_put(f->s, &in), 0);

        assert_int_equal(store_identity_get(f->s, "u1", &got), 0);
        assert_string_equal(got.user_id, "u1");
        assert_string_equal(got.name, "alice");
        assert_string_equal(got.domain_id, "default");
        assert_int_equal(got.blob_version, 3);
        assert_int_equal(got.fetched_at, 1700000000);
        assert_int_equal(got.blob_size, sizeof(blob) - 1);
        assert_string_equal(got.blob, blob);
        identity_record_free(&got);

        assert_int_equal(store_identity_get_by_name(f->s, "alice", "default", &got), 0);
        assert_string_equal(got.user_id, "u1");
        identity_record_free(&got);
        assert_int_equal(store_identity_get_by_name(f->s, "alice", "other", &got), -ENOENT);
        assert_int_equal(store_identity_get_by_name(f->s, "alic", "default", &got), -ENOENT);

        /* replace: the user was renamed; the old name no longer resolves */
        in.name = (char *) "alice2";
        in.fetched_at = 1700000100;
        assert_int_equal(store_identity_put(f->s, &in), 0);
        assert_int_equal(store_identity_get_by_name(f->s, "alice", "default", &got), -ENOENT);
        assert_int_equal(store_identity_get_by_name(f->s, "alice2", "default", &got), 0);
        assert_int_equal(got.fetched_at, 1700000100);
        identity_record_free(&got);

        /* another user now holds the name: the stale record goes */
        struct identity_record other = in;
        other.user_id = (char *) "u2";
        assert_int_equal(store_identity_put(f->s, &other), 0);
        assert_int_equal(store_identity_get(f->s, "u1", &got), -ENOENT);
        assert_int_equal(store_identity_get_by_name(f->s, "alice2", "default", &got), 0);
        assert_string_equal(got.user_id, "u2");
        identity_record_free(&got);

        /* binary blob with NUL bytes, and an empty one */
        static const char bin[] = { 'a', 0, 'b', 0, (char) 0xff };
        struct identity_record b = { .user_id = (char *) "u3", .name = (char *) "carol",
                                     .domain_id = (char *) "", .blob = (char *) bin,
                                     .blob_size = sizeof(bin) };
        assert_int_equal(store_identity_put(f->s, &b), 0);
        assert_int_equal(store_identity_get_by_name(f->s, "carol", "", &got), 0);
        assert_int_equal(got.blob_size, sizeof(bin));
        assert_memory_equal(got.blob, bin, sizeof(bin));
        assert_int_equal(got.blob[sizeof(bin)], '\0');
        identity_record_free(&got);
        b.blob = NULL;
        b.blob_size = 0;
        assert_int_equal(store_identity_put(f->s, &b), 0);
        assert_int_equal(store_identity_get(f->s, "u3", &got), 0);
        assert_int_equal(got.blob_size, 0);
        assert_string_equal(got.blob, "");
        identity_record_free(&got);

        /* bounds */
        b.blob_size = STORE_BLOB_MAX + 1;
        b.blob = (char *) bin;
        assert_int_equal(store_identity_put(f->s, &b), -EINVAL);
        b.blob_size = 0;
        b.name = (char *) "";
        assert_int_equal(store_identity_put(f->s, &b), -EINVAL);
        b.name = (char *) "carol";
        b.user_id = (char *) "";
        assert_int_equal(store_identity_put(f->s, &b), -EINVAL);

        assert_int_equal(store_check(f->s), 0);
        assert_int_equal(store_identity_delete(f->s, "u2"), 0);
        assert_int_equal(store_identity_delete(f->s, "u2"), -ENOENT);
        assert_int_equal(store_identity_get_by_name(f->s, "alice2", "default", &got), -ENOENT);
        assert_int_equal(store_check(f->s), 0);
        identity_record_free(NULL);
}

static int count_identity_cb(const struct identity_record *rec, void *userdata) {
        unsigned *n = userdata;
        assert_non_null(rec->user_id);
        assert_non_null(rec->blob);
        (*n)++;
        return 0;
}

static void test_identity_list(void **state) {
        struct fixture *f = *state;
        unsigned n = 0;
        char id[32], name[32];

        for (int i = 0; i < 200; i++) {
                snprintf(id, sizeof(id), "user%03d", i);
                snprintf(name, sizeof(name), "name%03d", i);
                struct identity_record r = { .user_id = id, .name = name,
                                             .domain_id = (char *) "default",
                                             .blob = (char *) "{}", .blob_size = 2 };
                assert_int_equal(store_identity_put(f->s, &r), 0);
        }
        assert_int_equal(store_identity_list(f->s, count_identity_cb, &n), 0);
        assert_int_equal(n, 200);
}

/* ---------------------------------------------------------------- uid map */

static void test_uid(void **state) {
        struct fixture *f = *state;
        uint32_t uid = 0;
        char *user = NULL;

        /* a tiny range 1000..1004 with colliding preferences */
        assert_int_equal(store_uid_get_or_assign(f->s, "a", 1000, 1004, 1002, &uid), 0);
        assert_int_equal(uid, 1002);
        assert_int_equal(store_uid_get_or_assign(f->s, "b", 1000, 1004, 1002, &uid), 0);
        assert_int_equal(uid, 1003);                    /* next free above */
        assert_int_equal(store_uid_get_or_assign(f->s, "c", 1000, 1004, 1004, &uid), 0);
        assert_int_equal(uid, 1004);
        assert_int_equal(store_uid_get_or_assign(f->s, "d", 1000, 1004, 1003, &uid), 0);
        assert_int_equal(uid, 1000);                    /* wrapped around */
        assert_int_equal(store_uid_get_or_assign(f->s, "e", 1000, 1004, 1000, &uid), 0);
        assert_int_equal(uid, 1001);
        uid = 7;
        assert_int_equal(store_uid_get_or_assign(f->s, "f", 1000, 1004, 1001, &uid), -ENOSPC);
        assert_int_equal(uid, 7);
        assert_non_null(strstr(store_last_error(f->s), "1000..1004"));

        /* remembered: the same answer whatever is preferred now, and after a reopen */
        assert_int_equal(store_uid_get_or_assign(f->s, "a", 1000, 1004, 1000, &uid), 0);
        assert_int_equal(uid, 1002);
        reopen(f);
        assert_int_equal(store_uid_get_or_assign(f->s, "b", 1000, 1004, 1000, &uid), 0);
        assert_int_equal(uid, 1003);
        assert_int_equal(store_uid_get(f->s, "d", &uid), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(store_uid_get(f->s, "f", &uid), -ENOENT);
        assert_int_equal(store_uid_lookup(f->s, 1001, &user), 0);
        assert_string_equal(user, "e");
        free(user);
        assert_int_equal(store_uid_lookup(f->s, 1005, &user), -ENOENT);

        /* a wider range: the full small range does not stop it */
        assert_int_equal(store_uid_get_or_assign(f->s, "f", 1000, 2000, 1000, &uid), 0);
        assert_int_equal(uid, 1005);
        assert_int_equal(store_uid_get_or_assign(f->s, "g", 5, 5, 5, &uid), 0);
        assert_int_equal(uid, 5);
        assert_int_equal(store_uid_get_or_assign(f->s, "h", UINT32_MAX - 1, UINT32_MAX,
                                                 UINT32_MAX, &uid), 0);
        assert_int_equal(uid, UINT32_MAX);
        assert_int_equal(store_uid_get_or_assign(f->s, "i", UINT32_MAX - 1, UINT32_MAX,
                                                 UINT32_MAX, &uid), 0);
        assert_int_equal(uid, UINT32_MAX - 1);

        assert_int_equal(store_uid_get_or_assign(f->s, "x", 10, 9, 10, &uid), -EINVAL);
        assert_int_equal(store_uid_get_or_assign(f->s, "x", 10, 20, 21, &uid), -EINVAL);
        assert_int_equal(store_uid_get_or_assign(f->s, "", 10, 20, 10, &uid), -EINVAL);
        assert_int_equal(store_check(f->s), 0);
}

/* Another node gave a number first: the loser's entry moves, in one transaction. */
static void test_uid_move(void **state) {
        struct fixture *f = *state;
        uint32_t uid = 0;
        char *user = NULL;

        assert_int_equal(store_uid_get_or_assign(f->s, "a", 1000, 1004, 1002, &uid), 0);
        assert_int_equal(uid, 1002);
        /* 1002 went to "w" elsewhere: "a" takes the next free one and "w" gets 1002 */
        assert_int_equal(store_uid_move(f->s, "a", 1002, "w", 1000, 1004, 1003, &uid), 0);
        assert_int_equal(uid, 1003);
        assert_int_equal(store_uid_lookup(f->s, 1002, &user), 0);
        assert_string_equal(user, "w");
        free(user);
        /* "a" was given 1000 elsewhere first: it takes that one, 1003 is free again */
        assert_int_equal(store_uid_move(f->s, "a", 1003, NULL, 1000, 1000, 1000, &uid), 0);
        assert_int_equal(uid, 1000);
        assert_int_equal(store_uid_lookup(f->s, 1003, &user), -ENOENT);
        /* a number another key holds here cannot be taken: nothing changes */
        assert_int_equal(store_uid_move(f->s, "a", 1000, NULL, 1002, 1002, 1002, &uid), -ENOSPC);
        assert_int_equal(store_uid_get(f->s, "a", &uid), 0);
        assert_int_equal(uid, 1000);
        /* the entry changed meanwhile */
        assert_int_equal(store_uid_move(f->s, "a", 1004, NULL, 1000, 1004, 1001, &uid), -ESTALE);
        /* a winner that holds a number already keeps it; the loser never gets its old one back */
        assert_int_equal(store_uid_move(f->s, "a", 1000, "w", 1000, 1001, 1000, &uid), 0);
        assert_int_equal(uid, 1001);
        assert_int_equal(store_uid_get(f->s, "w", &uid), 0);
        assert_int_equal(uid, 1002);
        assert_int_equal(store_uid_move(f->s, "a", 1001, "a", 1000, 1004, 1000, &uid), -EINVAL);
        assert_int_equal(store_check(f->s), 0);
}

/* ---------------------------------------------------------------- records */

static void test_record_codec(void **state) {
        struct token_record r = make_record("u-alice", 1800000000), got;
        uint8_t buf[TOKEN_RECORD_SIZE_MAX], bad[TOKEN_RECORD_SIZE_MAX + 1];
        size_t size;

        assert_int_equal(token_record_encode(&r, buf, &size), 0);
        assert_int_equal(token_record_decode(buf, size, &got), 0);
        assert_string_equal(got.owner_id, "u-alice");
        token_record_free(&got);

        /* every truncation, an extra byte, a wrong version */
        for (size_t n = 0; n < size; n++)
                assert_int_equal(token_record_decode(buf, n, &got), -EBADMSG);
        memcpy(bad, buf, size);
        bad[size] = 0;
        assert_int_equal(token_record_decode(bad, size + 1, &got), -EBADMSG);
        memcpy(bad, buf, size);
        bad[0] = TOKEN_RECORD_VERSION + 1;
        assert_int_equal(token_record_decode(bad, size, &got), -EBADMSG);
        bad[0] = 0;
        assert_int_equal(token_record_decode(bad, size, &got), -EBADMSG);
        assert_int_equal(token_record_decode(NULL, 0, &got), -EBADMSG);

        /* a length pointing past the end, and a NUL inside a string */
        memcpy(bad, buf, size);
        bad[25] = 0xff;                                 /* token ID length */
        assert_int_equal(token_record_decode(bad, size, &got), -EBADMSG);
        memcpy(bad, buf, size);
        bad[25 + 1 + TOKEN_ID_LENGTH + 1] = '\0';       /* first byte of the owner ID */
        assert_int_equal(token_record_decode(bad, size, &got), -EBADMSG);

        /* random damage never crashes (ASan/valgrind watch the reads) */
        for (int i = 0; i < 20000; i++) {
                size_t n = randombytes_uniform((uint32_t) size + 1);
                memcpy(bad, buf, size);
                bad[randombytes_uniform((uint32_t) size)] = (uint8_t) randombytes_random();
                if (token_record_decode(bad, n, &got) == 0)
                        token_record_free(&got);
        }

        /* identities */
        struct identity_record in = { .name = (char *) "alice", .domain_id = (char *) "d",
                                      .blob = (char *) "{}", .blob_size = 2 }, iget;
        uint8_t *ibuf = NULL;
        assert_int_equal(identity_record_encode(&in, &ibuf, &size), 0);
        assert_int_equal(identity_record_decode("u1", 2, ibuf, size, &iget), 0);
        assert_string_equal(iget.name, "alice");
        identity_record_free(&iget);
        for (size_t n = 0; n < size; n++)
                assert_int_equal(identity_record_decode("u1", 2, ibuf, n, &iget), -EBADMSG);
        ibuf[0] = 9;
        assert_int_equal(identity_record_decode("u1", 2, ibuf, size, &iget), -EBADMSG);
        ibuf[0] = IDENTITY_RECORD_VERSION;
        ibuf[15 + 5] = 'x';                             /* the name/domain separator */
        assert_int_equal(identity_record_decode("u1", 2, ibuf, size, &iget), -EBADMSG);
        assert_int_equal(identity_record_decode("", 0, ibuf, size, &iget), -EBADMSG);
        free(ibuf);
}

/* Writes raw bytes into one of the store's databases behind the store's back (no indexes). */
static void raw_put(const char *dir, const char *file, DBTYPE type, const void *k, size_t klen,
                    const void *d, size_t dlen) {
        DB_ENV *env;
        DB *db;
        DBT key = { .data = (void *) k, .size = (u_int32_t) klen };
        DBT data = { .data = (void *) d, .size = (u_int32_t) dlen };

        assert_int_equal(db_env_create(&env, 0), 0);
        assert_int_equal(env->open(env, dir, DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK |
                                   DB_INIT_LOG | DB_INIT_MPOOL | DB_RECOVER, 0600), 0);
        assert_int_equal(db_create(&db, env, 0), 0);
        assert_int_equal(db->open(db, NULL, file, NULL, type, DB_AUTO_COMMIT, 0600), 0);
        assert_int_equal(db->put(db, NULL, &key, &data, DB_AUTO_COMMIT), 0);
        assert_int_equal(db->close(db, 0), 0);
        assert_int_equal(env->close(env, 0), 0);
}

static void test_corrupt_record_in_store(void **state) {
        struct fixture *f = *state;
        uint8_t h[STORE_HASH_SIZE], buf[TOKEN_RECORD_SIZE_MAX];
        struct token_record r = make_record("u-alice", 1800000000), got;
        size_t size;

        make_hash(h, 1);
        assert_int_equal(token_record_encode(&r, buf, &size), 0);
        buf[0] = 2;                                     /* a version we don't know */
        f->s = store_close(f->s);
        raw_put(f->dir, "tokens.db", DB_HASH, h, sizeof(h), buf, size);
        make_hash(h, 2);
        raw_put(f->dir, "tokens.db", DB_HASH, h, sizeof(h), "\x01trunc", 6);
        reopen(f);

        make_hash(h, 1);
        assert_int_equal(store_token_get(f->s, h, &got), -EBADMSG);
        assert_non_null(strstr(store_last_error(f->s), "corrupt token record"));
        make_hash(h, 2);
        assert_int_equal(store_token_get(f->s, h, &got), -EBADMSG);
        assert_int_equal(store_token_touch(f->s, h, 5), -EBADMSG);
        assert_int_equal(store_check(f->s), -EUCLEAN);
}

static void test_format_version_refused(void **state) {
        struct fixture *f = *state;
        uint8_t v[4] = { 0, 0, 0, STORE_FORMAT_VERSION + 1 };
        char err[STORE_ERROR_SIZE] = "";

        f->s = store_close(f->s);
        raw_put(f->dir, "meta.db", DB_BTREE, "format", 6, v, sizeof(v));
        assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), -EPROTONOSUPPORT);
        assert_null(f->s);
        assert_non_null(strstr(err, "newer"));

        v[3] = STORE_FORMAT_VERSION;
        raw_put(f->dir, "meta.db", DB_BTREE, "format", 6, v, sizeof(v));
        assert_int_equal(store_open(f->dir, &f->s, err, sizeof(err)), 0);
}

/* ---------------------------------------------------------------- threads */

struct worker {
        struct store *s;
        unsigned base;
        int result;
};

static void *worker_main(void *userdata) {
        struct worker *w = userdata;
        uint8_t h[STORE_HASH_SIZE];
        struct token_record got;

        for (unsigned i = w->base; i < w->base + 100 && w->result == 0; i++) {
                struct token_record r = { .owner_id = (char *) "u-shared",
                                          .owner_name = (char *) "shared",
                                          .owner_domain_id = (char *) "default",
                                          .expires = 1800000000 };
                if (token_id_generate(r.token_id) < 0)
                        w->result = -EIO;
                make_hash(h, i);
                if (w->result == 0)
                        w->result = store_token_put(w->s, h, &r);
                if (w->result == 0)
                        w->result = store_token_touch(w->s, h, i);
                if (w->result == 0 && (w->result = store_token_get(w->s, h, &got)) == 0)
                        token_record_free(&got);
                if (w->result == 0 && i % 10 == 0)
                        w->result = store_token_delete_by_id(w->s, r.token_id);
        }
        return NULL;
}

/* Writers colliding on the few pages of a young store: deadlocks are resolved and retried
 * inside the store, never surfaced. */
static void test_threads(void **state) {
        struct fixture *f = *state;
        struct worker w[8];
        pthread_t t[8];
        uint64_t n;

        for (unsigned i = 0; i < 8; i++) {
                w[i] = (struct worker) { .s = f->s, .base = i * 100 };
                assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
        }
        for (unsigned i = 0; i < 8; i++) {
                assert_int_equal(pthread_join(t[i], NULL), 0);
                assert_int_equal(w[i].result, 0);
        }
        assert_int_equal(store_token_count(f->s, &n), 0);
        assert_int_equal(n, 720);
        assert_int_equal(store_check(f->s), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_open_files_and_lock),
                T(test_cache_sized_from_store),
                T(test_token_put_get),
                T(test_token_put_invalid),
                T(test_token_delete),
                T(test_token_list),
                T(test_token_delete_by_owner),
                T(test_token_touch),
                T(test_token_touch_many),
                T(test_warm),
                T(test_token_purge_expired),
                T(test_identity),
                T(test_identity_list),
                T(test_uid),
                T(test_uid_move),
                cmocka_unit_test(test_record_codec),
                T(test_corrupt_record_in_store),
                T(test_format_version_refused),
                T(test_threads),
#undef T
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
