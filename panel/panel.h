/* What the parts of kaas-panel share: the server's state, one request's
 * context, and the helpers every route uses to answer. The routes live in
 * route_session.c (log in, log out, cluster), route_tokens.c (the user's
 * tokens, kubeconfig), route_admin.c (administration), pages in page.c;
 * server.c is the HTTP side (cookies, Origin, CSRF, dispatch). */
#pragma once

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "form.h"
#include "html.h"
#include "login_form.h"
#include "session.h"
#include "settings.h"

struct kaasd_pool;
struct kaas_error;

struct panel {
        const struct panel_settings *s;
        struct kaasd_pool *pool;
        int timeout_ms;
        struct session_table *sessions;
        struct kaas_client *health;   /* its own connection: a busy pool must not fail /healthz */
        struct kaas_client *revoker;  /* the sweep's own connection, its timeout the sweep's budget */
        pthread_mutex_t health_lock;
        struct login_key login_key;   /* the login form's CSRF tokens (login_form.h) */
};

/* One request, once its body (for a POST) is in. */
struct request {
        struct panel *p;
        struct MHD_Connection *conn;
        const char *url;
        bool post;
        struct form form;             /* a POST's fields */
        char peer[64];
        char sid[SESSION_ID_CHARS + 1];  /* the cookie's session ID, "" when none */
        bool has_session;             /* sid names a live session: sv holds it */
        struct session_view sv;
        char set_cookie[512];         /* a Set-Cookie header to send, "" for none */
        /* an origin the page's forms may also lead to, "" for none: the
         * login form whose answer sends the browser back to a managed
         * service (CSP form-action covers the redirects of a submission) */
        char form_origin[300];
};

/* ------------------------------------------------------------ answers */

/* A page: the skeleton (head, navigation of a logged-in session) around
 * body, which html_printf() wrote into h (taken). */
enum MHD_Result panel_page(struct request *rq, unsigned code, const char *title, struct html *h);

/* A page holding one message in <p id=ID> (role="alert" when alert). */
enum MHD_Result panel_message(struct request *rq, unsigned code, const char *title, const char *id, bool alert,
                              const char *text);

/* 303 See Other to location (one of the panel's own paths). */
enum MHD_Result panel_redirect(struct request *rq, const char *location);

/* 403 with <h1>Forbidden</h1>. */
enum MHD_Result panel_forbidden(struct request *rq, const char *why);

/* A download: body (taken) as content_type with Content-Disposition. */
enum MHD_Result panel_download(struct request *rq, const char *content_type, const char *filename, char *body,
                               size_t len);

/* Writes the hidden csrf field of the request's session. */
void panel_csrf_field(struct request *rq, struct html *h);

/* "YYYY-MM-DD HH:MM UTC" inside <time datetime=...>, or "never" for 0. */
void panel_time(struct html *h, long long t);

/* The active cluster of a logged-in request. */
const struct panel_cluster *panel_active_cluster(const struct request *rq);

/* ------------------------------------------------------------ kaasd */

/* Calls method with params (borrowed) on a pooled client: 0 with *ret (a
 * new reference, may be NULL when not wanted), KAAS_ERROR_REMOTE with err
 * filled, or a local negative errno. */
int panel_call(struct panel *p, const char *method, json_t *params, json_t **ret, struct kaas_error *err);

/* {"keystone_token": ...} for the request's session (a secret). */
json_t *panel_credentials(const struct request *rq);

/* Ends a Keystone session: kaasd forgets keystone_token as proof and
 * revokes it in Keystone (io.kaas.Token.Unauthenticate). 0, or as
 * panel_call(). */
int panel_revoke_keystone_token(struct panel *p, const char *keystone_token, struct kaas_error *err);

/* Revokes the Keystone tokens of sessions that ended by themselves
 * (session_take_ended()) on p->revoker, one at a time, until none is left,
 * kaasd or Keystone cannot do it now (io.kaas.Token.Unavailable), or
 * budget_sec have passed: every call ends by then, and what is left waits
 * for the next call. Run from the main thread's timer. */
void panel_revoke_ended_sessions(struct panel *p, unsigned budget_sec);

/* The clusters user_id administers as a bit mask over s->clusters: 0, or
 * a negative errno when kaasd cannot say. */
int panel_admin_mask(struct panel *p, const char *user_id, uint32_t *ret);

/* Answers kaasd's failure of a call made for the user (403 for
 * PermissionDenied, 404 NotFound, 400 InvalidArgument and TooManyTokens,
 * 503 otherwise) as a page with #error. */
enum MHD_Result panel_kaasd_failure(struct request *rq, const char *title, int r, const struct kaas_error *err);

/* ------------------------------------------------------------ routes */

/* The session cookie for session id to send with the answer; id NULL
 * clears it. */
void panel_set_session_cookie(struct request *rq, const char *id);

enum MHD_Result route_login_get(struct request *rq);
enum MHD_Result route_login_post(struct request *rq);
enum MHD_Result route_logout(struct request *rq);
enum MHD_Result route_cluster(struct request *rq);

enum MHD_Result route_tokens(struct request *rq);
enum MHD_Result route_tokens_create(struct request *rq);
enum MHD_Result route_tokens_new(struct request *rq);
enum MHD_Result route_kubeconfig(struct request *rq);
enum MHD_Result route_delete_confirm(struct request *rq, bool admin);
enum MHD_Result route_delete(struct request *rq, bool admin);
enum MHD_Result route_services(struct request *rq);

enum MHD_Result route_admin(struct request *rq);
enum MHD_Result route_admin_tokens(struct request *rq);
enum MHD_Result route_admin_user(struct request *rq);
enum MHD_Result route_admin_revoke(struct request *rq);
enum MHD_Result route_admin_rbac(struct request *rq);

/* The token list of route_tokens() and route_admin_tokens(): rows of
 * tokens (a List reply's array), with the owner column when admin. */
void panel_token_table(struct html *h, json_t *tokens, bool admin);

/* The session of the request on conn, from its cookie (any handler may
 * ask): 0 with the cookie's ID in ret_sid (SESSION_ID_CHARS + 1 bytes)
 * and a copy of the session in ret (session_view_clear() it), or -ENOENT
 * (ret_sid then "" unless a cookie named a session that is gone). */
int panel_session_of(struct panel *p, struct MHD_Connection *conn, char *ret_sid, struct session_view *ret)
        __attribute__((nonnull));

/* A query argument of the request, or NULL. */
const char *panel_arg(const struct request *rq, const char *name);
