/* pam_kaas: the session stage. Opening and closing a session of a
 * Keystone user is logged with the ID of the KaaS token the auth stage
 * accepted (never the token), so an operator can tell which token opened
 * which session and delete it. A session without one (public-key login,
 * or authentication in another process of the application) says so. */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "support.h"

static int session(pam_handle_t *pamh, int flags, int argc, const char **argv, const char *what) {
        struct pk_ctx ctx;
        pk_ctx_init(&ctx, pamh, flags, "session", argc, argv);
        int r = pk_get_user(&ctx);
        if (r != PAM_SUCCESS) {
                r = PAM_SESSION_ERR;
                goto out;
        }
        if ((r = pk_skip_local_user(&ctx)) >= 0)
                goto out;
        const void *tid = NULL;
        if (pam_get_data(pamh, PK_DATA_TOKEN_ID, &tid) != PAM_SUCCESS)
                tid = NULL;
        const void *service = NULL, *rhost = NULL;
        (void)pam_get_item(pamh, PAM_SERVICE, &service);
        (void)pam_get_item(pamh, PAM_RHOST, &rhost);
        if (tid)
                pk_info(&ctx, "session %s for %s (KaaS token %s, service %s, from %s)", what, ctx.user,
                        (const char *)tid, service ? (const char *)service : "-",
                        rhost ? (const char *)rhost : "-");
        else
                pk_info(&ctx, "session %s for %s (no KaaS token: authenticated otherwise, service %s, from %s)",
                        what, ctx.user, service ? (const char *)service : "-", rhost ? (const char *)rhost : "-");
        r = PAM_SUCCESS;
out:
        pk_ctx_done(&ctx);
        return r;
}

PK_PUBLIC int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        return session(pamh, flags, argc, argv, "opened");
}

PK_PUBLIC int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        return session(pamh, flags, argc, argv, "closed");
}
