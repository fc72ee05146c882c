/* SPDX-License-Identifier: MIT */
/*
 * Binary encoding of the store's records. Pure functions over byte buffers (no database),
 * so that the secondary-index callbacks can extract keys without allocating and the decoding
 * of untrusted bytes can be tested and fuzzed on its own.
 *
 * Token record, version 1 (all integers big-endian; timestamps stored as int64 XOR 2^63 so
 * that byte order is numeric order and the expiry index can point straight into the record):
 *
 *   u8 version | u64 created | u64 expires | u64 last_used
 *   | u8 len, token ID | u8 len, owner ID | u8 len, owner domain ID | u8 len, owner name
 *   | u16 len, description
 *
 * Identity record, version 1 (the user ID is the database key, not repeated):
 *
 *   u8 version | u32 blob_version | u64 fetched_at | u16 len, name "\0" domain ID | u32 len, blob
 *
 * Decoding checks the version, every length against its bound and the end of the buffer, and
 * refuses NUL bytes inside strings: a corrupt record is -EBADMSG, never a crash.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store.h"

#define TOKEN_RECORD_VERSION            1
#define TOKEN_RECORD_EXPIRES_OFFSET     9
#define TOKEN_RECORD_LAST_USED_OFFSET   17
#define TOKEN_RECORD_SIZE_MAX                                                   \
        (1 + 3 * 8 + 1 + TOKEN_ID_LENGTH + 1 + STORE_USER_ID_MAX +              \
         1 + STORE_DOMAIN_ID_MAX + 1 + STORE_NAME_MAX + 2 + STORE_DESCRIPTION_MAX)

#define IDENTITY_RECORD_VERSION         1
#define IDENTITY_NAME_KEY_MAX           (STORE_NAME_MAX + 1 + STORE_DOMAIN_ID_MAX)

struct record_string {
        const char *p;          /* points into the record; not NUL-terminated */
        size_t n;
};

struct token_record_view {
        int64_t created, expires, last_used;
        struct record_string token_id, owner_id, owner_domain_id, owner_name, description;
};

struct identity_record_view {
        uint32_t blob_version;
        int64_t fetched_at;
        struct record_string name, domain_id;
        struct record_string name_key;          /* name "\0" domain ID: the index key */
        struct record_string blob;
};

/* Encodes rec into buf. -EINVAL if a field is missing or out of bounds. */
int token_record_encode(const struct token_record *rec, uint8_t buf[static TOKEN_RECORD_SIZE_MAX],
                        size_t *ret_size);
/* Parses without copying: the view points into data. -EBADMSG if corrupt. */
int token_record_parse(const void *data, size_t size, struct token_record_view *ret);
/* Parses and copies into a record owned by the caller. -EBADMSG, -ENOMEM. */
int token_record_decode(const void *data, size_t size, struct token_record *ret);

/* Encodes into a malloc()ed buffer (rec->user_id is not part of it). -EINVAL, -ENOMEM. */
int identity_record_encode(const struct identity_record *rec, uint8_t **ret_data,
                           size_t *ret_size);
int identity_record_parse(const void *data, size_t size, struct identity_record_view *ret);
/* user_id is the database key (bytes, not NUL-terminated). -EBADMSG, -ENOMEM. */
int identity_record_decode(const void *user_id, size_t user_id_size, const void *data,
                           size_t size, struct identity_record *ret);

/* Timestamps as stored: big-endian int64 XOR 2^63, so that memcmp() order is numeric order. */
#define STORE_TS_SIZE 8
void store_ts_put(uint8_t p[static STORE_TS_SIZE], int64_t t);
int64_t store_ts_get(const uint8_t p[static STORE_TS_SIZE]);

/* Bounds shared by encoders, decoders and callers checking arguments. */
bool store_user_id_valid(const char *p, size_t n);

static inline void store_be32_put(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}

static inline uint32_t store_be32_get(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}
