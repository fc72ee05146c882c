/* SPDX-License-Identifier: MIT */
/*
 * KaaS token and token ID generation and format checks (see token_format.h).
 * Depends on libsodium only; no logging and no global mutable state, so it can live in the PAM
 * and NSS modules as well as in the daemon.
 */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <sodium.h>

#include "token_format.h"

/* Largest multiple of 62 that fits a byte: bytes at or above it are rejected, so every base62
 * digit is equally likely (plain "byte % 62" would favour the first 8 digits). */
#define BASE62_REJECT_FROM (62 * (256 / 62))

static int base62_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'A' && c <= 'Z')
                return c - 'A' + 10;
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 36;
        return -1;
}

static int random_base62(char *ret, size_t n) {
        uint8_t pool[64];
        size_t avail = 0, pos = 0;

        if (sodium_init() < 0)
                return -EIO;

        for (size_t i = 0; i < n;) {
                if (pos == avail) {
                        randombytes_buf(pool, sizeof(pool));
                        avail = sizeof(pool);
                        pos = 0;
                }
                uint8_t b = pool[pos++];
                if (b >= BASE62_REJECT_FROM)
                        continue;
                ret[i++] = TOKEN_BASE62_ALPHABET[b % 62];
        }
        sodium_memzero(pool, sizeof(pool));
        return 0;
}

uint32_t token_crc32(const void *data, size_t len) {
        const uint8_t *p = data;
        uint32_t crc = UINT32_C(0xFFFFFFFF);

        for (size_t i = 0; i < len; i++) {
                crc ^= p[i];
                for (int bit = 0; bit < 8; bit++)
                        crc = (crc >> 1) ^ (UINT32_C(0xEDB88320) & -(crc & 1));
        }
        return ~crc;
}

static void checksum_encode(uint32_t crc, char ret[static TOKEN_CHECKSUM_LENGTH]) {
        for (int i = TOKEN_CHECKSUM_LENGTH - 1; i >= 0; i--) {
                ret[i] = TOKEN_BASE62_ALPHABET[crc % 62];
                crc /= 62;
        }
}

int token_generate(char ret[static TOKEN_STRING_SIZE]) {
        char t[TOKEN_STRING_SIZE];
        int r;

        memcpy(t, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH);
        r = random_base62(t + TOKEN_PREFIX_LENGTH, TOKEN_BODY_LENGTH);
        if (r < 0)
                return r;
        checksum_encode(token_crc32(t, TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH),
                        t + TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH);
        t[TOKEN_LENGTH] = '\0';

        memcpy(ret, t, sizeof(t));
        sodium_memzero(t, sizeof(t));
        return 0;
}

static bool all_base62(const char *s, size_t len) {
        for (size_t i = 0; i < len; i++)
                if (base62_value(s[i]) < 0)
                        return false;
        return true;
}

int token_check_format(const char *s, size_t len) {
        const char *body, *checksum;
        uint64_t value = 0;

        if (len != TOKEN_LENGTH || !s)
                return -EINVAL;
        if (memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) != 0)
                return -EINVAL;

        body = s + TOKEN_PREFIX_LENGTH;
        checksum = body + TOKEN_BODY_LENGTH;
        if (!all_base62(body, TOKEN_BODY_LENGTH + TOKEN_CHECKSUM_LENGTH))
                return -EINVAL;

        for (size_t i = 0; i < TOKEN_CHECKSUM_LENGTH; i++)
                value = value * 62 + (uint64_t) base62_value(checksum[i]);

        /* A value above 32 bits is well-formed base62 that no CRC32 produces: a typo. */
        if (value != token_crc32(s, TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH))
                return -EBADMSG;
        return 0;
}

bool token_is_token_shaped(const char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        if (strncmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) != 0)
                return false;
        s += TOKEN_PREFIX_LENGTH;
        size_t n = 0;
        while (n < TOKEN_BODY_LENGTH && s[n] && base62_value(s[n]) >= 0)
                n++;
        return n == TOKEN_BODY_LENGTH;
}

int token_id_generate(char ret[static TOKEN_ID_STRING_SIZE]) {
        char t[TOKEN_ID_STRING_SIZE];
        int r;

        memcpy(t, TOKEN_ID_PREFIX, TOKEN_ID_PREFIX_LENGTH);
        r = random_base62(t + TOKEN_ID_PREFIX_LENGTH, TOKEN_ID_BODY_LENGTH);
        if (r < 0)
                return r;
        t[TOKEN_ID_LENGTH] = '\0';
        memcpy(ret, t, sizeof(t));
        return 0;
}

int token_id_check_format(const char *s, size_t len) {
        if (len != TOKEN_ID_LENGTH || !s)
                return -EINVAL;
        if (memcmp(s, TOKEN_ID_PREFIX, TOKEN_ID_PREFIX_LENGTH) != 0)
                return -EINVAL;
        if (!all_base62(s + TOKEN_ID_PREFIX_LENGTH, TOKEN_ID_BODY_LENGTH))
                return -EINVAL;
        return 0;
}
