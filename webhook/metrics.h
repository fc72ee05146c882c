/* Counters of kaas-webhook, served at GET /metrics in the Prometheus text
 * format (version 0.0.4). Lock-free (C11 atomics): every connection thread
 * counts, any thread renders. Nothing here names a user or a token. */
#pragma once

#include <stddef.h>

enum wh_result { WH_AUTHENTICATED, WH_UNAUTHENTICATED, WH_ERROR, WH_BAD_REQUEST, WH_N_RESULTS };

/* why a well-formed review was answered authenticated:false */
enum wh_reason {
        WH_REASON_FORMAT,         /* not a KaaS token: kaasd not asked */
        WH_REASON_AUDIENCE,       /* no accepted audience: kaasd not asked */
        WH_REASON_INVALID,        /* unknown or deleted token */
        WH_REASON_EXPIRED,
        WH_REASON_USER_DISABLED,  /* disabled or deleted in Keystone */
        WH_REASON_USER_REFUSED,   /* reserved user name */
        WH_N_REASONS
};

/* why kaasd gave no verdict */
enum wh_kaasd_error {
        WH_KAASD_UNREACHABLE,     /* no socket, refused, reset */
        WH_KAASD_TIMEOUT,         /* no answer in time */
        WH_KAASD_BUSY,            /* every pooled connection stayed in use */
        WH_KAASD_UNAVAILABLE,     /* io.kaas.Token.Unavailable: Keystone */
        WH_KAASD_DENIED,          /* not in kaasd's validator_group */
        WH_KAASD_OTHER,           /* any other error or malformed reply */
        WH_N_KAASD_ERRORS
};

const char *wh_result_name(enum wh_result r);
const char *wh_reason_name(enum wh_reason r);
const char *wh_kaasd_error_name(enum wh_kaasd_error e);

/* A review answered with result after usec microseconds. */
void wh_metrics_review(enum wh_result r, unsigned long long usec);
void wh_metrics_unauthenticated(enum wh_reason r);
void wh_metrics_kaasd_error(enum wh_kaasd_error e);
void wh_metrics_http_response(unsigned code);
/* +1 when a review starts, -1 when it is answered */
void wh_metrics_in_flight(int delta);
/* +1 when a connection is accepted, -1 when it is closed */
void wh_metrics_connections(int delta);
/* a connection closed at once: its address had max_connections_per_client */
void wh_metrics_connection_refused(void);
/* a connection closed: no whole request within request_timeout */
void wh_metrics_request_timeout(void);

/* The whole exposition (malloc'd text; the caller frees it), with the
 * pool's state. NULL when out of memory. */
char *wh_metrics_render(unsigned pool_busy, unsigned pool_size, size_t *ret_len);

struct kaasd_pool;

/* wh_metrics_render() with the pool's state, and the state of kaasd's
 * replica of the environment's token store: io.kaas.Admin.Status asked
 * now on a pooled connection, waiting at most timeout_ms for one (the
 * call itself bounded by the pool's kaasd timeout). A standalone kaasd
 * has no replica: no store metrics. */
char *wh_metrics_render_with_kaasd(struct kaasd_pool *pool, int timeout_ms, size_t *ret_len);
