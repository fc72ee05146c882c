/* Values of INI configuration files, shared by kaasd (kaasd.conf),
 * kaas-webhook (webhook.conf) and kaas-panel (panel.conf): numbers with
 * size suffixes and ranges, booleans, log levels, and the "first error
 * wins" message that names the file and line once libinih is done. Each
 * program keeps its own table of sections and keys (struct config_option
 * rows, applied by config_option_set()); the wording of every message here
 * is what users see.
 *
 * Depends on libinih only; never logs, holds no global state. */
#pragma once

#include <ini.h>
#include <stdbool.h>
#include <stddef.h>

#define CONFIG_VALUE_NO_SUFFIX 1ull
#define CONFIG_VALUE_MIB (1024ull * 1024)
#define CONFIG_VALUE_GIB (1024ull * 1024 * 1024)

/* The first error of a parse. Debian's libinih is built without
 * INI_HANDLER_LINENO, so a handler does not learn its line: it keeps the
 * message, and ini_parse()'s result supplies the line afterwards. */
struct config_value_error {
        int error;      /* 0, or -EINVAL once a message is kept */
        char msg[512];  /* "KEY must be ...", without file and line */
};

/* Keeps the message unless an earlier one is kept already. Returns 0, the
 * value that tells libinih the line is an error, so an ini_handler can
 * `return config_value_fail(...)`. */
int config_value_fail(struct config_value_error *e, const char *fmt, ...)
        __attribute__((format(printf, 2, 3), nonnull(1, 2)));

/* A decimal number of digits only, optionally followed by a binary suffix
 * no larger than largest_suffix: K or k (KiB) from CONFIG_VALUE_MIB up, M
 * (MiB) likewise, G (GiB) with CONFIG_VALUE_GIB; CONFIG_VALUE_NO_SUFFIX
 * allows none. Returns 0, -EINVAL or -ERANGE; *ret is set only on success. */
int config_value_parse_number(const char *value, unsigned long long largest_suffix, unsigned long long *ret)
        __attribute__((warn_unused_result, nonnull));

/* The same for the value of key, which must lie in min..max: otherwise
 * "KEY must be a number, not 'VALUE'" or "KEY must be between MIN and MAX"
 * is kept in e and -EINVAL returned. */
int config_value_number(struct config_value_error *e, const char *key, const char *value,
                        unsigned long long largest_suffix, unsigned long long min, unsigned long long max,
                        unsigned long long *ret) __attribute__((warn_unused_result, nonnull));

/* yes/true/1 or no/false/0, else "KEY must be yes or no, not 'VALUE'". */
int config_value_bool(struct config_value_error *e, const char *key, const char *value, bool *ret)
        __attribute__((warn_unused_result, nonnull));

/* A syslog priority by name (err, error, warning, notice, info, debug; any
 * case), else "KEY must be one of err, warning, notice, info, debug". */
int config_value_log_level(struct config_value_error *e, const char *key, const char *value, int *ret)
        __attribute__((warn_unused_result, nonnull));

/* ------------------------------------------------ option tables */

/* One row per option of a program's table: the value of key in section
 * goes to the field at offset in the program's settings struct. */
enum config_option_kind {
        CONFIG_OPT_STRING,           /* char *, not empty */
        CONFIG_OPT_STRING_OR_EMPTY,  /* char *; empty sets NULL */
        CONFIG_OPT_PATH,             /* char *, absolute */
        CONFIG_OPT_UINT,             /* unsigned, min..max, no suffix */
        CONFIG_OPT_SIZE,             /* size_t, min..max, K and M suffixes */
        CONFIG_OPT_BOOL,             /* bool */
        CONFIG_OPT_LOGLEVEL,         /* int, a syslog priority */
        CONFIG_OPT_CUSTOM,           /* the caller parses it */
};

struct config_option {
        const char *section;
        const char *key;
        enum config_option_kind kind;
        size_t offset;
        unsigned long long min, max;
};

#define CONFIG_OPTION(type, sec, key, kind, field, min, max) { sec, key, kind, offsetof(type, field), min, max }

/* The longest value an option takes. */
#define CONFIG_VALUE_MAX 4096

/* Stores value for section/key into target as table says, for an
 * ini_handler: the value's length and control characters checked, then
 * the section and key looked up ("unknown section [S]", "unknown key 'K'
 * in [S]"), then the value by its kind. Returns 1 when stored, 0 with the
 * error kept in e, or 2 for a CONFIG_OPT_CUSTOM row (*ret_row set: the
 * caller parses the value). Strings are strdup()ed, the old value freed. */
int config_option_set(const struct config_option *table, size_t n, void *target, struct config_value_error *e,
                      const char *section, const char *key, const char *value, const struct config_option **ret_row)
        __attribute__((nonnull(1, 3, 4, 5, 6, 7)));

/* Frees the string fields of target that table names. */
void config_options_free(const struct config_option *table, size_t n, void *target) __attribute__((nonnull));

/* Replaces *field with a copy of value (NULL: none). 0 or -ENOMEM. */
int config_string_set(char **field, const char *value) __attribute__((warn_unused_result, nonnull(1)));

/* Runs ini_parse(path, handler, state); e is the error inside state that
 * the handler fills. On failure returns a negative errno with err (always
 * NUL-terminated) saying "PATH: cannot open: ...", "PATH: out of memory",
 * "PATH:LINE: MESSAGE" or "PATH:LINE: syntax error (...)". */
int config_value_read_ini(const char *path, ini_handler handler, void *state,
                          const struct config_value_error *e, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull));
