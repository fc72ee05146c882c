/* The panel's template layer: pages are written with html_printf(), whose
 * %s ESCAPES its string for HTML text and quoted attribute values (& < > "
 * ' and ` become entities; control characters other than tab and newline
 * are dropped). Nothing a caller passes reaches the page unescaped unless
 * it says so with %r, which is for the panel's own literals and fragments
 * html_printf() already escaped (rare, and checked in review).
 *
 * Directives: %s escaped string (NULL is written as nothing), %r raw
 * string, %d int, %u unsigned, %lld long long, %zu size_t, %% a percent
 * sign. An unknown directive fails the page (html_finish() returns NULL).
 * The buffer wipes what it drops: pages carry new tokens. */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "kube_doc.h"

struct html {
        struct kube_buf b;
        int error;  /* 0 or the first -errno */
};

void html_printf(struct html *h, const char *fmt, ...);
void html_vprintf(struct html *h, const char *fmt, va_list ap);

/* Appends the escaped form of s (n bytes). */
void html_escape(struct html *h, const char *s, size_t n);

/* The page, malloc()ed (for hd_respond()), its length in *ret_len; NULL
 * after any failure. h is empty afterwards. */
char *html_finish(struct html *h, size_t *ret_len);

/* Wipes and frees. */
void html_clear(struct html *h);
