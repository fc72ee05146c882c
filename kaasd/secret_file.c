/* Password files; see secret_file.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret_file.h"

int secret_file_read(const char *path, char *buf, size_t size, char *err, size_t err_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                snprintf(err, err_size, "cannot open password_file %s: %s", path, strerror(-r));
                return r;
        }
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(err, err_size, "cannot stat password_file %s: %s", path, strerror(-r));
        } else if (!S_ISREG(st.st_mode)) {
                r = -EINVAL;
                snprintf(err, err_size, "password_file %s is not a regular file", path);
        } else if (st.st_mode & 077) {
                r = -EPERM;
                snprintf(err, err_size,
                         "password_file %s has mode %04o: group and others must have no access (chmod 0600)",
                         path, (unsigned)(st.st_mode & 07777));
        } else if (st.st_uid != 0 && st.st_uid != geteuid()) {
                r = -EPERM;
                snprintf(err, err_size, "password_file %s is owned by uid %u: it must be owned by root or uid %u",
                         path, (unsigned)st.st_uid, (unsigned)geteuid());
        }
        if (r < 0) {
                close(fd);
                return r;
        }
        size_t n = 0;
        for (;;) {
                ssize_t k = read(fd, buf + n, size - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        snprintf(err, err_size, "cannot read password_file %s: %s", path, strerror(-r));
                        break;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n == size - 1) {
                        r = -EFBIG;
                        snprintf(err, err_size, "password_file %s is longer than %zu bytes", path, size - 2);
                        break;
                }
        }
        close(fd);
        buf[n] = '\0';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
                buf[--n] = '\0';
        if (r == 0 && n == 0) {
                r = -EINVAL;
                snprintf(err, err_size, "password_file %s is empty", path);
        }
        if (r < 0)
                sodium_memzero(buf, size);
        return r;
}


void secret_free(char *s) {
        if (!s)
                return;
        sodium_memzero(s, strlen(s));
        free(s);
}
