/* Whether a text is UTF-8, strictly: what jansson takes as a JSON
 * string (and so kaasd as a name), what a form field must be. Header
 * only, for the modules and programs that each link what they need. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Strict UTF-8 (no overlongs, surrogates or code points past U+10FFFF),
 * no NUL. */
static inline bool utf8_valid(const char *text, size_t n) {
        const unsigned char *s = (const unsigned char *)text;
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t k;
                unsigned cp;
                if (c == 0)
                        return false;
                if (c < 0x80) {
                        i++;
                        continue;
                }
                if (c >= 0xc2 && c <= 0xdf) {
                        k = 1;
                        cp = c & 0x1f;
                } else if (c >= 0xe0 && c <= 0xef) {
                        k = 2;
                        cp = c & 0x0f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        k = 3;
                        cp = c & 0x07;
                } else {
                        return false;
                }
                if (i + k >= n)
                        return false;
                for (size_t j = 1; j <= k; j++) {
                        if ((s[i + j] & 0xc0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i + j] & 0x3f);
                }
                if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
                    (cp >= 0xd800 && cp <= 0xdfff))
                        return false;
                i += k + 1;
        }
        return true;
}
