/* SPDX-License-Identifier: MIT */
/*
 * Token operations of the Berkeley DB store: hash → record, with secondary indexes by owner,
 * by token ID and by expiry that BDB maintains through associate() (store.c). Iterations read
 * bounded batches per transaction and call back between transactions.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_record.h"

/* Deletes per transaction when revoking a user or purging: bounds lock use and latency. */
#define DELETE_BATCH 100

/* ---------------------------------------------------------------- index keys */

/* A record that does not parse is left out of the indexes rather than failing the operation:
 * every record the store writes parses, so this is damage on disk, and refusing it here would
 * make rebuilding an index (or opening the store) fail instead of leaving the one record
 * unreadable (-EBADMSG on access) and reported by store_check(). */
static int token_view(const DBT *data, struct token_record_view *ret) {
        return token_record_parse(data->data, data->size, ret) < 0 ? DB_DONOTINDEX : 0;
}

int store_token_owner_key(DB *secondary, const DBT *key, const DBT *data, DBT *result) {
        struct token_record_view v;
        int r = token_view(data, &v);
        if (r != 0)
                return r;
        *result = store_dbt(v.owner_id.p, v.owner_id.n);
        return 0;
}

int store_token_id_key(DB *secondary, const DBT *key, const DBT *data, DBT *result) {
        struct token_record_view v;
        int r = token_view(data, &v);
        if (r != 0)
                return r;
        *result = store_dbt(v.token_id.p, v.token_id.n);
        return 0;
}

int store_token_expiry_key(DB *secondary, const DBT *key, const DBT *data, DBT *result) {
        struct token_record_view v;
        int r = token_view(data, &v);
        if (r != 0)
                return r;
        /* Parsed above, so the stored expiry is at its fixed offset, already order-preserving. */
        *result = store_dbt((const uint8_t *) data->data + TOKEN_RECORD_EXPIRES_OFFSET,
                            STORE_TS_SIZE);
        return 0;
}

/* ---------------------------------------------------------------- helpers */

static int decode(struct store *s, const DBT *data, struct token_record *ret) {
        int r = token_record_decode(data->data, data->size, ret);
        if (r == -EBADMSG)
                return store_fail(s, r, "corrupt token record (%u bytes)", (unsigned) data->size);
        return r;
}

static bool token_id_ok(const char *id) {
        return token_id_check_format(id, strnlen(id, TOKEN_ID_LENGTH + 1)) == 0;
}

static bool owner_ok(const char *owner) {
        return store_user_id_valid(owner, strnlen(owner, STORE_USER_ID_MAX + 1));
}

static int close_cursor(struct store *s, DBC *c, int r) {
        int q = c->close(c);
        if (r >= 0 && q != 0)
                return store_error(s, q);
        return r;
}

/* ---------------------------------------------------------------- put / get / delete */

struct put_ctx {
        const uint8_t *hash;
        const char *token_id;
        const uint8_t *data;
        size_t size;
};

static int put_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct put_ctx *c = userdata;
        DBT key = store_dbt(c->hash, STORE_HASH_SIZE), data = store_dbt(c->data, c->size);
        DBT id = store_dbt(c->token_id, TOKEN_ID_LENGTH);
        DBT none = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
        int r;

        /* BDB reports a duplicate key in a unique index as EINVAL, indistinguishable from a
         * programming error: look first (DB_RMW holds the spot until commit). */
        r = s->tokens_by_id->get(s->tokens_by_id, txn, &id, &none, DB_RMW);
        if (r == 0)
                return -EEXIST;
        if (r != DB_NOTFOUND)
                return store_error(s, r);
        return store_error(s, s->tokens->put(s->tokens, txn, &key, &data, DB_NOOVERWRITE));
}

int store_token_put(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                    const struct token_record *rec) {
        uint8_t buf[TOKEN_RECORD_SIZE_MAX];
        struct put_ctx c = { .hash = hash, .token_id = rec->token_id, .data = buf };
        int r;

        r = token_record_encode(rec, buf, &c.size);
        if (r < 0)
                return r;
        return store_txn_run(s, STORE_TXN_SYNC, put_fn, &c);
}

struct get_ctx {
        const uint8_t *hash;
        const char *token_id;
        uint8_t hash_out[STORE_HASH_SIZE];
        struct token_record rec;
};

static int get_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct get_ctx *c = userdata;
        uint8_t buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt(c->hash, STORE_HASH_SIZE), data = store_dbt_out(buf, sizeof(buf));
        int r;

        token_record_free(&c->rec);
        r = s->tokens->get(s->tokens, txn, &key, &data, 0);
        if (r != 0)
                return store_error(s, r);
        return decode(s, &data, &c->rec);
}

int store_token_get(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                    struct token_record *ret) {
        struct get_ctx c = { .hash = hash };
        int r;

        r = store_txn_run(s, STORE_TXN_NONE, get_fn, &c);
        if (r < 0) {
                token_record_free(&c.rec);
                return r;
        }
        *ret = c.rec;
        return 0;
}

static int get_by_id_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct get_ctx *c = userdata;
        uint8_t buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt(c->token_id, TOKEN_ID_LENGTH);
        DBT pkey = store_dbt_out(c->hash_out, sizeof(c->hash_out));
        DBT data = store_dbt_out(buf, sizeof(buf));
        int r;

        token_record_free(&c->rec);
        r = s->tokens_by_id->pget(s->tokens_by_id, txn, &key, &pkey, &data, 0);
        if (r != 0)
                return store_error(s, r);
        if (pkey.size != STORE_HASH_SIZE)
                return store_fail(s, -EUCLEAN, "token ID index holds a %u-byte hash",
                                  (unsigned) pkey.size);
        return decode(s, &data, &c->rec);
}

int store_token_get_by_id(struct store *s, const char *token_id,
                          uint8_t ret_hash[STORE_HASH_SIZE], struct token_record *ret) {
        struct get_ctx c = { .token_id = token_id };
        int r;

        if (!token_id_ok(token_id))
                return -EINVAL;
        r = store_txn_run(s, STORE_TXN_READ, get_by_id_fn, &c);
        if (r < 0) {
                token_record_free(&c.rec);
                return r;
        }
        if (ret_hash)
                memcpy(ret_hash, c.hash_out, STORE_HASH_SIZE);
        *ret = c.rec;
        return 0;
}

struct delete_ctx {
        DB *db;
        DBT key;
};

static int delete_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct delete_ctx *c = userdata;

        /* On a secondary, DB->del() removes the primary record and every index entry. */
        return store_error(s, c->db->del(c->db, txn, &c->key, 0));
}

int store_token_delete(struct store *s, const uint8_t hash[static STORE_HASH_SIZE]) {
        struct delete_ctx c = { s->tokens, store_dbt(hash, STORE_HASH_SIZE) };
        return store_txn_run(s, STORE_TXN_SYNC, delete_fn, &c);
}

int store_token_delete_by_id(struct store *s, const char *token_id) {
        struct delete_ctx c = { s->tokens_by_id, store_dbt(token_id, TOKEN_ID_LENGTH) };

        if (!token_id_ok(token_id))
                return -EINVAL;
        return store_txn_run(s, STORE_TXN_SYNC, delete_fn, &c);
}

struct delete_owner_ctx {
        const char *owner;
        size_t owner_len;
        unsigned deleted;
};

static int delete_owner_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct delete_owner_ctx *c = userdata;
        uint8_t kbuf[STORE_USER_ID_MAX], buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(buf, sizeof(buf));
        DBC *cur;
        int r;

        c->deleted = 0;
        memcpy(kbuf, c->owner, c->owner_len);
        key.size = (u_int32_t) c->owner_len;

        r = s->tokens_by_owner->cursor(s->tokens_by_owner, txn, &cur, 0);
        if (r != 0)
                return store_error(s, r);
        r = cur->get(cur, &key, &data, DB_SET | DB_RMW);
        while (r == 0 && c->deleted < DELETE_BATCH) {
                r = cur->del(cur, 0);
                if (r != 0)
                        break;
                c->deleted++;
                r = cur->get(cur, &key, &data, DB_NEXT_DUP | DB_RMW);
        }
        if (r == DB_NOTFOUND)
                r = 0;
        return close_cursor(s, cur, store_error(s, r));
}

int store_token_delete_by_owner(struct store *s, const char *owner_id, uint64_t *ret_count) {
        struct delete_owner_ctx c = { .owner = owner_id };
        uint64_t total = 0;
        int r;

        if (!owner_ok(owner_id))
                return -EINVAL;
        c.owner_len = strlen(owner_id);

        do {
                r = store_txn_run(s, STORE_TXN_SYNC, delete_owner_fn, &c);
                if (r < 0)
                        break;
                total += c.deleted;
        } while (c.deleted == DELETE_BATCH);

        if (ret_count)
                *ret_count = total;
        return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- iteration */

struct list_ctx {
        const char *owner;              /* NULL: all tokens, in token ID order */
        size_t owner_len;
        bool started, more;
        uint8_t last_hash[STORE_HASH_SIZE];
        char last_id[TOKEN_ID_LENGTH];
        size_t n;
        uint8_t hash[STORE_BATCH][STORE_HASH_SIZE];
        struct token_record rec[STORE_BATCH];
};

static void list_clear(struct list_ctx *c) {
        for (size_t i = 0; i < c->n; i++)
                token_record_free(&c->rec[i]);
        c->n = 0;
}

/* Reads the entry under the cursor into the batch. */
static int list_take(struct store *s, struct list_ctx *c, const DBT *pkey, const DBT *data) {
        int r;

        if (pkey->size != STORE_HASH_SIZE)
                return store_fail(s, -EUCLEAN, "token index holds a %u-byte hash",
                                  (unsigned) pkey->size);
        r = decode(s, data, &c->rec[c->n]);
        if (r < 0)
                return r;
        memcpy(c->hash[c->n], pkey->data, STORE_HASH_SIZE);
        c->n++;
        return 0;
}

static int list_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct list_ctx *c = userdata;
        DB *index = c->owner ? s->tokens_by_owner : s->tokens_by_id;
        uint8_t kbuf[STORE_USER_ID_MAX], pbuf[STORE_HASH_SIZE], buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf));
        DBT pkey = store_dbt_out(pbuf, sizeof(pbuf));
        DBT data = store_dbt_out(buf, sizeof(buf));
        u_int32_t next = c->owner ? DB_NEXT_DUP : DB_NEXT;
        DBC *cur;
        int r;

        list_clear(c);
        c->more = false;

        r = index->cursor(index, txn, &cur, DB_READ_COMMITTED);
        if (r != 0)
                return store_error(s, r);

        /* Position at the first entry after the last one delivered. */
        if (c->owner) {
                memcpy(kbuf, c->owner, c->owner_len);
                key.size = (u_int32_t) c->owner_len;
                if (!c->started)
                        r = cur->pget(cur, &key, &pkey, &data, DB_SET);
                else {
                        memcpy(pbuf, c->last_hash, sizeof(pbuf));
                        pkey.size = sizeof(pbuf);
                        r = cur->pget(cur, &key, &pkey, &data, DB_GET_BOTH_RANGE);
                        if (r == 0 && memcmp(pbuf, c->last_hash, sizeof(pbuf)) == 0)
                                r = cur->pget(cur, &key, &pkey, &data, DB_NEXT_DUP);
                }
        } else {
                if (!c->started)
                        r = cur->pget(cur, &key, &pkey, &data, DB_FIRST);
                else {
                        memcpy(kbuf, c->last_id, sizeof(c->last_id));
                        key.size = sizeof(c->last_id);
                        r = cur->pget(cur, &key, &pkey, &data, DB_SET_RANGE);
                        if (r == 0 && key.size == sizeof(c->last_id) &&
                            memcmp(kbuf, c->last_id, sizeof(c->last_id)) == 0)
                                r = cur->pget(cur, &key, &pkey, &data, DB_NEXT);
                }
        }

        while (r == 0) {
                r = list_take(s, c, &pkey, &data);
                if (r < 0)
                        return close_cursor(s, cur, r);
                if (c->n == STORE_BATCH) {
                        c->more = true;
                        break;
                }
                r = cur->pget(cur, &key, &pkey, &data, next);
        }
        if (r == DB_NOTFOUND)
                r = 0;
        return close_cursor(s, cur, store_error(s, r));
}

static int list_run(struct store *s, struct list_ctx *c, store_token_cb cb, void *userdata) {
        int r;

        do {
                r = store_txn_run(s, STORE_TXN_READ, list_fn, c);
                if (r < 0)
                        break;
                for (size_t i = 0; i < c->n && r == 0; i++)
                        r = cb(c->hash[i], &c->rec[i], userdata);
                if (c->n > 0) {
                        memcpy(c->last_hash, c->hash[c->n - 1], STORE_HASH_SIZE);
                        memcpy(c->last_id, c->rec[c->n - 1].token_id, TOKEN_ID_LENGTH);
                }
                c->started = true;
                list_clear(c);
        } while (r == 0 && c->more);

        list_clear(c);
        return r < 0 ? r : 0;
}

int store_token_list_by_owner(struct store *s, const char *owner_id, store_token_cb cb,
                              void *userdata) {
        struct list_ctx *c;
        int r;

        if (!owner_ok(owner_id))
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->owner = owner_id;
        c->owner_len = strlen(owner_id);
        r = list_run(s, c, cb, userdata);
        free(c);
        return r;
}

int store_token_list_all(struct store *s, store_token_cb cb, void *userdata) {
        struct list_ctx *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        r = list_run(s, c, cb, userdata);
        free(c);
        return r;
}

/* ---------------------------------------------------------------- touch, count, purge */

/* Raises the last use of one token within txn: 0, or -ENOENT when there is no such token. */
static int touch_one(struct store *s, DB_TXN *txn, const uint8_t *hash, int64_t last_used) {
        uint8_t buf[TOKEN_RECORD_SIZE_MAX], ts[STORE_TS_SIZE];
        DBT key = store_dbt(hash, STORE_HASH_SIZE), data = store_dbt_out(buf, sizeof(buf));
        DBT part = { .data = ts, .size = STORE_TS_SIZE, .dlen = STORE_TS_SIZE,
                     .doff = TOKEN_RECORD_LAST_USED_OFFSET, .flags = DB_DBT_PARTIAL };
        struct token_record_view v;
        int r;

        /* Only last_used changes, which no index holds: the record is written through the
         * handle without indexes, so the three of them are not looked up and rewritten, and
         * only its eight bytes, in place, so it is neither decoded nor encoded again. */
        r = s->tokens_unindexed->get(s->tokens_unindexed, txn, &key, &data, DB_RMW);
        if (r != 0)
                return store_error(s, r);
        if (token_record_parse(data.data, data.size, &v) < 0)
                return store_fail(s, -EBADMSG, "corrupt token record (%u bytes)", (unsigned) data.size);
        if (v.last_used >= last_used)
                return 0;
        store_ts_put(ts, last_used);
        return store_error(s, s->tokens_unindexed->put(s->tokens_unindexed, txn, &key, &part, 0));
}

struct touch_ctx {
        const struct store_touch *t;
        size_t n;
        bool *written;
};

static int touch_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct touch_ctx *c = userdata;

        for (size_t i = 0; i < c->n; i++) {
                int r = touch_one(s, txn, c->t[i].hash, c->t[i].last_used);
                if (r < 0 && (r != -ENOENT || !c->written))
                        return r;
                if (c->written)
                        c->written[i] = r == 0;
        }
        return 0;
}

int store_token_touch(struct store *s, const uint8_t hash[static STORE_HASH_SIZE],
                      int64_t last_used) {
        struct store_touch t = { .last_used = last_used };
        struct touch_ctx c = { &t, 1, NULL };

        memcpy(t.hash, hash, STORE_HASH_SIZE);
        return store_txn_run(s, STORE_TXN_NOSYNC, touch_fn, &c);
}

int store_token_touch_many(struct store *s, const struct store_touch *t, size_t n, bool *ret_written) {
        struct touch_ctx c = { t, n, ret_written };

        for (size_t i = 0; i < n; i++)
                ret_written[i] = false;
        return store_txn_run(s, STORE_TXN_NOSYNC, touch_fn, &c);
}

struct count_ctx {
        uint64_t count;
        bool any;
};

static int count_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct count_ctx *c = userdata;
        return store_db_count(s, s->tokens, txn, &c->count);
}

int store_token_count(struct store *s, uint64_t *ret_count) {
        struct count_ctx c = {};
        int r;

        r = store_txn_run(s, STORE_TXN_READ, count_fn, &c);
        if (r < 0)
                return r;
        *ret_count = c.count;
        return 0;
}

static int any_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct count_ctx *c = userdata;
        uint8_t kbuf[STORE_HASH_SIZE];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf));
        DBT data = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };        /* no data wanted */
        DBC *cur;
        int r;

        r = s->tokens->cursor(s->tokens, txn, &cur, DB_READ_COMMITTED);
        if (r != 0)
                return store_error(s, r);
        r = cur->get(cur, &key, &data, DB_FIRST);
        c->any = r == 0;
        if (r == DB_NOTFOUND || r == DB_BUFFER_SMALL)
                r = 0;
        return close_cursor(s, cur, store_error(s, r));
}

int store_token_any(struct store *s, bool *ret_any) {
        struct count_ctx c = {};
        int r;

        r = store_txn_run(s, STORE_TXN_READ, any_fn, &c);
        if (r < 0)
                return r;
        *ret_any = c.any;
        return 0;
}

struct purge_ctx {
        uint8_t now[STORE_TS_SIZE];
        unsigned limit, purged;
};

static int purge_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct purge_ctx *c = userdata;
        uint8_t kbuf[STORE_TS_SIZE], buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(buf, sizeof(buf));
        DBC *cur;
        int r;

        c->purged = 0;
        r = s->tokens_by_expiry->cursor(s->tokens_by_expiry, txn, &cur, 0);
        if (r != 0)
                return store_error(s, r);
        r = cur->get(cur, &key, &data, DB_FIRST | DB_RMW);
        while (r == 0 && c->purged < c->limit) {
                if (key.size != STORE_TS_SIZE) {
                        r = store_fail(s, -EUCLEAN, "expiry index holds a %u-byte key",
                                       (unsigned) key.size);
                        return close_cursor(s, cur, r);
                }
                if (memcmp(kbuf, c->now, STORE_TS_SIZE) > 0)
                        break;          /* the index is in expiry order: the rest is later */
                r = cur->del(cur, 0);
                if (r != 0)
                        break;
                c->purged++;
                r = cur->get(cur, &key, &data, DB_NEXT | DB_RMW);
        }
        if (r == DB_NOTFOUND)
                r = 0;
        return close_cursor(s, cur, store_error(s, r));
}

int store_token_purge_expired(struct store *s, int64_t now, unsigned max, unsigned *ret_purged) {
        struct purge_ctx c = {};
        unsigned total = 0;
        int r = 0;

        store_ts_put(c.now, now);
        while (total < max) {
                c.limit = max - total < DELETE_BATCH ? max - total : DELETE_BATCH;
                r = store_txn_run(s, STORE_TXN_NOSYNC, purge_fn, &c);
                if (r < 0)
                        return r;
                total += c.purged;
                if (c.purged < c.limit)
                        break;
        }
        if (ret_purged)
                *ret_purged = total;
        return 0;
}

/* ---------------------------------------------------------------- consistency */

static int check_record(struct store *s, DB_TXN *txn, const DBT *pkey, const DBT *data) {
        struct token_record_view v;
        uint8_t pbuf[STORE_HASH_SIZE], buf[TOKEN_RECORD_SIZE_MAX];
        DBT skey, p = store_dbt_out(pbuf, sizeof(pbuf)), d = store_dbt_out(buf, sizeof(buf));
        DBC *cur;
        int r;

        if (pkey->size != STORE_HASH_SIZE)
                return store_fail(s, -EUCLEAN, "token with a %u-byte hash",
                                  (unsigned) pkey->size);
        if (token_record_parse(data->data, data->size, &v) < 0)
                return store_fail(s, -EUCLEAN, "corrupt token record");

        skey = store_dbt(v.token_id.p, v.token_id.n);
        r = s->tokens_by_id->pget(s->tokens_by_id, txn, &skey, &p, &d, 0);
        if (r != 0 || p.size != STORE_HASH_SIZE || memcmp(pbuf, pkey->data, STORE_HASH_SIZE) != 0)
                return store_fail(s, r == DB_LOCK_DEADLOCK ? -EDEADLK : -EUCLEAN,
                                  "token %.*s missing from the token ID index",
                                  (int) v.token_id.n, v.token_id.p);

        /* The duplicate indexes: look for exactly (secondary key, this hash). */
        DB *indexes[] = { s->tokens_by_owner, s->tokens_by_expiry };
        DBT keys[] = { store_dbt(v.owner_id.p, v.owner_id.n),
                       store_dbt((const uint8_t *) data->data + TOKEN_RECORD_EXPIRES_OFFSET,
                                 STORE_TS_SIZE) };
        for (size_t i = 0; i < 2; i++) {
                r = indexes[i]->cursor(indexes[i], txn, &cur, DB_READ_COMMITTED);
                if (r != 0)
                        return store_error(s, r);
                memcpy(pbuf, pkey->data, STORE_HASH_SIZE);
                p = store_dbt_out(pbuf, sizeof(pbuf));
                p.size = STORE_HASH_SIZE;
                r = cur->pget(cur, &keys[i], &p, &d, DB_GET_BOTH);
                (void) cur->close(cur);
                if (r == DB_LOCK_DEADLOCK)
                        return -EDEADLK;
                if (r != 0)
                        return store_fail(s, -EUCLEAN, "token %.*s missing from the %s index",
                                          (int) v.token_id.n, v.token_id.p,
                                          i == 0 ? "owner" : "expiry");
        }
        return 0;
}

static int check_fn(struct store *s, DB_TXN *txn, void *userdata) {
        uint8_t kbuf[STORE_HASH_SIZE + 1], buf[TOKEN_RECORD_SIZE_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(buf, sizeof(buf));
        uint64_t n = 0, counts[3];
        DB *indexes[] = { s->tokens_by_owner, s->tokens_by_id, s->tokens_by_expiry };
        DBC *cur;
        int r;

        r = s->tokens->cursor(s->tokens, txn, &cur, DB_READ_COMMITTED);
        if (r != 0)
                return store_error(s, r);
        while ((r = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
                r = check_record(s, txn, &key, &data);
                if (r < 0)
                        return close_cursor(s, cur, r);
                n++;
        }
        if (r == DB_BUFFER_SMALL)
                return close_cursor(s, cur, store_fail(s, -EUCLEAN, "oversized token record"));
        r = close_cursor(s, cur, r == DB_NOTFOUND ? 0 : store_error(s, r));
        if (r < 0)
                return r;

        /* Every primary record is indexed; equal counts mean no index entry is stray. */
        for (size_t i = 0; i < 3; i++) {
                r = store_db_count(s, indexes[i], txn, &counts[i]);
                if (r < 0)
                        return r;
                if (counts[i] != n)
                        return store_fail(s, -EUCLEAN,
                                          "token index %zu holds %llu entries for %llu tokens", i,
                                          (unsigned long long) counts[i], (unsigned long long) n);
        }
        return 0;
}

int store_token_check(struct store *s) {
        return store_txn_run(s, STORE_TXN_READ, check_fn, NULL);
}
