/* The group files kaasd leaves for the NSS module (group_files.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "group_file_name.h"
#include "group_files.h"

#define TMP_FILE ".tmp"
#define TMP_LINK ".tmp-link"
/* held (flock) for the life of the files: one kaasd per directory */
#define LOCK_FILE ".lock"

struct group_file {
        char key[MEMBERSHIP_KEY_SIZE];
        char *name;
        struct group_reply_stamp stamp;
        size_t size;
};

struct group_files {
        char *dir;
        int dir_fd;
        int lock_fd;
        bool made;      /* the directory is ours to remove */
        struct group_file *files;
        size_t n, cap;
        size_t bytes, max_bytes;        /* of the files */
};

static bool ours(const char *name) {
        return strncmp(name, GROUP_FILE_GID_PREFIX, strlen(GROUP_FILE_GID_PREFIX)) == 0 ||
               strncmp(name, GROUP_FILE_NAME_PREFIX, strlen(GROUP_FILE_NAME_PREFIX)) == 0 ||
               strcmp(name, TMP_FILE) == 0 || strcmp(name, TMP_LINK) == 0;
}

/* Removes what a previous kaasd left: the files of this format only. */
static int remove_left(int dir_fd) {
        int fd = dup(dir_fd);
        if (fd < 0)
                return -errno;
        DIR *dir = fdopendir(fd);
        if (!dir) {
                int r = -errno;
                close(fd);
                return r;
        }
        int r = 0;
        struct dirent *e;
        errno = 0;
        while ((e = readdir(dir)))
                if (ours(e->d_name) && unlinkat(dir_fd, e->d_name, 0) < 0 && errno != ENOENT && r == 0)
                        r = -errno;
        closedir(dir);
        return r;
}

/* 0 when the directory holding path (the socket's) is writable by its
 * owner only: never "groups" beside a socket in /tmp, where no reader
 * could trust the files and the name is anyone's. */
static int parent_private(char *path) {
        char *slash = strrchr(path, '/');
        struct stat st;
        *slash = '\0';
        int r = stat(*path ? path : "/", &st) < 0 ? -errno : (st.st_mode & 022) ? -EPERM : 0;
        *slash = '/';
        return r;
}

int group_files_new(const char *socket_path, size_t max_bytes, struct group_files **ret) {
        char path[PATH_MAX];
        int r = group_file_dir(socket_path, path, sizeof(path));
        if (r < 0)
                return r;
        struct group_files *f = calloc(1, sizeof(*f));
        if (!f || !(f->dir = strdup(path))) {
                free(f);
                return -ENOMEM;
        }
        f->dir_fd = f->lock_fd = -1;
        f->max_bytes = max_bytes;
        bool made = false;
        if ((r = parent_private(path)) == 0) {
                if (mkdir(path, 0755) == 0) {
                        made = true;
                        if (chmod(path, 0755) < 0)  /* whatever the umask */
                                r = -errno;
                } else if (errno != EEXIST) {
                        r = -errno;
                }
        }
        struct stat st;
        int fd = -1;
        if (r == 0 && (fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                r = -errno;
        /* the module trusts the files as their directory's owner's: never
         * write into (nor remove from) a directory someone else may change */
        if (r == 0 && fstat(fd, &st) < 0)
                r = -errno;
        if (r == 0 && (st.st_uid != geteuid() || (st.st_mode & 022)))
                r = -EPERM;
        /* two kaasds with sockets in one directory would remove and
         * overwrite each other's files: the second goes without */
        if (r == 0 && ((f->lock_fd = openat(fd, LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0 ||
                       flock(f->lock_fd, LOCK_EX | LOCK_NB) < 0))
                r = errno == EWOULDBLOCK ? -EBUSY : -errno;
        if (r == 0) {
                f->dir_fd = fd;
                f->made = made;
                r = remove_left(f->dir_fd);
        } else {
                if (fd >= 0)
                        close(fd);
                if (made)
                        (void)rmdir(path);
        }
        if (r < 0) {
                group_files_free(f);
                return r;
        }
        *ret = f;
        return 0;
}

static void file_unlink(struct group_files *f, const struct group_file *g) {
        char name[NAME_MAX + 1];
        if (group_file_by_gid(g->stamp.gid, name, sizeof(name)) == 0)
                (void)unlinkat(f->dir_fd, name, 0);
        if (group_file_by_name(g->name, name, sizeof(name)) == 0)
                (void)unlinkat(f->dir_fd, name, 0);
}

static void file_drop(struct group_files *f, size_t i) {
        file_unlink(f, &f->files[i]);
        f->bytes -= f->files[i].size;
        free(f->files[i].name);
        f->files[i] = f->files[--f->n];
}

void group_files_clear(struct group_files *f) {
        if (!f)
                return;
        while (f->n > 0)
                file_drop(f, f->n - 1);
}

struct group_files *group_files_free(struct group_files *f) {
        if (!f)
                return NULL;
        if (f->dir_fd >= 0) {
                group_files_clear(f);
                (void)unlinkat(f->dir_fd, TMP_FILE, 0);
                (void)unlinkat(f->dir_fd, TMP_LINK, 0);
                if (f->made)
                        (void)unlinkat(f->dir_fd, LOCK_FILE, 0);
                close(f->dir_fd);
                if (f->made)
                        (void)rmdir(f->dir);
        }
        if (f->lock_fd >= 0)
                close(f->lock_fd);
        free(f->files);
        free(f->dir);
        free(f);
        return NULL;
}

const char *group_files_dir(const struct group_files *f) {
        return f->dir;
}

size_t group_files_count(const struct group_files *f) {
        return f ? f->n : 0;
}

size_t group_files_bytes(const struct group_files *f) {
        return f ? f->bytes : 0;
}

void group_files_set_max(struct group_files *f, size_t max_bytes) {
        f->max_bytes = max_bytes;
}

static bool stamp_equal(const struct group_reply_stamp *a, const struct group_reply_stamp *b) {
        return a->epoch == b->epoch && a->version == b->version && a->local == b->local && a->gid == b->gid &&
               a->max_members == b->max_members;
}

static int write_all(int fd, const char *p, size_t len) {
        for (size_t done = 0; done < len;) {
                ssize_t n = write(fd, p + done, len - done);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n > 0)
                        done += (size_t)n;
        }
        return 0;
}

/* Writes header and message as TMP_FILE, mode 0644 whatever the umask. */
static int write_tmp(int dir_fd, const char *header, const char *message, size_t len) {
        /* a new inode every time: never one a reader may have open */
        (void)unlinkat(dir_fd, TMP_FILE, 0);
        int fd = openat(dir_fd, TMP_FILE, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        int r = fchmod(fd, 0644) < 0 ? -errno : 0;
        if (r == 0)
                r = write_all(fd, header, strlen(header));
        if (r == 0)
                r = write_all(fd, message, len);
        if (close(fd) < 0 && r == 0)
                r = -errno;
        if (r < 0)
                (void)unlinkat(dir_fd, TMP_FILE, 0);
        return r;
}

/* Puts the new file in place under both names, each replaced at once:
 * a reader opens the old file or the new, never a part of one. */
static int write_files(struct group_files *f, const char *gid_file, const char *name_file, const char *header,
                       const char *message, size_t len) {
        int r = write_tmp(f->dir_fd, header, message, len);
        if (r < 0)
                return r;
        (void)unlinkat(f->dir_fd, TMP_LINK, 0);
        if (linkat(f->dir_fd, TMP_FILE, f->dir_fd, TMP_LINK, 0) < 0 ||
            renameat(f->dir_fd, TMP_LINK, f->dir_fd, name_file) < 0 ||
            renameat(f->dir_fd, TMP_FILE, f->dir_fd, gid_file) < 0) {
                r = -errno;
                (void)unlinkat(f->dir_fd, TMP_FILE, 0);
                (void)unlinkat(f->dir_fd, TMP_LINK, 0);
                (void)unlinkat(f->dir_fd, name_file, 0);
        }
        return r;
}

static struct group_file *file_find(struct group_files *f, const char *key) {
        for (size_t i = 0; i < f->n; i++)
                if (strcmp(f->files[i].key, key) == 0)
                        return &f->files[i];
        return NULL;
}

/* Whether the group's file is there under both names and younger than
 * half the TTL, as the module sees it (its mtime): whoever removed, aged
 * or replaced either name (another role's entry dropping a name it had
 * too), it is written again. */
static bool young(const struct group_files *f, const char *gid_file, const char *name_file, time_t now) {
        struct stat st, by_name;
        return fstatat(f->dir_fd, gid_file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               fstatat(f->dir_fd, name_file, &by_name, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
               st.st_ino == by_name.st_ino && st.st_dev == by_name.st_dev && st.st_mtime <= now &&
               st.st_mtime > now - GROUP_FILE_TTL_SEC / 2;
}

/* Removes what g's files were called that the new ones are not. */
static void unlink_renamed(struct group_files *f, const struct group_file *g, const char *gid_file,
                           const char *name_file) {
        char old[NAME_MAX + 1];
        if (group_file_by_gid(g->stamp.gid, old, sizeof(old)) == 0 && strcmp(old, gid_file) != 0)
                (void)unlinkat(f->dir_fd, old, 0);
        if (group_file_by_name(g->name, old, sizeof(old)) == 0 && strcmp(old, name_file) != 0)
                (void)unlinkat(f->dir_fd, old, 0);
}

int group_files_put(struct group_files *f, const char *name, const struct group_reply *reply, time_t now) {
        const char *key = reply->key;
        const struct group_reply_stamp *stamp = &reply->stamp;
        char gid_file[NAME_MAX + 1], name_file[NAME_MAX + 1], header[GROUP_FILE_HEADER_MAX];
        int r = group_file_by_gid(stamp->gid, gid_file, sizeof(gid_file));
        if (r == 0)
                r = group_file_by_name(name, name_file, sizeof(name_file));
        /* the entry's strings: the members, the name and "x", each with its NUL */
        int header_len = r < 0 || reply->len == 0 ? -EINVAL
                       : group_file_header(reply->n_members, reply->member_bytes + strlen(name) + 1 + 2, header,
                                           sizeof(header));
        if (r == 0 && header_len < 0)
                r = -EINVAL;
        /* the file's size: the header, and the message without its NUL */
        size_t len = r == 0 ? (size_t)header_len + reply->len - 1 : 0;
        struct group_file *g = file_find(f, key);
        if (r < 0 || strlen(key) >= MEMBERSHIP_KEY_SIZE) {
                if (g)  /* what the role was before must not stay either */
                        file_drop(f, (size_t)(g - f->files));
                return -EINVAL;
        }
        if (g && stamp_equal(&g->stamp, stamp) && strcmp(g->name, name) == 0 &&
            young(f, gid_file, name_file, now))
                return 0;
        size_t old = g ? g->size : 0;
        char *copy = NULL;
        if ((!g && f->n == GROUP_FILES_MAX) || len > f->max_bytes || f->bytes - old > f->max_bytes - len)
                r = -ENOSPC;
        if (r == 0 && !g && f->n == f->cap) {
                size_t cap = f->cap ? f->cap * 2 : 16;
                struct group_file *a = realloc(f->files, cap * sizeof(*a));
                if (a) {
                        f->files = a;
                        f->cap = cap;
                } else {
                        r = -ENOMEM;
                }
        }
        if (r == 0 && !(copy = strdup(name)))
                r = -ENOMEM;
        /* the new files replace the old in place: never a moment without */
        if (r == 0)
                r = write_files(f, gid_file, name_file, header, reply->message, reply->len - 1);
        if (r < 0) {
                free(copy);
                if (g)  /* the old ones are not this reply: they must not stay */
                        file_drop(f, (size_t)(g - f->files));
                return r;
        }
        if (g) {
                unlink_renamed(f, g, gid_file, name_file);
                free(g->name);
                f->bytes -= g->size;
        } else {
                g = &f->files[f->n++];
        }
        *g = (struct group_file){ .name = copy, .stamp = *stamp, .size = len };
        f->bytes += len;
        memcpy(g->key, key, strlen(key) + 1);
        return 0;
}

/* Whether the module would still take the group's file at now. */
static bool taken(const struct group_files *f, const struct group_file *g, time_t now) {
        char file[NAME_MAX + 1];
        struct stat st;
        return group_file_by_gid(g->stamp.gid, file, sizeof(file)) == 0 &&
               fstatat(f->dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
               st.st_mtime <= now + GROUP_FILE_CLOCK_SLACK_SEC && st.st_mtime > now - GROUP_FILE_TTL_SEC;
}

size_t group_files_sweep(struct group_files *f, time_t now, group_files_current_fn current, void *userdata) {
        size_t dropped = 0;
        for (size_t i = f ? f->n : 0; i-- > 0;)
                if (!taken(f, &f->files[i], now) ||
                    !current(f->files[i].key, f->files[i].name, &f->files[i].stamp, userdata)) {
                        file_drop(f, i);
                        dropped++;
                }
        return dropped;
}
