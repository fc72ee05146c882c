/* pam_kaas: code shared by the PAM stages — options, local accounts, the
 * connection to kaasd and the Keystone user lookup. See support.h. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "passwd_file.h"
#include "varlink_message.h"
#include "support.h"
#include "token_format.h"
#include "utf8.h"

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "name=value": the value, else NULL */
static const char *option_value(const char *arg, const char *name) {
        size_t n = strlen(name);
        if (strncmp(arg, name, n) == 0 && arg[n] == '=')
                return arg + n + 1;
        return NULL;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        if (!s || *s < '0' || *s > '9')
                return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno || *end || v > max)
                return false;
        *ret = v;
        return true;
}

void pk_ctx_init(struct pk_ctx *ctx, pam_handle_t *pamh, int flags, const char *stage, int argc,
                 const char **argv) {
        *ctx = (struct pk_ctx){
                .pamh = pamh,
                .flags = flags,
                .stage = stage,
                .opt = {
                        .timeout_ms = PK_DEFAULT_TIMEOUT_MS,
                        .prompt = PK_DEFAULT_PROMPT,
                        .passwd_file = PK_DEFAULT_PASSWD_FILE,
                },
        };
        struct pk_options *o = &ctx->opt;
        const char *kaasd_uid = NULL;
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v;
                unsigned long n;
                if (strcmp(a, "debug") == 0)
                        o->debug = true;
                else if (strcmp(a, "quiet") == 0)
                        o->quiet = true;
                else if (strcmp(a, "nodelay") == 0)
                        o->nodelay = true;
                else if (strcmp(a, "use_first_pass") == 0 || strcmp(a, "use_authtok") == 0)
                        o->use_first_pass = true;
                else if (strcmp(a, "try_first_pass") == 0)
                        o->try_first_pass = true;
                else if (strcmp(a, "ignore_unknown_user") == 0)
                        o->ignore_unknown_user = true;
                else if (strcmp(a, "ignore_authinfo_unavail") == 0)
                        o->ignore_authinfo_unavail = true;
                else if ((v = option_value(a, "socket")))
                        o->socket = *v ? v : NULL;
                else if ((v = option_value(a, "prompt")))
                        o->prompt = v;
                else if ((v = option_value(a, "passwd_file")) && *v == '/')
                        o->passwd_file = v;
                else if (option_value(a, "default_domain"))
                        /* a second copy of kaasd's naming rules could only disagree */
                        pam_syslog(pamh, LOG_NOTICE, "default_domain= is ignored: kaasd's [nss] default_domain "
                                   "decides which Keystone user a Unix name is");
                else if ((v = option_value(a, "kaasd_uid")))
                        kaasd_uid = v;
                else if ((v = option_value(a, "timeout"))) {
                        if (parse_uint(v, 600000, &n) && n > 0)
                                o->timeout_ms = (int)n;
                        else
                                pam_syslog(pamh, LOG_ERR, "timeout=%s is not a number of milliseconds "
                                           "from 1 to 600000; using %d", v, PK_DEFAULT_TIMEOUT_MS);
                } else if ((v = option_value(a, "require_role"))) {
                        o->require_role = v;
                        /* a restriction that cannot be read must not vanish */
                        if (strspn(v, ", ") == strlen(v))
                                o->bad_restriction = true;
                } else if ((v = option_value(a, "require_cluster_admin"))) {
                        o->require_cluster_admin = v;
                        if (!*v)
                                o->bad_restriction = true;
                } else
                        pam_syslog(pamh, LOG_ERR, "unknown option ignored: %s", a);
        }
        if (o->bad_restriction)
                pam_syslog(pamh, LOG_ERR, "require_role= or require_cluster_admin= without a value: "
                           "refusing every Keystone user until the configuration is fixed");
        if (kaasd_uid) {
                unsigned long n;
                uid_t uid;
                if (parse_uint(kaasd_uid, (uid_t)-2, &n)) {
                        o->kaasd_uid = (uid_t)n;
                        o->have_kaasd_uid = true;
                } else if (*kaasd_uid && passwd_file_find(o->passwd_file, kaasd_uid, &uid) == 1) {
                        o->kaasd_uid = uid;
                        o->have_kaasd_uid = true;
                } else
                        pam_syslog(pamh, LOG_ERR, "kaasd_uid=%s is neither a uid nor a user of %s; "
                                   "only a kaasd running as root is trusted", kaasd_uid, o->passwd_file);
        }
        ctx->deadline_ms = now_ms() + o->timeout_ms;
}

int64_t pk_conversation_start(void) {
        return now_ms();
}

void pk_conversation_end(struct pk_ctx *ctx, int64_t started) {
        int64_t spent = now_ms() - started;
        if (spent > 0)
                ctx->deadline_ms += spent;
}

void pk_ctx_done(struct pk_ctx *ctx) {
        ctx->client = kaas_client_free(ctx->client);
}

int pk_get_user(struct pk_ctx *ctx) {
        const char *user = NULL;
        int64_t asked = pk_conversation_start();     /* it may prompt */
        int r = pam_get_user(ctx->pamh, &user, NULL);
        pk_conversation_end(ctx, asked);
        if (r != PAM_SUCCESS) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot determine the user name: %s", ctx->stage,
                           pam_strerror(ctx->pamh, r));
                return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
        }
        size_t n = user ? strnlen(user, PK_USER_MAX + 1) : 0;
        if (n == 0 || n > PK_USER_MAX) {
                pk_debug(ctx, "%s: user name empty or longer than %d bytes", ctx->stage, PK_USER_MAX);
                return PAM_USER_UNKNOWN;
        }
        for (const unsigned char *p = (const unsigned char *)user; *p; p++)
                if (*p < 0x20 || *p == 0x7f) {
                        pk_debug(ctx, "%s: user name holds a control character", ctx->stage);
                        return PAM_USER_UNKNOWN;
                }
        /* a KaaS token typed as the login name: no user, and no line that
         * would log it as one */
        if (token_is_token_shaped(user)) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "%s: the user name is a KaaS token: refused", ctx->stage);
                return pk_unknown_user(ctx);
        }
        ctx->user = user;
        return PAM_SUCCESS;
}

int pk_user_is_local(const struct pk_ctx *ctx) {
        if (strcmp(ctx->user, "root") == 0)
                return 1;
        return passwd_file_find(ctx->opt.passwd_file, ctx->user, NULL);
}

int pk_skip_local_user(struct pk_ctx *ctx) {
        int r = pk_user_is_local(ctx);
        if (r < 0) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot read %s to tell local users from Keystone users: %s",
                           ctx->stage, ctx->opt.passwd_file, strerror(-r));
                return PAM_SERVICE_ERR;
        }
        if (r > 0) {
                pk_debug(ctx, "%s: %s is a local user: not handled", ctx->stage, ctx->user);
                return PAM_IGNORE;
        }
        return -1;
}

int pk_unavailable(const struct pk_ctx *ctx) {
        return ctx->opt.ignore_authinfo_unavail ? PAM_IGNORE : PAM_AUTHINFO_UNAVAIL;
}

int pk_unknown_user(const struct pk_ctx *ctx) {
        return ctx->opt.ignore_unknown_user ? PAM_IGNORE : PAM_USER_UNKNOWN;
}

void pk_tell(const struct pk_ctx *ctx, const char *msg) {
        if (!(ctx->flags & PAM_SILENT))
                (void)pam_error(ctx->pamh, "%s", msg);
}

void pk_json_wipe_and_free(json_t *v) {
        if (!v)
                return;
        vl_json_wipe(v);  /* common/: jansson's strings zeroed in place */
        json_decref(v);
}

/* Milliseconds left of the call's budget, 0 when it is spent. */
static int remaining_ms(const struct pk_ctx *ctx) {
        int64_t left = ctx->deadline_ms - now_ms();
        if (left <= 0)
                return 0;
        return left > INT_MAX ? INT_MAX : (int)left;
}

static const char *socket_path(const struct pk_ctx *ctx) {
        return ctx->client ? kaas_client_get_socket_path(ctx->client) : kaas_socket_path(ctx->opt.socket);
}

static enum pk_result connect_kaasd(struct pk_ctx *ctx) {
        char msg[256];
        int r;
        if (ctx->client)
                return PK_OK;
        int left = remaining_ms(ctx);
        if (left == 0) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: no time left (timeout=%d ms) to connect to kaasd", ctx->stage,
                           ctx->opt.timeout_ms);
                return PK_UNAVAILABLE;
        }
        struct kaas_client *c = NULL;
        /* before any byte is sent: the socket file and the process behind
         * it must be root's (or kaasd_uid's) */
        if ((r = kaas_client_new(ctx->opt.socket, left, &c)) < 0 ||
            (r = kaas_client_require_kaasd(c, ctx->opt.have_kaasd_uid ? ctx->opt.kaasd_uid : KAAS_UID_INVALID)) < 0) {
                kaas_client_free(c);
                pam_syslog(ctx->pamh, LOG_ERR, "%s: %s", ctx->stage, kaas_strerror(r));
                return PK_UNAVAILABLE;
        }
        r = kaas_client_connect(c);
        if (r == -EPERM) {
                pam_syslog(ctx->pamh, LOG_ERR,
                           "%s: refusing to talk to %s: the socket or the process listening on it does not "
                           "belong to root%s", ctx->stage, kaas_client_get_socket_path(c),
                           ctx->opt.have_kaasd_uid ? " or kaasd_uid" : "");
                kaas_client_free(c);
                return PK_UNTRUSTED;
        }
        if (r < 0) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: cannot reach kaasd: %s", ctx->stage,
                           kaas_strerror_path(r, kaas_client_get_socket_path(c), msg, sizeof(msg)));
                kaas_client_free(c);
                return PK_UNAVAILABLE;
        }
        ctx->client = c;
        return PK_OK;
}

enum pk_result pk_call(struct pk_ctx *ctx, const char *method, json_t *parameters, json_t **ret_parameters,
                       struct kaas_error *err) {
        enum pk_result res = connect_kaasd(ctx);
        if (res != PK_OK)
                return res;
        int left = remaining_ms(ctx);
        if (left == 0) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: %s: no answer from kaasd within timeout=%d ms", ctx->stage,
                           method, ctx->opt.timeout_ms);
                ctx->client = kaas_client_free(ctx->client);
                return PK_UNAVAILABLE;
        }
        kaas_client_set_timeout(ctx->client, left);
        int r = kaas_call(ctx->client, method, parameters, ret_parameters, err);
        if (r == KAAS_ERROR_REMOTE)
                return PK_REMOTE_ERROR;
        if (r == -EPERM) {
                /* kaasd had closed the connection, and what listens at the
                 * path now is not root's: an impostor, not an outage */
                pam_syslog(ctx->pamh, LOG_ERR,
                           "%s: %s: refusing to talk to %s on reconnecting: the socket or the process listening on "
                           "it does not belong to root%s", ctx->stage, method, socket_path(ctx),
                           ctx->opt.have_kaasd_uid ? " or kaasd_uid" : "");
                ctx->client = kaas_client_free(ctx->client);
                return PK_UNTRUSTED;
        }
        if (r < 0) {
                char msg[256];
                if (r == -ETIMEDOUT)
                        pam_syslog(ctx->pamh, LOG_ERR, "%s: %s: no answer from kaasd at %s within timeout=%d ms",
                                   ctx->stage, method, socket_path(ctx), ctx->opt.timeout_ms);
                else
                        pam_syslog(ctx->pamh, LOG_ERR, "%s: %s: %s", ctx->stage, method,
                                   kaas_strerror_path(r, socket_path(ctx), msg, sizeof(msg)));
                ctx->client = kaas_client_free(ctx->client);
                return PK_UNAVAILABLE;
        }
        return PK_OK;
}

/* Looks the PAM user up by its Unix name (io.kaas.Identity.GetUser with
 * unix_name): kaasd alone maps Unix names to Keystone users, with the same
 * rules ([nss] default_domain, domain_separator, local accounts) as for
 * the NSS module, so that this stage always decides for the user NSS
 * resolves. On PK_OK *ret_user is the User object (a new reference). A
 * name kaasd does not serve is PK_NOT_FOUND; other error replies
 * (io.kaas.Identity.Unavailable) are PK_REMOTE_ERROR with err filled. */
static enum pk_result lookup_user(struct pk_ctx *ctx, json_t **ret_user, struct kaas_error *err) {
        /* not UTF-8 (a local account may be, and was let through before
         * this): no Keystone user's name, and no JSON string to ask with */
        if (!utf8_valid(ctx->user, strlen(ctx->user))) {
                pk_debug(ctx, "%s: the user name is not UTF-8: not a Keystone user", ctx->stage);
                return PK_NOT_FOUND;
        }
        json_t *params = json_pack("{s:s}", "unix_name", ctx->user);
        if (!params) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: out of memory", ctx->stage);
                return PK_UNAVAILABLE;
        }
        json_t *reply = NULL;
        enum pk_result res = pk_call(ctx, "io.kaas.Identity.GetUser", params, &reply, err);
        json_decref(params);
        if (res == PK_REMOTE_ERROR && (kaas_error_is(err, "io.kaas.Identity.UserNotFound") ||
                                       kaas_error_is(err, "io.kaas.Identity.InvalidArgument"))) {
                pk_debug(ctx, "%s: kaasd serves no Keystone user as %s (%s)", ctx->stage, ctx->user, err->name);
                kaas_error_clear(err);
                return PK_NOT_FOUND;
        }
        if (res != PK_OK)
                return res;
        json_t *u = json_object_get(reply, "user");
        if (!json_is_object(u) || !json_is_boolean(json_object_get(u, "enabled"))) {
                pam_syslog(ctx->pamh, LOG_ERR, "%s: kaasd's GetUser reply lacks the user or its state", ctx->stage);
                json_decref(reply);
                return PK_UNAVAILABLE;
        }
        *ret_user = json_incref(u);
        json_decref(reply);
        return PK_OK;
}

int pk_find_user(struct pk_ctx *ctx, json_t **ret_user) {
        json_t *user = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        switch (lookup_user(ctx, &user, &err)) {
        case PK_OK:
                if (ret_user)
                        *ret_user = user;
                else
                        json_decref(user);
                return PAM_SUCCESS;
        case PK_NOT_FOUND:
                pk_info(ctx, "%s: %s is neither a local nor a Keystone user", ctx->stage, ctx->user);
                return pk_unknown_user(ctx);
        case PK_REMOTE_ERROR:
                pam_syslog(ctx->pamh, LOG_ERR, "%s: kaasd cannot look up %s: %s", ctx->stage, ctx->user,
                           err.message ? err.message : err.name);
                kaas_error_clear(&err);
                return pk_unavailable(ctx);
        case PK_UNTRUSTED:
                return PAM_SERVICE_ERR;
        default:
                return pk_unavailable(ctx);
        }
}
