/* SPDX-License-Identifier: MIT */
/*
 * Identity cache records of the Berkeley DB store: user ID → {blob version, fetched_at, name,
 * domain ID, blob}, with a unique secondary index name "\0" domain ID → user ID maintained by
 * BDB through associate() (store.c). What the blob means is the identity cache's business.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_record.h"

int store_identity_name_key(DB *secondary, const DBT *key, const DBT *data, DBT *result) {
        struct identity_record_view v;

        /* unparseable: damage on disk, left out of the index (see store_token.c) */
        if (identity_record_parse(data->data, data->size, &v) < 0)
                return DB_DONOTINDEX;
        *result = store_dbt(v.name_key.p, v.name_key.n);
        return 0;
}

static int decode(struct store *s, const DBT *key, const DBT *data,
                  struct identity_record *ret) {
        int r = identity_record_decode(key->data, key->size, data->data, data->size, ret);
        if (r == -EBADMSG)
                return store_fail(s, r, "corrupt identity record (%u bytes)",
                                  (unsigned) data->size);
        return r;
}

static bool user_id_ok(const char *user_id, size_t *ret_len) {
        size_t n = strnlen(user_id, STORE_USER_ID_MAX + 1);
        *ret_len = n;
        return store_user_id_valid(user_id, n);
}

/* Builds name "\0" domain ID into buf; false if out of bounds. */
static bool name_key(const char *name, const char *domain_id,
                     char buf[static IDENTITY_NAME_KEY_MAX], size_t *ret_len) {
        size_t n = strnlen(name, STORE_NAME_MAX + 1), d = strnlen(domain_id, STORE_DOMAIN_ID_MAX + 1);

        if (n < 1 || n > STORE_NAME_MAX || d > STORE_DOMAIN_ID_MAX)
                return false;
        memcpy(buf, name, n);
        buf[n] = '\0';
        memcpy(buf + n + 1, domain_id, d);
        *ret_len = n + 1 + d;
        return true;
}

/* ---------------------------------------------------------------- put */

struct put_ctx {
        const char *user_id;
        size_t user_id_len;
        const uint8_t *data;
        size_t size;
        char name_key[IDENTITY_NAME_KEY_MAX];
        size_t name_key_len;
};

static int put_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct put_ctx *c = userdata;
        DBT key = store_dbt(c->user_id, c->user_id_len), data = store_dbt(c->data, c->size);
        DBT skey = store_dbt(c->name_key, c->name_key_len);
        char pbuf[STORE_USER_ID_MAX];
        DBT pkey = store_dbt_out(pbuf, sizeof(pbuf));
        DBT pdata = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
        int r;

        /* A different user holding the name now: its record is stale, drop it. */
        r = s->identities_by_name->pget(s->identities_by_name, txn, &skey, &pkey, &pdata, DB_RMW);
        if (r == 0 && (pkey.size != c->user_id_len || memcmp(pbuf, c->user_id, pkey.size) != 0)) {
                r = s->identities->del(s->identities, txn, &pkey, 0);
                if (r != 0)
                        return store_error(s, r);
        } else if (r != 0 && r != DB_NOTFOUND)
                return store_error(s, r);

        return store_error(s, s->identities->put(s->identities, txn, &key, &data, 0));
}

int store_identity_put(struct store *s, const struct identity_record *rec) {
        struct put_ctx c = { .user_id = rec->user_id };
        uint8_t *data = NULL;
        int r;

        if (!rec->user_id || !user_id_ok(rec->user_id, &c.user_id_len) ||
            !rec->name || !rec->domain_id ||
            !name_key(rec->name, rec->domain_id, c.name_key, &c.name_key_len))
                return -EINVAL;
        r = identity_record_encode(rec, &data, &c.size);
        if (r < 0)
                return r;
        c.data = data;
        r = store_txn_run(s, STORE_TXN_SYNC, put_fn, &c);
        free(data);
        return r;
}

/* ---------------------------------------------------------------- get */

struct get_ctx {
        DBT key;
        bool by_name;
        struct identity_record rec;
};

static int get_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct get_ctx *c = userdata;
        char pbuf[STORE_USER_ID_MAX];
        DBT pkey = store_dbt_out(pbuf, sizeof(pbuf));
        DBT data = { .flags = DB_DBT_MALLOC };  /* blobs can be large: let BDB size it */
        int r;

        identity_record_free(&c->rec);
        if (c->by_name)
                r = s->identities_by_name->pget(s->identities_by_name, txn, &c->key, &pkey, &data, 0);
        else {
                r = s->identities->get(s->identities, txn, &c->key, &data, 0);
                pkey = c->key;
        }
        if (r == DB_BUFFER_SMALL)
                return store_fail(s, -EUCLEAN, "identity name index holds an oversized user ID");
        if (r != 0)
                return store_error(s, r);
        r = decode(s, &pkey, &data, &c->rec);
        free(data.data);
        return r;
}

static int get_run(struct store *s, struct get_ctx *c, struct identity_record *ret) {
        int r = store_txn_run(s, STORE_TXN_READ, get_fn, c);
        if (r < 0) {
                identity_record_free(&c->rec);
                return r;
        }
        *ret = c->rec;
        return 0;
}

int store_identity_get(struct store *s, const char *user_id, struct identity_record *ret) {
        struct get_ctx c = {};
        size_t n;

        if (!user_id_ok(user_id, &n))
                return -EINVAL;
        c.key = store_dbt(user_id, n);
        return get_run(s, &c, ret);
}

int store_identity_get_by_name(struct store *s, const char *name, const char *domain_id,
                               struct identity_record *ret) {
        char buf[IDENTITY_NAME_KEY_MAX];
        struct get_ctx c = { .by_name = true };
        size_t n;

        if (!name_key(name, domain_id, buf, &n))
                return -EINVAL;
        c.key = store_dbt(buf, n);
        return get_run(s, &c, ret);
}

/* ---------------------------------------------------------------- delete */

static int delete_fn(struct store *s, DB_TXN *txn, void *userdata) {
        DBT *key = userdata;
        return store_error(s, s->identities->del(s->identities, txn, key, 0));
}

int store_identity_delete(struct store *s, const char *user_id) {
        DBT key;
        size_t n;

        if (!user_id_ok(user_id, &n))
                return -EINVAL;
        key = store_dbt(user_id, n);
        return store_txn_run(s, STORE_TXN_SYNC, delete_fn, &key);
}

/* ---------------------------------------------------------------- iteration */

struct list_ctx {
        bool started, more;
        char last[IDENTITY_NAME_KEY_MAX];       /* name key of the last entry delivered */
        size_t last_len;
        size_t n;
        struct identity_record rec[STORE_BATCH];
        char key[STORE_BATCH][IDENTITY_NAME_KEY_MAX];
        size_t key_len[STORE_BATCH];
};

static void list_clear(struct list_ctx *c) {
        for (size_t i = 0; i < c->n; i++)
                identity_record_free(&c->rec[i]);
        c->n = 0;
}

/* The primary is a hash, whose order cannot be resumed from a key; walk the name index
 * (a btree) instead: it covers every identity, and each has exactly one name key. */
static int list_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct list_ctx *c = userdata;
        char kbuf[IDENTITY_NAME_KEY_MAX], pbuf[STORE_USER_ID_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), pkey = store_dbt_out(pbuf, sizeof(pbuf));
        DBT data = { .flags = DB_DBT_REALLOC };
        DBC *cur;
        int r, bdb;

        list_clear(c);
        c->more = false;

        bdb = s->identities_by_name->cursor(s->identities_by_name, txn, &cur, DB_READ_COMMITTED);
        if (bdb != 0)
                return store_error(s, bdb);

        if (!c->started)
                bdb = cur->pget(cur, &key, &pkey, &data, DB_FIRST);
        else {
                memcpy(kbuf, c->last, c->last_len);
                key.size = (u_int32_t) c->last_len;
                bdb = cur->pget(cur, &key, &pkey, &data, DB_SET_RANGE);
                if (bdb == 0 && key.size == c->last_len && memcmp(kbuf, c->last, c->last_len) == 0)
                        bdb = cur->pget(cur, &key, &pkey, &data, DB_NEXT);
        }

        r = 0;
        while (bdb == 0) {
                r = decode(s, &pkey, &data, &c->rec[c->n]);
                if (r < 0)
                        break;
                memcpy(c->key[c->n], kbuf, key.size);
                c->key_len[c->n] = key.size;
                if (++c->n == STORE_BATCH) {
                        c->more = true;
                        break;
                }
                bdb = cur->pget(cur, &key, &pkey, &data, DB_NEXT);
        }
        if (r == 0 && bdb != 0 && bdb != DB_NOTFOUND)
                r = store_error(s, bdb);
        free(data.data);
        bdb = cur->close(cur);
        if (r == 0 && bdb != 0)
                r = store_error(s, bdb);
        return r;
}

int store_identity_list(struct store *s, store_identity_cb cb, void *userdata) {
        struct list_ctx *c;
        int r;

        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        do {
                r = store_txn_run(s, STORE_TXN_READ, list_fn, c);
                if (r < 0)
                        break;
                for (size_t i = 0; i < c->n && r == 0; i++)
                        r = cb(&c->rec[i], userdata);
                if (c->n > 0) {
                        c->last_len = c->key_len[c->n - 1];
                        memcpy(c->last, c->key[c->n - 1], c->last_len);
                }
                c->started = true;
                list_clear(c);
        } while (r == 0 && c->more);
        list_clear(c);
        free(c);
        return r < 0 ? r : 0;
}

/* ---------------------------------------------------------------- consistency */

static int check_fn(struct store *s, DB_TXN *txn, void *userdata) {
        char kbuf[STORE_USER_ID_MAX + 1], pbuf[STORE_USER_ID_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = { .flags = DB_DBT_REALLOC };
        DBT pkey, pdata = { .flags = DB_DBT_PARTIAL | DB_DBT_USERMEM };
        struct identity_record_view v;
        uint64_t n = 0, indexed;
        DBC *cur;
        int r = 0, bdb;

        bdb = s->identities->cursor(s->identities, txn, &cur, DB_READ_COMMITTED);
        if (bdb != 0)
                return store_error(s, bdb);
        while ((bdb = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
                if (!store_user_id_valid(kbuf, key.size) ||
                    identity_record_parse(data.data, data.size, &v) < 0) {
                        r = store_fail(s, -EUCLEAN, "corrupt identity record");
                        break;
                }
                DBT skey = store_dbt(v.name_key.p, v.name_key.n);
                pkey = store_dbt_out(pbuf, sizeof(pbuf));
                bdb = s->identities_by_name->pget(s->identities_by_name, txn, &skey, &pkey,
                                                  &pdata, 0);
                if (bdb == DB_LOCK_DEADLOCK) {
                        r = -EDEADLK;
                        break;
                }
                if (bdb != 0 || pkey.size != key.size || memcmp(pbuf, kbuf, key.size) != 0) {
                        r = store_fail(s, -EUCLEAN, "identity %.*s missing from the name index",
                                       (int) key.size, kbuf);
                        break;
                }
                n++;
        }
        if (r == 0 && bdb != DB_NOTFOUND)
                r = bdb == DB_BUFFER_SMALL ? store_fail(s, -EUCLEAN, "oversized identity key")
                                           : store_error(s, bdb);
        free(data.data);
        bdb = cur->close(cur);
        if (r == 0 && bdb != 0)
                r = store_error(s, bdb);
        if (r < 0)
                return r;

        r = store_db_count(s, s->identities_by_name, txn, &indexed);
        if (r < 0)
                return r;
        if (indexed != n)
                return store_fail(s, -EUCLEAN, "identity name index holds %llu entries for %llu "
                                  "identities", (unsigned long long) indexed, (unsigned long long) n);
        return 0;
}

int store_identity_check(struct store *s) {
        return store_txn_run(s, STORE_TXN_READ, check_fn, NULL);
}
