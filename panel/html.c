/* See html.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"

static void put(struct html *h, const char *s, size_t n) {
        if (!h->error && kube_buf_put(&h->b, s, n) < 0)
                h->error = -ENOMEM;
}

void html_escape(struct html *h, const char *s, size_t n) {
        size_t start = 0;
        for (size_t i = 0; i < n; i++) {
                const char *ent = NULL;
                unsigned char c = (unsigned char)s[i];
                switch (c) {
                case '&':
                        ent = "&amp;";
                        break;
                case '<':
                        ent = "&lt;";
                        break;
                case '>':
                        ent = "&gt;";
                        break;
                case '"':
                        ent = "&quot;";
                        break;
                case '\'':
                        ent = "&#39;";
                        break;
                case '`':
                        ent = "&#96;";
                        break;
                default:
                        if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
                                ent = "";
                        break;
                }
                if (!ent)
                        continue;
                put(h, s + start, i - start);
                put(h, ent, strlen(ent));
                start = i + 1;
        }
        put(h, s + start, n - start);
}

void html_vprintf(struct html *h, const char *fmt, va_list ap) {
        const char *lit = fmt;
        char num[32];
        for (const char *p = fmt; *p; p++) {
                if (*p != '%')
                        continue;
                put(h, lit, (size_t)(p - lit));
                p++;
                if (*p == 's') {
                        const char *s = va_arg(ap, const char *);
                        if (s)
                                html_escape(h, s, strlen(s));
                } else if (*p == 'r') {
                        const char *s = va_arg(ap, const char *);
                        if (s)
                                put(h, s, strlen(s));
                } else if (*p == 'd') {
                        snprintf(num, sizeof(num), "%d", va_arg(ap, int));
                        put(h, num, strlen(num));
                } else if (*p == 'u') {
                        snprintf(num, sizeof(num), "%u", va_arg(ap, unsigned));
                        put(h, num, strlen(num));
                } else if (strncmp(p, "lld", 3) == 0) {
                        snprintf(num, sizeof(num), "%lld", va_arg(ap, long long));
                        put(h, num, strlen(num));
                        p += 2;
                } else if (strncmp(p, "zu", 2) == 0) {
                        snprintf(num, sizeof(num), "%zu", va_arg(ap, size_t));
                        put(h, num, strlen(num));
                        p += 1;
                } else if (*p == '%') {
                        put(h, "%", 1);
                } else {
                        h->error = -EINVAL;
                        return;
                }
                lit = p + 1;
        }
        put(h, lit, strlen(lit));
}

void html_printf(struct html *h, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        html_vprintf(h, fmt, ap);
        va_end(ap);
}

char *html_finish(struct html *h, size_t *ret_len) {
        if (h->error || !h->b.p) {
                html_clear(h);
                return NULL;
        }
        char *p = h->b.p;
        *ret_len = h->b.len;
        h->b = (struct kube_buf){ 0 };
        return p;
}

void html_clear(struct html *h) {
        kube_buf_wipe(&h->b);
        h->error = 0;
}
