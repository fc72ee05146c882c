/* A request body read in pieces, bounded: kept while under the limit;
 * past it counted and dropped (so the client still reads its 413) up to
 * HD_BODY_DISCARD_FACTOR times the limit, beyond which the connection is
 * cut. What was kept is wiped when dropped or freed: bodies carry tokens
 * and passwords. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define HD_BODY_DISCARD_FACTOR 16

struct hd_body {
        size_t max;        /* the limit, set by the caller */
        char *data;        /* not NUL-terminated */
        size_t len, cap;
        size_t discarded;  /* bytes dropped once too_large */
        bool too_large;
};

/* The Content-Length header (NULL: none): 0 when acceptable (too_large set
 * when a little over), -E2BIG when far over or unreadable: answer 413 at
 * once. */
int hd_body_expect(struct hd_body *b, const char *content_length) __attribute__((warn_unused_result, nonnull(1)));

/* A piece: 0, -E2BIG when dropped past the discard bound (close the
 * connection), -ENOMEM. */
int hd_body_add(struct hd_body *b, const char *data, size_t n) __attribute__((warn_unused_result, nonnull(1)));

/* Wipes what was kept (the buffer stays for more). */
void hd_body_wipe(struct hd_body *b) __attribute__((nonnull));

/* Wipes and frees the buffer; b is empty again. */
void hd_body_clear(struct hd_body *b) __attribute__((nonnull));
