/* See server.h. The access handler runs in the connection's own thread
 * (MHD_USE_THREAD_PER_CONNECTION); MHD calls it once when the headers are
 * in, once per piece of body, and once more when the body is complete. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "httpd/body.h"
#include "httpd/log.h"
#include "httpd/pool.h"
#include "httpd/respond.h"
#include "httpd/server.h"
#include "kaas.h"
#include "metrics.h"
#include "review.h"
#include "server.h"
#include "settings.h"
#include "tokenreview.h"

#define HEALTH_TIMEOUT_MS 2000
struct wh_server {
        struct hd_server *httpd;
        const struct wh_reviewer *rv;
        size_t max_body;
        bool client_ca;
        atomic_int active;               /* requests between headers and answer */
        pthread_mutex_t health_lock;
        struct kaas_client *health;      /* its own connection: a busy pool must not fail /healthz */
};

enum route { ROUTE_AUTHENTICATE = 1 };

/* One request to /authenticate, from its headers to its answer. */
struct request {
        struct timespec started;
        struct hd_body body;
        char peer[INET6_ADDRSTRLEN + 8];
};

static unsigned long long usec_since(const struct timespec *t0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long long d = (long long)(t.tv_sec - t0->tv_sec) * 1000000LL + (t.tv_nsec - t0->tv_nsec) / 1000;
        return d > 0 ? (unsigned long long)d : 0;
}

static void request_free(struct request *rq) {
        if (!rq)
                return;
        hd_body_clear(&rq->body);
        free(rq);
}

/* ------------------------------------------------------------ responses */

/* What every answer of the webhook carries beside nosniff: nothing is
 * cached (reviews name users). */
static const struct hd_header no_store[] = {
        { MHD_HTTP_HEADER_CACHE_CONTROL, "no-store" },
        { NULL, NULL },
};

/* Queues body (taken: freed by MHD with free()) with status code. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned code, const char *content_type, char *body,
                               size_t len, const char *allow) {
        const struct hd_header extra[] = {
                { allow ? MHD_HTTP_HEADER_ALLOW : NULL, allow },
                { NULL, NULL },
        };
        wh_metrics_http_response(code);
        return hd_respond(conn, code, content_type, body, len, no_store, extra);
}

static enum MHD_Result respond_text(struct MHD_Connection *conn, unsigned code, const char *text, const char *allow) {
        char *body = strdup(text);
        if (!body)
                return MHD_NO;
        return respond(conn, code, "text/plain; charset=utf-8", body, strlen(body), allow);
}

/* A Kubernetes Status object, as kube-apiserver itself answers a bad request. */
static enum MHD_Result respond_failure(struct MHD_Connection *conn, unsigned code, const char *reason,
                                       const char *message, const char *allow) {
        size_t len;
        char *body = tokenreview_render_failure(code, reason, message, &len);
        if (!body)
                return MHD_NO;
        return respond(conn, code, "application/json", body, len, allow);
}

/* ------------------------------------------------------------ client certificates */

/* 0 when the client showed a certificate the client CA signed for client
 * authentication; 401 when it showed none, 403 when it does not verify. */
static unsigned check_client_certificate(struct MHD_Connection *conn, const char *peer) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (!ci || !ci->tls_session)
                return 401;
        gnutls_session_t session = (gnutls_session_t)ci->tls_session;
        unsigned n = 0;
        if (!gnutls_certificate_get_peers(session, &n) || n == 0) {
                hd_notice("refused %s: no client certificate", peer);
                return 401;
        }
        gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
                                          .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
        unsigned status = 0;
        int r = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
        if (r < 0 || status != 0) {
                gnutls_datum_t why = { NULL, 0 };
                if (r < 0 || gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) < 0)
                        hd_notice("refused %s: client certificate not verified (%s)", peer,
                                  r < 0 ? gnutls_strerror(r) : "?");
                else
                        hd_notice("refused %s: %s", peer, why.data);
                gnutls_free(why.data);
                return 403;
        }
        return 0;
}

/* ------------------------------------------------------------ routes */

static enum MHD_Result serve_healthz(struct wh_server *srv, struct MHD_Connection *conn) {
        char text[300];
        pthread_mutex_lock(&srv->health_lock);
        int r = kaas_call(srv->health, "org.varlink.service.GetInfo", NULL, NULL, NULL);
        pthread_mutex_unlock(&srv->health_lock);
        if (r == 0)
                return respond_text(conn, 200, "ok\n", NULL);
        snprintf(text, sizeof(text), "kaasd unavailable: %s\n", kaas_strerror(r));
        hd_debug("healthz: %s", text);
        return respond_text(conn, 503, text, NULL);
}

static enum MHD_Result serve_metrics(struct wh_server *srv, struct MHD_Connection *conn) {
        size_t len;
        char *body = wh_metrics_render_with_kaasd(srv->rv->pool, srv->rv->timeout_ms, &len);
        if (!body)
                return MHD_NO;
        return respond(conn, 200, "text/plain; version=0.0.4; charset=utf-8", body, len, NULL);
}

static void log_review(const struct request *rq, const struct tokenreview_request *req, const struct wh_review *rv,
                       unsigned long long usec) {
        const char *tid = rv->token_id[0] ? rv->token_id : "-";
        const char *api = tokenreview_api_version(req->version);
        switch (rv->result) {
        case WH_AUTHENTICATED:
                hd_info("review from %s (%s): authenticated %s, token %s, %llu ms", rq->peer, api, rv->detail, tid,
                        usec / 1000);
                break;
        case WH_UNAUTHENTICATED:
                hd_info("review from %s (%s): not authenticated (%s): %s, token %s, %llu ms", rq->peer, api,
                        wh_reason_name(rv->reason), rv->detail, tid, usec / 1000);
                break;
        default:
                hd_warning("review from %s (%s): error (%s): %s, %llu ms", rq->peer, api,
                           wh_kaasd_error_name(rv->kaasd_error), rv->detail, usec / 1000);
                break;
        }
}

static enum MHD_Result answer_review(struct wh_server *srv, struct MHD_Connection *conn, struct request *rq) {
        char err[200];
        struct tokenreview_request req;
        int r = tokenreview_parse(rq->body.data, rq->body.len, &req, err, sizeof(err));
        /* the body holds the token: gone as soon as it is parsed */
        hd_body_wipe(&rq->body);
        if (r == -ENOMEM)
                return MHD_NO;
        if (r < 0) {
                wh_metrics_review(WH_BAD_REQUEST, usec_since(&rq->started));
                hd_info("review from %s: 400: %s", rq->peer, err);
                return respond_failure(conn, 400, "BadRequest", err, NULL);
        }
        struct wh_review out;
        wh_review_decide(srv->rv, &req, &out);
        struct tokenreview_status st = {
                .authenticated = out.result == WH_AUTHENTICATED,
                .error = out.result == WH_ERROR ? out.error : NULL,
                .user = out.user,
                .audiences = out.audiences,
                .n_audiences = out.n_audiences,
        };
        size_t len;
        char *body = tokenreview_render(req.version, &st, &len);
        unsigned long long usec = usec_since(&rq->started);
        wh_metrics_review(out.result, usec);
        if (out.result == WH_UNAUTHENTICATED)
                wh_metrics_unauthenticated(out.reason);
        else if (out.result == WH_ERROR)
                wh_metrics_kaasd_error(out.kaasd_error);
        log_review(rq, &req, &out, usec);
        wh_review_clear(&out);
        tokenreview_request_clear(&req);
        if (!body)
                return MHD_NO;
        return respond(conn, 200, "application/json", body, len, NULL);
}

static bool method_is(const char *method, const char *m) {
        return strcmp(method, m) == 0;
}

/* The first call for a request: the headers are in, no body yet. */
static enum MHD_Result on_headers(struct wh_server *srv, struct MHD_Connection *conn, const char *url,
                                  const char *method, void **con_cls) {
        if (strcmp(url, "/healthz") == 0 || strcmp(url, "/metrics") == 0) {
                if (!method_is(method, MHD_HTTP_METHOD_GET) && !method_is(method, MHD_HTTP_METHOD_HEAD))
                        return respond_text(conn, 405, "method not allowed\n", "GET, HEAD");
                /* /healthz asks kaasd: that time is not the client's */
                hd_answering(conn);
                return url[1] == 'h' ? serve_healthz(srv, conn) : serve_metrics(srv, conn);
        }
        if (strcmp(url, "/authenticate") != 0)
                return respond_text(conn, 404, "not found\n", NULL);
        if (!method_is(method, MHD_HTTP_METHOD_POST))
                return respond_failure(conn, 405, "MethodNotAllowed", "only POST is allowed", "POST");

        struct request *rq = calloc(1, sizeof(*rq));
        if (!rq)
                return MHD_NO;
        clock_gettime(CLOCK_MONOTONIC, &rq->started);
        rq->body.max = srv->max_body;
        hd_peer_name(conn, rq->peer, sizeof(rq->peer));
        if (srv->client_ca) {
                unsigned code = check_client_certificate(conn, rq->peer);
                if (code) {
                        request_free(rq);
                        return code == 401 ? respond_failure(conn, 401, "Unauthorized",
                                                             "a client certificate is required", NULL)
                                           : respond_failure(conn, 403, "Forbidden",
                                                             "the client certificate is not trusted", NULL);
                }
        }
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (hd_body_expect(&rq->body, cl) < 0) {
                /* answered before the body: MHD closes the connection after the reply */
                /* the header's bytes stay out of the log: they are the client's */
                hd_info("review from %s: 413: Content-Length far over the limit of %zu bytes", rq->peer,
                        srv->max_body);
                request_free(rq);
                wh_metrics_review(WH_BAD_REQUEST, 0);
                return respond_failure(conn, 413, "RequestEntityTooLarge", "the request body is too large", NULL);
        }
        atomic_fetch_add(&srv->active, 1);
        wh_metrics_in_flight(1);
        *con_cls = rq;
        return MHD_YES;
}

/* A piece of body: kept while under the limit, counted and dropped past it. */
static enum MHD_Result on_body(struct request *rq, const char *data, size_t n) {
        int r = hd_body_add(&rq->body, data, n);
        if (r == -E2BIG)
                hd_info("review from %s: body still streaming past %zu bytes: connection closed", rq->peer,
                        rq->body.discarded);
        return r < 0 ? MHD_NO : MHD_YES;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
        struct wh_server *srv = cls;
        struct request *rq = *con_cls;
        if (!rq)
                return on_headers(srv, conn, url, method, con_cls);
        if (*upload_data_size) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                return on_body(rq, upload_data, n);
        }
        /* the whole request is in: kaasd's time is not the client's */
        hd_answering(conn);
        if (rq->body.too_large) {
                hd_info("review from %s: 413: body of %zu bytes over the limit of %zu", rq->peer, rq->body.discarded,
                        srv->max_body);
                wh_metrics_review(WH_BAD_REQUEST, usec_since(&rq->started));
                return respond_failure(conn, 413, "RequestEntityTooLarge", "the request body is too large", NULL);
        }
        return answer_review(srv, conn, rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        struct wh_server *srv = cls;
        struct request *rq = *con_cls;
        if (!rq)
                return;
        request_free(rq);
        *con_cls = NULL;
        atomic_fetch_sub(&srv->active, 1);
        wh_metrics_in_flight(-1);
}

/* ------------------------------------------------------------ start and stop */

static void count_connections(int delta) {
        wh_metrics_connections(delta);
}

int wh_server_start(const struct wh_settings *s, const struct wh_reviewer *rv, struct wh_server **ret, char *err,
                    size_t err_size) {
        struct wh_server *srv = calloc(1, sizeof(*srv));
        if (!srv)
                return -ENOMEM;
        srv->rv = rv;
        srv->max_body = s->max_body_size;
        srv->client_ca = s->client_ca_file != NULL;
        pthread_mutex_init(&srv->health_lock, NULL);
        int r = kaas_client_new(s->kaasd_socket, HEALTH_TIMEOUT_MS, &srv->health);
        if (r >= 0)
                r = kaas_client_require_kaasd(srv->health, rv->kaasd_uid);
        if (r < 0) {
                snprintf(err, err_size, "kaasd client: %s", kaas_strerror(r));
                goto fail;
        }
        const struct hd_server_options o = {
                .listen = s->listen,
                .cert_file = s->cert_file,
                .key_file = s->key_file,
                .client_ca_file = s->client_ca_file,
                .tls_priorities = s->tls_priorities,
                .max_connections = s->max_connections,
                .max_connections_per_client = s->max_connections_per_client,
                .connection_timeout_sec = s->connection_timeout_sec,
                .request_timeout_sec = s->request_timeout_sec,
                .events = { .connections = count_connections,
                            .refused = wh_metrics_connection_refused,
                            .request_timeout = wh_metrics_request_timeout },
                /* the fuzz harness's plaintext mode (settings.h) skips the
                 * files, the listening socket and TLS, and nothing else */
                .plaintext = s->fuzz_plaintext,
                .access = on_access,
                .completed = on_completed,
                .cls = srv,
        };
        if ((r = hd_server_start(&o, &srv->httpd, err, err_size)) < 0)
                goto fail;
        *ret = srv;
        return 0;
fail:
        kaas_client_free(srv->health);
        pthread_mutex_destroy(&srv->health_lock);
        free(srv);
        return r < 0 ? r : -EINVAL;
}

int wh_server_add_connection(struct wh_server *srv, int fd, const struct sockaddr *addr, socklen_t len) {
        return hd_server_add_connection(srv->httpd, fd, addr, len);
}

struct wh_server *wh_server_stop(struct wh_server *srv, unsigned timeout_sec) {
        if (!srv)
                return NULL;
        int active = hd_server_drain(srv->httpd, &srv->active, timeout_sec);
        if (active > 0)
                hd_warning("%d reviews still in flight after %u s: closing their connections", active, timeout_sec);
        hd_server_free(srv->httpd);
        kaas_client_free(srv->health);
        pthread_mutex_destroy(&srv->health_lock);
        free(srv);
        return NULL;
}
