/* Fuzz target: decoding of the store's records (kaasd/store_record.c), the
 * bytes kaasd reads back from Berkeley DB, which a damaged or tampered
 * database may hold.
 *
 * Input: one record as stored. It is decoded both as a token record and
 * as an identity record (under a fixed user ID, the database key).
 *
 * Properties: the zero-copy view (*_parse) and the copying decoder
 * (*_decode) agree; a record that decodes encodes back to exactly the
 * same bytes (the format has one encoding per record); strings hold no
 * NUL and respect their bounds; a token record's ID is a valid token ID. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "kaasd/store_record.h"

#define USER_ID "a0cba8b7ca3046da8375b62192fe10ca"

static void check_string(const struct record_string *s, size_t max) {
        FUZZ_ASSERT(s->n <= max);
        FUZZ_ASSERT(s->n == 0 || !memchr(s->p, '\0', s->n));
}

static bool same(const struct record_string *s, const char *c) {
        return strlen(c) == s->n && (s->n == 0 || memcmp(s->p, c, s->n) == 0);
}

static void token(const uint8_t *data, size_t size) {
        struct token_record_view v;
        struct token_record rec = { 0 };
        int r = token_record_parse(data, size, &v);
        int d = token_record_decode(data, size, &rec);
        FUZZ_ASSERT((r == 0) == (d == 0) || d == -ENOMEM);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG);
                return;
        }
        FUZZ_ASSERT(size <= TOKEN_RECORD_SIZE_MAX);
        FUZZ_ASSERT(token_id_check_format(v.token_id.p, v.token_id.n) == 0);
        check_string(&v.owner_id, STORE_USER_ID_MAX);
        check_string(&v.owner_domain_id, STORE_DOMAIN_ID_MAX);
        check_string(&v.owner_name, STORE_NAME_MAX);
        check_string(&v.description, STORE_DESCRIPTION_MAX);
        FUZZ_ASSERT(v.owner_id.n >= 1 && v.owner_name.n >= 1);
        /* the expiry index points straight into the record */
        FUZZ_ASSERT(store_ts_get(data + TOKEN_RECORD_EXPIRES_OFFSET) == v.expires);
        if (d < 0)
                return;
        FUZZ_ASSERT(rec.created == v.created && rec.expires == v.expires && rec.last_used == v.last_used);
        FUZZ_ASSERT(same(&v.token_id, rec.token_id) && same(&v.owner_id, rec.owner_id) &&
                    same(&v.owner_domain_id, rec.owner_domain_id) && same(&v.owner_name, rec.owner_name) &&
                    same(&v.description, rec.description));

        uint8_t buf[TOKEN_RECORD_SIZE_MAX];
        size_t n = 0;
        FUZZ_ASSERT(token_record_encode(&rec, buf, &n) == 0);
        FUZZ_ASSERT(n == size && memcmp(buf, data, size) == 0);
        token_record_free(&rec);
}

static void identity(const uint8_t *data, size_t size) {
        struct identity_record_view v;
        struct identity_record rec = { 0 };
        int r = identity_record_parse(data, size, &v);
        int d = identity_record_decode(USER_ID, strlen(USER_ID), data, size, &rec);
        FUZZ_ASSERT((r == 0) == (d == 0) || d == -ENOMEM);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG);
                return;
        }
        FUZZ_ASSERT(v.name.n >= 1);
        check_string(&v.name, STORE_NAME_MAX);
        check_string(&v.domain_id, STORE_DOMAIN_ID_MAX);
        FUZZ_ASSERT(v.name_key.n == v.name.n + 1 + v.domain_id.n);
        FUZZ_ASSERT(v.blob.n <= STORE_BLOB_MAX);
        if (d < 0)
                return;
        FUZZ_ASSERT(strcmp(rec.user_id, USER_ID) == 0);
        FUZZ_ASSERT(same(&v.name, rec.name) && same(&v.domain_id, rec.domain_id));
        FUZZ_ASSERT(rec.blob_size == v.blob.n && (v.blob.n == 0 || memcmp(rec.blob, v.blob.p, v.blob.n) == 0));
        FUZZ_ASSERT(rec.blob[rec.blob_size] == '\0');  /* "returned with a NUL after blob_size bytes" */
        FUZZ_ASSERT(rec.blob_version == v.blob_version && rec.fetched_at == v.fetched_at);

        uint8_t *enc = NULL;
        size_t n = 0;
        FUZZ_ASSERT(identity_record_encode(&rec, &enc, &n) == 0);
        FUZZ_ASSERT(n == size && memcmp(enc, data, size) == 0);
        free(enc);
        identity_record_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        token(data, size);
        identity(data, size);
        /* the user ID key as stored: any bytes, checked before use */
        struct identity_record rec = { 0 };
        size_t key = size < STORE_USER_ID_MAX + 2 ? size : STORE_USER_ID_MAX + 2;
        static const uint8_t minimal[] = { IDENTITY_RECORD_VERSION, 0, 0, 0, 1, 0x80, 0, 0, 0, 0, 0, 0, 0,
                                           0, 2, 'a', 0, 0, 0, 0, 0 };
        int r = identity_record_decode(data, key, minimal, sizeof(minimal), &rec);
        if (r == 0) {
                FUZZ_ASSERT(store_user_id_valid((const char *)data, key));
                identity_record_free(&rec);
        } else {
                FUZZ_ASSERT(r == -EBADMSG && !store_user_id_valid((const char *)data, key));
        }
        return 0;
}
