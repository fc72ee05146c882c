/* Log in, log out, and the active cluster; see panel.h.
 *
 * Logging in: the form (with the login cookie's CSRF token, login_form.h) goes
 * to kaasd's io.kaas.Token.Authenticate, which checks the password with
 * Keystone (throttled by kaasd) and returns the unscoped Keystone token
 * of that authentication. The panel keeps that token as the session's
 * proof and forgets the password at once; the session is made then, with
 * a new ID. Every failure that is about the
 * credentials reads the same, but for a KaaS token typed as the user
 * name, which is said and goes no further. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "forward_rules.h"
#include "httpd/log.h"
#include "kaas.h"
#include "panel.h"
#include "token_format.h"

#define LOGIN_FAILED "Login failed: wrong user name, password or domain."
#define LOGIN_TOKEN_AS_USER \
        "That is a KaaS token, not a user name: log in with your OpenStack user name and password."

/* The session cookie: __Host- (this host only), or with cookie_domain
 * __Secure- for the domain's hosts, so the ingress's forward-auth
 * subrequest of a managed service carries it. See panel.h. */
void panel_set_session_cookie(struct request *rq, const char *id) {
        const struct panel_settings *s = rq->p->s;
        char domain[300] = "";
        if (s->cookie_domain)
                snprintf(domain, sizeof(domain), "; Domain=%s", s->cookie_domain);
        snprintf(rq->set_cookie, sizeof(rq->set_cookie), "%s=%s%s; Secure; HttpOnly; SameSite=Strict; Path=/%s",
                 panel_cookie_name(s), id ? id : "", domain, id ? "" : "; Max-Age=0");
}

/* Where a login leads: return_to when it stays inside the environment
 * (the origin's host or a managed service's, fa_check_return_to()),
 * else the user's tokens. The one place that decides it. */
static const char *login_target(struct request *rq, const char *return_to) {
        const struct panel_settings *s = rq->p->s;
        if (!return_to || !*return_to)
                return "/tokens";
        if (fa_check_return_to(return_to, (const char *const *)s->return_to_hosts, s->n_return_to_hosts) == 0)
                return return_to;
        hd_notice("login from %s: return_to outside the environment ignored", rq->peer);
        return "/tokens";
}

/* The origin (scheme://host[:port]) of a return_to login_target()
 * accepted, for the login page's CSP form-action: the answer to the form
 * leads there. */
static void form_origin(const char *return_to, char *ret, size_t size) {
        const char *authority = strstr(return_to, "://");
        size_t n = authority ? (size_t)(authority + 3 - return_to) + strcspn(authority + 3, "/?#") : 0;
        if (n == 0 || n >= size) {
                ret[0] = '\0';
                return;
        }
        memcpy(ret, return_to, n);
        ret[n] = '\0';
}

/* The session's Keystone token goes too: kaasd forgets it as proof and
 * revokes it in Keystone, so a copy taken from this process is worthless
 * after the logout. The logout itself never waits on that succeeding. */
static void end_keystone_session(struct request *rq) {
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = panel_revoke_keystone_token(rq->p, rq->sv.keystone_token, &err);
        if (r < 0)
                hd_warning("end of the session of %s: its Keystone token was not revoked, it stays valid until it expires: %s",
                           rq->sv.user_name, r == KAAS_ERROR_REMOTE ? err.message : kaas_strerror(r));
        kaas_error_clear(&err);
}

/* The login page with error (NULL: none). Its form carries the CSRF token
 * of the session it is shown in, or, logged out, the one of the login
 * cookie's nonce (login_form.h): the request's own when it has one, so
 * that forms shown in several tabs all stay good, else a new one (a
 * navigation from another site comes without the SameSite=Strict cookie:
 * forms open in other tabs then expire, and say so). */
static enum MHD_Result login_page(struct request *rq, unsigned code, const char *error, const char *user,
                                  const char *domain, const char *return_to) {
        char csrf[LOGIN_NONCE_CHARS + 1];
        if (rq->has_session) {
                snprintf(csrf, sizeof(csrf), "%s", rq->sv.csrf);
        } else {
                char nonce[LOGIN_NONCE_CHARS + 1];
                const char *cookie = MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, LOGIN_COOKIE);
                if (login_nonce_valid(cookie)) {
                        memcpy(nonce, cookie, sizeof(nonce));
                } else {
                        login_nonce_new(nonce);
                        snprintf(rq->set_cookie, sizeof(rq->set_cookie),
                                 LOGIN_COOKIE "=%s; Secure; HttpOnly; SameSite=Strict; Path=/", nonce);
                }
                login_csrf_of(&rq->p->login_key, nonce, csrf);
                sodium_memzero(nonce, sizeof(nonce));
        }
        struct html h = { 0 };
        if (error)
                html_printf(&h, "<p id=\"error\" role=\"alert\">%s</p>", error);
        html_printf(&h,
                    "<p>Log in with your OpenStack user name and password.</p>"
                    "<form id=\"login\" method=\"post\" action=\"/login\">"
                    "<p><label for=\"user\">User name</label>"
                    "<input id=\"user\" name=\"user\" autocomplete=\"username\" required autofocus value=\"%s\"></p>"
                    "<p><label for=\"password\">Password</label>"
                    "<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" "
                    "required></p>"
                    "<p><label for=\"domain\">Domain</label>"
                    "<input id=\"domain\" name=\"domain\" value=\"%s\" required></p>",
                    user ? user : "", domain ? domain : rq->p->s->default_domain);
        html_printf(&h, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
        sodium_memzero(csrf, sizeof(csrf));
        if (return_to && *return_to && strcmp(login_target(rq, return_to), return_to) == 0) {
                html_printf(&h, "<input type=\"hidden\" name=\"return_to\" value=\"%s\">", return_to);
                form_origin(return_to, rq->form_origin, sizeof(rq->form_origin));
        }
        html_printf(&h, "<p><button id=\"login-submit\" type=\"submit\">Log in</button></p></form>");
        return panel_page(rq, code, "Log in", &h);
}

enum MHD_Result route_login_get(struct request *rq) {
        /* reached for a POST whose CSRF token did not match */
        if (rq->post)
                return login_page(rq, 403, "The login form has expired: please log in again.", NULL, NULL,
                                  form_get(&rq->form, "return_to"));
        const char *return_to = panel_arg(rq, "return_to");
        /* logged in already: straight on */
        if (rq->has_session)
                return panel_redirect(rq, login_target(rq, return_to));
        return login_page(rq, 200, NULL, NULL, NULL, return_to);
}

enum MHD_Result route_login_post(struct request *rq) {
        const char *user = form_get(&rq->form, "user"), *password = form_get(&rq->form, "password"),
                   *domain = form_get(&rq->form, "domain"), *return_to = form_get(&rq->form, "return_to");
        if (!domain || !*domain)
                domain = rq->p->s->default_domain;
        /* a KaaS token pasted as the user name: neither logged, nor sent
         * to Keystone (which logs unknown names), nor shown again */
        if (user && token_is_token_shaped(user)) {
                hd_notice("login from %s refused: a KaaS token as the user name", rq->peer);
                return login_page(rq, 401, LOGIN_TOKEN_AS_USER, NULL, domain, return_to);
        }
        if (!user || !*user || !password || !*password || strlen(user) > SESSION_NAME_MAX)
                return login_page(rq, 401, LOGIN_FAILED, user, domain, return_to);
        json_t *params = json_pack("{s:{s:s, s:s, s:s}}", "credentials", "user", user, "password", password,
                                   "domain", domain);
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = params ? panel_call(rq->p, "io.kaas.Token.Authenticate", params, &reply, &err) : -ENOMEM;
        json_decref(params);  /* wiped: main.c's allocator */
        if (r == KAAS_ERROR_REMOTE && kaas_error_is(&err, "io.kaas.Token.RateLimited")) {
                char text[200];
                snprintf(text, sizeof(text), "Too many failed logins: try again in %lld seconds.",
                         (long long)json_integer_value(json_object_get(err.parameters, "retry_after")));
                hd_notice("login of %s from %s: throttled by kaasd", user, rq->peer);
                kaas_error_clear(&err);
                return login_page(rq, 429, text, user, domain, return_to);
        }
        if (r == KAAS_ERROR_REMOTE &&
            (kaas_error_is(&err, "io.kaas.Token.AuthenticationFailed") ||
             kaas_error_is(&err, "io.kaas.Token.CredentialsRequired") ||
             kaas_error_is(&err, "io.kaas.Token.UserDisabled") ||
             kaas_error_is(&err, "io.kaas.Token.ProofNotAccepted"))) {
                hd_notice("login of %s (domain %s) from %s failed: %s", user, domain, rq->peer, err.name);
                kaas_error_clear(&err);
                return login_page(rq, 401, LOGIN_FAILED, user, domain, return_to);
        }
        if (r < 0) {
                hd_warning("login of %s from %s: kaasd: %s", user, rq->peer,
                           r == KAAS_ERROR_REMOTE ? err.name : kaas_strerror(r));
                kaas_error_clear(&err);
                return login_page(rq, 503, "The identity service is unavailable: try again later.", user, domain,
                                  return_to);
        }
        const char *ks_token = json_string_value(json_object_get(reply, "keystone_token"));
        const char *user_id = json_string_value(json_object_get(reply, "user_id"));
        const char *user_name = json_string_value(json_object_get(reply, "user_name"));
        json_int_t expires = json_integer_value(json_object_get(reply, "expires"));
        if (!ks_token || !user_id || !user_name) {
                json_decref(reply);
                return login_page(rq, 503, "The identity service gave an unexpected answer.", user, domain,
                                  return_to);
        }
        struct session_login login = {
                .user_name = user_name,
                .user_id = user_id,
                .domain_id = json_string_value(json_object_get(reply, "domain_id")),
                .keystone_token = ks_token,
                .proof_expires = (int64_t)expires,
        };
        if (panel_admin_mask(rq->p, user_id, &login.admin_mask) < 0)
                login.admin_mask = 0;
        char id[SESSION_ID_CHARS + 1];
        /* a login over a live session ends that one, its Keystone token
         * with it; the new session has a new ID */
        if (rq->has_session) {
                session_end(rq->p->sessions, rq->sid);
                if (rq->sv.keystone_token)
                        end_keystone_session(rq);
        }
        r = session_create(rq->p->sessions, &login, time(NULL), id);
        if (r < 0) {
                /* no session holds the login's Keystone token: it ends here */
                if (panel_revoke_keystone_token(rq->p, ks_token, &err) < 0)
                        hd_warning("login of %s refused (no room): its Keystone token was not revoked: %s", user_name,
                                   err.message ? err.message : "kaasd unavailable");
                kaas_error_clear(&err);
                json_decref(reply);
                return panel_message(rq, 503, "Log in", "error", true, "The panel is busy: try again in a minute.");
        }
        hd_info("login of %s (%s) from %s", user_name, user_id, rq->peer);
        if (r > 0)
                hd_notice("login of %s (%s): their session used least recently ended (max_sessions_per_user)",
                          user_name, user_id);
        json_decref(reply);
        panel_set_session_cookie(rq, id);
        explicit_bzero(id, sizeof(id));
        rq->has_session = false;
        return panel_redirect(rq, login_target(rq, return_to));
}

enum MHD_Result route_logout(struct request *rq) {
        session_end(rq->p->sessions, rq->sid);
        if (rq->sv.keystone_token)
                end_keystone_session(rq);
        hd_info("logout of %s from %s", rq->sv.user_name, rq->peer);
        panel_set_session_cookie(rq, NULL);
        rq->has_session = false;
        return panel_redirect(rq, "/login");
}

enum MHD_Result route_cluster(struct request *rq) {
        const char *name = form_get(&rq->form, "cluster");
        const struct panel_settings *s = rq->p->s;
        for (size_t i = 0; name && i < s->n_clusters; i++) {
                if (strcmp(s->clusters[i].name, name) != 0)
                        continue;
                uint32_t mask = rq->sv.admin_mask;
                (void)panel_admin_mask(rq->p, rq->sv.user_id, &mask);
                if (session_set_cluster(rq->p->sessions, rq->sid, i, mask) < 0)
                        return panel_redirect(rq, "/login");
                return panel_redirect(rq, "/tokens");
        }
        return panel_message(rq, 400, "Bad request", "error", true, "There is no such cluster.");
}
