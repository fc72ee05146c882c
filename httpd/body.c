/* See body.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"

int hd_body_expect(struct hd_body *b, const char *content_length) {
        if (!content_length)
                return 0;
        const char *p = content_length;
        unsigned long long n = 0;
        if (!*p)
                return -E2BIG;
        for (; *p; p++) {
                if (*p < '0' || *p > '9' || n > (unsigned long long)HD_BODY_DISCARD_FACTOR * b->max)
                        return -E2BIG;
                n = n * 10 + (unsigned)(*p - '0');
        }
        if (n > (unsigned long long)HD_BODY_DISCARD_FACTOR * b->max)
                return -E2BIG;
        /* a little over: read and dropped, so the client reads its 413
         * instead of a reset connection */
        b->too_large = n > b->max;
        return 0;
}

void hd_body_wipe(struct hd_body *b) {
        if (b->data)
                explicit_bzero(b->data, b->cap);
        b->len = 0;
}

void hd_body_clear(struct hd_body *b) {
        hd_body_wipe(b);
        free(b->data);
        b->data = NULL;
        b->cap = 0;
}

int hd_body_add(struct hd_body *b, const char *data, size_t n) {
        if (!b->too_large && n > b->max - b->len) {
                b->too_large = true;
                b->discarded = b->len;
                hd_body_wipe(b);
        }
        if (b->too_large) {
                b->discarded += n;
                return b->discarded > HD_BODY_DISCARD_FACTOR * b->max ? -E2BIG : 0;
        }
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                while (cap < b->len + n)
                        cap *= 2;
                if (cap > b->max)
                        cap = b->max;
                char *d = malloc(cap);
                if (!d)
                        return -ENOMEM;
                if (b->data) {
                        memcpy(d, b->data, b->len);
                        explicit_bzero(b->data, b->cap);
                        free(b->data);
                }
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, data, n);
        b->len += n;
        return 0;
}
