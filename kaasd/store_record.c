/* SPDX-License-Identifier: MIT */
/*
 * Encoding and strict decoding of token and identity records (see store_record.h).
 * No database, no logging, no global state.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "store_record.h"

#define TS_BIAS (UINT64_C(1) << 63)

static void be64_put(uint8_t *p, uint64_t v) {
        for (int i = 7; i >= 0; i--) {
                p[i] = (uint8_t) v;
                v >>= 8;
        }
}

static uint64_t be64_get(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return v;
}

void store_ts_put(uint8_t p[static STORE_TS_SIZE], int64_t t) {
        be64_put(p, (uint64_t) t ^ TS_BIAS);
}

int64_t store_ts_get(const uint8_t p[static STORE_TS_SIZE]) {
        uint64_t u = be64_get(p) ^ TS_BIAS;
        int64_t t;
        memcpy(&t, &u, sizeof(t));      /* two's complement reinterpretation, no UB */
        return t;
}

static bool no_nul(const char *p, size_t n) {
        return n == 0 || !memchr(p, '\0', n);
}

bool store_user_id_valid(const char *p, size_t n) {
        return p && n >= 1 && n <= STORE_USER_ID_MAX && no_nul(p, n);
}

/* ---------------------------------------------------------------- reading cursor */

struct reader {
        const uint8_t *p;
        size_t left;
};

static bool read_bytes(struct reader *r, size_t n, const uint8_t **ret) {
        if (r->left < n)
                return false;
        *ret = r->p;
        r->p += n;
        r->left -= n;
        return true;
}

static bool read_u8(struct reader *r, uint8_t *ret) {
        const uint8_t *p;
        if (!read_bytes(r, 1, &p))
                return false;
        *ret = p[0];
        return true;
}

static bool read_ts(struct reader *r, int64_t *ret) {
        const uint8_t *p;
        if (!read_bytes(r, 8, &p))
                return false;
        *ret = store_ts_get(p);
        return true;
}

/* A string with a length prefix of lenbytes (1, 2 or 4) and bounds [min, max]. */
static bool read_string(struct reader *r, unsigned lenbytes, size_t min, size_t max,
                        struct record_string *ret) {
        const uint8_t *p;
        size_t n = 0;

        if (!read_bytes(r, lenbytes, &p))
                return false;
        for (unsigned i = 0; i < lenbytes; i++)
                n = n << 8 | p[i];
        if (n < min || n > max)
                return false;
        if (!read_bytes(r, n, &p))
                return false;
        ret->p = (const char *) p;
        ret->n = n;
        return true;
}

/* ---------------------------------------------------------------- writing */

struct writer {
        uint8_t *p;
        size_t used;
};

static void write_bytes(struct writer *w, const void *p, size_t n) {
        if (n > 0)
                memcpy(w->p + w->used, p, n);
        w->used += n;
}

static void write_len(struct writer *w, unsigned lenbytes, size_t n) {
        for (unsigned i = 0; i < lenbytes; i++)
                w->p[w->used + i] = (uint8_t) (n >> (8 * (lenbytes - 1 - i)));
        w->used += lenbytes;
}

static void write_string(struct writer *w, unsigned lenbytes, const char *s, size_t n) {
        write_len(w, lenbytes, n);
        write_bytes(w, s, n);
}

static void write_ts(struct writer *w, int64_t t) {
        store_ts_put(w->p + w->used, t);
        w->used += 8;
}

/* strnlen-style bound check for caller-supplied C strings */
static bool string_ok(const char *s, size_t min, size_t max, size_t *ret_len) {
        size_t n;
        if (!s)
                return false;
        n = strnlen(s, max + 1);
        if (n < min || n > max)
                return false;
        *ret_len = n;
        return true;
}

/* ---------------------------------------------------------------- tokens */

int token_record_encode(const struct token_record *rec, uint8_t buf[static TOKEN_RECORD_SIZE_MAX],
                        size_t *ret_size) {
        size_t id_len, owner_len, domain_len, name_len, desc_len;
        const char *desc = rec->description ? rec->description : "";
        struct writer w = { .p = buf };

        if (!string_ok(rec->token_id, TOKEN_ID_LENGTH, TOKEN_ID_LENGTH, &id_len) ||
            token_id_check_format(rec->token_id, id_len) < 0 ||
            !string_ok(rec->owner_id, 1, STORE_USER_ID_MAX, &owner_len) ||
            !string_ok(rec->owner_domain_id, 0, STORE_DOMAIN_ID_MAX, &domain_len) ||
            !string_ok(rec->owner_name, 1, STORE_NAME_MAX, &name_len) ||
            !string_ok(desc, 0, STORE_DESCRIPTION_MAX, &desc_len))
                return -EINVAL;

        w.p[w.used++] = TOKEN_RECORD_VERSION;
        write_ts(&w, rec->created);
        write_ts(&w, rec->expires);
        write_ts(&w, rec->last_used);
        write_string(&w, 1, rec->token_id, id_len);
        write_string(&w, 1, rec->owner_id, owner_len);
        write_string(&w, 1, rec->owner_domain_id, domain_len);
        write_string(&w, 1, rec->owner_name, name_len);
        write_string(&w, 2, desc, desc_len);

        *ret_size = w.used;
        return 0;
}

int token_record_parse(const void *data, size_t size, struct token_record_view *ret) {
        struct reader r = { .p = data, .left = size };
        struct token_record_view v = {};
        uint8_t version;

        if (!data ||
            !read_u8(&r, &version) || version != TOKEN_RECORD_VERSION ||
            !read_ts(&r, &v.created) || !read_ts(&r, &v.expires) || !read_ts(&r, &v.last_used) ||
            !read_string(&r, 1, TOKEN_ID_LENGTH, TOKEN_ID_LENGTH, &v.token_id) ||
            !read_string(&r, 1, 1, STORE_USER_ID_MAX, &v.owner_id) ||
            !read_string(&r, 1, 0, STORE_DOMAIN_ID_MAX, &v.owner_domain_id) ||
            !read_string(&r, 1, 1, STORE_NAME_MAX, &v.owner_name) ||
            !read_string(&r, 2, 0, STORE_DESCRIPTION_MAX, &v.description) ||
            r.left != 0)
                return -EBADMSG;

        if (token_id_check_format(v.token_id.p, v.token_id.n) < 0 ||
            !no_nul(v.owner_id.p, v.owner_id.n) ||
            !no_nul(v.owner_domain_id.p, v.owner_domain_id.n) ||
            !no_nul(v.owner_name.p, v.owner_name.n) ||
            !no_nul(v.description.p, v.description.n))
                return -EBADMSG;

        *ret = v;
        return 0;
}

static char *dup_string(const struct record_string *s) {
        char *p = malloc(s->n + 1);
        if (!p)
                return NULL;
        if (s->n > 0)
                memcpy(p, s->p, s->n);
        p[s->n] = '\0';
        return p;
}

void token_record_free(struct token_record *rec) {
        if (!rec)
                return;
        free(rec->owner_id);
        free(rec->owner_name);
        free(rec->owner_domain_id);
        free(rec->description);
        memset(rec, 0, sizeof(*rec));
}

int token_record_decode(const void *data, size_t size, struct token_record *ret) {
        struct token_record_view v;
        struct token_record rec = {};
        int r;

        r = token_record_parse(data, size, &v);
        if (r < 0)
                return r;

        rec.created = v.created;
        rec.expires = v.expires;
        rec.last_used = v.last_used;
        memcpy(rec.token_id, v.token_id.p, v.token_id.n);
        rec.token_id[v.token_id.n] = '\0';
        rec.owner_id = dup_string(&v.owner_id);
        rec.owner_domain_id = dup_string(&v.owner_domain_id);
        rec.owner_name = dup_string(&v.owner_name);
        rec.description = dup_string(&v.description);
        if (!rec.owner_id || !rec.owner_domain_id || !rec.owner_name || !rec.description) {
                token_record_free(&rec);
                return -ENOMEM;
        }
        *ret = rec;
        return 0;
}

/* ---------------------------------------------------------------- identities */

int identity_record_encode(const struct identity_record *rec, uint8_t **ret_data,
                           size_t *ret_size) {
        size_t name_len, domain_len;
        struct writer w = {};

        if (!string_ok(rec->name, 1, STORE_NAME_MAX, &name_len) ||
            !string_ok(rec->domain_id, 0, STORE_DOMAIN_ID_MAX, &domain_len) ||
            rec->blob_size > STORE_BLOB_MAX || (!rec->blob && rec->blob_size > 0))
                return -EINVAL;

        w.p = malloc(1 + 4 + 8 + 2 + name_len + 1 + domain_len + 4 + rec->blob_size);
        if (!w.p)
                return -ENOMEM;

        w.p[w.used++] = IDENTITY_RECORD_VERSION;
        store_be32_put(w.p + w.used, rec->blob_version);
        w.used += 4;
        write_ts(&w, rec->fetched_at);
        write_len(&w, 2, name_len + 1 + domain_len);
        write_bytes(&w, rec->name, name_len);
        write_bytes(&w, "", 1);
        write_bytes(&w, rec->domain_id, domain_len);
        write_len(&w, 4, rec->blob_size);
        write_bytes(&w, rec->blob, rec->blob_size);

        *ret_data = w.p;
        *ret_size = w.used;
        return 0;
}

int identity_record_parse(const void *data, size_t size, struct identity_record_view *ret) {
        struct reader r = { .p = data, .left = size };
        struct identity_record_view v = {};
        const uint8_t *p;
        const char *nul;
        uint8_t version;

        if (!data ||
            !read_u8(&r, &version) || version != IDENTITY_RECORD_VERSION ||
            !read_bytes(&r, 4, &p) ||
            !read_ts(&r, &v.fetched_at) ||
            !read_string(&r, 2, 2, IDENTITY_NAME_KEY_MAX, &v.name_key) ||
            !read_string(&r, 4, 0, STORE_BLOB_MAX, &v.blob) ||
            r.left != 0)
                return -EBADMSG;
        v.blob_version = store_be32_get(p);

        /* name_key is name "\0" domain: exactly one NUL, bounded parts */
        nul = memchr(v.name_key.p, '\0', v.name_key.n);
        if (!nul)
                return -EBADMSG;
        v.name = (struct record_string) { v.name_key.p, (size_t) (nul - v.name_key.p) };
        v.domain_id = (struct record_string) { nul + 1, v.name_key.n - v.name.n - 1 };
        if (v.name.n < 1 || v.name.n > STORE_NAME_MAX || v.domain_id.n > STORE_DOMAIN_ID_MAX ||
            !no_nul(v.domain_id.p, v.domain_id.n))
                return -EBADMSG;

        *ret = v;
        return 0;
}

void identity_record_free(struct identity_record *rec) {
        if (!rec)
                return;
        free(rec->user_id);
        free(rec->name);
        free(rec->domain_id);
        free(rec->blob);
        memset(rec, 0, sizeof(*rec));
}

int identity_record_decode(const void *user_id, size_t user_id_size, const void *data,
                           size_t size, struct identity_record *ret) {
        struct identity_record_view v;
        struct identity_record rec = {};
        struct record_string key = { user_id, user_id_size };
        int r;

        if (!store_user_id_valid(user_id, user_id_size))
                return -EBADMSG;
        r = identity_record_parse(data, size, &v);
        if (r < 0)
                return r;

        rec.blob_version = v.blob_version;
        rec.fetched_at = v.fetched_at;
        rec.blob_size = v.blob.n;
        rec.user_id = dup_string(&key);
        rec.name = dup_string(&v.name);
        rec.domain_id = dup_string(&v.domain_id);
        rec.blob = dup_string(&v.blob);
        if (!rec.user_id || !rec.name || !rec.domain_id || !rec.blob) {
                identity_record_free(&rec);
                return -ENOMEM;
        }
        *ret = rec;
        return 0;
}
