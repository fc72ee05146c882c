/* The page skeleton and the ways kaas-panel answers; see panel.h. Every
 * answer carries the security headers (httpd/respond.h adds nosniff):
 * a Content-Security-Policy that allows the panel's own stylesheet and
 * script and nothing else (no inline code, no frames around it), no
 * Referer, HSTS, and no-store on everything but the static files. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "httpd/respond.h"
#include "panel.h"

#define CSP_BEFORE_FORMS "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'"
#define CSP_AFTER_FORMS "; frame-ancestors 'none'; base-uri 'none'"
#define CSP CSP_BEFORE_FORMS CSP_AFTER_FORMS

static const struct hd_header policy[] = {
        { "Content-Security-Policy", CSP },
        { "Referrer-Policy", "no-referrer" },
        { "Strict-Transport-Security", "max-age=31536000" },
        { "X-Frame-Options", "DENY" },
        { "Cross-Origin-Opener-Policy", "same-origin" },
        { MHD_HTTP_HEADER_CACHE_CONTROL, "no-store" },
        { NULL, NULL },
};

static enum MHD_Result respond(struct request *rq, unsigned code, const char *type, char *body, size_t len,
                               const char *location, const char *disposition) {
        const struct hd_header extra[] = {
                { rq->set_cookie[0] ? MHD_HTTP_HEADER_SET_COOKIE : NULL, rq->set_cookie },
                { location ? MHD_HTTP_HEADER_LOCATION : NULL, location },
                { disposition ? MHD_HTTP_HEADER_CONTENT_DISPOSITION : NULL, disposition },
                { NULL, NULL },
        };
        /* the optional headers are skipped, not ended at: compact them */
        struct hd_header list[4];
        size_t n = 0;
        for (size_t i = 0; i < 3; i++)
                if (extra[i].name)
                        list[n++] = extra[i];
        list[n] = (struct hd_header){ NULL, NULL };
        if (!rq->form_origin[0])
                return hd_respond(rq->conn, code, type, body, len, policy, list);
        /* the same policy, with one more origin for the forms */
        char csp[sizeof(CSP) + sizeof(rq->form_origin) + 1];
        struct hd_header own[sizeof(policy) / sizeof(policy[0])];
        snprintf(csp, sizeof(csp), "%s %s%s", CSP_BEFORE_FORMS, rq->form_origin, CSP_AFTER_FORMS);
        memcpy(own, policy, sizeof(policy));
        own[0].value = csp;
        return hd_respond(rq->conn, code, type, body, len, own, list);
}

const struct panel_cluster *panel_active_cluster(const struct request *rq) {
        size_t i = rq->sv.cluster < rq->p->s->n_clusters ? rq->sv.cluster : 0;
        return &rq->p->s->clusters[i];
}

void panel_csrf_field(struct request *rq, struct html *h) {
        html_printf(h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", rq->sv.csrf);
}

void panel_time(struct html *h, long long t) {
        if (t <= 0) {
                html_printf(h, "never");
                return;
        }
        time_t tt = (time_t)t;
        struct tm tm;
        char iso[32], text[32];
        gmtime_r(&tt, &tm);
        strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
        strftime(text, sizeof(text), "%Y-%m-%d %H:%M UTC", &tm);
        html_printf(h, "<time datetime=\"%s\">%s</time>", iso, text);
}

static void nav(struct request *rq, struct html *h) {
        const struct panel_settings *s = rq->p->s;
        html_printf(h, "<nav id=\"nav\" aria-label=\"Main\">");
        if (s->n_clusters > 1) {
                html_printf(h, "<form id=\"cluster-form\" method=\"post\" action=\"/cluster\">"
                               "<label for=\"cluster\">Cluster</label> <select id=\"cluster\" name=\"cluster\">");
                for (size_t i = 0; i < s->n_clusters; i++)
                        html_printf(h, "<option value=\"%s\"%r>%s</option>", s->clusters[i].name,
                                    i == rq->sv.cluster ? " selected" : "", s->clusters[i].name);
                html_printf(h, "</select>");
                panel_csrf_field(rq, h);
                html_printf(h, " <button id=\"cluster-submit\" type=\"submit\">Switch</button></form>");
        }
        html_printf(h, "<ul><li><a id=\"nav-tokens\" href=\"/tokens\">Tokens</a></li>"
                       "<li><a id=\"nav-services\" href=\"/services\">Services</a></li>");
        if (rq->sv.admin_mask & (1u << rq->sv.cluster))
                html_printf(h, "<li><a id=\"nav-admin\" href=\"/admin\">Administration</a></li>");
        html_printf(h, "</ul><p class=\"user\">Logged in as <span id=\"whoami\">%s</span></p>"
                       "<form id=\"logout\" method=\"post\" action=\"/logout\">",
                    rq->sv.user_name);
        panel_csrf_field(rq, h);
        html_printf(h, "<button id=\"logout-submit\" type=\"submit\">Log out</button></form></nav>");
}

enum MHD_Result panel_page(struct request *rq, unsigned code, const char *title, struct html *body) {
        struct html h = { 0 };
        html_printf(&h,
                    "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                    "<title>%s - KaaS Control Panel</title>"
                    "<link rel=\"stylesheet\" href=\"/static/panel.css\">"
                    "<script src=\"/static/panel.js\" defer></script></head>\n"
                    "<body><a class=\"skip\" href=\"#main\">Skip to content</a>"
                    "<header><p class=\"brand\">KaaS Control Panel</p>",
                    title);
        if (rq->has_session)
                nav(rq, &h);
        html_printf(&h, "</header>\n<main id=\"main\"><h1>%s</h1>\n", title);
        size_t blen = 0;
        char *b = html_finish(body, &blen);
        if (!b) {
                html_clear(&h);
                return MHD_NO;
        }
        html_printf(&h, "%r", b);
        explicit_bzero(b, blen);
        free(b);
        html_printf(&h, "\n</main></body></html>\n");
        size_t len = 0;
        char *page = html_finish(&h, &len);
        if (!page)
                return MHD_NO;
        return respond(rq, code, "text/html; charset=utf-8", page, len, NULL, NULL);
}

enum MHD_Result panel_message(struct request *rq, unsigned code, const char *title, const char *id, bool alert,
                              const char *text) {
        struct html h = { 0 };
        html_printf(&h, "<p id=\"%s\"%r>%s</p>", id, alert ? " role=\"alert\"" : "", text);
        if (rq->has_session)
                html_printf(&h, "<p><a href=\"/tokens\">Back to your tokens</a></p>");
        else
                html_printf(&h, "<p><a href=\"/login\">Log in</a></p>");
        return panel_page(rq, code, title, &h);
}

enum MHD_Result panel_forbidden(struct request *rq, const char *why) {
        return panel_message(rq, 403, "Forbidden", "error", true, why);
}

enum MHD_Result panel_redirect(struct request *rq, const char *location) {
        char *body = strdup("");
        if (!body)
                return MHD_NO;
        return respond(rq, 303, "text/plain; charset=utf-8", body, 0, location, NULL);
}

enum MHD_Result panel_download(struct request *rq, const char *content_type, const char *filename, char *body,
                               size_t len) {
        char disposition[300];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", filename);
        return respond(rq, 200, content_type, body, len, NULL, disposition);
}
