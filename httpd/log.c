/* See log.h. fprintf(3) and syslog(3) lock their stream, so lines from
 * different threads do not interleave. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "log.h"

static enum hd_log_target log_target = HD_LOG_STDERR;
static int log_max = LOG_INFO;
static const char *log_ident = "kaas";

void hd_log_setup(const char *ident, enum hd_log_target target, int max_priority) {
        log_ident = ident;
        log_target = target;
        log_max = max_priority;
        if (target == HD_LOG_SYSLOG)
                openlog(ident, LOG_PID | LOG_NDELAY, LOG_AUTHPRIV);
}

bool hd_log_enabled(int priority) {
        return priority <= log_max;
}

void hd_log(int priority, const char *fmt, ...) {
        if (priority > log_max)
                return;
        char text[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        /* one event, one line, whatever a client or Keystone put in a name;
         * C1 controls too (U+0080..U+009F, 0xc2 0x80..0x9f in UTF-8: CSI
         * U+009B starts an escape sequence as ESC [ does) */
        for (char *p = text; *p; p++) {
                unsigned char c = (unsigned char)*p;
                if (c < 0x20 || c == 0x7f)
                        *p = ' ';
                else if (c == 0xc2 && (unsigned char)p[1] >= 0x80 && (unsigned char)p[1] <= 0x9f) {
                        p[0] = ' ';
                        p[1] = ' ';
                        p++;
                }
        }
        if (log_target == HD_LOG_SYSLOG) {
                syslog(priority, "%s", text);
                return;
        }
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        fprintf(stderr, "%s: %s: %s\n", log_ident, names[priority & 7], text);
}
