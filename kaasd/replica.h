/* kaasd's replica of the environment's token store (docs/environment.md).
 *
 * With an [etcd] section, the token records in the local store are a copy
 * of those in etcd under PREFIX/tokens/: first a paginated range read at
 * one revision, then a watch of PREFIX from the next revision. Changes are
 * applied in revision order, each batch in one store transaction together
 * with the revision it reaches (store_replica_apply()), so a restart
 * resumes where it stopped. When etcd has compacted past the replica's
 * revision, the replica loads a fresh snapshot over the one it holds and
 * then removes what the snapshot lacks: it never serves a half-loaded store
 * as complete. Validation reads the local store only.
 *
 * A writer changes token records with etcd transactions and reports
 * success only once its own replica has applied the revision of the
 * change (read-your-writes). A reader cannot: its calls fail with -EROFS
 * before reaching etcd, and etcd's RBAC refuses its user anyway.
 *
 * Depends on etcd_client.h, store.h, loop.h; logs through log.h. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_file.h"
#include "loop.h"
#include "store.h"

struct replica;

struct replica_status {
        bool writer;
        const char *node;
        const char *endpoint;           /* the etcd member calls go to now */
        bool complete;                  /* a whole snapshot is loaded */
        bool loading;                   /* a snapshot is being loaded */
        bool connected;                 /* watching, and etcd answered lately */
        int64_t revision;               /* applied */
        int64_t etcd_revision;          /* etcd's latest known; lag = etcd_revision - revision */
        int64_t disconnected_since;     /* unix seconds; 0 when connected */
        uint64_t events_applied, records_ignored, reloads;
        uint64_t uid_conflicts;         /* uid/gid map entries etcd holds unlike this node */
        uint64_t load_progress;         /* records of the snapshot being loaded taken so far */
};

/* Called when this kaasd must not go on: its hashing key is not the
 * environment's (msg names both fingerprints). */
typedef void (*replica_fatal_fn)(void *userdata, const char *msg);

/* key_fingerprint identifies this kaasd's token hashing key (never the
 * key itself): the first writer records it under PREFIX meta/, and every
 * kaasd compares its own before it replicates anything. */
int replica_new(struct loop *loop, struct store *store, const struct config *c, const char *key_fingerprint,
                replica_fatal_fn fatal, void *fatal_userdata, struct replica **ret, char *err, size_t err_size);
/* Fails the writes in flight (-ECANCELED) and frees. Accepts NULL. */
struct replica *replica_free(struct replica *r);

void replica_get_status(const struct replica *r, struct replica_status *ret);
bool replica_is_writer(const struct replica *r);

/* Whether validation may answer from the local store: 0, or -EAGAIN
 * before the first snapshot is complete, or -ENOLINK when etcd has been
 * out of reach for longer than [etcd] max_disconnected. */
int replica_usable(const struct replica *r, int64_t now);

/* Completion of a write: 0, -EEXIST (put: the hash or token is there
 * already), -EROFS (a reader), -EHOSTUNREACH/-ETIMEDOUT (etcd unavailable,
 * or committed but not applied here within the timeout), -EACCES (etcd
 * refused this user), -ECANCELED (kaasd stops). n: tokens deleted. */
typedef void (*replica_done_fn)(int status, uint64_t n, const char *error, void *userdata);

int replica_token_put(struct replica *r, const uint8_t hash[static STORE_HASH_SIZE],
                      const struct token_record *rec, replica_done_fn fn, void *userdata);
/* Notes a last use seen on this node (a local store write already made):
 * written to etcd under PREFIX last-used/NODE/ in batches from a timer,
 * never on the caller's path. */
void replica_last_used(struct replica *r, const uint8_t hash[static STORE_HASH_SIZE], int64_t last_used);

/* Creates the uid/gid map entry id_key -> id in etcd unless it is there
 * (sent again while etcd is unreachable). Whatever etcd holds comes back
 * through the watch and is compared with this node's own entry. Local
 * reservations (UNIX_LOCAL_KEY_PREFIX) are never shared. */
int replica_uid_publish(struct replica *r, const char *id_key, uint32_t id);

/* Completion of replica_migrate(): status as replica_done_fn; moved: the
 * tokens put into etcd, present: those etcd held already. */
typedef void (*replica_migrate_fn)(int status, uint64_t moved, uint64_t present, const char *error, void *userdata);
/* Puts every token of the local store into etcd unless etcd holds its
 * hash already (each only if absent: running it again changes nothing),
 * now, beside replication; a writer only (-EROFS). What a standalone
 * store held when [etcd] was added moves in by itself at start; this is
 * the same, on request. */
int replica_migrate(struct replica *r, replica_migrate_fn fn, void *userdata);

/* Deletes the tokens with these hashes (n may be large: done in batches). */
int replica_token_delete(struct replica *r, const uint8_t (*hashes)[STORE_HASH_SIZE], size_t n,
                         replica_done_fn fn, void *userdata);
