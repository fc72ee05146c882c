/* See metrics.h. */
#include "config.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "kaas.h"
#include "metrics.h"
#include "httpd/pool.h"

/* upper bounds of the latency buckets, in microseconds */
static const unsigned long long bucket_usec[] = { 1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                                  250000, 500000, 1000000, 2500000, 5000000, 10000000 };
#define N_BUCKETS (sizeof(bucket_usec) / sizeof(bucket_usec[0]))

static const unsigned http_codes[] = { 200, 400, 401, 403, 404, 405, 413, 500, 503 };
#define N_CODES (sizeof(http_codes) / sizeof(http_codes[0]))

static struct {
        atomic_ullong results[WH_N_RESULTS];
        atomic_ullong reasons[WH_N_REASONS];
        atomic_ullong kaasd_errors[WH_N_KAASD_ERRORS];
        atomic_ullong http[N_CODES + 1];   /* the last one: any other code */
        atomic_ullong buckets[N_BUCKETS + 1];
        atomic_ullong sum_usec;
        atomic_llong in_flight;
        atomic_llong connections;
        atomic_ullong connections_refused;
        atomic_ullong request_timeouts;
} m;

const char *wh_result_name(enum wh_result r) {
        static const char *const names[] = { "authenticated", "unauthenticated", "error", "bad_request" };
        return r < WH_N_RESULTS ? names[r] : "?";
}

const char *wh_reason_name(enum wh_reason r) {
        static const char *const names[] = { "format", "audience", "invalid", "expired", "user_disabled",
                                             "user_refused" };
        return r < WH_N_REASONS ? names[r] : "?";
}

const char *wh_kaasd_error_name(enum wh_kaasd_error e) {
        static const char *const names[] = { "unreachable", "timeout", "busy", "unavailable", "denied", "other" };
        return e < WH_N_KAASD_ERRORS ? names[e] : "?";
}

void wh_metrics_review(enum wh_result r, unsigned long long usec) {
        if (r >= WH_N_RESULTS)
                return;
        atomic_fetch_add(&m.results[r], 1);
        if (r == WH_BAD_REQUEST)
                return;
        size_t b = 0;
        while (b < N_BUCKETS && usec > bucket_usec[b])
                b++;
        atomic_fetch_add(&m.buckets[b], 1);
        atomic_fetch_add(&m.sum_usec, usec);
}

void wh_metrics_unauthenticated(enum wh_reason r) {
        if (r < WH_N_REASONS)
                atomic_fetch_add(&m.reasons[r], 1);
}

void wh_metrics_kaasd_error(enum wh_kaasd_error e) {
        if (e < WH_N_KAASD_ERRORS)
                atomic_fetch_add(&m.kaasd_errors[e], 1);
}

void wh_metrics_http_response(unsigned code) {
        size_t i = 0;
        while (i < N_CODES && http_codes[i] != code)
                i++;
        atomic_fetch_add(&m.http[i], 1);
}

void wh_metrics_in_flight(int delta) {
        atomic_fetch_add(&m.in_flight, delta);
}

void wh_metrics_connections(int delta) {
        atomic_fetch_add(&m.connections, delta);
}

void wh_metrics_connection_refused(void) {
        atomic_fetch_add(&m.connections_refused, 1);
}

void wh_metrics_request_timeout(void) {
        atomic_fetch_add(&m.request_timeouts, 1);
}

struct text {
        char *buf;
        size_t len, cap;
        bool failed;
};

static void put(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct text *t, const char *fmt, ...) {
        if (t->failed)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        t->failed = true;
                        return;
                }
                if ((size_t)n < t->cap - t->len) {
                        t->len += (size_t)n;
                        return;
                }
                size_t cap = t->cap * 2 + (size_t)n;
                char *b = realloc(t->buf, cap);
                if (!b) {
                        t->failed = true;
                        return;
                }
                t->buf = b;
                t->cap = cap;
        }
}

/* The replica as kaasd reported it (the "store" of io.kaas.Admin.Status). */
struct store_state {
        bool asked;             /* kaasd answered Status */
        bool present;           /* and it has a replica */
        bool complete, connected;
        long long revision, lag, disconnected_since;
        char role[16], node[64];
};

static char *render(unsigned pool_busy, unsigned pool_size, const struct store_state *st, size_t *ret_len);

char *wh_metrics_render(unsigned pool_busy, unsigned pool_size, size_t *ret_len) {
        return render(pool_busy, pool_size, NULL, ret_len);
}

/* A label value from kaasd: only [A-Za-z0-9._-], anything else as '_'. */
static void label_copy(char *dst, size_t size, const char *src) {
        size_t i = 0;
        for (; src && src[i] && i + 1 < size; i++) {
                char c = src[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                          c == '_' || c == '-';
                dst[i] = ok ? c : '_';
        }
        dst[i] = '\0';
}

static long long int_of(json_t *o, const char *name) {
        json_t *v = json_object_get(o, name);
        return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static void ask_store(struct kaasd_pool *pool, int timeout_ms, struct store_state *ret) {
        struct kaas_client *c;
        json_t *params = NULL;
        if (kaasd_pool_acquire(pool, timeout_ms, &c) < 0)
                return;
        int r = kaas_call(c, "io.kaas.Admin.Status", NULL, &params, NULL);
        kaasd_pool_release(pool, c);
        if (r != 0) {
                json_decref(params);
                return;
        }
        ret->asked = true;
        json_t *st = json_object_get(params, "store");
        if (json_is_object(st)) {
                ret->present = true;
                ret->complete = json_is_true(json_object_get(st, "complete"));
                ret->connected = json_is_true(json_object_get(st, "connected"));
                ret->revision = int_of(st, "revision");
                ret->lag = int_of(st, "lag");
                ret->disconnected_since = int_of(st, "disconnected_since");
                label_copy(ret->role, sizeof(ret->role), json_string_value(json_object_get(st, "role")));
                label_copy(ret->node, sizeof(ret->node), json_string_value(json_object_get(st, "node")));
        }
        json_decref(params);
}

char *wh_metrics_render_with_kaasd(struct kaasd_pool *pool, int timeout_ms, size_t *ret_len) {
        unsigned busy, size;
        struct store_state st = { 0 };
        ask_store(pool, timeout_ms, &st);
        kaasd_pool_usage(pool, &busy, &size);
        return render(busy, size, &st, ret_len);
}

static void render_store(struct text *t, const struct store_state *st) {
        put(t, "# HELP kaas_webhook_kaasd_status_ok Whether kaasd answered io.kaas.Admin.Status for this scrape.\n"
               "# TYPE kaas_webhook_kaasd_status_ok gauge\n"
               "kaas_webhook_kaasd_status_ok %d\n",
            st->asked);
        if (!st->present)
                return;
        put(t, "# HELP kaas_webhook_store_info kaasd's replica of the environment's token store: its role and node.\n"
               "# TYPE kaas_webhook_store_info gauge\n"
               "kaas_webhook_store_info{role=\"%s\",node=\"%s\"} 1\n"
               "# HELP kaas_webhook_store_revision The etcd revision kaasd's replica has applied.\n"
               "# TYPE kaas_webhook_store_revision gauge\n"
               "kaas_webhook_store_revision %lld\n"
               "# HELP kaas_webhook_store_lag_revisions Revisions of etcd the replica has not applied yet.\n"
               "# TYPE kaas_webhook_store_lag_revisions gauge\n"
               "kaas_webhook_store_lag_revisions %lld\n"
               "# HELP kaas_webhook_store_complete Whether the replica holds a whole snapshot (1) or is still "
               "loading (0).\n"
               "# TYPE kaas_webhook_store_complete gauge\n"
               "kaas_webhook_store_complete %d\n"
               "# HELP kaas_webhook_store_connected Whether kaasd is watching etcd and etcd answered lately.\n"
               "# TYPE kaas_webhook_store_connected gauge\n"
               "kaas_webhook_store_connected %d\n"
               "# HELP kaas_webhook_store_disconnected_since_seconds Since when (unix time) kaasd is out of touch "
               "with etcd; 0 while connected.\n"
               "# TYPE kaas_webhook_store_disconnected_since_seconds gauge\n"
               "kaas_webhook_store_disconnected_since_seconds %lld\n",
            st->role, st->node, st->revision, st->lag, st->complete, st->connected, st->disconnected_since);
}

static char *render(unsigned pool_busy, unsigned pool_size, const struct store_state *st, size_t *ret_len) {
        struct text t = { .buf = malloc(4096), .cap = 4096 };
        if (!t.buf)
                return NULL;
        t.buf[0] = 0;
        put(&t, "# HELP kaas_webhook_reviews_total TokenReviews answered, by result.\n"
                "# TYPE kaas_webhook_reviews_total counter\n");
        for (int r = 0; r < WH_N_RESULTS; r++)
                put(&t, "kaas_webhook_reviews_total{result=\"%s\"} %llu\n", wh_result_name(r),
                    (unsigned long long)atomic_load(&m.results[r]));
        put(&t, "# HELP kaas_webhook_unauthenticated_total Reviews answered authenticated:false, by reason.\n"
                "# TYPE kaas_webhook_unauthenticated_total counter\n");
        for (int r = 0; r < WH_N_REASONS; r++)
                put(&t, "kaas_webhook_unauthenticated_total{reason=\"%s\"} %llu\n", wh_reason_name(r),
                    (unsigned long long)atomic_load(&m.reasons[r]));
        put(&t, "# HELP kaas_webhook_kaasd_errors_total Reviews kaasd gave no verdict for, by cause.\n"
                "# TYPE kaas_webhook_kaasd_errors_total counter\n");
        for (int e = 0; e < WH_N_KAASD_ERRORS; e++)
                put(&t, "kaas_webhook_kaasd_errors_total{kind=\"%s\"} %llu\n", wh_kaasd_error_name(e),
                    (unsigned long long)atomic_load(&m.kaasd_errors[e]));
        put(&t, "# HELP kaas_webhook_review_duration_seconds Time from request to answer of well-formed reviews.\n"
                "# TYPE kaas_webhook_review_duration_seconds histogram\n");
        unsigned long long cumulative = 0;
        for (size_t b = 0; b < N_BUCKETS; b++) {
                cumulative += atomic_load(&m.buckets[b]);
                put(&t, "kaas_webhook_review_duration_seconds_bucket{le=\"%g\"} %llu\n", bucket_usec[b] / 1e6,
                    cumulative);
        }
        cumulative += atomic_load(&m.buckets[N_BUCKETS]);
        put(&t, "kaas_webhook_review_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cumulative);
        put(&t, "kaas_webhook_review_duration_seconds_sum %.6f\n",
            (double)atomic_load(&m.sum_usec) / 1e6);
        put(&t, "kaas_webhook_review_duration_seconds_count %llu\n", cumulative);
        put(&t, "# HELP kaas_webhook_reviews_in_flight Reviews being answered now.\n"
                "# TYPE kaas_webhook_reviews_in_flight gauge\n"
                "kaas_webhook_reviews_in_flight %lld\n",
            (long long)atomic_load(&m.in_flight));
        put(&t, "# HELP kaas_webhook_connections HTTPS connections open now.\n"
                "# TYPE kaas_webhook_connections gauge\n"
                "kaas_webhook_connections %lld\n"
                "# HELP kaas_webhook_connections_refused_total Connections closed at once: their client address "
                "had max_connections_per_client open.\n"
                "# TYPE kaas_webhook_connections_refused_total counter\n"
                "kaas_webhook_connections_refused_total %llu\n"
                "# HELP kaas_webhook_request_timeouts_total Connections closed: no whole request within "
                "request_timeout.\n"
                "# TYPE kaas_webhook_request_timeouts_total counter\n"
                "kaas_webhook_request_timeouts_total %llu\n",
            (long long)atomic_load(&m.connections), (unsigned long long)atomic_load(&m.connections_refused),
            (unsigned long long)atomic_load(&m.request_timeouts));
        put(&t, "# HELP kaas_webhook_http_responses_total HTTP responses, by status code.\n"
                "# TYPE kaas_webhook_http_responses_total counter\n");
        for (size_t i = 0; i <= N_CODES; i++) {
                if (i < N_CODES)
                        put(&t, "kaas_webhook_http_responses_total{code=\"%u\"} %llu\n", http_codes[i],
                            (unsigned long long)atomic_load(&m.http[i]));
                else
                        put(&t, "kaas_webhook_http_responses_total{code=\"other\"} %llu\n",
                            (unsigned long long)atomic_load(&m.http[i]));
        }
        put(&t, "# HELP kaas_webhook_kaasd_connections Connections to kaasd in the pool, and those in use.\n"
                "# TYPE kaas_webhook_kaasd_connections gauge\n"
                "kaas_webhook_kaasd_connections{state=\"busy\"} %u\n"
                "kaas_webhook_kaasd_connections{state=\"total\"} %u\n",
            pool_busy, pool_size);
        if (st)
                render_store(&t, st);
        put(&t, "# HELP kaas_webhook_info The version of kaas-webhook.\n"
                "# TYPE kaas_webhook_info gauge\n"
                "kaas_webhook_info{version=\"%s\"} 1\n",
            PACKAGE_VERSION);
        if (t.failed) {
                free(t.buf);
                return NULL;
        }
        *ret_len = t.len;
        return t.buf;
}
