/* See credentials.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials.h"
#include "keystone_json.h"
#include "log.h"
#include "proof_cache.h"
#include "ratelimit.h"
#include "secret_file.h"
#include "token_format.h"

_Static_assert(RATELIMIT_KEY_MAX >= sizeof("user:@") + 2 * KS_NAME_MAX, "a throttle key holds any account");

struct check;

struct credential_checker {
        struct keystone *ks;
        struct identity_cache *identities;
        struct token_service *tokens;
        struct ratelimit *rl;
        struct proof_cache *proofs;  /* Keystone tokens accepted lately */
        /* tokens whose session ended, and whose user is known, for the
         * audit line of a revocation tried again later (Keystone was
         * unavailable): never taken as proof */
        struct proof_cache *ended;
        int64_t frozen_clock;  /* > 0: the throttle's clock stands still (tests) */
        struct check *checks;  /* in flight, for cancellation at shutdown */
        struct session_end *ends;  /* revocations in flight, likewise */
        unsigned n_ends;
};

/* How long the user of an ended session's token is kept for a revocation
 * tried again: longer than any front end keeps trying (Keystone's tokens
 * last an hour by default). */
#define ENDED_KEEP_SEC (24 * 3600)

/* Revocations in flight at once: a front end's logouts must never take the
 * Keystone calls token checks need (KS_MAX_IN_FLIGHT in all). */
#define SESSION_ENDS_MAX 64

struct session_end {
        struct credential_checker *cc;
        struct ks_request *ks_req;
        session_end_fn fn;
        void *userdata;
        char user_id[PROOF_CACHE_USER_ID_MAX + 1];
        struct session_end *prev, *next;
};

struct check {
        struct credential_checker *cc;
        credentials_fn fn;
        void *userdata;
        uint64_t request_id;
        const char *method;
        int64_t expires_limit;  /* kaas_token: the presented token's expiry */
        char limit_key[RATELIMIT_KEY_MAX];    /* counts the attempt; empty: not throttled */
        char account_key[RATELIMIT_KEY_MAX];  /* one check at a time per account; may be empty */
        bool limit_begun, account_begun;      /* attempts outstanding in the throttle */
        struct ks_request *ks_req;
        struct identity_waiter *waiter;
        struct token_check *token_check;  /* a kaas_token proof being checked */
        bool keep_token;         /* Authenticate: the outcome carries the Keystone token */
        char *ks_token;          /* that token, wiped once answered */
        char *presented;         /* a keystone_token proof, for the proof cache; wiped once answered */
        int64_t ks_expires;
        bool in_lookup;  /* inside identity_lookup(): it may answer at once */
        bool finished;
        struct check *prev, *next;
};

int credential_checker_new(struct keystone *ks, struct identity_cache *identities, struct token_service *tokens,
                           struct credential_checker **ret) {
        struct credential_checker *cc = calloc(1, sizeof(*cc));
        if (!cc)
                return -ENOMEM;
        const struct ratelimit_params p = {
                .free_failures = 3, .base_delay_sec = 2, .max_delay_sec = 300, .window_sec = 900, .capacity = 4096,
        };
        if (ratelimit_new(&p, &cc->rl) < 0 || proof_cache_new(&cc->proofs) < 0 ||
            proof_cache_new(&cc->ended) < 0) {
                ratelimit_free(cc->rl);
                proof_cache_free(cc->proofs);
                free(cc);
                return -ENOMEM;
        }
        proof_cache_set_ttl(cc->ended, ENDED_KEEP_SEC);
        /* Set by whoever starts kaasd (root), never by a caller: lets a
         * test hold the throttle's delays still however slow the machine. */
        const char *frozen = getenv("KAASD_TEST_THROTTLE_CLOCK");
        if (frozen && *frozen)
                cc->frozen_clock = strtoll(frozen, NULL, 10);
        cc->ks = ks;
        cc->identities = identities;
        cc->tokens = tokens;
        *ret = cc;
        return 0;
}

static void check_unlink(struct check *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                c->cc->checks = c->next;
        if (c->next)
                c->next->prev = c->prev;
}

static int64_t throttle_now(const struct credential_checker *cc) {
        return cc->frozen_clock > 0 ? cc->frozen_clock : (int64_t)time(NULL);
}

/* Ends the check's attempts in the throttle: only a success (Keystone or
 * the store accepted the credentials) releases the attempt's count, and
 * clears the failures of the account it proved. */
static void throttle_end(struct check *c, bool success) {
        if (c->account_begun)
                ratelimit_end(c->cc->rl, c->account_key, success, true);
        if (c->limit_begun)
                ratelimit_end(c->cc->rl, c->limit_key, success, strcmp(c->limit_key, c->account_key) == 0);
        c->account_begun = c->limit_begun = false;
}

/* Starts the check's attempts in the throttle: 0, or -EBUSY with
 * *ret_wait when the account or the caller has a check outstanding or is
 * blocked. */
static int throttle_begin(struct check *c, unsigned *ret_wait) {
        int64_t now = throttle_now(c->cc);
        int r = 0;
        bool same = strcmp(c->limit_key, c->account_key) == 0;
        if (c->account_key[0] && !same) {
                r = ratelimit_begin(c->cc->rl, c->account_key, now, RATELIMIT_EXCLUSIVE, ret_wait);
                c->account_begun = r == 0;
        }
        if (r == 0 && c->limit_key[0]) {
                /* passwords one at a time; token proofs may overlap, each
                 * counted from its start */
                unsigned flags = RATELIMIT_COUNT | (c->account_key[0] ? RATELIMIT_EXCLUSIVE : 0);
                r = ratelimit_begin(c->cc->rl, c->limit_key, now, flags, ret_wait);
                c->limit_begun = r == 0;
        }
        if (r < 0) {
                throttle_end(c, false);
                return -EBUSY;
        }
        return 0;
}

/* Answers once; frees unless identity_lookup() is still on the stack. */
static void finish(struct check *c, int status, unsigned retry_after, const char *error, const struct identity *id) {
        struct credential_outcome o = {
                .status = status, .retry_after = retry_after, .error = error, .method = c->method, .id = id,
                .expires_limit = c->expires_limit,
                .keystone_token = status == 0 ? c->ks_token : NULL,
                .keystone_expires = status == 0 ? c->ks_expires : 0,
        };
        throttle_end(c, false);  /* still outstanding: it did not succeed */
        check_unlink(c);
        c->finished = true;
        c->fn(&o, c->userdata);
        secret_free(c->ks_token);
        c->ks_token = NULL;
        secret_free(c->presented);
        c->presented = NULL;
        if (!c->in_lookup)
                free(c);
}

/* ------------------------------------------------------------ ending a session */

static void session_end_unlink(struct session_end *e) {
        struct credential_checker *cc = e->cc;
        cc->n_ends--;
        if (e->prev)
                e->prev->next = e->next;
        else
                cc->ends = e->next;
        if (e->next)
                e->next->prev = e->prev;
}

static void session_end_done(struct session_end *e, int status, const char *error) {
        session_end_unlink(e);
        e->fn(status, e->user_id, error, e->userdata);
        free(e);
}

static void on_revoked(const struct ks_result *res, void *userdata) {
        struct session_end *e = userdata;
        e->ks_req = NULL;
        session_end_done(e, res->status, res->error);
}

int credentials_end_session(struct credential_checker *cc, const char *keystone_token, session_end_fn fn,
                            void *userdata) {
        size_t len = strlen(keystone_token);
        struct session_end *e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        /* forgotten first: whatever Keystone answers, this kaasd takes the
         * token as proof no more; its user is kept aside, so that a
         * revocation tried again after this one failed names them too */
        if (proof_cache_forget(cc->proofs, keystone_token, len, e->user_id) < 0)
                (void)proof_cache_forget(cc->ended, keystone_token, len, e->user_id);
        if (e->user_id[0]) {
                int64_t now = (int64_t)time(NULL);
                proof_cache_put(cc->ended, keystone_token, len, e->user_id, now, now + ENDED_KEEP_SEC);
        }
        if (!cc->ks || cc->n_ends >= SESSION_ENDS_MAX) {
                free(e);
                return cc->ks ? -EBUSY : -ENXIO;
        }
        e->cc = cc;
        cc->n_ends++;
        e->fn = fn;
        e->userdata = userdata;
        e->next = cc->ends;
        if (cc->ends)
                cc->ends->prev = e;
        cc->ends = e;
        int r = keystone_revoke_token(cc->ks, keystone_token, on_revoked, e, &e->ks_req);
        if (r < 0) {
                session_end_unlink(e);
                free(e);
        }
        return r;
}

struct credential_checker *credential_checker_free(struct credential_checker *cc) {
        if (!cc)
                return NULL;
        while (cc->checks) {
                struct check *c = cc->checks;
                keystone_cancel(c->ks_req);
                identity_lookup_cancel(c->waiter);
                token_check_cancel(c->token_check);
                c->token_check = NULL;
                finish(c, -ECANCELED, 0, "kaasd is shutting down", NULL);
        }
        while (cc->ends) {
                struct session_end *e = cc->ends;
                keystone_cancel(e->ks_req);
                e->ks_req = NULL;
                session_end_done(e, -ECANCELED, "kaasd is shutting down");
        }
        ratelimit_free(cc->rl);
        proof_cache_free(cc->proofs);
        proof_cache_free(cc->ended);
        free(cc);
        return NULL;
}

void credential_checker_set_proof_ttl(struct credential_checker *cc, unsigned ttl_sec) {
        proof_cache_set_ttl(cc->proofs, ttl_sec);
}

uint64_t credential_checker_throttled(const struct credential_checker *cc) {
        return ratelimit_refused(cc->rl);
}

static void on_identity(int status, const struct identity *id, enum identity_source source, const char *error,
                        void *userdata) {
        struct check *c = userdata;
        c->waiter = NULL;
        if (status == -ENOENT)
                return finish(c, -EACCES, 0, "the user no longer exists in Keystone", NULL);
        if (status < 0)
                return finish(c, -EHOSTUNREACH, 0, error ? error : "identity service unavailable", NULL);
        if (!id->enabled)
                return finish(c, -EPERM, 0, "the user is disabled in Keystone", id);
        finish(c, 0, 0, NULL, id);
}

static void lookup_identity(struct check *c, const char *user_id) {
        struct identity_query q = { .user_id = user_id };
        c->in_lookup = true;
        int r = identity_lookup(c->cc->identities, &q, c->request_id, on_identity, c, &c->waiter);
        c->in_lookup = false;
        if (c->finished) {
                free(c);
                return;
        }
        if (r < 0)
                finish(c, -EHOSTUNREACH, 0, "identity lookup failed", NULL);
}

/* Why a valid Keystone token cannot prove its user's identity, or NULL.
 * A delegated token carries only part of the user's rights (one project,
 * some roles, a trustee acting for the trustor); a KaaS token would carry
 * all of them for a year. Keystone itself refuses to exchange such tokens
 * for new ones. */
static const char *keystone_token_refusal(const struct ks_token_info *t) {
        switch (t->delegation) {
        case KS_DELEGATION_APPLICATION_CREDENTIAL:
                return "application credential tokens cannot prove an identity for a KaaS token";
        case KS_DELEGATION_TRUST:
                return "trust-scoped (OS-TRUST) tokens cannot prove an identity for a KaaS token";
        case KS_DELEGATION_OAUTH1:
                return "OAuth1 (OS-OAUTH1) tokens cannot prove an identity for a KaaS token";
        case KS_DELEGATION_NONE:
                break;
        }
        if (t->methods & KS_METHOD_APPLICATION_CREDENTIAL)
                return "application credential tokens cannot prove an identity for a KaaS token";
        if (t->methods & KS_METHOD_OAUTH1)
                return "OAuth1 tokens cannot prove an identity for a KaaS token";
        const unsigned primary = KS_METHOD_PASSWORD | KS_METHOD_TOTP | KS_METHOD_EXTERNAL | KS_METHOD_FEDERATED;
        if (!(t->methods & primary) || (t->methods & ~(primary | KS_METHOD_TOKEN)))
                return "only Keystone tokens from the user's own password, TOTP, external or federated "
                       "authentication can prove an identity for a KaaS token";
        return NULL;
}

static void on_keystone(const struct ks_result *res, void *userdata) {
        struct check *c = userdata;
        c->ks_req = NULL;
        if (res->status == 0 && res->user && res->kind == KS_REQ_TOKEN_CHECK) {
                const char *why = res->token ? keystone_token_refusal(res->token)
                                             : "Keystone did not say how the token was obtained";
                if (why) {
                        throttle_end(c, true);  /* a genuine token: nothing to throttle */
                        return finish(c, -ENOTSUP, 0, why, NULL);
                }
        }
        /* an accepted proof: the same token is taken again for a while
         * without asking Keystone */
        if (res->status == 0 && res->user && res->kind == KS_REQ_TOKEN_CHECK && c->presented)
                proof_cache_put(c->cc->proofs, c->presented, strlen(c->presented), res->user->id, (int64_t)time(NULL),
                                res->expires_at);
        if (res->status == 0 && res->user && c->keep_token) {
                if (!res->issued_token || !(c->ks_token = strdup(res->issued_token)))
                        return finish(c, -EHOSTUNREACH, 0, "Keystone issued no token for the password", NULL);
                c->ks_expires = res->expires_at;
                /* the token just issued is as good a proof as one Keystone
                 * just accepted: its first use skips a Keystone call, and
                 * Unauthenticate can name its user */
                proof_cache_put(c->cc->proofs, c->ks_token, strlen(c->ks_token), res->user->id, (int64_t)time(NULL),
                                res->expires_at);
        }
        if (res->status == 0 && res->user) {
                throttle_end(c, true);  /* the name's owner got in */
                return lookup_identity(c, res->user->id);
        }
        /* the attempt stays counted, whether Keystone said no or could not
         * answer: an attacker must not guess for free while it is down */
        if (keystone_error_is_unavailable(res->status) || res->status == -EKEYREJECTED)
                return finish(c, -EHOSTUNREACH, 0, res->error ? res->error : "identity service unavailable", NULL);
        finish(c, -EACCES, 0, c->method[0] == 'p' ? "wrong user name, domain or password" : "Keystone token not accepted",
               NULL);
}

static void on_kaas_token(enum token_verdict v, const uint8_t *hash, const struct token_record *rec,
                          const struct identity *id, const char *error, void *userdata) {
        struct check *c = userdata;
        c->token_check = NULL;
        switch (v) {
        case TOKEN_OK:
                c->expires_limit = rec->expires;
                throttle_end(c, true);
                return finish(c, 0, 0, NULL, id);
        case TOKEN_UNAVAILABLE:
                return finish(c, -EHOSTUNREACH, 0, error, NULL);
        case TOKEN_USER_DISABLED:
                throttle_end(c, true);  /* a genuine token */
                return finish(c, -EPERM, 0, error, id);
        case TOKEN_USER_REFUSED:
                throttle_end(c, true);
                return finish(c, -EKEYREJECTED, 0, error, id);
        case TOKEN_FAILED:
                return finish(c, -EIO, 0, error, NULL);
        default:
                return finish(c, -EACCES, 0, "KaaS token not accepted", NULL);
        }
}

static const char *opt_string(json_t *cred, const char *key) {
        json_t *v = json_object_get(cred, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static int verify(struct credential_checker *cc, json_t *credentials, const struct peer *peer, unsigned flags,
                  bool keep_token, uint64_t request_id, credentials_fn fn, void *userdata) {
        struct check *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->cc = cc;
        c->fn = fn;
        c->userdata = userdata;
        c->request_id = request_id;
        c->method = "none";
        c->keep_token = keep_token;
        c->next = cc->checks;
        if (cc->checks)
                cc->checks->prev = c;
        cc->checks = c;

        const char *user = opt_string(credentials, "user"), *password = opt_string(credentials, "password"),
                   *domain = opt_string(credentials, "domain"), *ks_token = opt_string(credentials, "keystone_token"),
                   *kaas_token = opt_string(credentials, "kaas_token");
        int kinds = (user || password) + !!ks_token + !!kaas_token;
        if (!credentials || kinds != 1) {
                finish(c, -EINVAL, 0, "give exactly one of: user and password, keystone_token, kaas_token", NULL);
                return 0;
        }
        if (keep_token && !user && !password) {
                finish(c, -EINVAL, 0, "Authenticate takes a user name and password only", NULL);
                return 0;
        }
        if ((user || password) && (!user || !password || !*user)) {
                finish(c, -EINVAL, 0, "a password needs a user name, and a user name a password", NULL);
                return 0;
        }
        /* a KaaS token typed as the user name would go to Keystone, which
         * logs the names it does not know */
        if (user && token_is_token_shaped(user)) {
                finish(c, -EINVAL, 0, "the user name is a KaaS token: give the OpenStack user name", NULL);
                return 0;
        }
        /* Who is slowed down: a local user is throttled as a whole (his
         * uid), so guessing from one account never locks anyone else out.
         * Root's calls come from services that act for many people (a web
         * front end): there the attempts against one OpenStack user name
         * are throttled instead. Either way one password check at a time
         * runs per OpenStack user name, and one per local uid other than
         * root's, so guesses cannot be put in flight faster than Keystone
         * answers them. A member of frontend_group (kaas-panel) is such a
         * service too. */
        const bool service = peer->uid == 0 || (flags & CREDENTIALS_FRONTEND);
        if (!service)
                snprintf(c->limit_key, sizeof(c->limit_key), "uid:%u", (unsigned)peer->uid);
        if (user) {
                c->method = "password";
                snprintf(c->account_key, sizeof(c->account_key), "user:%s@%s", user, domain ? domain : "Default");
                if (service)
                        memcpy(c->limit_key, c->account_key, sizeof(c->limit_key));
        } else {
                c->method = ks_token ? "keystone_token" : "kaas_token";
        }
        unsigned wait = 0;
        if (throttle_begin(c, &wait) < 0) {
                finish(c, -EBUSY, wait, "too many failed attempts, or another attempt in progress", NULL);
                return 0;
        }
        if (kaas_token) {
                if (token_service_check(cc->tokens, kaas_token, strlen(kaas_token), request_id, on_kaas_token, c,
                                        &c->token_check) < 0)
                        finish(c, -ENOMEM, 0, "out of memory", NULL);
                return 0;
        }
        if (ks_token) {
                char user_id[PROOF_CACHE_USER_ID_MAX + 1];
                if (proof_cache_get(cc->proofs, ks_token, strlen(ks_token), (int64_t)time(NULL), user_id) == 0) {
                        throttle_end(c, true);  /* accepted lately: a success */
                        lookup_identity(c, user_id);
                        return 0;
                }
                if (!(c->presented = strdup(ks_token))) {
                        finish(c, -ENOMEM, 0, "out of memory", NULL);
                        return 0;
                }
        }
        if (!cc->ks) {
                finish(c, -EHOSTUNREACH, 0, "no Keystone is configured", NULL);
                return 0;
        }
        int r = user && keep_token ? keystone_password_token(cc->ks, user, domain ? domain : "Default", password,
                                                             on_keystone, c, &c->ks_req)
                : user ? keystone_check_password(cc->ks, user, domain ? domain : "Default", false, password,
                                                 on_keystone, c, &c->ks_req)
                       : keystone_check_token(cc->ks, ks_token, on_keystone, c, &c->ks_req);
        if (r == -EINVAL)
                finish(c, -EACCES, 0, "credentials Keystone cannot take", NULL);
        else if (r < 0)
                finish(c, -EHOSTUNREACH, 0, r == -EBUSY ? "too many Keystone calls in flight" : "out of memory", NULL);
        return 0;
}

int credentials_verify(struct credential_checker *cc, json_t *credentials, const struct peer *peer,
                       unsigned flags, uint64_t request_id, credentials_fn fn, void *userdata) {
        return verify(cc, credentials, peer, flags, false, request_id, fn, userdata);
}

int credentials_authenticate(struct credential_checker *cc, json_t *credentials, const struct peer *peer,
                             unsigned flags, uint64_t request_id, credentials_fn fn, void *userdata) {
        return verify(cc, credentials, peer, flags, true, request_id, fn, userdata);
}
