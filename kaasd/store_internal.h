/* SPDX-License-Identifier: MIT */
/*
 * Shared internals of the Berkeley DB backend of the store: the handle, the transaction runner
 * with deadlock retries, error mapping, and the secondary-index callbacks that store.c
 * associates at open. Only store*.c include this.
 */
#pragma once

#include <pthread.h>

#include <db.h>

#include "store.h"

/* Transactions that lose a deadlock are retried this many times before -EDEADLK. */
#define STORE_DEADLOCK_RETRIES  32
/* Records read per transaction when iterating; callbacks run between transactions. */
#define STORE_BATCH             64

struct store {
        DB_ENV *env;
        uint64_t cache_size;            /* bytes of Berkeley DB cache, chosen at open */
        DB *meta;
        DB *tokens;                     /* hash → token record (hash) */
        DB *tokens_by_owner;            /* owner ID → hash (btree, sorted duplicates) */
        DB *tokens_by_id;               /* token ID → hash (btree, unique) */
        DB *tokens_by_expiry;           /* expires → hash (btree, sorted duplicates) */
        DB *identities;                 /* user ID → identity record (hash) */
        DB *identities_by_name;         /* name "\0" domain ID → user ID (btree, unique) */
        DB *uid_by_user;                /* user ID → u32 uid (hash) */
        DB *user_by_uid;                /* u32 uid, big-endian → user ID (btree) */
        DB *tokens_unindexed;           /* tokens.db again, without its indexes: for writes that
                                         * change no indexed field (last use) */
        int lock_fd;
        /* store_warm_step(): the database (an index into its list) and page to read next */
        unsigned warm_db;
        uint32_t warm_next;
        bool warm_started, warm_done;

        pthread_mutex_t error_lock;
        char bdb_message[STORE_ERROR_SIZE / 2]; /* latest text from BDB's error callback */
        char last_error[STORE_ERROR_SIZE];
};

/* Body of a transaction. Returns >= 0 or a negative errno (BDB codes mapped with
 * store_error()); -EDEADLK makes the runner abort and retry, so the body must be restartable
 * and must close its cursors before returning. */
typedef int (*store_txn_fn)(struct store *s, DB_TXN *txn, void *userdata);

enum store_txn_kind {
        STORE_TXN_READ,                 /* read committed: locks released as the cursor moves */
        STORE_TXN_SYNC,                 /* a write, durable before store_txn_run() returns */
        STORE_TXN_NOSYNC,               /* a write, atomic, but may be lost in a crash */
        STORE_TXN_NONE,                 /* one DB->get, no transaction: a page lock while it runs */
};

int store_txn_run(struct store *s, enum store_txn_kind kind, store_txn_fn fn, void *userdata);

/* Maps a BDB return value (0, DB_* codes, positive errno) to 0 or a negative errno, recording a
 * message for unexpected errors. */
int store_error(struct store *s, int bdb_r);

/* Records a message for store_last_error() and returns r. */
int store_fail(struct store *s, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Secondary-index key extractors (associate() callbacks). */
int store_token_owner_key(DB *secondary, const DBT *key, const DBT *data, DBT *result);
int store_token_id_key(DB *secondary, const DBT *key, const DBT *data, DBT *result);
int store_token_expiry_key(DB *secondary, const DBT *key, const DBT *data, DBT *result);
int store_identity_name_key(DB *secondary, const DBT *key, const DBT *data, DBT *result);

/* Consistency checks used by store_check(); return 0 or -EUCLEAN (or another error). */
int store_token_check(struct store *s);
int store_identity_check(struct store *s);
int store_uid_check(struct store *s);

/* Number of key/data pairs in db (exact; walks the database). */
int store_db_count(struct store *s, DB *db, DB_TXN *txn, uint64_t *ret);

static inline DBT store_dbt(const void *data, size_t size) {
        return (DBT) { .data = (void *) data, .size = (u_int32_t) size };
}

/* An output DBT in caller memory, as DB_THREAD requires for returned data. */
static inline DBT store_dbt_out(void *buf, size_t size) {
        return (DBT) { .data = buf, .ulen = (u_int32_t) size, .flags = DB_DBT_USERMEM };
}
