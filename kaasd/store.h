/* SPDX-License-Identifier: MIT */
/*
 * kaasd's persistent store: token hashes and their metadata, the Keystone identity cache and
 * the Unix uid map. Consumers see only this interface and an opaque struct store, so that a
 * replicated backend can replace the embedded Berkeley DB one without touching them.
 *
 * Conventions: every function returns 0 (or a count, where said) or a negative errno. Outputs
 * are ret_* and are untouched on failure. The caller owns what it passes in; records returned
 * to the caller own their strings and are released with token_record_free() /
 * identity_record_free(). A struct store may be shared by threads (the event loop and a writer
 * thread); only store_close() must not race other calls.
 *
 * Errors common to every call: -ENOMEM; -EIO, -ENOSPC and other I/O errors from the database;
 * -EDEADLK when a transaction kept losing deadlocks after internal retries; -EBADMSG for a
 * corrupt record; -EUCLEAN for a corrupt index; -ENOTRECOVERABLE when the database needs
 * recovery (restart kaasd). store_last_error() then holds a message for the log.
 *
 * The store never logs and does not judge validity (expiry, revocation policy): it stores.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token_format.h"

#define STORE_HASH_SIZE         32
#define STORE_USER_ID_MAX       64      /* Keystone: user.id is String(64) */
#define STORE_NAME_MAX          255     /* Keystone: user.name is String(255) */
#define STORE_DOMAIN_ID_MAX     64
#define STORE_DESCRIPTION_MAX   256
#define STORE_BLOB_MAX          (1024 * 1024)
#define STORE_ERROR_SIZE        512

/* On-disk layout version; a store written by a newer format is refused. */
#define STORE_FORMAT_VERSION    1

struct store;

struct token_record {
        char *owner_id;                 /* Keystone user ID, 1..STORE_USER_ID_MAX bytes */
        char *owner_name;               /* 1..STORE_NAME_MAX bytes */
        char *owner_domain_id;          /* 0..STORE_DOMAIN_ID_MAX bytes */
        char token_id[TOKEN_ID_STRING_SIZE];
        char *description;              /* 0..STORE_DESCRIPTION_MAX bytes; NULL on put means "" */
        int64_t created;                /* unix seconds */
        int64_t expires;                /* unix seconds; purged by store_token_purge_expired() */
        int64_t last_used;              /* unix seconds, 0 = never */
};

struct identity_record {
        char *user_id;                  /* primary key, 1..STORE_USER_ID_MAX bytes */
        char *name;                     /* 1..STORE_NAME_MAX bytes; (name, domain_id) is unique */
        char *domain_id;                /* 0..STORE_DOMAIN_ID_MAX bytes */
        uint32_t blob_version;          /* the cache's own schema version; stored, not read */
        int64_t fetched_at;             /* unix seconds */
        char *blob;                     /* opaque; returned with a NUL after blob_size bytes */
        size_t blob_size;               /* 0..STORE_BLOB_MAX */
};

/* Frees the strings of a record returned by the store and zeroes it. Accepts NULL. */
void token_record_free(struct token_record *rec);
void identity_record_free(struct identity_record *rec);

/*
 * Iteration callbacks run outside any transaction, so they may call the store (for example to
 * delete what they are shown). Return 0 to continue, > 0 to stop (the iterator then returns 0),
 * < 0 to stop and make the iterator return that error. rec is valid during the call only.
 */
typedef int (*store_token_cb)(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec,
                              void *userdata);
typedef int (*store_identity_cb)(const struct identity_record *rec, void *userdata);

/* ---------------------------------------------------------------- lifetime */

/*
 * Opens (creating if needed, mode 0700 directory and 0600 files) the store in dir and runs
 * recovery. Only one process may have a store open: a second store_open() of the same dir
 * fails with -EBUSY. Returns also -EPROTONOSUPPORT when the store was written by a newer
 * format. On failure, if errbuf is not NULL, a message for the log is written there.
 */
__attribute__((warn_unused_result, nonnull(1, 2)))
int store_open(const char *dir, struct store **ret_store, char *errbuf, size_t errbuf_size);
/* As store_open(), with the Berkeley DB cache sized from the databases
 * found in dir (their size plus an eighth, at least 32 MiB) and at most
 * cache_max bytes (0: 1 GiB). */
__attribute__((warn_unused_result, nonnull(1, 3)))
int store_open_sized(const char *dir, uint64_t cache_max, struct store **ret_store, char *errbuf,
                     size_t errbuf_size);
/* The cache size store_open_sized() chose for databases of db_bytes. */
uint64_t store_cache_size_for(uint64_t db_bytes, uint64_t max);
uint64_t store_cache_size(const struct store *s);

/* Reads up to max_pages more pages of the token and identity databases
 * into the cache, adding their bytes to *ret_bytes (when not NULL): call
 * it until it returns 1 (all read, or nothing to do because the cache
 * cannot hold them), with other work in between. 0 while pages remain, or
 * -errno. */
__attribute__((warn_unused_result, nonnull(1)))
int store_warm_step(struct store *s, unsigned max_pages, uint64_t *ret_bytes);

/* Checkpoints and closes. Accepts NULL; returns NULL. */
struct store *store_close(struct store *s);

/*
 * The message recorded with the latest unexpected error of this store (BDB's own text when it
 * gave one), for logs. Valid in the calling thread until its next store_last_error() call.
 */
const char *store_last_error(struct store *s);

/*
 * Periodic housekeeping, called by the daemon every minute or so: checkpoints the database
 * (which also lets BDB remove log files no longer needed) and purges at most max_purge expired
 * tokens (expires <= now), so one call does bounded work. ret_purged may be NULL.
 */
__attribute__((warn_unused_result, nonnull(1)))
int store_maintenance(struct store *s, int64_t now, unsigned max_purge, unsigned *ret_purged);

/*
 * Verifies that every record decodes and that every index agrees with its primary (both ways).
 * Returns 0 or -EUCLEAN (details in store_last_error()). Reads everything: an admin/test tool.
 */
__attribute__((warn_unused_result, nonnull))
int store_check(struct store *s);

/* ---------------------------------------------------------------- tokens */

/*
 * Stores a new token under its hash. Durable: returns 0 only after the commit is on disk.
 * -EEXIST if the hash or the token ID is already stored; -EINVAL if a field is out of bounds.
 */
__attribute__((warn_unused_result, nonnull))
int store_token_put(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                    const struct token_record *rec);

/* -ENOENT if there is no token with that hash. Expired tokens are returned too. */
__attribute__((warn_unused_result, nonnull))
int store_token_get(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                    struct token_record *ret);

/* Looks a token up by its ID. ret_hash may be NULL. -ENOENT if unknown. */
__attribute__((warn_unused_result, nonnull(1, 2, 4)))
int store_token_get_by_id(struct store *s, const char *token_id,
                          uint8_t ret_hash[STORE_HASH_SIZE], struct token_record *ret);

/* Durable deletes. -ENOENT if unknown. */
__attribute__((warn_unused_result, nonnull))
int store_token_delete(struct store *s, const uint8_t hash[static STORE_HASH_SIZE]);
__attribute__((warn_unused_result, nonnull))
int store_token_delete_by_id(struct store *s, const char *token_id);

/*
 * Deletes every token of owner_id (revoking a user), durably, in batches of bounded size;
 * ret_count (may be NULL) gets the number deleted, also when an error stops it half way.
 */
__attribute__((warn_unused_result, nonnull(1, 2)))
int store_token_delete_by_owner(struct store *s, const char *owner_id, uint64_t *ret_count);

/* Calls cb for each token of owner_id (in hash order) / each token (in token ID order). */
__attribute__((warn_unused_result, nonnull(1, 2, 3)))
int store_token_list_by_owner(struct store *s, const char *owner_id, store_token_cb cb,
                              void *userdata);
__attribute__((warn_unused_result, nonnull(1, 2)))
int store_token_list_all(struct store *s, store_token_cb cb, void *userdata);

/*
 * Records a use. Never moves last_used backwards. Not synced to disk: losing a last-used update
 * in a crash is harmless, and validation must not wait for a disk flush. -ENOENT if unknown.
 */
__attribute__((warn_unused_result, nonnull))
int store_token_touch(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                      int64_t last_used);

struct store_touch {
        uint8_t hash[STORE_HASH_SIZE];
        int64_t last_used;
};

/* As store_token_touch() for n tokens in one transaction: one commit for all
 * of them, where a commit each cost more than the write. ret_written[i] says
 * whether token i exists (an unknown one is skipped, not an error); 0 or the
 * first other error, with none of the writes kept. */
__attribute__((warn_unused_result, nonnull))
int store_token_touch_many(struct store *s, const struct store_touch *t, size_t n, bool *ret_written);

/* Exact number of tokens (reads the whole index: O(n)). */
__attribute__((warn_unused_result, nonnull))
int store_token_count(struct store *s, uint64_t *ret_count);

/* Whether at least one token is stored (cheap). */
__attribute__((warn_unused_result, nonnull))
int store_token_any(struct store *s, bool *ret_any);

/*
 * Deletes up to max tokens with expires <= now, oldest first, in small transactions that are
 * not synced (an expired token is refused anyway; a lost purge is redone next time).
 */
__attribute__((warn_unused_result, nonnull(1)))
int store_token_purge_expired(struct store *s, int64_t now, unsigned max, unsigned *ret_purged);

/* ---------------------------------------------------------------- identity cache */

/*
 * Inserts or replaces the record of rec->user_id, durably. If another user ID held the same
 * (name, domain_id), that stale record is deleted: names are unique within a domain, so the
 * other user was deleted or renamed in Keystone. -EINVAL if a field is out of bounds.
 */
__attribute__((warn_unused_result, nonnull))
int store_identity_put(struct store *s, const struct identity_record *rec);

/* -ENOENT if not cached. */
__attribute__((warn_unused_result, nonnull))
int store_identity_get(struct store *s, const char *user_id, struct identity_record *ret);
__attribute__((warn_unused_result, nonnull))
int store_identity_get_by_name(struct store *s, const char *name, const char *domain_id,
                               struct identity_record *ret);

/* -ENOENT if not cached. */
__attribute__((warn_unused_result, nonnull))
int store_identity_delete(struct store *s, const char *user_id);

/* Calls cb for every cached identity. */
__attribute__((warn_unused_result, nonnull(1, 2)))
int store_identity_list(struct store *s, store_identity_cb cb, void *userdata);

/* ---------------------------------------------------------------- uid map */

/*
 * Returns the uid remembered for user_id; if none, assigns preferred when free, else the next
 * free uid above it (wrapping to range_min) within [range_min, range_max], and remembers it
 * durably before returning. Mappings are never reused for another user. A mapping made under
 * an earlier, different range is returned as is: the caller decides what to do with it.
 * -EINVAL if the range is empty or preferred is outside it; -ENOSPC if the range is full.
 */
__attribute__((warn_unused_result, nonnull))
int store_uid_get_or_assign(struct store *s, const char *user_id, uint32_t range_min,
                            uint32_t range_max, uint32_t preferred, uint32_t *ret_uid);

/* Lookups without assignment; -ENOENT if there is no mapping. */
__attribute__((warn_unused_result, nonnull))
int store_uid_get(struct store *s, const char *user_id, uint32_t *ret_uid);
/*
 * Gives user_id, which holds uid `from`, another uid: the first free one from preferred in
 * [range_min, range_max] (wrapping), `from` excluded; with winner (another key, or NULL),
 * winner gets `from` unless it holds a uid already. One transaction: on failure nothing
 * changes. -ESTALE when user_id does not hold `from` (any more), -ENOSPC when no uid is free.
 * For a number another node made first in the environment's shared map.
 */
__attribute__((warn_unused_result))
int store_uid_move(struct store *s, const char *user_id, uint32_t from, const char *winner, uint32_t range_min,
                   uint32_t range_max, uint32_t preferred, uint32_t *ret_uid);
__attribute__((warn_unused_result, nonnull))
int store_uid_lookup(struct store *s, uint32_t uid, char **ret_user_id);

/* ---------------------------------------------------------------- replica of the environment's store */

/*
 * With an [etcd] section the token records are a replica of etcd's (docs/environment.md). The
 * replica remembers the etcd revision it has applied, and whether it ever held a complete
 * snapshot, in the same transactions as the changes themselves: after a crash both roll back
 * together and the replica resumes from the revision it really holds.
 */
struct store_replica_state {
        int64_t revision;               /* etcd revision applied; 0 = none */
        bool complete;                  /* a whole snapshot has been loaded at least once */
};

struct store_replica_change {
        bool deleted;
        const uint8_t *hash;            /* STORE_HASH_SIZE bytes */
        const struct token_record *rec; /* for a put; a record with the same token ID under
                                         * another hash is replaced */
};

/* {0, false} for a store that never replicated. */
__attribute__((warn_unused_result, nonnull))
int store_replica_state_get(struct store *s, struct store_replica_state *ret);

/*
 * Applies n changes and, unless state is NULL, records state, atomically. Deleting an unknown
 * hash is not an error. Not synced: etcd holds the durable copy. -EINVAL if a record is out of
 * bounds (nothing is applied).
 */
__attribute__((warn_unused_result, nonnull(1)))
int store_replica_apply(struct store *s, const struct store_replica_change *changes, size_t n,
                        const struct store_replica_state *state);

/* A remembered mapping, as store_uid_in_range() reports it. */
struct store_uid_entry {
        uint32_t uid;
        char key[STORE_USER_ID_MAX + 1];
};
typedef bool (*store_uid_key_filter)(const char *key);

/*
 * Counts the remembered mappings with a uid in [from, to] whose key passes want (NULL: every
 * key), walking the uid index from `from` only, and copies the first n_first of them, in uid
 * order, to first. *ret_count is the whole count.
 */
__attribute__((warn_unused_result, nonnull(1, 7)))
int store_uid_in_range(struct store *s, uint32_t from, uint32_t to, store_uid_key_filter want,
                       struct store_uid_entry *first, size_t n_first, uint64_t *ret_count);
