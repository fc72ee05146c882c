/* libkaas: client lifecycle and the connection to kaasd — socket path
 * resolution, non-blocking connect with a deadline, the descriptor habits
 * a library inside other processes needs (above fd 2, close-on-exec,
 * reconnect after fork()), and the optional check that kaasd runs as an
 * expected user. Calls are in libkaas_call.c, messages in libkaas_error.c. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libkaas_internal.h"
#include "passwd_file.h"

#ifndef RUNSTATEDIR
#  error "RUNSTATEDIR must be defined by the build"
#endif
#define DEFAULT_SOCKET_PATH RUNSTATEDIR "/kaas/kaasd.sock"

/* Retry interval bounds while kaasd's listen backlog is full. */
#define BACKLOG_RETRY_MIN_MS 1
#define BACKLOG_RETRY_MAX_MS 64

KAAS_PUBLIC const char *kaas_socket_path(const char *socket_path) {
        if (socket_path && *socket_path)
                return socket_path;
        const char *env = secure_getenv(KAAS_SOCKET_ENV);
        if (env && *env)
                return env;
        return DEFAULT_SOCKET_PATH;
}

int64_t libkaas_deadline(int timeout_ms) {
        if (timeout_ms < 0)
                return INT64_MAX;
        if (timeout_ms == 0)
                timeout_ms = KAAS_DEFAULT_TIMEOUT_MS;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + timeout_ms;
}

/* Milliseconds left until the deadline as poll() takes them. */
static int remaining_ms(int64_t deadline) {
        if (deadline == INT64_MAX)
                return -1;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        if (now >= deadline)
                return 0;
        return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

int libkaas_wait(int fd, short events, int64_t deadline) {
        for (;;) {
                struct pollfd p = { .fd = fd, .events = events };
                int ms = remaining_ms(deadline);
                int n = poll(&p, 1, ms);
                if (n > 0)
                        return 0;  /* errors and hang-ups surface in the read or write */
                if (n == 0) {
                        if (ms != 0 && remaining_ms(deadline) != 0)
                                continue;  /* woke early (clock granularity) */
                        return -ETIMEDOUT;
                }
                if (errno != EINTR)
                        return -errno;
        }
}

int libkaas_read_deadline(struct kaas_client *c, int64_t deadline) {
        if (deadline == INT64_MAX)
                return 0;  /* a timeout still set only ends a read early */
        int left = remaining_ms(deadline);
        if (left == 0)
                return -ETIMEDOUT;
        if (c->recv_timeout_ms > 0 && c->recv_timeout_ms <= left)
                return 0;
        /* half of what is left, so the next calls with the same timeout
         * find it short enough and need no setsockopt() of their own */
        int ms = left > 100 ? left / 2 : left;
        struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
        if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
                return -errno;
        c->recv_timeout_ms = ms;
        return 0;
}

static void sleep_ms(int ms) {
        (void)poll(NULL, 0, ms);
}

static int reset_buffers(struct kaas_client *c) {
        struct vl_reader *r = NULL;
        struct vl_writer *w = NULL;
        int k;
        /* a call is at most max_message bytes plus its NUL */
        if ((k = vl_reader_new(c->max_message, &r)) < 0 ||
            (k = vl_writer_new(c->max_message + 1, &w)) < 0) {
                vl_reader_free(r);
                return k;
        }
        vl_reader_free(c->reader);
        vl_writer_free(c->writer);
        c->reader = r;
        c->writer = w;
        return 0;
}

void libkaas_disconnect(struct kaas_client *c) {
        /* close(), never shutdown(): after fork() the parent still uses the
         * same connection through its own descriptor */
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        c->n_pending = 0;
        c->answered = false;
        c->recv_timeout_ms = 0;
}

static bool peer_uid_allowed(const struct kaas_client *c, uid_t uid) {
        for (size_t i = 0; i < c->n_peer_uids; i++)
                if (c->peer_uids[i] == uid)
                        return true;
        return false;
}

/* The socket file must be a socket owned by a required user. */
static int check_socket_owner(const struct kaas_client *c) {
        struct stat st;
        if (lstat(c->socket_path, &st) < 0)
                return -errno;
        if (!S_ISSOCK(st.st_mode) || !peer_uid_allowed(c, st.st_uid))
                return -EPERM;
        return 0;
}

/* The process listening on the other end must run as a required user. */
static int check_peer(const struct kaas_client *c, int fd) {
        struct ucred cred;
        socklen_t len = sizeof(cred);
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
                return -errno;
        if (len != sizeof(cred) || !peer_uid_allowed(c, cred.uid))
                return -EPERM;
        return 0;
}

/* A new AF_UNIX stream socket, non-blocking, close-on-exec and above fd 2,
 * so a daemon that closed its stdio never writes its output into kaasd. */
static int new_socket(void) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (fd >= 3)
                return fd;
        int moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        int saved = errno;
        close(fd);
        return moved < 0 ? -saved : moved;
}

static int connect_socket(struct kaas_client *c, int64_t deadline) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(c->socket_path);
        if (len >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, c->socket_path, len + 1);
        socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);

        int r;
        if (c->require_peer_uid && (r = check_socket_owner(c)) < 0)
                return r;
        int fd = new_socket();
        if (fd < 0)
                return fd;

        int retry_ms = BACKLOG_RETRY_MIN_MS;
        for (;;) {
                if (connect(fd, (const struct sockaddr *)&sa, salen) == 0)
                        break;
                if (errno == EINPROGRESS || errno == EINTR) {
                        /* completes in the background: wait, then ask how */
                        int err = 0;
                        socklen_t elen = sizeof(err);
                        if ((r = libkaas_wait(fd, POLLOUT, deadline)) < 0)
                                goto fail;
                        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) {
                                r = -errno;
                                goto fail;
                        }
                        if (err != 0) {
                                r = -err;
                                goto fail;
                        }
                        break;
                }
                if (errno != EAGAIN) {
                        r = -errno;
                        goto fail;
                }
                /* kaasd's listen backlog is full: it is busy, not gone */
                int left = remaining_ms(deadline);
                if (left == 0) {
                        r = -ETIMEDOUT;
                        goto fail;
                }
                sleep_ms(left > 0 && left < retry_ms ? left : retry_ms);
                if (retry_ms < BACKLOG_RETRY_MAX_MS)
                        retry_ms *= 2;
        }
        /* before any byte, and so any secret, is sent */
        if (c->require_peer_uid && (r = check_peer(c, fd)) < 0)
                goto fail;
        /* Replies are read blocking, bounded by SO_RCVTIMEO: one read()
         * instead of poll() and read() per call. Sends stay non-blocking
         * (MSG_DONTWAIT), waiting in poll() only when the socket is full. */
        if (fcntl(fd, F_SETFL, 0) < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = reset_buffers(c)) < 0)
                goto fail;
        c->fd = fd;
        c->pid = getpid();
        c->n_pending = 0;
        c->answered = false;
        c->recv_timeout_ms = 0;
        return 0;
fail:
        close(fd);
        return r;
}

/* An idle connection that is readable has been closed by kaasd (idle
 * timeout, restart, a refusal at its connection limit) or carries
 * something nobody asked for: either way it cannot take a call. Asked
 * until kaasd has answered on the connection; later, the send finds a
 * closed connection (EPIPE), and send_call() opens a new one. */
static bool idle_connection_is_stale(struct kaas_client *c) {
        if (c->n_pending > 0 || c->answered)
                return false;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int n;
        do
                n = poll(&p, 1, 0);
        while (n < 0 && errno == EINTR);
        return n != 0;
}

int libkaas_ensure_connected(struct kaas_client *c, int64_t deadline) {
        if (c->fd >= 0 && c->pid != getpid())
                libkaas_disconnect(c);  /* the parent's connection, inherited */
        else if (c->fd >= 0 && idle_connection_is_stale(c))
                libkaas_disconnect(c);
        if (c->fd >= 0)
                return 0;
        return connect_socket(c, deadline);
}

KAAS_PUBLIC int kaas_client_new(const char *socket_path, int timeout_ms, struct kaas_client **ret) {
        struct kaas_client *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = -1;
        c->timeout_ms = timeout_ms;
        c->max_message = KAAS_DEFAULT_MAX_MESSAGE_SIZE;
        c->socket_path = strdup(kaas_socket_path(socket_path));
        if (!c->socket_path) {
                free(c);
                return -ENOMEM;
        }
        *ret = c;
        return 0;
}

KAAS_PUBLIC int kaas_client_connect(struct kaas_client *c) {
        return libkaas_ensure_connected(c, libkaas_deadline(c->timeout_ms));
}

KAAS_PUBLIC int kaas_connect(const char *socket_path, int timeout_ms, struct kaas_client **ret) {
        struct kaas_client *c;
        int r = kaas_client_new(socket_path, timeout_ms, &c);
        if (r < 0)
                return r;
        r = kaas_client_connect(c);
        if (r < 0) {
                kaas_client_free(c);
                return r;
        }
        *ret = c;
        return 0;
}

KAAS_PUBLIC struct kaas_client *kaas_client_free(struct kaas_client *c) {
        if (!c)
                return NULL;
        libkaas_disconnect(c);
        vl_reader_free(c->reader);
        vl_writer_free(c->writer);
        free(c->socket_path);
        free(c);
        return NULL;
}

/* Applies the users set in c: at the next connect, or now on an open
 * connection (closed when it fails). */
static int require_peer(struct kaas_client *c) {
        c->require_peer_uid = true;
        if (c->fd < 0 || c->pid != getpid())
                return 0;  /* checked when the connection is opened */
        int r = check_socket_owner(c);
        if (r >= 0)
                r = check_peer(c, c->fd);
        if (r < 0)
                libkaas_disconnect(c);
        return r;
}

KAAS_PUBLIC int kaas_client_require_peer_uid(struct kaas_client *c, uid_t uid) {
        c->peer_uids[0] = uid;
        c->n_peer_uids = 1;
        return require_peer(c);
}

KAAS_PUBLIC int kaas_client_require_kaasd(struct kaas_client *c, uid_t kaasd_uid) {
        c->peer_uids[0] = 0;
        c->n_peer_uids = 1;
        if (kaasd_uid != 0 && kaasd_uid != KAAS_UID_INVALID)
                c->peer_uids[c->n_peer_uids++] = kaasd_uid;
        return require_peer(c);
}

KAAS_PUBLIC int kaas_kaasd_uid(const char *user, uid_t *ret) {
        if (!user || !*user)
                return -EINVAL;
        char *end;
        errno = 0;
        unsigned long n = strtoul(user, &end, 10);
        if (user[0] >= '0' && user[0] <= '9' && !*end && errno == 0 && n < KAAS_UID_INVALID) {
                *ret = (uid_t)n;
                return 0;
        }
        /* the passwd file, not NSS: through nss_kaas a Keystone user of
         * that name would have a uid, and be sent passwords and tokens */
        int r = passwd_file_find(PASSWD_FILE_DEFAULT, user, ret);
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

KAAS_PUBLIC void kaas_client_set_timeout(struct kaas_client *c, int timeout_ms) {
        c->timeout_ms = timeout_ms;
}

KAAS_PUBLIC int kaas_client_set_max_message_size(struct kaas_client *c, size_t bytes) {
        if (c->n_pending > 0 && c->pid == getpid())
                return -EBUSY;
        if (bytes == 0)
                bytes = KAAS_DEFAULT_MAX_MESSAGE_SIZE;
        if (bytes >= SIZE_MAX / 2)
                return -EINVAL;
        size_t old = c->max_message;
        c->max_message = bytes;
        if (c->reader) {
                int r = reset_buffers(c);
                if (r < 0) {
                        c->max_message = old;
                        return r;
                }
        }
        return 0;
}

KAAS_PUBLIC const char *kaas_client_get_socket_path(const struct kaas_client *c) {
        return c->socket_path;
}
