/* pam_kaas: the account stage. The user must still be known to Keystone
 * and enabled, and, when the options ask for it, hold one of the required
 * roles (require_role=, names or IDs) and be an administrator of the named
 * cluster (require_cluster_admin=). This runs for every login, so it holds
 * for public-key logins too, which skip the auth stage. */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "support.h"

/* Whether the user holds a role named or identified by the n bytes at want. */
static bool has_role(json_t *roles, const char *want, size_t n) {
        size_t i;
        json_t *role;
        json_array_foreach(roles, i, role) {
                const char *id = json_string_value(json_object_get(role, "id"));
                const char *name = json_string_value(json_object_get(role, "name"));
                if ((id && strlen(id) == n && memcmp(id, want, n) == 0) ||
                    (name && strlen(name) == n && memcmp(name, want, n) == 0))
                        return true;
        }
        return false;
}

/* Whether the user holds any role of the comma-separated list. */
static bool has_any_role(json_t *user, const char *list) {
        json_t *roles = json_object_get(user, "roles");
        if (!json_is_array(roles))
                return false;
        for (const char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                /* spaces around list items are not part of a name */
                const char *s = p;
                size_t len = n;
                while (len && *s == ' ')
                        s++, len--;
                while (len && s[len - 1] == ' ')
                        len--;
                if (len && has_role(roles, s, len))
                        return true;
                p += n;
                if (*p == ',')
                        p++;
        }
        return false;
}

static bool is_cluster_admin(json_t *user, const char *cluster) {
        json_t *clusters = json_object_get(user, "admin_of_clusters");
        size_t i;
        json_t *c;
        json_array_foreach(clusters, i, c) {
                const char *name = json_string_value(c);
                if (name && strcmp(name, cluster) == 0)
                        return true;
        }
        return false;
}

static int check_user(struct pk_ctx *ctx, json_t *user) {
        if (!json_is_true(json_object_get(user, "enabled"))) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "account: %s is disabled in Keystone", ctx->user);
                pk_tell(ctx, "Your KaaS account is disabled.");
                return PAM_ACCT_EXPIRED;
        }
        if (ctx->opt.bad_restriction) {
                pam_syslog(ctx->pamh, LOG_ERR, "account: %s refused: require_role= or require_cluster_admin= "
                           "has no value", ctx->user);
                return PAM_PERM_DENIED;
        }
        if (ctx->opt.require_role && !has_any_role(user, ctx->opt.require_role)) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "account: %s refused: holds none of the roles %s", ctx->user,
                           ctx->opt.require_role);
                pk_tell(ctx, "Access denied: your KaaS account lacks a role required on this host.");
                return PAM_PERM_DENIED;
        }
        if (ctx->opt.require_cluster_admin && !is_cluster_admin(user, ctx->opt.require_cluster_admin)) {
                pam_syslog(ctx->pamh, LOG_NOTICE, "account: %s refused: not an administrator of cluster %s",
                           ctx->user, ctx->opt.require_cluster_admin);
                pk_tell(ctx, "Access denied: only administrators of this cluster may log in here.");
                return PAM_PERM_DENIED;
        }
        pk_debug(ctx, "account: %s may log in", ctx->user);
        return PAM_SUCCESS;
}

static int account(struct pk_ctx *ctx) {
        int r = pk_get_user(ctx);
        if (r != PAM_SUCCESS)
                return r;
        if ((r = pk_skip_local_user(ctx)) >= 0)
                return r;

        json_t *user = NULL;
        if ((r = pk_find_user(ctx, &user)) != PAM_SUCCESS)
                return r;
        r = check_user(ctx, user);
        json_decref(user);
        return r;
}

PK_PUBLIC int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        struct pk_ctx ctx;
        pk_ctx_init(&ctx, pamh, flags, "account", argc, argv);
        int r = account(&ctx);
        pk_ctx_done(&ctx);
        return r;
}
