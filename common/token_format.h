/* SPDX-License-Identifier: MIT */
/*
 * The KaaS token format, shared by kaasd, the PAM module, the webhook and the client.
 *
 *   kaas_ <40 base62 characters of randomness> <6 base62 characters: CRC32 of the rest>
 *
 * The checksum lets every component reject typos and foreign strings (service-account JWTs,
 * OpenStack tokens) before any lookup; it is not a security feature. A token ID ("tid_" + 22
 * base62 characters) is the public accessor of a token: it names a token for listing and
 * deletion but cannot authenticate.
 *
 * Depends on libsodium only. Never logs, holds no global mutable state, thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_PREFIX                "kaas_"
#define TOKEN_PREFIX_LENGTH         5
#define TOKEN_BODY_LENGTH           40      /* 40 * log2(62) = 238 bits of randomness */
#define TOKEN_CHECKSUM_LENGTH       6       /* 62^6 > 2^32 */
#define TOKEN_LENGTH                (TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH + TOKEN_CHECKSUM_LENGTH)
#define TOKEN_STRING_SIZE           (TOKEN_LENGTH + 1)

#define TOKEN_ID_PREFIX             "tid_"
#define TOKEN_ID_PREFIX_LENGTH      4
#define TOKEN_ID_BODY_LENGTH        22      /* 131 bits: unique without coordination */
#define TOKEN_ID_LENGTH             (TOKEN_ID_PREFIX_LENGTH + TOKEN_ID_BODY_LENGTH)
#define TOKEN_ID_STRING_SIZE        (TOKEN_ID_LENGTH + 1)

/* Digits in value order: "0" is 0, "z" is 61; the checksum is written most significant first. */
#define TOKEN_BASE62_ALPHABET \
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/*
 * Writes a new NUL-terminated token into ret. The result is a secret: the caller wipes it with
 * sodium_memzero() when done. Returns 0, or -EIO if libsodium cannot be initialised.
 */
__attribute__((warn_unused_result, nonnull))
int token_generate(char ret[static TOKEN_STRING_SIZE]);

/*
 * Checks the len bytes at s (no NUL needed) for the token format.
 * Returns 0; -EINVAL for a wrong prefix, length or character; -EBADMSG when the checksum does
 * not match. Reads exactly len bytes; s may be NULL only when len is 0.
 */
__attribute__((warn_unused_result))
int token_check_format(const char *s, size_t len);

/*
 * True when the NUL-terminated s is a token or near enough to give one away: after any leading
 * blanks, the prefix and at least TOKEN_BODY_LENGTH base62 characters, whatever follows (a typo,
 * a character missing or added, "@domain"). A secret typed where a name belongs: callers refuse
 * it instead of logging it or sending it on as a name.
 */
__attribute__((warn_unused_result, nonnull))
bool token_is_token_shaped(const char *s);

/* Writes a new NUL-terminated random token ID into ret. Returns 0 or -EIO. */
__attribute__((warn_unused_result, nonnull))
int token_id_generate(char ret[static TOKEN_ID_STRING_SIZE]);

/* Returns 0 when the len bytes at s are a well-formed token ID, else -EINVAL. */
__attribute__((warn_unused_result))
int token_id_check_format(const char *s, size_t len);

/* CRC-32 as in zlib and Ethernet (reflected polynomial 0xEDB88320); exposed for tests. */
uint32_t token_crc32(const void *data, size_t len);
