/* The etcd v3 JSON-gateway client; see etcd_client.h.
 *
 * Secrets handled here: the etcd password (read per login, wiped at once;
 * the login body holding it is wiped before it is freed) and the auth
 * token (wiped when replaced or freed, as is every header list that held
 * it). None of them is logged or put in an error text. Watch messages are
 * gathered by libcurl's write callback and handed to the caller from a
 * loop timer, outside libcurl. Depends on libcurl, jansson, libsodium,
 * curl_loop.h, etcd_json.h and secret_file.h. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_loop.h"
#include "etcd_client.h"
#include "secret_file.h"

#define ETCD_MAX_ENDPOINTS 16
#define ETCD_MAX_IN_FLIGHT 1024
#define ETCD_MAX_CONNECTIONS 8
#define ETCD_MAX_RESPONSE (32u * 1024 * 1024)   /* a range page; a pending watch backlog */
#define ETCD_MAX_KVS 100000                     /* per range reply */
/* per watch message: an event takes more than 16 bytes of its message, so
 * this never refuses one that fits ETCD_MAX_RESPONSE (refusing one stops
 * the watch at that revision for good) */
#define ETCD_MAX_EVENTS (ETCD_MAX_RESPONSE / 16)
#define ETCD_PASSWORD_MAX 1024
#define ETCD_TOKEN_MAX 4096
#define ETCD_ERRMSG_SIZE 512

enum req_kind { REQ_LOGIN, REQ_RANGE, REQ_TXN, REQ_WATCH };

struct etcd_request {
        struct etcd_client *ec;
        enum req_kind kind;
        const char *path;
        char *body;                     /* wiped on free (a login holds the password) */
        size_t body_len;
        CURL *easy;
        struct curl_slist *headers;     /* may hold the token: wiped on free */
        struct curl_body resp;
        bool active;                    /* handed to libcurl */
        bool relogged;                  /* retried once after a login */
        unsigned connect_attempts;
        unsigned endpoint;
        etcd_done_fn done;
        etcd_watch_fn on_message;
        void *userdata;
        int stop_status;                /* a watch to end: the callback asked, or a bad message */
        char stop_error[ETCD_ERRMSG_SIZE];
        char curl_err[CURL_ERROR_SIZE];
        struct etcd_request *prev, *next;
        struct etcd_request **list;     /* head of the list holding it */
};

struct etcd_client {
        struct loop *loop;
        struct curl_loop *curl;
        char *endpoints[ETCD_MAX_ENDPOINTS];
        unsigned n_endpoints, current;
        char *ca_file, *cert_file, *key_file, *user, *password_file;
        long connect_timeout_ms, timeout_ms;
        char *token;                    /* secret */
        struct etcd_request *login;     /* in flight */
        struct loop_timer *login_timer; /* a login to start from the loop */
        struct etcd_request *active;    /* with libcurl */
        struct etcd_request *waiting;   /* for a login */
        struct etcd_request *streams;   /* watch messages to hand over */
        struct loop_timer *stream_timer;
        unsigned n_requests;
        struct etcd_counters counters;
};

bool etcd_error_is_unavailable(int status) {
        return status == -EHOSTUNREACH || status == -ETIMEDOUT || status == -EKEYREJECTED || status == -EBADMSG ||
               status == -EMSGSIZE || status == -ENOMEM || status == -EBUSY;
}

static void list_add(struct etcd_request **head, struct etcd_request *r) {
        r->list = head;
        r->prev = NULL;
        r->next = *head;
        if (*head)
                (*head)->prev = r;
        *head = r;
}

static void list_del(struct etcd_request *r) {
        if (!r->list)
                return;
        if (r->prev)
                r->prev->next = r->next;
        else
                *r->list = r->next;
        if (r->next)
                r->next->prev = r->prev;
        r->prev = r->next = NULL;
        r->list = NULL;
}

static void request_free(struct etcd_request *req) {
        struct etcd_client *ec = req->ec;
        list_del(req);
        if (req->active)
                curl_loop_remove(ec->curl, req->easy);
        if (req->easy)
                curl_easy_cleanup(req->easy);
        curl_slist_free_wiped(req->headers);
        if (req->body) {
                sodium_memzero(req->body, req->body_len);
                free(req->body);
        }
        free(req->resp.data);
        if (ec->login == req)
                ec->login = NULL;
        ec->n_requests--;
        free(req);
}

static void deliver(struct etcd_request *req, struct etcd_result *res) {
        struct etcd_client *ec = req->ec;
        if (res->status < 0 && etcd_error_is_unavailable(res->status))
                ec->counters.failures++;
        etcd_done_fn done = req->done;
        void *userdata = req->userdata;
        res->endpoint = ec->endpoints[req->endpoint];
        request_free(req);
        if (done)
                done(res, userdata);
}

static void fail(struct etcd_request *req, int status, const char *error) {
        struct etcd_result res = { .status = status, .error = error };
        deliver(req, &res);
}

/* ------------------------------------------------------------ transfers */

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata);
static void stream_timer_fired(struct loop_timer *t, void *userdata);

static int request_start(struct etcd_request *req) {
        struct etcd_client *ec = req->ec;
        char url[1024], auth[ETCD_TOKEN_MAX + 32];
        curl_slist_free_wiped(req->headers);
        req->headers = NULL;
        if (req->easy)
                curl_easy_reset(req->easy);
        else if (!(req->easy = curl_easy_init()))
                return -ENOMEM;
        req->endpoint = ec->current;
        snprintf(url, sizeof(url), "%s%s", ec->endpoints[req->endpoint], req->path);
        struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json"), *h2;
        if (!h)
                return -ENOMEM;
        if ((h2 = curl_slist_append(h, "Expect:")))
                h = h2;
        if (req->kind != REQ_LOGIN && ec->token) {
                snprintf(auth, sizeof(auth), "Authorization: %s", ec->token);
                h2 = curl_slist_append(h, auth);
                sodium_memzero(auth, sizeof(auth));
                if (!h2) {
                        curl_slist_free_wiped(h);
                        return -ENOMEM;
                }
                h = h2;
        }
        req->headers = h;
        req->resp.len = 0;
        req->resp.too_big = false;
        req->curl_err[0] = '\0';
        CURL *e = req->easy;
        curl_easy_setopt(e, CURLOPT_URL, url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, req);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_err);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
#else
        curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ec->connect_timeout_ms);
        /* a watch lasts as long as it can; TCP keepalive notices a dead peer */
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->kind == REQ_WATCH ? 0L : ec->timeout_ms);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 5L);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 2L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(e, CURLOPT_CAINFO, ec->ca_file);
        curl_easy_setopt(e, CURLOPT_SSLCERT, ec->cert_file);
        curl_easy_setopt(e, CURLOPT_SSLKEY, ec->key_file);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "kaasd/" PACKAGE_VERSION);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        if (curl_loop_add(ec->curl, e) < 0)
                return -ENOMEM;
        req->active = true;
        list_add(&ec->active, req);
        ec->counters.requests++;
        return 0;
}

static void login_start(struct etcd_client *ec);

static void login_timer_fired(struct loop_timer *t, void *userdata) {
        struct etcd_client *ec = userdata;
        ec->login_timer = NULL;
        if (!ec->login && ec->waiting)
                login_start(ec);
}

/* Sends req now, or after a login when none is held. The login starts
 * from the loop, not here: one that fails at once (the password file
 * unreadable) answers the requests waiting for it, and a callback must
 * never run before the call that started it has returned. */
static int request_submit(struct etcd_request *req) {
        struct etcd_client *ec = req->ec;
        if (req->kind == REQ_LOGIN || ec->token)
                return request_start(req);
        if (!ec->login && !ec->login_timer && loop_timer_add(ec->loop, 0, login_timer_fired, ec, &ec->login_timer) < 0)
                return -ENOMEM;
        list_add(&ec->waiting, req);
        return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        struct etcd_request *req = userdata;
        size_t n = size * nmemb;
        if (curl_body_append(&req->resp, data, n, ETCD_MAX_RESPONSE) != n)
                return 0;
        if (req->kind == REQ_WATCH && memchr(data, '\n', n) && !req->ec->stream_timer)
                loop_timer_add(req->ec->loop, 0, stream_timer_fired, req->ec, &req->ec->stream_timer);
        return n;
}

static bool wants_login(int grpc, const char *msg) {
        return grpc == 16 || strstr(msg, "invalid auth token") || strstr(msg, "user name is empty");
}

static void token_drop(struct etcd_client *ec) {
        secret_free(ec->token);
        ec->token = NULL;
}

/* Hands the complete lines of a watch stream to its callback, until one
 * of them asks to stop or cannot be read: then req->stop_status is set. */
static void stream_lines(struct etcd_request *req) {
        struct etcd_client *ec = req->ec;
        size_t start = 0;
        char *nl;
        while (req->stop_status == 0 && req->resp.len > start &&
               (nl = memchr(req->resp.data + start, '\n', req->resp.len - start))) {
                size_t len = (size_t)(nl - (req->resp.data + start));
                const char *line = req->resp.data + start;
                start += len + 1;
                if (len == 0)
                        continue;
                struct etcd_watch_reply w = { 0 };
                int r = etcd_json_watch_reply(line, len, ETCD_MAX_EVENTS, &w);
                ec->counters.watch_messages++;
                if (r < 0) {
                        int grpc = 0;
                        char text[256];
                        if (r == -EPROTO && etcd_json_error(line, len, &grpc, text, sizeof(text))) {
                                snprintf(req->stop_error, sizeof(req->stop_error), "%s: %s",
                                         ec->endpoints[req->endpoint], text);
                                if (wants_login(grpc, text))
                                        token_drop(ec);
                                r = grpc == 7 ? -EACCES : -EPROTO;
                        } else {
                                snprintf(req->stop_error, sizeof(req->stop_error), "%s: watch message of the wrong shape",
                                         ec->endpoints[req->endpoint]);
                        }
                        req->stop_status = r;
                        break;
                }
                r = req->on_message(&w, req->userdata);
                etcd_watch_reply_clear(&w);
                if (r < 0) {
                        req->stop_status = -ECANCELED;
                        snprintf(req->stop_error, sizeof(req->stop_error), "the watch was stopped");
                }
        }
        memmove(req->resp.data, req->resp.data + start, req->resp.len - start);
        req->resp.len -= start;
}

static bool stream_ready(const struct etcd_request *r) {
        return r->kind == REQ_WATCH && (r->stop_status != 0 || (r->resp.len > 0 && memchr(r->resp.data, '\n', r->resp.len)));
}

static void stream_timer_fired(struct loop_timer *t, void *userdata) {
        struct etcd_client *ec = userdata;
        ec->stream_timer = NULL;
        /* callbacks may start and cancel calls: look for work afresh each time */
        for (;;) {
                struct etcd_request *req = ec->active;
                while (req && !stream_ready(req))
                        req = req->next;
                if (!req)
                        break;
                stream_lines(req);
                if (req->stop_status != 0) {
                        char msg[sizeof(req->stop_error)];
                        memcpy(msg, req->stop_error, sizeof(msg));
                        fail(req, req->stop_status, msg);
                }
        }
}

static void client_rotate(struct etcd_client *ec, unsigned failed) {
        if (ec->current == failed)
                ec->current = (failed + 1) % ec->n_endpoints;
}

static void login_done(struct etcd_client *ec, int status, const char *error);

/* Maps a transfer's outcome to a status and a message. */
static int transfer_status(struct etcd_request *req, CURLcode cc, long http, char *msg, size_t msg_size,
                           int *ret_grpc) {
        *ret_grpc = 0;
        if (cc != CURLE_OK) {
                if (req->resp.too_big) {
                        snprintf(msg, msg_size, "reply larger than %u bytes", ETCD_MAX_RESPONSE);
                        return -EMSGSIZE;
                }
                snprintf(msg, msg_size, "%s: %s", req->ec->endpoints[req->endpoint],
                         req->curl_err[0] ? req->curl_err : curl_easy_strerror(cc));
                if (cc == CURLE_OPERATION_TIMEDOUT)
                        return -ETIMEDOUT;
                return -EHOSTUNREACH;
        }
        char text[256];
        if (http != 200 || (req->resp.data && etcd_json_error(req->resp.data, req->resp.len, ret_grpc, text, sizeof(text)))) {
                if (!req->resp.data || !etcd_json_error(req->resp.data, req->resp.len, ret_grpc, text, sizeof(text)))
                        snprintf(text, sizeof(text), "HTTP status %ld", http);
                snprintf(msg, msg_size, "%s: %s", req->ec->endpoints[req->endpoint], text);
                switch (*ret_grpc) {
                case 7:   /* PermissionDenied */
                        return -EACCES;
                case 14:  /* Unavailable: no leader, leader changed, stopping */
                case 4:   /* DeadlineExceeded */
                        return -EHOSTUNREACH;
                default:
                        return -EPROTO;
                }
        }
        return 0;
}

static void on_transfer_done(CURL *easy, CURLcode cc, void *userdata) {
        struct etcd_request *req = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
        if (!req)
                return;
        struct etcd_client *ec = req->ec;
        long http = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &http);
        list_del(req);
        curl_loop_remove(ec->curl, easy);
        req->active = false;

        if (req->kind == REQ_WATCH && http == 200) {
                stream_lines(req);  /* what arrived before the end */
                if (req->stop_status != 0) {
                        char msg[ETCD_ERRMSG_SIZE];
                        memcpy(msg, req->stop_error, sizeof(msg));
                        fail(req, req->stop_status, msg);
                        return;
                }
        }
        char msg[ETCD_ERRMSG_SIZE];
        int grpc;
        int status = transfer_status(req, cc, http, msg, sizeof(msg), &grpc);
        if (status == -EHOSTUNREACH && cc == CURLE_COULDNT_CONNECT &&
            ++req->connect_attempts < ec->n_endpoints) {
                /* nothing was sent: the next member may answer */
                client_rotate(ec, req->endpoint);
                if (request_start(req) == 0)
                        return;
        }
        if (status == -EHOSTUNREACH || status == -ETIMEDOUT)
                client_rotate(ec, req->endpoint);
        if (req->kind == REQ_LOGIN) {
                char *token = NULL;
                if (status == 0 && etcd_json_auth_reply(req->resp.data, req->resp.len, ETCD_TOKEN_MAX, &token) < 0) {
                        status = -EBADMSG;
                        snprintf(msg, sizeof(msg), "login reply without a token");
                } else if (status == -EPROTO || status == -EACCES) {
                        status = -EKEYREJECTED;
                }
                if (req->resp.data)
                        sodium_memzero(req->resp.data, req->resp.len);
                request_free(req);
                if (status == 0) {
                        token_drop(ec);
                        ec->token = token;
                }
                login_done(ec, status, status < 0 ? msg : NULL);
                return;
        }
        if (status < 0 && req->kind != REQ_LOGIN && !req->relogged && wants_login(grpc, msg)) {
                req->relogged = true;
                token_drop(ec);
                if (request_submit(req) == 0)
                        return;
        }
        struct etcd_result res = { .status = status, .error = status < 0 ? msg : NULL };
        struct etcd_range_reply range = { 0 };
        struct etcd_txn_reply txn = { 0 };
        if (status == 0 && req->kind == REQ_RANGE) {
                int r = etcd_json_range_reply(req->resp.data, req->resp.len, ETCD_MAX_KVS, &range);
                if (r < 0) {
                        res.status = r;
                        res.error = "range reply of the wrong shape";
                } else {
                        res.range = &range;
                        res.revision = range.revision;
                }
        } else if (status == 0 && req->kind == REQ_TXN) {
                int r = etcd_json_txn_reply(req->resp.data, req->resp.len, &txn);
                if (r < 0) {
                        res.status = r;
                        res.error = "txn reply of the wrong shape";
                } else {
                        res.txn = &txn;
                        res.revision = txn.revision;
                }
        } else if (status == 0 && req->kind == REQ_WATCH) {
                res.status = -EHOSTUNREACH;  /* a watch does not end by itself */
                res.error = "the watch stream ended";
        }
        deliver(req, &res);
        etcd_range_reply_clear(&range);
        etcd_txn_reply_clear(&txn);
}

/* ------------------------------------------------------------ login */

static void login_done(struct etcd_client *ec, int status, const char *error) {
        struct etcd_request *l = ec->waiting;
        ec->waiting = NULL;
        for (struct etcd_request *r = l; r; r = r->next)
                r->list = &l;
        while (l) {
                struct etcd_request *req = l;
                list_del(req);
                int r = status;
                if (r == 0 && (r = request_start(req)) < 0)
                        error = "cannot start the request";
                if (r < 0)
                        fail(req, r, error);
        }
}

static void login_start(struct etcd_client *ec) {
        char password[ETCD_PASSWORD_MAX], err[ETCD_ERRMSG_SIZE];
        int r = secret_file_read(ec->password_file, password, sizeof(password), err, sizeof(err));
        if (r < 0) {
                login_done(ec, -EKEYREJECTED, err);
                return;
        }
        json_t *body = json_pack("{s:s, s:s}", "name", ec->user, "password", password);
        sodium_memzero(password, sizeof(password));
        char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        if (body) {
                json_t *pw = json_object_get(body, "password");
                sodium_memzero((char *)json_string_value(pw), json_string_length(pw));
                json_decref(body);
        }
        struct etcd_request *req = text ? calloc(1, sizeof(*req)) : NULL;
        if (!req) {
                secret_free(text);
                login_done(ec, -ENOMEM, "out of memory");
                return;
        }
        req->ec = ec;
        req->kind = REQ_LOGIN;
        req->path = "/v3/auth/authenticate";
        req->body = text;
        req->body_len = strlen(text);
        ec->n_requests++;
        ec->counters.logins++;
        ec->login = req;
        if ((r = request_start(req)) < 0) {
                request_free(req);
                login_done(ec, r, "cannot start the login");
        }
}

/* ------------------------------------------------------------ calls */

static int call_new(struct etcd_client *ec, enum req_kind kind, const char *path, char *body, etcd_done_fn done,
                    void *userdata, struct etcd_request **ret_req) {
        if (!body)
                return -ENOMEM;
        if (ec->n_requests >= ETCD_MAX_IN_FLIGHT) {
                free(body);
                return -EBUSY;
        }
        struct etcd_request *req = calloc(1, sizeof(*req));
        if (!req) {
                free(body);
                return -ENOMEM;
        }
        req->ec = ec;
        req->kind = kind;
        req->path = path;
        req->body = body;
        req->body_len = strlen(body);
        req->done = done;
        req->userdata = userdata;
        ec->n_requests++;
        int r = request_submit(req);
        if (r < 0) {
                request_free(req);
                return r;
        }
        if (ret_req)
                *ret_req = req;
        return 0;
}

static char *range_body(const char *key, size_t key_len, const char *range_end, size_t range_end_len,
                        int64_t revision, int64_t limit, int64_t start_revision, bool watch) {
        char *k = etcd_b64(key, key_len);
        char *e = range_end ? etcd_b64(range_end, range_end_len) : NULL;
        char *out = NULL;
        if (k && (!range_end || e)) {
                json_t *j = json_pack("{s:s}", "key", k);
                if (j && e)
                        json_object_set_new(j, "range_end", json_string(e));
                if (j && revision > 0)
                        json_object_set_new(j, "revision", json_integer(revision));
                if (j && limit > 0)
                        json_object_set_new(j, "limit", json_integer(limit));
                if (j && start_revision > 0)
                        json_object_set_new(j, "start_revision", json_integer(start_revision));
                if (j && watch) {
                        json_object_set_new(j, "progress_notify", json_true());
                        j = json_pack("{s:o}", "create_request", j);
                }
                out = j ? json_dumps(j, JSON_COMPACT) : NULL;
                json_decref(j);
        }
        free(k);
        free(e);
        return out;
}

int etcd_range(struct etcd_client *ec, const char *key, size_t key_len, const char *range_end,
               size_t range_end_len, int64_t revision, int64_t limit, etcd_done_fn done, void *userdata,
               struct etcd_request **ret_req) {
        return call_new(ec, REQ_RANGE, "/v3/kv/range",
                        range_body(key, key_len, range_end, range_end_len, revision, limit, 0, false), done,
                        userdata, ret_req);
}

int etcd_txn(struct etcd_client *ec, const char *body, etcd_done_fn done, void *userdata,
             struct etcd_request **ret_req) {
        return call_new(ec, REQ_TXN, "/v3/kv/txn", strdup(body), done, userdata, ret_req);
}

int etcd_watch(struct etcd_client *ec, const char *key, size_t key_len, const char *range_end,
               size_t range_end_len, int64_t start_revision, etcd_watch_fn on_message, etcd_done_fn done,
               void *userdata, struct etcd_request **ret_req) {
        struct etcd_request *req = NULL;
        int r = call_new(ec, REQ_WATCH, "/v3/watch",
                         range_body(key, key_len, range_end, range_end_len, 0, 0, start_revision, true), done,
                         userdata, &req);
        if (r < 0)
                return r;
        req->on_message = on_message;
        if (ret_req)
                *ret_req = req;
        return 0;
}

void etcd_cancel(struct etcd_request *req) {
        if (req)
                request_free(req);
}

const char *etcd_request_endpoint(const struct etcd_request *req) {
        return req->ec->endpoints[req->endpoint];
}

/* ------------------------------------------------------------ lifetime */

static int set_str(char **field, const char *v) {
        if (!(*field = strdup(v)))
                return -ENOMEM;
        return 0;
}

int etcd_client_new(struct loop *loop, const struct config *c, struct etcd_client **ret, char *err,
                    size_t err_size) {
        if (!c->etcd_endpoints) {
                snprintf(err, err_size, "[etcd] endpoints is not set");
                return -EINVAL;
        }
        struct etcd_client *ec = calloc(1, sizeof(*ec));
        if (!ec)
                return -ENOMEM;
        ec->loop = loop;
        ec->connect_timeout_ms = (long)c->etcd_connect_timeout_sec * 1000;
        ec->timeout_ms = (long)c->etcd_timeout_sec * 1000;
        int r = curl_loop_new(loop, ETCD_MAX_CONNECTIONS, on_transfer_done, ec, &ec->curl);
        if (r < 0 || set_str(&ec->ca_file, c->etcd_ca_file) < 0 || set_str(&ec->cert_file, c->etcd_cert_file) < 0 ||
            set_str(&ec->key_file, c->etcd_key_file) < 0 || set_str(&ec->user, c->etcd_user) < 0 ||
            set_str(&ec->password_file, c->etcd_password_file) < 0) {
                etcd_client_free(ec);
                snprintf(err, err_size, "out of memory");
                return r < 0 ? r : -ENOMEM;
        }
        const char *p = c->etcd_endpoints;
        while (*p) {
                p += strspn(p, ", \t");
                size_t n = strcspn(p, ", \t");
                if (n == 0)
                        break;
                while (n > 0 && p[n - 1] == '/')
                        n--;
                if (ec->n_endpoints >= ETCD_MAX_ENDPOINTS) {
                        etcd_client_free(ec);
                        snprintf(err, err_size, "[etcd] endpoints: at most %d", ETCD_MAX_ENDPOINTS);
                        return -EINVAL;
                }
                if (!(ec->endpoints[ec->n_endpoints++] = strndup(p, n))) {
                        etcd_client_free(ec);
                        return -ENOMEM;
                }
                p += strcspn(p, ", \t");
        }
        if (ec->n_endpoints == 0) {
                etcd_client_free(ec);
                snprintf(err, err_size, "[etcd] endpoints is empty");
                return -EINVAL;
        }
        *ret = ec;
        return 0;
}

struct etcd_client *etcd_client_free(struct etcd_client *ec) {
        if (!ec)
                return NULL;
        while (ec->active)
                request_free(ec->active);
        while (ec->waiting)
                request_free(ec->waiting);
        loop_timer_cancel(ec->stream_timer);
        loop_timer_cancel(ec->login_timer);
        curl_loop_free(ec->curl);
        token_drop(ec);
        for (unsigned i = 0; i < ec->n_endpoints; i++)
                free(ec->endpoints[i]);
        free(ec->ca_file);
        free(ec->cert_file);
        free(ec->key_file);
        free(ec->user);
        free(ec->password_file);
        free(ec);
        return NULL;
}

const struct etcd_counters *etcd_client_counters(const struct etcd_client *ec) {
        return &ec->counters;
}

const char *etcd_client_endpoint(const struct etcd_client *ec) {
        return ec->endpoints[ec->current];
}
