/* application/x-www-form-urlencoded bodies (and query strings), decoded
 * and bounded: at most FORM_MAX_FIELDS fields, names of FORM_NAME_MAX
 * bytes, values of FORM_VALUE_MAX, every one valid UTF-8 without NUL. A
 * malformed body is refused whole (-EINVAL), never half-used. The values
 * (passwords, tokens) are wiped by form_clear(). */
#pragma once

#include <stddef.h>

#define FORM_MAX_FIELDS 16
#define FORM_NAME_MAX 32
#define FORM_VALUE_MAX 4096

struct form_field {
        char name[FORM_NAME_MAX + 1];
        char *value;
        size_t len;
};

struct form {
        struct form_field fields[FORM_MAX_FIELDS];
        size_t n;
};

/* Decodes data (len bytes, not NUL-terminated) into f (zeroed first):
 * 0, -EINVAL (malformed, too many or too long fields, a name given twice)
 * or -ENOMEM. On failure f is empty. */
int form_parse(const char *data, size_t len, struct form *f) __attribute__((warn_unused_result, nonnull(3)));

/* The value of name, or NULL. */
const char *form_get(const struct form *f, const char *name) __attribute__((nonnull));

void form_clear(struct form *f) __attribute__((nonnull));
