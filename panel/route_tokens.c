/* The user's tokens, the once-shown new token with its kubectl lines and
 * kubeconfig, deletion, and the managed services; see panel.h. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpd/log.h"
#include "kaas.h"
#include "kubeconfig.h"
#include "panel.h"
#include "token_format.h"

/* A token ID as kaasd makes them; anything else never reaches kaasd. */
static bool token_id_valid(const char *id) {
        return id && token_id_check_format(id, strlen(id)) == 0;
}

void panel_token_table(struct html *h, json_t *tokens, bool admin) {
        const char *prefix = admin ? "/admin" : "";
        if (json_array_size(tokens) == 0) {
                html_printf(h, "<p id=\"no-tokens\">No tokens.</p>");
                return;
        }
        html_printf(h, "<div class=\"scroll\"><table id=\"%r\"><thead><tr>%r<th scope=\"col\">Description</th>"
                       "<th scope=\"col\">Created</th><th scope=\"col\">Expires</th><th scope=\"col\">Last used</th>"
                       "<th scope=\"col\"><span class=\"visually-hidden\">Actions</span></th></tr></thead><tbody>",
                    admin ? "all-tokens" : "tokens", admin ? "<th scope=\"col\">User</th>" : "");
        size_t i;
        json_t *t;
        json_array_foreach(tokens, i, t) {
                const char *id = json_string_value(json_object_get(t, "id"));
                const char *desc = json_string_value(json_object_get(t, "description"));
                if (!id)
                        continue;
                html_printf(h, "<tr data-token-id=\"%s\">", id);
                if (admin)
                        html_printf(h, "<td class=\"user\">%s</td>",
                                    json_string_value(json_object_get(t, "user_name")));
                html_printf(h, "<td class=\"description\">%s</td><td class=\"created\">", desc ? desc : "");
                panel_time(h, (long long)json_integer_value(json_object_get(t, "created")));
                html_printf(h, "</td><td class=\"expires\">");
                panel_time(h, (long long)json_integer_value(json_object_get(t, "expires")));
                html_printf(h, "</td><td class=\"last-used\">");
                panel_time(h, (long long)json_integer_value(json_object_get(t, "last_used")));
                html_printf(h, "</td><td><a class=\"delete\" href=\"%r/tokens/delete?id=%s\">Delete"
                               "<span class=\"visually-hidden\"> token %s</span></a></td></tr>",
                            prefix, id, desc && *desc ? desc : id);
        }
        html_printf(h, "</tbody></table></div>");
}

/* The list, with error (NULL: none) above the create form. */
static enum MHD_Result tokens_page(struct request *rq, unsigned code, const char *error) {
        json_t *params = json_pack("{s:o}", "credentials", panel_credentials(rq)), *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.List", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "Tokens", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        struct html h = { 0 };
        if (error)
                html_printf(&h, "<p id=\"error\" role=\"alert\">%s</p>", error);
        html_printf(&h, "<section aria-labelledby=\"yours\"><h2 id=\"yours\">Your tokens</h2>");
        panel_token_table(&h, json_object_get(reply, "tokens"), false);
        json_decref(reply);
        html_printf(&h, "</section><section aria-labelledby=\"new\"><h2 id=\"new\">Create a token</h2>"
                        "<form id=\"create\" method=\"post\" action=\"/tokens\">"
                        "<p><label for=\"description\">Description</label>"
                        "<input id=\"description\" name=\"description\" maxlength=\"256\" "
                        "placeholder=\"laptop, CI pipeline...\"></p>"
                        "<p><label for=\"lifetime\">Lifetime in days</label>"
                        "<input id=\"lifetime\" name=\"lifetime_days\" type=\"number\" min=\"1\" max=\"%u\" "
                        "value=\"%u\" required></p>",
                    rq->p->s->token_max_days, rq->p->s->token_max_days);
        panel_csrf_field(rq, &h);
        html_printf(&h, "<p><button id=\"create-submit\" type=\"submit\">Create token</button></p></form></section>");
        return panel_page(rq, code, "Tokens", &h);
}

enum MHD_Result route_tokens(struct request *rq) {
        return tokens_page(rq, 200, NULL);
}

enum MHD_Result route_tokens_create(struct request *rq) {
        const char *desc = form_get(&rq->form, "description"), *days = form_get(&rq->form, "lifetime_days");
        char *end = NULL;
        long n = days ? strtol(days, &end, 10) : 0;
        if (!days || !*days || *end || n < 1 || n > (long)rq->p->s->token_max_days) {
                char text[128];
                snprintf(text, sizeof(text), "The lifetime must be between 1 and %u days.", rq->p->s->token_max_days);
                return tokens_page(rq, 400, text);
        }
        json_t *params = json_pack("{s:o, s:s, s:i}", "credentials", panel_credentials(rq), "description",
                                   desc ? desc : "", "expires_in_days", (int)n);
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.Create", params, &reply, &err) : -ENOMEM;
        json_decref(params);
        if (r == KAAS_ERROR_REMOTE && (kaas_error_is(&err, "io.kaas.Token.InvalidArgument") ||
                                       kaas_error_is(&err, "io.kaas.Token.TooManyTokens"))) {
                const char *reason = json_string_value(json_object_get(err.parameters, "reason"));
                char text[400];
                if (reason)
                        snprintf(text, sizeof(text), "The token was not created: %s.", reason);
                else
                        snprintf(text, sizeof(text), "The token was not created: you have reached the limit of "
                                                     "%lld tokens.",
                                 (long long)json_integer_value(json_object_get(err.parameters, "limit")));
                kaas_error_clear(&err);
                return tokens_page(rq, 400, text);
        }
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "Tokens", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        const char *token = json_string_value(json_object_get(reply, "token"));
        const char *id = json_string_value(json_object_get(reply, "id"));
        r = token ? session_put_new_token(rq->p->sessions, rq->sid, token) : -EPROTO;
        hd_info("%s created token %s from %s", rq->sv.user_name, id ? id : "?", rq->peer);
        json_decref(reply);
        if (r < 0)
                return panel_message(rq, 500, "Tokens", "error", true,
                                     "The token was created but cannot be shown: delete it and create another.");
        return panel_redirect(rq, "/tokens/new");
}

/* A word as a shell argument: bare when it is safe, else single-quoted. */
static void shell_word(struct html *h, const char *s) {
        bool bare = *s != '\0';
        for (const char *p = s; *p && bare; p++)
                bare = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                       strchr("@%+=:,./_-", *p);
        if (bare) {
                html_printf(h, "%s", s);
                return;
        }
        html_printf(h, "'");
        for (const char *p = s; *p; p++) {
                const char *q = strchr(p, '\'');
                size_t n = q ? (size_t)(q - p) : strlen(p);
                html_escape(h, p, n);
                if (!q)
                        break;
                html_printf(h, "'\\''");
                p = q;
        }
        html_printf(h, "'");
}

enum MHD_Result route_tokens_new(struct request *rq) {
        char *token = NULL;
        if (session_take_new_token(rq->p->sessions, rq->sid, &token) < 0)
                return panel_message(rq, 404, "New token", "gone", false,
                                     "A new token is shown only once, right after it is created. It cannot be shown "
                                     "again: create another one if you did not copy it.");
        const struct panel_cluster *c = panel_active_cluster(rq);
        struct html h = { 0 };
        html_printf(&h,
                    "<p id=\"once\" role=\"status\">Copy your new token now: it is shown only this once.</p>"
                    "<p><code id=\"new-token\">%s</code> "
                    "<button id=\"copy\" type=\"button\" data-copy=\"new-token\">Copy token</button></p>"
                    "<h2>Use it with kubectl</h2><pre id=\"kubectl-lines\">kubectl --server=%s "
                    "--certificate-authority=",
                    token, c->server);
        shell_word(&h, c->ca_file);
        html_printf(&h, " --token=%s get namespaces\nkubectl config set-credentials ", token);
        shell_word(&h, rq->sv.user_name);
        html_printf(&h, " --token=%s</pre>"
                        "<h2>Kubeconfig</h2><form id=\"kubeconfig\" method=\"post\" action=\"/tokens/kubeconfig\">"
                        "<input type=\"hidden\" name=\"token\" value=\"%s\">",
                    token, token);
        panel_csrf_field(rq, &h);
        html_printf(&h, "<button id=\"kubeconfig-submit\" type=\"submit\">Download kubeconfig for %s</button>"
                        "</form><p><a href=\"/tokens\">Back to your tokens</a></p>",
                    c->name);
        explicit_bzero(token, strlen(token));
        free(token);
        return panel_page(rq, 200, "New token", &h);
}

enum MHD_Result route_kubeconfig(struct request *rq) {
        const char *token = form_get(&rq->form, "token");
        const struct panel_cluster *c = panel_active_cluster(rq);
        size_t len = 0;
        char *doc = NULL;
        int r = token ? panel_kubeconfig(c, rq->sv.user_name, token, &doc, &len) : -EINVAL;
        if (r == -EINVAL)
                return panel_message(rq, 400, "Kubeconfig", "error", true, "That is not a KaaS token.");
        if (r < 0)
                return MHD_NO;
        char filename[300];
        snprintf(filename, sizeof(filename), "kubeconfig-%s.yaml", c->name);
        return panel_download(rq, "application/yaml", filename, doc, len);
}

enum MHD_Result route_delete_confirm(struct request *rq, bool admin) {
        const char *id = panel_arg(rq, "id");
        if (!token_id_valid(id))
                return panel_message(rq, 400, "Delete a token", "error", true, "That is not a token ID.");
        struct html h = { 0 };
        html_printf(&h,
                    "<p>Delete token <code>%s</code>? Whatever uses it stops working at once.</p>"
                    "<form id=\"confirm-delete\" method=\"post\" action=\"%r/tokens/delete\">"
                    "<input type=\"hidden\" name=\"id\" value=\"%s\">",
                    id, admin ? "/admin" : "", id);
        panel_csrf_field(rq, &h);
        html_printf(&h, "<p><button id=\"confirm-submit\" type=\"submit\">Delete</button> "
                        "<a href=\"%r/tokens\">Cancel</a></p></form>",
                    admin ? "/admin" : "");
        return panel_page(rq, 200, "Delete a token", &h);
}

enum MHD_Result route_delete(struct request *rq, bool admin) {
        const char *id = form_get(&rq->form, "id");
        if (!token_id_valid(id))
                return panel_message(rq, 400, "Delete a token", "error", true, "That is not a token ID.");
        json_t *params = json_pack("{s:o, s:[s]}", "credentials", panel_credentials(rq), "ids", id);
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.Delete", params, NULL, &err) : -ENOMEM;
        json_decref(params);
        if (r < 0) {
                enum MHD_Result ret = panel_kaasd_failure(rq, "Delete a token", r, &err);
                kaas_error_clear(&err);
                return ret;
        }
        hd_info("%s deleted token %s from %s", rq->sv.user_name, id, rq->peer);
        return panel_redirect(rq, admin ? "/admin/tokens" : "/tokens");
}

enum MHD_Result route_services(struct request *rq) {
        const struct panel_cluster *c = panel_active_cluster(rq);
        struct html h = { 0 };
        html_printf(&h, "<p>Services of cluster <strong>%s</strong>.</p>", c->name);
        if (c->n_services == 0) {
                html_printf(&h, "<p id=\"no-services\">No managed services are listed for this cluster.</p>");
        } else {
                html_printf(&h, "<ul id=\"services\">");
                for (size_t i = 0; i < c->n_services; i++)
                        html_printf(&h, "<li><a href=\"%s\">%s</a></li>", c->services[i].url, c->services[i].label);
                html_printf(&h, "</ul>");
        }
        return panel_page(rq, 200, "Services", &h);
}
