/* Administration, for administrators of the active cluster only (server.c
 * refuses everyone else with 403 before any of these runs; kaasd checks
 * again, against the session's proof): every user's tokens, deleting any
 * token, revoking all tokens of a user, looking a user up, and the
 * cluster-admin ClusterRoleBinding. See panel.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/log.h"
#include "kaas.h"
#include "kubeconfig.h"
#include "panel.h"

enum MHD_Result route_admin(struct request *rq) {
        struct html h = { 0 };
        html_printf(&h,
                    "<p>You administer cluster <strong>%s</strong>.</p><ul id=\"admin-links\">"
                    "<li><a href=\"/admin/tokens\">Every user's tokens</a></li>"
                    "<li><a href=\"/admin/user\">Look a user up, revoke a user's tokens</a></li>"
                    "<li><a href=\"/admin/rbac\">The cluster-admin ClusterRoleBinding</a></li></ul>",
                    panel_active_cluster(rq)->name);
        return panel_page(rq, 200, "Administration", &h);
}

enum MHD_Result route_admin_tokens(struct request *rq) {
        const char *user = panel_arg(rq, "user"), *domain = panel_arg(rq, "domain");
        json_t *params = user ? json_pack("{s:o, s:s, s:s*}", "credentials", panel_credentials(rq), "user", user,
                                          "domain", domain)
                              : json_pack("{s:o, s:b}", "credentials", panel_credentials(rq), "all", 1);
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.List", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "All tokens", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        struct html h = { 0 };
        html_printf(&h,
                    "<form id=\"filter\" method=\"get\" action=\"/admin/tokens\" role=\"search\">"
                    "<p><label for=\"filter-user\">User name or ID</label>"
                    "<input id=\"filter-user\" name=\"user\" value=\"%s\"> "
                    "<button id=\"filter-submit\" type=\"submit\">Filter</button></p></form>",
                    user ? user : "");
        panel_token_table(&h, json_object_get(reply, "tokens"), true);
        json_decref(reply);
        return panel_page(rq, 200, "All tokens", &h);
}

static void role_rows(struct html *h, json_t *roles) {
        size_t i;
        json_t *r;
        html_printf(h, "<div class=\"scroll\"><table id=\"roles\"><thead><tr><th scope=\"col\">Role</th>"
                       "<th scope=\"col\">ID</th><th scope=\"col\">Scope</th></tr></thead><tbody>");
        json_array_foreach(roles, i, r) {
                const char *scope = json_string_value(json_object_get(r, "scope"));
                const char *where = json_string_value(json_object_get(r, "project_name"));
                if (!where)
                        where = json_string_value(json_object_get(r, "domain_name"));
                html_printf(h, "<tr><td>%s</td><td><code>%s</code></td><td>%s%r%s</td></tr>",
                            json_string_value(json_object_get(r, "name")), json_string_value(json_object_get(r, "id")),
                            scope ? scope : "", where ? " " : "", where);
        }
        html_printf(h, "</tbody></table></div>");
}

static void project_rows(struct html *h, json_t *projects) {
        size_t i;
        json_t *p;
        html_printf(h, "<div class=\"scroll\"><table id=\"projects\"><thead><tr><th scope=\"col\">Project</th>"
                       "<th scope=\"col\">ID</th><th scope=\"col\">Domain</th></tr></thead><tbody>");
        json_array_foreach(projects, i, p) {
                const char *dom = json_string_value(json_object_get(p, "domain_name"));
                html_printf(h, "<tr><td>%s</td><td><code>%s</code></td><td>%s</td></tr>",
                            json_string_value(json_object_get(p, "name")), json_string_value(json_object_get(p, "id")),
                            dom ? dom : json_string_value(json_object_get(p, "domain_id")));
        }
        html_printf(h, "</tbody></table></div>");
}

enum MHD_Result route_admin_user(struct request *rq) {
        const char *name = panel_arg(rq, "name"), *domain = panel_arg(rq, "domain");
        struct html h = { 0 };
        html_printf(&h,
                    "<form id=\"lookup\" method=\"get\" action=\"/admin/user\" role=\"search\">"
                    "<p><label for=\"lookup-name\">User name</label>"
                    "<input id=\"lookup-name\" name=\"name\" value=\"%s\" required> "
                    "<label for=\"lookup-domain\">Domain</label>"
                    "<input id=\"lookup-domain\" name=\"domain\" value=\"%s\"> "
                    "<button id=\"lookup-submit\" type=\"submit\">Look up</button></p></form>",
                    name ? name : "", domain ? domain : rq->p->s->default_domain);
        if (!name)
                return panel_page(rq, 200, "Users", &h);
        json_t *params = json_pack("{s:s, s:s}", "name", name, "domain", domain ? domain : rq->p->s->default_domain);
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Identity.GetUser", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r == KAAS_ERROR_REMOTE && kaas_error_is(&err, "io.kaas.Identity.UserNotFound")) {
                kaas_error_clear(&err);
                html_printf(&h, "<p id=\"error\" role=\"alert\">No user %s in that domain.</p>", name);
                return panel_page(rq, 404, "Users", &h);
        }
        if (r < 0) {
                html_clear(&h);
                enum MHD_Result ret = panel_kaasd_failure(rq, "Users", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        json_t *u = json_object_get(reply, "user");
        const char *uid = json_string_value(json_object_get(u, "id"));
        html_printf(&h, "<section id=\"user-info\" aria-labelledby=\"user-name\"><h2 id=\"user-name\">%s</h2>"
                        "<p>ID <code>%s</code>, domain %s, %r.</p><h3>Roles</h3>",
                    json_string_value(json_object_get(u, "name")), uid,
                    json_string_value(json_object_get(u, "domain_name")),
                    json_is_true(json_object_get(u, "enabled")) ? "enabled" : "<strong>disabled</strong>");
        role_rows(&h, json_object_get(u, "roles"));
        html_printf(&h, "<h3>Projects</h3>");
        project_rows(&h, json_object_get(u, "projects"));
        html_printf(&h, "<h3>Clusters administered</h3><ul id=\"admin-clusters\">");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(u, "admin_of_clusters"), i, c)
                html_printf(&h, "<li>%s</li>", json_string_value(c));
        html_printf(&h, "</ul><h3>Revoke</h3><form id=\"revoke\" method=\"post\" action=\"/admin/revoke\">"
                        "<input type=\"hidden\" name=\"user\" value=\"%s\">",
                    uid);
        panel_csrf_field(rq, &h);
        html_printf(&h, "<p><input id=\"revoke-confirm\" type=\"checkbox\" name=\"confirm\" value=\"yes\" required> "
                        "<label for=\"revoke-confirm\">Delete every token of %s</label></p>"
                        "<p><button id=\"revoke-submit\" type=\"submit\">Revoke all tokens</button></p></form>"
                        "</section>",
                    json_string_value(json_object_get(u, "name")));
        json_decref(reply);
        return panel_page(rq, 200, "Users", &h);
}

enum MHD_Result route_admin_revoke(struct request *rq) {
        const char *user = form_get(&rq->form, "user"), *confirm = form_get(&rq->form, "confirm");
        if (!user || !*user || !confirm || strcmp(confirm, "yes") != 0)
                return panel_message(rq, 400, "Revoke", "error", true,
                                     "Tick the box to confirm that every token of the user goes.");
        json_t *params = json_pack("{s:o, s:s}", "credentials", panel_credentials(rq), "user", user), *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.RevokeUser", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "Revoke", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        long long n = (long long)json_integer_value(json_object_get(reply, "deleted"));
        json_decref(reply);
        hd_info("%s revoked the %lld tokens of user %s from %s", rq->sv.user_name, n, user, rq->peer);
        char text[100];
        snprintf(text, sizeof(text), "%lld tokens revoked", n);
        return panel_message(rq, 200, "Revoke", "revoked", false, text);
}

enum MHD_Result route_admin_rbac(struct request *rq) {
        const struct panel_cluster *c = panel_active_cluster(rq);
        json_t *params = json_pack("{s:s}", "id", rq->sv.user_id), *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Identity.GetUser", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "ClusterRoleBinding", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        json_t *ids = json_object_get(json_object_get(json_object_get(reply, "user"), "admin_roles"), c->name);
        char *yaml = NULL;
        size_t len = 0;
        r = panel_rbac_yaml(c->name, ids, &yaml, &len);
        json_decref(reply);
        if (r < 0)
                return MHD_NO;
        struct html h = { 0 };
        html_printf(&h,
                    "<p>Apply this to cluster <strong>%s</strong> (<code>kubectl apply -f -</code>): it makes the "
                    "holders of its admin roles cluster-admin.</p><pre id=\"rbac\">%s</pre>",
                    c->name, yaml);
        free(yaml);
        return panel_page(rq, 200, "ClusterRoleBinding", &h);
}
