/* kaas-webhook's configuration; see settings.h. One row per option, as in
 * kaasd's config_file.c, so adding an option is one line here and one
 * paragraph in kaas-webhook(8). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "config_value.h"
#include "httpd/listen.h"
#include "settings.h"

#define ROW(sec, key, kind, field, min, max) \
        CONFIG_OPTION(struct wh_settings, sec, key, CONFIG_OPT_##kind, field, min, max)

static const struct config_option options[] = {
        ROW("webhook", "listen", STRING, listen, 0, 0),
        ROW("webhook", "cert", PATH, cert_file, 0, 0),
        ROW("webhook", "key", PATH, key_file, 0, 0),
        ROW("webhook", "client_ca", PATH, client_ca_file, 0, 0),
        ROW("webhook", "tls_priorities", STRING, tls_priorities, 0, 0),
        ROW("webhook", "max_connections", UINT, max_connections, 1, 10000),
        ROW("webhook", "max_connections_per_client", UINT, max_connections_per_client, 1, 10000),
        ROW("webhook", "max_body_size", SIZE, max_body_size, 1024, 1024 * 1024),
        ROW("webhook", "connection_timeout", UINT, connection_timeout_sec, 1, 3600),
        ROW("webhook", "request_timeout", UINT, request_timeout_sec, 1, 3600),
        ROW("webhook", "shutdown_timeout", UINT, shutdown_timeout_sec, 0, 300),
        ROW("webhook", "log_target", STRING, log_target, 0, 0),
        ROW("webhook", "log_level", LOGLEVEL, log_level, 0, 0),

        ROW("kaasd", "socket", PATH, kaasd_socket, 0, 0),
        ROW("kaasd", "user", STRING, kaasd_user, 0, 0),
        ROW("kaasd", "connections", UINT, kaasd_connections, 1, 64),
        ROW("kaasd", "timeout", UINT, kaasd_timeout_sec, 1, 300),

        ROW("kubernetes", "audiences", CUSTOM, audiences, 0, 0),
        ROW("kubernetes", "group_prefix", STRING_OR_EMPTY, group_prefix, 0, 0),
        ROW("kubernetes", "role_names_as_groups", BOOL, role_names_as_groups, 0, 0),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))

int wh_settings_set(char **field, const char *value) {
        return config_string_set(field, value);
}

int wh_settings_new(struct wh_settings **ret) {
        struct wh_settings *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->max_connections = 256;
        /* one host other than kube-apiserver's can take a quarter at most */
        s->max_connections_per_client = 64;
        s->max_body_size = 64 * 1024;
        s->connection_timeout_sec = 60;
        s->request_timeout_sec = 10;
        s->shutdown_timeout_sec = 10;
        s->log_level = LOG_INFO;
        s->kaasd_connections = 8;
        s->kaasd_timeout_sec = 10;
        s->role_names_as_groups = false;
        if (wh_settings_set(&s->listen, "127.0.0.1:8443") < 0 ||
            wh_settings_set(&s->tls_priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2") < 0 ||
            wh_settings_set(&s->log_target, "auto") < 0) {
                wh_settings_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

struct wh_settings *wh_settings_free(struct wh_settings *s) {
        if (!s)
                return NULL;
        config_options_free(options, N_OPTIONS, s);
        for (size_t i = 0; i < s->n_audiences; i++)
                free(s->audiences[i]);
        free(s);
        return NULL;
}

struct parse_state {
        struct wh_settings *s;
        struct config_value_error err;
};

/* Audiences: comma- or space-separated; every audiences line adds to the
 * list, so long lists can be split over lines. */
static int add_audiences(struct parse_state *ps, const char *v) {
        struct wh_settings *s = ps->s;
        while (*v) {
                while (*v == ',' || *v == ' ' || *v == '\t')
                        v++;
                if (!*v)
                        break;
                size_t n = strcspn(v, ", \t");
                if (s->n_audiences >= WH_MAX_AUDIENCES)
                        return config_value_fail(&ps->err, "too many audiences (at most %d)", WH_MAX_AUDIENCES);
                if (!(s->audiences[s->n_audiences] = strndup(v, n)))
                        return config_value_fail(&ps->err, "out of memory");
                s->n_audiences++;
                v += n;
        }
        return 1;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse_state *ps = userdata;
        if (ps->err.error)
                return 0;
        if (!key)
                return 1;
        int r = config_option_set(options, N_OPTIONS, ps->s, &ps->err, section, key, value, NULL);
        /* the one custom row: audiences */
        return r == 2 ? add_audiences(ps, value) : r;
}

int wh_settings_load(struct wh_settings *s, const char *path, char *err, size_t err_size) {
        struct parse_state ps = { .s = s };
        return config_value_read_ini(path, on_entry, &ps, &ps.err, err, err_size);
}

int wh_settings_validate(const struct wh_settings *s, char *err, size_t err_size) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (!s->cert_file || !s->key_file) {
                snprintf(err, err_size, "a certificate and its key are required ([webhook] cert and key, or --cert and --key)");
                return -EINVAL;
        }
        if (!s->listen || hd_parse_listen(s->listen, &ss, &len) < 0) {
                snprintf(err, err_size, "listen must be ADDRESS:PORT with a numeric address ([::1]:8443, 127.0.0.1:8443, *:8443), not '%s'",
                         s->listen ? s->listen : "");
                return -EINVAL;
        }
        if (strcmp(s->log_target, "auto") != 0 && strcmp(s->log_target, "stderr") != 0 &&
            strcmp(s->log_target, "syslog") != 0) {
                snprintf(err, err_size, "log_target must be auto, stderr or syslog");
                return -EINVAL;
        }
        /* groups and audiences go into JSON, which is UTF-8 only */
        json_t *probe = json_string(s->group_prefix ? s->group_prefix : "");
        if (!probe) {
                snprintf(err, err_size, "group_prefix is not valid UTF-8");
                return -EINVAL;
        }
        json_decref(probe);
        /* every group would land in Kubernetes' reserved space, where
         * "system:masters" is cluster-admin */
        if (s->group_prefix && strncmp(s->group_prefix, "system:", 7) == 0) {
                snprintf(err, err_size, "group_prefix may not start with \"system:\": Kubernetes reserves those groups");
                return -EINVAL;
        }
        for (size_t i = 0; i < s->n_audiences; i++) {
                if (!(probe = json_string(s->audiences[i]))) {
                        snprintf(err, err_size, "audience %zu is not valid UTF-8", i + 1);
                        return -EINVAL;
                }
                json_decref(probe);
        }
        return 0;
}
