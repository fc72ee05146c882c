/* The Keystone v3 client: asynchronous HTTP(S) calls through libcurl's
 * multi interface, driven by kaasd's event loop, so a slow or stalled
 * Keystone never stalls other requests (DESIGN §7).
 *
 * kaasd authenticates with a service account (user, domain, password read
 * from a 0600 file) and keeps a system-scoped token, renewed at 80% of its
 * life and after a 401 (the failed call is retried once with the new one).
 * Password and token checks of users need no service token; user, role
 * and domain lookups do.
 *
 * Every call completes through its callback exactly once, from the event
 * loop and never before the call that started it returned, unless it is
 * cancelled first: keystone_cancel() guarantees the callback will not run.
 * The result is valid during the callback only; the callback may move the
 * contents of result->assignments out (leaving it zeroed).
 *
 * Errors (result.status):
 *   -EACCES        Keystone says no: wrong password, invalid token (401)
 *   -ENOENT        no such user / domain / token (404, or an empty listing;
 *                  the role listing of an unknown user ID is a 404 too)
 *   -EHOSTUNREACH  Keystone unreachable: connect failure, TLS failure
 *   -ETIMEDOUT     no answer within the timeout
 *   -EPROTO        an unexpected HTTP status (5xx and the like)
 *   -EBADMSG       a reply that does not have the expected shape
 *   -EMSGSIZE      a reply over max_response_size
 *   -EKEYREJECTED  our service account is refused (bad password, locked,
 *                  missing role): an operator must act
 *   -ENOTCONN      no Keystone is configured
 * keystone_error_is_unavailable() tells the ones that mean "Keystone cannot
 * answer now" from the ones where it answered. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config_file.h"
#include "keystone_json.h"
#include "loop.h"

struct keystone;
struct ks_request;

enum ks_kind {
        KS_REQ_SERVICE_AUTH,    /* POST /v3/auth/tokens for our own token */
        KS_REQ_PASSWORD,        /* POST /v3/auth/tokens for a user's password */
        KS_REQ_TOKEN_CHECK,     /* GET /v3/auth/tokens */
        KS_REQ_USER,            /* GET /v3/users/{id} */
        KS_REQ_USER_BY_NAME,    /* GET /v3/users?name=&domain_id= */
        KS_REQ_ROLES,           /* GET /v3/role_assignments?user.id=... */
        KS_REQ_DOMAIN,          /* GET /v3/domains/{id} */
        KS_REQ_DOMAIN_BY_NAME,  /* GET /v3/domains?name= */
        KS_REQ_TOKEN_REVOKE,    /* DELETE /v3/auth/tokens: a user's token, by itself */
        KS_REQ_KIND_MAX,
};

const char *keystone_kind_name(enum ks_kind kind);

struct ks_result {
        enum ks_kind kind;
        int status;             /* 0 or a negative errno, see above */
        const char *error;      /* for logs when status < 0: what failed, no secrets */
        long http_status;       /* 0 when no HTTP answer arrived */
        uint64_t elapsed_usec;
        /* one of these, by kind, when status == 0 */
        const struct ks_user *user;               /* USER, USER_BY_NAME, PASSWORD, TOKEN_CHECK */
        struct ks_assignments *assignments;       /* ROLES */
        const struct ks_domain *domain;           /* DOMAIN, DOMAIN_BY_NAME */
        int64_t expires_at;                       /* PASSWORD, TOKEN_CHECK: the token's */
        const struct ks_token_info *token;        /* PASSWORD, TOKEN_CHECK: how it was obtained */
        const char *issued_token;                 /* PASSWORD of keystone_password_token(): a secret */
};

typedef void (*keystone_done_fn)(const struct ks_result *result, void *userdata);

struct keystone_counters {
        uint64_t requests[KS_REQ_KIND_MAX];   /* HTTP requests sent */
        uint64_t failures[KS_REQ_KIND_MAX];   /* no usable answer (unavailable class) */
        uint64_t answered[KS_REQ_KIND_MAX];   /* got an HTTP answer (any status) */
        uint64_t total_usec[KS_REQ_KIND_MAX]; /* summed round-trip time of answered ones */
        uint64_t service_auth_rejected;       /* service account refused */
        uint64_t retried_after_401;
        uint64_t retried_transient;           /* dropped connection or 5xx, retried once */
        uint64_t in_flight;
};

/* Reads nothing from disk yet: the password file is read (and checked) on
 * every service authentication, so a rotated password needs no restart.
 * Fails with -EINVAL and a message when c has no [keystone] url. */
int keystone_new(struct loop *loop, const struct config *c, struct keystone **ret, char *err,
                 size_t err_size);
/* Cancels every request (no callback runs) and frees. Accepts NULL. */
struct keystone *keystone_free(struct keystone *ks);

/* Applies timeouts and the response size limit of c to later requests.
 * Returns 1 when c changes what needs a restart (url, account, TLS). */
int keystone_set_config(struct keystone *ks, const struct config *c);

/* Each starts a call and returns 0 (ret_req, if not NULL, gets a handle
 * valid until the callback runs or keystone_cancel()), or a negative errno
 * without calling fn: -EINVAL for an argument that cannot be sent (bad ID
 * or name), -EBUSY when too many calls are in flight, -ENOMEM. */

/* Unscoped password authentication of a user named user_name in a domain
 * given by ID (domain_is_id) or by name. The token Keystone issues is
 * dropped unread. The password is copied into a buffer wiped after use. */
int keystone_check_password(struct keystone *ks, const char *user_name, const char *domain,
                            bool domain_is_id, const char *password, keystone_done_fn fn,
                            void *userdata, struct ks_request **ret_req);
/* The same, keeping the unscoped token Keystone issues: the result's
 * issued_token (valid during the callback only; copy it into memory that
 * is wiped) and expires_at. A reply without X-Subject-Token is -EBADMSG. */
int keystone_password_token(struct keystone *ks, const char *user_name, const char *domain, const char *password,
                            keystone_done_fn fn, void *userdata, struct ks_request **ret_req);
/* Validates a Keystone token a user presents (GET /v3/auth/tokens). */
int keystone_check_token(struct keystone *ks, const char *token, keystone_done_fn fn, void *userdata,
                         struct ks_request **ret_req);
/* Revokes a user's own token (DELETE /v3/auth/tokens, the token as both
 * X-Auth-Token and X-Subject-Token: Keystone lets a token's subject revoke
 * it, and the service account needs no admin role for it). A token
 * Keystone no longer takes (401, 404) completes with -ENOENT. */
int keystone_revoke_token(struct keystone *ks, const char *token, keystone_done_fn fn, void *userdata,
                          struct ks_request **ret_req);
int keystone_get_user(struct keystone *ks, const char *user_id, keystone_done_fn fn, void *userdata,
                      struct ks_request **ret_req);
int keystone_find_user(struct keystone *ks, const char *name, const char *domain_id,
                       keystone_done_fn fn, void *userdata, struct ks_request **ret_req);
int keystone_list_roles(struct keystone *ks, const char *user_id, keystone_done_fn fn, void *userdata,
                        struct ks_request **ret_req);
int keystone_get_domain(struct keystone *ks, const char *domain_id, keystone_done_fn fn,
                        void *userdata, struct ks_request **ret_req);
int keystone_find_domain(struct keystone *ks, const char *name, keystone_done_fn fn, void *userdata,
                         struct ks_request **ret_req);
/* Authenticates the service account afresh (a health probe). */
int keystone_probe(struct keystone *ks, keystone_done_fn fn, void *userdata, struct ks_request **ret_req);

/* The callback of req will not run. Accepts NULL. */
void keystone_cancel(struct ks_request *req);

const struct keystone_counters *keystone_get_counters(const struct keystone *ks);
bool keystone_error_is_unavailable(int status);
/* The Keystone base URL in use (for Status), without credentials. */
const char *keystone_url(const struct keystone *ks);
/* Whether a service token is held and when it expires (unix seconds). */
bool keystone_has_service_token(const struct keystone *ks, int64_t *ret_expires_at);
