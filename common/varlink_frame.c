/* varlink NUL framing over byte streams; see varlink_frame.h.
 * Messages carry secrets (tokens, passwords), so every byte the reader has
 * handed out and every byte the writer has sent is wiped at once, and
 * buffers are wiped before they are freed or moved. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "decimal.h"
#include "json_values.h"
#include "varlink_frame.h"
#include "varlink_message.h"

/* realloc that leaves no copy of the old contents in freed memory */
static char *secure_realloc(char *old, size_t old_cap, size_t used, size_t cap) {
        char *b = malloc(cap);
        if (!b)
                return NULL;
        if (old) {
                memcpy(b, old, used);
                explicit_bzero(old, old_cap);
                free(old);
        }
        return b;
}

struct vl_reader {
        char *buf;
        size_t len;     /* bytes buffered */
        size_t start;   /* first byte not yet handed out */
        size_t scanned; /* bytes after start already known to hold no NUL */
        size_t tail;    /* bytes after the last NUL buffered: the message in progress */
        size_t cap;
        size_t max_message;
        size_t max_values;  /* 0: unlimited */
};

struct vl_writer {
        char *buf;
        size_t len;
        size_t start;
        size_t cap;
        size_t max_buffered;
};

int vl_reader_new(size_t max_message, struct vl_reader **ret) {
        struct vl_reader *r = calloc(1, sizeof(*r));
        if (!r)
                return -ENOMEM;
        r->max_message = max_message ? max_message : VL_DEFAULT_MAX_MESSAGE;
        *ret = r;
        return 0;
}

struct vl_reader *vl_reader_free(struct vl_reader *r) {
        if (!r)
                return NULL;
        if (r->buf)
                explicit_bzero(r->buf, r->cap);
        free(r->buf);
        free(r);
        return NULL;
}

/* Drops consumed bytes and makes room for at least want more bytes. */
static int reader_reserve(struct vl_reader *r, size_t want) {
        if (r->start > 0) {
                size_t keep = r->len - r->start;
                memmove(r->buf, r->buf + r->start, keep);
                explicit_bzero(r->buf + keep, r->len - keep);
                r->len = keep;
                r->start = 0;
        }
        if (r->cap - r->len >= want)
                return 0;
        size_t cap = r->cap ? r->cap : 4096;
        while (cap - r->len < want) {
                if (cap > SIZE_MAX / 2)
                        return -ENOMEM;
                cap *= 2;
        }
        char *b = secure_realloc(r->buf, r->cap, r->len, cap);
        if (!b)
                return -ENOMEM;
        r->buf = b;
        r->cap = cap;
        return 0;
}

/* Accounts for n bytes just appended: the unterminated tail may hold at
 * most max_message bytes. Only the new bytes are scanned, so a peer that
 * sends a byte at a time costs linear, not quadratic, work. Complete
 * messages already buffered are checked one by one in vl_reader_next. */
static int reader_account(struct vl_reader *r, size_t n) {
        const char *fresh = r->buf + r->len - n;
        const char *nul = n ? memrchr(fresh, '\0', n) : NULL;
        r->tail = nul ? (size_t)(r->buf + r->len - nul - 1) : r->tail + n;
        return r->tail > r->max_message ? -EMSGSIZE : 0;
}

int vl_reader_feed(struct vl_reader *r, const void *data, size_t n) {
        if (n == 0)
                return 0;
        int k = reader_reserve(r, n);
        if (k < 0)
                return k;
        memcpy(r->buf + r->len, data, n);
        r->len += n;
        return reader_account(r, n);
}

ssize_t vl_reader_fill(struct vl_reader *r, int fd) {
        /* Read at most what could still complete a legal message, so one
         * read never grows the buffer far past the limit. */
        int k = reader_reserve(r, VL_READ_CHUNK);
        if (k < 0)
                return k;
        ssize_t n = read(fd, r->buf + r->len, r->cap - r->len);
        if (n < 0)
                return errno == EINTR ? -EAGAIN : -errno;
        r->len += (size_t)n;
        if (n > 0 && (k = reader_account(r, (size_t)n)) < 0)
                return k;
        return n;
}

/* ---- a fast path for parsing the common messages
 *
 * jansson's parser reads a character at a time through a stream and costs
 * ~10 us for a 700-byte reply, more than the round trip it rides on. This
 * one takes only a plain subset - printable ASCII strings without escapes,
 * integers of up to 18 digits, true, false, null, no duplicate keys, no
 * deep nesting - and builds the same tree jansson would. On anything else
 * it gives up and the message goes to json_loadb(), which decides: this
 * path never rejects, so it cannot reject what jansson accepts, and what it
 * accepts jansson accepts the same way. */

#define FAST_MAX_DEPTH 32

struct fast_parse {
        const char *p, *end;
        unsigned depth;
};

static void fast_skip_space(struct fast_parse *f) {
        while (f->p < f->end && (*f->p == ' ' || *f->p == '\n' || *f->p == '\t' || *f->p == '\r'))
                f->p++;
}

/* A plain string at f->p (which holds '"'): its bytes, or false. */
static bool fast_string(struct fast_parse *f, const char **ret, size_t *ret_len) {
        const char *s = ++f->p;
        while (f->p < f->end) {
                unsigned char c = (unsigned char)*f->p;
                if (c == '"') {
                        *ret = s;
                        *ret_len = (size_t)(f->p - s);
                        f->p++;
                        return true;
                }
                if (c < 0x20 || c >= 0x7f || c == '\\')
                        return false;  /* escapes, control bytes, UTF-8: jansson */
                f->p++;
        }
        return false;
}

static json_t *fast_value(struct fast_parse *f);

static json_t *fast_object(struct fast_parse *f) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        f->p++;
        fast_skip_space(f);
        if (f->p < f->end && *f->p == '}') {
                f->p++;
                return o;
        }
        for (;;) {
                const char *key;
                size_t key_len;
                json_t *v;
                if (f->p >= f->end || *f->p != '"' || !fast_string(f, &key, &key_len))
                        goto fail;
                fast_skip_space(f);
                if (f->p >= f->end || *f->p != ':')
                        goto fail;
                f->p++;
                fast_skip_space(f);
                /* a repeated key is an error jansson words */
                if (json_object_getn(o, key, key_len) || !(v = fast_value(f)))
                        goto fail;
                if (json_object_setn_new_nocheck(o, key, key_len, v) < 0)
                        goto fail;
                fast_skip_space(f);
                if (f->p < f->end && *f->p == ',') {
                        f->p++;
                        fast_skip_space(f);
                        continue;
                }
                if (f->p < f->end && *f->p == '}') {
                        f->p++;
                        return o;
                }
                goto fail;
        }
fail:
        vl_json_wipe(o);
        json_decref(o);
        return NULL;
}

static json_t *fast_array(struct fast_parse *f) {
        json_t *a = json_array();
        if (!a)
                return NULL;
        f->p++;
        fast_skip_space(f);
        if (f->p < f->end && *f->p == ']') {
                f->p++;
                return a;
        }
        for (;;) {
                json_t *v = fast_value(f);
                if (!v || json_array_append_new(a, v) < 0)
                        goto fail;
                fast_skip_space(f);
                if (f->p < f->end && *f->p == ',') {
                        f->p++;
                        fast_skip_space(f);
                        continue;
                }
                if (f->p < f->end && *f->p == ']') {
                        f->p++;
                        return a;
                }
                goto fail;
        }
fail:
        vl_json_wipe(a);
        json_decref(a);
        return NULL;
}

static json_t *fast_integer(struct fast_parse *f) {
        bool negative = *f->p == '-';
        if (negative)
                f->p++;
        uint64_t v;
        /* no digits, a leading zero, more than 18 digits (might not fit),
         * a fraction or an exponent: jansson says */
        if (!decimal_parse(&f->p, f->end, UINT64_C(999999999999999999), &v) ||
            (f->p < f->end && (*f->p == '.' || *f->p == 'e' || *f->p == 'E')))
                return NULL;
        return json_integer(negative ? -(json_int_t)v : (json_int_t)v);
}

static bool fast_word(struct fast_parse *f, const char *word, size_t len) {
        if ((size_t)(f->end - f->p) < len || memcmp(f->p, word, len) != 0)
                return false;
        f->p += len;
        return true;  /* "truex": the caller finds no separator after it */
}

static json_t *fast_value(struct fast_parse *f) {
        if (f->p >= f->end)
                return NULL;
        json_t *v = NULL;
        switch (*f->p) {
        case '{':
        case '[':
                if (f->depth >= FAST_MAX_DEPTH)
                        return NULL;
                f->depth++;
                v = *f->p == '{' ? fast_object(f) : fast_array(f);
                f->depth--;
                return v;
        case '"': {
                const char *s;
                size_t len;
                return fast_string(f, &s, &len) ? json_stringn_nocheck(s, len) : NULL;
        }
        case 't':
                return fast_word(f, "true", 4) ? json_true() : NULL;
        case 'f':
                return fast_word(f, "false", 5) ? json_false() : NULL;
        case 'n':
                return fast_word(f, "null", 4) ? json_null() : NULL;
        default:
                return *f->p == '-' || (*f->p >= '0' && *f->p <= '9') ? fast_integer(f) : NULL;
        }
}

/* The object the text holds, as json_loadb(JSON_REJECT_DUPLICATES) would
 * return it, or NULL: see above. */
static json_t *fast_parse_object(const char *text, size_t len) {
        struct fast_parse f = { .p = text, .end = text + len };
        fast_skip_space(&f);
        if (f.p >= f.end || *f.p != '{')
                return NULL;
        json_t *v = fast_value(&f);
        if (!v)
                return NULL;
        fast_skip_space(&f);
        if (f.p != f.end) {
                vl_json_wipe(v);
                json_decref(v);
                return NULL;
        }
        return v;
}

void vl_reader_set_max_values(struct vl_reader *r, size_t max_values) {
        r->max_values = max_values;
}

int vl_reader_next(struct vl_reader *r, json_t **ret_msg) {
        return vl_reader_next_or_take(r, NULL, NULL, ret_msg);
}

int vl_reader_next_or_take(struct vl_reader *r, vl_take_fn take, void *userdata, json_t **ret_msg) {
        size_t pending = r->len - r->start;
        if (r->scanned >= pending) {
                r->scanned = pending;
                return 0;
        }
        const char *from = r->buf + r->start + r->scanned;
        const char *nul = memchr(from, '\0', pending - r->scanned);
        if (!nul) {
                r->scanned = pending;
                return 0;
        }
        const char *msg = r->buf + r->start;
        size_t len = (size_t)(nul - msg);
        r->start += len + 1;
        r->scanned = 0;
        if (len > r->max_message)
                return -EMSGSIZE;
        if (r->max_values && json_values_exceed(msg, len, r->max_values)) {
                explicit_bzero(r->buf + (msg - r->buf), len + 1);
                return -E2BIG;
        }

        if (take && take(msg, len, userdata)) {
                explicit_bzero(r->buf + (msg - r->buf), len + 1);
                return 2;
        }

        /* jansson rejects invalid UTF-8 and, with DISABLE_EOF_CHECK unset,
         * trailing garbage after the value. */
        json_t *v = fast_parse_object(msg, len);
        if (!v) {
                json_error_t error;
                v = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &error);
                explicit_bzero(&error, sizeof(error));  /* holds a copy of the text */
        }
        explicit_bzero(r->buf + (msg - r->buf), len + 1);
        if (!v)
                return -EBADMSG;
        if (!json_is_object(v)) {
                json_decref(v);
                return -EBADMSG;
        }
        *ret_msg = v;
        return 1;
}

bool vl_reader_has_partial(const struct vl_reader *r) {
        /* complete messages not yet taken (a server applying back-pressure)
         * are no message in progress */
        return r->tail > 0;
}

bool vl_reader_has_message(const struct vl_reader *r) {
        return r->len - r->start > r->tail;  /* a NUL before the message in progress */
}

size_t vl_reader_buffered(const struct vl_reader *r) {
        return r->len - r->start;
}

int vl_writer_new(size_t max_buffered, struct vl_writer **ret) {
        struct vl_writer *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->max_buffered = max_buffered;
        *ret = w;
        return 0;
}

struct vl_writer *vl_writer_free(struct vl_writer *w) {
        if (!w)
                return NULL;
        if (w->buf)
                explicit_bzero(w->buf, w->cap);
        free(w->buf);
        free(w);
        return NULL;
}

static int writer_append(struct vl_writer *w, const char *data, size_t n) {
        size_t pending = w->len - w->start;
        if (w->max_buffered && pending + n > w->max_buffered)
                return -ENOBUFS;
        if (w->start > 0 && w->cap - w->len < n) {
                memmove(w->buf, w->buf + w->start, pending);
                explicit_bzero(w->buf + pending, w->len - pending);
                w->len = pending;
                w->start = 0;
        }
        if (w->cap - w->len < n) {
                size_t cap = w->cap ? w->cap : 4096;
                while (cap - w->len < n) {
                        if (cap > SIZE_MAX / 2)
                                return -ENOMEM;
                        cap *= 2;
                }
                char *b = secure_realloc(w->buf, w->cap, w->len, cap);
                if (!b)
                        return -ENOMEM;
                w->buf = b;
                w->cap = cap;
        }
        memcpy(w->buf + w->len, data, n);
        w->len += n;
        return 0;
}

/* ---- compact JSON straight into the writer's buffer
 *
 * The same text as json_dumps(JSON_COMPACT) (tests/unit/test_varlink_frame
 * compares them), without jansson's per-character callback: runs of plain
 * bytes are copied at once. Strings in a json_t are valid UTF-8 (jansson
 * checks them when they are made), so only quotes, backslashes and control
 * characters are escaped, as jansson does. */

/* writer_append() with the common case - room in the buffer - inline */
static inline int writer_put(struct vl_writer *w, const char *data, size_t n) {
        if (n > 0 && w->cap - w->len >= n && (!w->max_buffered || w->len - w->start + n <= w->max_buffered)) {
                memcpy(w->buf + w->len, data, n);
                w->len += n;
                return 0;
        }
        return writer_append(w, data, n);
}

#define DUMP_MAX_DEPTH 2048  /* jansson's parser stops at the same depth */

static int dump_string(struct vl_writer *w, const char *s, size_t len) {
        static const char hex[] = "0123456789ABCDEF";
        int r;
        if ((r = writer_put(w, "\"", 1)) < 0)
                return r;
        size_t run = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)s[i];
                if (ch >= 0x20 && ch != '"' && ch != '\\')
                        continue;
                if (i > run && (r = writer_put(w, s + run, i - run)) < 0)
                        return r;
                run = i + 1;
                char esc[6] = { '\\', 0 };
                size_t n = 2;
                switch (ch) {
                case '"': esc[1] = '"'; break;
                case '\\': esc[1] = '\\'; break;
                case '\b': esc[1] = 'b'; break;
                case '\f': esc[1] = 'f'; break;
                case '\n': esc[1] = 'n'; break;
                case '\r': esc[1] = 'r'; break;
                case '\t': esc[1] = 't'; break;
                default:
                        memcpy(esc + 1, "u00", 3);
                        esc[4] = hex[ch >> 4];
                        esc[5] = hex[ch & 15];
                        n = 6;
                }
                if ((r = writer_put(w, esc, n)) < 0)
                        return r;
        }
        if (len > run && (r = writer_put(w, s + run, len - run)) < 0)
                return r;
        return writer_put(w, "\"", 1);
}

static int dump_value(struct vl_writer *w, const json_t *v, unsigned depth) {
        char num[32];
        int r;
        if (depth > DUMP_MAX_DEPTH)
                return -ELOOP;
        switch (json_typeof(v)) {
        case JSON_OBJECT: {
                if ((r = writer_put(w, "{", 1)) < 0)
                        return r;
                bool first = true;
                /* insertion order, as json_dumps() without JSON_SORT_KEYS */
                for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
                        if ((!first && (r = writer_put(w, ",", 1)) < 0) ||
                            (r = dump_string(w, json_object_iter_key(it), json_object_iter_key_len(it))) < 0 ||
                            (r = writer_put(w, ":", 1)) < 0 ||
                            (r = dump_value(w, json_object_iter_value(it), depth + 1)) < 0)
                                return r;
                        first = false;
                }
                return writer_put(w, "}", 1);
        }
        case JSON_ARRAY: {
                if ((r = writer_put(w, "[", 1)) < 0)
                        return r;
                size_t n = json_array_size(v);
                for (size_t i = 0; i < n; i++)
                        if ((i > 0 && (r = writer_put(w, ",", 1)) < 0) ||
                            (r = dump_value(w, json_array_get(v, i), depth + 1)) < 0)
                                return r;
                return writer_put(w, "]", 1);
        }
        case JSON_STRING:
                return dump_string(w, json_string_value(v), json_string_length(v));
        case JSON_INTEGER: {
                int n = snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                return writer_put(w, num, (size_t)n);
        }
        case JSON_REAL: {
                /* rare here; jansson's own formatting keeps the text identical */
                char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                if (!t)
                        return -ENOMEM;
                r = writer_put(w, t, strlen(t));
                free(t);
                return r;
        }
        case JSON_TRUE:
                return writer_put(w, "true", 4);
        case JSON_FALSE:
                return writer_put(w, "false", 5);
        case JSON_NULL:
                return writer_put(w, "null", 4);
        }
        return -EINVAL;
}

int vl_writer_queue(struct vl_writer *w, const json_t *msg) {
        /* Serialised straight into the buffer: json_dumps() would build the
         * text in a string grown by realloc, leaving unwiped copies of it
         * (new tokens) in freed memory, and cost a copy and a strlen. */
        size_t before = w->len - w->start;
        int r = json_is_object(msg) || json_is_array(msg) ? dump_value(w, msg, 0) : -EINVAL;
        if (r == 0)
                r = writer_append(w, "", 1);  /* the NUL delimiter */
        if (r == 0)
                return 0;
        /* take back the part of the message already queued (the buffer may
         * have been compacted meanwhile: count from its end) */
        size_t appended = w->len - w->start - before;
        if (appended > 0) {
                explicit_bzero(w->buf + w->len - appended, appended);
                w->len -= appended;
        }
        if (w->len == w->start)
                w->start = w->len = 0;
        return r == -ENOBUFS ? r : -ENOMEM;
}

int vl_writer_append(struct vl_writer *w, const void *data, size_t n) {
        return n == 0 ? 0 : writer_put(w, data, n);
}

int vl_writer_append_string(struct vl_writer *w, const char *s) {
        return dump_string(w, s, strlen(s));
}

int vl_writer_flush(struct vl_writer *w, int fd) {
        while (w->len > w->start) {
                ssize_t n = send(fd, w->buf + w->start, w->len - w->start,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
                }
                explicit_bzero(w->buf + w->start, (size_t)n);
                w->start += (size_t)n;
        }
        w->start = w->len = 0;
        return 0;
}

size_t vl_writer_pending(const struct vl_writer *w) {
        return w->len - w->start;
}

const char *vl_writer_data(const struct vl_writer *w, size_t *ret_len) {
        *ret_len = w->len - w->start;
        /* nothing queued yet: no buffer either, and NULL + 0 is undefined */
        return w->buf ? w->buf + w->start : "";
}

void vl_writer_consume(struct vl_writer *w, size_t n) {
        if (n > w->len - w->start)
                n = w->len - w->start;
        if (n == 0)
                return;
        explicit_bzero(w->buf + w->start, n);
        w->start += n;
        if (w->start == w->len)
                w->start = w->len = 0;
}
