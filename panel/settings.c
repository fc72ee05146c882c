/* kaas-panel's configuration; see settings.h. One row per option, as in
 * kaas-webhook's settings.c, so adding an option is one line here and one
 * paragraph in kaas-panel(8). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config_value.h"
#include "forward_rules.h"
#include "httpd/listen.h"
#include "kube_doc.h"
#include "settings.h"

#define ROW(sec, key, kind, field, min, max) \
        CONFIG_OPTION(struct panel_settings, sec, key, CONFIG_OPT_##kind, field, min, max)

static const struct config_option options[] = {
        ROW("panel", "listen", STRING, listen, 0, 0),
        ROW("panel", "cert", PATH, cert_file, 0, 0),
        ROW("panel", "key", PATH, key_file, 0, 0),
        ROW("panel", "tls_priorities", STRING, tls_priorities, 0, 0),
        ROW("panel", "origin", STRING, origin, 0, 0),
        ROW("panel", "default_domain", STRING, default_domain, 0, 0),
        ROW("panel", "cookie_domain", STRING, cookie_domain, 0, 0),
        ROW("panel", "session_idle", UINT, session_idle_sec, 1, 86400),
        ROW("panel", "session_lifetime", UINT, session_lifetime_sec, 60, 7 * 86400),
        ROW("panel", "max_sessions", UINT, max_sessions, 1, 1000000),
        ROW("panel", "max_sessions_per_user", UINT, max_sessions_per_user, 1, 1000000),
        ROW("panel", "token_max_days", UINT, token_max_days, 1, 36500),
        ROW("panel", "max_connections", UINT, max_connections, 1, 10000),
        ROW("panel", "max_connections_per_client", UINT, max_connections_per_client, 1, 10000),
        ROW("panel", "connection_timeout", UINT, connection_timeout_sec, 1, 3600),
        ROW("panel", "request_timeout", UINT, request_timeout_sec, 1, 3600),
        ROW("panel", "shutdown_timeout", UINT, shutdown_timeout_sec, 0, 300),
        ROW("panel", "log_target", STRING, log_target, 0, 0),
        ROW("panel", "log_level", LOGLEVEL, log_level, 0, 0),

        ROW("kaasd", "socket", PATH, kaasd_socket, 0, 0),
        ROW("kaasd", "user", STRING, kaasd_user, 0, 0),
        ROW("kaasd", "connections", UINT, kaasd_connections, 1, 64),
        ROW("kaasd", "timeout", UINT, kaasd_timeout_sec, 1, 300),

        ROW("forward_auth", "user_header", CUSTOM, fa_user_header, 0, 0),
        ROW("forward_auth", "uid_header", CUSTOM, fa_uid_header, 0, 0),
        ROW("forward_auth", "groups_header", CUSTOM, fa_groups_header, 0, 0),
};

#define N_OPTIONS (sizeof(options) / sizeof(options[0]))
#define URL_MAX 2048
#define CA_FILE_MAX (1024 * 1024)

int panel_settings_set(char **field, const char *value) {
        return config_string_set(field, value);
}

int panel_settings_new(struct panel_settings **ret) {
        struct panel_settings *s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        s->session_idle_sec = 1800;
        s->session_lifetime_sec = 12 * 3600;
        s->max_sessions = 10000;
        s->max_sessions_per_user = 16;
        s->token_max_days = 365;
        s->max_connections = 1024;
        s->max_connections_per_client = 64;
        s->connection_timeout_sec = 60;
        s->request_timeout_sec = 10;
        s->shutdown_timeout_sec = 10;
        s->log_level = LOG_INFO;
        s->kaasd_connections = 8;
        s->kaasd_timeout_sec = 10;
        if (panel_settings_set(&s->listen, "127.0.0.1:8444") < 0 ||
            panel_settings_set(&s->tls_priorities, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2") < 0 ||
            panel_settings_set(&s->default_domain, "Default") < 0 || panel_settings_set(&s->log_target, "auto") < 0 ||
            panel_settings_set(&s->fa_user_header, "X-Remote-User") < 0 ||
            panel_settings_set(&s->fa_uid_header, "X-Remote-Uid") < 0 ||
            panel_settings_set(&s->fa_groups_header, "X-Remote-Groups") < 0) {
                panel_settings_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

struct panel_settings *panel_settings_free(struct panel_settings *s) {
        if (!s)
                return NULL;
        config_options_free(options, N_OPTIONS, s);
        free(s->fa_user_header);
        free(s->fa_uid_header);
        free(s->fa_groups_header);
        for (size_t i = 0; i < s->n_return_to_hosts; i++)
                free(s->return_to_hosts[i]);
        free(s->return_to_hosts);
        for (size_t i = 0; i < s->n_clusters; i++) {
                struct panel_cluster *c = &s->clusters[i];
                free(c->name);
                free(c->server);
                free(c->ca_file);
                free(c->ca_data);
                for (size_t k = 0; k < c->n_services; k++) {
                        free(c->services[k].label);
                        free(c->services[k].url);
                        for (size_t j = 0; j < c->services[k].n_roles; j++)
                                free(c->services[k].roles[j]);
                }
        }
        free(s);
        return NULL;
}

const char *panel_cookie_name(const struct panel_settings *s) {
        return s->cookie_domain ? "__Secure-kaas-session" : "__Host-kaas-session";
}

const struct panel_cluster *panel_cluster_find(const struct panel_settings *s, const char *name) {
        for (size_t i = 0; i < s->n_clusters; i++)
                if (strcmp(s->clusters[i].name, name) == 0)
                        return &s->clusters[i];
        return NULL;
}

struct parse_state {
        struct panel_settings *s;
        struct config_value_error err;
};

/* An http(s) URL with a host, printable ASCII without spaces or quotes:
 * it ends up in href attributes and kubeconfigs. */
static bool url_valid(const char *url, bool https_only) {
        size_t n = strlen(url), skip;
        if (strncmp(url, "https://", 8) == 0)
                skip = 8;
        else if (!https_only && strncmp(url, "http://", 7) == 0)
                skip = 7;
        else
                return false;
        if (n == skip || url[skip] == '/' || n > URL_MAX)
                return false;
        for (const char *p = url; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '"' || *p == '\'' || *p == '<' ||
                    *p == '>' || *p == '\\' || *p == '`')
                        return false;
        return true;
}

/* "LABEL URL [ROLE,ROLE...]": the label may hold spaces; the URL is the
 * last word starting with http:// or https://, the roles (IDs or names,
 * any one of which admits a user) the word after it. */
static int add_service(struct parse_state *ps, struct panel_cluster *c, const char *value) {
        if (c->n_services >= PANEL_MAX_SERVICES)
                return config_value_fail(&ps->err, "too many services (at most %d per cluster)", PANEL_MAX_SERVICES);
        char *copy = strdup(value);
        if (!copy)
                return config_value_fail(&ps->err, "out of memory");
        char *url = NULL, *roles = NULL;
        for (char *w = strrchr(copy, ' '); w; w = w > copy ? strrchr(copy, ' ') : NULL) {
                char *word = w + 1;
                *w = '\0';
                if (strncmp(word, "https://", 8) == 0 || strncmp(word, "http://", 7) == 0) {
                        url = word;
                        break;
                }
                if (roles || !*word)
                        break;
                roles = word;
        }
        size_t n = url ? (size_t)(url - 1 - copy) : 0;
        while (n > 0 && copy[n - 1] == ' ')
                n--;
        if (!url || n == 0 || !url_valid(url, false)) {
                free(copy);
                return config_value_fail(&ps->err,
                                         "service must be \"LABEL URL [ROLE,ROLE...]\" with an http(s):// URL");
        }
        struct panel_service *sv = &c->services[c->n_services];
        memset(sv, 0, sizeof(*sv));
        int r = 1;
        if (!(sv->label = strndup(copy, n)) || !(sv->url = strdup(url)))
                r = config_value_fail(&ps->err, "out of memory");
        for (char *p = roles; r == 1 && p && *p;) {
                size_t k = strcspn(p, ",");
                if (k == 0 || k > KUBE_NAME_MAX || sv->n_roles >= PANEL_MAX_ROLES) {
                        r = config_value_fail(&ps->err, "service roles: at most %d IDs or names separated by commas",
                                              PANEL_MAX_ROLES);
                        break;
                }
                if (!(sv->roles[sv->n_roles] = strndup(p, k))) {
                        r = config_value_fail(&ps->err, "out of memory");
                        break;
                }
                sv->n_roles++;
                p += k + (p[k] == ',');
        }
        free(copy);
        if (r != 1) {
                free(sv->label);
                free(sv->url);
                for (size_t j = 0; j < sv->n_roles; j++)
                        free(sv->roles[j]);
                memset(sv, 0, sizeof(*sv));
                return r;
        }
        c->n_services++;
        return 1;
}

/* An HTTP header name: RFC 9110 token characters. */
static bool header_name_valid(const char *v) {
        if (!*v || strlen(v) > 64)
                return false;
        for (; *v; v++)
                if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') ||
                      strchr("!#$%&'*+-.^_`|~", *v)))
                        return false;
        return true;
}

/* A DNS name for the cookie's Domain attribute. */
static bool cookie_domain_valid(const char *v) {
        if (!*v || strlen(v) > 253 || *v == '.' || !strchr(v, '.'))
                return false;
        for (; *v; v++)
                if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9') || *v == '-' ||
                      *v == '.'))
                        return false;
        return true;
}

static int on_cluster_entry(struct parse_state *ps, const char *name, const char *key, const char *value) {
        struct panel_settings *s = ps->s;
        struct panel_cluster *c = NULL;
        for (size_t i = 0; i < s->n_clusters; i++)
                if (strcmp(s->clusters[i].name, name) == 0)
                        c = &s->clusters[i];
        if (!c) {
                if (!kube_name_valid(name))
                        return config_value_fail(&ps->err, "cluster name '%s': letters, digits, '-', '_' and '.' only",
                                                 name);
                if (s->n_clusters >= PANEL_MAX_CLUSTERS)
                        return config_value_fail(&ps->err, "too many clusters (at most %d)", PANEL_MAX_CLUSTERS);
                c = &s->clusters[s->n_clusters];
                if (!(c->name = strdup(name)))
                        return config_value_fail(&ps->err, "out of memory");
                s->n_clusters++;
        }
        if (!key)
                return 1;
        if (strcmp(key, "server") == 0) {
                if (!url_valid(value, true))
                        return config_value_fail(&ps->err, "server must be an https:// URL with a host");
                return panel_settings_set(&c->server, value) < 0 ? config_value_fail(&ps->err, "out of memory") : 1;
        }
        if (strcmp(key, "ca_file") == 0) {
                if (value[0] != '/')
                        return config_value_fail(&ps->err, "ca_file must be an absolute path");
                return panel_settings_set(&c->ca_file, value) < 0 ? config_value_fail(&ps->err, "out of memory") : 1;
        }
        if (strcmp(key, "service") == 0)
                return add_service(ps, c, value);
        return config_value_fail(&ps->err, "unknown key '%s' in [cluster %s]", key, name);
}

static int on_entry(void *userdata, const char *section, const char *key, const char *value) {
        struct parse_state *ps = userdata;
        if (ps->err.error)
                return 0;
        if (key && strlen(value) > CONFIG_VALUE_MAX)
                return config_value_fail(&ps->err, "value of '%s' is too long", key);
        if (strncmp(section, "cluster ", 8) == 0) {
                for (const char *v = key ? value : ""; *v; v++)
                        if ((unsigned char)*v < 0x20 || *v == 0x7f)
                                return config_value_fail(&ps->err, "%s contains a control character", key);
                return on_cluster_entry(ps, section + 8, key, value);
        }
        if (!key)
                return 1;
        const struct config_option *row = NULL;
        int r = config_option_set(options, N_OPTIONS, ps->s, &ps->err, section, key, value, &row);
        if (r != 2)
                return r;
        /* the custom rows: [forward_auth]'s header names */
        if (!header_name_valid(value))
                return config_value_fail(&ps->err, "%s must be an HTTP header name", key);
        if (panel_settings_set((char **)((char *)ps->s + row->offset), value) < 0)
                return config_value_fail(&ps->err, "out of memory");
        return 1;
}

int panel_settings_load(struct panel_settings *s, const char *path, char *err, size_t err_size) {
        struct parse_state ps = { .s = s };
        return config_value_read_ini(path, on_entry, &ps, &ps.err, err, err_size);
}

/* Reads a cluster's CA file, checks it is PEM certificates and keeps its
 * base64 for kubeconfigs. */
static int load_ca(struct panel_cluster *c, char *err, size_t err_size) {
        int fd = open(c->ca_file, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(err, err_size, "[cluster %s] ca_file %s: %s", c->name, c->ca_file, strerror(-r));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > CA_FILE_MAX) {
                snprintf(err, err_size, "[cluster %s] ca_file %s: not a regular file of 1 byte to 1 MiB", c->name,
                         c->ca_file);
                close(fd);
                return -EINVAL;
        }
        KUBE_BUF_AUTO struct kube_buf text = { 0 };
        int r = kube_buf_reserve(&text, (size_t)st.st_size);
        while (r == 0 && text.len < (size_t)st.st_size) {
                ssize_t n = read(fd, text.p + text.len, (size_t)st.st_size - text.len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        r = n < 0 ? -errno : -EIO;
                        break;
                }
                text.len += (size_t)n;
        }
        close(fd);
        if (r < 0) {
                snprintf(err, err_size, "[cluster %s] ca_file %s: %s", c->name, c->ca_file, strerror(-r));
                return r;
        }
        const char *why = kube_pem_check(text.p, text.len, KUBE_PEM_CERTIFICATES);
        if (why) {
                snprintf(err, err_size, "[cluster %s] ca_file %s: not a PEM certificate file: %s", c->name,
                         c->ca_file, why);
                return -EINVAL;
        }
        KUBE_BUF_AUTO struct kube_buf b64 = { 0 };
        if (kube_base64((const unsigned char *)text.p, text.len, &b64) < 0 || !(c->ca_data = strdup(b64.p)))
                return -ENOMEM;
        return 0;
}

/* "https://host[:port]", nothing after: what a browser sends as Origin. */
static bool origin_valid(const char *o) {
        if (!url_valid(o, true))
                return false;
        return !strchr(o + 8, '/') && !strchr(o + 8, '?') && !strchr(o + 8, '#') && !strchr(o + 8, '@');
}

/* The origin as a browser sends it, which same_origin() compares byte for
 * byte: the host in lower case, and no ":443" (https's own port). */
static void origin_as_sent(char *o) {
        for (char *p = o; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        size_t n = strlen(o);
        if (n > 4 && strcmp(o + n - 4, ":443") == 0)
                o[n - 4] = '\0';
}

/* The hosts a return_to URL may lead to: the origin's and every
 * service's, once each. */
static int collect_return_to_hosts(struct panel_settings *s, char *err, size_t err_size) {
        size_t max = 1;
        for (size_t i = 0; i < s->n_clusters; i++)
                max += s->clusters[i].n_services;
        for (size_t i = 0; i < s->n_return_to_hosts; i++)
                free(s->return_to_hosts[i]);
        free(s->return_to_hosts);
        s->n_return_to_hosts = 0;
        if (!(s->return_to_hosts = calloc(max, sizeof(char *))))
                return -ENOMEM;
        for (size_t i = 0; i <= s->n_clusters; i++)
                for (size_t k = 0; k < (i == 0 ? 1 : s->clusters[i - 1].n_services); k++) {
                        const char *url = i == 0 ? s->origin : s->clusters[i - 1].services[k].url;
                        char host[256];
                        if (fa_url_host(url, host, sizeof(host)) < 0) {
                                snprintf(err, err_size, "cannot tell the host of '%s'", url);
                                return -EINVAL;
                        }
                        bool dup = false;
                        for (size_t j = 0; j < s->n_return_to_hosts; j++)
                                dup = dup || strcmp(s->return_to_hosts[j], host) == 0;
                        if (!dup && !(s->return_to_hosts[s->n_return_to_hosts++] = strdup(host)))
                                return -ENOMEM;
                }
        return 0;
}

int panel_settings_validate(struct panel_settings *s, char *err, size_t err_size) {
        struct sockaddr_storage ss;
        socklen_t len;
        if (!s->cert_file || !s->key_file) {
                snprintf(err, err_size, "a certificate and its key are required ([panel] cert and key, or --cert and --key)");
                return -EINVAL;
        }
        if (!s->listen || hd_parse_listen(s->listen, &ss, &len) < 0) {
                snprintf(err, err_size, "listen must be ADDRESS:PORT with a numeric address ([::1]:8444, 127.0.0.1:8444, *:8444), not '%s'",
                         s->listen ? s->listen : "");
                return -EINVAL;
        }
        if (s->origin)
                origin_as_sent(s->origin);
        if (!s->origin || !origin_valid(s->origin)) {
                snprintf(err, err_size, "origin must be the https://HOST[:PORT] users type, without a path, not '%s'",
                         s->origin ? s->origin : "");
                return -EINVAL;
        }
        if (strcmp(s->log_target, "auto") != 0 && strcmp(s->log_target, "stderr") != 0 &&
            strcmp(s->log_target, "syslog") != 0) {
                snprintf(err, err_size, "log_target must be auto, stderr or syslog");
                return -EINVAL;
        }
        if (s->cookie_domain && !cookie_domain_valid(s->cookie_domain)) {
                snprintf(err, err_size, "cookie_domain must be a DNS name such as example.com, not '%s'",
                         s->cookie_domain);
                return -EINVAL;
        }
        if (s->n_clusters == 0) {
                snprintf(err, err_size, "at least one [cluster NAME] section is required");
                return -EINVAL;
        }
        for (size_t i = 0; i < s->n_clusters; i++) {
                struct panel_cluster *c = &s->clusters[i];
                if (!c->server || !c->ca_file) {
                        snprintf(err, err_size, "[cluster %s] needs server and ca_file", c->name);
                        return -EINVAL;
                }
                free(c->ca_data);
                c->ca_data = NULL;
                int r = load_ca(c, err, err_size);
                if (r < 0)
                        return r;
        }
        return collect_return_to_hosts(s, err, err_size);
}
