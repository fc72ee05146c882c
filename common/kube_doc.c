/* See kube_doc.h. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kube_doc.h"

/* ------------------------------------------------------------- buffer */

void kube_buf_wipe(struct kube_buf *b) {
        if (b->p) {
                explicit_bzero(b->p, b->cap);
                free(b->p);
        }
        *b = (struct kube_buf){ 0 };
}


int kube_buf_reserve(struct kube_buf *b, size_t more) {
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

int kube_buf_put(struct kube_buf *b, const char *s, size_t n) {
        int r = kube_buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
        return 0;
}

int kube_buf_puts(struct kube_buf *b, const char *s) {
        return kube_buf_put(b, s, strlen(s));
}

static int buf_printf(struct kube_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int buf_printf(struct kube_buf *b, const char *fmt, ...) {
        char small[64];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        /* used for escapes and numbers only */
        if (n < 0 || (size_t)n >= sizeof(small))
                return -EINVAL;
        return kube_buf_put(b, small, (size_t)n);
}

/* ------------------------------------------------------------- base64 */

int kube_base64(const unsigned char *in, size_t len, struct kube_buf *out) {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int r = kube_buf_reserve(out, (len + 2) / 3 * 4);
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
static int yaml_string(struct kube_buf *b, const char *s, size_t len) {
        int r = kube_buf_puts(b, "\"");
        for (size_t i = 0; r == 0 && i < len;) {
                unsigned char c = (unsigned char)s[i];
                if (c == '"' || c == '\\') {
                        char esc[2] = { '\\', (char)c };
                        r = kube_buf_put(b, esc, 2);
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        r = buf_printf(b, "\\x%02x", c);
                        i++;
                } else if (c < 0x80) {
                        r = kube_buf_put(b, (const char *)&c, 1);
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
        return r < 0 ? r : kube_buf_puts(b, "\"");
}

static int yaml_indent(struct kube_buf *b, int indent) {
        static const char spaces[] = "                                        ";
        if (indent > (int)sizeof(spaces) - 1)
                return -EINVAL;
        return kube_buf_put(b, spaces, (size_t)indent);
}

static int yaml_scalar(struct kube_buf *b, json_t *v) {
        switch (json_typeof(v)) {
        case JSON_STRING:
                return yaml_string(b, json_string_value(v), json_string_length(v));
        case JSON_INTEGER:
                return buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        case JSON_TRUE:
                return kube_buf_puts(b, "true");
        case JSON_FALSE:
                return kube_buf_puts(b, "false");
        case JSON_OBJECT:
                return kube_buf_puts(b, "{}");
        case JSON_ARRAY:
                return kube_buf_puts(b, "[]");
        default:
                return kube_buf_puts(b, "null");
        }
}

static bool is_block(json_t *v) {
        return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

static int yaml_array(struct kube_buf *b, json_t *a, int indent);

/* An object's members, one per line at indent; with inline_first, the
 * first one continues the current line (after "- "). Keys are this
 * file's own identifiers and need no quoting. */
static int yaml_object(struct kube_buf *b, json_t *o, int indent, bool inline_first) {
        const char *key;
        json_t *v;
        bool first = true;
        int r = 0;
        json_object_foreach(o, key, v) {
                if (!(first && inline_first) && (r = yaml_indent(b, indent)) < 0)
                        return r;
                first = false;
                if ((r = kube_buf_puts(b, key)) < 0 || (r = kube_buf_puts(b, ":")) < 0)
                        return r;
                if (json_is_object(v) && is_block(v))
                        r = kube_buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_object(b, v, indent + 2, false);
                else if (json_is_array(v) && is_block(v))
                        r = kube_buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_array(b, v, indent);
                else if ((r = kube_buf_puts(b, " ")) == 0 && (r = yaml_scalar(b, v)) == 0)
                        r = kube_buf_puts(b, "\n");
                if (r < 0)
                        return r;
        }
        return 0;
}

static int yaml_array(struct kube_buf *b, json_t *a, int indent) {
        size_t i;
        json_t *v;
        int r;
        json_array_foreach(a, i, v) {
                if ((r = yaml_indent(b, indent)) < 0 || (r = kube_buf_puts(b, "- ")) < 0)
                        return r;
                if (json_is_object(v) && is_block(v))
                        r = yaml_object(b, v, indent + 2, true);
                else if (json_is_array(v) && is_block(v))
                        r = kube_buf_puts(b, "\n") < 0 ? -ENOMEM : yaml_array(b, v, indent + 2);
                else if ((r = yaml_scalar(b, v)) == 0)
                        r = kube_buf_puts(b, "\n");
                if (r < 0)
                        return r;
        }
        return 0;
}

int kube_yaml(json_t *doc, struct kube_buf *out) {
        return yaml_object(out, doc, 0, false);
}

/* ----------------------------------------------------------------- PEM */

static bool label_allowed(enum kube_pem_kind kind, const char *label, size_t n, bool *ret_main) {
        static const char *const certs[] = { "CERTIFICATE" };
        static const char *const keys[] = { "PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY" };
        const char *const *main_labels = kind == KUBE_PEM_CERTIFICATES ? certs : keys;
        size_t n_main = kind == KUBE_PEM_CERTIFICATES ? 1 : 3;
        *ret_main = false;
        for (size_t i = 0; i < n_main; i++)
                if (strlen(main_labels[i]) == n && memcmp(main_labels[i], label, n) == 0) {
                        *ret_main = true;
                        return true;
                }
        /* openssl ecparam -genkey writes the curve before the key */
        return kind == KUBE_PEM_PRIVATE_KEY && n == 13 && memcmp(label, "EC PARAMETERS", 13) == 0;
}

/* Checks that text is PEM of the kind: every block has one of the
 * expected labels and a base64 body (no headers: an encrypted key cannot
 * be used unattended), at least one certificate, exactly one key. Text
 * outside the blocks (openssl's comments) is allowed. NULL when fine,
 * else why not. */
const char *kube_pem_check(const char *text, size_t len, enum kube_pem_kind kind) {
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
                                        return kind == KUBE_PEM_CERTIFICATES ? "it holds a PEM block that is not a certificate"
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
                return kind == KUBE_PEM_CERTIFICATES ? "no PEM certificate in it" : "no PEM private key in it";
        if (kind == KUBE_PEM_PRIVATE_KEY && n_main > 1)
                return "it holds more than one private key";
        return NULL;
}

/* ---------------------------------------------------------- documents */

bool kube_name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > KUBE_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

/* The Config skeleton: one cluster, one user, one context using both. */
json_t *kube_kubeconfig_new(const char *cluster_name, json_t *cluster, const char *user_name, json_t *user) {
        return json_pack("{s:s, s:s, s:[{s:s, s:o}], s:[{s:s, s:o}], s:[{s:s, s:{s:s, s:s}}], s:s}",
                         "apiVersion", "v1", "kind", "Config",
                         "clusters", "name", cluster_name, "cluster", cluster,
                         "users", "name", user_name, "user", user,
                         "contexts", "name", cluster_name, "context", "cluster", cluster_name, "user", user_name,
                         "current-context", cluster_name);
}

json_t *kube_cluster_admin_binding(const char *cluster, const char *const *role_ids, size_t n_role_ids,
                                   const char *managed_by) {
        json_t *subjects = json_array();
        if (!subjects)
                return NULL;
        for (size_t i = 0; i < n_role_ids; i++) {
                bool dup = false;
                for (size_t k = 0; k < i; k++)
                        dup = dup || strcmp(role_ids[k], role_ids[i]) == 0;
                if (!dup && json_array_append_new(subjects, json_pack("{s:s, s:s, s:s}", "apiGroup",
                                                                      "rbac.authorization.k8s.io", "kind", "Group",
                                                                      "name", role_ids[i])) < 0) {
                        json_decref(subjects);
                        return NULL;
                }
        }
        char name[KUBE_NAME_MAX + 64];
        snprintf(name, sizeof(name), "kaas:cluster-admin%s%s", cluster ? ":" : "", cluster ? cluster : "");
        return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:s}, s:o}", "apiVersion",
                         "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding", "metadata", "name", name,
                         "labels", "app.kubernetes.io/managed-by", managed_by, "roleRef", "apiGroup",
                         "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", "cluster-admin", "subjects",
                         subjects);
}
