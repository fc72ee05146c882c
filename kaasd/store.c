/* SPDX-License-Identifier: MIT */
/*
 * The Berkeley DB 5.3 backend of the store: environment and database lifetime, the format
 * version, the transaction runner, error mapping and maintenance. Token, identity and uid
 * operations live in store_token.c, store_identity.c and store_uid.c.
 *
 * Recovery on every open (DB_RECOVER) is safe and cheap here: a lock file guarantees that
 * kaasd is the only process using the environment (recovery under another process's feet
 * would corrupt it), and because store_maintenance() checkpoints regularly and store_close()
 * checkpoints before closing, recovery only replays the log written since the last
 * checkpoint. It also means a crashed daemon needs no special handling: the next start
 * recovers.
 *
 * Depends on Berkeley DB and POSIX. Never logs: errors are returned and described by
 * store_last_error().
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "store_internal.h"
#include "store_record.h"

#define STORE_LOCK_FILE         "kaasd.lock"
/* The Berkeley DB cache: the size of the databases found at open plus an
 * eighth for growth, at least STORE_CACHE_MIN and at most the limit given
 * (STORE_CACHE_DEFAULT_MAX when 0). A lookup in a store larger than its
 * cache reads a page from the file for every token: at 1,000,000 tokens
 * (about 540 MB of databases) a 32 MiB cache halved Validate's rate. The
 * cache lives in kaasd's heap (DB_PRIVATE) and its pages become resident
 * as they are used. */
#define STORE_CACHE_MIN         (32ull * 1024 * 1024)
#define STORE_CACHE_DEFAULT_MAX (1024ull * 1024 * 1024)
#define STORE_LOCKS_MAX         20000
#define STORE_FORMAT_KEY        "format"

/* ---------------------------------------------------------------- errors */

static void bdb_errcall(const DB_ENV *env, const char *prefix, const char *msg) {
        struct store *s = env->app_private;

        if (!s)
                return;
        pthread_mutex_lock(&s->error_lock);
        snprintf(s->bdb_message, sizeof(s->bdb_message), "%s", msg ? msg : "");
        pthread_mutex_unlock(&s->error_lock);
}

static void bdb_msgcall(const DB_ENV *env, const char *msg) {
        /* Informational output (statistics, verbose mode): not wanted on stderr. */
}

int store_fail(struct store *s, int r, const char *fmt, ...) {
        va_list ap;

        pthread_mutex_lock(&s->error_lock);
        va_start(ap, fmt);
        vsnprintf(s->last_error, sizeof(s->last_error), fmt, ap);
        va_end(ap);
        pthread_mutex_unlock(&s->error_lock);
        return r;
}

int store_error(struct store *s, int r) {
        int mapped;

        switch (r) {
        case 0:
                return 0;
        /* Expected outcomes: no message. */
        case DB_NOTFOUND:
        case DB_KEYEMPTY:
                return -ENOENT;
        case DB_KEYEXIST:
                mapped = -EEXIST;
                goto expected;
        case DB_LOCK_DEADLOCK:
        case DB_LOCK_NOTGRANTED:
                mapped = -EDEADLK;
                goto expected;
        /* Unexpected: keep BDB's words for the log. */
        case DB_BUFFER_SMALL:           /* larger than any valid record */
                mapped = -EBADMSG;
                break;
        case DB_SECONDARY_BAD:
        case DB_VERIFY_BAD:
        case DB_PAGE_NOTFOUND:
                mapped = -EUCLEAN;
                break;
        case DB_RUNRECOVERY:
                mapped = -ENOTRECOVERABLE;
                break;
        case DB_VERSION_MISMATCH:
                mapped = -EPROTONOSUPPORT;
                break;
        default:
                mapped = r > 0 ? -r : -EIO;
                break;
        }

        pthread_mutex_lock(&s->error_lock);
        if (s->bdb_message[0] != '\0') {
                snprintf(s->last_error, sizeof(s->last_error), "%s (%s)", db_strerror(r),
                         s->bdb_message);
                s->bdb_message[0] = '\0';
        } else
                snprintf(s->last_error, sizeof(s->last_error), "%s", db_strerror(r));
        pthread_mutex_unlock(&s->error_lock);
        return mapped;

expected:
        /* BDB may have explained it (e.g. a unique index refusing a key): don't let that text
         * be attached to a later, unrelated error. */
        pthread_mutex_lock(&s->error_lock);
        s->bdb_message[0] = '\0';
        pthread_mutex_unlock(&s->error_lock);
        return mapped;
}

const char *store_last_error(struct store *s) {
        static _Thread_local char copy[STORE_ERROR_SIZE];

        if (!s)
                return "no store";
        pthread_mutex_lock(&s->error_lock);
        memcpy(copy, s->last_error, sizeof(copy));
        pthread_mutex_unlock(&s->error_lock);
        if (copy[0] == '\0')
                return "no error recorded";
        return copy;
}

/* ---------------------------------------------------------------- transactions */

/* After the n-th lost deadlock, wait a random 0..min(2^n, 256) * 100 µs: immediate retries of
 * writers that collide on the same pages (a young store, one index page) keep colliding. */
static void deadlock_backoff(unsigned attempt) {
        uint32_t slots = attempt < 8 ? UINT32_C(1) << attempt : 256;
        struct timespec ts = { 0, (long) randombytes_uniform(slots + 1) * 100000L };

        if (ts.tv_nsec > 0)
                nanosleep(&ts, NULL);
}

int store_txn_run(struct store *s, enum store_txn_kind kind, store_txn_fn fn, void *userdata) {
        u_int32_t begin_flags = kind == STORE_TXN_READ ? DB_READ_COMMITTED : 0;
        u_int32_t commit_flags = kind == STORE_TXN_SYNC ? DB_TXN_SYNC : DB_TXN_NOSYNC;

        for (unsigned attempt = 0;; attempt++) {
                DB_TXN *txn = NULL;
                int r, q;

                if (kind == STORE_TXN_NONE) {
                        /* one get is consistent by itself; no txn_begin and commit, whose
                         * cost was the larger part of a token lookup's */
                        r = fn(s, NULL, userdata);
                        if (r == -EDEADLK && attempt < STORE_DEADLOCK_RETRIES) {
                                deadlock_backoff(attempt);
                                continue;
                        }
                        return r;
                }
                r = s->env->txn_begin(s->env, NULL, &txn, begin_flags);
                if (r != 0)
                        return store_error(s, r);

                r = fn(s, txn, userdata);
                if (r < 0) {
                        q = txn->abort(txn);
                        if (q != 0)
                                return store_error(s, q);
                        if (r == -EDEADLK && attempt < STORE_DEADLOCK_RETRIES) {
                                deadlock_backoff(attempt);
                                continue;
                        }
                        if (r == -EDEADLK)
                                store_fail(s, r, "transaction still deadlocked after %u retries",
                                           STORE_DEADLOCK_RETRIES);
                        return r;
                }

                q = txn->commit(txn, commit_flags);
                if (q != 0)
                        return store_error(s, q);       /* the transaction is gone either way */
                return r;
        }
}

int store_db_count(struct store *s, DB *db, DB_TXN *txn, uint64_t *ret) {
        DBTYPE type;
        void *sp = NULL;
        int r;

        r = db->get_type(db, &type);
        if (r == 0)
                r = db->stat(db, txn, &sp, DB_READ_COMMITTED);
        if (r != 0)
                return store_error(s, r);

        if (type == DB_HASH)
                *ret = ((DB_HASH_STAT *) sp)->hash_ndata;
        else
                *ret = ((DB_BTREE_STAT *) sp)->bt_ndata;
        free(sp);
        return 0;
}

/* ---------------------------------------------------------------- open / close */

struct db_spec {
        size_t handle;                  /* offsetof(struct store, ...) */
        const char *file;
        DBTYPE type;
        u_int32_t flags;                /* DB->set_flags() */
        size_t primary;                 /* offsetof the primary, or 0 */
        int (*key)(DB *, const DBT *, const DBT *, DBT *);
};

#define H(field) offsetof(struct store, field)

/* Primaries before their secondaries; closed in reverse order. */
static const struct db_spec db_specs[] = {
        { H(tokens),             "tokens.db",             DB_HASH,  0,          0, NULL },
        { H(tokens_by_owner),    "tokens-by-owner.db",    DB_BTREE, DB_DUPSORT, H(tokens), store_token_owner_key },
        { H(tokens_by_id),       "tokens-by-id.db",       DB_BTREE, 0,          H(tokens), store_token_id_key },
        { H(tokens_by_expiry),   "tokens-by-expiry.db",   DB_BTREE, DB_DUPSORT, H(tokens), store_token_expiry_key },
        { H(identities),         "identities.db",         DB_HASH,  0,          0, NULL },
        { H(identities_by_name), "identities-by-name.db", DB_BTREE, 0,          H(identities), store_identity_name_key },
        { H(uid_by_user),        "uid-by-user.db",        DB_HASH,  0,          0, NULL },
        { H(user_by_uid),        "user-by-uid.db",        DB_BTREE, 0,          0, NULL },
        /* a second handle on tokens.db with no index associated: a write through it leaves the
         * indexes alone, which Berkeley DB would otherwise look up and rewrite on every put */
        { H(tokens_unindexed),   "tokens.db",             DB_HASH,  0,          0, NULL },
};

static DB **db_handle(struct store *s, size_t offset) {
        return (DB **) ((char *) s + offset);
}

static void close_databases(struct store *s) {
        for (size_t i = sizeof(db_specs) / sizeof(db_specs[0]); i > 0; i--) {
                DB **db = db_handle(s, db_specs[i - 1].handle);
                if (*db) {
                        (void) (*db)->close(*db, 0);
                        *db = NULL;
                }
        }
        if (s->meta) {
                (void) s->meta->close(s->meta, 0);
                s->meta = NULL;
        }
}

static int open_db(struct store *s, DB **ret, const char *file, DBTYPE type,
                   u_int32_t flags) {
        DB *db;
        int r;

        r = db_create(&db, s->env, 0);
        if (r != 0)
                return store_error(s, r);
        if (flags != 0 && (r = db->set_flags(db, flags)) != 0) {
                (void) db->close(db, 0);
                return store_error(s, r);
        }
        r = db->open(db, NULL, file, NULL, type, DB_CREATE | DB_THREAD | DB_AUTO_COMMIT, 0600);
        if (r != 0) {
                int mapped = store_error(s, r);
                (void) db->close(db, 0);
                return store_fail(s, mapped, "cannot open %s: %s", file, db_strerror(r));
        }
        *ret = db;
        return 0;
}

/* Reads the format version; 0 when the store is new. */
static int meta_get_format(struct store *s, uint32_t *ret) {
        uint8_t buf[4];
        DBT key = store_dbt(STORE_FORMAT_KEY, strlen(STORE_FORMAT_KEY));
        DBT data = store_dbt_out(buf, sizeof(buf));
        int r;

        r = s->meta->get(s->meta, NULL, &key, &data, 0);
        if (r == DB_NOTFOUND) {
                *ret = 0;
                return 0;
        }
        if (r != 0)
                return store_error(s, r);
        if (data.size != sizeof(buf))
                return store_fail(s, -EBADMSG, "corrupt format version record in meta.db");
        *ret = store_be32_get(buf);
        return 0;
}

static int meta_put_format(struct store *s, uint32_t version) {
        uint8_t buf[4];
        DBT key = store_dbt(STORE_FORMAT_KEY, strlen(STORE_FORMAT_KEY));
        DBT data = store_dbt(buf, sizeof(buf));

        store_be32_put(buf, version);
        return store_error(s, s->meta->put(s->meta, NULL, &key, &data, DB_AUTO_COMMIT));
}

/* Each open commits on its own rather than in one transaction: a crash half way leaves a store
 * without a format version, which the next open treats as new and completes (DB_CREATE opens
 * the missing files, associate() rebuilds any empty index). */
static int open_all(struct store *s) {
        uint32_t format = 0;
        int r;

        /* The version is checked before the other databases are opened, so a newer layout
         * (other files, other types) is refused without being touched. */
        r = open_db(s, &s->meta, "meta.db", DB_BTREE, 0);
        if (r < 0)
                return r;
        r = meta_get_format(s, &format);
        if (r < 0)
                return r;
        if (format > STORE_FORMAT_VERSION)
                return store_fail(s, -EPROTONOSUPPORT,
                                  "store format version %u is newer than this kaasd supports (%u)",
                                  format, STORE_FORMAT_VERSION);
        if (format != 0 && format < STORE_FORMAT_VERSION)
                return store_fail(s, -EPROTONOSUPPORT,
                                  "store format version %u is older than %u and cannot be upgraded",
                                  format, STORE_FORMAT_VERSION);

        for (size_t i = 0; i < sizeof(db_specs) / sizeof(db_specs[0]); i++) {
                const struct db_spec *d = &db_specs[i];
                DB **db = db_handle(s, d->handle);

                r = open_db(s, db, d->file, d->type, d->flags);
                if (r < 0)
                        return r;
                if (d->primary) {
                        DB *primary = *db_handle(s, d->primary);
                        /* DB_CREATE: an empty index next to a non-empty primary is rebuilt */
                        r = primary->associate(primary, NULL, *db, d->key, DB_CREATE | DB_AUTO_COMMIT);
                        if (r != 0)
                                return store_fail(s, store_error(s, r), "cannot associate %s: %s",
                                                  d->file, db_strerror(r));
                }
        }

        if (format == 0)
                return meta_put_format(s, STORE_FORMAT_VERSION);
        return 0;
}

static int lock_dir(const char *dir, int *ret_fd) {
        char path[4096];
        int fd;

        if ((size_t) snprintf(path, sizeof(path), "%s/%s", dir, STORE_LOCK_FILE) >= sizeof(path))
                return -ENAMETOOLONG;
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno == EWOULDBLOCK ? -EBUSY : -errno;
                close(fd);
                return r;
        }
        *ret_fd = fd;
        return 0;
}

/* Bytes in the store's database files (*.db) in dir. */
static uint64_t databases_size(const char *dir) {
        uint64_t total = 0;
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                size_t n = strlen(e->d_name);
                struct stat st;
                if (n > 3 && strcmp(e->d_name + n - 3, ".db") == 0 &&
                    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                        total += (uint64_t)st.st_size;
        }
        closedir(d);
        return total;
}

uint64_t store_cache_size_for(uint64_t db_bytes, uint64_t max) {
        if (max == 0)
                max = STORE_CACHE_DEFAULT_MAX;
        uint64_t want = db_bytes + db_bytes / 8;
        if (want < STORE_CACHE_MIN)
                want = STORE_CACHE_MIN;
        return want < max ? want : max < STORE_CACHE_MIN ? STORE_CACHE_MIN : max;
}

static int env_open(struct store *s, const char *dir, uint64_t cache_max) {
        DB_ENV *env;
        int r;
        uint64_t cache = store_cache_size_for(databases_size(dir), cache_max);
        s->cache_size = cache;

        r = db_env_create(&env, 0);
        if (r != 0)
                return store_error(s, r);
        s->env = env;
        env->app_private = s;
        env->set_errcall(env, bdb_errcall);
        env->set_msgcall(env, bdb_msgcall);

        if ((r = env->set_cachesize(env, (uint32_t)(cache >> 30), (uint32_t)(cache & ((1u << 30) - 1)), 1)) != 0 ||
            (r = env->set_lg_filemode(env, 0600)) != 0 ||
            /* resolve deadlocks as they happen, not by a separate detector; aborting the
             * youngest transaction guarantees the oldest one always makes progress */
            (r = env->set_lk_detect(env, DB_LOCK_YOUNGEST)) != 0 ||
            (r = env->set_lk_max_locks(env, STORE_LOCKS_MAX)) != 0 ||
            (r = env->set_lk_max_objects(env, STORE_LOCKS_MAX)) != 0 ||
            (r = env->log_set_config(env, DB_LOG_AUTO_REMOVE, 1)) != 0)
                return store_error(s, r);

        /* DB_PRIVATE: the regions (cache, locks, log buffer) live in the heap, not in
         * mmap()ed __db.* files. BDB grows those files sparsely and touches the new pages
         * later; on a full file system that touch is a SIGBUS, not an error. Only kaasd
         * uses the environment (the lock file), so nothing needs the regions shared. */
        r = env->open(env, dir,
                      DB_CREATE | DB_INIT_TXN | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_MPOOL |
                      DB_THREAD | DB_RECOVER | DB_PRIVATE, 0600);
        if (r != 0)
                return store_fail(s, store_error(s, r), "cannot open database environment %s: %s",
                                  dir, db_strerror(r));
        return 0;
}

static void store_free(struct store *s) {
        close_databases(s);
        if (s->env)
                (void) s->env->close(s->env, 0);
        if (s->lock_fd >= 0)
                close(s->lock_fd);
        pthread_mutex_destroy(&s->error_lock);
        free(s);
}

int store_open(const char *dir, struct store **ret_store, char *errbuf, size_t errbuf_size) {
        return store_open_sized(dir, 0, ret_store, errbuf, errbuf_size);
}

uint64_t store_cache_size(const struct store *s) {
        return s->cache_size;
}

int store_open_sized(const char *dir, uint64_t cache_max, struct store **ret_store, char *errbuf,
                     size_t errbuf_size) {
        struct store *s;
        int r;

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->lock_fd = -1;
        pthread_mutex_init(&s->error_lock, NULL);

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                r = store_fail(s, -errno, "cannot create %s: %s", dir, strerror(errno));
        else if ((r = lock_dir(dir, &s->lock_fd)) < 0)
                store_fail(s, r, "cannot lock %s/%s: %s", dir, STORE_LOCK_FILE,
                           r == -EBUSY ? "another process has the store open" : strerror(-r));
        else if ((r = env_open(s, dir, cache_max)) >= 0)
                r = open_all(s);

        if (r < 0) {
                if (errbuf && errbuf_size > 0)
                        snprintf(errbuf, errbuf_size, "%s", store_last_error(s));
                store_free(s);
                return r;
        }
        *ret_store = s;
        return 0;
}

struct store *store_close(struct store *s) {
        if (!s)
                return NULL;
        /* A final checkpoint keeps the next open's recovery short. */
        (void) s->env->txn_checkpoint(s->env, 0, 0, DB_FORCE);
        store_free(s);
        return NULL;
}

/* ---------------------------------------------------------------- maintenance */

int store_maintenance(struct store *s, int64_t now, unsigned max_purge, unsigned *ret_purged) {
        unsigned purged = 0;
        int r;

        r = s->env->txn_checkpoint(s->env, 0, 0, 0);
        if (r != 0)
                return store_error(s, r);

        r = store_token_purge_expired(s, now, max_purge, &purged);
        if (r < 0)
                return r;
        if (ret_purged)
                *ret_purged = purged;
        return 0;
}

int store_check(struct store *s) {
        int r;

        if ((r = store_token_check(s)) < 0 ||
            (r = store_identity_check(s)) < 0 ||
            (r = store_uid_check(s)) < 0)
                return r;
        return 0;
}
