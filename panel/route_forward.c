/* GET /auth: the ingress's question whether a request for a managed
 * service may pass (nginx auth_request, ingress-nginx auth-url, Traefik
 * ForwardAuth). See docs/managed-services.md.
 *
 * The original request is named by X-Forwarded-Host, X-Forwarded-Uri and
 * X-Forwarded-Proto (what Traefik sends and the documented nginx set-up
 * adds), or X-Original-URL (ingress-nginx); each ingress passes the
 * client's own copy of the other on, so when both are sent they must name
 * the same host (fa_original_url()). Its host must be the host of
 * a service configured in a [cluster] section; the identity comes from a
 * KaaS token in Authorization (Bearer, or Basic with the user's name) or
 * else from a panel session cookie. Answers:
 *   204  with the user's name, Keystone ID and role IDs in the configured
 *        headers: the request passes;
 *   401  no identity (no credentials, an unknown, expired or deleted token,
 *        no live session), with X-Kaas-Login: the panel's login URL that
 *        returns the browser to the original URL when that URL is on a
 *        host of the environment;
 *   403  an identity without one of the service's roles, or a host that is
 *        no configured service;
 *   503  kaasd cannot say.
 * Every decision is logged (user, service, how, outcome); tokens and
 * session IDs never are. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "forward_rules.h"
#include "httpd/log.h"
#include "httpd/respond.h"
#include "kaas.h"
#include "panel.h"
#include "route_forward.h"

#define ORIGINAL_URL_MAX 2048
#define ROLES_MAX 256
#define LOGIN_URL_MAX (3 * ORIGINAL_URL_MAX + 512)

/* Who the request is, in the terms the headers carry. */
struct fa_identity {
        char *user_name;
        char *user_id;
        const char *role_ids[ROLES_MAX];
        const char *role_names[ROLES_MAX];
        size_t n_roles;
        json_t *reply; /* owns the strings above */
        const char *via;
};

static void identity_clear(struct fa_identity *id) {
        free(id->user_name);
        free(id->user_id);
        json_decref(id->reply);
        *id = (struct fa_identity){ 0 };
}

/* the panel's headers, as on every answer: a browser can ask /auth too,
 * and Traefik hands a 401 or 403 of /auth to the client as it is */
static const struct hd_header policy[] = {
        { "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'" },
        { "Strict-Transport-Security", "max-age=31536000" },
        { "Referrer-Policy", "no-referrer" },
        { MHD_HTTP_HEADER_CACHE_CONTROL, "no-store" },
        { NULL, NULL },
};

static const char *header(struct MHD_Connection *conn, const char *name) {
        return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* The original request's URL into ret (fa_original_url()). */
static int original_url(struct MHD_Connection *conn, char *ret, size_t size) {
        return fa_original_url(header(conn, "X-Original-URL"), header(conn, "X-Forwarded-Host"),
                               header(conn, "X-Forwarded-Uri"), header(conn, "X-Forwarded-Proto"), ret, size);
}

/* The configured service the original URL's host names, or NULL. */
static const struct panel_service *find_service(const struct panel_settings *s, const char *url,
                                                const char **ret_cluster) {
        char host[256], service_host[256];

        if (fa_url_host(url, host, sizeof(host)) < 0)
                return NULL;
        for (size_t c = 0; c < s->n_clusters; c++)
                for (size_t i = 0; i < s->clusters[c].n_services; i++) {
                        const struct panel_service *sv = &s->clusters[c].services[i];
                        if (fa_url_host(sv->url, service_host, sizeof(service_host)) == 0 &&
                            strcmp(host, service_host) == 0) {
                                *ret_cluster = s->clusters[c].name;
                                return sv;
                        }
                }
        return NULL;
}

/* Whether url may be where the login sends the browser back: a host of a
 * configured service or the panel's own. */
static bool return_allowed(const struct panel_settings *s, const char *url) {
        return fa_check_return_to(url, (const char *const *)s->return_to_hosts, s->n_return_to_hosts) == 0;
}

/* Role IDs and names from an array of io.kaas.Identity Role objects. */
static void roles_from_user(json_t *roles, struct fa_identity *id) {
        size_t i;
        json_t *r;

        json_array_foreach(roles, i, r) {
                const char *rid = json_string_value(json_object_get(r, "id"));
                const char *name = json_string_value(json_object_get(r, "name"));
                if (!rid || id->n_roles == ROLES_MAX)
                        continue;
                bool seen = false;
                for (size_t k = 0; k < id->n_roles && !seen; k++)
                        seen = strcmp(id->role_ids[k], rid) == 0;
                if (seen)
                        continue;
                id->role_ids[id->n_roles] = rid;
                id->role_names[id->n_roles] = name;
                id->n_roles++;
        }
}

/* The identity of a KaaS token: 0, -EACCES when kaasd refuses the token,
 * another negative errno when kaasd cannot say. */
static int identity_from_token(struct panel *p, const struct fa_credentials *cred, struct fa_identity *id) {
        struct kaas_error err = KAAS_ERROR_INIT;
        json_t *params = cred->basic ? json_pack("{s:s, s:s}", "token", cred->token, "user", cred->user)
                                     : json_pack("{s:s}", "token", cred->token);
        if (!params)
                return -ENOMEM;
        int r = panel_call(p, "io.kaas.Token.Validate", params, &id->reply, &err);
        json_t *t = json_object_get(params, "token");
        if (t)
                sodium_memzero((char *)json_string_value(t), strlen(json_string_value(t)));
        json_decref(params);
        if (r == KAAS_ERROR_REMOTE) {
                bool refused = kaas_error_is(&err, "io.kaas.Token.InvalidToken") ||
                               kaas_error_is(&err, "io.kaas.Token.Expired") ||
                               kaas_error_is(&err, "io.kaas.Token.UserDisabled") ||
                               kaas_error_is(&err, "io.kaas.Token.UserRefused");
                if (!refused)
                        hd_warning("forward-auth: kaasd did not validate a token: %s", err.name);
                kaas_error_clear(&err);
                return refused ? -EACCES : -EIO;
        }
        if (r < 0)
                return r;
        json_t *identity = json_object_get(id->reply, "identity");
        const char *name = json_string_value(json_object_get(identity, "username"));
        const char *uid = json_string_value(json_object_get(identity, "uid"));
        json_t *groups = json_object_get(identity, "groups");
        json_t *names = json_object_get(json_object_get(identity, "extra"), "alpha.kubernetes.io/identity/roles");
        if (!name || !uid || !json_is_array(groups))
                return -EBADMSG;
        if (!(id->user_name = strdup(name)) || !(id->user_id = strdup(uid)))
                return -ENOMEM;
        /* groups are the role IDs, the extra the role names: not pairwise, so
         * each list counts alone */
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g) {
                if (json_is_string(g) && id->n_roles < ROLES_MAX) {
                        id->role_ids[id->n_roles] = json_string_value(g);
                        id->role_names[id->n_roles] = NULL;
                        id->n_roles++;
                }
        }
        json_array_foreach(names, i, g) {
                if (json_is_string(g) && id->n_roles < ROLES_MAX) {
                        id->role_ids[id->n_roles] = NULL;
                        id->role_names[id->n_roles] = json_string_value(g);
                        id->n_roles++;
                }
        }
        id->via = cred->basic ? "basic" : "bearer";
        return 0;
}

/* The identity of a panel session: 0, -EACCES when there is no live
 * session of a logged-in user, another negative errno when kaasd cannot
 * say. */
static int identity_from_session(struct panel *p, struct MHD_Connection *conn, struct fa_identity *id) {
        struct session_view sv = { 0 };
        struct kaas_error err = KAAS_ERROR_INIT;
        char sid[SESSION_ID_CHARS + 1];

        int r = panel_session_of(p, conn, sid, &sv);
        sodium_memzero(sid, sizeof(sid));
        if (r < 0) {
                session_view_clear(&sv);
                return -EACCES;
        }
        json_t *params = json_pack("{s:s}", "id", sv.user_id);
        r = params ? panel_call(p, "io.kaas.Identity.GetUser", params, &id->reply, &err) : -ENOMEM;
        json_decref(params);
        if (r == 0 && (!(id->user_name = strdup(sv.user_name)) || !(id->user_id = strdup(sv.user_id))))
                r = -ENOMEM;
        session_view_clear(&sv);
        if (r == KAAS_ERROR_REMOTE) {
                bool gone = kaas_error_is(&err, "io.kaas.Identity.UserNotFound");
                kaas_error_clear(&err);
                return gone ? -EACCES : -EIO;
        }
        if (r < 0)
                return r;
        json_t *user = json_object_get(id->reply, "user");
        if (!json_is_true(json_object_get(user, "enabled")))
                return -EACCES;
        roles_from_user(json_object_get(user, "roles"), id);
        id->via = "session";
        return 0;
}

/* "id,id,..." of the role IDs, into ret. */
static int join_role_ids(const struct fa_identity *id, char *ret, size_t size) {
        size_t o = 0;

        ret[0] = '\0';
        for (size_t i = 0; i < id->n_roles; i++) {
                if (!id->role_ids[i])
                        continue;
                int n = snprintf(ret + o, size - o, "%s%s", o ? "," : "", id->role_ids[i]);
                if (n < 0 || (size_t)n >= size - o)
                        return -ENOBUFS;
                o += (size_t)n;
        }
        return 0;
}

static enum MHD_Result unauthenticated(struct panel *p, struct MHD_Connection *conn, const char *url,
                                       const char *service, const char *why) {
        char login[LOGIN_URL_MAX];
        const char *target = url[0] && return_allowed(p->s, url) ? url : NULL;

        hd_info("forward-auth: %s: unauthenticated (%s)", service, why);
        if (!target || fa_login_url(p->s->origin, target, login, sizeof(login)) < 0)
                snprintf(login, sizeof(login), "%s/login", p->s->origin);
        return hd_respond_text(conn, 401, "unauthenticated\n", policy,
                               (const struct hd_header[]){ { "X-Kaas-Login", login }, { NULL, NULL } });
}

enum MHD_Result route_forward_auth(struct panel *p, struct MHD_Connection *conn) {
        char url[ORIGINAL_URL_MAX + 1], groups[4096 + 1];
        struct fa_credentials cred;
        struct fa_identity id = { 0 };
        const char *cluster = NULL;
        enum MHD_Result ret;
        int r;

        if (original_url(conn, url, sizeof(url)) == -EPERM) {
                hd_notice("forward-auth: refused: X-Forwarded-Host and X-Original-URL name different hosts");
                return hd_respond_text(conn, 403, "not a service of this environment\n", policy, NULL);
        }
        const struct panel_service *sv = url[0] ? find_service(p->s, url, &cluster) : NULL;
        if (!sv) {
                char host[256];
                hd_notice("forward-auth: refused: %s is not a configured service",
                          url[0] && fa_url_host(url, host, sizeof(host)) == 0 ? host : "(no host given)");
                return hd_respond_text(conn, 403, "not a service of this environment\n", policy, NULL);
        }

        const char *authorization = header(conn, MHD_HTTP_HEADER_AUTHORIZATION);
        r = authorization ? fa_parse_authorization(authorization, &cred) : -ENOENT;
        if (r == 0) {
                r = identity_from_token(p, &cred, &id);
                fa_credentials_wipe(&cred);
        } else if (r == -ENOENT) {
                r = identity_from_session(p, conn, &id);
        } else
                r = -EACCES; /* credentials that cannot be a KaaS token */
        if (r == -EACCES) {
                ret = unauthenticated(p, conn, url, sv->label, authorization ? "credentials refused" : "no credentials");
                goto out;
        }
        if (r < 0) {
                hd_warning("forward-auth: %s: kaasd unavailable: %s", sv->label, strerror(-r));
                ret = hd_respond_text(conn, 503, "identity service unavailable\n", policy, NULL);
                goto out;
        }
        if (!fa_roles_allow((const char *const *)sv->roles, sv->n_roles, id.role_ids, id.role_names, id.n_roles)) {
                hd_notice("forward-auth: %s of cluster %s: %s (%s) refused: lacks the service's roles", sv->label,
                          cluster, id.user_name, id.via);
                ret = hd_respond_text(conn, 403, "forbidden\n", policy, NULL);
                goto out;
        }
        if (join_role_ids(&id, groups, sizeof(groups)) < 0 || !fa_header_value_ok(id.user_name) ||
            !fa_header_value_ok(id.user_id) || !fa_header_value_ok(groups)) {
                hd_notice("forward-auth: %s: refused %s: the identity cannot be sent in headers", sv->label, id.user_id);
                ret = hd_respond_text(conn, 403, "forbidden\n", policy, NULL);
                goto out;
        }
        hd_info("forward-auth: %s of cluster %s: %s (%s) passes", sv->label, cluster, id.user_name, id.via);
        const struct hd_header identity[] = {
                { p->s->fa_user_header, id.user_name },
                { p->s->fa_uid_header, id.user_id },
                { p->s->fa_groups_header, groups },
                { NULL, NULL },
        };
        ret = hd_respond(conn, 204, "text/plain", NULL, 0, policy, identity);
out:
        identity_clear(&id);
        return ret;
}
