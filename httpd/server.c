/* See server.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "guard.h"
#include "listen.h"
#include "log.h"
#include "server.h"

#define PEM_FILE_MAX (1024 * 1024)
/* each connection has a thread: 1 MiB of stack instead of glibc's 8 MiB
 * (from RLIMIT_STACK) reserves 10 GiB of address space for 10,000 of
 * them, not 80, which matters under RLIMIT_AS or strict overcommit;
 * jansson's nesting limit keeps parsing well within it */
#define THREAD_STACK_SIZE (1024 * 1024)

struct hd_server {
        struct MHD_Daemon *mhd;
        struct hd_guard *guard;
        MHD_RequestCompletedCallback completed;
        void *cls;
};

static struct hd_conn *conn_of(struct MHD_Connection *conn) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        return ci ? ci->socket_context : NULL;
}

void hd_answering(struct MHD_Connection *conn) {
        hd_guard_answering(conn_of(conn));
}

void hd_peer_name(struct MHD_Connection *conn, char *buf, size_t size) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        snprintf(buf, size, "?");
        if (!ci || !ci->client_addr)
                return;
        char a[INET6_ADDRSTRLEN];
        if (ci->client_addr->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
                if (inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)))
                        snprintf(buf, size, "%s:%u", a, ntohs(in->sin_port));
        } else if (ci->client_addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ci->client_addr;
                if (inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a)))
                        snprintf(buf, size, "[%s]:%u", a, ntohs(in6->sin6_port));
        }
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        struct hd_server *srv = cls;
        hd_guard_answered(conn_of(conn));
        if (srv->completed)
                srv->completed(srv->cls, conn, con_cls, toe);
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len) {
        struct hd_server *srv = cls;
        return hd_guard_admit(srv->guard, addr, len) ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code) {
        struct hd_server *srv = cls;
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                const union MHD_ConnectionInfo *fd = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                const union MHD_ConnectionInfo *ca = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (fd)
                        *socket_context = hd_guard_opened(srv->guard, fd->connect_fd, ca ? ca->client_addr : NULL);
        } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                /* before libmicrohttpd closes the socket: the guard stops naming it */
                hd_guard_closed(srv->guard, *socket_context);
                *socket_context = NULL;
        }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
        char text[512];
        vsnprintf(text, sizeof(text), fmt, ap);
        hd_info("libmicrohttpd: %s", text);
}

/* Reads a PEM file whole (NUL-terminated, for MHD). */
static int read_pem(const char *path, char **ret, size_t *ret_len, char *err, size_t err_size) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                int r = -errno;
                snprintf(err, err_size, "%s: %s", path, strerror(-r));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > PEM_FILE_MAX) {
                snprintf(err, err_size, "%s: not a regular file of 1 byte to %d bytes", path, PEM_FILE_MAX);
                close(fd);
                return -EINVAL;
        }
        size_t cap = (size_t)st.st_size + 1, len = 0;
        char *buf = malloc(cap);
        if (!buf) {
                close(fd);
                return -ENOMEM;
        }
        while (len < cap - 1) {
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        close(fd);
        buf[len] = 0;
        if (len == 0 || !strstr(buf, "-----BEGIN ")) {
                snprintf(err, err_size, "%s: not a PEM file", path);
                explicit_bzero(buf, cap);
                free(buf);
                return -EINVAL;
        }
        *ret = buf;
        *ret_len = cap;
        return 0;
}

static void free_pem(char *buf, size_t cap) {
        if (buf)
                explicit_bzero(buf, cap);
        free(buf);
}

int hd_server_start(const struct hd_server_options *o, struct hd_server **ret, char *err, size_t err_size) {
        struct hd_server *srv = calloc(1, sizeof(*srv));
        char *cert = NULL, *key = NULL, *ca = NULL;
        size_t cert_cap = 0, key_cap = 0, ca_cap = 0;
        int fd = -1, r;
        if (!srv)
                return -ENOMEM;
        srv->completed = o->completed;
        srv->cls = o->cls;
        if ((r = hd_guard_new(o->max_connections_per_client, o->request_timeout_sec, &o->events, &srv->guard)) < 0) {
                free(srv);
                snprintf(err, err_size, "cannot start the connection guard: %s", strerror(-r));
                return r;
        }
        const bool plain = o->plaintext;
        if (!plain && ((r = read_pem(o->cert_file, &cert, &cert_cap, err, err_size)) < 0 ||
                       (r = read_pem(o->key_file, &key, &key_cap, err, err_size)) < 0 ||
                       (o->client_ca_file && (r = read_pem(o->client_ca_file, &ca, &ca_cap, err, err_size)) < 0)))
                goto fail;
        if (!plain && (fd = hd_bind_listen(o->listen, err, err_size)) < 0) {
                r = fd;
                goto fail;
        }
        /* MHD_OPTION_HTTPS_MEM_TRUST makes MHD ask for a client
         * certificate; checking it is the daemon's, per request. MHD reads
         * the array up to its first MHD_OPTION_END: in plaintext mode, none. */
        struct MHD_OptionItem tls[] = {
                { plain ? MHD_OPTION_END : MHD_OPTION_LISTEN_SOCKET, fd, NULL },
                { MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
                { MHD_OPTION_HTTPS_MEM_KEY, 0, key },
                { MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)o->tls_priorities },
                { ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, ca },
                { MHD_OPTION_END, 0, NULL },
        };
        srv->mhd = MHD_start_daemon(
                MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC |
                        (plain ? MHD_USE_NO_LISTEN_SOCKET : MHD_USE_TLS),
                0, on_accept, srv, o->access, o->cls,
                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
                MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
                MHD_OPTION_CONNECTION_TIMEOUT, o->connection_timeout_sec,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                MHD_OPTION_THREAD_STACK_SIZE, (size_t)THREAD_STACK_SIZE,
                MHD_OPTION_ARRAY, tls,
                MHD_OPTION_END);
        if (!srv->mhd) {
                snprintf(err, err_size,
                         "cannot start the HTTPS server on %s (certificate %s and key %s must match and parse; "
                         "tls_priorities must be valid; see the log)",
                         o->listen, o->cert_file, o->key_file);
                r = -EINVAL;
                goto fail;
        }
        /* GnuTLS keeps its own copies: the key leaves our memory now */
        free_pem(cert, cert_cap);
        free_pem(key, key_cap);
        free_pem(ca, ca_cap);
        *ret = srv;
        return 0;
fail:
        if (fd >= 0)
                close(fd);
        free_pem(cert, cert_cap);
        free_pem(key, key_cap);
        free_pem(ca, ca_cap);
        hd_guard_free(srv->guard);
        free(srv);
        return r < 0 ? r : -EINVAL;
}

int hd_server_add_connection(struct hd_server *srv, int fd, const struct sockaddr *addr, socklen_t len) {
        return MHD_add_connection(srv->mhd, fd, addr, len) == MHD_YES ? 0 : -EIO;
}

void hd_server_quiesce(struct hd_server *srv) {
        MHD_socket lfd = MHD_quiesce_daemon(srv->mhd);
        if (lfd != MHD_INVALID_SOCKET)
                close(lfd);
}

int hd_server_drain(struct hd_server *srv, atomic_int *active, unsigned timeout_sec) {
        hd_server_quiesce(srv);
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int n;
        while ((n = atomic_load(active)) > 0) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                if ((unsigned long long)(t.tv_sec - t0.tv_sec) >= timeout_sec)
                        break;
                nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
        }
        return n;
}

struct hd_server *hd_server_free(struct hd_server *srv) {
        if (!srv)
                return NULL;
        MHD_stop_daemon(srv->mhd);
        hd_guard_free(srv->guard);
        free(srv);
        return NULL;
}
