/* kaasd configuration: an INI file (libinih) checked strictly against a
 * table of known sections and keys. Unknown keys and bad values are errors
 * that name the file and line; kaasd.conf(5) documents every option. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CONFIG_MAX_CLUSTERS 32
#define CONFIG_MAX_ROLES 16

struct config_cluster {
        char *name;
        char *admin_roles[CONFIG_MAX_ROLES];  /* Keystone role names or IDs */
        size_t n_admin_roles;
};

struct config {
        /* [kaasd] */
        char *socket_path;
        mode_t socket_mode;
        char *socket_group;       /* owner group of the socket; NULL = root */
        char *state_dir;
        char *user;               /* drop to this user after binding; NULL = stay */
        char *validator_group;    /* may call io.kaas.Token.Validate */
        char *admin_group;        /* may administer */
        char *frontend_group;     /* services acting for many users (kaas-panel): throttled per account */
        unsigned max_connections;
        unsigned max_connections_per_uid;
        size_t max_message_size;
        size_t max_output_buffer;
        size_t store_cache_max;        /* Berkeley DB cache at most; 0 = 1 GiB */
        unsigned idle_timeout_sec;
        unsigned shutdown_timeout_sec;
        char *log_target;         /* "syslog", "stderr" or "auto" */
        int log_level;            /* syslog priority */

        /* [keystone] */
        char *keystone_url;            /* ends before /v3 */
        char *keystone_user;
        char *keystone_user_domain;    /* domain name of the service user */
        char *keystone_password_file;
        char *keystone_ca_file;
        bool keystone_verify_tls;
        bool keystone_insecure_http;   /* http:// to a host other than this machine */
        unsigned keystone_connect_timeout_sec;
        unsigned keystone_timeout_sec;
        size_t keystone_max_response;
        unsigned cache_ttl_sec;
        unsigned proof_cache_ttl_sec;   /* verified Keystone-token proofs remembered; 0: never */
        unsigned offline_ttl_sec;
        unsigned negative_ttl_sec;
        unsigned retry_min_sec;
        unsigned retry_max_sec;

        /* [tokens] */
        unsigned token_default_days;
        unsigned token_max_days;
        unsigned token_max_per_user;   /* 0 = unlimited */

        /* [nss] */
        uint32_t uid_min;
        uint32_t uid_max;
        char *home_template;           /* %u user name, %i user ID, %d domain */
        char *shell;
        char *default_domain;          /* users of other domains are user@domain */
        uint32_t gid_min;              /* role groups; user private groups use the uid */
        uint32_t gid_max;
        char *role_group_prefix;       /* "" or NULL = none */
        char *domain_separator;        /* one character between user and domain */
        bool enumerate;                /* getpwent/getgrent list cached users */
        unsigned max_group_members;    /* members listed per role group; 0 = all */
        bool ignore_group_members;     /* SSSD's: role groups list no members */
        size_t group_reply_cache;      /* bytes of role groups' replies kept; 0 = none */
        bool group_files;              /* role groups left as files for the NSS module */
        size_t group_files_size;       /* the most bytes of them */
        char *passwd_file;             /* names and ids never served */
        char *group_file;
        char *subuid_file;             /* subordinate ids the ranges must not meet */
        char *subgid_file;
        char *userdb_socket;           /* io.systemd.UserDatabase; NULL = off */

        /* [etcd]: present = this kaasd replicates tokens from etcd */
        char *etcd_endpoints;          /* comma-separated https:// URLs; NULL = standalone */
        char *etcd_ca_file;
        char *etcd_cert_file;          /* client certificate (no CN: see kaasd.conf(5)) */
        char *etcd_key_file;
        char *etcd_user;               /* etcd user of this kaasd */
        char *etcd_password_file;      /* its password, mode 0600 */
        char *etcd_prefix;             /* key prefix, ends with / */
        char *etcd_role;               /* "writer" or "reader" */
        char *etcd_node;               /* this node's name (last-used prefix) */
        unsigned etcd_connect_timeout_sec;
        unsigned etcd_timeout_sec;
        unsigned etcd_max_disconnected_sec;   /* 0 = keep validating while disconnected */

        /* [cluster NAME] */
        struct config_cluster clusters[CONFIG_MAX_CLUSTERS];
        size_t n_clusters;
};

/* Defaults for every option; the caller owns the result. */
int config_new(struct config **ret);
struct config *config_free(struct config *c);

/* Reads path into a fresh config. On failure returns a negative errno and a
 * message such as "/etc/kaas/kaasd.conf:12: unknown key 'foo' in [kaasd]"
 * in err (always NUL-terminated). */
int config_load(const char *path, struct config **ret, char *err, size_t err_size);

/* Checks relations between options (ranges, required keys). */
int config_validate(const struct config *c, char *err, size_t err_size);
