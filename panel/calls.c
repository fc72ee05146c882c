/* kaas-panel's calls to kaasd, on the pool of httpd/pool.h; see panel.h.
 * The panel is an ordinary (user-class) client: every call about tokens
 * carries the session's proof, the Keystone token kaasd issued at login,
 * and kaasd decides what it may do. */
#include "config.h"

#include <sodium.h>
#include <string.h>
#include <time.h>

#include "httpd/log.h"
#include "httpd/pool.h"
#include "kaas.h"
#include "panel.h"

#define POOL_WAIT_MS 5000

int panel_call(struct panel *p, const char *method, json_t *params, json_t **ret, struct kaas_error *err) {
        struct kaas_client *c = NULL;
        int r = kaasd_pool_acquire(p->pool, POOL_WAIT_MS, &c);
        if (r < 0)
                return r;
        r = kaas_call(c, method, params, ret, err);
        kaasd_pool_release(p->pool, c);
        return r;
}

json_t *panel_credentials(const struct request *rq) {
        return json_pack("{s:s}", "keystone_token", rq->sv.keystone_token ? rq->sv.keystone_token : "");
}

int panel_revoke_keystone_token(struct panel *p, const char *keystone_token, struct kaas_error *err) {
        json_t *params = json_pack("{s:s}", "keystone_token", keystone_token);
        if (!params)
                return -ENOMEM;
        int r = panel_call(p, "io.kaas.Token.Unauthenticate", params, NULL, err);
        json_decref(params);
        return r;
}

static int64_t monotonic_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void token_drop(char *token) {
        sodium_memzero(token, strlen(token));
        free(token);
}

/* No call starts with less of the budget left than this. */
#define REVOKE_CALL_MIN_MS 200

void panel_revoke_ended_sessions(struct panel *p, unsigned budget_sec) {
        int64_t deadline = monotonic_ms() + (int64_t)budget_sec * 1000;
        size_t revoked = 0, refused = 0, dropped = 0, d;
        const char *later = NULL;  /* why the rest waits for the next sweep */
        char *token;
        for (;;) {
                int64_t left = deadline - monotonic_ms();
                if (left < REVOKE_CALL_MIN_MS)
                        break;
                size_t n = session_take_ended(p->sessions, &token, 1, &d);
                dropped += d;
                if (n == 0)
                        break;
                /* the call ends with the budget, whatever kaasd or Keystone do */
                kaas_client_set_timeout(p->revoker, (int)left);
                json_t *params = json_pack("{s:s}", "keystone_token", token);
                struct kaas_error err = KAAS_ERROR_INIT;
                int r = params ? kaas_call(p->revoker, "io.kaas.Token.Unauthenticate", params, NULL, &err) : -ENOMEM;
                json_decref(params);
                if (r == 0) {
                        revoked++;
                        token_drop(token);
                } else if (r == KAAS_ERROR_REMOTE && !kaas_error_is(&err, "io.kaas.Token.Unavailable")) {
                        /* kaasd answered for this token: trying again would not help */
                        refused++;
                        token_drop(token);
                } else {
                        /* kaasd, or Keystone behind it, cannot do it now: this
                         * token and the rest wait */
                        session_keep_ended(p->sessions, token);
                        later = r == KAAS_ERROR_REMOTE ? "Keystone is unavailable to kaasd" : kaas_strerror(r);
                }
                kaas_error_clear(&err);
                if (later)
                        break;
        }
        if (revoked > 0)
                hd_info("revoked the Keystone tokens of %zu ended sessions", revoked);
        if (refused > 0)
                hd_warning("kaasd refused to revoke the Keystone tokens of %zu ended sessions: they stay valid until they expire",
                           refused);
        if (later)
                hd_warning("cannot revoke the Keystone tokens of ended sessions now, trying again at the next sweep: %s",
                           later);
        if (dropped > 0)
                hd_warning("%zu sessions ended faster than their Keystone tokens could be revoked: those stay valid until they expire",
                           dropped);
}

int panel_admin_mask(struct panel *p, const char *user_id, uint32_t *ret) {
        json_t *params = json_pack("{s:s}", "id", user_id), *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        if (!params)
                return -ENOMEM;
        int r = panel_call(p, "io.kaas.Identity.GetUser", params, &reply, &err);
        json_decref(params);
        if (r < 0) {
                hd_warning("cannot read user %s from kaasd: %s", user_id, r == KAAS_ERROR_REMOTE ? err.message : kaas_strerror(r));
                kaas_error_clear(&err);
                return r;
        }
        json_t *clusters = json_object_get(json_object_get(reply, "user"), "admin_of_clusters"), *v;
        uint32_t mask = 0;
        size_t i;
        json_array_foreach(clusters, i, v) {
                for (size_t k = 0; k < p->s->n_clusters; k++)
                        if (json_is_string(v) && strcmp(json_string_value(v), p->s->clusters[k].name) == 0)
                                mask |= 1u << k;
        }
        json_decref(reply);
        *ret = mask;
        return 0;
}

enum MHD_Result panel_kaasd_failure(struct request *rq, const char *title, int r, const struct kaas_error *err) {
        if (r != KAAS_ERROR_REMOTE) {
                hd_warning("kaasd unavailable for %s: %s", rq->peer, kaas_strerror(r));
                return panel_message(rq, 503, title, "error", true, "The identity service is unavailable: try again later.");
        }
        const char *reason = json_string_value(json_object_get(err->parameters, "reason"));
        char text[600];
        if (kaas_error_is(err, "io.kaas.Token.PermissionDenied"))
                return panel_message(rq, 403, title, "error", true, "You may not do this.");
        if (kaas_error_is(err, "io.kaas.Token.NotFound") || kaas_error_is(err, "io.kaas.Identity.UserNotFound"))
                return panel_message(rq, 404, title, "error", true, "Not found.");
        if (kaas_error_is(err, "io.kaas.Token.InvalidArgument") || kaas_error_is(err, "io.kaas.Identity.InvalidArgument")) {
                snprintf(text, sizeof(text), "Not accepted: %s.", reason ? reason : "invalid value");
                return panel_message(rq, 400, title, "error", true, text);
        }
        if (kaas_error_is(err, "io.kaas.Token.TooManyTokens")) {
                snprintf(text, sizeof(text), "You have reached the limit of %lld tokens: delete one first.",
                         (long long)json_integer_value(json_object_get(err->parameters, "limit")));
                return panel_message(rq, 400, title, "error", true, text);
        }
        if (kaas_error_is(err, "io.kaas.Token.AuthenticationFailed") ||
            kaas_error_is(err, "io.kaas.Token.UserDisabled") || kaas_error_is(err, "io.kaas.Token.UserRefused")) {
                /* the session's proof is no longer good: log in again, from a
                 * page that shows the session ended and a cookie cleared */
                session_end(rq->p->sessions, rq->sid);
                rq->has_session = false;
                panel_set_session_cookie(rq, NULL);
                return panel_message(rq, 401, title, "error", true, "Your session has ended: log in again.");
        }
        if (kaas_error_is(err, "io.kaas.Token.ReadOnly"))
                return panel_message(rq, 503, title, "error", true,
                                     "Tokens cannot be changed on this host; use the environment's writer.");
        hd_warning("kaasd refused a call for %s: %s", rq->sv.user_name, err->message ? err->message : err->name);
        return panel_message(rq, 503, title, "error", true, "The identity service is unavailable: try again later.");
}
