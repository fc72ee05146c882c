/* The panel's sessions, server-side. A session ID is 256 random bits
 * (randombytes_buf), given to the browser once as base64url in the
 * __Host- cookie and never kept: the table is keyed by its BLAKE2b hash,
 * so the table's memory does not hold what a cookie needs. A session
 * ends after idle_sec without a request, at its absolute expiry (at most
 * lifetime_sec after login, and never after the proof's own expiry), at
 * logout, or when its user logs in with max_per_user sessions already
 * (the one used least recently ends). The Keystone token of a session that
 * ends by itself (idle, expiry, max_per_user) waits in the table until
 * session_take_ended() hands it over for revocation.
 *
 * Only a login creates a session, always with a new ID (the login form's
 * CSRF token is the login cookie's, login_form.h). A session keeps the
 * user's name and IDs, its CSRF token, the Keystone token kaasd issued for the password (the proof, a secret), the
 * active cluster, the clusters the user administers, and for one page
 * view a token just created (a secret). Secrets are wiped with
 * sodium_memzero when dropped. One mutex guards the table; callers get
 * copies (struct session_view), never pointers into it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SESSION_ID_BYTES 32
#define SESSION_ID_CHARS 43   /* base64url without padding */
#define SESSION_NAME_MAX 255
/* Keystone tokens of ended sessions kept for revocation at most: more
 * than a sweep's interval of ended sessions on a busy panel */
#define SESSION_ENDED_MAX 1024

struct session_table;

struct session_login {
        const char *user_name;
        const char *user_id;
        const char *domain_id;
        const char *keystone_token;  /* copied */
        int64_t proof_expires;       /* unix seconds: the session ends before */
        uint32_t admin_mask;         /* bit i: administrator of cluster i */
};

struct session_view {
        char csrf[SESSION_ID_CHARS + 1];
        char user_name[SESSION_NAME_MAX + 1];
        char user_id[SESSION_NAME_MAX + 1];
        char domain_id[SESSION_NAME_MAX + 1];
        char *keystone_token;        /* a copy: session_view_clear() wipes it */
        size_t cluster;              /* the active cluster's index */
        uint32_t admin_mask;
        bool has_new_token;
};

/* -EINVAL for a max of 0. */
int session_table_new(unsigned max_sessions, unsigned max_per_user, unsigned idle_sec, unsigned lifetime_sec,
                      struct session_table **ret)
        __attribute__((warn_unused_result, nonnull));
struct session_table *session_table_free(struct session_table *t);

/* A new session of login at now. Its ID goes to ret_id
 * (SESSION_ID_CHARS + 1 bytes), nowhere else. 1 when a live session of
 * the same user ended to make room (max_per_user), else 0; -EBUSY when
 * max_sessions are in use and none can go, -ENOMEM. */
int session_create(struct session_table *t, const struct session_login *login, time_t now, char *ret_id)
        __attribute__((warn_unused_result, nonnull));

/* The session of cookie value id at now, which counts as its latest
 * request: -ENOENT when there is none (malformed, unknown, expired;
 * an expired one is ended). */
int session_lookup(struct session_table *t, const char *id, time_t now, struct session_view *ret)
        __attribute__((warn_unused_result, nonnull));

/* Ends every session expired at now, its secrets wiped: an abandoned
 * session must not keep its proof or a token never shown until the table
 * fills. */
void session_sweep(struct session_table *t, time_t now) __attribute__((nonnull));

/* Ends the session of id; no-op when there is none. */
void session_end(struct session_table *t, const char *id) __attribute__((nonnull));

int session_set_cluster(struct session_table *t, const char *id, size_t cluster, uint32_t admin_mask)
        __attribute__((warn_unused_result, nonnull));

/* Keeps token (a secret, copied) until session_take_new_token(). */
int session_put_new_token(struct session_table *t, const char *id, const char *token)
        __attribute__((warn_unused_result, nonnull));

/* Hands over the kept token (the caller wipes and frees it) and forgets
 * it: -ENOENT when there is none. */
int session_take_new_token(struct session_table *t, const char *id, char **ret_token)
        __attribute__((warn_unused_result, nonnull));

/* Constant-time comparison of a form's csrf field with the session's. */
bool session_csrf_ok(const struct session_view *v, const char *csrf);

void session_view_clear(struct session_view *v);

/* Moves up to max Keystone tokens of sessions that ended by themselves
 * (not by session_end()) to ret, oldest first; the caller revokes, wipes
 * and frees each. How many. *ret_dropped is how many were wiped
 * unrevoked since the last call because more than SESSION_ENDED_MAX
 * ended in between. */
size_t session_take_ended(struct session_table *t, char **ret, size_t max, size_t *ret_dropped)
        __attribute__((warn_unused_result, nonnull));

/* Takes keystone_token (a secret, the oldest one session_take_ended() just
 * gave) back to the head of the queue: its revocation could not be done
 * now. When the queue has filled meanwhile, it is wiped and counted as
 * dropped instead. */
void session_keep_ended(struct session_table *t, char *keystone_token) __attribute__((nonnull));

/* Keystone tokens of ended sessions waiting for revocation. */
size_t session_ended_count(struct session_table *t);

/* Sessions in the table (expired ones not yet swept included). */
size_t session_count(struct session_table *t);
