/* See form.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "form.h"
#include "utf8.h"

static int hex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Decodes in[0..n) into out (room for n + 1), '+' as space, %XX as the
 * byte. Returns the length or -EINVAL. */
static int decode(const char *in, size_t n, char *out) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                if (in[i] == '+') {
                        out[o++] = ' ';
                } else if (in[i] == '%') {
                        int hi, lo;
                        if (i + 2 >= n)
                                return -EINVAL;
                        if ((hi = hex(in[i + 1])) < 0 || (lo = hex(in[i + 2])) < 0)
                                return -EINVAL;
                        out[o++] = (char)(hi << 4 | lo);
                        i += 2;
                } else {
                        out[o++] = in[i];
                }
        }
        out[o] = '\0';
        return (int)o;
}

void form_clear(struct form *f) {
        for (size_t i = 0; i < f->n; i++) {
                if (f->fields[i].value) {
                        explicit_bzero(f->fields[i].value, f->fields[i].len);
                        free(f->fields[i].value);
                }
        }
        explicit_bzero(f, sizeof(*f));
}

const char *form_get(const struct form *f, const char *name) {
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->fields[i].name, name) == 0)
                        return f->fields[i].value;
        return NULL;
}

int form_parse(const char *data, size_t len, struct form *f) {
        memset(f, 0, sizeof(*f));
        size_t pos = 0;
        int r = 0;
        while (pos < len) {
                const char *amp = memchr(data + pos, '&', len - pos);
                size_t end = amp ? (size_t)(amp - data) : len;
                if (end == pos) {  /* "a=1&&b=2": an empty field is skipped, as browsers do */
                        pos = end + 1;
                        continue;
                }
                const char *eq = memchr(data + pos, '=', end - pos);
                size_t name_end = eq ? (size_t)(eq - data) : end;
                size_t vstart = eq ? name_end + 1 : end;
                if (f->n >= FORM_MAX_FIELDS || name_end - pos > FORM_NAME_MAX * 3 ||
                    end - vstart > FORM_VALUE_MAX * 3) {
                        r = -EINVAL;
                        break;
                }
                struct form_field *fl = &f->fields[f->n];
                char name[FORM_NAME_MAX * 3 + 1];
                int n = decode(data + pos, name_end - pos, name);
                if (n <= 0 || (size_t)n > FORM_NAME_MAX || !utf8_valid(name, (size_t)n) ||
                    form_get(f, name)) {
                        explicit_bzero(name, sizeof(name));
                        r = -EINVAL;
                        break;
                }
                memcpy(fl->name, name, (size_t)n + 1);
                if (!(fl->value = malloc(end - vstart + 1))) {
                        r = -ENOMEM;
                        break;
                }
                f->n++;
                n = decode(data + vstart, end - vstart, fl->value);
                fl->len = end - vstart + 1;
                if (n < 0 || (size_t)n > FORM_VALUE_MAX || !utf8_valid(fl->value, (size_t)n)) {
                        r = -EINVAL;
                        break;
                }
                pos = end + 1;
        }
        if (r < 0)
                form_clear(f);
        return r;
}
