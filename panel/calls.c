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

static double monotonic_now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void token_drop(char *token) {
        sodium_memzero(token, strlen(token));
        free(token);
}

void panel_revoke_ended_sessions(struct panel *p, unsigned budget_sec) {
        double deadline = monotonic_now() + budget_sec;
        size_t revoked = 0, dropped = 0;
        char *token;
        int r = 0;
        /* one at a time: a token not taken yet waits safely in the table */
        while (monotonic_now() < deadline && session_take_ended(p->sessions, &token, 1, &dropped) == 1) {
                struct kaas_error err = KAAS_ERROR_INIT;
                r = panel_revoke_keystone_token(p, token, &err);
                if (r < 0 && r != KAAS_ERROR_REMOTE) {
                        /* kaasd cannot be reached: this one waits with the rest */
                        session_keep_ended(p->sessions, token);
                        break;
                }
                token_drop(token);
                if (r == 0)
                        revoked++;
                else
                        hd_warning("the Keystone token of an ended session was not revoked: %s",
                                   err.message ? err.message : err.name);
                kaas_error_clear(&err);
        }
        if (revoked > 0)
                hd_info("revoked the Keystone tokens of %zu ended sessions", revoked);
        if (r < 0 && r != KAAS_ERROR_REMOTE)
                hd_warning("cannot reach kaasd to revoke the Keystone tokens of ended sessions, trying again later: %s",
                           kaas_strerror(r));
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
            kaas_error_is(err, "io.kaas.Token.UserDisabled")) {
                /* the session's proof is no longer good: log in again */
                session_end(rq->p->sessions, rq->sid);
                return panel_message(rq, 401, title, "error", true, "Your session has ended: log in again.");
        }
        if (kaas_error_is(err, "io.kaas.Token.ReadOnly"))
                return panel_message(rq, 503, title, "error", true,
                                     "Tokens cannot be changed on this host; use the environment's writer.");
        hd_warning("kaasd refused a call for %s: %s", rq->sv.user_name, err->message ? err->message : err->name);
        return panel_message(rq, 503, title, "error", true, "The identity service is unavailable: try again later.");
}
