/* SPDX-License-Identifier: MIT */
/*
 * The Unix uid map of the Berkeley DB store: user ID → uid (hash) and uid → user ID (btree
 * keyed by the big-endian uid, so that a cursor walks uids in numeric order and finds the next
 * free one without probing each number). Both are written in the same transaction, and a
 * mapping, once made, is never reused for another user: a recycled uid would hand the old
 * user's files to the new one.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"
#include "store_record.h"

static bool user_id_ok(const char *user_id, size_t *ret_len) {
        size_t n = strnlen(user_id, STORE_USER_ID_MAX + 1);
        *ret_len = n;
        return store_user_id_valid(user_id, n);
}

/* Reads the uid of key; 1 if found, 0 if not, else a negative errno. */
static int uid_of(struct store *s, DB_TXN *txn, DBT *key, u_int32_t flags, uint32_t *ret) {
        uint8_t buf[4];
        DBT data = store_dbt_out(buf, sizeof(buf));
        int r;

        r = s->uid_by_user->get(s->uid_by_user, txn, key, &data, flags);
        if (r == DB_NOTFOUND)
                return 0;
        if (r == DB_BUFFER_SMALL || (r == 0 && data.size != sizeof(buf)))
                return store_fail(s, -EUCLEAN, "corrupt uid map entry");
        if (r != 0)
                return store_error(s, r);
        *ret = store_be32_get(buf);
        return 1;
}

/*
 * Finds the first uid in [from, to] absent from the uid → user index: walks the index from
 * `from` and stops at the first gap, so the cost is the length of the occupied run.
 * Returns 1 with *ret set, 0 if [from, to] is full, or a negative errno.
 */
static int first_free(struct store *s, DBC *cur, uint32_t from, uint32_t to, uint32_t *ret) {
        uint8_t kbuf[4], dbuf[STORE_USER_ID_MAX];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(dbuf, sizeof(dbuf));
        uint32_t candidate = from;
        int r;

        store_be32_put(kbuf, from);
        key.size = sizeof(kbuf);
        /* DB_RMW: a concurrent assigner waits for us instead of picking the same uid. */
        r = cur->get(cur, &key, &data, DB_SET_RANGE | DB_RMW);
        for (;;) {
                if (r == DB_NOTFOUND)
                        break;
                if (r == DB_BUFFER_SMALL || (r == 0 && key.size != sizeof(kbuf)))
                        return store_fail(s, -EUCLEAN, "corrupt uid index entry");
                if (r != 0)
                        return store_error(s, r);
                if (store_be32_get(kbuf) > candidate)
                        break;                  /* a gap: candidate is free */
                /* keys ascend and candidate follows them, so here key == candidate */
                if (candidate == to)
                        return 0;
                candidate++;
                r = cur->get(cur, &key, &data, DB_NEXT | DB_RMW);
        }
        *ret = candidate;
        return 1;
}

struct assign_ctx {
        DBT user;
        uint32_t min, max, preferred;
        uint32_t uid;
};

static int assign_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct assign_ctx *c = userdata;
        uint8_t ubuf[4];
        DBT ukey, udata;
        DBC *cur;
        int r, q;

        r = uid_of(s, txn, &c->user, DB_RMW, &c->uid);
        if (r != 0)
                return r < 0 ? r : 0;

        r = s->user_by_uid->cursor(s->user_by_uid, txn, &cur, 0);
        if (r != 0)
                return store_error(s, r);
        r = first_free(s, cur, c->preferred, c->max, &c->uid);
        if (r == 0 && c->preferred > c->min)
                r = first_free(s, cur, c->min, c->preferred - 1, &c->uid);
        q = cur->close(cur);
        if (r == 0)
                return store_fail(s, -ENOSPC, "no free uid left in %u..%u", c->min, c->max);
        if (r < 0)
                return r;
        if (q != 0)
                return store_error(s, q);

        store_be32_put(ubuf, c->uid);
        ukey = store_dbt(ubuf, sizeof(ubuf));
        udata = store_dbt(c->user.data, c->user.size);
        r = s->user_by_uid->put(s->user_by_uid, txn, &ukey, &udata, DB_NOOVERWRITE);
        if (r == 0)
                r = s->uid_by_user->put(s->uid_by_user, txn, &c->user, &ukey, DB_NOOVERWRITE);
        return store_error(s, r);
}

int store_uid_get_or_assign(struct store *s, const char *user_id, uint32_t range_min,
                            uint32_t range_max, uint32_t preferred, uint32_t *ret_uid) {
        struct assign_ctx c = { .min = range_min, .max = range_max, .preferred = preferred };
        size_t n;
        int r;

        if (!user_id_ok(user_id, &n) || range_min > range_max ||
            preferred < range_min || preferred > range_max)
                return -EINVAL;
        c.user = store_dbt(user_id, n);

        r = store_txn_run(s, STORE_TXN_SYNC, assign_fn, &c);
        if (r < 0)
                return r;
        *ret_uid = c.uid;
        return 0;
}

struct move_ctx {
        struct assign_ctx a;
        uint32_t from;
        DBT winner;
        bool has_winner;
};

static int move_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct move_ctx *c = userdata;
        uint8_t fbuf[4];
        DBT fkey = store_dbt(fbuf, sizeof(fbuf));
        uint32_t held, theirs;
        int r;

        r = uid_of(s, txn, &c->a.user, DB_RMW, &held);
        if (r <= 0)
                return r < 0 ? r : -ESTALE;
        if (held != c->from)
                return -ESTALE;
        store_be32_put(fbuf, c->from);
        r = s->uid_by_user->del(s->uid_by_user, txn, &c->a.user, 0);
        if (r == 0)
                r = s->user_by_uid->del(s->user_by_uid, txn, &fkey, 0);
        if (r != 0)
                return store_error(s, r);
        /* the winner takes `from` first, so that the search below skips it */
        bool held_by_winner = false;
        if (c->has_winner && (r = uid_of(s, txn, &c->winner, DB_RMW, &theirs)) == 0) {
                DBT wdata = store_dbt(c->winner.data, c->winner.size);
                r = s->user_by_uid->put(s->user_by_uid, txn, &fkey, &wdata, DB_NOOVERWRITE);
                if (r == 0)
                        r = s->uid_by_user->put(s->uid_by_user, txn, &c->winner, &fkey, DB_NOOVERWRITE);
                if (r != 0)
                        return store_error(s, r);
                held_by_winner = true;
        }
        if (r < 0)
                return r;
        if (!held_by_winner) {
                /* `from` must not come back: hold it with this key while searching */
                DBT udata = store_dbt(c->a.user.data, c->a.user.size);
                r = s->user_by_uid->put(s->user_by_uid, txn, &fkey, &udata, DB_NOOVERWRITE);
                if (r != 0)
                        return store_error(s, r);
        }
        r = assign_fn(s, txn, &c->a);
        if (r < 0)
                return r;
        if (!held_by_winner && (r = s->user_by_uid->del(s->user_by_uid, txn, &fkey, 0)) != 0)
                return store_error(s, r);
        return 0;
}

int store_uid_move(struct store *s, const char *user_id, uint32_t from, const char *winner, uint32_t range_min,
                   uint32_t range_max, uint32_t preferred, uint32_t *ret_uid) {
        struct move_ctx c = { .a = { .min = range_min, .max = range_max, .preferred = preferred }, .from = from };
        size_t n, wn;
        int r;

        if (!user_id_ok(user_id, &n) || range_min > range_max || preferred < range_min || preferred > range_max)
                return -EINVAL;
        if (winner && (!user_id_ok(winner, &wn) || (wn == n && memcmp(winner, user_id, n) == 0)))
                return -EINVAL;
        c.a.user = store_dbt(user_id, n);
        if (winner) {
                c.winner = store_dbt(winner, wn);
                c.has_winner = true;
        }
        r = store_txn_run(s, STORE_TXN_SYNC, move_fn, &c);
        if (r < 0)
                return r;
        *ret_uid = c.a.uid;
        return 0;
}

struct get_ctx {
        DBT user;
        uint32_t uid;
        char *user_id;
};

static int get_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct get_ctx *c = userdata;
        int r = uid_of(s, txn, &c->user, 0, &c->uid);
        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

int store_uid_get(struct store *s, const char *user_id, uint32_t *ret_uid) {
        struct get_ctx c = {};
        size_t n;
        int r;

        if (!user_id_ok(user_id, &n))
                return -EINVAL;
        c.user = store_dbt(user_id, n);
        r = store_txn_run(s, STORE_TXN_READ, get_fn, &c);
        if (r < 0)
                return r;
        *ret_uid = c.uid;
        return 0;
}

static int lookup_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct get_ctx *c = userdata;
        uint8_t kbuf[4];
        char buf[STORE_USER_ID_MAX];
        DBT key = store_dbt(kbuf, sizeof(kbuf)), data = store_dbt_out(buf, sizeof(buf));
        int r;

        free(c->user_id);
        c->user_id = NULL;
        store_be32_put(kbuf, c->uid);
        r = s->user_by_uid->get(s->user_by_uid, txn, &key, &data, 0);
        if (r == DB_BUFFER_SMALL || (r == 0 && !store_user_id_valid(buf, data.size)))
                return store_fail(s, -EUCLEAN, "corrupt uid index entry for %u", c->uid);
        if (r != 0)
                return store_error(s, r);
        c->user_id = strndup(buf, data.size);
        return c->user_id ? 0 : -ENOMEM;
}

int store_uid_lookup(struct store *s, uint32_t uid, char **ret_user_id) {
        struct get_ctx c = { .uid = uid };
        int r;

        r = store_txn_run(s, STORE_TXN_READ, lookup_fn, &c);
        if (r < 0) {
                free(c.user_id);
                return r;
        }
        *ret_user_id = c.user_id;
        return 0;
}

/* ---------------------------------------------------------------- ranges */

struct range_ctx {
        uint32_t from, to;
        store_uid_key_filter want;
        struct store_uid_entry *first;
        size_t n_first;
        uint64_t count;
};

static int range_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct range_ctx *c = userdata;
        uint8_t kbuf[4];
        char buf[STORE_USER_ID_MAX + 1];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(buf, STORE_USER_ID_MAX);
        DBC *cur;
        int r = 0, bdb;

        c->count = 0;   /* a retried transaction starts over */
        bdb = s->user_by_uid->cursor(s->user_by_uid, txn, &cur, DB_READ_COMMITTED);
        if (bdb != 0)
                return store_error(s, bdb);
        store_be32_put(kbuf, c->from);
        key.size = sizeof(kbuf);
        for (bdb = cur->get(cur, &key, &data, DB_SET_RANGE); bdb == 0; bdb = cur->get(cur, &key, &data, DB_NEXT)) {
                if (key.size != sizeof(kbuf) || !store_user_id_valid(buf, data.size)) {
                        r = store_fail(s, -EUCLEAN, "corrupt uid index entry");
                        break;
                }
                uint32_t uid = store_be32_get(kbuf);
                if (uid > c->to)
                        break;
                buf[data.size] = '\0';
                if (c->want && !c->want(buf))
                        continue;
                if (c->count < c->n_first) {
                        c->first[c->count].uid = uid;
                        memcpy(c->first[c->count].key, buf, data.size + 1);
                }
                c->count++;
        }
        if (r == 0 && bdb != 0 && bdb != DB_NOTFOUND)
                r = bdb == DB_LOCK_DEADLOCK ? -EDEADLK : store_error(s, bdb);
        cur->close(cur);
        return r;
}

int store_uid_in_range(struct store *s, uint32_t from, uint32_t to, store_uid_key_filter want,
                       struct store_uid_entry *first, size_t n_first, uint64_t *ret_count) {
        struct range_ctx c = { .from = from, .to = to, .want = want, .first = first, .n_first = n_first };

        if (from > to || (n_first > 0 && !first))
                return -EINVAL;
        int r = store_txn_run(s, STORE_TXN_READ, range_fn, &c);
        if (r < 0)
                return r;
        *ret_count = c.count;
        return 0;
}

/* ---------------------------------------------------------------- consistency */

static int check_fn(struct store *s, DB_TXN *txn, void *userdata) {
        char kbuf[STORE_USER_ID_MAX + 1], ubuf[STORE_USER_ID_MAX + 1];
        uint8_t vbuf[5];
        DBT key = store_dbt_out(kbuf, sizeof(kbuf)), data = store_dbt_out(vbuf, sizeof(vbuf));
        DBT back;
        uint64_t n = 0, reverse;
        DBC *cur;
        int r = 0, bdb;

        bdb = s->uid_by_user->cursor(s->uid_by_user, txn, &cur, DB_READ_COMMITTED);
        if (bdb != 0)
                return store_error(s, bdb);
        while ((bdb = cur->get(cur, &key, &data, DB_NEXT)) == 0) {
                if (!store_user_id_valid(kbuf, key.size) || data.size != 4) {
                        r = store_fail(s, -EUCLEAN, "corrupt uid map entry");
                        break;
                }
                DBT ukey = store_dbt(vbuf, 4);
                back = store_dbt_out(ubuf, sizeof(ubuf));
                bdb = s->user_by_uid->get(s->user_by_uid, txn, &ukey, &back, 0);
                if (bdb == DB_LOCK_DEADLOCK) {
                        r = -EDEADLK;
                        break;
                }
                if (bdb != 0 || back.size != key.size || memcmp(ubuf, kbuf, key.size) != 0) {
                        r = store_fail(s, -EUCLEAN, "uid %u of %.*s does not map back",
                                       store_be32_get(vbuf), (int) key.size, kbuf);
                        break;
                }
                n++;
        }
        if (r == 0 && bdb != DB_NOTFOUND)
                r = bdb == DB_BUFFER_SMALL ? store_fail(s, -EUCLEAN, "corrupt uid map entry")
                                           : store_error(s, bdb);
        bdb = cur->close(cur);
        if (r == 0 && bdb != 0)
                r = store_error(s, bdb);
        if (r < 0)
                return r;

        /* every forward entry maps back; equal counts make the map a bijection */
        r = store_db_count(s, s->user_by_uid, txn, &reverse);
        if (r < 0)
                return r;
        if (reverse != n)
                return store_fail(s, -EUCLEAN, "uid index holds %llu entries for %llu users",
                                  (unsigned long long) reverse, (unsigned long long) n);
        return 0;
}

int store_uid_check(struct store *s) {
        return store_txn_run(s, STORE_TXN_READ, check_fn, NULL);
}
