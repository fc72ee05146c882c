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

#define PEM_FILE_MAX (1024 * 1024)
#define NAME_MAX_LENGTH 200
#define URL_MAX_LENGTH 2048

/* ------------------------------------------------------------- buffer */

/* A growing byte buffer that wipes what it drops: documents here carry
 * private keys and tokens. */
struct buf {
        char *p;
        size_t len, cap;
};

static void buf_wipe(struct buf *b) {
        if (b->p) {
                explicit_bzero(b->p, b->cap);
                free(b->p);
        }
        *b = (struct buf){ 0 };
}

static void buf_wipep(struct buf *b) {
        buf_wipe(b);
}
#define BUF_AUTO __attribute__((cleanup(buf_wipep)))

static int buf_reserve(struct buf *b, size_t more) {
        if (more > SIZE_MAX / 2 - b->len)
                return -ENOMEM;
        if (b->len + more + 1 <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + more + 1)
                cap *= 2;
        /* not realloc(): it could leave a copy behind unwiped */
        char *p = malloc(cap);
        if (!p)
                return -ENOMEM;
        if (b->p) {
                memcpy(p, b->p, b->len);
                explicit_bzero(b->p, b->cap);
                free(b->p);
        }
        b->p = p;
        b->cap = cap;
        return 0;
}

static int buf_put(struct buf *b, const char *s, size_t n) {
        int r = buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
}

static int buf_puts(struct buf *b, const char *s) {
        return buf_put(b, s, strlen(s));
}

static int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(struct buf *b, const char *fmt, ...) {
        char small[64];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        /* used for escapes and numbers only */
        if (n < 0 || (size_t)n >= sizeof(small))
                return -EINVAL;
        return buf_put(b, small, (size_t)n);
}

/* ------------------------------------------------------------- base64 */

static int base64_encode(const unsigned char *in, size_t len, struct buf *out) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int r = buf_reserve(out, (len + 2) / 3 * 4);
        if (r < 0)
                return r;
        char *o = out->p + out->len;
        size_t i = 0;
        for (; i + 2 < len; i += 3) {
                unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
                *o++ = alphabet[v >> 18 & 63];
                *o++ = alphabet[v >> 12 & 63];
                *o++ = alphabet[v >> 6 & 63];
                *o++ = alphabet[v & 63];
        }
        if (i < len) {
                unsigned v = (unsigned)in[i] << 16 | (i + 1 < len ? (unsigned)in[i + 1] << 8 : 0);
                *o++ = alphabet[v >> 18 & 63];
                *o++ = alphabet[v >> 12 & 63];
                *o++ = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
                *o++ = '=';
        }
        out->len = (size_t)(o - out->p);
        out->p[out->len] = '\0';
        return 0;
}

/* --------------------------------------------------------------- YAML */

/* A string as a YAML double-quoted scalar, in plain ASCII: quotes,
 * backslashes and control characters escaped, other characters beyond
 * ASCII as \u/\U escapes (jansson strings are valid UTF-8). */
static int yaml_string(struct buf *b, const char *s, size_t len) {
        int r = buf_puts(b, "\"");
        for (size_t i = 0; r == 0 && i < len;) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\') {
                        char esc[2] = { '\\', (char)c };
                        r = buf_put(b, esc, 2);
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        r = buf_printf(b, "\\x%02x", c);
                        i++;
                } else if (c < 0x80) {
                        r = buf_put(b, (const char *)&c, 1);
                        i++;
                } else {
                        unsigned cp, n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
                        cp = c & (n == 4 ? 0x07 : n == 3 ? 0x0f : 0x1f);
                        for (unsigned k = 1; k < n && i + k < len; k++)
                                cp = cp << 6 | ((unsigned char)s[i + k] & 0x3f);
                        r = cp > 0xffff ? buf_printf(b, "\\U%08x", cp) : buf_printf(b, "\\u%04x", cp);
                        i += n;
                }
        }
        return r < 0 ? r : buf_puts(b, "\"");
}

static int yaml_indent(struct buf *b, int indent) {
        static const char spaces[] = "                                        ";
        if (indent > (int)sizeof(spaces) - 1)
                return -EINVAL;
        return buf_put(b, spaces, (size_t)indent);
}

static int yaml_scalar(struct buf *b, json_t *v) {
        switch (json_typeof(v)) {
        case JSON_STRING:
                return yaml_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_TRUE:
                return buf_puts(b, "true");
        case JSON_FALSE:
                return buf_puts(b, "false");
        case JSON_OBJECT:
                return buf_puts(b, "{}");
        case JSON_ARRAY:
                return buf_puts(b, "[]");
        default:
                return buf_puts(b, "null");
        }
}

static bool is_block(json_t *v) {
        return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

static int yaml_array(struct buf *b, json_t *a, int indent);

/* An object's members, one per line at indent; with inline_first, the
 * first one continues the current line (after "- "). Keys are this
 * file's own identifiers and need no quoting. */
static int yaml_object(struct buf *b, json_t *o, int indent, bool inline_first) {
        const char *key;
        json_t *v;
        bool first = true;
        int r = 0;
        json_object_foreach(o, key, v) {
                if (!(first && inline_first) && (r = yaml_indent(b, indent)) < 0)
                        return r;
                first = false;
                if ((r = buf_puts(b, key)) < 0 || (r = buf_puts(b, ":")) < 0)
                        return r;
                if (json_is_object(v) && is_block(v))
                        r = buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_object(b, v, indent + 2, false);
                else if (json_is_array(v) && is_block(v))
                        r = buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_array(b, v, indent);
                else if ((r = buf_puts(b, " ")) == 0 && (r = yaml_scalar(b, v)) == 0)
                        r = buf_puts(b, "\n");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int yaml_array(struct buf *b, json_t *a, int indent) {
        size_t i;
        json_t *v;
        int r;
        json_array_foreach(a, i, v) {
                if ((r = yaml_indent(b, indent)) < 0 || (r = buf_puts(b, "- ")) < 0)
                        return r;
                if (json_is_object(v) && is_block(v))
                        r = yaml_object(b, v, indent + 2, true);
                else if (json_is_array(v) && is_block(v))
                        r = buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_array(b, v, indent + 2);
                else if ((r = yaml_scalar(b, v)) == 0)
                        r = buf_puts(b, "\n");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The document doc (an object) as YAML, or as JSON with --json. */
static int render(const struct kaasctl *ctx, json_t *doc, struct buf *out) {
        if (ctx->json) {
                char *s = json_dumps(doc, JSON_INDENT(2));
                if (!s)
                        return -ENOMEM;
                int r = buf_puts(out, s);
                if (r == 0)
                        r = buf_puts(out, "\n");
                explicit_bzero(s, strlen(s));
                free(s);
                return r;
        }
        return yaml_object(out, doc, 0, false);
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
static int write_file_atomic(const char *path, const struct buf *doc) {
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
static int write_document(const char *path, const struct buf *doc) {
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

static bool name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > NAME_MAX_LENGTH || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

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

enum pem_kind { PEM_CERTIFICATES, PEM_PRIVATE_KEY };

static bool label_allowed(enum pem_kind kind, const char *label, size_t n, bool *ret_main) {
        static const char *const certs[] = { "CERTIFICATE" };
        static const char *const keys[] = { "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" };
        const char *const *main_labels = kind == PEM_CERTIFICATES ? certs : keys;
        size_t n_main = kind == PEM_CERTIFICATES ? 1 : 3;
        *ret_main = false;
        for (size_t i = 0; i < n_main; i++)
                if (strlen(main_labels[i]) == n && memcmp(main_labels[i], label, n) == 0) {
                        *ret_main = true;
                        return true;
                }
        /* openssl ecparam -genkey writes the curve before the key */
        return kind == PEM_PRIVATE_KEY && n == 13 && memcmp(label, "EC PARAMETERS", 13) == 0;
}

/* Checks that text is PEM of the kind: every block has one of the
 * expected labels and a base64 body (no headers: an encrypted key cannot
 * be used unattended), at least one certificate, exactly one key. Text
 * outside the blocks (openssl's comments) is allowed. NULL when fine,
 * else why not. */
static const char *pem_check(const char *text, size_t len, enum pem_kind kind) {
        const char *p = text, *end = text + len;
        size_t n_main = 0;
        const char *label = NULL;
        size_t label_len = 0, body_lines = 0;
        while (p < end) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *next = eol ? eol + 1 : end;
                size_t n = (size_t)((eol ? eol : end) - p);
                if (n > 0 && p[n - 1] == '\r')
                        n--;
                if (!label) {
                        if (n > 16 && memcmp(p, "-----BEGIN ", 11) == 0 && memcmp(p + n - 5, "-----", 5) == 0) {
                                label = p + 11;
                                label_len = n - 16;
                                bool is_main;
                                if (label_len >= 9 && memmem(label, label_len, "ENCRYPTED", 9))
                                        return "the key is encrypted; kube-apiserver needs it unencrypted";
                                if (!label_allowed(kind, label, label_len, &is_main))
                                        return kind == PEM_CERTIFICATES ? "it holds a PEM block that is not a certificate"
                                                                        : "it holds a PEM block that is not a private key";
                                n_main += is_main;
                                body_lines = 0;
                        }
                } else if (n >= 9 && memcmp(p, "-----END ", 9) == 0) {
                        if (n != label_len + 14 || memcmp(p + 9, label, label_len) != 0 ||
                            memcmp(p + n - 5, "-----", 5) != 0)
                                return "a PEM block ends with the wrong END line";
                        if (body_lines == 0)
                                return "a PEM block is empty";
                        label = NULL;
                } else {
                        for (size_t i = 0; i < n; i++) {
                                char c = p[i];
                                if (c == ':')
                                        return "a PEM block has headers (an encrypted key?)";
                                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                      c == '+' || c == '/' || c == '=' || c == ' ' || c == '\t'))
                                        return "a PEM block holds something other than base64";
                        }
                        body_lines += n > 0;
                }
                p = next;
        }
        if (label)
                return "a PEM block has no END line";
        if (n_main == 0)
                return kind == PEM_CERTIFICATES ? "no PEM certificate in it" : "no PEM private key in it";
        if (kind == PEM_PRIVATE_KEY && n_main > 1)
                return "it holds more than one private key";
        return NULL;
}

/* Reads a PEM file named by option and adds its base64 to out. Returns an
 * exit code. */
static int load_pem_base64(const char *option, const char *path, enum pem_kind kind, struct buf *out) {
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
        BUF_AUTO struct buf text = { 0 };
        int r = buf_reserve(&text, (size_t)st.st_size + 1);
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
                        r = buf_reserve(&text, text.cap);
        }
        close(fd);
        if (r < 0) {
                kaasctl_log("--%s %s: %s", option, path, strerror(-r));
                return KAASCTL_EXIT_LOCAL;
        }
        const char *why = pem_check(text.p, text.len, kind);
        if (why) {
                kaasctl_log("--%s %s: not a usable PEM %s file: %s", option, path,
                            kind == PEM_CERTIFICATES ? "certificate" : "private key", why);
                return KAASCTL_EXIT_USAGE;
        }
        if (base64_encode((const unsigned char *)text.p, text.len, out) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return 0;
}

/* Sets key of o to the base64 of a PEM file. Returns an exit code. */
static int set_pem(json_t *o, const char *key, const char *option, const char *path, enum pem_kind kind) {
        BUF_AUTO struct buf b64 = { 0 };
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

/* The Config skeleton: one cluster, one user, one context using both. */
static json_t *kubeconfig_new(const char *cluster_name, json_t *cluster, const char *user_name, json_t *user) {
        return json_pack("{s:s, s:s, s:[{s:s, s:o}], s:[{s:s, s:o}], s:[{s:s, s:{s:s, s:s}}], s:s}",
                         "apiVersion", "v1", "kind", "Config",
                         "clusters", "name", cluster_name, "cluster", cluster,
                         "users", "name", user_name, "user", user,
                         "contexts", "name", cluster_name, "context", "cluster", cluster_name, "user", user_name,
                         "current-context", cluster_name);
}

static int emit(const struct kaasctl *ctx, json_t *doc, const char *path) {
        BUF_AUTO struct buf out = { 0 };
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
        SECRET_JSON_AUTO json_t *doc = cluster && user ? kubeconfig_new("kaas-webhook", cluster, "kube-apiserver", user) : NULL;
        if (!doc) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        if ((r = set_pem(cluster, "certificate-authority-data", "ca", ca, PEM_CERTIFICATES)) != 0)
                return r;
        if (cert && ((r = set_pem(user, "client-certificate-data", "client-cert", cert, PEM_CERTIFICATES)) != 0 ||
                     (r = set_pem(user, "client-key-data", "client-key", key, PEM_PRIVATE_KEY)) != 0))
                return r;
        return emit(ctx, doc, kaasctl_option(ctx, "output"));
}

/* ------------------------------------------------- rbac cluster-admin */

static int cmd_rbac_cluster_admin(struct kaasctl *ctx, int argc, char **argv) {
        const char *cluster = kaasctl_option(ctx, "cluster"), *ids = kaasctl_option(ctx, "role-id");
        if (!ids)
                return kaasctl_usage_error("rbac cluster-admin needs --role-id: the Keystone ID of the cluster's admin "
                                           "role (kaasctl user show USER lists role IDs)");
        if (cluster && !name_valid(cluster))
                return kaasctl_usage_error("invalid --cluster '%s': letters, digits, '-', '_' and '.' only", cluster);
        KAASCTL_JSON_AUTO json_t *subjects = json_array();
        if (!subjects) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        /* a comma-separated list, for clusters with several admin roles */
        for (const char *p = ids; *p;) {
                size_t n = strcspn(p, ",");
                char id[NAME_MAX_LENGTH + 1];
                if (n == 0 || n > NAME_MAX_LENGTH)
                        return kaasctl_usage_error("invalid --role-id '%s': role IDs separated by commas", ids);
                snprintf(id, sizeof(id), "%.*s", (int)n, p);
                if (!name_valid(id))
                        return kaasctl_usage_error("invalid role ID '%s'", id);
                bool dup = false;
                size_t i;
                json_t *s;
                json_array_foreach(subjects, i, s)
                        dup = dup || strcmp(json_string_value(json_object_get(s, "name")), id) == 0;
                if (!dup && json_array_append_new(subjects, json_pack("{s:s, s:s, s:s}", "apiGroup",
                                                                      "rbac.authorization.k8s.io", "kind", "Group",
                                                                      "name", id)) < 0) {
                        kaasctl_log("out of memory");
                        return KAASCTL_EXIT_LOCAL;
                }
                p += n;
                if (*p == ',' && !*++p)
                        return kaasctl_usage_error("invalid --role-id '%s': trailing comma", ids);
        }
        char name[NAME_MAX_LENGTH + 64];
        snprintf(name, sizeof(name), "kaas:cluster-admin%s%s", cluster ? ":" : "", cluster ? cluster : "");
        KAASCTL_JSON_AUTO json_t *doc = json_pack(
                "{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s}, s:O}", "apiVersion", "rbac.authorization.k8s.io/v1",
                "kind", "ClusterRoleBinding", "metadata", "name", name, "labels", "app.kubernetes.io/managed-by",
                "kaasctl", "roleRef", "apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole", "name",
                "cluster-admin", "subjects", subjects);
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
        if (!name_valid(cluster))
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
        char user_name[NAME_MAX_LENGTH + 8];
        snprintf(user_name, sizeof(user_name), "kaas-%s", cluster);
        SECRET_JSON_AUTO json_t *doc = cl && user ? kubeconfig_new(cluster, cl, user_name, user) : NULL;
        if (!doc) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        /* the CA first: a bad file should fail before a token is made */
        if (ca && (r = set_pem(cl, "certificate-authority-data", "ca", ca, PEM_CERTIFICATES)) != 0)
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
