/* kaas-webhook's log, for operators: stderr or syslog (the journal picks
 * it up). Called from every connection thread; one call writes one line.
 * Never pass a token: name tokens by their public token ID. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

enum wh_log_target { WH_LOG_STDERR, WH_LOG_SYSLOG };

void wh_log_setup(enum wh_log_target target, int max_priority);
bool wh_log_enabled(int priority);

void wh_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define wh_err(...) wh_log(LOG_ERR, __VA_ARGS__)
#define wh_warning(...) wh_log(LOG_WARNING, __VA_ARGS__)
#define wh_notice(...) wh_log(LOG_NOTICE, __VA_ARGS__)
#define wh_info(...) wh_log(LOG_INFO, __VA_ARGS__)
#define wh_debug(...) wh_log(LOG_DEBUG, __VA_ARGS__)
