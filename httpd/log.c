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
        /* one event, one line, whatever a client or Keystone put in a name
         * or a URL: C0 and C1 controls become spaces (U+0080..U+009F, and
         * a lone byte 0x80..0x9f, which a terminal of 8-bit controls reads
         * as one: CSI 0x9b starts an escape sequence as ESC [ does), and
         * so does every byte that starts no UTF-8 sequence */
        for (unsigned char *p = (unsigned char *)text; *p;) {
                unsigned k = *p >= 0xc2 && *p <= 0xdf ? 1 : *p >= 0xe0 && *p <= 0xef ? 2 : *p >= 0xf0 && *p <= 0xf4 ? 3
                                                                                                                  : 0;
                if (*p < 0x80) {
                        if (*p < 0x20 || *p == 0x7f)
                                *p = ' ';
                        p++;
                        continue;
                }
                unsigned ok = 0;
                while (k && ok < k && (p[ok + 1] & 0xc0) == 0x80)
                        ok++;
                if (!k || ok < k || (p[0] == 0xc2 && p[1] <= 0x9f)) {
                        *p++ = ' ';     /* its continuation bytes, if any, meet the same test */
                        continue;
                }
                p += k + 1;
        }
        if (log_target == HD_LOG_SYSLOG) {
                syslog(priority, "%s", text);
                return;
        }
        static const char *const names[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        fprintf(stderr, "%s: %s: %s\n", log_ident, names[priority & 7], text);
}
