/* Values of INI configuration files for kaasd and kaas-webhook; see
 * config_value.h. Depends on libinih only. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>

#include "config_value.h"

int config_value_fail(struct config_value_error *e, const char *fmt, ...) {
        if (e->error)
                return 0;  /* keep the first error */
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        e->error = -EINVAL;
        return 0;
}

int config_value_parse_number(const char *value, unsigned long long largest_suffix, unsigned long long *ret) {
        /* strtoull() would take a sign or leading space */
        if (*value < '0' || *value > '9')
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long long n = strtoull(value, &end, 10);
        if (errno)
                return -EINVAL;
        unsigned long long mult = 1;
        if (*end == 'K' || *end == 'k')
                mult = 1024ull;
        else if (*end == 'M')
                mult = 1024ull * 1024;
        else if (*end == 'G')
                mult = 1024ull * 1024 * 1024;
        if (mult > 1) {
                if (mult > largest_suffix)
                        return -EINVAL;
                end++;
        }
        if (*end)
                return -EINVAL;
        if (n > ULLONG_MAX / mult)
                return -ERANGE;
        *ret = n * mult;
        return 0;
}

int config_value_number(struct config_value_error *e, const char *key, const char *value,
                        unsigned long long largest_suffix, unsigned long long min, unsigned long long max,
                        unsigned long long *ret) {
        unsigned long long n;
        if (config_value_parse_number(value, largest_suffix, &n) < 0) {
                config_value_fail(e, "%s must be a number, not '%s'", key, value);
                return -EINVAL;
        }
        if (n < min || n > max) {
                config_value_fail(e, "%s must be between %llu and %llu", key, min, max);
                return -EINVAL;
        }
        *ret = n;
        return 0;
}

int config_value_bool(struct config_value_error *e, const char *key, const char *value, bool *ret) {
        if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 || strcmp(value, "1") == 0)
                *ret = true;
        else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 || strcmp(value, "0") == 0)
                *ret = false;
        else {
                config_value_fail(e, "%s must be yes or no, not '%s'", key, value);
                return -EINVAL;
        }
        return 0;
}

int config_value_log_level(struct config_value_error *e, const char *key, const char *value, int *ret) {
        static const struct { const char *name; int prio; } levels[] = {
                { "err", LOG_ERR }, { "error", LOG_ERR }, { "warning", LOG_WARNING },
                { "notice", LOG_NOTICE }, { "info", LOG_INFO }, { "debug", LOG_DEBUG },
        };
        for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
                if (strcasecmp(value, levels[i].name) == 0) {
                        *ret = levels[i].prio;
                        return 0;
                }
        config_value_fail(e, "%s must be one of err, warning, notice, info, debug", key);
        return -EINVAL;
}

int config_value_read_ini(const char *path, ini_handler handler, void *state,
                          const struct config_value_error *e, char *err, size_t err_size) {
        errno = 0;
        int line = ini_parse(path, handler, state);
        if (line == -1) {
                int r = errno ? -errno : -ENOENT;
                snprintf(err, err_size, "%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        if (line == -2) {
                snprintf(err, err_size, "%s: out of memory", path);
                return -ENOMEM;
        }
        if (line != 0) {
                if (e->error)
                        snprintf(err, err_size, "%s:%d: %s", path, line, e->msg);
                else
                        snprintf(err, err_size, "%s:%d: syntax error (expected [section] or key = value)", path, line);
                return -EINVAL;
        }
        return 0;
}

int config_string_set(char **field, const char *value) {
        char *s = value ? strdup(value) : NULL;
        if (value && !s)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

static bool is_string_kind(enum config_option_kind k) {
        return k == CONFIG_OPT_STRING || k == CONFIG_OPT_STRING_OR_EMPTY || k == CONFIG_OPT_PATH;
}

void config_options_free(const struct config_option *table, size_t n, void *target) {
        for (size_t i = 0; i < n; i++)
                if (is_string_kind(table[i].kind)) {
                        char **field = (char **)((char *)target + table[i].offset);
                        free(*field);
                        *field = NULL;
                }
}

static bool has_no_control_chars(const char *v) {
        for (; *v; v++)
                if ((unsigned char)*v < 0x20 || *v == 0x7f)
                        return false;
        return true;
}

int config_option_set(const struct config_option *table, size_t n, void *target, struct config_value_error *e,
                      const char *section, const char *key, const char *value, const struct config_option **ret_row) {
        if (strlen(value) > CONFIG_VALUE_MAX)
                return config_value_fail(e, "value of '%s' is too long", key);
        const struct config_option *row = NULL;
        bool section_known = false;
        for (size_t i = 0; i < n; i++) {
                if (strcmp(table[i].section, section) != 0)
                        continue;
                section_known = true;
                if (strcmp(table[i].key, key) == 0)
                        row = &table[i];
        }
        if (!section_known)
                return config_value_fail(e, "unknown section [%s]", section);
        if (!row)
                return config_value_fail(e, "unknown key '%s' in [%s]", key, section);
        if (!has_no_control_chars(value))
                return config_value_fail(e, "%s contains a control character", key);
        void *field = (char *)target + row->offset;
        unsigned long long num;
        switch (row->kind) {
        case CONFIG_OPT_PATH:
                if (value[0] != '/')
                        return config_value_fail(e, "%s must be an absolute path", key);
                /* fall through */
        case CONFIG_OPT_STRING:
                if (!*value)
                        return config_value_fail(e, "%s must not be empty", key);
                /* fall through */
        case CONFIG_OPT_STRING_OR_EMPTY:
                if (config_string_set(field, *value ? value : NULL) < 0)
                        return config_value_fail(e, "out of memory");
                return 1;
        case CONFIG_OPT_BOOL:
                return config_value_bool(e, key, value, field) < 0 ? 0 : 1;
        case CONFIG_OPT_LOGLEVEL:
                return config_value_log_level(e, key, value, field) < 0 ? 0 : 1;
        case CONFIG_OPT_UINT:
        case CONFIG_OPT_SIZE:
                if (config_value_number(e, key, value,
                                        row->kind == CONFIG_OPT_SIZE ? CONFIG_VALUE_MIB : CONFIG_VALUE_NO_SUFFIX,
                                        row->min, row->max, &num) < 0)
                        return 0;
                if (row->kind == CONFIG_OPT_UINT)
                        *(unsigned *)field = (unsigned)num;
                else
                        *(size_t *)field = (size_t)num;
                return 1;
        case CONFIG_OPT_CUSTOM:
                break;
        }
        if (ret_row)
                *ret_row = row;
        return 2;
}
