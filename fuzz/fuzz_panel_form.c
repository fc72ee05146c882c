/* Fuzz target: kaas-panel's form decoder (panel/form.c), which reads every
 * POST body a browser -- or anyone reaching the panel's port -- sends, and
 * the template layer's escaping (panel/html.c) of what it decoded.
 *
 * Input: an application/x-www-form-urlencoded body.
 *
 * Properties: a body is decoded whole or refused whole (no fields left
 * on failure); a decoded form has at most FORM_MAX_FIELDS fields, unique
 * names of 1 to FORM_NAME_MAX bytes, values of at most FORM_VALUE_MAX
 * bytes without NUL, and form_get() finds each; every value, escaped,
 * holds none of < > " ' ` and no & but an entity's. */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "panel/form.h"
#include "panel/html.h"

static void check_escaped(const char *v) {
        struct html h = { 0 };
        html_printf(&h, "%s", v);
        size_t len = 0;
        char *out = html_finish(&h, &len);
        if (!out) {
                FUZZ_ASSERT(!*v);  /* only an empty value writes nothing */
                return;
        }
        FUZZ_ASSERT(strlen(out) == len);
        FUZZ_ASSERT(!strpbrk(out, "<>\"'`"));
        for (const char *p = strchr(out, '&'); p; p = strchr(p + 1, '&'))
                FUZZ_ASSERT(strncmp(p, "&amp;", 5) == 0 || strncmp(p, "&lt;", 4) == 0 || strncmp(p, "&gt;", 4) == 0 ||
                            strncmp(p, "&quot;", 6) == 0 || strncmp(p, "&#39;", 5) == 0 ||
                            strncmp(p, "&#96;", 5) == 0);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct form f;
        int r = form_parse((const char *)data, size, &f);
        if (r < 0) {
                FUZZ_ASSERT(f.n == 0);
                return 0;
        }
        FUZZ_ASSERT(f.n <= FORM_MAX_FIELDS);
        for (size_t i = 0; i < f.n; i++) {
                size_t n = strlen(f.fields[i].name);
                FUZZ_ASSERT(n >= 1 && n <= FORM_NAME_MAX);
                FUZZ_ASSERT(strlen(f.fields[i].value) <= FORM_VALUE_MAX);
                FUZZ_ASSERT(form_get(&f, f.fields[i].name) == f.fields[i].value);
                for (size_t k = 0; k < i; k++)
                        FUZZ_ASSERT(strcmp(f.fields[k].name, f.fields[i].name) != 0);
                check_escaped(f.fields[i].value);
        }
        form_clear(&f);
        return 0;
}
