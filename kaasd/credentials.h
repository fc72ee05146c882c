/* Proof of an OpenStack identity, for io.kaas.Token Create, List, Delete
 * and RevokeUser: a user name and password (checked by Keystone), a
 * Keystone token (checked by Keystone), or an existing KaaS token of the
 * user (checked locally). Each ends in the user's current identity from
 * the cache, so a disabled user cannot authenticate with any of them.
 *
 * A Keystone token proves an identity only when it comes from the user's
 * own authentication (password, TOTP, external, federated): tokens of
 * application credentials, trusts and OAuth1 consumers carry a part of
 * the user's rights and are refused (-ENOTSUP). A KaaS token proves the
 * identity only until it expires itself (expires_limit).
 *
 * Password and token checks are throttled (ratelimit.h): per local uid
 * for ordinary users, per OpenStack user name for root's calls (which come
 * from services acting for many people). Each attempt counts from its
 * start and only its success releases it; one password check at a time
 * runs per OpenStack user name and per uid other than root's. A throttled
 * attempt is refused at once with a retry time and never reaches
 * Keystone. Members of kaasd's frontend_group (kaas-panel, which acts for
 * many people as root's services do) are throttled per OpenStack user
 * name as root is (CREDENTIALS_FRONTEND). */
#pragma once

#include <jansson.h>
#include <stdint.h>

#include "identity.h"
#include "keystone.h"
#include "peer.h"
#include "tokens.h"

struct credential_checker;

struct credential_outcome {
        /* 0; -EINVAL malformed credentials; -EACCES not accepted;
         * -EPERM user disabled; -EKEYREJECTED user refused (a name
         * Kubernetes reserves); -EBUSY throttled (retry_after);
         * -ENOTSUP a genuine credential that cannot prove an identity (a
         * delegated Keystone token); -EHOSTUNREACH identity service
         * unavailable; -ECANCELED shutdown */
        int status;
        unsigned retry_after;
        /* kaas_token: the presented token's expiry, which nothing it
         * proves may outlive; 0 for the other kinds */
        int64_t expires_limit;
        const char *error;          /* for the caller and the log; no secrets */
        const char *method;         /* "password", "keystone_token", "kaas_token" */
        const struct identity *id;  /* status 0 (and -EPERM, -EKEYREJECTED when known) */
        /* credentials_authenticate() with status 0: the unscoped Keystone
         * token of the password authentication, a secret valid during
         * the callback only (wiped after it), and its expiry */
        const char *keystone_token;
        int64_t keystone_expires;
};

typedef void (*credentials_fn)(const struct credential_outcome *outcome, void *userdata);

int credential_checker_new(struct keystone *ks, struct identity_cache *identities, struct token_service *tokens,
                           struct credential_checker **ret);
/* Ends every check in flight with -ECANCELED, then frees. Accepts NULL. */
struct credential_checker *credential_checker_free(struct credential_checker *cc);

/* Checks credentials (an io.kaas.Token.Credentials object) presented by
 * peer. Answers through fn, now or later; returns a negative errno only
 * when fn will not be called. */
#define CREDENTIALS_FRONTEND (1u << 0)  /* the peer is in frontend_group: throttle per account */

int credentials_verify(struct credential_checker *cc, json_t *credentials, const struct peer *peer,
                       unsigned flags, uint64_t request_id, credentials_fn fn, void *userdata);

/* The same for io.kaas.Token.Authenticate: user and password only (else
 * -EINVAL through fn), and the outcome carries the Keystone token the
 * password authentication issued. */
int credentials_authenticate(struct credential_checker *cc, json_t *credentials, const struct peer *peer,
                             unsigned flags, uint64_t request_id, credentials_fn fn, void *userdata);

/* io.kaas.Token.Unauthenticate: the end of a session Authenticate began.
 * The Keystone token is forgotten as a proof at once, then revoked in
 * Keystone with itself as authentication. fn gets 0 (revoked), -ENOENT
 * (Keystone no longer took it: nothing left to revoke), -EACCES (Keystone
 * refused), -ECANCELED (shutdown) or an unavailable-class error, with
 * the user ID the proof cache knew for the token ("" if none), or that an
 * earlier Unauthenticate of the same token knew (a front end trying again
 * after Keystone was unavailable: kept aside for a day, never taken as
 * proof). Returns a
 * negative errno only when fn will not be called: -EINVAL a malformed
 * token, -ENXIO no Keystone configured, -EBUSY 64 revocations or too many
 * Keystone calls in flight. */
typedef void (*session_end_fn)(int status, const char *user_id, const char *error, void *userdata);
int credentials_end_session(struct credential_checker *cc, const char *keystone_token, session_end_fn fn,
                            void *userdata) __attribute__((warn_unused_result, nonnull(1, 2, 3)));

uint64_t credential_checker_throttled(const struct credential_checker *cc);

/* How long a Keystone token accepted as proof is taken again without
 * asking Keystone (proof_cache.h; [keystone] proof_cache_ttl, 0: never). */
void credential_checker_set_proof_ttl(struct credential_checker *cc, unsigned ttl_sec);
