/* kaasctl output helpers; see kaasctl_output.h. Depends on libkaas's
 * public header and jansson only. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kaasctl.h"
#include "kaasctl_output.h"

#define COLUMN_GAP 2

/* ---- text for people */

/* The length of the well-formed UTF-8 character at p (1..4) and its code
 * point, or 0 when p does not start one (overlong forms and surrogates
 * included: a terminal must not get to decode them its own way). */
static size_t utf8_char(const unsigned char *p, uint32_t *ret_cp) {
        size_t n;
        uint32_t cp, min;
        if (p[0] < 0x80) {
                *ret_cp = p[0];
                return 1;
        }
        if ((p[0] & 0xe0) == 0xc0)
                n = 2, cp = p[0] & 0x1f, min = 0x80;
        else if ((p[0] & 0xf0) == 0xe0)
                n = 3, cp = p[0] & 0x0f, min = 0x800;
        else if ((p[0] & 0xf8) == 0xf0)
                n = 4, cp = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)  /* the terminating NUL stops here too */
                        return 0;
                cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        *ret_cp = cp;
        return n;
}

void kaasctl_put(FILE *f, const char *s, bool keep_lines) {
        const unsigned char *p = (const unsigned char *)(s ? s : "");
        while (*p) {
                uint32_t cp;
                size_t n = utf8_char(p, &cp);
                if (n == 0) {
                        fprintf(f, "\\x%02x", *p++);
                } else if (cp < 0x20 || cp == 0x7f) {
                        if (keep_lines && (cp == '\n' || cp == '\t'))
                                fputc((int)cp, f);
                        else
                                fprintf(f, "\\x%02x", (unsigned)cp);
                        p++;
                } else if (cp >= 0x80 && cp <= 0x9f) {
                        fprintf(f, "\\u%04x", (unsigned)cp);
                        p += n;
                } else {
                        fwrite(p, 1, n, f);
                        p += n;
                }
        }
}

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
        /* cells hold what kaasd sent: keep terminal control codes out */
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return -ENOMEM;
        kaasctl_put(f, cell, false);
        if (fclose(f) != 0 || !s) {
                free(s);
                return -ENOMEM;
        }
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

struct json_out {
        FILE *f;
        bool lead_c2;  /* a 0xc2 byte held back: the next decides */
};

/* jansson escapes C0 controls in strings but writes DEL and C1 controls
 * as they are; outside strings its text is ASCII. U+0080..U+009F are
 * 0xc2 0x80..0x9f in UTF-8, possibly split between two calls. Streamed
 * rather than built in memory: the value may hold a new token. */
static int json_out_write(const char *buf, size_t size, void *data) {
        struct json_out *o = data;
        for (size_t i = 0; i < size; i++) {
                unsigned char c = (unsigned char)buf[i];
                if (o->lead_c2) {
                        o->lead_c2 = false;
                        if (c >= 0x80 && c <= 0x9f) {
                                fprintf(o->f, "\\u%04x", c);
                                continue;
                        }
                        fputc(0xc2, o->f);
                }
                if (c == 0xc2)
                        o->lead_c2 = true;
                else if (c == 0x7f)
                        fputs("\\u007f", o->f);
                else
                        fputc(c, o->f);
        }
        return 0;
}

void kaasctl_print_json(FILE *f, const json_t *v) {
        struct json_out o = { .f = f };
        json_dump_callback(v, json_out_write, &o, JSON_INDENT(2) | JSON_ENCODE_ANY);
        if (o.lead_c2)
                fputc(0xc2, f);
        fputc('\n', f);
}

static void log_message(const char *fmt, va_list ap) {
        char *msg = NULL;
        fputs("kaasctl: ", stderr);
        if (vasprintf(&msg, fmt, ap) < 0) {
                fputs("out of memory", stderr);
                return;
        }
        kaasctl_put(stderr, msg, false);
        free(msg);
}

void kaasctl_log(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_message(fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
}

int kaasctl_usage_error(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        log_message(fmt, ap);
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
        static bool reported;   /* said once: a command's check and main()'s final one */
        if (fflush(stdout) != 0 || ferror(stdout)) {
                if (!reported)
                        kaasctl_log("cannot write the output: %s", strerror(errno));
                reported = true;
                return KAASCTL_EXIT_LOCAL;
        }
        return exit_code;
}
