/* Who may call what (DESIGN §4), in one place. The access class is checked
 * against the peer's kernel credentials before the handler runs;
 * ACCESS_USER handlers additionally demand proof of an OpenStack identity
 * and act only for it. docs/ARCHITECTURE.md mirrors this table.
 *
 * The last column refuses "oneway" (org.varlink.service.InvalidParameter,
 * parameter "oneway"): for tokens and identities the outcome is the point,
 * and a lookup nobody waits for would only spend Keystone capacity. */
#include "config.h"

#include "methods.h"

const struct method_def kaasd_methods[] = {
        /* introspection: anyone, as every varlink service */
        { "org.varlink.service.GetInfo", ACCESS_ANYONE, false, service_get_info, false },
        { "org.varlink.service.GetInterfaceDescription", ACCESS_ANYONE, false, service_get_interface_description, false },
        { "io.kaas.Ping", ACCESS_ANYONE, false, service_ping, false },

        /* administration */
        { "io.kaas.Admin.Status", ACCESS_ANYONE, false, admin_status, false },
        { "io.kaas.Admin.Reload", ACCESS_ADMIN, false, admin_reload, false },
        { "io.kaas.Admin.InvalidateUser", ACCESS_ADMIN, false, admin_invalidate_user, false },
        { "io.kaas.Admin.FlushCache", ACCESS_ADMIN, false, admin_flush_cache, false },
        { "io.kaas.Admin.MigrateStore", ACCESS_ADMIN, false, admin_migrate_store, true },

        /* identity lookups: open to every local user (NSS); no secrets */
        { "io.kaas.Identity.GetUser", ACCESS_ANYONE, false, identity_get_user, true },

        /* Unix users and groups (libnss_kaas, systemd's userdb): open to
         * every local user, as /etc/passwd is; nothing private */
        { "io.kaas.Nss.GetPasswdByName", ACCESS_ANYONE, false, nss_get_passwd_by_name, true },
        { "io.kaas.Nss.GetPasswdByUid", ACCESS_ANYONE, false, nss_get_passwd_by_uid, true },
        { "io.kaas.Nss.GetGroupByName", ACCESS_ANYONE, false, nss_get_group_by_name, true },
        { "io.kaas.Nss.GetGroupByGid", ACCESS_ANYONE, false, nss_get_group_by_gid, true },
        { "io.kaas.Nss.GetGroupList", ACCESS_ANYONE, false, nss_get_group_list, true },
        { "io.kaas.Nss.ListPasswd", ACCESS_ANYONE, false, nss_list_passwd, true },
        { "io.kaas.Nss.ListGroups", ACCESS_ANYONE, false, nss_list_groups, true },
        { "io.systemd.UserDatabase.GetUserRecord", ACCESS_ANYONE, false, userdb_get_user_record, true },
        { "io.systemd.UserDatabase.GetGroupRecord", ACCESS_ANYONE, false, userdb_get_group_record, true },
        { "io.systemd.UserDatabase.GetMemberships", ACCESS_ANYONE, false, userdb_get_memberships, true },

        /* tokens: any local user, acting only for the OpenStack identity the
         * call's credentials prove (administrators for anyone) */
        { "io.kaas.Token.Create", ACCESS_USER, false, token_create, true },
        { "io.kaas.Token.List", ACCESS_USER, false, token_list, true },
        { "io.kaas.Token.Delete", ACCESS_USER, false, token_delete, true },
        { "io.kaas.Token.RevokeUser", ACCESS_USER, false, token_revoke_user, true },
        /* a password exchanged for the session proof of a front end (kaas-panel) */
        { "io.kaas.Token.Authenticate", ACCESS_USER, false, token_authenticate, true },
        { "io.kaas.Token.Unauthenticate", ACCESS_FRONTEND, false, token_unauthenticate, true },
        /* validation: the webhook and the PAM module */
        { "io.kaas.Token.Validate", ACCESS_VALIDATOR, false, token_validate, true },
};

const size_t kaasd_n_methods = sizeof(kaasd_methods) / sizeof(kaasd_methods[0]);
