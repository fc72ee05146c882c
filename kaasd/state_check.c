/* See state_check.h. Berkeley DB creates its files 0600 but opens existing
 * ones whatever their mode and owner, so a loosened mode (a careless
 * restore from backup, a chmod -R) or a file planted by another user would
 * otherwise go unnoticed. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state_check.h"

/* The files Berkeley DB and the store keep in the state directory. */
static bool is_store_file(const char *name) {
        size_t n = strlen(name);
        return (n > 3 && strcmp(name + n - 3, ".db") == 0) || strncmp(name, "__db.", 5) == 0 ||
               strncmp(name, "log.", 4) == 0 || strcmp(name, "kaasd.lock") == 0;
}

static int check_file(int dfd, const char *dir, const char *name, uid_t uid, char *err, size_t err_size) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT)
                        return 0;  /* gone meanwhile: nothing to open */
                int r = -errno;
                snprintf(err, err_size, "cannot check %s/%s: %s", dir, name, strerror(-r));
                return r;
        }
        if (S_ISLNK(st.st_mode)) {
                snprintf(err, err_size, "%s/%s is a symbolic link: the store's files must be regular files", dir,
                         name);
                return -ELOOP;
        }
        if (!S_ISREG(st.st_mode)) {
                snprintf(err, err_size, "%s/%s is not a regular file (mode %06o)", dir, name, (unsigned)st.st_mode);
                return -EBADFD;
        }
        if (st.st_uid != uid || (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
                snprintf(err, err_size,
                         "%s/%s has mode %04o and owner uid %u: it must be owned by uid %u (the user kaasd runs as) "
                         "with no access for group or others (chown %u; chmod 0600)",
                         dir, name, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)uid,
                         (unsigned)uid);
                return -EPERM;
        }
        return 0;
}

int state_dir_check(const char *dir, uid_t uid, char *err, size_t err_size) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0) {
                int r = -errno;
                if (r == -ENOENT)
                        return 0;  /* the store creates it, 0700 */
                snprintf(err, err_size, "cannot open state directory %s: %s", dir, strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(dfd, &st) < 0) {
                int r = -errno;
                snprintf(err, err_size, "cannot check state directory %s: %s", dir, strerror(-r));
                close(dfd);
                return r;
        }
        if (st.st_uid != uid || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
                snprintf(err, err_size,
                         "state directory %s has mode %04o and owner uid %u: it must be owned by uid %u (the user "
                         "kaasd runs as) and not writable by group or others (chown %u; chmod 0700)",
                         dir, (unsigned)(st.st_mode & 07777), (unsigned)st.st_uid, (unsigned)uid, (unsigned)uid);
                close(dfd);
                return -EPERM;
        }
        DIR *d = fdopendir(dfd);
        if (!d) {
                int r = -errno;
                snprintf(err, err_size, "cannot read state directory %s: %s", dir, strerror(-r));
                close(dfd);
                return r;
        }
        int r = 0;
        struct dirent *e;
        errno = 0;
        while (r == 0 && (e = readdir(d)) != NULL) {
                if (is_store_file(e->d_name))
                        r = check_file(dirfd(d), dir, e->d_name, uid, err, err_size);
                errno = 0;
        }
        if (r == 0 && errno != 0) {
                r = -errno;
                snprintf(err, err_size, "cannot read state directory %s: %s", dir, strerror(-r));
        }
        closedir(d);
        return r;
}
