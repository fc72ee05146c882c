/* kaas-webhook's configuration: defaults, the INI file (strict: an unknown
 * section or key is an error naming file and line) and the checks that
 * apply once command-line flags are merged in. See kaas-webhook(8). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define WH_DEFAULT_CONFIG SYSCONFDIR "/kaas/webhook.conf"
#define WH_MAX_AUDIENCES 32

struct wh_settings {
        /* [webhook] */
        char *listen;                   /* "127.0.0.1:8443", "[::1]:8443", "*:8443" */
        char *cert_file;                /* PEM certificate chain, server's first */
        char *key_file;                 /* PEM private key */
        char *client_ca_file;           /* PEM CA certificates; NULL: no client certificate asked */
        char *tls_priorities;           /* GnuTLS priority string */
        unsigned max_connections;
        unsigned max_connections_per_client;  /* per client address; more are closed at once */
        size_t max_body_size;
        unsigned connection_timeout_sec;      /* idle: every byte received or sent resets it */
        unsigned request_timeout_sec;         /* a whole request, however it trickles in */
        unsigned shutdown_timeout_sec;
        char *log_target;               /* auto, stderr, syslog */
        int log_level;                  /* syslog priority */
        /* [kaasd] */
        char *kaasd_socket;             /* NULL: libkaas's default */
        char *kaasd_user;               /* kaasd runs as root or this user; NULL: KAAS_KAASD_USER if it exists */
        unsigned kaasd_connections;
        unsigned kaasd_timeout_sec;
        /* [kubernetes] */
        char *audiences[WH_MAX_AUDIENCES];
        size_t n_audiences;
        char *group_prefix;             /* NULL: none */
        bool role_names_as_groups;

        /* The fuzz harness's (fuzz/fuzz_webhook_http.c), never set from the
         * file or the command line: wh_server_start() serves plain HTTP on
         * no socket of its own (no certificate, key or listen address used),
         * and connections come only from wh_server_add_connection(). */
        bool fuzz_plaintext;
};

/* Defaults. Returns 0 or -ENOMEM. */
int wh_settings_new(struct wh_settings **ret) __attribute__((warn_unused_result, nonnull));

/* Accepts NULL; returns NULL. */
struct wh_settings *wh_settings_free(struct wh_settings *s);

/* Reads path into s. A missing file is -ENOENT (the caller decides whether
 * that matters); any other problem is -EINVAL or -ENOMEM with "path:line:
 * what" in err. */
int wh_settings_load(struct wh_settings *s, const char *path, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull(1, 2)));

/* Replaces a string setting (flags override the file). */
int wh_settings_set(char **field, const char *value) __attribute__((warn_unused_result, nonnull(1)));

/* Checks what the file alone cannot: certificate and key given, the listen
 * address parses, log_target known. -EINVAL with a message in err. */
int wh_settings_validate(const struct wh_settings *s, char *err, size_t err_size) __attribute__((nonnull(1)));
