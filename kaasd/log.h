/* kaasd logging for operators: syslog (the journal picks it up) or stderr.
 * Every line about a call carries its request ID. Secrets never go here:
 * pass token IDs, never tokens. Audit lines (authentication decisions) use
 * log_audit so they can be filtered by the "AUDIT" tag. */
#pragma once

#include <stdarg.h>
#include <stdint.h>
#include <syslog.h>

enum log_target_kind { LOG_TARGET_STDERR, LOG_TARGET_SYSLOG };

void log_setup(enum log_target_kind target, int max_priority);
void log_set_max_priority(int max_priority);

void log_msg(int priority, uint64_t request_id, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define log_err(id, ...) log_msg(LOG_ERR, id, __VA_ARGS__)
#define log_warning(id, ...) log_msg(LOG_WARNING, id, __VA_ARGS__)
#define log_notice(id, ...) log_msg(LOG_NOTICE, id, __VA_ARGS__)
#define log_info(id, ...) log_msg(LOG_INFO, id, __VA_ARGS__)
#define log_debug(id, ...) log_msg(LOG_DEBUG, id, __VA_ARGS__)

/* One line per authentication decision: what, which result, about whom,
 * asked by which local peer. */
void log_audit(uint64_t request_id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
