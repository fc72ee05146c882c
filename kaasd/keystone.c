/* The Keystone client on libcurl's multi interface; see keystone.h.
 *
 * curl_loop.c drives libcurl from the event loop and hands over completed
 * transfers outside any libcurl callback, so a completion callback may
 * start or cancel other calls. The multi handle's connection cache keeps
 * connections to Keystone open between calls.
 *
 * Secrets handled here: the service password (read per authentication,
 * wiped at once), the service token (wiped when replaced or freed), user
 * passwords and tokens under check (request bodies and header lists are
 * wiped before they are freed). None of them is ever logged or put in an
 * error text. Depends on libcurl, libsodium, curl_loop.h and keystone_json.h. */
#include "config.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "curl_loop.h"
#include "secret_file.h"
#include "keystone.h"

#define KS_MAX_IN_FLIGHT 512          /* calls started and not completed */
#define KS_MAX_CONNECTIONS 16         /* to Keystone at once; more wait in libcurl */
#define KS_PASSWORD_MAX 1024
#define KS_SERVICE_TOKEN_MAX 8192
#define KS_ERRMSG_SIZE 512

enum req_state { REQ_NEW, REQ_WAITING, REQ_ACTIVE, REQ_DONE };

struct ks_request {
        struct keystone *ks;
        enum ks_kind kind;
        enum req_state state;
        keystone_done_fn fn;
        void *userdata;
        bool needs_token;
        bool retried;                 /* after a 401 with our token */
        bool retried_transient;       /* after a dropped connection or a 5xx */
        uint64_t token_generation;    /* of the service token the call was sent with */
        CURL *easy;
        struct curl_slist *headers;   /* may hold secrets: wiped on free */
        char *url;
        char *path;                   /* for error texts: no secrets, no query values */
        char *body;                   /* may hold a password: wiped on free */
        size_t body_len;
        char *subject_token;          /* TOKEN_CHECK, TOKEN_REVOKE */
        char *arg;                    /* the exact name looked for (BY_NAME) or the user ID (ROLES) */
        char *arg_domain;             /* the domain ID the name is looked for in (USER_BY_NAME) */
        struct curl_body resp;
        char *got_token;              /* SERVICE_AUTH, PASSWORD with keep_token: X-Subject-Token */
        bool keep_token;              /* PASSWORD: the caller wants the issued token */
        char curl_err[CURL_ERROR_SIZE];
        uint64_t started_usec;
        /* deferred completion (errors found before sending) */
        int deferred_status;
        char *deferred_error;
        struct req_list *list;        /* the list holding it, if any */
        struct ks_request *prev, *next;
};

struct req_list {
        struct ks_request *head, *tail;
};

struct keystone {
        struct loop *loop;
        struct curl_loop *curl;
        struct loop_timer *defer_timer;

        char *base_url;               /* without /v3 and without a trailing slash */
        char *user;
        char *user_domain;
        char *password_file;
        char *ca_file;
        bool verify_tls;
        long connect_timeout_ms;
        long timeout_ms;
        size_t max_response;

        char *service_token;
        uint64_t token_generation;
        uint64_t token_renew_at;      /* monotonic */
        uint64_t token_usable_until;  /* monotonic */
        int64_t token_expires_at;     /* unix seconds, for Status */
        unsigned service_auth_in_flight;

        struct req_list active;       /* handed to libcurl */
        struct req_list waiting;      /* for a service token */
        struct req_list deferred;     /* completed without a transfer */
        unsigned n_requests;
        struct keystone_counters counters;
};

static const char *const kind_names[KS_REQ_KIND_MAX] = {
        [KS_REQ_SERVICE_AUTH] = "service_auth",
        [KS_REQ_PASSWORD] = "password",
        [KS_REQ_TOKEN_CHECK] = "token_check",
        [KS_REQ_USER] = "user",
        [KS_REQ_USER_BY_NAME] = "user_by_name",
        [KS_REQ_ROLES] = "role_assignments",
        [KS_REQ_DOMAIN] = "domain",
        [KS_REQ_DOMAIN_BY_NAME] = "domain_by_name",
        [KS_REQ_TOKEN_REVOKE] = "token_revoke",
};

const char *keystone_kind_name(enum ks_kind kind) {
        return kind < KS_REQ_KIND_MAX ? kind_names[kind] : "unknown";
}

bool keystone_error_is_unavailable(int status) {
        switch (status) {
        case -EHOSTUNREACH:
        case -ETIMEDOUT:
        case -EPROTO:
        case -EBADMSG:
        case -EMSGSIZE:
        case -EKEYREJECTED:
        case -ENOTCONN:
        case -EBUSY:
        case -ENOMEM:
                return true;
        default:
                return false;
        }
}

/* ------------------------------------------------------------ helpers */

static void list_append(struct req_list *l, struct ks_request *r) {
        r->list = l;
        r->prev = l->tail;
        r->next = NULL;
        if (l->tail)
                l->tail->next = r;
        else
                l->head = r;
        l->tail = r;
}

static void list_remove(struct req_list *l, struct ks_request *r) {
        if (r->prev)
                r->prev->next = r->next;
        else
                l->head = r->next;
        if (r->next)
                r->next->prev = r->prev;
        else
                l->tail = r->prev;
        r->prev = r->next = NULL;
        r->list = NULL;
}

/* Moves every request of from to to (a list on the caller's stack while it
 * completes them): a callback that cancels one of them then takes it out
 * of the list it really is in. */
static void list_move(struct req_list *from, struct req_list *to) {
        *to = *from;
        *from = (struct req_list){ 0 };
        for (struct ks_request *r = to->head; r; r = r->next)
                r->list = to;
}

/* Takes the first request off l (one list_move() filled), as a new
 * request in no list; NULL when l is empty. */
static struct ks_request *list_pop(struct req_list *l) {
        struct ks_request *req = l->head;
        if (req) {
                list_remove(l, req);
                req->state = REQ_NEW;
        }
        return req;
}

/* Percent-encodes everything but RFC 3986 unreserved characters. */
static char *url_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(n * 3 + 1), *o = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '.' || c == '_' || c == '~') {
                        *o++ = (char)c;
                } else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = '\0';
        return out;
}

/* Appends s as a JSON string (with quotes) to buf; returns the new length
 * or 0 when it does not fit. No copy of s is left anywhere else. */
static size_t json_put_string(char *buf, size_t size, size_t len, const char *s) {
        static const char hex[] = "0123456789abcdef";
        if (len + 1 >= size)
                return 0;
        buf[len++] = '"';
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (len + 7 >= size)
                        return 0;
                if (c == '"' || c == '\\') {
                        buf[len++] = '\\';
                        buf[len++] = (char)c;
                } else if (c < 0x20 || c == 0x7f) {
                        memcpy(buf + len, "\\u00", 4);
                        buf[len + 4] = hex[c >> 4];
                        buf[len + 5] = hex[c & 15];
                        len += 6;
                } else {
                        buf[len++] = (char)c;
                }
        }
        buf[len++] = '"';
        buf[len] = '\0';
        return len;
}

static size_t json_put_raw(char *buf, size_t size, size_t len, const char *s) {
        size_t n = strlen(s);
        if (len + n + 1 > size)
                return 0;
        memcpy(buf + len, s, n + 1);
        return len + n;
}

/* {"auth":{"identity":{"methods":["password"],"password":{"user":
 *   {"name":N,"domain":{"name"|"id":D},"password":P}}}[,"scope":...]}} */
static int build_password_body(const char *name, const char *domain, bool domain_is_id,
                               const char *password, bool system_scope, char **ret, size_t *ret_len) {
        size_t size = 256 + 6 * (strlen(name) + strlen(domain) + strlen(password));
        char *b = malloc(size);
        if (!b)
                return -ENOMEM;
        size_t n = 0;
        b[0] = '\0';
        if (!(n = json_put_raw(b, size, n, "{\"auth\":{\"identity\":{\"methods\":[\"password\"],"
                                           "\"password\":{\"user\":{\"name\":")) ||
            !(n = json_put_string(b, size, n, name)) ||
            !(n = json_put_raw(b, size, n, domain_is_id ? ",\"domain\":{\"id\":" : ",\"domain\":{\"name\":")) ||
            !(n = json_put_string(b, size, n, domain)) ||
            !(n = json_put_raw(b, size, n, "},\"password\":")) ||
            !(n = json_put_string(b, size, n, password)) ||
            !(n = json_put_raw(b, size, n, system_scope ? "}}},\"scope\":{\"system\":{\"all\":true}}}}" : "}}}}}"))) {
                sodium_memzero(b, size);
                free(b);
                return -ENOMEM;
        }
        *ret = b;
        *ret_len = n;
        return 0;
}

static size_t on_write(char *data, size_t size, size_t nmemb, void *userdata) {
        struct ks_request *req = userdata;
        return curl_body_append(&req->resp, data, size * nmemb, req->ks->max_response);
}

/* Only our own authentication, and a password authentication whose caller
 * asked for it (keystone_password_token()), keep the token Keystone sends
 * back. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata) {
        struct ks_request *req = userdata;
        size_t n = size * nmemb;
        static const char name[] = "X-Subject-Token:";
        if ((req->kind != KS_REQ_SERVICE_AUTH && !(req->kind == KS_REQ_PASSWORD && req->keep_token)) ||
            n <= sizeof(name) - 1 ||
            strncasecmp(data, name, sizeof(name) - 1) != 0)
                return n;
        const char *v = data + sizeof(name) - 1, *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
                end--;
        if (end == v || (size_t)(end - v) > KS_SERVICE_TOKEN_MAX)
                return n;
        secret_free(req->got_token);
        req->got_token = strndup(v, (size_t)(end - v));
        return n;
}

/* ------------------------------------------------------------ requests */

static void request_free(struct ks_request *req) {
        if (!req)
                return;
        if (req->easy)
                curl_easy_cleanup(req->easy);
        curl_slist_free_wiped(req->headers);
        if (req->body) {
                sodium_memzero(req->body, req->body_len);
                free(req->body);
        }
        secret_free(req->subject_token);
        secret_free(req->got_token);
        free(req->url);
        free(req->path);
        free(req->arg);
        free(req->arg_domain);
        free(req->resp.data);
        free(req->deferred_error);
        free(req);
}

static int request_new(struct keystone *ks, enum ks_kind kind, const char *path, keystone_done_fn fn,
                       void *userdata, struct ks_request **ret) {
        if (ks->n_requests >= KS_MAX_IN_FLIGHT && kind != KS_REQ_SERVICE_AUTH)
                return -EBUSY;
        struct ks_request *req = calloc(1, sizeof(*req));
        if (!req)
                return -ENOMEM;
        req->ks = ks;
        req->kind = kind;
        req->fn = fn;
        req->userdata = userdata;
        /* a revocation authenticates with the token it revokes */
        req->needs_token = kind != KS_REQ_SERVICE_AUTH && kind != KS_REQ_PASSWORD && kind != KS_REQ_TOKEN_REVOKE;
        size_t n = strlen(ks->base_url) + strlen(path) + 1;
        req->url = malloc(n);
        req->path = strdup(path);
        if (!req->url || !req->path) {
                request_free(req);
                return -ENOMEM;
        }
        snprintf(req->url, n, "%s%s", ks->base_url, path);
        /* the query string may hold names: keep it out of error texts */
        char *q = strchr(req->path, '?');
        if (q)
                *q = '\0';
        *ret = req;
        return 0;
}

static void defer_fire(struct loop_timer *t, void *userdata);

/* Completes req from the loop with an error found before sending. */
static void complete_later(struct ks_request *req, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void complete_later(struct ks_request *req, int status, const char *fmt, ...) {
        struct keystone *ks = req->ks;
        char msg[KS_ERRMSG_SIZE];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        req->deferred_status = status;
        free(req->deferred_error);
        req->deferred_error = strdup(msg);
        req->state = REQ_DONE;
        list_append(&ks->deferred, req);
        if (!ks->defer_timer)
                (void)loop_timer_add(ks->loop, 0, defer_fire, ks, &ks->defer_timer);
}

static int request_start_transfer(struct ks_request *req);
static void service_auth_start(struct keystone *ks);

/* Starts req now, or parks it until a service token is there. */
static int request_submit(struct ks_request *req) {
        struct keystone *ks = req->ks;
        if (!req->needs_token)
                return request_start_transfer(req);
        uint64_t now = loop_now_usec();
        if (ks->service_token && now < ks->token_usable_until) {
                if (now >= ks->token_renew_at && ks->service_auth_in_flight == 0)
                        service_auth_start(ks);  /* renew in the background */
                return request_start_transfer(req);
        }
        req->state = REQ_WAITING;
        list_append(&ks->waiting, req);
        if (ks->service_auth_in_flight == 0)
                service_auth_start(ks);
        return 0;
}

static int request_start_transfer(struct ks_request *req) {
        struct keystone *ks = req->ks;
        curl_slist_free_wiped(req->headers);
        req->headers = NULL;
        if (req->easy)
                curl_easy_reset(req->easy);
        else if (!(req->easy = curl_easy_init()))
                return -ENOMEM;
        CURL *e = req->easy;
        struct curl_slist *h = NULL, *h2;
        char line[KS_SERVICE_TOKEN_MAX + 64];
#define ADD_HEADER(s)                                  \
        do {                                           \
                if (!(h2 = curl_slist_append(h, s))) { \
                        curl_slist_free_wiped(h);           \
                        sodium_memzero(line, sizeof(line)); \
                        return -ENOMEM;                \
                }                                      \
                h = h2;                                \
        } while (0)
        ADD_HEADER("Accept: application/json");
        ADD_HEADER("Expect:");
        if (req->body)
                ADD_HEADER("Content-Type: application/json");
        if (req->needs_token) {
                snprintf(line, sizeof(line), "X-Auth-Token: %s", ks->service_token);
                ADD_HEADER(line);
                req->token_generation = ks->token_generation;
        }
        if (req->subject_token) {
                snprintf(line, sizeof(line), "X-Subject-Token: %s", req->subject_token);
                ADD_HEADER(line);
                if (req->kind == KS_REQ_TOKEN_REVOKE) {
                        snprintf(line, sizeof(line), "X-Auth-Token: %s", req->subject_token);
                        ADD_HEADER(line);
                }
        }
#undef ADD_HEADER
        sodium_memzero(line, sizeof(line));
        req->headers = h;
        req->resp.len = 0;
        req->resp.too_big = false;
        req->curl_err[0] = '\0';

        curl_easy_setopt(e, CURLOPT_URL, req->url);
        curl_easy_setopt(e, CURLOPT_PRIVATE, req);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->curl_err);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
        curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, ks->connect_timeout_ms);
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, ks->timeout_ms);
        curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)ks->max_response);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, ks->verify_tls ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, ks->verify_tls ? 2L : 0L);
        if (ks->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, ks->ca_file);
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "kaasd/" PACKAGE_VERSION);
        if (req->body) {
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
        } else {
                curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
                if (req->kind == KS_REQ_TOKEN_REVOKE)
                        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
        }
        if (curl_loop_add(ks->curl, e) < 0)
                return -ENOMEM;
        req->state = REQ_ACTIVE;
        req->started_usec = loop_now_usec();
        list_append(&ks->active, req);
        ks->counters.requests[req->kind]++;
        return 0;
}

static void request_detach(struct ks_request *req) {
        struct keystone *ks = req->ks;
        if (req->state == REQ_ACTIVE)
                curl_loop_remove(ks->curl, req->easy);
        if (req->list)
                list_remove(req->list, req);
        req->state = REQ_NEW;
}

/* Frees req without a result, out of its list or transfer and the count. */
static void request_abandon(struct ks_request *req) {
        struct keystone *ks = req->ks;
        request_detach(req);
        ks->n_requests--;
        ks->counters.in_flight = ks->n_requests;
        request_free(req);
}

/* Hands the result to the caller and frees req. */
static void request_deliver(struct ks_request *req, struct ks_result *res) {
        struct keystone *ks = req->ks;
        if (res->status < 0 && keystone_error_is_unavailable(res->status))
                ks->counters.failures[req->kind]++;
        ks->n_requests--;
        ks->counters.in_flight = ks->n_requests;
        if (req->fn)
                req->fn(res, req->userdata);
        request_free(req);
}

static void fail_waiting(struct keystone *ks, int status, const char *error) {
        /* callbacks may queue new calls: take the list first */
        struct req_list l;
        list_move(&ks->waiting, &l);
        struct ks_request *req;
        while ((req = list_pop(&l))) {
                struct ks_result res = { .kind = req->kind, .status = status, .error = error };
                request_deliver(req, &res);
        }
}

static void start_waiting(struct keystone *ks) {
        struct req_list l;
        list_move(&ks->waiting, &l);
        struct ks_request *req;
        while ((req = list_pop(&l))) {
                int r = request_start_transfer(req);
                if (r < 0) {
                        struct ks_result res = { .kind = req->kind, .status = r, .error = "cannot start the request" };
                        request_deliver(req, &res);
                }
        }
}

static void service_auth_done(struct keystone *ks, struct ks_request *req, struct ks_result *res,
                              const struct ks_token_info *info);

static void defer_fire(struct loop_timer *t, void *userdata) {
        struct keystone *ks = userdata;
        ks->defer_timer = NULL;
        struct req_list l;
        list_move(&ks->deferred, &l);
        struct ks_request *req;
        while ((req = list_pop(&l))) {
                struct ks_result res = { .kind = req->kind, .status = req->deferred_status, .error = req->deferred_error };
                if (req->kind == KS_REQ_SERVICE_AUTH) {
                        struct ks_token_info none = { 0 };
                        service_auth_done(ks, req, &res, &none);
                }
                request_deliver(req, &res);
        }
}

static void service_token_drop(struct keystone *ks) {
        secret_free(ks->service_token);
        ks->service_token = NULL;
        ks->token_expires_at = 0;
}

static struct ks_request *service_auth_new(struct keystone *ks, keystone_done_fn fn, void *userdata, int *ret_r) {
        struct ks_request *req;
        int r = request_new(ks, KS_REQ_SERVICE_AUTH, "/v3/auth/tokens", fn, userdata, &req);
        if (r < 0) {
                *ret_r = r;
                return NULL;
        }
        ks->n_requests++;
        ks->service_auth_in_flight++;
        char password[KS_PASSWORD_MAX + 2], err[KS_ERRMSG_SIZE];
        r = secret_file_read(ks->password_file, password, sizeof(password), err, sizeof(err));
        if (r < 0) {
                complete_later(req, -EKEYREJECTED, "%s", err);
                return req;
        }
        r = build_password_body(ks->user, ks->user_domain, false, password, true, &req->body, &req->body_len);
        sodium_memzero(password, sizeof(password));
        if (r < 0) {
                complete_later(req, r, "out of memory");
                return req;
        }
        r = request_start_transfer(req);
        if (r < 0)
                complete_later(req, r, "cannot start the service authentication");
        return req;
}

static void service_auth_start(struct keystone *ks) {
        int r;
        if (service_auth_new(ks, NULL, NULL, &r))
                return;
        /* fail the waiting calls from the loop: we may be inside keystone_get_user() */
        while (ks->waiting.head) {
                struct ks_request *req = ks->waiting.head;
                list_remove(&ks->waiting, req);
                complete_later(req, r, "cannot start the service authentication: %s", strerror(-r));
        }
}

/* ------------------------------------------------------------ completion */

static int status_error(struct ks_request *req, long http, char *msg, size_t msg_size) {
        struct keystone *ks = req->ks;
        char kmsg[160];
        ks_json_error_message(req->resp.data, req->resp.len, kmsg, sizeof(kmsg));
        const char *sep = kmsg[0] ? ": " : "";
        if (http >= 500) {
                snprintf(msg, msg_size, "%s: Keystone failed with HTTP %ld%s%s", req->path, http, sep, kmsg);
                return -EPROTO;
        }
        switch (req->kind) {
        case KS_REQ_SERVICE_AUTH:
                if (http == 401) {
                        snprintf(msg, msg_size,
                                 "Keystone refused the service account '%s' (domain '%s'): wrong password in %s, "
                                 "or the user is disabled or locked",
                                 ks->user, ks->user_domain, ks->password_file);
                        return -EKEYREJECTED;
                }
                if (http == 403) {
                        snprintf(msg, msg_size,
                                 "the service account '%s' may not get a system-scoped token: "
                                 "grant it the reader role on the system",
                                 ks->user);
                        return -EKEYREJECTED;
                }
                break;
        case KS_REQ_PASSWORD:
                if (http == 401 || http == 403) {
                        snprintf(msg, msg_size, "Keystone refused the password (HTTP %ld)", http);
                        return -EACCES;
                }
                if (http == 400) {
                        snprintf(msg, msg_size, "Keystone refused the request as malformed%s%s", sep, kmsg);
                        return -EINVAL;
                }
                break;
        case KS_REQ_TOKEN_REVOKE:
                if (http == 401 || http == 404) {
                        snprintf(msg, msg_size, "the token is no longer valid in Keystone (HTTP %ld)", http);
                        return -ENOENT;
                }
                if (http == 403) {
                        snprintf(msg, msg_size, "Keystone refused to revoke the token (HTTP 403)%s%s", sep, kmsg);
                        return -EACCES;
                }
                break;
        default:
                if (http == 401 || http == 403) {
                        snprintf(msg, msg_size,
                                 "%s: Keystone refused the service account's token (HTTP %ld); "
                                 "does '%s' hold the system-scoped reader role?",
                                 req->path, http, ks->user);
                        return -EKEYREJECTED;
                }
                /* the role listing of an unknown user ID is a 404 too */
                if (http == 404 && (req->kind == KS_REQ_USER || req->kind == KS_REQ_DOMAIN ||
                                    req->kind == KS_REQ_TOKEN_CHECK || req->kind == KS_REQ_ROLES)) {
                        snprintf(msg, msg_size, "%s: not found", req->path);
                        return -ENOENT;
                }
                if (http == 400) {
                        snprintf(msg, msg_size, "%s: Keystone refused the request as malformed%s%s", req->path, sep, kmsg);
                        return -EINVAL;
                }
                break;
        }
        snprintf(msg, msg_size, "%s: unexpected HTTP status %ld from Keystone%s%s", req->path, http, sep, kmsg);
        return -EPROTO;
}

static void service_auth_done(struct keystone *ks, struct ks_request *req, struct ks_result *res,
                              const struct ks_token_info *info) {
        ks->service_auth_in_flight--;
        if (res->status == 0) {
                if (!req->got_token) {
                        res->status = -EBADMSG;
                        res->error = "Keystone issued no X-Subject-Token to the service account";
                } else if (!info->system_scope) {
                        res->status = -EKEYREJECTED;
                        res->error = "Keystone issued the service account a token without system scope";
                }
        }
        if (res->status == 0) {
                service_token_drop(ks);
                ks->service_token = TAKE_PTR(req->got_token);
                ks->token_generation++;
                uint64_t now = loop_now_usec();
                uint64_t life = (uint64_t)(info->expires_at - info->issued_at) * 1000000u;
                uint64_t margin = life / 10 < 30000000u ? life / 10 : 30000000u;
                ks->token_renew_at = now + life / 10 * 8;
                ks->token_usable_until = now + life - margin;
                ks->token_expires_at = info->expires_at;
                start_waiting(ks);
        } else {
                if (res->status == -EKEYREJECTED) {
                        ks->counters.service_auth_rejected++;
                        service_token_drop(ks);
                }
                if (ks->service_auth_in_flight == 0)
                        fail_waiting(ks, res->status, res->error);
        }
}

static void request_finish(struct ks_request *req, CURLcode cc) {
        struct keystone *ks = req->ks;
        long http = 0;
        curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &http);
        request_detach(req);
        uint64_t elapsed = loop_now_usec() - req->started_usec;
        char msg[KS_ERRMSG_SIZE] = "", perr[KS_ERROR_SIZE] = "";
        struct ks_result res = { .kind = req->kind, .http_status = http, .elapsed_usec = elapsed, .error = msg };
        struct ks_user user = { 0 };
        struct ks_assignments assignments = { 0 };
        struct ks_domain domain = { 0 };
        struct ks_token_info info = { 0 };

        /* Keystone (on SQLite, behind uwsgi) now and then drops a request
         * or fails it with a 5xx while another worker writes, and a kept
         * connection may have been closed by the server: one immediate
         * retry, so a single hiccup does not take the backend offline.
         * Never after a timeout: that would double a stall. */
        bool transient = (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR || cc == CURLE_SEND_ERROR ||
                          cc == CURLE_PARTIAL_FILE) ||
                         (cc == CURLE_OK && http >= 500);
        if (transient && !req->retried_transient) {
                req->retried_transient = true;
                ks->counters.retried_transient++;
                if (request_submit(req) == 0)
                        return;
        }
        if (cc != CURLE_OK) {
                if (req->resp.too_big) {
                        res.status = -EMSGSIZE;
                        snprintf(msg, sizeof(msg), "%s: reply larger than max_response_size (%zu bytes)", req->path,
                                 ks->max_response);
                } else if (cc == CURLE_OPERATION_TIMEDOUT) {
                        res.status = -ETIMEDOUT;
                        snprintf(msg, sizeof(msg), "%s: %s (connect_timeout %ld ms, timeout %ld ms)", req->path,
                                 req->curl_err[0] ? req->curl_err : curl_easy_strerror(cc), ks->connect_timeout_ms,
                                 ks->timeout_ms);
                } else {
                        res.status = -EHOSTUNREACH;
                        snprintf(msg, sizeof(msg), "%s: %s", req->path,
                                 req->curl_err[0] ? req->curl_err : curl_easy_strerror(cc));
                }
        } else {
                ks->counters.total_usec[req->kind] += elapsed;
                ks->counters.answered[req->kind]++;
                long expect = (req->kind == KS_REQ_SERVICE_AUTH || req->kind == KS_REQ_PASSWORD) ? 201
                              : req->kind == KS_REQ_TOKEN_REVOKE                                 ? 204
                                                                                                 : 200;
                if (http != expect) {
                        res.status = status_error(req, http, msg, sizeof(msg));
                        if (http == 401 && req->needs_token && !req->retried) {
                                /* our token may have been revoked or expired early:
                                 * authenticate again and retry once */
                                req->retried = true;
                                ks->counters.retried_after_401++;
                                if (req->token_generation == ks->token_generation)
                                        service_token_drop(ks);
                                int r = request_submit(req);
                                if (r == 0)
                                        return;
                                res.status = r;
                        }
                } else {
                        int r = 0;
                        switch (req->kind) {
                        case KS_REQ_SERVICE_AUTH:
                        case KS_REQ_PASSWORD:
                        case KS_REQ_TOKEN_CHECK:
                                r = ks_json_parse_token(req->resp.data, req->resp.len, &info, perr, sizeof(perr));
                                res.user = &info.user;
                                res.expires_at = info.expires_at;
                                res.token = &info;
                                break;
                        case KS_REQ_USER:
                                r = ks_json_parse_user(req->resp.data, req->resp.len, &user, perr, sizeof(perr));
                                res.user = &user;
                                break;
                        case KS_REQ_USER_BY_NAME:
                                r = ks_json_parse_user_list(req->resp.data, req->resp.len, req->arg, req->arg_domain,
                                                            &user, perr, sizeof(perr));
                                res.user = &user;
                                break;
                        case KS_REQ_ROLES:
                                r = ks_json_parse_assignments(req->resp.data, req->resp.len, req->arg, &assignments,
                                                              perr, sizeof(perr));
                                res.assignments = &assignments;
                                break;
                        case KS_REQ_DOMAIN:
                                r = ks_json_parse_domain(req->resp.data, req->resp.len, &domain, perr, sizeof(perr));
                                res.domain = &domain;
                                break;
                        case KS_REQ_DOMAIN_BY_NAME:
                                r = ks_json_parse_domain_list(req->resp.data, req->resp.len, req->arg, &domain, perr,
                                                              sizeof(perr));
                                res.domain = &domain;
                                break;
                        case KS_REQ_TOKEN_REVOKE:   /* 204: nothing to read */
                        case KS_REQ_KIND_MAX:
                                break;
                        }
                        if (r == -ENOENT) {
                                res.status = -ENOENT;
                                snprintf(msg, sizeof(msg), "%s: no match", req->path);
                        } else if (r < 0) {
                                res.status = r == -ENOMEM ? -ENOMEM : -EBADMSG;
                                snprintf(msg, sizeof(msg), "%s: unexpected reply from Keystone: %s", req->path,
                                         r == -ENOMEM ? "out of memory" : perr);
                        }
                }
        }
        if (res.status < 0) {
                res.user = NULL;
                res.token = NULL;
                res.assignments = NULL;
                res.domain = NULL;
        } else {
                res.error = NULL;
        }
        if (req->kind == KS_REQ_SERVICE_AUTH)
                service_auth_done(ks, req, &res, &info);
        if (req->kind == KS_REQ_PASSWORD && req->keep_token && res.status == 0) {
                res.issued_token = req->got_token;
                if (!res.issued_token) {
                        res.status = -EBADMSG;
                        res.error = "Keystone issued no X-Subject-Token for the password";
                        res.user = NULL;
                        res.token = NULL;
                }
        }
        request_deliver(req, &res);
        ks_user_clear(&user);
        ks_assignments_clear(&assignments);
        ks_domain_clear(&domain);
        ks_token_info_clear(&info);
}

static void on_transfer_done(CURL *easy, CURLcode cc, void *userdata) {
        struct ks_request *req = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&req);
        if (req)
                request_finish(req, cc);
}

/* ------------------------------------------------------------ public API */

static int set_str(char **field, const char *v) {
        char *s = NULL;
        if (v && !(s = strdup(v)))
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static char *normalize_url(const char *url) {
        char *u = strdup(url);
        if (!u)
                return NULL;
        size_t n = strlen(u);
        while (n > 0 && u[n - 1] == '/')
                u[--n] = '\0';
        if (n >= 3 && strcmp(u + n - 3, "/v3") == 0)
                u[n -= 3] = '\0';
        while (n > 0 && u[n - 1] == '/')
                u[--n] = '\0';
        return u;
}

static void apply_limits(struct keystone *ks, const struct config *c) {
        ks->connect_timeout_ms = (long)c->keystone_connect_timeout_sec * 1000;
        ks->timeout_ms = (long)c->keystone_timeout_sec * 1000;
        ks->max_response = c->keystone_max_response;
}

int keystone_new(struct loop *loop, const struct config *c, struct keystone **ret, char *err, size_t err_size) {
        if (!c->keystone_url || !c->keystone_user || !c->keystone_password_file) {
                snprintf(err, err_size, "[keystone] url, user and password_file are required");
                return -EINVAL;
        }
        struct keystone *ks = calloc(1, sizeof(*ks));
        if (!ks)
                return -ENOMEM;
        ks->loop = loop;
        int r = curl_loop_new(loop, KS_MAX_CONNECTIONS, on_transfer_done, ks, &ks->curl);
        if (r < 0) {
                free(ks);
                snprintf(err, err_size, "libcurl initialisation failed");
                return r;
        }
        ks->verify_tls = c->keystone_verify_tls;
        apply_limits(ks, c);
        if (!(ks->base_url = normalize_url(c->keystone_url)) || set_str(&ks->user, c->keystone_user) < 0 ||
            set_str(&ks->user_domain, c->keystone_user_domain ? c->keystone_user_domain : "Default") < 0 ||
            set_str(&ks->password_file, c->keystone_password_file) < 0 ||
            set_str(&ks->ca_file, c->keystone_ca_file) < 0) {
                keystone_free(ks);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        *ret = ks;
        return 0;
}

static void drop_list(struct keystone *ks, struct req_list *l) {
        while (l->head) {
                struct ks_request *req = l->head;
                request_detach(req);
                request_free(req);
        }
}

struct keystone *keystone_free(struct keystone *ks) {
        if (!ks)
                return NULL;
        drop_list(ks, &ks->active);
        drop_list(ks, &ks->waiting);
        drop_list(ks, &ks->deferred);
        ks->curl = curl_loop_free(ks->curl);
        loop_timer_cancel(ks->defer_timer);
        service_token_drop(ks);
        free(ks->base_url);
        free(ks->user);
        free(ks->user_domain);
        free(ks->password_file);
        free(ks->ca_file);
        free(ks);
        return NULL;
}

static bool differs(const char *a, const char *b) {
        return !((!a && !b) || (a && b && strcmp(a, b) == 0));
}

int keystone_set_config(struct keystone *ks, const struct config *c) {
        apply_limits(ks, c);
        _cleanup_free_ char *url = c->keystone_url ? normalize_url(c->keystone_url) : NULL;
        const char *dom = c->keystone_user_domain ? c->keystone_user_domain : "Default";
        return differs(url, ks->base_url) || differs(c->keystone_user, ks->user) || differs(dom, ks->user_domain) ||
               differs(c->keystone_password_file, ks->password_file) || differs(c->keystone_ca_file, ks->ca_file) ||
               c->keystone_verify_tls != ks->verify_tls;
}

void keystone_cancel(struct ks_request *req) {
        if (!req)
                return;
        struct keystone *ks = req->ks;
        bool was_auth = req->kind == KS_REQ_SERVICE_AUTH;
        request_abandon(req);
        if (was_auth && --ks->service_auth_in_flight == 0 && ks->waiting.head)
                service_auth_start(ks);  /* others still wait for a token */
}

static int start(struct keystone *ks, struct ks_request *req, struct ks_request **ret_req) {
        ks->n_requests++;
        ks->counters.in_flight = ks->n_requests;
        int r = request_submit(req);
        if (r < 0) {
                request_abandon(req);
                return r;
        }
        if (ret_req)
                *ret_req = req;
        return 0;
}

static int password_request(struct keystone *ks, const char *user_name, const char *domain, bool domain_is_id,
                            const char *password, bool keep_token, keystone_done_fn fn, void *userdata,
                            struct ks_request **ret_req) {
        if (!ks_valid_name(user_name) || !(domain_is_id ? ks_valid_id(domain) : ks_valid_name(domain)) || !password ||
            !*password || strlen(password) > KS_PASSWORD_MAX)
                return -EINVAL;
        struct ks_request *req;
        int r = request_new(ks, KS_REQ_PASSWORD, "/v3/auth/tokens", fn, userdata, &req);
        if (r < 0)
                return r;
        req->keep_token = keep_token;
        if ((r = build_password_body(user_name, domain, domain_is_id, password, false, &req->body, &req->body_len)) < 0) {
                request_free(req);
                return r;
        }
        return start(ks, req, ret_req);
}

int keystone_check_password(struct keystone *ks, const char *user_name, const char *domain, bool domain_is_id,
                            const char *password, keystone_done_fn fn, void *userdata, struct ks_request **ret_req) {
        return password_request(ks, user_name, domain, domain_is_id, password, false, fn, userdata, ret_req);
}

int keystone_password_token(struct keystone *ks, const char *user_name, const char *domain, const char *password,
                            keystone_done_fn fn, void *userdata, struct ks_request **ret_req) {
        return password_request(ks, user_name, domain, false, password, true, fn, userdata, ret_req);
}

/* A call about a user's token, which goes as X-Subject-Token. */
static int subject_token_request(struct keystone *ks, enum ks_kind kind, const char *token, keystone_done_fn fn,
                                 void *userdata, struct ks_request **ret_req) {
        if (!token || !*token || strlen(token) > KS_SERVICE_TOKEN_MAX)
                return -EINVAL;
        for (const char *p = token; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                        return -EINVAL;
        struct ks_request *req;
        int r = request_new(ks, kind, "/v3/auth/tokens", fn, userdata, &req);
        if (r < 0)
                return r;
        if (!(req->subject_token = strdup(token))) {
                request_free(req);
                return -ENOMEM;
        }
        return start(ks, req, ret_req);
}

int keystone_check_token(struct keystone *ks, const char *token, keystone_done_fn fn, void *userdata,
                         struct ks_request **ret_req) {
        return subject_token_request(ks, KS_REQ_TOKEN_CHECK, token, fn, userdata, ret_req);
}

int keystone_revoke_token(struct keystone *ks, const char *token, keystone_done_fn fn, void *userdata,
                          struct ks_request **ret_req) {
        return subject_token_request(ks, KS_REQ_TOKEN_REVOKE, token, fn, userdata, ret_req);
}

/* A GET of prefix + escaped v1 [+ middle + escaped v2] + suffix. */
static int get_with(struct keystone *ks, enum ks_kind kind, const char *prefix, const char *v1, const char *middle,
                    const char *v2, const char *suffix, const char *arg, const char *arg_domain, keystone_done_fn fn,
                    void *userdata, struct ks_request **ret_req) {
        _cleanup_free_ char *e1 = url_escape(v1), *e2 = v2 ? url_escape(v2) : NULL;
        if (!e1 || (v2 && !e2))
                return -ENOMEM;
        char path[1024];
        if (snprintf(path, sizeof(path), "%s%s%s%s%s", prefix, e1, middle ? middle : "", e2 ? e2 : "",
                     suffix ? suffix : "") >= (int)sizeof(path))
                return -EINVAL;
        struct ks_request *req;
        int r = request_new(ks, kind, path, fn, userdata, &req);
        if (r < 0)
                return r;
        if ((arg && !(req->arg = strdup(arg))) || (arg_domain && !(req->arg_domain = strdup(arg_domain)))) {
                request_free(req);
                return -ENOMEM;
        }
        return start(ks, req, ret_req);
}

int keystone_get_user(struct keystone *ks, const char *user_id, keystone_done_fn fn, void *userdata,
                      struct ks_request **ret_req) {
        if (!ks_valid_id(user_id))
                return -EINVAL;
        return get_with(ks, KS_REQ_USER, "/v3/users/", user_id, NULL, NULL, NULL, NULL, NULL, fn, userdata, ret_req);
}

int keystone_find_user(struct keystone *ks, const char *name, const char *domain_id, keystone_done_fn fn,
                       void *userdata, struct ks_request **ret_req) {
        if (!ks_valid_name(name) || !ks_valid_id(domain_id))
                return -EINVAL;
        return get_with(ks, KS_REQ_USER_BY_NAME, "/v3/users?name=", name, "&domain_id=", domain_id, NULL, name,
                        domain_id, fn, userdata, ret_req);
}

int keystone_list_roles(struct keystone *ks, const char *user_id, keystone_done_fn fn, void *userdata,
                        struct ks_request **ret_req) {
        if (!ks_valid_id(user_id))
                return -EINVAL;
        return get_with(ks, KS_REQ_ROLES, "/v3/role_assignments?user.id=", user_id, NULL, NULL,
                        "&effective&include_names", user_id, NULL, fn, userdata, ret_req);
}

int keystone_get_domain(struct keystone *ks, const char *domain_id, keystone_done_fn fn, void *userdata,
                        struct ks_request **ret_req) {
        if (!ks_valid_id(domain_id))
                return -EINVAL;
        return get_with(ks, KS_REQ_DOMAIN, "/v3/domains/", domain_id, NULL, NULL, NULL, NULL, NULL, fn, userdata, ret_req);
}

int keystone_find_domain(struct keystone *ks, const char *name, keystone_done_fn fn, void *userdata,
                         struct ks_request **ret_req) {
        if (!ks_valid_name(name))
                return -EINVAL;
        return get_with(ks, KS_REQ_DOMAIN_BY_NAME, "/v3/domains?name=", name, NULL, NULL, NULL, name, NULL, fn, userdata, ret_req);
}

int keystone_probe(struct keystone *ks, keystone_done_fn fn, void *userdata, struct ks_request **ret_req) {
        int r;
        struct ks_request *req = service_auth_new(ks, fn, userdata, &r);
        if (!req)
                return r;
        ks->counters.in_flight = ks->n_requests;
        if (ret_req)
                *ret_req = req;
        return 0;
}

const struct keystone_counters *keystone_get_counters(const struct keystone *ks) {
        return &ks->counters;
}

const char *keystone_url(const struct keystone *ks) {
        return ks->base_url;
}

bool keystone_has_service_token(const struct keystone *ks, int64_t *ret_expires_at) {
        if (!ks->service_token)
                return false;
        if (ret_expires_at)
                *ret_expires_at = ks->token_expires_at;
        return true;
}
