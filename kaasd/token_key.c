/* SPDX-License-Identifier: MIT */
/*
 * Loading, creating and using the token hashing key (see token_key.h).
 * Depends on libsodium and POSIX; never logs.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "token_key.h"

static int read_full(int fd, uint8_t *buf, size_t size) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EBADMSG;        /* shrank since fstat() */
                done += (size_t) n;
        }
        return 0;
}

static int write_full(int fd, const uint8_t *buf, size_t size) {
        size_t done = 0;

        while (done < size) {
                ssize_t n = write(fd, buf + done, size - done);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                done += (size_t) n;
        }
        return 0;
}

static int split_dir(const char *path, char dir[static PATH_MAX], const char **ret_base) {
        const char *slash = strrchr(path, '/');

        if (!slash) {
                strcpy(dir, ".");
                *ret_base = path;
                return 0;
        }
        if ((size_t) (slash - path) >= PATH_MAX)
                return -ENAMETOOLONG;
        if (slash == path)
                strcpy(dir, "/");
        else {
                memcpy(dir, path, (size_t) (slash - path));
                dir[slash - path] = '\0';
        }
        *ret_base = slash + 1;
        return 0;
}

static int fsync_dir(const char *dir) {
        int fd, r = 0;

        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                r = -errno;
        close(fd);
        return r;
}

static int key_from_fd(int fd, struct token_key *ret) {
        struct stat st;
        uint8_t buf[TOKEN_KEY_SIZE];
        int r;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0 || st.st_uid != geteuid())
                return -EPERM;
        if (st.st_size != TOKEN_KEY_SIZE)
                return -EBADMSG;

        r = read_full(fd, buf, sizeof(buf));
        if (r < 0) {
                sodium_memzero(buf, sizeof(buf));
                return r;
        }
        memcpy(ret->bytes, buf, sizeof(buf));
        ret->loaded = true;
        sodium_memzero(buf, sizeof(buf));
        return 0;
}

/* Write a new key to a temporary file in the same directory, then link(2) it into place: like
 * O_CREAT|O_EXCL the link fails if the name exists, and unlike it a crash between create and
 * write cannot leave an empty key file that would block the next start. */
static int key_create(const char *path, struct token_key *ret) {
        char dir[PATH_MAX], tmp[PATH_MAX];
        const char *base;
        uint8_t buf[TOKEN_KEY_SIZE];
        int fd, r;

        r = split_dir(path, dir, &base);
        if (r < 0)
                return r;
        if ((size_t) snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, base) >= sizeof(tmp))
                return -ENAMETOOLONG;

        fd = mkostemp(tmp, O_CLOEXEC);          /* mode 0600 */
        if (fd < 0)
                return -errno;

        randombytes_buf(buf, sizeof(buf));
        if (fchmod(fd, 0600) < 0)
                r = -errno;
        if (r >= 0)
                r = write_full(fd, buf, sizeof(buf));
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r >= 0 && link(tmp, path) < 0)
                r = -errno;
        (void) unlink(tmp);
        if (r >= 0)
                r = fsync_dir(dir);

        if (r == -EEXIST) {
                /* Someone created it concurrently: use theirs. */
                sodium_memzero(buf, sizeof(buf));
                fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return -errno;
                r = key_from_fd(fd, ret);
                close(fd);
                return r;
        }
        if (r < 0) {
                sodium_memzero(buf, sizeof(buf));
                return r;
        }

        memcpy(ret->bytes, buf, sizeof(buf));
        ret->loaded = true;
        sodium_memzero(buf, sizeof(buf));
        return 0;
}

int token_key_load(const char *path, bool store_has_tokens, struct token_key *ret) {
        struct token_key k = {};
        int fd, r;

        if (sodium_init() < 0)
                return -EIO;

        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                if (errno != ENOENT)
                        return -errno;
                if (store_has_tokens)
                        return -ENOKEY;
                r = key_create(path, &k);
        } else {
                r = key_from_fd(fd, &k);
                close(fd);
        }
        if (r < 0)
                return r;

        *ret = k;
        sodium_memzero(&k, sizeof(k));
        return 0;
}

void token_key_clear(struct token_key *key) {
        if (!key)
                return;
        sodium_memzero(key, sizeof(*key));
}

int token_key_hash(const struct token_key *key, const char *token, size_t len,
                   uint8_t ret[static TOKEN_HASH_SIZE]) {
        if (!key->loaded)
                return -EINVAL;
        if (crypto_generichash(ret, TOKEN_HASH_SIZE, (const unsigned char *) token, len,
                               key->bytes, TOKEN_KEY_SIZE) != 0)
                return -EINVAL;
        return 0;
}

const char *token_key_strerror(int r) {
        switch (r < 0 ? -r : r) {
        case 0:
                return "success";
        case ENOKEY:
                return "the token key file is missing but the store holds tokens; restore it from "
                       "backup (a new key would invalidate every token; to start over, remove the "
                       "store as well)";
        case EPERM:
                return "the token key file must be owned by the daemon's user and not accessible "
                       "by group or other (chmod 0600)";
        case EBADMSG:
                return "the token key file does not hold exactly 32 bytes";
        case EISDIR:
                return "the token key path is a directory";
        case ELOOP:
                return "the token key path is a symbolic link, which is refused";
        case EBADFD:
                return "the token key path is not a regular file";
        default:
                return strerror(r < 0 ? -r : r);
        }
}
