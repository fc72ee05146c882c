/* Applying a configuration to the running daemon: limits, access policy,
 * log level. Used at start and on reload (SIGHUP, io.kaas.Admin.Reload). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "credentials.h"
#include "daemon.h"
#include "identity.h"
#include "keystone.h"
#include "log.h"
#include "subid.h"
#include "subid_stored.h"
#include "unix_identity.h"

void daemon_identity_caller(const struct call *call, struct identity_caller *ret) {
        *ret = (struct identity_caller){ 0 };
        if (!call || call_peer_is_validator(call) || call_peer_is_admin(call))
                return;
        *ret = (struct identity_caller){ .bounded = true, .uid = call_peer(call)->uid };
}

/* Group names resolve through files only in practice: kaasd sets
 * KAAS_NSS_BYPASS so libnss_kaas never answers inside kaasd itself. */
static int resolve_group(const char *name, gid_t *ret) {
        struct group grp, *res = NULL;
        char buf[16384];
        int r = getgrnam_r(name, &grp, buf, sizeof(buf), &res);
        if (r != 0)
                return -r;
        if (!res)
                return -ENOENT;
        *ret = res->gr_gid;
        return 0;
}

int daemon_policy_from_config(const struct config *c, struct access_policy *ret, char *err, size_t err_size) {
        struct access_policy p = { 0 };
        if (c->validator_group) {
                if (resolve_group(c->validator_group, &p.validator_gid) < 0) {
                        snprintf(err, err_size, "validator_group '%s' does not exist", c->validator_group);
                        return -ENOENT;
                }
                p.has_validator_gid = true;
        }
        if (c->admin_group) {
                if (resolve_group(c->admin_group, &p.admin_gid) < 0) {
                        snprintf(err, err_size, "admin_group '%s' does not exist", c->admin_group);
                        return -ENOENT;
                }
                p.has_admin_gid = true;
        }
        if (c->frontend_group) {
                if (resolve_group(c->frontend_group, &p.frontend_gid) < 0) {
                        snprintf(err, err_size, "frontend_group '%s' does not exist", c->frontend_group);
                        return -ENOENT;
                }
                p.has_frontend_gid = true;
        }
        *ret = p;
        return 0;
}

void daemon_limits_from_config(const struct config *c, struct server_limits *ret) {
        *ret = (struct server_limits){
                .max_connections = c->max_connections,
                .max_connections_per_uid = c->max_connections_per_uid,
                .max_message_size = c->max_message_size,
                .max_output_buffer = c->max_output_buffer,
                .max_calls_per_connection = 128,
                .idle_timeout_usec = (uint64_t)c->idle_timeout_sec * 1000000u,
        };
}

static int override(char **field, const char *value) {
        if (!value)
                return 0;
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int daemon_read_config(const struct daemon *d, struct config **ret, char *err, size_t err_size) {
        struct config *c;
        int r;
        if (d->config_optional && access(d->config_path, F_OK) < 0 && errno == ENOENT)
                r = config_new(&c);
        else
                r = config_load(d->config_path, &c, err, err_size);
        if (r == -ENOMEM)
                snprintf(err, err_size, "out of memory");
        if (r < 0)
                return r;
        if (override(&c->socket_path, d->socket_override) < 0 || override(&c->state_dir, d->state_dir_override) < 0) {
                config_free(c);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        /* a local user owning subordinate ids in the ranges could own
         * Keystone users' files from a user namespace */
        if ((r = subid_check_config(c, err, err_size)) < 0) {
                config_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

int daemon_reload(struct daemon *d, char *err, size_t err_size) {
        struct config *c;
        int r = daemon_read_config(d, &c, err, err_size);
        if (r < 0) {
                log_err(0, "reload refused, keeping the running configuration: %s", err);
                return r;
        }
        struct access_policy policy;
        r = daemon_policy_from_config(c, &policy, err, err_size);
        if (r < 0) {
                log_err(0, "reload refused, keeping the running configuration: %s", err);
                config_free(c);
                return r;
        }
        if (strcmp(c->socket_path, d->config->socket_path) != 0 ||
            strcmp(c->state_dir, d->config->state_dir) != 0)
                log_warning(0, "socket and state_dir changes take effect at the next restart");
        struct server_limits limits;
        daemon_limits_from_config(c, &limits);
        server_set_limits(d->server, &limits);
        server_set_policy(d->server, &policy);
        log_set_max_priority(c->log_level);
        if ((d->keystone ? keystone_set_config(d->keystone, c) : c->keystone_url != NULL) > 0)
                log_warning(0, "[keystone] url, account and TLS changes take effect at the next restart");
        if (d->identities)
                identity_cache_set_config(d->identities, c);
        if (d->credentials)
                credential_checker_set_proof_ttl(d->credentials, c->proof_cache_ttl_sec);
        config_free(d->config);
        d->config = c;
        log_notice(0, "configuration reloaded from %s", d->config_path);
        unix_ids_reconfigured(d);
        daemon_check_stored_ids(d);
        return 0;
}

void daemon_check_stored_ids(struct daemon *d) {
        char msg[1024];
        uint64_t n = 0;
        if (!d->store)
                return;
        int r = subid_stored_check(d->store, d->config, &n, msg, sizeof(msg));
        if (r < 0) {
                log_err(0, "[nss] cannot check the stored ids against subordinate ids: %s", msg);
                return;
        }
        d->stored_ids_in_subid = n;
        if (n > 0)
                log_warning(0, "[nss] %s. A local user owning such a range can own these Keystone users' files "
                               "from a user namespace: move those subordinate ranges (kaasd.conf(5), subuid_file)",
                            msg);
}
