/* See review.h. How kaasd's answers map to a TokenReview status:
 *   identity                           authenticated
 *   InvalidToken, Expired,
 *   UserDisabled, UserRefused          authenticated:false, no error (kube
 *                                      caches it; the answer is final)
 *   Unavailable (Keystone)             error
 *   no answer, PermissionDenied, ...   error
 * A token that fails the format check never reaches kaasd. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kaas.h"
#include "httpd/pool.h"
#include "review.h"

#define VALIDATE "io.kaas.Token.Validate"
#define TOKEN_ERR(name) "io.kaas.Token." name

static void unauthenticated(struct wh_review *out, enum wh_reason reason, const char *detail) {
        out->result = WH_UNAUTHENTICATED;
        out->reason = reason;
        snprintf(out->detail, sizeof(out->detail), "%s", detail);
}

static void failed(struct wh_review *out, enum wh_kaasd_error kind, const char *error, const char *detail) {
        out->result = WH_ERROR;
        out->kaasd_error = kind;
        out->error = error;
        snprintf(out->detail, sizeof(out->detail), "%s", detail);
}

static void take_token_id(struct wh_review *out, const json_t *params) {
        const char *tid = json_string_value(json_object_get(params, "token_id"));
        if (tid && token_id_check_format(tid, strlen(tid)) == 0)
                snprintf(out->token_id, sizeof(out->token_id), "%s", tid);
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One Validate call; a pooled connection that kaasd closed while idle
 * (idle_timeout) fails with a reset, so that case is tried once more, in
 * what is left of the call's timeout: a review waits at most a timeout
 * for a connection and one for its answer (kaas-webhook(8)). */
static int call_validate(const struct wh_reviewer *rv, const struct tokenreview_request *req, json_t **ret_params,
                         struct kaas_error *ret_error) {
        struct kaas_client *c;
        int r = kaasd_pool_acquire(rv->pool, rv->timeout_ms, &c);
        if (r < 0)
                return -EUSERS;  /* a code libkaas never returns */
        json_t *params = json_pack("{s:s%}", "token", req->token, req->token_len);
        if (!params) {
                kaasd_pool_release(rv->pool, c);
                return -ENOMEM;
        }
        int64_t start = now_ms();
        r = kaas_call(c, VALIDATE, params, ret_params, ret_error);
        int64_t left = rv->timeout_ms - (now_ms() - start);
        if ((r == -ECONNRESET || r == -EPIPE) && left > 0) {
                kaas_client_set_timeout(c, (int)left);
                r = kaas_call(c, VALIDATE, params, ret_params, ret_error);
                kaas_client_set_timeout(c, rv->timeout_ms);
        }
        kaasd_pool_release(rv->pool, c);
        json_t *tok = json_object_get(params, "token");
        explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
        json_decref(params);
        return r;
}

static void on_remote_error(struct wh_review *out, const struct kaas_error *e) {
        char detail[sizeof(out->detail)];
        take_token_id(out, e->parameters);
        if (kaas_error_is(e, TOKEN_ERR("InvalidToken")))
                unauthenticated(out, WH_REASON_INVALID, "unknown or deleted token");
        else if (kaas_error_is(e, TOKEN_ERR("Expired")))
                unauthenticated(out, WH_REASON_EXPIRED, "the token has expired");
        else if (kaas_error_is(e, TOKEN_ERR("UserDisabled"))) {
                snprintf(detail, sizeof(detail), "the owner %s is disabled or deleted in Keystone",
                         json_string_value(json_object_get(e->parameters, "user_id")) ?: "?");
                unauthenticated(out, WH_REASON_USER_DISABLED, detail);
        } else if (kaas_error_is(e, TOKEN_ERR("UserRefused"))) {
                snprintf(detail, sizeof(detail), "the owner %s is refused: %s",
                         json_string_value(json_object_get(e->parameters, "user_id")) ?: "?",
                         json_string_value(json_object_get(e->parameters, "reason")) ?: "?");
                unauthenticated(out, WH_REASON_USER_REFUSED, detail);
        } else if (kaas_error_is(e, TOKEN_ERR("Unavailable"))) {
                snprintf(detail, sizeof(detail), "kaasd: identity service unavailable: %s",
                         json_string_value(json_object_get(e->parameters, "reason")) ?: "?");
                failed(out, WH_KAASD_UNAVAILABLE, "identity service unavailable", detail);
        } else if (kaas_error_is(e, "org.varlink.service.PermissionDenied")) {
                failed(out, WH_KAASD_DENIED, "the webhook may not validate tokens",
                       "kaasd refused io.kaas.Token.Validate: add the webhook's user to kaasd's validator_group");
        } else {
                snprintf(detail, sizeof(detail), "kaasd answered %s", e->message ? e->message : e->name);
                failed(out, WH_KAASD_OTHER, "token validation failed", detail);
        }
}

static void on_local_error(struct wh_review *out, int r) {
        char detail[sizeof(out->detail)];
        snprintf(detail, sizeof(detail), "kaasd: %s", kaas_strerror(r));
        switch (r) {
        case -EUSERS:
                failed(out, WH_KAASD_BUSY, "too many reviews in flight",
                       "every connection to kaasd stayed busy for the whole timeout");
                break;
        case -ETIMEDOUT:
                failed(out, WH_KAASD_TIMEOUT, "kaasd did not answer in time", detail);
                break;
        case -ENOENT:
        case -ECONNREFUSED:
        case -ECONNRESET:
        case -EPIPE:
        case -EACCES:
        case -ENOTCONN:
                failed(out, WH_KAASD_UNREACHABLE, "kaasd is unreachable", detail);
                break;
        case -EPERM:
                failed(out, WH_KAASD_UNREACHABLE, "kaasd is unreachable",
                       "refusing to talk to kaasd's socket: it or the process listening on it belongs to neither "
                       "root nor [kaasd] user; nothing was sent");
                break;
        default:
                failed(out, WH_KAASD_OTHER, "token validation failed", detail);
                break;
        }
}

static void on_identity(const struct wh_reviewer *rv, struct wh_review *out, const json_t *params) {
        char err[160], detail[sizeof(out->detail)];
        take_token_id(out, params);
        const json_t *enabled = json_object_get(params, "enabled");
        if (json_is_false(enabled)) {
                unauthenticated(out, WH_REASON_USER_DISABLED, "the owner is disabled in Keystone");
                return;
        }
        int r = tokenreview_user_from_identity(json_object_get(params, "identity"), &rv->user_options, &out->user,
                                               err, sizeof(err));
        if (r == -EPERM) {
                unauthenticated(out, WH_REASON_USER_REFUSED, err);
                return;
        }
        if (r < 0) {
                snprintf(detail, sizeof(detail), "kaasd's answer cannot be used: %s", err);
                failed(out, WH_KAASD_OTHER, "token validation failed", detail);
                return;
        }
        out->result = WH_AUTHENTICATED;
        snprintf(detail, sizeof(detail), "user %s (uid %s), %zu groups",
                 json_string_value(json_object_get(out->user, "username")),
                 json_string_value(json_object_get(out->user, "uid")),
                 json_array_size(json_object_get(out->user, "groups")));
        snprintf(out->detail, sizeof(out->detail), "%s", detail);
}

void wh_review_decide(const struct wh_reviewer *rv, const struct tokenreview_request *req, struct wh_review *out) {
        memset(out, 0, sizeof(*out));
        if (!tokenreview_match_audiences(req, rv->audiences, rv->n_audiences, out->audiences, &out->n_audiences)) {
                unauthenticated(out, WH_REASON_AUDIENCE, "none of the requested audiences is accepted");
                return;
        }
        /* typos, service-account JWTs and other foreign tokens stop here */
        if (token_check_format(req->token, req->token_len) < 0) {
                unauthenticated(out, WH_REASON_FORMAT, "not a KaaS token");
                return;
        }
        json_t *params = NULL;
        struct kaas_error e = KAAS_ERROR_INIT;
        int r = call_validate(rv, req, &params, &e);
        if (r == 0)
                on_identity(rv, out, params);
        else if (r == KAAS_ERROR_REMOTE)
                on_remote_error(out, &e);
        else
                on_local_error(out, r);
        json_decref(params);
        kaas_error_clear(&e);
}

void wh_review_clear(struct wh_review *out) {
        if (!out)
                return;
        json_decref(out->user);
        out->user = NULL;
}
