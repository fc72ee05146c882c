/* SPDX-License-Identifier: MIT */
/*
 * The secret key under which kaasd stores tokens: the store holds only
 * BLAKE2b-256(key, token), so a copy of the database alone does not allow checking guessed
 * tokens offline. The key lives in its own 0600 file, never in the database, and is created on
 * first start.
 *
 * Depends on libsodium and POSIX file I/O. Never logs: functions return a negative errno and
 * token_key_strerror() says what it means for an operator.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOKEN_KEY_SIZE  32
#define TOKEN_HASH_SIZE 32

struct token_key {
        uint8_t bytes[TOKEN_KEY_SIZE];
        bool loaded;
};

/*
 * Loads the key file at path into ret, creating it when it is missing and store_has_tokens is
 * false (mode 0600, written to a temporary file and linked into place, file and directory
 * fsynced, so a crash never leaves a partial key behind).
 *
 * Returns 0, or:
 *   -ENOKEY   the file is missing but the store holds tokens: a new key would silently
 *             invalidate every token, so the operator must restore the old key file
 *   -EPERM    the file is readable or writable by group or other, or not owned by us
 *   -EBADMSG  the file is not exactly TOKEN_KEY_SIZE bytes
 *   -EISDIR, -ELOOP, -EBADFD   the path is a directory, a symlink, or another non-regular file
 *   other negative errno from open/read/write/fsync/link (e.g. -EACCES, -ENOENT for a missing
 *   directory, -EROFS)
 * ret is untouched on failure. Call token_key_clear() when done.
 */
__attribute__((warn_unused_result, nonnull))
int token_key_load(const char *path, bool store_has_tokens, struct token_key *ret);

/* Wipes the key. Accepts NULL and an unloaded key. */
void token_key_clear(struct token_key *key);

/*
 * ret = keyed BLAKE2b-256 of the len bytes of token. Returns 0, or -EINVAL if the key is not
 * loaded.
 */
__attribute__((warn_unused_result, nonnull))
int token_key_hash(const struct token_key *key, const char *token, size_t len,
                   uint8_t ret[static TOKEN_HASH_SIZE]);

/* An operator-facing explanation of an error returned by token_key_load(). Never NULL. */
const char *token_key_strerror(int r);
