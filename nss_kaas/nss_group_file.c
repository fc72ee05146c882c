/* Role groups read from kaasd's group files (nss_group_file.h). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group_file_name.h"
#include "nss_group_file.h"
#include "nss_pack.h"
#include "nss_scan.h"

static bool writable_by_others(const struct stat *st) {
        return (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* The owner of the group directory, the first dir_len bytes of path,
 * in *owner: 0, or -1 when it is not to be trusted. With check_owners,
 * "/" and every directory below it down to the group directory are
 * looked at by their paths, one at a time from the top, with lstat():
 * each must be a directory (not a link) that nobody but its owner may
 * change, and each but the last root's. A lookup by a path below them
 * then resolves through directories that only root can have changed
 * since, so one lstat() per directory does what an open(), fstat() and
 * close() each did. Each prefix is ended in place with a NUL, and path
 * is as it was on return. */
static int dir_owner(char *path, size_t dir_len, bool check_owners, uid_t *owner) {
        struct stat st;
        char end = path[dir_len];
        path[dir_len] = '\0';
        int r = -1;
        if (!check_owners) {
                if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
                        *owner = st.st_uid;
                        r = 0;
                }
                path[dir_len] = end;
                return r;
        }
        if (path[0] == '/' && lstat("/", &st) == 0 && S_ISDIR(st.st_mode) && !writable_by_others(&st)) {
                r = 0;
                for (size_t i = 1; i <= dir_len && r == 0; i++) {
                        if ((path[i] != '/' && path[i] != '\0') || path[i - 1] == '/')
                                continue;  /* not the end of a name, or an empty one */
                        if (st.st_uid != 0) {
                                r = -1;  /* only root may have chosen who owns what is below */
                                break;
                        }
                        char c = path[i];
                        path[i] = '\0';
                        if (lstat(path, &st) < 0 || !S_ISDIR(st.st_mode) || writable_by_others(&st))
                                r = -1;
                        path[i] = c;
                }
        }
        path[dir_len] = end;
        if (r == 0)
                *owner = st.st_uid;  /* the group directory's: trusted */
        return r;
}

/* The reply in the file after its header (NUL-terminated, *len bytes
 * before it; the caller frees it) and the header's counts, or NULL: -ERANGE
 * in *status when the header says the entry cannot fit in buflen, which
 * is then all that is read. */
static char *read_file(const struct nss_group_file_query *q, const char *buf, size_t buflen, int *status,
                       size_t *len, size_t *n_members, size_t *string_bytes) {
        uid_t owner;
        char path[PATH_MAX];
        int w = snprintf(path, sizeof(path), "%s/%s", q->dir, q->file);
        if (w < 0 || (size_t)w >= sizeof(path) || dir_owner(path, strlen(q->dir), q->check_owners, &owner) < 0)
                return NULL;
        /* nothing but a regular file is even opened (no FIFO, no device,
         * no terminal to become the caller's); it is checked again once
         * open, in case it was replaced meanwhile */
        struct stat st;
        int fd = -1;
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
                fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || writable_by_others(&st) ||
            (q->check_owners && st.st_uid != owner) || st.st_size <= 0 || (uintmax_t)st.st_size > q->max_file ||
            st.st_mtime > q->now + GROUP_FILE_CLOCK_SLACK_SEC || st.st_mtime <= q->now - GROUP_FILE_TTL_SEC) {
                close(fd);
                return NULL;
        }
        size_t size = (size_t)st.st_size, got = 0;
        char head[GROUP_FILE_HEADER_MAX];
        ssize_t n = pread(fd, head, sizeof(head) < size ? sizeof(head) : size, 0);
        int header_len = n > 0 ? group_file_header_parse(head, (size_t)n, n_members, string_bytes) : -EBADMSG;
        /* a true header claims no more than its file holds: each member
         * takes at least 4 bytes of the reply ("a",), and every string's
         * bytes are in it; a header that claims more is not kaasd's, and
         * must not have glibc grow its buffer past what the file could
         * ever need */
        if (header_len < 0 || *string_bytes > size || *n_members > size / 4 || *n_members > q->max_members) {
                close(fd);  /* not a file of this kaasd's: the group is asked */
                return NULL;
        }
        if (nss_pack_group_size(buf, *n_members, *string_bytes) > buflen) {  /* too large, unread */
                close(fd);
                *status = -ERANGE;
                return NULL;
        }
        char *t = NULL;
        size -= (size_t)header_len;
        if ((t = malloc(size + 1))) {
                while (got < size) {
                        n = pread(fd, t + got, size - got, (off_t)((size_t)header_len + got));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        got += (size_t)n;
                }
                if (got != size) {  /* changed under us: not a file kaasd wrote */
                        free(t);
                        t = NULL;
                } else {
                        t[size] = '\0';
                        *len = size;
                }
        }
        close(fd);
        return t;
}

int nss_group_file_get(const struct nss_group_file_query *q, struct group *gr, char *buf, size_t buflen) {
        int status = 0;
        size_t len = 0, n_members = 0, string_bytes = 0;
        char *text = read_file(q, buf, buflen, &status, &len, &n_members, &string_bytes);
        if (!text)
                return status;
        /* checked and packed in one pass: the header gave the size; *gr
         * is set only for an answer of 1 (the caller's buffer is its own
         * to scribble on, its entry is not) */
        struct nss_scan_group g;
        struct group entry;
        int r = nss_scan_group_sized(text, len, q->min_id, q->max_members, n_members, string_bytes, &entry, buf,
                                     buflen, &g);
        free(text);
        if (r == -ERANGE)
                return -ERANGE;
        /* the very group asked about (the header was true to it, or r < 0) */
        if (r < 0 || !(q->name ? strcmp(entry.gr_name, q->name) == 0 : g.gid == q->gid))
                return 0;
        *gr = entry;
        return 1;
}
