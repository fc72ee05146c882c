/* The log of the HTTPS daemons (kaas-webhook, kaas-panel), for operators:
 * stderr or syslog (the journal picks it up). Called from every connection thread; one call writes one line.
 * Never pass a token, password or session ID: name tokens by their public
 * token ID. Control characters become spaces (one event, one line). */
#pragma once

#include <stdbool.h>
#include <syslog.h>

enum hd_log_target { HD_LOG_STDERR, HD_LOG_SYSLOG };

/* ident: the program's name, kept (a string literal); prefixes stderr lines
 * and names the syslog ident. Call once, before any thread starts. */
void hd_log_setup(const char *ident, enum hd_log_target target, int max_priority);
bool hd_log_enabled(int priority);

void hd_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define hd_err(...) hd_log(LOG_ERR, __VA_ARGS__)
#define hd_warning(...) hd_log(LOG_WARNING, __VA_ARGS__)
#define hd_notice(...) hd_log(LOG_NOTICE, __VA_ARGS__)
#define hd_info(...) hd_log(LOG_INFO, __VA_ARGS__)
#define hd_debug(...) hd_log(LOG_DEBUG, __VA_ARGS__)
