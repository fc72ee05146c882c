/* Table-driven INI parsing for kaasd.conf; see config_file.h. Each option
 * is one row: section, key, parser, and where the value goes, so adding an
 * option is one line here and one paragraph in kaasd.conf(5). */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config_file.h"
#include "config_value.h"
#include "keystone_url.h"

enum opt_kind { OPT_STRING, OPT_STRING_OR_EMPTY, OPT_PATH, OPT_UINT, OPT_SIZE, OPT_BOOL, OPT_MODE, OPT_LOGLEVEL, OPT_U32 };

struct option_row {
        const char *section;
        const char *key;
        enum opt_kind kind;
        size_t offset;
        unsigned long long min, max;  /* for numbers */
};

#define ROW(sec, key, kind, field, min, max) \
        { sec, key, kind, offsetof(struct config, field), min, max }

static const struct option_row options[] = {
        ROW("kaasd", "socket", OPT_PATH, socket_path, 0, 0),
        ROW("kaasd", "socket_mode", OPT_MODE, socket_mode, 0, 0777),
        ROW("kaasd", "socket_group", OPT_STRING, socket_group, 0, 0),
        ROW("kaasd", "state_dir", OPT_PATH, state_dir, 0, 0),
        ROW("kaasd", "user", OPT_STRING, user, 0, 0),
        ROW("kaasd", "validator_group", OPT_STRING, validator_group, 0, 0),
        ROW("kaasd", "admin_group", OPT_STRING, admin_group, 0, 0),
        ROW("kaasd", "frontend_group", OPT_STRING, frontend_group, 0, 0),
        ROW("kaasd", "max_connections", OPT_UINT, max_connections, 1, 1000000),
        ROW("kaasd", "max_connections_per_uid", OPT_UINT, max_connections_per_uid, 1, 1000000),
        ROW("kaasd", "max_message_size", OPT_SIZE, max_message_size, 1024, 64u * 1024 * 1024),
        ROW("kaasd", "max_output_buffer", OPT_SIZE, max_output_buffer, 4096, 1024u * 1024 * 1024),
        ROW("kaasd", "store_cache_max", OPT_SIZE, store_cache_max, 0, 2048u * 1024 * 1024),
        ROW("kaasd", "idle_timeout", OPT_UINT, idle_timeout_sec, 1, 86400),
        ROW("kaasd", "shutdown_timeout", OPT_UINT, shutdown_timeout_sec, 0, 3600),
        ROW("kaasd", "log_target", OPT_STRING, log_target, 0, 0),
        ROW("kaasd", "log_level", OPT_LOGLEVEL, log_level, 0, 0),

        ROW("keystone", "url", OPT_STRING, keystone_url, 0, 0),
        ROW("keystone", "user", OPT_STRING, keystone_user, 0, 0),
        ROW("keystone", "user_domain", OPT_STRING, keystone_user_domain, 0, 0),
        ROW("keystone", "password_file", OPT_PATH, keystone_password_file, 0, 0),
        ROW("keystone", "ca_file", OPT_PATH, keystone_ca_file, 0, 0),
        ROW("keystone", "verify_tls", OPT_BOOL, keystone_verify_tls, 0, 0),
        ROW("keystone", "insecure_http", OPT_BOOL, keystone_insecure_http, 0, 0),
        ROW("keystone", "connect_timeout", OPT_UINT, keystone_connect_timeout_sec, 1, 300),
        ROW("keystone", "timeout", OPT_UINT, keystone_timeout_sec, 1, 600),
        ROW("keystone", "max_response_size", OPT_SIZE, keystone_max_response, 4096, 256u * 1024 * 1024),
        ROW("keystone", "cache_ttl", OPT_UINT, cache_ttl_sec, 1, 86400),
        ROW("keystone", "proof_cache_ttl", OPT_UINT, proof_cache_ttl_sec, 0, 3600),
        ROW("keystone", "offline_ttl", OPT_UINT, offline_ttl_sec, 0, 30u * 86400),
        ROW("keystone", "negative_ttl", OPT_UINT, negative_ttl_sec, 0, 3600),
        ROW("keystone", "retry_min", OPT_UINT, retry_min_sec, 1, 3600),
        ROW("keystone", "retry_max", OPT_UINT, retry_max_sec, 1, 86400),

        ROW("tokens", "default_lifetime_days", OPT_UINT, token_default_days, 1, 3650),
        ROW("tokens", "max_lifetime_days", OPT_UINT, token_max_days, 1, 3650),
        ROW("tokens", "max_per_user", OPT_UINT, token_max_per_user, 0, 1000000),

        ROW("nss", "uid_min", OPT_U32, uid_min, 1000, 0xfffffffeu),
        ROW("nss", "uid_max", OPT_U32, uid_max, 1000, 0xfffffffeu),
        ROW("nss", "home", OPT_STRING, home_template, 0, 0),
        ROW("nss", "shell", OPT_PATH, shell, 0, 0),
        ROW("nss", "default_domain", OPT_STRING, default_domain, 0, 0),
        ROW("nss", "gid_min", OPT_U32, gid_min, 1000, 0xfffffffeu),
        ROW("nss", "gid_max", OPT_U32, gid_max, 1000, 0xfffffffeu),
        ROW("nss", "role_group_prefix", OPT_STRING_OR_EMPTY, role_group_prefix, 0, 0),
        ROW("nss", "domain_separator", OPT_STRING, domain_separator, 0, 0),
        ROW("nss", "enumerate", OPT_BOOL, enumerate, 0, 0),
        ROW("nss", "max_group_members", OPT_UINT, max_group_members, 0, 100000000),
        ROW("nss", "ignore_group_members", OPT_BOOL, ignore_group_members, 0, 0),
        ROW("nss", "group_reply_cache", OPT_SIZE, group_reply_cache, 0, 1024u * 1024 * 1024),
        ROW("nss", "group_files", OPT_BOOL, group_files, 0, 0),
        ROW("nss", "group_files_size", OPT_SIZE, group_files_size, 0, 1024u * 1024 * 1024),
        ROW("nss", "passwd_file", OPT_PATH, passwd_file, 0, 0),
        ROW("nss", "group_file", OPT_PATH, group_file, 0, 0),
        ROW("nss", "subuid_file", OPT_PATH, subuid_file, 0, 0),
        ROW("nss", "subgid_file", OPT_PATH, subgid_file, 0, 0),
        ROW("nss", "userdb_socket", OPT_PATH, userdb_socket, 0, 0),
        ROW("etcd", "endpoints", OPT_STRING, etcd_endpoints, 0, 0),
        ROW("etcd", "ca_file", OPT_PATH, etcd_ca_file, 0, 0),
        ROW("etcd", "cert_file", OPT_PATH, etcd_cert_file, 0, 0),
        ROW("etcd", "key_file", OPT_PATH, etcd_key_file, 0, 0),
        ROW("etcd", "user", OPT_STRING, etcd_user, 0, 0),
        ROW("etcd", "password_file", OPT_PATH, etcd_password_file, 0, 0),
        ROW("etcd", "prefix", OPT_STRING, etcd_prefix, 0, 0),
        ROW("etcd", "role", OPT_STRING, etcd_role, 0, 0),
        ROW("etcd", "node", OPT_STRING, etcd_node, 0, 0),
        ROW("etcd", "connect_timeout", OPT_UINT, etcd_connect_timeout_sec, 1, 300),
        ROW("etcd", "timeout", OPT_UINT, etcd_timeout_sec, 1, 600),
        ROW("etcd", "max_disconnected", OPT_UINT, etcd_max_disconnected_sec, 0, 30u * 86400),
};

#define CONFIG_STRING_MAX 4096

static int set_string(char **field, const char *value) {
        char *s = strdup(value);
        if (!s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

int config_new(struct config **ret) {
        struct config *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->socket_mode = 0666;
        c->max_connections = 4096;
        c->max_connections_per_uid = 256;
        c->max_message_size = 1024 * 1024;
        c->max_output_buffer = 8 * 1024 * 1024;
        c->idle_timeout_sec = 300;
        c->shutdown_timeout_sec = 10;
        c->log_level = LOG_INFO;
        c->keystone_verify_tls = true;
        c->keystone_connect_timeout_sec = 5;
        c->keystone_timeout_sec = 15;
        c->keystone_max_response = 4 * 1024 * 1024;
        c->cache_ttl_sec = 300;
        c->proof_cache_ttl_sec = 60;
        c->offline_ttl_sec = 86400;
        c->negative_ttl_sec = 30;
        c->retry_min_sec = 5;
        c->retry_max_sec = 300;
        c->token_default_days = 365;
        c->token_max_days = 365;
        c->group_reply_cache = 32 * 1024 * 1024;
        c->group_files = true;
        c->group_files_size = 16 * 1024 * 1024;
        c->etcd_connect_timeout_sec = 5;
        c->etcd_timeout_sec = 10;
        /* clear of useradd's subordinate ids (100000 up to SUB_UID_MAX,
         * 600100000) and of systemd's ranges (containers up to
         * 1879048191, foreign ids from 2147352576, nothing from 2^31):
         * 0x70000000 and 0x74000000, 64 Mi ids each; see kaasd.conf(5) */
        c->uid_min = 1879048192;
        c->uid_max = 1946157055;
        c->gid_min = 1946157056;
        c->gid_max = 2013265919;
        if (set_string(&c->socket_path, RUNSTATEDIR "/kaas/kaasd.sock") < 0 ||
            set_string(&c->state_dir, LOCALSTATEDIR "/lib/kaas") < 0 ||
            set_string(&c->log_target, "auto") < 0 ||
            set_string(&c->home_template, "/home/%u") < 0 ||
            set_string(&c->shell, "/bin/bash") < 0 ||
            set_string(&c->default_domain, "Default") < 0 ||
            set_string(&c->domain_separator, "@") < 0 ||
            set_string(&c->passwd_file, "/etc/passwd") < 0 ||
            set_string(&c->group_file, "/etc/group") < 0 ||
            set_string(&c->subuid_file, "/etc/subuid") < 0 ||
            set_string(&c->subgid_file, "/etc/subgid") < 0 ||
            /* the role admin must never be the group admin */
            set_string(&c->role_group_prefix, "kaas-") < 0 ||
            set_string(&c->etcd_prefix, "/kaas/") < 0 ||
            set_string(&c->etcd_role, "reader") < 0) {
                config_free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

struct config *config_free(struct config *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
                if (options[i].kind == OPT_STRING || options[i].kind == OPT_STRING_OR_EMPTY ||
                    options[i].kind == OPT_PATH)
                        free(*(char **)((char *)c + options[i].offset));
        for (size_t i = 0; i < c->n_clusters; i++) {
                free(c->clusters[i].name);
                for (size_t j = 0; j < c->clusters[i].n_admin_roles; j++)
                        free(c->clusters[i].admin_roles[j]);
        }
        free(c);
        return NULL;
}

struct parse_state {
        struct config *config;
        struct config_value_error err;
};

/* UTF-8 role names are fine: compare bytes as unsigned on every platform */
static bool valid_name_list_char(char c) {
        unsigned char u = (unsigned char)c;
        return u > ' ' && u != ',' && u != 0x7f;
}

static int parse_cluster(struct parse_state *ps, const char *name, const char *key,
                         const char *value) {
        struct config *c = ps->config;
        struct config_cluster *cl = NULL;
        for (size_t i = 0; i < c->n_clusters; i++)
                if (strcmp(c->clusters[i].name, name) == 0)
                        cl = &c->clusters[i];
        if (!cl) {
                if (c->n_clusters >= CONFIG_MAX_CLUSTERS)
                        return config_value_fail(&ps->err, "too many [cluster] sections (at most %d)", CONFIG_MAX_CLUSTERS);
                cl = &c->clusters[c->n_clusters];
                if (!(cl->name = strdup(name)))
                        return config_value_fail(&ps->err, "out of memory");
                c->n_clusters++;
        }
        if (strcmp(key, "admin_roles") != 0)
                return config_value_fail(&ps->err, "unknown key '%s' in [cluster %s]", key, name);
        for (size_t j = 0; j < cl->n_admin_roles; j++)
                free(cl->admin_roles[j]);
        cl->n_admin_roles = 0;
        const char *p = value;
        while (*p) {
                while (*p == ',' || *p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                const char *s = p;
                while (*p && valid_name_list_char(*p))
                        p++;
                if (*p && *p != ',' && *p != ' ' && *p != '\t')
                        return config_value_fail(&ps->err, "invalid character in admin_roles");
                if (cl->n_admin_roles >= CONFIG_MAX_ROLES)
                        return config_value_fail(&ps->err, "too many admin_roles (at most %d)", CONFIG_MAX_ROLES);
                if (!(cl->admin_roles[cl->n_admin_roles] = strndup(s, (size_t)(p - s))))
                        return config_value_fail(&ps->err, "out of memory");
                cl->n_admin_roles++;
        }
        if (cl->n_admin_roles == 0)
                return config_value_fail(&ps->err, "admin_roles of [cluster %s] is empty", name);
        return 1;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse_state *ps = userdata;
        if (ps->err.error)
                return 0;
        if (!key)  /* a section header alone: check the name */
                return 1;
        if (strlen(value) > CONFIG_STRING_MAX)
                return config_value_fail(&ps->err, "value of '%s' is too long", key);
        if (strncmp(section, "cluster ", 8) == 0) {
                const char *name = section + 8;
                if (!*name || strchr(name, ' '))
                        return config_value_fail(&ps->err, "invalid cluster name in [%s]", section);
                return parse_cluster(ps, name, key, value);
        }
        const struct option_row *row = NULL;
        bool section_known = false;
        for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
                if (strcmp(options[i].section, section) != 0)
                        continue;
                section_known = true;
                if (strcmp(options[i].key, key) == 0)
                        row = &options[i];
        }
        if (!section_known)
                return config_value_fail(&ps->err, "unknown section [%s]", section);
        if (!row)
                return config_value_fail(&ps->err, "unknown key '%s' in [%s]", key, section);

        void *field = (char *)ps->config + row->offset;
        unsigned long long n;
        switch (row->kind) {
        case OPT_PATH:
                if (value[0] != '/')
                        return config_value_fail(&ps->err, "%s must be an absolute path", key);
                /* fall through */
        case OPT_STRING:
                if (!*value)
                        return config_value_fail(&ps->err, "%s must not be empty", key);
                if (set_string(field, value) < 0)
                        return config_value_fail(&ps->err, "out of memory");
                break;
        case OPT_STRING_OR_EMPTY:
                if (set_string(field, value) < 0)
                        return config_value_fail(&ps->err, "out of memory");
                break;
        case OPT_BOOL:
                if (config_value_bool(&ps->err, key, value, field) < 0)
                        return 0;
                break;
        case OPT_MODE: {
                char *end;
                errno = 0;
                unsigned long m = strtoul(value, &end, 8);
                if (errno || !*value || *end || m > row->max)
                        return config_value_fail(&ps->err, "%s must be an octal mode such as 0660, not '%s'", key, value);
                *(mode_t *)field = (mode_t)m;
                break;
        }
        case OPT_LOGLEVEL:
                if (config_value_log_level(&ps->err, key, value, field) < 0)
                        return 0;
                break;
        case OPT_UINT:
        case OPT_U32:
        case OPT_SIZE:
                if (config_value_number(&ps->err, key, value,
                                        row->kind == OPT_SIZE ? CONFIG_VALUE_GIB : CONFIG_VALUE_NO_SUFFIX,
                                        row->min, row->max, &n) < 0)
                        return 0;
                if (row->kind == OPT_UINT)
                        *(unsigned *)field = (unsigned)n;
                else if (row->kind == OPT_U32)
                        *(uint32_t *)field = (uint32_t)n;
                else
                        *(size_t *)field = (size_t)n;
                break;
        }
        return 1;
}

static bool etcd_name_valid(const char *s, size_t max) {
        size_t n = strlen(s);
        return n >= 1 && n <= max &&
               strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

/* [etcd]: all or nothing, every endpoint over TLS. */
static int config_validate_etcd(const struct config *c, char *err, size_t err_size) {
        if (!c->etcd_endpoints) {
                if (c->etcd_user || c->etcd_password_file || c->etcd_cert_file || c->etcd_key_file ||
                    c->etcd_ca_file || c->etcd_node) {
                        snprintf(err, err_size, "[etcd] endpoints is required when [etcd] is used");
                        return -EINVAL;
                }
                return 0;
        }
        if (!c->etcd_ca_file || !c->etcd_cert_file || !c->etcd_key_file || !c->etcd_user ||
            !c->etcd_password_file || !c->etcd_node) {
                snprintf(err, err_size,
                         "[etcd] needs endpoints, ca_file, cert_file, key_file, user, password_file and node");
                return -EINVAL;
        }
        if (strcmp(c->etcd_role, "writer") != 0 && strcmp(c->etcd_role, "reader") != 0) {
                snprintf(err, err_size, "[etcd] role must be writer or reader");
                return -EINVAL;
        }
        if (!etcd_name_valid(c->etcd_node, 64)) {
                snprintf(err, err_size, "[etcd] node may hold only letters, digits, . _ and - (at most 64)");
                return -EINVAL;
        }
        size_t n = strlen(c->etcd_prefix);
        if (n < 2 || n > 128 || c->etcd_prefix[0] != '/' || c->etcd_prefix[n - 1] != '/' ||
            strspn(c->etcd_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/") != n) {
                snprintf(err, err_size, "[etcd] prefix must start and end with / and hold only letters, digits, . _ - /");
                return -EINVAL;
        }
        const char *p = c->etcd_endpoints;
        while (*p) {
                p += strspn(p, ", \t");
                if (!*p)
                        break;
                if (strncmp(p, "https://", 8) != 0) {
                        snprintf(err, err_size, "[etcd] endpoints must be https:// URLs separated by commas");
                        return -EINVAL;
                }
                p += strcspn(p, ", \t");
        }
        return 0;
}

int config_validate(const struct config *c, char *err, size_t err_size) {
        if (c->uid_min > c->uid_max) {
                snprintf(err, err_size, "[nss] uid_min (%u) is above uid_max (%u)", c->uid_min, c->uid_max);
                return -EINVAL;
        }
        if (c->gid_min > c->gid_max) {
                snprintf(err, err_size, "[nss] gid_min (%u) is above gid_max (%u)", c->gid_min, c->gid_max);
                return -EINVAL;
        }
        /* a user's private group has gid = uid: role gids must not meet uids */
        if (c->gid_min <= c->uid_max && c->uid_min <= c->gid_max) {
                snprintf(err, err_size, "[nss] gid_min..gid_max (%u..%u) overlaps uid_min..uid_max (%u..%u)",
                         c->gid_min, c->gid_max, c->uid_min, c->uid_max);
                return -EINVAL;
        }
        if (strlen(c->domain_separator) != 1 || !strchr("@%+#!~=^", c->domain_separator[0])) {
                snprintf(err, err_size, "[nss] domain_separator must be one of @ %% + # ! ~ = ^");
                return -EINVAL;
        }
        if (c->role_group_prefix && (strlen(c->role_group_prefix) > 64 || c->role_group_prefix[0] == '-' ||
                                     strspn(c->role_group_prefix, "abcdefghijklmnopqrstuvwxyz0123456789_-") !=
                                             strlen(c->role_group_prefix))) {
                snprintf(err, err_size, "[nss] role_group_prefix may hold only a-z, 0-9, _ and - (at most 64, not starting with -)");
                return -EINVAL;
        }
        if (c->token_default_days > c->token_max_days) {
                snprintf(err, err_size, "[tokens] default_lifetime_days (%u) exceeds max_lifetime_days (%u)",
                         c->token_default_days, c->token_max_days);
                return -EINVAL;
        }
        if (c->retry_min_sec > c->retry_max_sec) {
                snprintf(err, err_size, "[keystone] retry_min exceeds retry_max");
                return -EINVAL;
        }
        if (strcmp(c->log_target, "auto") != 0 && strcmp(c->log_target, "syslog") != 0 &&
            strcmp(c->log_target, "stderr") != 0) {
                snprintf(err, err_size, "[kaasd] log_target must be auto, syslog or stderr");
                return -EINVAL;
        }
        if (c->keystone_url && keystone_url_check(c->keystone_url, c->keystone_insecure_http, err, err_size) < 0)
                return -EINVAL;
        if (c->keystone_url && (!c->keystone_user || !c->keystone_password_file)) {
                snprintf(err, err_size, "[keystone] url is set but user or password_file is missing");
                return -EINVAL;
        }
        return config_validate_etcd(c, err, err_size);
}

int config_load(const char *path, struct config **ret, char *err, size_t err_size) {
        struct config *c;
        int r = config_new(&c);
        if (r < 0) {
                snprintf(err, err_size, "out of memory");
                return r;
        }
        struct parse_state ps = { .config = c };
        r = config_value_read_ini(path, on_entry, &ps, &ps.err, err, err_size);
        if (r < 0) {
                config_free(c);
                return r;
        }
        char why[400];
        r = config_validate(c, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "%s: %s", path, why);
                config_free(c);
                return r;
        }
        *ret = c;
        return 0;
}
