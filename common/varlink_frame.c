/* varlink NUL framing over byte streams; see varlink_frame.h.
 * Messages carry secrets (tokens, passwords), so every byte the reader has
 * handed out and every byte the writer has sent is wiped at once, and
 * buffers are wiped before they are freed or moved. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "varlink_frame.h"

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

int vl_reader_next(struct vl_reader *r, json_t **ret_msg) {
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

        /* jansson rejects invalid UTF-8 and, with DISABLE_EOF_CHECK unset,
         * trailing garbage after the value. */
        json_error_t error;
        json_t *v = json_loadb(msg, len, JSON_REJECT_DUPLICATES, &error);
        explicit_bzero(r->buf + (msg - r->buf), len + 1);
        explicit_bzero(&error, sizeof(error));  /* holds a copy of the text */
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
        return r->len > r->start;
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

int vl_writer_queue(struct vl_writer *w, const json_t *msg) {
        char *s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        /* include the terminating NUL: it is the message delimiter */
        size_t n = strlen(s) + 1;
        int r = writer_append(w, s, n);
        explicit_bzero(s, n);
        free(s);
        return r;
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
