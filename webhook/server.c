/* See server.h. The access handler runs in the connection's own thread
 * (MHD_USE_THREAD_PER_CONNECTION); MHD calls it once when the headers are
 * in, once per piece of body, and once more when the body is complete. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
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

#include "guard.h"
#include "kaas.h"
#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "review.h"
#include "server.h"
#include "settings.h"
#include "tokenreview.h"

#define PEM_FILE_MAX (1024 * 1024)
/* a body past the limit is read and dropped up to this many times the
 * limit, so the client still reads its 413; beyond, the connection is cut
 * (or, with a Content-Length that says so, answered at once and closed) */
#define DISCARD_FACTOR 16
#define HEALTH_TIMEOUT_MS 2000
/* each connection has a thread: 1 MiB of stack instead of glibc's 8 MiB
 * (from RLIMIT_STACK) reserves 10 GiB of address space for 10,000 of
 * them, not 80, which matters under RLIMIT_AS or strict overcommit;
 * jansson's nesting limit keeps parsing well within it */
#define THREAD_STACK_SIZE (1024 * 1024)
/* connections the kernel completes while the listening thread is busy
 * (capped by net.core.somaxconn): a burst from one host then costs
 * others no dropped SYN and its second's wait for a retransmission */
#define LISTEN_BACKLOG 4096

struct wh_server {
        struct MHD_Daemon *mhd;
        const struct wh_reviewer *rv;
        struct wh_guard *guard;
        size_t max_body;
        bool client_ca;
        atomic_int active;               /* requests between headers and answer */
        pthread_mutex_t health_lock;
        struct kaas_client *health;      /* its own connection: a busy pool must not fail /healthz */
        char listen[128];
};

enum route { ROUTE_AUTHENTICATE = 1 };

/* One request to /authenticate, from its headers to its answer. */
struct request {
        struct timespec started;
        char *body;
        size_t len, cap;
        size_t discarded;
        bool too_large;
        char peer[INET6_ADDRSTRLEN + 8];
};

static unsigned long long usec_since(const struct timespec *t0) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long long d = (long long)(t.tv_sec - t0->tv_sec) * 1000000LL + (t.tv_nsec - t0->tv_nsec) / 1000;
        return d > 0 ? (unsigned long long)d : 0;
}

static void peer_name(struct MHD_Connection *conn, char *buf, size_t size) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(buf, size, "?");
        if (!ci || !ci->client_addr)
                return;
        char a[INET6_ADDRSTRLEN];
        if (ci->client_addr->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
                if (inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)))
                        snprintf(buf, size, "%s:%u", a, ntohs(in->sin_port));
        } else if (ci->client_addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
                if (inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a)))
                        snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
        }
}

static struct wh_conn *conn_of(struct MHD_Connection *conn) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

static void request_free(struct request *rq) {
        if (!rq)
                return;
        if (rq->body)
                explicit_bzero(rq->body, rq->cap);
        free(rq->body);
        free(rq);
}

/* ------------------------------------------------------------ responses */

/* Queues body (taken: freed by MHD with free()) with status code. */
static enum MHD_Result respond(struct MHD_Connection *conn, unsigned code, const char *content_type, char *body,
                               size_t len, const char *allow) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        /* an answer follows the whole request (or ends the connection) */
        wh_guard_answering(conn_of(conn));
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        if (allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        enum MHD_Result ret = MHD_queue_response(conn, code, resp);
        MHD_destroy_response(resp);
        wh_metrics_http_response(code);
        return ret;
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
                wh_notice("refused %s: no client certificate", peer);
                return 401;
        }
        gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
                                          .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
        unsigned status = 0;
        int r = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
        if (r < 0 || status != 0) {
                gnutls_datum_t why = { NULL, 0 };
                if (r < 0 || gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &why, 0) < 0)
                        wh_notice("refused %s: client certificate not verified (%s)", peer,
                                  r < 0 ? gnutls_strerror(r) : "?");
                else
                        wh_notice("refused %s: %s", peer, why.data);
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
        wh_debug("healthz: %s", text);
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
                wh_info("review from %s (%s): authenticated %s, token %s, %llu ms", rq->peer, api, rv->detail, tid,
                        usec / 1000);
                break;
        case WH_UNAUTHENTICATED:
                wh_info("review from %s (%s): not authenticated (%s): %s, token %s, %llu ms", rq->peer, api,
                        wh_reason_name(rv->reason), rv->detail, tid, usec / 1000);
                break;
        default:
                wh_warning("review from %s (%s): error (%s): %s, %llu ms", rq->peer, api,
                           wh_kaasd_error_name(rv->kaasd_error), rv->detail, usec / 1000);
                break;
        }
}

static enum MHD_Result answer_review(struct wh_server *srv, struct MHD_Connection *conn, struct request *rq) {
        char err[200];
        struct tokenreview_request req;
        int r = tokenreview_parse(rq->body, rq->len, &req, err, sizeof(err));
        /* the body holds the token: gone as soon as it is parsed */
        if (rq->body)
                explicit_bzero(rq->body, rq->cap);
        if (r == -ENOMEM)
                return MHD_NO;
        if (r < 0) {
                wh_metrics_review(WH_BAD_REQUEST, usec_since(&rq->started));
                wh_info("review from %s: 400: %s", rq->peer, err);
                return respond_failure(conn, 400, "BadRequest", err, NULL);
        }
        struct wh_review out;
        wh_review_decide(srv->rv, &req, &out);
        struct tokenreview_status st = {
                .spec_audiences = req.audiences,
                .n_spec_audiences = req.n_audiences,
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
                wh_guard_answering(conn_of(conn));
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
        peer_name(conn, rq->peer, sizeof(rq->peer));
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
        if (cl) {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(cl, &end, 10);
                if (errno || *end || end == cl || n > DISCARD_FACTOR * srv->max_body) {
                        /* answered before the body: MHD closes the connection after the reply */
                        wh_info("review from %s: 413: Content-Length %s far over the limit of %zu bytes", rq->peer,
                                cl, srv->max_body);
                        request_free(rq);
                        wh_metrics_review(WH_BAD_REQUEST, 0);
                        return respond_failure(conn, 413, "RequestEntityTooLarge", "the request body is too large",
                                               NULL);
                }
                /* a little over: read and dropped, so the client reads its 413
                 * instead of a reset connection */
                rq->too_large = n > srv->max_body;
        }
        atomic_fetch_add(&srv->active, 1);
        wh_metrics_in_flight(1);
        *con_cls = rq;
        return MHD_YES;
}

/* A piece of body: kept while under the limit, counted and dropped past it. */
static enum MHD_Result on_body(struct wh_server *srv, struct request *rq, const char *data, size_t n) {
        if (!rq->too_large && n > srv->max_body - rq->len) {
                rq->too_large = true;
                rq->discarded = rq->len;
                if (rq->body)
                        explicit_bzero(rq->body, rq->cap);
                rq->len = 0;
        }
        if (rq->too_large) {
                rq->discarded += n;
                if (rq->discarded > DISCARD_FACTOR * srv->max_body) {
                        wh_info("review from %s: body still streaming past %zu bytes: connection closed", rq->peer,
                                rq->discarded);
                        return MHD_NO;
                }
                return MHD_YES;
        }
        if (rq->len + n > rq->cap) {
                size_t cap = rq->cap ? rq->cap : 4096;
                while (cap < rq->len + n)
                        cap *= 2;
                if (cap > srv->max_body)
                        cap = srv->max_body;
                char *b = malloc(cap);
                if (!b)
                        return MHD_NO;
                if (rq->body) {
                        memcpy(b, rq->body, rq->len);
                        explicit_bzero(rq->body, rq->cap);
                        free(rq->body);
                }
                rq->body = b;
                rq->cap = cap;
        }
        memcpy(rq->body + rq->len, data, n);
        rq->len += n;
        return MHD_YES;
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
                return on_body(srv, rq, upload_data, n);
        }
        /* the whole request is in: kaasd's time is not the client's */
        wh_guard_answering(conn_of(conn));
        if (rq->too_large) {
                wh_info("review from %s: 413: body of %zu bytes over the limit of %zu", rq->peer, rq->discarded,
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
        wh_guard_answered(conn_of(conn));
        if (!rq)
                return;
        request_free(rq);
        *con_cls = NULL;
        atomic_fetch_sub(&srv->active, 1);
        wh_metrics_in_flight(-1);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len) {
        struct wh_server *srv = cls;
        return wh_guard_admit(srv->guard, addr, len) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        struct wh_server *srv = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                const union MHD_ConnectionInfo *ca = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (fd)
                        *socket_context = wh_guard_opened(srv->guard, fd->connect_fd, ca ? ca->client_addr : NULL);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                /* before libmicrohttpd closes the socket: the guard stops naming it */
                wh_guard_closed(srv->guard, *socket_context);
                *socket_context = NULL;
        }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        char text[512];
        vsnprintf(text, sizeof(text), fmt, ap);
        wh_info("libmicrohttpd: %s", text);
}

/* ------------------------------------------------------------ start and stop */

/* Reads a PEM file whole (NUL-terminated, for MHD). */
static int read_pem(const char *path, char **ret, size_t *ret_len, char *err, size_t err_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PEM_FILE_MAX) {
                snprintf(err, err_size, "%s: not a regular file of 1 byte to %d bytes", path, PEM_FILE_MAX);
                close(fd);
                return -EINVAL;
        }
        size_t cap = (size_t)st.st_size + 1, len = 0;
        char *buf = malloc(cap);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        while (len < cap - 1) {
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        buf[len] = 0;
        if (len == 0 || !strstr(buf, "-----BEGIN ")) {
                snprintf(err, err_size, "%s: not a PEM file", path);
                explicit_bzero(buf, cap);
                free(buf);
                return -EINVAL;
        }
        *ret = buf;
        *ret_len = cap;
        return 0;
}

static void free_pem(char *buf, size_t cap) {
        if (buf)
                explicit_bzero(buf, cap);
        free(buf);
}

static int bind_listen(const char *listen_addr, char *err, size_t err_size) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (wh_parse_listen(listen_addr, &ss, &len) < 0) {
                snprintf(err, err_size, "cannot parse listen address '%s'", listen_addr);
                return -EINVAL;
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "socket: %s", strerror(-r));
                return r;
        }
        int one = 1, zero = 0;
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        /* "*" means IPv6 and IPv4 on one socket */
        if (ss.ss_family == AF_INET6)
                (void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
                int r = -errno;
                snprintf(err, err_size, "cannot listen on %s: %s", listen_addr, strerror(-r));
                close(fd);
                return r;
        }
        return fd;
}

int wh_server_start(const struct wh_settings *s, const struct wh_reviewer *rv, struct wh_server **ret, char *err,
                    size_t err_size) {
        struct wh_server *srv = calloc(1, sizeof(*srv));
        char *cert = NULL, *key = NULL, *ca = NULL;
        size_t cert_cap = 0, key_cap = 0, ca_cap = 0;
        int fd = -1, r;
        if (!srv)
                return -ENOMEM;
        srv->rv = rv;
        srv->max_body = s->max_body_size;
        srv->client_ca = s->client_ca_file != NULL;
        snprintf(srv->listen, sizeof(srv->listen), "%s", s->listen);
        if ((r = wh_guard_new(s->max_connections_per_client, s->request_timeout_sec, &srv->guard)) < 0) {
                free(srv);
                snprintf(err, err_size, "cannot start the connection guard: %s", strerror(-r));
                return r;
        }
        pthread_mutex_init(&srv->health_lock, NULL);
        r = kaas_client_new(s->kaasd_socket, HEALTH_TIMEOUT_MS, &srv->health);
        if (r >= 0)
                r = kaas_client_require_kaasd(srv->health, rv->kaasd_uid);
        if (r < 0) {
                snprintf(err, err_size, "kaasd client: %s", kaas_strerror(r));
                goto fail;
        }
        /* the fuzz harness's plaintext mode (settings.h) skips the files,
         * the listening socket and TLS, and nothing else */
        const bool plain = s->fuzz_plaintext;
        if (!plain && ((r = read_pem(s->cert_file, &cert, &cert_cap, err, err_size)) < 0 ||
                       (r = read_pem(s->key_file, &key, &key_cap, err, err_size)) < 0 ||
                       (s->client_ca_file && (r = read_pem(s->client_ca_file, &ca, &ca_cap, err, err_size)) < 0)))
                goto fail;
        if (!plain && (fd = bind_listen(s->listen, err, err_size)) < 0) {
                r = fd;
                goto fail;
        }
        /* MHD_OPTION_HTTPS_MEM_TRUST makes MHD ask for a client
         * certificate; checking it is ours, per request. MHD reads the
         * array up to its first MHD_OPTION_END: in plaintext mode, none. */
        struct MHD_OptionItem tls[] = {
                { plain ? MHD_OPTION_END : MHD_OPTION_LISTEN_SOCKET, fd, NULL },
                { MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
                { MHD_OPTION_HTTPS_MEM_KEY, 0, key },
                { MHD_OPTION_HTTPS_PRIORITIES, 0, s->tls_priorities },
                { ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, ca },
                { MHD_OPTION_END, 0, NULL },
        };
        srv->mhd = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                        (plain ? MHD_USE_NO_LISTEN_SOCKET : MHD_USE_TLS),
                0, on_accept, srv, on_access, srv,
                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                MHD_OPTION_CONNECTION_LIMIT, (unsigned)s->max_connections,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)s->connection_timeout_sec,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_SIZE,
                MHD_OPTION_ARRAY, tls,
                MHD_OPTION_END);
        if (!srv->mhd) {
                snprintf(err, err_size,
                         "cannot start the HTTPS server on %s (certificate %s and key %s must match and parse; "
                         "tls_priorities must be valid; see the log)",
                         s->listen, s->cert_file, s->key_file);
                r = -EINVAL;
                goto fail;
        }
        /* GnuTLS keeps its own copies: the key leaves our memory now */
        free_pem(cert, cert_cap);
        free_pem(key, key_cap);
        free_pem(ca, ca_cap);
        *ret = srv;
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        free_pem(cert, cert_cap);
        free_pem(key, key_cap);
        free_pem(ca, ca_cap);
        kaas_client_free(srv->health);
        pthread_mutex_destroy(&srv->health_lock);
        wh_guard_free(srv->guard);
        free(srv);
        return r < 0 ? r : -EINVAL;
}

int wh_server_add_connection(struct wh_server *srv, int fd, const struct sockaddr *addr, socklen_t len) {
        return MHD_add_connection(srv->mhd, fd, addr, len) == MHD_YES ? 0 : -EIO;
}

struct wh_server *wh_server_stop(struct wh_server *srv, unsigned timeout_sec) {
        if (!srv)
                return NULL;
        MHD_socket lfd = MHD_quiesce_daemon(srv->mhd);
        if (lfd != MHD_INVALID_SOCKET)
                close(lfd);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int active;
        while ((active = atomic_load(&srv->active)) > 0 && usec_since(&t0) < timeout_sec * 1000000ull)
                nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
        if (active > 0)
                wh_warning("%d reviews still in flight after %u s: closing their connections", active, timeout_sec);
        MHD_stop_daemon(srv->mhd);
        wh_guard_free(srv->guard);
        kaas_client_free(srv->health);
        pthread_mutex_destroy(&srv->health_lock);
        free(srv);
        return NULL;
}
