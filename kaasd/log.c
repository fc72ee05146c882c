/* See log.h. The daemon is single-threaded around its loop; workers that log
 * go through the same functions, and syslog(3)/fprintf(3) are thread-safe. */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

static enum log_target_kind log_target = LOG_TARGET_STDERR;
static int log_max = LOG_INFO;
static bool log_to_journal;  /* stderr is the journal: prefix priorities */

void log_setup(enum log_target_kind target, int max_priority) {
        log_target = target;
        log_max = max_priority;
        /* systemd reads a leading "<N>" on each stderr line as its priority
         * (sd-daemon(3)); without it every line would be recorded as info */
        log_to_journal = target == LOG_TARGET_STDERR && getenv("JOURNAL_STREAM") != NULL;
        if (target == LOG_TARGET_SYSLOG)
                openlog("kaasd", LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

void log_set_max_priority(int max_priority) {
        log_max = max_priority;
}

static void vlog(int priority, uint64_t id, const char *tag, const char *fmt, va_list ap)
        __attribute__((format(printf, 4, 0)));
static void vlog(int priority, uint64_t id, const char *tag, const char *fmt, va_list ap) {
        char text[2048];
        vsnprintf(text, sizeof(text), fmt, ap);
        /* keep one event on one line whatever a peer put in a name */
        for (char *p = text; *p; p++)
                if (*p == '\n' || *p == '\r' || (unsigned char)*p < 0x20)
                        *p = ' ';
        char prefix[48] = "";
        if (id)
                snprintf(prefix, sizeof(prefix), "[req %llu] ", (unsigned long long)id);
        if (log_target == LOG_TARGET_SYSLOG) {
                syslog(priority, "%s%s%s", tag, prefix, text);
                return;
        }
        static const char *const names[] = { "emerg", "alert", "crit", "err",
                                             "warning", "notice", "info", "debug" };
        if (log_to_journal)
                fprintf(stderr, "<%d>%s%s%s\n", priority & 7, tag, prefix, text);
        else
                fprintf(stderr, "kaasd: %s: %s%s%s\n", names[priority & 7], tag, prefix, text);
}

void log_msg(int priority, uint64_t request_id, const char *fmt, ...) {
        if (priority > log_max)
                return;
        va_list ap;
        va_start(ap, fmt);
        vlog(priority, request_id, "", fmt, ap);
        va_end(ap);
}

void log_audit(uint64_t request_id, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vlog(LOG_NOTICE, request_id, "AUDIT ", fmt, ap);
        va_end(ap);
}
