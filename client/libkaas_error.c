/* libkaas: error reporting — struct kaas_error for varlink error replies,
 * with a readable message built from the error's name and parameters, and
 * kaas_strerror() for the library's own return values. Messages are for
 * people; programs decide on the error name and the return value. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libkaas_internal.h"

#define MESSAGE_MAX 512

KAAS_PUBLIC void kaas_error_clear(struct kaas_error *e) {
        if (!e)
                return;
        free(e->name);
        json_decref(e->parameters);
        free(e->message);
        *e = (struct kaas_error)KAAS_ERROR_INIT;
}

KAAS_PUBLIC bool kaas_error_is(const struct kaas_error *e, const char *name) {
        return e && e->name && strcmp(e->name, name) == 0;
}

/* Errors every varlink service or every kaasd interface can return, with
 * the parameter worth showing. Interface-specific errors read well enough
 * in the generic form "io.kaas.Token.NotFound (token_id: ...)". */
static const struct {
        const char *name;
        const char *parameter;
        const char *with;     /* format taking the parameter */
        const char *without;  /* when the parameter is missing */
} known_errors[] = {
        { "org.varlink.service.MethodNotFound", "method", "kaasd does not know the method %s", "kaasd does not know the method" },
        { "org.varlink.service.InterfaceNotFound", "interface", "kaasd does not provide the interface %s", "kaasd does not provide the interface" },
        { "org.varlink.service.MethodNotImplemented", "method", "kaasd does not implement %s", "kaasd does not implement the method" },
        { "org.varlink.service.InvalidParameter", "parameter", "invalid parameter '%s'", "invalid parameters" },
        { "org.varlink.service.PermissionDenied", NULL, NULL, "permission denied" },
        { "org.varlink.service.ExpectedMore", NULL, NULL, "the method must be called with 'more'" },
        { "io.kaas.ProtocolError", "reason", "kaasd rejected the message: %s", "kaasd rejected the message" },
        { "io.kaas.MessageTooLarge", "limit", "the call exceeds kaasd's message size limit of %s bytes", "the call exceeds kaasd's message size limit" },
        { "io.kaas.ConnectionLimit", "reason", "kaasd refused the connection: %s", "kaasd refused the connection" },
        { "io.kaas.InternalError", "reason", "kaasd failed: %s", "kaasd failed" },
};

/* A bounded string builder: output is truncated, never overrun. */
struct text {
        char *buf;
        size_t size, len;
};

static void text_add(struct text *t, const char *s, size_t n) {
        for (size_t i = 0; i < n && t->len + 1 < t->size; i++) {
                unsigned char ch = (unsigned char)s[i];
                /* what kaasd says ends up on terminals: no control codes,
                 * C1 ones neither (U+0080..U+009F: 0xc2 0x80..0x9f in
                 * UTF-8, which a terminal takes as ESC sequences) */
                if (ch == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0x9f) {
                        i++;
                        ch = 0x7f;
                }
                t->buf[t->len++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
        }
        t->buf[t->len] = '\0';
}

static void text_puts(struct text *t, const char *s) {
        text_add(t, s, strlen(s));
}

/* Scalars plainly, anything else as compact JSON. */
static void text_value(struct text *t, const json_t *v) {
        char num[64];
        switch (json_typeof(v)) {
        case JSON_STRING:
                text_add(t, json_string_value(v), json_string_length(v));
                return;
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                text_puts(t, num);
                return;
        default: {
                char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                if (s)
                        text_puts(t, s);
                free(s);
                return;
        }
        }
}

static char *error_message(const char *name, json_t *parameters) {
        char buf[MESSAGE_MAX];
        struct text t = { buf, sizeof(buf), 0 };
        buf[0] = '\0';
        for (size_t i = 0; i < sizeof(known_errors) / sizeof(known_errors[0]); i++) {
                if (strcmp(name, known_errors[i].name) != 0)
                        continue;
                json_t *v = known_errors[i].parameter ? json_object_get(parameters, known_errors[i].parameter) : NULL;
                if (!v || !known_errors[i].with) {
                        text_puts(&t, known_errors[i].without);
                        return strdup(buf);
                }
                const char *fmt = known_errors[i].with;
                const char *at = strstr(fmt, "%s");
                text_add(&t, fmt, (size_t)(at - fmt));
                text_value(&t, v);
                text_puts(&t, at + 2);
                return strdup(buf);
        }
        text_puts(&t, name);
        json_t *reason = json_object_get(parameters, "reason");
        if (json_is_string(reason) && json_object_size(parameters) == 1) {
                text_puts(&t, ": ");
                text_value(&t, reason);
                return strdup(buf);
        }
        const char *key;
        json_t *v;
        bool first = true;
        json_object_foreach(parameters, key, v) {
                text_puts(&t, first ? " (" : ", ");
                text_puts(&t, key);
                text_puts(&t, ": ");
                text_value(&t, v);
                first = false;
        }
        if (!first)
                text_puts(&t, ")");
        return strdup(buf);
}

int libkaas_error_set(struct kaas_error *e, const char *name, json_t *parameters) {
        struct kaas_error n = {
                .name = strdup(name),
                .parameters = json_incref(parameters),
                .message = error_message(name, parameters),
        };
        if (!n.name || !n.message) {
                kaas_error_clear(&n);
                return -ENOMEM;
        }
        kaas_error_clear(e);
        *e = n;
        return 0;
}

static const struct {
        int code;
        const char *text;       /* kaas_strerror() */
        const char *with_path;  /* kaas_strerror_path(); NULL = same as text */
} messages[] = {
        { 0, "success", NULL },
        { KAAS_ERROR_REMOTE, "kaasd answered with an error", NULL },
        { -ENOENT, "kaasd is not running (no socket)", "kaasd is not running (no socket at %s)" },
        { -ECONNREFUSED, "kaasd is not running (connection refused)", "kaasd is not running (connection refused at %s)" },
        { -EACCES, "permission denied on the kaasd socket", "permission denied on the kaasd socket %s" },
        { -ETIMEDOUT, "kaasd did not answer in time", "kaasd did not answer in time on %s" },
        { -ECONNRESET, "kaasd closed the connection", "kaasd closed the connection on %s" },
        { -EPIPE, "kaasd closed the connection", "kaasd closed the connection on %s" },
        { -EPROTO, "malformed reply from kaasd", NULL },
        { -EMSGSIZE, "message exceeds the maximum message size", NULL },
        { -EPERM, "kaasd socket or server is not owned by the required user",
          "refusing to talk to %s: the socket or the server is not owned by the required user" },
        { -ENAMETOOLONG, "socket path too long", "socket path too long: %s" },
        { -ENOTDIR, "socket path is not valid", "socket path is not valid: %s" },
        { -EBUSY, "calls on this connection still await replies", NULL },
        { -ENOMSG, "no call awaits a reply", NULL },
        { -EINVAL, "invalid argument", NULL },
        { -ENOMEM, "out of memory", NULL },
};

KAAS_PUBLIC const char *kaas_strerror(int r) {
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
                if (messages[i].code == r)
                        return messages[i].text;
        /* strerrordesc_np is thread-safe, unlike strerror */
        const char *s = r < 0 ? strerrordesc_np(-r) : NULL;
        return s ? s : "unknown error";
}

KAAS_PUBLIC const char *kaas_strerror_path(int r, const char *socket_path, char *buf, size_t size) {
        if (size == 0)
                return buf;
        for (size_t i = 0; i < sizeof(messages) / sizeof(messages[0]); i++)
                if (messages[i].code == r && messages[i].with_path) {
                        const char *fmt = messages[i].with_path;
                        const char *at = strstr(fmt, "%s");
                        struct text t = { buf, size, 0 };
                        buf[0] = '\0';
                        text_add(&t, fmt, (size_t)(at - fmt));
                        text_puts(&t, kaas_socket_path(socket_path));
                        text_puts(&t, at + 2);
                        return buf;
                }
        snprintf(buf, size, "%s", kaas_strerror(r));
        return buf;
}
