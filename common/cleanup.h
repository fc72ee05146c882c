/* Scope-bound cleanup helpers in the style of systemd: a variable declared
 * with _cleanup_(fn) has fn(&var) called when it leaves scope, and
 * TAKE_PTR moves ownership out so the cleanup sees NULL. */
#pragma once

#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define TAKE_PTR(p)                      \
        ({                               \
                __typeof__(p) _p_ = (p); \
                (p) = NULL;              \
                _p_;                     \
        })

#define TAKE_FD(fd)              \
        ({                       \
                int _fd_ = (fd); \
                (fd) = -1;       \
                _fd_;            \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
/* json_decrefp() comes with jansson (2.14+) */
#define _cleanup_json_ _cleanup_(json_decrefp)
