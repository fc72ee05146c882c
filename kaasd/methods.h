/* The one table of every method kaasd serves: handler and access class. */
#pragma once

#include <stddef.h>

#include "registry.h"

extern const struct method_def kaasd_methods[];
extern const size_t kaasd_n_methods;

/* handlers, one file per interface */
int service_get_info(struct call *call, json_t *parameters, void *context);
int service_get_interface_description(struct call *call, json_t *parameters, void *context);
int service_ping(struct call *call, json_t *parameters, void *context);
int admin_status(struct call *call, json_t *parameters, void *context);
int admin_reload(struct call *call, json_t *parameters, void *context);
int admin_invalidate_user(struct call *call, json_t *parameters, void *context);
int admin_migrate_store(struct call *call, json_t *parameters, void *context);
int admin_flush_cache(struct call *call, json_t *parameters, void *context);
int identity_get_user(struct call *call, json_t *parameters, void *context);
int nss_get_passwd_by_name(struct call *call, json_t *parameters, void *context);
int nss_get_passwd_by_uid(struct call *call, json_t *parameters, void *context);
int nss_get_group_by_name(struct call *call, json_t *parameters, void *context);
int nss_get_group_by_gid(struct call *call, json_t *parameters, void *context);
int nss_get_group_list(struct call *call, json_t *parameters, void *context);
int nss_list_passwd(struct call *call, json_t *parameters, void *context);
int nss_list_groups(struct call *call, json_t *parameters, void *context);
int userdb_get_user_record(struct call *call, json_t *parameters, void *context);
int userdb_get_group_record(struct call *call, json_t *parameters, void *context);
int userdb_get_memberships(struct call *call, json_t *parameters, void *context);
int token_create(struct call *call, json_t *parameters, void *context);
int token_list(struct call *call, json_t *parameters, void *context);
int token_delete(struct call *call, json_t *parameters, void *context);
int token_revoke_user(struct call *call, json_t *parameters, void *context);
int token_validate(struct call *call, json_t *parameters, void *context);
int token_authenticate(struct call *call, json_t *parameters, void *context);
int token_unauthenticate(struct call *call, json_t *parameters, void *context);
