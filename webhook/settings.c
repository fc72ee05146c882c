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

enum opt_kind { OPT_STRING, OPT_PATH, OPT_UINT, OPT_SIZE, OPT_BOOL, OPT_LOGLEVEL, OPT_LIST };

struct option_row {
        const char *section;
        const char *key;
        enum opt_kind kind;
        size_t offset;
        unsigned long long min, max;
};

#define ROW(sec, key, kind, field, min, max) { sec, key, kind, offsetof(struct wh_settings, field), min, max }

static const struct option_row options[] = {
        ROW("webhook", "listen", OPT_STRING, listen, 0, 0),
        ROW("webhook", "cert", OPT_PATH, cert_file, 0, 0),
        ROW("webhook", "key", OPT_PATH, key_file, 0, 0),
        ROW("webhook", "client_ca", OPT_PATH, client_ca_file, 0, 0),
        ROW("webhook", "tls_priorities", OPT_STRING, tls_priorities, 0, 0),
        ROW("webhook", "max_connections", OPT_UINT, max_connections, 1, 10000),
        ROW("webhook", "max_connections_per_client", OPT_UINT, max_connections_per_client, 1, 10000),
        ROW("webhook", "max_body_size", OPT_SIZE, max_body_size, 1024, 1024 * 1024),
        ROW("webhook", "connection_timeout", OPT_UINT, connection_timeout_sec, 1, 3600),
        ROW("webhook", "request_timeout", OPT_UINT, request_timeout_sec, 1, 3600),
        ROW("webhook", "shutdown_timeout", OPT_UINT, shutdown_timeout_sec, 0, 300),
        ROW("webhook", "log_target", OPT_STRING, log_target, 0, 0),
        ROW("webhook", "log_level", OPT_LOGLEVEL, log_level, 0, 0),

        ROW("kaasd", "socket", OPT_PATH, kaasd_socket, 0, 0),
        ROW("kaasd", "user", OPT_STRING, kaasd_user, 0, 0),
        ROW("kaasd", "connections", OPT_UINT, kaasd_connections, 1, 64),
        ROW("kaasd", "timeout", OPT_UINT, kaasd_timeout_sec, 1, 300),

        ROW("kubernetes", "audiences", OPT_LIST, audiences, 0, 0),
        ROW("kubernetes", "group_prefix", OPT_STRING, group_prefix, 0, 0),
        ROW("kubernetes", "role_names_as_groups", OPT_BOOL, role_names_as_groups, 0, 0),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
#define VALUE_MAX 4096

int wh_settings_set(char **field, const char *value) {
        char *s = value ? strdup(value) : NULL;
        if (value && !s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
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
        for (size_t i = 0; i < N_OPTIONS; i++)
                if (options[i].kind == OPT_STRING || options[i].kind == OPT_PATH)
                        free(*(char **)((char *)s + options[i].offset));
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

static bool has_no_control_chars(const char *v) {
        for (; *v; v++)
                if ((unsigned char)*v < 0x20 || *v == 0x7f)
                        return false;
        return true;
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse_state *ps = userdata;
        if (ps->err.error)
                return 0;
        if (!key)
                return 1;
        if (strlen(value) > VALUE_MAX)
                return config_value_fail(&ps->err, "value of '%s' is too long", key);
        const struct option_row *row = NULL;
        bool section_known = false;
        for (size_t i = 0; i < N_OPTIONS; i++) {
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
        if (!has_no_control_chars(value))
                return config_value_fail(&ps->err, "%s contains a control character", key);
        void *field = (char *)ps->s + row->offset;
        unsigned long long n;
        switch (row->kind) {
        case OPT_PATH:
                if (value[0] != '/')
                        return config_value_fail(&ps->err, "%s must be an absolute path", key);
                /* fall through */
        case OPT_STRING:
                if (!*value && row->offset != offsetof(struct wh_settings, group_prefix))
                        return config_value_fail(&ps->err, "%s must not be empty", key);
                if (wh_settings_set(field, *value ? value : NULL) < 0)
                        return config_value_fail(&ps->err, "out of memory");
                break;
        case OPT_BOOL:
                if (config_value_bool(&ps->err, key, value, field) < 0)
                        return 0;
                break;
        case OPT_LOGLEVEL:
                if (config_value_log_level(&ps->err, key, value, field) < 0)
                        return 0;
                break;
        case OPT_UINT:
        case OPT_SIZE:
                if (config_value_number(&ps->err, key, value,
                                        row->kind == OPT_SIZE ? CONFIG_VALUE_MIB : CONFIG_VALUE_NO_SUFFIX,
                                        row->min, row->max, &n) < 0)
                        return 0;
                if (row->kind == OPT_UINT)
                        *(unsigned *)field = (unsigned)n;
                else
                        *(size_t *)field = (size_t)n;
                break;
        case OPT_LIST:
                return add_audiences(ps, value);
        }
        return 1;
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
