/* kaasctl Kubernetes commands: the kubeconfig kube-apiserver reads to
 * call the KaaS webhook (webhook kubeconfig), the ClusterRoleBinding that
 * makes a cluster's admin role cluster-admin (rbac cluster-admin), and a
 * user's kubeconfig carrying a KaaS token (kubeconfig). The documents
 * are built as JSON values and written as small, fully quoted YAML by
 * hand (or as JSON with --json, which kubectl reads as well), so kaasctl
 * needs no YAML library. Depends on kaasctl.h, kaasctl_output.h and
 * kaasctl_token.h (the credentials flow, secret handling). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kaasctl.h"
#include "kaasctl_output.h"
#include "kaasctl_token.h"
#include "kube_doc.h"

#define PEM_FILE_MAX (1024 * 1024)
#define KUBE_NAME_MAX 200
#define URL_MAX_LENGTH 2048

/* The document doc (an object) as YAML, or as JSON with --json. */
static int render(const struct kaasctl *ctx, json_t *doc, struct kube_buf *out) {
        if (ctx->json) {
                char *s = json_dumps(doc, JSON_INDENT(2));
                if (!s)
                        return -ENOMEM;
                int r = kube_buf_puts(out, s);
                if (r == 0)
                        r = kube_buf_puts(out, "\n");
                explicit_bzero(s, strlen(s));
                free(s);
                return r;
        }
        return kube_yaml(doc, out);
}

/* ------------------------------------------------------------- output */

static int write_fd(int fd, const char *p, size_t len) {
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

/* Writes a regular file through a temporary file in the same directory,
 * renamed into place: readers never see half a file, and the mode is
 * 0600 whatever the file had before. */
static int write_file_atomic(const char *path, const struct kube_buf *doc) {
        /* POSIX dirname() and basename() may change their argument */
        char *dir_copy = strdup(path), *base_copy = strdup(path);
        char *tmp = NULL;
        int n = dir_copy && base_copy ? asprintf(&tmp, "%s/.%s.XXXXXX", dirname(dir_copy), basename(base_copy)) : -1;
        free(dir_copy);
        free(base_copy);
        if (n < 0)
                return -ENOMEM;
        int fd = mkostemp(tmp, O_CLOEXEC);  /* mode 0600 */
        if (fd < 0) {
                int r = -errno;
                free(tmp);
                return r;
        }
        int r = write_fd(fd, doc->p, doc->len);
        if (r == 0 && fchmod(fd, 0600) < 0)
                r = -errno;
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        free(tmp);
        return r;
}

/* Writes doc to path (a new or regular file, mode 0600; a device or FIFO
 * as it is), or to stdout when path is NULL or "-". Returns an exit code. */
static int write_document(const char *path, const struct kube_buf *doc) {
        int r;
        if (!path || strcmp(path, "-") == 0) {
                if (fflush(stdout) != 0 || (r = write_fd(STDOUT_FILENO, doc->p, doc->len)) < 0) {
                        kaasctl_log("cannot write the output: %s", strerror(errno));
                        return KAASCTL_EXIT_LOCAL;
                }
                return KAASCTL_EXIT_OK;
        }
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
                int fd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
                r = fd < 0 ? -errno : write_fd(fd, doc->p, doc->len);
                if (fd >= 0 && close(fd) < 0 && r == 0)
                        r = -errno;
        } else {
                r = write_file_atomic(path, doc);
        }
        if (r < 0) {
                kaasctl_log("cannot write %s: %s", path, strerror(-r));
                return KAASCTL_EXIT_LOCAL;
        }
        return KAASCTL_EXIT_OK;
}

/* ---------------------------------------------------------- arguments */

/* An https:// URL with a host, printable ASCII without spaces. */
static int check_url(const char *url) {
        size_t n = strlen(url);
        if (strncmp(url, "https://", 8) != 0 || n == 8 || url[8] == '/' || n > URL_MAX_LENGTH)
                return kaasctl_usage_error("--server must be an https:// URL with a host, such as https://10.0.0.5:6443");
        for (const char *p = url; *p; p++)
                if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
                        return kaasctl_usage_error("--server contains a space or a character outside ASCII");
        return 0;
}

/* ----------------------------------------------------------------- PEM */

/* Reads a PEM file named by option and adds its base64 to out. Returns an
 * exit code. */
static int load_pem_base64(const char *option, const char *path, enum kube_pem_kind kind, struct kube_buf *out) {
        int fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                kaasctl_log("--%s %s: %s", option, path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return KAASCTL_EXIT_USAGE;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > PEM_FILE_MAX) {
                kaasctl_log("--%s %s: %s", option, path,
                            !S_ISREG(st.st_mode) ? "not a regular file" : "larger than a PEM file should be (1 MiB)");
                close(fd);
                return KAASCTL_EXIT_USAGE;
        }
        KUBE_BUF_AUTO struct kube_buf text = { 0 };
        int r = kube_buf_reserve(&text, (size_t)st.st_size + 1);
        while (r == 0) {
                if (text.len >= PEM_FILE_MAX) {
                        r = -EFBIG;
                        break;
                }
                ssize_t n = read(fd, text.p + text.len, text.cap - 1 - text.len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = -errno;
                        break;
                }
                if (n == 0)
                        break;
                text.len += (size_t)n;
                if (text.len + 1 >= text.cap)
                        r = kube_buf_reserve(&text, text.cap);
        }
        close(fd);
        if (r < 0) {
                kaasctl_log("--%s %s: %s", option, path, strerror(-r));
                return KAASCTL_EXIT_LOCAL;
        }
        const char *why = kube_pem_check(text.p, text.len, kind);
        if (why) {
                kaasctl_log("--%s %s: not a usable PEM %s file: %s", option, path,
                            kind == KUBE_PEM_CERTIFICATES ? "certificate" : "private key", why);
                return KAASCTL_EXIT_USAGE;
        }
        if (kube_base64((const unsigned char *)text.p, text.len, out) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return 0;
}

/* Sets key of o to the base64 of a PEM file. Returns an exit code. */
static int set_pem(json_t *o, const char *key, const char *option, const char *path, enum kube_pem_kind kind) {
        KUBE_BUF_AUTO struct kube_buf b64 = { 0 };
        int r = load_pem_base64(option, path, kind, &b64);
        if (r != 0)
                return r;
        if (json_object_set_new(o, key, json_stringn(b64.p ? b64.p : "", b64.len)) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return 0;
}

/* ---------------------------------------------------------- documents */

static int emit(const struct kaasctl *ctx, json_t *doc, const char *path) {
        KUBE_BUF_AUTO struct kube_buf out = { 0 };
        if (render(ctx, doc, &out) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return write_document(path, &out);
}

static void secret_freep(json_t **v) {
        kaasctl_secret_free(*v);
}
#define SECRET_JSON_AUTO __attribute__((cleanup(secret_freep)))

/* -------------------------------------------------- webhook kubeconfig */

static int cmd_webhook_kubeconfig(struct kaasctl *ctx, int argc, char **argv) {
        kaasctl_secure_memory();
        const char *server = kaasctl_option(ctx, "server"), *ca = kaasctl_option(ctx, "ca"),
                   *cert = kaasctl_option(ctx, "client-cert"), *key = kaasctl_option(ctx, "client-key");
        if (!server || !ca)
                return kaasctl_usage_error("webhook kubeconfig needs --server and --ca");
        if (!cert != !key)
                return kaasctl_usage_error("--client-cert and --client-key go together");
        int r = check_url(server);
        if (r != 0)
                return r;
        if (strpbrk(server + 8, "?#"))
                return kaasctl_usage_error("--server takes the webhook's base URL, without a query");
        /* kube-apiserver posts TokenReviews to exactly this URL */
        char url[URL_MAX_LENGTH + sizeof("/authenticate")];
        size_t n = strlen(server);
        while (n > 8 && server[n - 1] == '/')
                n--;
        static const char suffix[] = "/authenticate";
        bool has_suffix = n >= sizeof(suffix) - 1 && memcmp(server + n - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0;
        snprintf(url, sizeof(url), "%.*s%s", (int)n, server, has_suffix ? "" : suffix);

        json_t *cluster = json_pack("{s:s}", "server", url);
        json_t *user = json_object();
        SECRET_JSON_AUTO json_t *doc = cluster && user ? kube_kubeconfig_new("kaas-webhook", cluster, "kube-apiserver", user) : NULL;
        if (!doc) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        if ((r = set_pem(cluster, "certificate-authority-data", "ca", ca, KUBE_PEM_CERTIFICATES)) != 0)
                return r;
        if (cert && ((r = set_pem(user, "client-certificate-data", "client-cert", cert, KUBE_PEM_CERTIFICATES)) != 0 ||
                     (r = set_pem(user, "client-key-data", "client-key", key, KUBE_PEM_PRIVATE_KEY)) != 0))
                return r;
        return emit(ctx, doc, kaasctl_option(ctx, "output"));
}

/* ------------------------------------------------- rbac cluster-admin */

static int cmd_rbac_cluster_admin(struct kaasctl *ctx, int argc, char **argv) {
        const char *cluster = kaasctl_option(ctx, "cluster"), *ids = kaasctl_option(ctx, "role-id");
        if (!ids)
                return kaasctl_usage_error("rbac cluster-admin needs --role-id: the Keystone ID of the cluster's admin "
                                           "role (kaasctl user show USER lists role IDs)");
        if (!*ids)      /* an unset shell variable: a binding with no subject would take cluster-admin away */
                return kaasctl_usage_error("--role-id is empty: give the Keystone ID of the cluster's admin role");
        if (cluster && !kube_name_valid(cluster))
                return kaasctl_usage_error("invalid --cluster '%s': letters, digits, '-', '_' and '.' only", cluster);
        /* a comma-separated list, for clusters with several admin roles */
        char list[KUBE_NAME_MAX * 8 + 8];
        const char *role_ids[8 * 4];
        size_t n_ids = 0;
        if (strlen(ids) >= sizeof(list))
                return kaasctl_usage_error("invalid --role-id '%s': too long", ids);
        snprintf(list, sizeof(list), "%s", ids);
        for (char *p = list; *p;) {
                size_t n = strcspn(p, ",");
                if (n == 0 || n > KUBE_NAME_MAX || n_ids == sizeof(role_ids) / sizeof(role_ids[0]))
                        return kaasctl_usage_error("invalid --role-id '%s': role IDs separated by commas", ids);
                bool last = p[n] == '\0';
                p[n] = '\0';
                if (!kube_name_valid(p))
                        return kaasctl_usage_error("invalid role ID '%s'", p);
                role_ids[n_ids++] = p;
                p += n + !last;
                if (!last && !*p)
                        return kaasctl_usage_error("invalid --role-id '%s': trailing comma", ids);
        }
        KAASCTL_JSON_AUTO json_t *doc = kube_cluster_admin_binding(cluster, role_ids, n_ids, "kaasctl");
        if (!doc) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return emit(ctx, doc, kaasctl_option(ctx, "output"));
}

/* --------------------------------------------------- user kubeconfig */

/* kaas_ and base62: anything else is not a KaaS token, and must not
 * reach the file either. */
static bool token_shape_valid(const char *t) {
        if (strncmp(t, "kaas_", 5) != 0 || strlen(t) < 5 + 32 || strlen(t) > 256)
                return false;
        for (t += 5; *t; t++)
                if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9')))
                        return false;
        return true;
}

static int cmd_kubeconfig(struct kaasctl *ctx, int argc, char **argv) {
        kaasctl_secure_memory();
        const char *cluster = kaasctl_option(ctx, "cluster"), *server = kaasctl_option(ctx, "server"),
                   *ca = kaasctl_option(ctx, "ca"), *output = kaasctl_option(ctx, "output");
        bool create = kaasctl_flag(ctx, "create");
        if (!cluster || !server)
                return kaasctl_usage_error("kubeconfig needs --cluster and --server");
        if (!kube_name_valid(cluster))
                return kaasctl_usage_error("invalid --cluster '%s': letters, digits, '-', '_' and '.' only", cluster);
        int r = check_url(server);
        if (r != 0)
                return r;
        if (!create && (kaasctl_option(ctx, KAASCTL_OPT_DESCRIPTION) || kaasctl_option(ctx, KAASCTL_OPT_EXPIRES_IN) ||
                        kaasctl_credentials_explicit(ctx)))
                return kaasctl_usage_error("--description, --expires-in, --password-stdin and --kaas-token-stdin "
                                           "go with --create");

        json_t *cl = json_pack("{s:s}", "server", server);
        json_t *user = json_object();
        char user_name[KUBE_NAME_MAX + 8];
        snprintf(user_name, sizeof(user_name), "kaas-%s", cluster);
        SECRET_JSON_AUTO json_t *doc = cl && user ? kube_kubeconfig_new(cluster, cl, user_name, user) : NULL;
        if (!doc) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        /* the CA first: a bad file should fail before a token is made */
        if (ca && (r = set_pem(cl, "certificate-authority-data", "ca", ca, KUBE_PEM_CERTIFICATES)) != 0)
                return r;

        SECRET_JSON_AUTO json_t *created = NULL;
        if (create) {
                if ((r = kaasctl_token_create(ctx, &created)) != 0)
                        return r;
                r = json_object_set(user, "token", json_object_get(created, "token"));
        } else {
                char token[KAASCTL_SECRET_MAX + 1];
                int n = kaasctl_read_secret("KaaS token: ", true, "pipe the token to standard input, or use --create",
                                            token, sizeof(token));
                if (n < 0)
                        return -n;
                if (!token_shape_valid(token)) {
                        explicit_bzero(token, sizeof(token));
                        kaasctl_log("standard input does not hold a KaaS token (kaas_...): create one with "
                                    "kaasctl token create, or use --create");
                        return KAASCTL_EXIT_USAGE;
                }
                r = json_object_set_new(user, "token", json_string(token));
                explicit_bzero(token, sizeof(token));
        }
        if (r < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        r = emit(ctx, doc, output);
        if (created) {
                char expires[64];
                kaasctl_format_time(expires, sizeof(expires), json_integer_value(json_object_get(created, "expires")));
                const char *id = json_string_value(json_object_get(created, "id"));
                if (r == KAASCTL_EXIT_OK)
                        kaasctl_log("created token %s, valid until %s; it is in %s only", id ? id : "?", expires,
                                    output && strcmp(output, "-") != 0 ? output : "the kubeconfig written above");
                else
                        kaasctl_log("the new token %s was not saved: delete it with kaasctl token delete %s",
                                    id ? id : "?", id ? id : "ID");
        }
        return r;
}

/* -------------------------------------------------------------- table */

static const struct kaasctl_option webhook_kubeconfig_options[] = {
        { "server", "URL", "the webhook's https:// URL (/authenticate is added)" },
        { "ca", "FILE", "PEM CA certificate(s) that signed the webhook's certificate" },
        { "client-cert", "FILE", "PEM client certificate kube-apiserver presents" },
        { "client-key", "FILE", "PEM private key of --client-cert" },
        { "output", "FILE", "write to FILE (mode 0600) instead of stdout" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command webhook_commands[] = {
        { "kubeconfig", "", "Write kube-apiserver's authentication webhook kubeconfig", 0, 0,
          webhook_kubeconfig_options, cmd_webhook_kubeconfig },
};

const struct kaasctl_group kaasctl_webhook_group = {
        .name = "webhook",
        .summary = "The TokenReview webhook in kube-apiserver",
        .commands = webhook_commands,
        .n_commands = sizeof(webhook_commands) / sizeof(webhook_commands[0]),
};

static const struct kaasctl_option rbac_options[] = {
        { "cluster", "NAME", "the cluster, named in the binding's name" },
        { "role-id", "ID[,ID]", "Keystone ID(s) of the cluster's admin role(s)" },
        { "output", "FILE", "write to FILE instead of stdout" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command rbac_commands[] = {
        { "cluster-admin", "", "Print a ClusterRoleBinding of cluster-admin to admin roles", 0, 0, rbac_options,
          cmd_rbac_cluster_admin },
};

const struct kaasctl_group kaasctl_rbac_group = {
        .name = "rbac",
        .summary = "Kubernetes RBAC for Keystone roles",
        .commands = rbac_commands,
        .n_commands = sizeof(rbac_commands) / sizeof(rbac_commands[0]),
};

static const struct kaasctl_option kubeconfig_options[] = {
        { "cluster", "NAME", "the cluster's name in the kubeconfig" },
        { "server", "URL", "the cluster's API server, https://HOST:PORT" },
        { "ca", "FILE", "PEM CA certificate(s) of the API server" },
        { "output", "FILE", "write to FILE (mode 0600) instead of stdout" },
        { "create", NULL, "create a new token instead of reading one from stdin" },
        { KAASCTL_OPT_DESCRIPTION, "TEXT", "with --create: the token's description" },
        { KAASCTL_OPT_EXPIRES_IN, "DAYS", "with --create: its lifetime in days" },
        KAASCTL_CREDENTIAL_OPTIONS,
        { NULL, NULL, NULL },
};

static const struct kaasctl_command kube_commands[] = {
        { "kubeconfig", "", "Write a kubeconfig that logs in with a KaaS token", 0, 0, kubeconfig_options,
          cmd_kubeconfig },
};

const struct kaasctl_group kaasctl_kube_group = {
        .name = NULL,
        .summary = "Kubernetes client configuration",
        .commands = kube_commands,
        .n_commands = sizeof(kube_commands) / sizeof(kube_commands[0]),
};
