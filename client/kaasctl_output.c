/* kaasctl output helpers; see kaasctl_output.h. Depends on libkaas's
 * public header and jansson only. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kaasctl.h"
#include "kaasctl_output.h"

#define COLUMN_GAP 2

struct kaasctl_table {
        size_t n_columns;
        bool has_header;
        bool *right;
        char **cells;  /* row-major; the header is row 0 when present */
        size_t n_cells, cap_cells;
};

struct kaasctl_table *kaasctl_table_new(size_t n_columns, const char *const *headers) {
        struct kaasctl_table *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->n_columns = n_columns;
        t->right = calloc(n_columns, sizeof(*t->right));
        if (!t->right)
                return kaasctl_table_free(t);
        if (headers) {
                t->has_header = true;
                for (size_t i = 0; i < n_columns; i++)
                        if (kaasctl_table_add(t, headers[i]) < 0)
                                return kaasctl_table_free(t);
        }
        return t;
}

struct kaasctl_table *kaasctl_table_free(struct kaasctl_table *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < t->n_cells; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->right);
        free(t);
        return NULL;
}

void kaasctl_table_align_right(struct kaasctl_table *t, size_t column) {
        if (column < t->n_columns)
                t->right[column] = true;
}

int kaasctl_table_add(struct kaasctl_table *t, const char *cell) {
        if (t->n_cells == t->cap_cells) {
                size_t cap = t->cap_cells ? t->cap_cells * 2 : 16;
                char **c = realloc(t->cells, cap * sizeof(*c));
                if (!c)
                        return -ENOMEM;
                t->cells = c;
                t->cap_cells = cap;
        }
        char *s = strdup(cell ? cell : "");
        if (!s)
                return -ENOMEM;
        /* cells may hold what kaasd sent: keep terminal control codes out */
        for (char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
        t->cells[t->n_cells++] = s;
        return 0;
}

int kaasctl_table_addf(struct kaasctl_table *t, const char *fmt, ...) {
        va_list ap;
        char *s = NULL;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = kaasctl_table_add(t, s);
        free(s);
        return r;
}

int kaasctl_table_add_json(struct kaasctl_table *t, const json_t *v) {
        if (json_is_string(v))
                return kaasctl_table_add(t, json_string_value(v));
        char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        if (v && !s)
                return -ENOMEM;
        int r = kaasctl_table_add(t, s ? s : "-");
        free(s);
        return r;
}

/* Display width: counts UTF-8 code points, which is right for the names
 * and numbers kaasd reports. */
static size_t text_width(const char *s) {
        size_t w = 0;
        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

void kaasctl_table_print(const struct kaasctl_table *t, FILE *f) {
        size_t *width = calloc(t->n_columns ? t->n_columns : 1, sizeof(*width));
        if (!width)
                return;
        for (size_t i = 0; i < t->n_cells; i++) {
                size_t w = text_width(t->cells[i]);
                if (w > width[i % t->n_columns])
                        width[i % t->n_columns] = w;
        }
        for (size_t row = 0; row < t->n_cells; row += t->n_columns) {
                /* pad every column but the last; empty trailing cells add nothing */
                size_t end = row + t->n_columns < t->n_cells ? row + t->n_columns : t->n_cells;
                while (end > row + 1 && !*t->cells[end - 1])
                        end--;
                for (size_t i = row; i < end; i++) {
                        size_t col = i - row;
                        size_t pad = width[col] - text_width(t->cells[i]);
                        if (col > 0)
                                fputs("  ", f);
                        if (t->right[col])
                                fprintf(f, "%*s%s", (int)pad, "", t->cells[i]);
                        else if (i + 1 == end)
                                fputs(t->cells[i], f);
                        else
                                fprintf(f, "%s%*s", t->cells[i], (int)pad, "");
                }
                fputc('\n', f);
        }
        free(width);
}

void kaasctl_print_json(FILE *f, const json_t *v) {
        json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY);
        fputc('\n', f);
}

void kaasctl_log(const char *fmt, ...) {
        va_list ap;
        fputs("kaasctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int kaasctl_usage_error(const char *fmt, ...) {
        va_list ap;
        fputs("kaasctl: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputs("\nTry 'kaasctl --help' for more information.\n", stderr);
        return KAASCTL_EXIT_USAGE;
}

int kaasctl_report_failure(const struct kaasctl *ctx, int r, const struct kaas_error *e, bool verbose) {
        if (r == KAAS_ERROR_REMOTE && e && e->name) {
                if (verbose) {
                        kaasctl_log("method call failed: %s", e->name);
                        if (e->parameters && json_object_size(e->parameters) > 0)
                                kaasctl_print_json(stderr, e->parameters);
                } else {
                        kaasctl_log("%s", e->message);
                }
        } else {
                char buf[512];
                kaasctl_log("%s", kaas_strerror_path(r, ctx->socket_path, buf, sizeof(buf)));
        }
        return kaasctl_exit_code(r);
}

int kaasctl_finish_output(int exit_code) {
        if (fflush(stdout) != 0 || ferror(stdout)) {
                kaasctl_log("cannot write the output: %s", strerror(errno));
                return KAASCTL_EXIT_LOCAL;
        }
        return exit_code;
}
