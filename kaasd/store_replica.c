/* SPDX-License-Identifier: MIT */
/*
 * The store's side of the etcd replica (store.h, "replica of the environment's store"): token
 * changes and the applied revision, written in one transaction. Depends on the store's
 * internals only; never logs.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_record.h"

#define REPLICA_STATE_KEY       "etcd-replica"
#define REPLICA_STATE_SIZE      9       /* u64 revision, u8 complete */

int store_replica_state_get(struct store *s, struct store_replica_state *ret) {
        uint8_t buf[REPLICA_STATE_SIZE];
        DBT key = store_dbt(REPLICA_STATE_KEY, strlen(REPLICA_STATE_KEY));
        DBT data = store_dbt_out(buf, sizeof(buf));
        int r = s->meta->get(s->meta, NULL, &key, &data, 0);
        if (r == DB_NOTFOUND) {
                *ret = (struct store_replica_state){ 0 };
                return 0;
        }
        if (r != 0)
                return store_error(s, r);
        uint64_t rev = (uint64_t)store_be32_get(buf) << 32 | store_be32_get(buf + 4);
        if (data.size != sizeof(buf) || rev > INT64_MAX || buf[8] > 1)
                return store_fail(s, -EBADMSG, "corrupt replica state in meta.db");
        *ret = (struct store_replica_state){ .revision = (int64_t)rev, .complete = buf[8] == 1 };
        return 0;
}

struct encoded {
        uint8_t data[TOKEN_RECORD_SIZE_MAX];
        size_t size;
};

struct apply_ctx {
        const struct store_replica_change *changes;
        struct encoded *encoded;
        size_t n;
        const struct store_replica_state *state;
};

static int put_one(struct store *s, DB_TXN *txn, const struct store_replica_change *c, const struct encoded *e) {
        uint8_t old_hash[STORE_HASH_SIZE];
        DBT id = store_dbt(c->rec->token_id, TOKEN_ID_LENGTH);
        DBT pkey = store_dbt_out(old_hash, sizeof(old_hash));
        DBT none = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
        int r = s->tokens_by_id->pget(s->tokens_by_id, txn, &id, &pkey, &none, DB_RMW);
        if (r == 0 && (pkey.size != STORE_HASH_SIZE || memcmp(old_hash, c->hash, STORE_HASH_SIZE) != 0)) {
                /* the token ID moved to another hash: the unique index needs the old one gone */
                r = s->tokens_by_id->del(s->tokens_by_id, txn, &id, 0);
                if (r != 0)
                        return store_error(s, r);
        } else if (r != 0 && r != DB_NOTFOUND) {
                return store_error(s, r);
        }
        DBT key = store_dbt(c->hash, STORE_HASH_SIZE), data = store_dbt(e->data, e->size);
        return store_error(s, s->tokens->put(s->tokens, txn, &key, &data, 0));
}

static int apply_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct apply_ctx *c = userdata;
        int r;
        for (size_t i = 0; i < c->n; i++) {
                const struct store_replica_change *ch = &c->changes[i];
                if (ch->deleted) {
                        DBT key = store_dbt(ch->hash, STORE_HASH_SIZE);
                        r = s->tokens->del(s->tokens, txn, &key, 0);
                        if (r == DB_NOTFOUND)
                                r = 0;
                        r = store_error(s, r);
                } else {
                        r = put_one(s, txn, ch, &c->encoded[i]);
                }
                if (r < 0)
                        return r;
        }
        if (!c->state)
                return 0;
        uint8_t buf[REPLICA_STATE_SIZE];
        store_be32_put(buf, (uint32_t)((uint64_t)c->state->revision >> 32));
        store_be32_put(buf + 4, (uint32_t)c->state->revision);
        buf[8] = c->state->complete ? 1 : 0;
        DBT key = store_dbt(REPLICA_STATE_KEY, strlen(REPLICA_STATE_KEY)), data = store_dbt(buf, sizeof(buf));
        return store_error(s, s->meta->put(s->meta, txn, &key, &data, 0));
}

int store_replica_apply(struct store *s, const struct store_replica_change *changes, size_t n,
                        const struct store_replica_state *state) {
        if (state && state->revision < 0)
                return -EINVAL;
        struct apply_ctx c = { .changes = changes, .n = n, .state = state };
        if (n > 0 && !(c.encoded = calloc(n, sizeof(*c.encoded))))
                return -ENOMEM;
        int r = 0;
        for (size_t i = 0; i < n && r == 0; i++)
                if (!changes[i].deleted)
                        r = token_record_encode(changes[i].rec, c.encoded[i].data, &c.encoded[i].size);
        if (r == 0)
                r = store_txn_run(s, STORE_TXN_NOSYNC, apply_fn, &c);
        free(c.encoded);
        return r;
}
