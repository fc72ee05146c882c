/* pam_kaas: the auth stage. The password is a KaaS token of the PAM user:
 * its format is checked here (a typo never reaches kaasd), then kaasd's
 * io.kaas.Token.Validate decides, with the PAM user as the expected owner.
 * The accepted token's public ID is kept in PAM data for the session
 * stage; the token itself is never logged and never kept.
 *
 * Before asking for a token the user is looked up, so that a user
 * Keystone does not know gets PAM_USER_UNKNOWN (the next module may know
 * them) and an unreachable kaasd PAM_AUTHINFO_UNAVAIL, without a prompt
 * that could not succeed. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "support.h"
#include "token_format.h"

#define VALIDATE "io.kaas.Token.Validate"
#define TOKEN_ERROR(name) "io.kaas.Token." name

static void free_data(pam_handle_t *pamh, void *data, int error_status) {
        free(data);
}

/* Maps an error reply of Validate to a PAM result, telling the user
 * (when report) as little as is useful. */
static int validate_failed(struct pk_ctx *ctx, const struct kaas_error *err, bool report) {
        if (kaas_error_is(err, TOKEN_ERROR("InvalidToken"))) {
                pam_syslog(ctx->pamh, LOG_NOTICE,
                           "auth: KaaS token rejected for %s: unknown, deleted or another user's", ctx->user);
                if (report)
                        pk_tell(ctx, "KaaS token rejected");
                return PAM_AUTH_ERR;
        }
        if (kaas_error_is(err, TOKEN_ERROR("Expired"))) {
                const char *tid = json_string_value(json_object_get(err->parameters, "token_id"));
                pam_syslog(ctx->pamh, LOG_NOTICE, "auth: KaaS token %s of %s has expired",
                           tid && token_id_check_format(tid, strlen(tid)) == 0 ? tid : "-", ctx->user);
                if (report)
                        pk_tell(ctx, "KaaS token expired");
                return PAM_AUTH_ERR;
        }
        if (kaas_error_is(err, TOKEN_ERROR("UserDisabled")) || kaas_error_is(err, TOKEN_ERROR("UserRefused"))) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "auth: KaaS token of %s refused: %s", ctx->user,
                           err->message ? err->message : err->name);
                if (report)
                        pk_tell(ctx, "KaaS token rejected");
                return PAM_AUTH_ERR;
        }
        /* Unavailable, and whatever says kaasd cannot decide now
         * (PermissionDenied: this process is not a validator) */
        pam_syslog(ctx->pamh, LOG_ERR, "auth: kaasd cannot check the token of %s: %s", ctx->user,
                   err->message ? err->message : err->name);
        return pk_unavailable(ctx);
}

/* Asks kaasd about the token. */
static int validate(struct pk_ctx *ctx, const char *token, size_t len, bool report) {
        json_t *params = json_pack("{s:s%, s:s}", "token", token, len, "user", ctx->user);
        if (!params) {
                pam_syslog(ctx->pamh, LOG_ERR, "auth: out of memory");
                return PAM_BUF_ERR;
        }
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        enum pk_result res = pk_call(ctx, VALIDATE, params, &reply, &err);
        pk_json_wipe_and_free(params);
        int r;
        switch (res) {
        case PK_OK:
                break;
        case PK_REMOTE_ERROR:
                r = validate_failed(ctx, &err, report);
                kaas_error_clear(&err);
                return r;
        case PK_UNTRUSTED:
                return PAM_SERVICE_ERR;
        default:
                return pk_unavailable(ctx);
        }

        const char *tid = json_string_value(json_object_get(reply, "token_id"));
        json_t *enabled = json_object_get(reply, "enabled");
        if (!tid || token_id_check_format(tid, strlen(tid)) < 0 || !json_is_boolean(enabled)) {
                pam_syslog(ctx->pamh, LOG_ERR, "auth: kaasd's Validate reply lacks a token ID or the user's state");
                json_decref(reply);
                return pk_unavailable(ctx);
        }
        if (!json_is_true(enabled)) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "auth: KaaS token %s refused: %s is disabled in Keystone", tid,
                           ctx->user);
                if (report)
                        pk_tell(ctx, "KaaS token rejected");
                json_decref(reply);
                return PAM_AUTH_ERR;
        }
        char *data = strdup(tid);
        if (!data || pam_set_data(ctx->pamh, PK_DATA_TOKEN_ID, data, free_data) != PAM_SUCCESS) {
                free(data);
                pam_syslog(ctx->pamh, LOG_ERR, "auth: cannot keep the token ID for the session");
                json_decref(reply);
                return PAM_BUF_ERR;
        }
        pk_info(ctx, "auth: KaaS token %s accepted for %s", tid, ctx->user);
        json_decref(reply);
        return PAM_SUCCESS;
}

/* Gets the token (from PAM_AUTHTOK or the conversation) and checks it. */
static int check_token(struct pk_ctx *ctx, bool report) {
        const char *token = NULL;
        int r;
        if (ctx->opt.use_first_pass) {
                r = pam_get_item(ctx->pamh, PAM_AUTHTOK, (const void **)&token);
                if (r != PAM_SUCCESS || !token) {
                        pam_syslog(ctx->pamh, LOG_ERR, "auth: use_first_pass, but no earlier module set a password");
                        return PAM_AUTH_ERR;
                }
        } else {
                int64_t asked = pk_conversation_start();
                r = pam_get_authtok(ctx->pamh, PAM_AUTHTOK, &token, ctx->opt.prompt);
                pk_conversation_end(ctx, asked);
                if (r == PAM_CONV_AGAIN)
                        return PAM_INCOMPLETE;
                if (r != PAM_SUCCESS || !token) {
                        pam_syslog(ctx->pamh, LOG_NOTICE, "auth: no token for %s: %s", ctx->user,
                                   pam_strerror(ctx->pamh, r));
                        return PAM_AUTH_ERR;
                }
        }
        /* token is PAM's item: read here, never copied but into the call */
        size_t len = strlen(token);
        if (token_check_format(token, len) < 0) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "auth: the password given for %s is not a well-formed KaaS token",
                           ctx->user);
                if (report)
                        pk_tell(ctx, "KaaS token rejected: not a KaaS token (mistyped?)");
                return PAM_AUTH_ERR;
        }
        return validate(ctx, token, len, report);
}

static int authenticate(struct pk_ctx *ctx) {
        int r = pk_get_user(ctx);
        if (r != PAM_SUCCESS)
                return r;
        if ((r = pk_skip_local_user(ctx)) >= 0)
                return r;
        if (!ctx->opt.nodelay)
                (void)pam_fail_delay(ctx->pamh, PK_FAIL_DELAY_US);
        /* a token ID from an earlier attempt on this handle is not this one's */
        (void)pam_set_data(ctx->pamh, PK_DATA_TOKEN_ID, NULL, NULL);

        /* a disabled user passes here: Validate tells it apart */
        if ((r = pk_find_user(ctx, NULL)) != PAM_SUCCESS)
                return r;

        const void *first = NULL;
        bool retry = false;
        if (ctx->opt.try_first_pass && !ctx->opt.use_first_pass) {
                retry = pam_get_item(ctx->pamh, PAM_AUTHTOK, &first) == PAM_SUCCESS && first;
        } else if (!ctx->opt.use_first_pass) {
                /* as pam_unix: without an option, ask, whatever an earlier
                 * module read (PAM wipes the old item) */
                (void)pam_set_item(ctx->pamh, PAM_AUTHTOK, NULL);
        }
        r = check_token(ctx, !retry);
        if (r == PAM_AUTH_ERR && retry) {
                pk_debug(ctx, "auth: the earlier module's password is no KaaS token of %s: asking", ctx->user);
                (void)pam_set_item(ctx->pamh, PAM_AUTHTOK, NULL);
                r = check_token(ctx, true);
        }
        return r;
}

PK_PUBLIC int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct pk_ctx ctx;
        pk_ctx_init(&ctx, pamh, flags, "auth", argc, argv);
        int r = authenticate(&ctx);
        pk_ctx_done(&ctx);
        return r;
}

/* Nothing to establish for a Keystone user; local users are another
 * module's. */
PK_PUBLIC int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct pk_ctx ctx;
        pk_ctx_init(&ctx, pamh, flags, "setcred", argc, argv);
        int r = pk_get_user(&ctx);
        if (r == PAM_SUCCESS)
                r = pk_skip_local_user(&ctx) == PAM_IGNORE ? PAM_IGNORE : PAM_SUCCESS;
        else
                r = PAM_IGNORE;
        pk_ctx_done(&ctx);
        return r;
}
