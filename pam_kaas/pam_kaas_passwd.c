/* pam_kaas: the password stage. A KaaS token cannot be changed: users
 * create and delete tokens with kaasctl(1). Keystone users are told so
 * and the change fails; local users are left to the other modules. */
#include "config.h"

#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "support.h"

PK_PUBLIC int pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct pk_ctx ctx;
        pk_ctx_init(&ctx, pamh, flags, "password", argc, argv);
        int r = pk_get_user(&ctx);
        if (r != PAM_SUCCESS) {
                r = PAM_USER_UNKNOWN;
                goto out;
        }
        if ((r = pk_skip_local_user(&ctx)) >= 0) {
                if (r == PAM_SERVICE_ERR)
                        r = PAM_AUTHTOK_ERR;
                goto out;
        }
        /* refused in the preliminary check, so nothing is asked for */
        pam_syslog(pamh, LOG_NOTICE, "password: %s asked to change a KaaS token: not supported", ctx.user);
        pk_tell(&ctx, "KaaS tokens cannot be changed here: create a new one and delete the old one "
                      "with kaasctl (kaasctl token create, kaasctl token delete).");
        r = PAM_AUTHTOK_ERR;
out:
        pk_ctx_done(&ctx);
        return r;
}
