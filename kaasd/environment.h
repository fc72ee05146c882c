/* kaasd in an environment with a shared token store (an [etcd] section,
 * docs/environment.md): starts the replica, gates validation on it, and
 * carries io.kaas.Token's writes to etcd. Standalone (no [etcd]) every
 * function here does nothing and the daemon is the single-host one.
 *
 * The varlink handlers in iface_token.c keep their checks (credentials,
 * ownership, limits) and hand the write itself over here. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#include "daemon.h"
#include "identity.h"
#include "store.h"

/* Starts the replica when [etcd] is configured. */
int environment_start(struct daemon *d, char *err, size_t err_size);
/* Answers the writes in flight and stops the replica. */
void environment_stop(struct daemon *d);

bool environment_enabled(const struct daemon *d);

/* On a reader, replies io.kaas.Token.ReadOnly to call and returns true. */
bool environment_refuse_write(struct daemon *d, struct call *call);

/* Creates a token for id with the fields of rec (owner, description,
 * created, expires), committing it to etcd; replies to call once this
 * kaasd's replica holds it. */
void environment_token_create(struct daemon *d, struct call *call, const struct token_record *rec,
                              const struct identity *id);
/* Deletes the tokens with these IDs (already checked as the caller's). */
void environment_token_delete(struct daemon *d, struct call *call, json_t *ids, const char *actor);
/* Deletes every token of user_id. */
void environment_token_revoke(struct daemon *d, struct call *call, const char *user_id);

/* This node gave key (a Keystone user ID or a role key) the number id:
 * shares it in the environment's uid/gid map, so that the other nodes
 * give the same. Standalone, nothing. */
void environment_uid_assigned(struct daemon *d, const char *key, uint32_t id);

/* io.kaas.Admin.MigrateStore: puts the local store's tokens into etcd,
 * each unless present, and replies with the counts. */
void environment_store_migrate(struct daemon *d, struct call *call);

/* io.kaas.Admin.StoreStatus, or NULL when standalone. */
json_t *environment_status(struct daemon *d);
