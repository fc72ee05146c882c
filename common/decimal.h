/* Reading a decimal number out of a bounded buffer (a group file's header,
 * a group reply, a varlink message), where strtoull() cannot be used: the
 * text is not NUL-terminated, and strtoull() takes signs, spaces and
 * leading zeros that these formats do not. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Digits at *p, before end: no sign, no leading zero ("0" itself is one),
 * a value of at most max. True with the value in *ret and *p past the
 * digits; false for no digit, a leading zero, or more than max, with *p
 * anywhere from where it was to past the digits. Inline: the varlink
 * parser reads every integer of every message with it. */
static inline bool decimal_parse(const char **p, const char *end, uint64_t max, uint64_t *ret) {
        const char *start = *p;
        uint64_t v = 0;
        for (; *p < end && **p >= '0' && **p <= '9'; (*p)++) {
                unsigned d = (unsigned)(**p - '0');
                if (v > max / 10 || (v == max / 10 && d > max % 10))
                        return false;   /* v * 10 + d > max */
                v = v * 10 + d;
        }
        if (*p == start || (*start == '0' && *p - start > 1))
                return false;
        *ret = v;
        return true;
}
