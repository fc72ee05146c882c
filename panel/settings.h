/* kaas-panel's configuration: defaults, the INI file (strict: an unknown
 * section or key is an error naming file and line; values parsed by
 * common/config_value.h as kaasd's and kaas-webhook's are), one
 * [cluster NAME] section per cluster, and the checks that apply once
 * command-line flags are merged in. See kaas-panel(8). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PANEL_DEFAULT_CONFIG SYSCONFDIR "/kaas/panel.conf"
#define PANEL_MAX_CLUSTERS 32
#define PANEL_MAX_SERVICES 16
#define PANEL_MAX_ROLES 16

struct panel_service {
        char *label;
        char *url;
        char *roles[PANEL_MAX_ROLES];   /* IDs or names, any one suffices; none: every user */
        size_t n_roles;
};

struct panel_cluster {
        char *name;                     /* kaasd.conf's [cluster NAME] */
        char *server;                   /* kube-apiserver's https:// URL */
        char *ca_file;                  /* PEM CA certificates of the server */
        char *ca_data;                  /* their base64, read by panel_settings_validate() */
        struct panel_service services[PANEL_MAX_SERVICES];
        size_t n_services;
};

struct panel_settings {
        /* [panel] */
        char *listen;
        char *cert_file;
        char *key_file;
        char *tls_priorities;
        char *origin;                   /* "https://host[:port]": what users type */
        char *default_domain;
        char *cookie_domain;            /* NULL: __Host- cookie; else __Secure- with Domain= */
        unsigned session_idle_sec;
        unsigned session_lifetime_sec;  /* at most; the proof's own expiry may end it sooner */
        unsigned max_sessions;
        unsigned max_sessions_per_user;  /* logged-in sessions of one Keystone user */
        unsigned token_max_days;        /* the lifetime field's maximum (kaasd's token_max_days) */
        unsigned max_connections;
        unsigned max_connections_per_client;
        unsigned connection_timeout_sec;
        unsigned request_timeout_sec;
        unsigned shutdown_timeout_sec;
        char *log_target;               /* auto, stderr, syslog */
        int log_level;
        /* [kaasd] */
        char *kaasd_socket;
        char *kaasd_user;
        unsigned kaasd_connections;
        unsigned kaasd_timeout_sec;
        /* [forward_auth] */
        char *fa_user_header;
        char *fa_uid_header;
        char *fa_groups_header;
        /* [cluster NAME] */
        struct panel_cluster clusters[PANEL_MAX_CLUSTERS];
        size_t n_clusters;

        /* derived by panel_settings_validate(): the hosts a return_to URL
         * may lead to (the origin's and every service's) */
        char **return_to_hosts;
        size_t n_return_to_hosts;
};

int panel_settings_new(struct panel_settings **ret) __attribute__((warn_unused_result, nonnull));
struct panel_settings *panel_settings_free(struct panel_settings *s);

/* Reads path into s. A missing file is -ENOENT; any other problem -EINVAL
 * or -ENOMEM with "path:line: what" in err. */
int panel_settings_load(struct panel_settings *s, const char *path, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Replaces a string setting (flags override the file). */
int panel_settings_set(char **field, const char *value) __attribute__((warn_unused_result, nonnull(1)));

/* Checks what the file alone cannot (certificate and key given, listen
 * and origin parse, at least one cluster) and reads every cluster's CA
 * file. -EINVAL with a message in err. */
int panel_settings_validate(struct panel_settings *s, char *err, size_t err_size) __attribute__((nonnull(1)));

/* The session cookie's name: "__Host-kaas-session", or with
 * cookie_domain "__Secure-kaas-session" (a __Host- cookie cannot name a
 * domain). */
const char *panel_cookie_name(const struct panel_settings *s) __attribute__((nonnull));

/* The cluster named name, or NULL. */
const struct panel_cluster *panel_cluster_find(const struct panel_settings *s, const char *name);
