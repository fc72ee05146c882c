/* Role groups read from kaasd's group files (nss_group_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group_file_name.h"
#include "nss_group_file.h"
#include "nss_scan.h"

static bool writable_by_others(const struct stat *st) {
        return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* The group directory, every directory above it checked (check_owners):
 * its descriptor and *owner, or -1. */
static int open_dir(const char *dir, bool check_owners, uid_t *owner) {
        struct stat st;
        if (!check_owners) {
                int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0 && fstat(fd, &st) == 0) {
                        *owner = st.st_uid;
                        return fd;
                }
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        if (dir[0] != '/' || strlen(dir) >= PATH_MAX)
                return -1;
        char path[PATH_MAX];
        strcpy(path, dir);
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        char *save = NULL;
        for (char *part = strtok_r(path, "/", &save); fd >= 0; part = strtok_r(NULL, "/", &save)) {
                if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || writable_by_others(&st))
                        break;
                if (!part) {  /* the group directory itself: its owner is trusted */
                        *owner = st.st_uid;
                        return fd;
                }
                if (st.st_uid != 0)
                        break;  /* only root may have chosen who owns what is below */
                int next = openat(fd, part, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                close(fd);
                fd = next;
        }
        if (fd >= 0)
                close(fd);
        return -1;
}

/* The file's text (NUL-terminated, *len bytes before it), or NULL. */
static char *read_file(const struct nss_group_file_query *q, int *status, size_t *len) {
        uid_t owner;
        int dir_fd = open_dir(q->dir, q->check_owners, &owner);
        if (dir_fd < 0)
                return NULL;
        /* nothing but a regular file is even opened (no FIFO, no device,
         * no terminal to become the caller's); it is checked again once
         * open, in case it was replaced meanwhile */
        struct stat st;
        int fd = -1;
        if (fstatat(dir_fd, q->file, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                fd = openat(dir_fd, q->file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        close(dir_fd);
        if (fd < 0)
                return NULL;
        char *text = NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || writable_by_others(&st) ||
            (q->check_owners && st.st_uid != owner) || st.st_size <= 0 || (uintmax_t)st.st_size > q->max_file ||
            st.st_mtime > q->now + GROUP_FILE_CLOCK_SLACK_SEC || st.st_mtime <= q->now - GROUP_FILE_TTL_SEC) {
                close(fd);
                return NULL;
        }
        if ((size_t)st.st_size > q->max_text) {  /* too large, unread */
                close(fd);
                *status = -ERANGE;
                return NULL;
        }
        size_t size = (size_t)st.st_size, got = 0;
        if ((text = malloc(size + 1))) {
                while (got < size) {
                        ssize_t n = read(fd, text + got, size - got);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        got += (size_t)n;
                }
                if (got != size) {  /* changed under us: not a file kaasd wrote */
                        free(text);
                        text = NULL;
                } else {
                        text[size] = '\0';
                        *len = size;
                }
        }
        close(fd);
        return text;
}

int nss_group_file_get(const struct nss_group_file_query *q, struct group *gr, char *buf, size_t buflen) {
        int status = 0;
        size_t len = 0;
        char *text = read_file(q, &status, &len);
        if (!text)
                return status;
        struct nss_scan_group g;
        int r = nss_scan_group(text, len, q->min_id, q->max_members, &g);
        bool same = r == 0 && (q->name ? g.name_len == strlen(q->name) && memcmp(g.name, q->name, g.name_len) == 0
                                       : g.gid == q->gid);
        if (same)
                r = nss_scan_group_pack(&g, gr, buf, buflen);
        free(text);
        if (!same)
                return 0;
        return r == 0 ? 1 : r == -ERANGE ? -ERANGE : 0;
}
