/* The KaaS token service: the hashing key, checking a presented token down
 * to its owner's current identity, and recording last use lazily. Shared
 * by io.kaas.Token (Validate, and KaaS tokens given as credentials) — the
 * varlink handlers live in iface_token.c.
 *
 * Checking a token never touches Keystone while the owner's identity is
 * fresh in the cache, and never waits on a disk write: last-used times are
 * gathered in memory (at most one per token per minute) and written by a
 * timer after the reply has gone. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "config_file.h"
#include "identity.h"
#include "loop.h"
#include "store.h"
#include "token_key.h"

enum token_verdict {
        TOKEN_OK,
        TOKEN_INVALID,        /* format, checksum, unknown or deleted */
        TOKEN_EXPIRED,
        TOKEN_USER_DISABLED,  /* disabled or deleted in Keystone */
        TOKEN_USER_REFUSED,   /* a name Kubernetes reserves ("system:") */
        TOKEN_UNAVAILABLE,    /* Keystone unreachable and nothing usable cached */
        TOKEN_FAILED,         /* kaasd itself failed (store error) */
};

const char *token_verdict_name(enum token_verdict v);

struct token_service;

struct token_stats {
        uint64_t created;
        uint64_t deleted;
        uint64_t validations;
        uint64_t store_lookups;
        uint64_t rejected[TOKEN_FAILED + 1];  /* by verdict */
        uint64_t touches_written;
};

/* Loads (or on first start creates) the key at key_path; refuses to start
 * without it when the store already holds tokens. */
int token_service_new(struct loop *loop, struct store *store, struct identity_cache *identities,
                      const char *key_path, struct token_service **ret, char *err, size_t err_size);
/* Writes pending last-used times, wipes the key, frees. Accepts NULL. */
struct token_service *token_service_free(struct token_service *ts);

int token_service_hash(const struct token_service *ts, const char *token, size_t len,
                       uint8_t ret[static TOKEN_HASH_SIZE]);
const struct token_stats *token_service_stats(const struct token_service *ts);
struct token_stats *token_service_stats_mut(struct token_service *ts);

/* rec and id are valid during the call only; on TOKEN_OK both are set, on
 * TOKEN_EXPIRED/USER_* rec is set; error says why for logs. */
typedef void (*token_check_fn)(enum token_verdict verdict, const uint8_t *hash,
                               const struct token_record *rec, const struct identity *id,
                               const char *error, void *userdata);

struct token_check;

/* Checks token (len bytes, not NUL-terminated necessarily), answering
 * through fn now or later. Returns a negative errno only when fn will not
 * be called (out of memory). *ret_check (when ret_check is not NULL) is
 * set to NULL before fn can run and, when the answer comes later, to the
 * check, which token_check_cancel() can then stop until fn has run.
 * token_service_free() answers the checks still waiting (unavailable). */
int token_service_check(struct token_service *ts, const char *token, size_t len, uint64_t request_id,
                        token_check_fn fn, void *userdata, struct token_check **ret_check);
/* fn of c will not run; c may be NULL. */
void token_check_cancel(struct token_check *c);

/* A replicated store may not be fit to answer (not loaded yet, or out of
 * touch for too long): gate returns < 0 with a reason, and checks then end
 * as TOKEN_UNAVAILABLE before any lookup. NULL removes it. */
typedef int (*token_gate_fn)(void *userdata, const char **ret_reason);
void token_service_set_gate(struct token_service *ts, token_gate_fn gate, void *userdata);
/* Called for each last use written to the local store (in batches, from
 * the flush timer or when the table of recent uses is full), never with
 * I/O of its own on the validation path; NULL: none. */
typedef void (*token_touch_fn)(void *userdata, const uint8_t hash[TOKEN_HASH_SIZE], int64_t last_used);
void token_service_set_touch_hook(struct token_service *ts, token_touch_fn fn, void *userdata);

/* Notes a use of the token with this hash; written out later. */
void token_service_note_use(struct token_service *ts, const uint8_t hash[static TOKEN_HASH_SIZE], int64_t now);

/* The Kubernetes view of an identity (io.kaas.Token.Identity). */
json_t *token_kube_identity(const struct identity *id);
/* io.kaas.Token.TokenInfo of a stored record; never a hash. */
json_t *token_info_json(const struct token_record *rec);
