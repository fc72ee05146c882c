/* kaasctl output: everything kaasctl prints goes through here, so every
 * command formats tables, JSON and errors the same way. Results go to
 * stdout, diagnostics to stderr prefixed "kaasctl: ". */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "kaas.h"

struct kaasctl;

/* ---- aligned tables ---- */

struct kaasctl_table;

/* A table of n_columns columns. headers: n_columns titles, or NULL for a
 * table without a header line (a "Label: value" list). */
struct kaasctl_table *kaasctl_table_new(size_t n_columns, const char *const *headers);
struct kaasctl_table *kaasctl_table_free(struct kaasctl_table *t);
/* Numbers read better right-aligned. */
void kaasctl_table_align_right(struct kaasctl_table *t, size_t column);
/* Appends one cell (copied, escaped as kaasctl_put does without
 * keep_lines), filling rows left to right. -ENOMEM on failure. */
int kaasctl_table_add(struct kaasctl_table *t, const char *cell);
int kaasctl_table_addf(struct kaasctl_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a JSON value as a cell: strings as they are, others as compact JSON. */
int kaasctl_table_add_json(struct kaasctl_table *t, const json_t *v);
void kaasctl_table_print(const struct kaasctl_table *t, FILE *f);

static inline void kaasctl_table_freep(struct kaasctl_table **t) {
        kaasctl_table_free(*t);
}
/* A table variable freed when it leaves scope. */
#define KAASCTL_TABLE_AUTO __attribute__((cleanup(kaasctl_table_freep)))

/* ---- text for people ----
 *
 * Names come from Keystone, descriptions from other users, reasons from
 * kaasd: all hostile. Whatever kaasctl shows people goes through
 * kaasctl_put (tables, messages and JSON through their own functions
 * above and below), so no byte of it makes a terminal act: C0 controls
 * and DEL are written as \xNN, C1 controls (U+0080..U+009F, such as CSI
 * U+009B) as \u00NN, and bytes that are not UTF-8 as \xNN. keep_lines
 * leaves newlines and tabs of multi-line text alone. */
void kaasctl_put(FILE *f, const char *s, bool keep_lines);

/* ---- JSON ---- */

/* Pretty-prints v (two-space indent, one value per call, newline after).
 * JSON strings may hold C1 controls and DEL unescaped: they are written
 * as \u00NN escapes, which read back as the same strings. */
void kaasctl_print_json(FILE *f, const json_t *v);

/* ---- diagnostics ---- */

/* "kaasctl: <message>" on stderr, the message escaped as by kaasctl_put. */
void kaasctl_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A usage error: prints the message and a hint to --help; returns
 * KAASCTL_EXIT_USAGE. */
int kaasctl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reports a failed libkaas operation: for KAAS_ERROR_REMOTE the message
 * built from e (and, with verbose, the error name and its parameters as
 * JSON); otherwise what went wrong locally, naming the socket. Returns the
 * exit code for r. */
int kaasctl_report_failure(const struct kaasctl *ctx, int r, const struct kaas_error *e, bool verbose);

/* Flushes stdout; a failed write (full disk, closed pipe) becomes a
 * message and KAASCTL_EXIT_LOCAL, else returns exit_code unchanged. */
int kaasctl_finish_output(int exit_code);
