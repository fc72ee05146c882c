/* See server.h. Every request is handled in its connection's thread; a
 * POST's body is collected (at most BODY_MAX bytes) before its route runs.
 *
 * The order of checks for a POST: the request is same-origin (Origin is
 * the configured origin, or "null" -- what a browser sends for a form of
 * a page whose Referrer-Policy is no-referrer -- with Sec-Fetch-Site:
 * same-origin; Sec-Fetch-Site, when sent, is same-origin; a POST without
 * Origin is refused), else 403; the body decodes, else 400; the
 * session's CSRF token matches the form's csrf field, else 403. A route
 * never runs for a request that failed one of them. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd/body.h"
#include "httpd/log.h"
#include "httpd/respond.h"
#include "httpd/server.h"
#include "kaas.h"
#include "panel.h"
#include "route_forward.h"
#include "server.h"

#define BODY_MAX (16 * 1024)

struct panel_server {
        struct panel *p;
        struct hd_server *httpd;
        atomic_int active;
};

/* A request from its headers to its answer. */
struct pending {
        struct hd_body body;
};

/* Their addresses in a request's con_cls mark a GET whose headers are in,
 * and one being answered, counted in active until it completes, so that
 * a shutdown waits for it as for a POST. */
static char get_headers_seen, get_answering;

extern const char panel_css[], panel_js[];
extern const unsigned panel_css_len, panel_js_len;

static const struct hd_header static_policy[] = {
        { "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
        { "Strict-Transport-Security", "max-age=31536000" },
        { "Referrer-Policy", "no-referrer" },
        { MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache" },
        { NULL, NULL },
};

const char *panel_arg(const struct request *rq, const char *name) {
        const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
        return v && *v ? v : NULL;
}

int panel_session_of(struct panel *p, struct MHD_Connection *conn, char *ret_sid, struct session_view *ret) {
        const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, panel_cookie_name(p->s));
        ret_sid[0] = '\0';
        if (!cookie || strlen(cookie) != SESSION_ID_CHARS)
                return -ENOENT;
        memcpy(ret_sid, cookie, SESSION_ID_CHARS + 1);
        return session_lookup(p->sessions, ret_sid, time(NULL), ret);
}

static bool is(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/* Whether a POST comes from the panel's own pages. */
static bool same_origin(const struct request *rq) {
        const char *origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
        const char *site = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Sec-Fetch-Site");
        if (!origin || (site && !is(site, "same-origin")))
                return false;
        if (is(origin, "null"))
                return site != NULL;
        return is(origin, rq->p->s->origin);
}

static enum MHD_Result serve_static(struct MHD_Connection *conn, const char *url) {
        if (is(url, "/static/panel.css"))
                return hd_respond_static(conn, 200, "text/css; charset=utf-8", panel_css, panel_css_len,
                                         static_policy, NULL);
        return hd_respond_static(conn, 200, "text/javascript; charset=utf-8", panel_js, panel_js_len, static_policy,
                                 NULL);
}

static enum MHD_Result serve_healthz(struct panel *p, struct MHD_Connection *conn) {
        pthread_mutex_lock(&p->health_lock);
        int r = kaas_call(p->health, "org.varlink.service.GetInfo", NULL, NULL, NULL);
        pthread_mutex_unlock(&p->health_lock);
        if (r == 0)
                return hd_respond_text(conn, 200, "ok\n", static_policy, NULL);
        char text[300];
        snprintf(text, sizeof(text), "kaasd unavailable: %s\n", kaas_strerror(r));
        return hd_respond_text(conn, 503, text, static_policy, NULL);
}

/* The routes of a logged-in session. */
static enum MHD_Result dispatch_session(struct request *rq) {
        const char *u = rq->url;
        if (strncmp(u, "/admin", 6) == 0 && (u[6] == '\0' || u[6] == '/')) {
                /* admin status follows the active cluster, and is asked
                 * of kaasd afresh for every administration request */
                uint32_t mask = 0;
                int r = panel_admin_mask(rq->p, rq->sv.user_id, &mask);
                if (r < 0)
                        return panel_message(rq, 503, "Unavailable", "error", true,
                                             "kaasd cannot say whether you administer this cluster: try again later.");
                if (mask != rq->sv.admin_mask) {
                        if (session_set_cluster(rq->p->sessions, rq->sid, rq->sv.cluster, mask) < 0)
                                return panel_redirect(rq, "/login");
                        rq->sv.admin_mask = mask;
                }
                if (!(mask & (1u << rq->sv.cluster))) {
                        hd_notice("refused %s: %s %s: %s does not administer cluster %s", rq->peer,
                                  rq->post ? "POST" : "GET", u, rq->sv.user_name, panel_active_cluster(rq)->name);
                        return panel_forbidden(rq, "Administration is for administrators of the active cluster.");
                }
                if (!rq->post && is(u, "/admin"))
                        return route_admin(rq);
                if (!rq->post && is(u, "/admin/tokens"))
                        return route_admin_tokens(rq);
                if (is(u, "/admin/tokens/delete"))
                        return rq->post ? route_delete(rq, true) : route_delete_confirm(rq, true);
                if (!rq->post && is(u, "/admin/user"))
                        return route_admin_user(rq);
                if (rq->post && is(u, "/admin/revoke"))
                        return route_admin_revoke(rq);
                if (!rq->post && is(u, "/admin/rbac"))
                        return route_admin_rbac(rq);
                return panel_message(rq, 404, "Not found", "error", true, "There is no such page.");
        }
        if (is(u, "/"))
                return panel_redirect(rq, "/tokens");
        if (is(u, "/login"))
                return rq->post ? route_login_post(rq) : route_login_get(rq);
        if (is(u, "/tokens"))
                return rq->post ? route_tokens_create(rq) : route_tokens(rq);
        if (!rq->post && is(u, "/tokens/new"))
                return route_tokens_new(rq);
        if (rq->post && is(u, "/tokens/kubeconfig"))
                return route_kubeconfig(rq);
        if (is(u, "/tokens/delete"))
                return rq->post ? route_delete(rq, false) : route_delete_confirm(rq, false);
        if (!rq->post && is(u, "/services"))
                return route_services(rq);
        if (rq->post && is(u, "/cluster"))
                return route_cluster(rq);
        if (rq->post && is(u, "/logout"))
                return route_logout(rq);
        return panel_message(rq, 404, "Not found", "error", true, "There is no such page.");
}

static enum MHD_Result handle(struct panel *p, struct MHD_Connection *conn, const char *url, bool post,
                              struct pending *pd) {
        struct request rq = { .p = p, .conn = conn, .url = url, .post = post };
        hd_peer_name(conn, rq.peer, sizeof(rq.peer));
        rq.has_session = panel_session_of(p, conn, rq.sid, &rq.sv) == 0;
        enum MHD_Result ret;
        if (post && !same_origin(&rq)) {
                hd_notice("refused %s: cross-site POST %s", rq.peer, url);
                ret = panel_forbidden(&rq, "This request did not come from the panel's own pages.");
                goto done;
        }
        if (post) {
                int r = form_parse(pd->body.data ? pd->body.data : "", pd->body.len, &rq.form);
                hd_body_wipe(&pd->body);
                if (r == -ENOMEM) {
                        ret = MHD_NO;
                        goto done;
                }
                if (r < 0) {
                        ret = panel_message(&rq, 400, "Bad request", "error", true, "The form could not be read.");
                        goto done;
                }
        }
        bool logged_in = rq.has_session;
        /* logged out, the login form's token is the login cookie's */
        bool csrf_ok = false;
        if (post)
                csrf_ok = logged_in ? session_csrf_ok(&rq.sv, form_get(&rq.form, "csrf"))
                                    : login_csrf_ok(&p->login_key,
                                                    MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, LOGIN_COOKIE),
                                                    form_get(&rq.form, "csrf"));
        if (post && (logged_in || is(url, "/login")) && !csrf_ok) {
                hd_notice("refused %s: POST %s without the session's CSRF token", rq.peer, url);
                if (is(url, "/login") && !logged_in) {
                        ret = route_login_get(&rq);  /* a new form; 403 */
                        goto done;
                }
                ret = panel_forbidden(&rq, "The form was not sent from this session's pages: reload the page and try again.");
                goto done;
        }
        if (logged_in) {
                ret = dispatch_session(&rq);
        } else if (is(url, "/login")) {
                ret = post ? route_login_post(&rq) : route_login_get(&rq);
        } else {
                ret = panel_redirect(&rq, "/login");
        }
done:
        form_clear(&rq.form);
        session_view_clear(&rq.sv);
        explicit_bzero(rq.sid, sizeof(rq.sid));
        explicit_bzero(rq.set_cookie, sizeof(rq.set_cookie));  /* a new session's ID, sent */
        return ret;
}

/* Whether the request's headers announce a body. */
static bool announces_body(struct MHD_Connection *conn) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING) ||
               (cl && strspn(cl, "0") != strlen(cl));
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls) {
        struct panel_server *srv = cls;
        struct pending *pd = *con_cls;
        bool get = is(method, MHD_HTTP_METHOD_GET) || is(method, MHD_HTTP_METHOD_HEAD);
        bool post = is(method, MHD_HTTP_METHOD_POST);
        if (!pd) {
                if (!get && !post)
                        return hd_respond_text(conn, 405, "method not allowed\n", static_policy,
                                               (const struct hd_header[]){ { MHD_HTTP_HEADER_ALLOW, "GET, HEAD, POST" },
                                                                           { NULL, NULL } });
                if (get) {
                        /* a GET with a body: not ours to read. Refused now,
                         * while libmicrohttpd still takes an answer: in the
                         * middle of a body it refuses one and drops the
                         * connection without a word */
                        if (announces_body(conn))
                                return hd_respond_text(conn, 400, "a GET has no body\n", static_policy, NULL);
                        /* answered on the next call, once the request is
                         * complete: libmicrohttpd closes a connection whose
                         * answer comes before that, which would cost every
                         * request a TLS handshake */
                        *con_cls = &get_headers_seen;
                        return MHD_YES;
                }
                if (!(pd = calloc(1, sizeof(*pd))))
                        return MHD_NO;
                pd->body.max = BODY_MAX;
                const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (hd_body_expect(&pd->body, cl) < 0) {
                        free(pd);
                        return hd_respond_text(conn, 413, "request body too large\n", static_policy, NULL);
                }
                atomic_fetch_add(&srv->active, 1);
                *con_cls = pd;
                return MHD_YES;
        }
        if (pd == (struct pending *)&get_answering)
                return MHD_NO;  /* answered already: libmicrohttpd asks no more of a GET */
        if (pd == (struct pending *)&get_headers_seen) {
                *con_cls = NULL;
                if (*upload_data_size)  /* a body announced by neither header */
                        return MHD_NO;
                atomic_fetch_add(&srv->active, 1);
                *con_cls = &get_answering;
                if (is(url, "/static/panel.css") || is(url, "/static/panel.js"))
                        return serve_static(conn, url);
                /* a browser's own fetches (favicon) must not be sent to
                 * /login, where they would cost a page and a redirect */
                if (strncmp(url, "/static/", 8) == 0 || is(url, "/favicon.ico"))
                        return hd_respond_text(conn, 404, "not found\n", static_policy, NULL);
                hd_answering(conn);
                if (is(url, "/auth"))  /* the ingress's subrequest: no page, no redirect */
                        return route_forward_auth(srv->p, conn);
                if (is(url, "/healthz"))
                        return serve_healthz(srv->p, conn);
                return handle(srv->p, conn, url, false, NULL);
        }
        if (*upload_data_size) {
                size_t n = *upload_data_size;
                *upload_data_size = 0;
                return hd_body_add(&pd->body, upload_data, n) < 0 ? MHD_NO : MHD_YES;
        }
        hd_answering(conn);
        if (pd->body.too_large)
                return hd_respond_text(conn, 413, "request body too large\n", static_policy, NULL);
        return handle(srv->p, conn, url, true, pd);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        struct panel_server *srv = cls;
        struct pending *pd = *con_cls;
        *con_cls = NULL;
        if (!pd || pd == (struct pending *)&get_headers_seen)
                return;
        if (pd != (struct pending *)&get_answering) {
                hd_body_clear(&pd->body);
                free(pd);
        }
        atomic_fetch_sub(&srv->active, 1);
}

int panel_server_start(struct panel *p, struct panel_server **ret, char *err, size_t err_size) {
        struct panel_server *srv = calloc(1, sizeof(*srv));
        if (!srv)
                return -ENOMEM;
        srv->p = p;
        const struct panel_settings *s = p->s;
        const struct hd_server_options o = {
                .listen = s->listen,
                .cert_file = s->cert_file,
                .key_file = s->key_file,
                .tls_priorities = s->tls_priorities,
                .max_connections = s->max_connections,
                .max_connections_per_client = s->max_connections_per_client,
                .connection_timeout_sec = s->connection_timeout_sec,
                .request_timeout_sec = s->request_timeout_sec,
                .access = on_access,
                .completed = on_completed,
                .cls = srv,
        };
        int r = hd_server_start(&o, &srv->httpd, err, err_size);
        if (r < 0) {
                free(srv);
                return r;
        }
        *ret = srv;
        return 0;
}

struct panel_server *panel_server_stop(struct panel_server *srv, unsigned timeout_sec) {
        if (!srv)
                return NULL;
        int active = hd_server_drain(srv->httpd, &srv->active, timeout_sec);
        if (active > 0)
                hd_warning("%d requests still in flight after %u s: closing their connections", active, timeout_sec);
        hd_server_free(srv->httpd);
        free(srv);
        return NULL;
}
