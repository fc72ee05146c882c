/* Keystone tokens that kaasd has verified as proof of an identity, or
 * has just obtained for a password (credentials.c), remembered for a
 * short while so that a front end presenting the same session proof on
 * every call (kaas-panel) costs Keystone one validation per ttl, not one
 * per page.
 *
 * An entry is keyed by BLAKE2b of the token under a random key made when
 * kaasd starts: the table holds no token and nothing that tests a guess
 * without that key. It holds the user ID the token proved, until the
 * earlier of ttl after the check (or the issue) and the token's own
 * expiry. Only accepted proofs are kept; a refused token is asked of
 * Keystone again every time (and throttled as before). Fixed size: 1024
 * sets of 4 entries; an insert into a full set evicts its oldest entry;
 * evicted entries are wiped. Used from kaasd's loop thread only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define PROOF_CACHE_USER_ID_MAX 64

struct proof_cache;

int proof_cache_new(struct proof_cache **ret) __attribute__((warn_unused_result, nonnull));
/* Wipes every entry and the key. Accepts NULL; returns NULL. */
struct proof_cache *proof_cache_free(struct proof_cache *pc);

/* 0 disables the cache (and forgets every entry); changes apply to new
 * entries, and bound old ones from now on. */
void proof_cache_set_ttl(struct proof_cache *pc, unsigned ttl_sec) __attribute__((nonnull));

/* The user ID token (len bytes) proved, still valid at now: 0 with it in
 * ret_user_id (PROOF_CACHE_USER_ID_MAX + 1 bytes), or -ENOENT. */
int proof_cache_get(struct proof_cache *pc, const char *token, size_t len, int64_t now, char *ret_user_id)
        __attribute__((nonnull));

/* Forgets token (a session ended): 0 with the user ID it proved in
 * ret_user_id (PROOF_CACHE_USER_ID_MAX + 1 bytes, may be NULL), or
 * -ENOENT when it was not remembered. */
int proof_cache_forget(struct proof_cache *pc, const char *token, size_t len, char *ret_user_id)
        __attribute__((nonnull(1, 2)));

/* Remembers that token proved user_id at now, until the earlier of now +
 * ttl and token_expires. Nothing is kept when the cache is disabled, the
 * token already expired or the user ID is too long. */
void proof_cache_put(struct proof_cache *pc, const char *token, size_t len, const char *user_id, int64_t now,
                     int64_t token_expires) __attribute__((nonnull));
