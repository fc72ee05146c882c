/* bench-echo-server: the baseline of the varlink benchmarks — the least a
 * server can do for one NUL-framed call over AF_UNIX. One thread, epoll,
 * non-blocking sockets, like kaasd; for every NUL byte received it sends a
 * reply of REPLY_SIZE bytes (the last one a NUL), so the round trip moves
 * the same bytes as the call it stands for, and does nothing else.
 *
 *   bench-echo-server SOCKET REPLY_SIZE
 *
 * Runs until SIGTERM or SIGINT; removes SOCKET on exit. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_EVENTS 64
#define READ_SIZE 65536

struct peer {
        int fd;
        uint64_t owed;     /* replies not yet written */
        size_t offset;     /* bytes of the current reply already written */
        bool out_armed;    /* EPOLLOUT requested */
};

static volatile sig_atomic_t stop;

static void on_signal(int signo) {
        stop = 1;
}

static char *reply;
static size_t reply_size;

/* Writes what is owed; false when the peer is gone. */
static bool flush_peer(struct peer *p, bool *ret_blocked) {
        *ret_blocked = false;
        while (p->owed > 0) {
                ssize_t k = send(p->fd, reply + p->offset, reply_size - p->offset, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                *ret_blocked = true;
                                return true;
                        }
                        return false;
                }
                p->offset += (size_t)k;
                if (p->offset == reply_size) {
                        p->offset = 0;
                        p->owed--;
                }
        }
        return true;
}

int main(int argc, char **argv) {
        if (argc != 3) {
                fprintf(stderr, "usage: %s SOCKET REPLY_SIZE\n", argv[0]);
                return 2;
        }
        reply_size = strtoul(argv[2], NULL, 10);
        if (reply_size < 1 || reply_size > 16 * 1024 * 1024) {
                fprintf(stderr, "%s: REPLY_SIZE must be 1..16M\n", argv[0]);
                return 2;
        }
        reply = malloc(reply_size);
        if (!reply)
                return 1;
        memset(reply, 'x', reply_size - 1);
        reply[reply_size - 1] = '\0';

        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        struct sockaddr_un addr = { .sun_family = AF_UNIX };
        if (strlen(argv[1]) >= sizeof(addr.sun_path))
                return 2;
        strcpy(addr.sun_path, argv[1]);
        unlink(argv[1]);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(lfd, SOMAXCONN) < 0) {
                perror("bench-echo-server: listen");
                return 1;
        }
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) {
                perror("bench-echo-server: epoll");
                return 1;
        }
        char *buf = malloc(READ_SIZE);
        if (!buf)
                return 1;
        struct epoll_event events[MAX_EVENTS];
        while (!stop) {
                int n = epoll_wait(ep, events, MAX_EVENTS, -1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("bench-echo-server: epoll_wait");
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        struct peer *p = events[i].data.ptr;
                        if (!p) {
                                int fd;
                                while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                                        struct peer *np = calloc(1, sizeof(*np));
                                        struct epoll_event e = { .events = EPOLLIN, .data.ptr = np };
                                        if (!np || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0) {
                                                free(np);
                                                close(fd);
                                                continue;
                                        }
                                        np->fd = fd;
                                }
                                continue;
                        }
                        bool alive = true;
                        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                                ssize_t k = read(p->fd, buf, READ_SIZE);
                                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                                        alive = false;
                                for (ssize_t j = 0; j < k; j++)
                                        if (buf[j] == '\0')
                                                p->owed++;
                        }
                        bool blocked = false;
                        if (alive)
                                alive = flush_peer(p, &blocked);
                        if (alive && blocked != p->out_armed) {
                                struct epoll_event e = { .events = EPOLLIN | (blocked ? EPOLLOUT : 0), .data.ptr = p };
                                (void)epoll_ctl(ep, EPOLL_CTL_MOD, p->fd, &e);
                                p->out_armed = blocked;
                        } else if (!alive) {
                                epoll_ctl(ep, EPOLL_CTL_DEL, p->fd, NULL);
                                close(p->fd);
                                free(p);
                        }
                }
        }
        unlink(argv[1]);
        return 0;
}
