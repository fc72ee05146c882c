/* The decision on one TokenReview: audiences, the token's format, then
 * io.kaas.Token.Validate through the kaasd pool, and the Kubernetes user
 * built from kaasd's answer. Runs in the connection's thread and blocks on
 * kaasd for at most the configured timeout (plus as long again waiting for
 * a pooled connection). Logs nothing: the caller logs the outcome. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "metrics.h"
#include "token_format.h"
#include "tokenreview.h"

struct kaasd_pool;

struct wh_reviewer {
        struct kaasd_pool *pool;
        uid_t kaasd_uid;                         /* kaasd runs as root or this user (the pool checks it) */
        int timeout_ms;                          /* waiting for a pooled connection */
        const char *const *audiences;            /* accepted audiences; none: not audience-bound */
        size_t n_audiences;
        struct tokenreview_user_options user_options;
};

struct wh_review {
        enum wh_result result;                   /* never WH_BAD_REQUEST here */
        enum wh_reason reason;                   /* when WH_UNAUTHENTICATED */
        enum wh_kaasd_error kaasd_error;         /* when WH_ERROR */
        const char *error;                       /* status.error when WH_ERROR: a static string */
        json_t *user;                            /* status.user when WH_AUTHENTICATED */
        const char *audiences[TOKENREVIEW_MAX_AUDIENCES];  /* status.audiences (into the request) */
        size_t n_audiences;
        char token_id[TOKEN_ID_STRING_SIZE];     /* the public token ID when kaasd named it, else "" */
        char detail[256];                        /* for the log: who, or why not; never the token */
};

/* Decides req and fills out (which the caller releases with
 * wh_review_clear()). */
void wh_review_decide(const struct wh_reviewer *rv, const struct tokenreview_request *req, struct wh_review *out)
        __attribute__((nonnull));

void wh_review_clear(struct wh_review *out);
