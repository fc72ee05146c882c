/* See json_values.h. */
#include "config.h"

#include "json_values.h"

bool json_values_exceed(const char *text, size_t len, size_t max) {
        size_t n = 1;
        bool in_string = false;
        for (size_t i = 0; i < len; i++) {
                char ch = text[i];
                if (in_string) {
                        if (ch == '\\')
                                i++;
                        else if (ch == '"')
                                in_string = false;
                } else if (ch == '"') {
                        in_string = true;
                } else if (ch == ',' || ch == '[' || ch == '{') {
                        if (++n > max)
                                return true;
                }
        }
        return false;
}
