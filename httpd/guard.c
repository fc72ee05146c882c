/* See guard.h. One mutex guards the list of connections; the accept
 * policy runs in libmicrohttpd's listening thread, the phase changes in
 * each connection's thread, the deadline check in the guard's thread.
 * Counting one address's connections walks the list: O(connections) per
 * accepted connection, a few microseconds at max_connections' 10,000. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "guard.h"
#include "log.h"

#define GUARD_TICK_MS 1000
#define REFUSAL_LOG_INTERVAL_MS 1000

enum conn_phase {
        CONN_RECEIVING,   /* a request (or the TLS handshake) is arriving: deadline set */
        CONN_ANSWERING,   /* the request is in; kaasd's timeouts bound the answer */
        CONN_IDLE,        /* answered; waiting for bytes past idle_bytes */
};

/* What max_connections_per_client counts by: an IPv4 address (also when
 * it arrives IPv4-mapped on a dual-stack socket), or an IPv6 address's
 * /64, because a single host is routinely handed a whole /64 and may pick
 * a fresh address in it for every connection. */
struct client_addr {
        int family;                       /* AF_INET, AF_INET6; 0: unknown, not limited */
        unsigned char bytes[16];          /* AF_INET6: the /64, the rest zero */
};

struct hd_conn {
        struct hd_conn *prev, *next;
        struct hd_guard *guard;
        int fd;
        struct client_addr addr;
        enum conn_phase phase;
        unsigned long long deadline_ms;   /* CONN_RECEIVING: the whole request by then */
        unsigned long long idle_bytes;    /* CONN_IDLE: bytes received when the answer went out */
        bool idle_bytes_known;
        unsigned long long acked_bytes;   /* acknowledged by the peer when its queue last moved */
        unsigned long long stall_since_ms; /* when that was; 0: nothing queued for the peer */
        bool cut;                         /* shut down by the guard */
        char peer[INET6_ADDRSTRLEN + 8];
};

struct hd_guard {
        pthread_mutex_t lock;
        pthread_cond_t wake;
        pthread_t thread;
        bool stopping;
        struct hd_conn *conns;
        unsigned max_per_client;
        unsigned long long request_timeout_ms;
        unsigned long long last_refusal_log_ms;
        unsigned long long refusals_not_logged;
        struct hd_guard_events events;
};

static unsigned long long now_ms(void) {
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (unsigned long long)t.tv_sec * 1000ull + (unsigned long long)t.tv_nsec / 1000000ull;
}

static void addr_parse(const struct sockaddr *sa, struct client_addr *ret, char *peer, size_t peer_size) {
        char a[INET6_ADDRSTRLEN];
        memset(ret, 0, sizeof(*ret));
        snprintf(peer, peer_size, "?");
        if (sa && sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
                ret->family = AF_INET;
                memcpy(ret->bytes, &in->sin_addr, sizeof(in->sin_addr));
                if (inet_ntop(AF_INET, &in->sin_addr, a, sizeof(a)))
                        snprintf(peer, peer_size, "%s:%u", a, ntohs(in->sin_port));
        } else if (sa && sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
                        ret->family = AF_INET;
                        memcpy(ret->bytes, in6->sin6_addr.s6_addr + 12, 4);
                } else {
                        ret->family = AF_INET6;
                        memcpy(ret->bytes, in6->sin6_addr.s6_addr, 8);
                }
                if (inet_ntop(AF_INET6, &in6->sin6_addr, a, sizeof(a)))
                        snprintf(peer, peer_size, "[%s]:%u", a, ntohs(in6->sin6_port));
        }
}

static bool addr_equal(const struct client_addr *a, const struct client_addr *b) {
        return a->family == b->family && memcmp(a->bytes, b->bytes, sizeof(a->bytes)) == 0;
}

/* The kernel's count at offset off of fd's struct tcp_info: bytes
 * received or acknowledged so far (both Linux 4.1 and later; false on an
 * older kernel, whose struct ends before them). */
_Static_assert(sizeof(((struct tcp_info *)0)->tcpi_bytes_received) == sizeof(uint64_t) &&
               sizeof(((struct tcp_info *)0)->tcpi_bytes_acked) == sizeof(uint64_t),
               "tcp_count() reads 64-bit counts");
static bool tcp_count(int fd, size_t off, unsigned long long *ret) {
        struct tcp_info ti;
        socklen_t len = sizeof(ti);
        uint64_t v;
        memset(&ti, 0, sizeof(ti));
        if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0 || len < off + sizeof(v))
                return false;
        memcpy(&v, (const char *)&ti + off, sizeof(v));
        *ret = v;
        return true;
}

static bool bytes_received(int fd, unsigned long long *ret) {
        return tcp_count(fd, offsetof(struct tcp_info, tcpi_bytes_received), ret);
}

static bool bytes_acked(int fd, unsigned long long *ret) {
        return tcp_count(fd, offsetof(struct tcp_info, tcpi_bytes_acked), ret);
}

/* Whether the peer has taken none of what is queued for it for limit_ms:
 * bytes wait in the socket's send queue and the count the peer has
 * acknowledged has not moved. A client that reads slowly keeps moving it;
 * one that sends requests and never reads their answers (its receive
 * window shut) does not. */
static bool send_stalled(struct hd_conn *c, unsigned long long now, unsigned long long limit_ms) {
        int queued = 0;
        unsigned long long acked;
        if (ioctl(c->fd, SIOCOUTQ, &queued) < 0 || queued <= 0 || !bytes_acked(c->fd, &acked)) {
                c->stall_since_ms = 0;
                return false;
        }
        if (c->stall_since_ms == 0 || acked != c->acked_bytes) {
                c->acked_bytes = acked;
                c->stall_since_ms = now;
                return false;
        }
        return now - c->stall_since_ms >= limit_ms;
}

/* Ends c: the connection's thread sees the end of the stream and closes
 * it; the socket stays open (and ours to name) until "closed". */
static void cut(struct hd_guard *g, struct hd_conn *c, const char *why) {
        (void)shutdown(c->fd, SHUT_RDWR);
        c->cut = true;
        if (g->events.request_timeout)
                g->events.request_timeout();
        hd_info("closed %s: %s within request_timeout (%llu s)", c->peer, why, g->request_timeout_ms / 1000);
}

/* The deadline thread: starts the clock of idle connections whose next
 * request has begun to arrive, shuts down the overdue ones and those
 * whose peer does not take its answers. */
static void *guard_main(void *arg) {
        struct hd_guard *g = arg;
        pthread_mutex_lock(&g->lock);
        while (!g->stopping) {
                unsigned long long now = now_ms(), n;
                for (struct hd_conn *c = g->conns; c; c = c->next) {
                        if (c->cut)
                                continue;
                        if (c->phase == CONN_IDLE && c->idle_bytes_known && bytes_received(c->fd, &n) &&
                            n > c->idle_bytes) {
                                c->phase = CONN_RECEIVING;
                                c->deadline_ms = now + g->request_timeout_ms;
                        }
                        if (send_stalled(c, now, g->request_timeout_ms))
                                cut(g, c, "took none of its answers");
                        else if (c->phase == CONN_RECEIVING && now >= c->deadline_ms)
                                cut(g, c, "no whole request");
                }
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += GUARD_TICK_MS / 1000;
                pthread_cond_timedwait(&g->wake, &g->lock, &until);
        }
        pthread_mutex_unlock(&g->lock);
        return NULL;
}

int hd_guard_new(unsigned max_per_client, unsigned request_timeout_sec, const struct hd_guard_events *events,
                 struct hd_guard **ret) {
        struct hd_guard *g = calloc(1, sizeof(*g));
        pthread_condattr_t ca;
        int r;
        if (!g)
                return -ENOMEM;
        g->max_per_client = max_per_client;
        if (events)
                g->events = *events;
        g->request_timeout_ms = (unsigned long long)request_timeout_sec * 1000ull;
        pthread_mutex_init(&g->lock, NULL);
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&g->wake, &ca);
        pthread_condattr_destroy(&ca);
        if ((r = pthread_create(&g->thread, NULL, guard_main, g)) != 0) {
                pthread_cond_destroy(&g->wake);
                pthread_mutex_destroy(&g->lock);
                free(g);
                return -r;
        }
        *ret = g;
        return 0;
}

struct hd_guard *hd_guard_free(struct hd_guard *g) {
        if (!g)
                return NULL;
        pthread_mutex_lock(&g->lock);
        g->stopping = true;
        pthread_cond_signal(&g->wake);
        pthread_mutex_unlock(&g->lock);
        pthread_join(g->thread, NULL);
        while (g->conns) {
                struct hd_conn *c = g->conns;
                g->conns = c->next;
                free(c);
        }
        pthread_cond_destroy(&g->wake);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return NULL;
}

bool hd_guard_admit(struct hd_guard *g, const struct sockaddr *addr, socklen_t len) {
        struct client_addr a;
        char peer[INET6_ADDRSTRLEN + 8];
        (void)len;
        addr_parse(addr, &a, peer, sizeof(peer));
        if (!a.family)
                return true;
        unsigned n = 0;
        pthread_mutex_lock(&g->lock);
        for (const struct hd_conn *c = g->conns; c && n < g->max_per_client; c = c->next)
                if (addr_equal(&c->addr, &a))
                        n++;
        bool admit = n < g->max_per_client;
        if (!admit) {
                if (g->events.refused)
                        g->events.refused();
                /* one line a second at most: a flood must not flood the log too */
                unsigned long long now = now_ms();
                if (now - g->last_refusal_log_ms >= REFUSAL_LOG_INTERVAL_MS) {
                        hd_notice("refused %s: its address has %u connections open (max_connections_per_client); "
                                  "%llu more refused since the last such line",
                                  peer, n, g->refusals_not_logged);
                        g->last_refusal_log_ms = now;
                        g->refusals_not_logged = 0;
                } else {
                        g->refusals_not_logged++;
                }
        }
        pthread_mutex_unlock(&g->lock);
        return admit;
}

struct hd_conn *hd_guard_opened(struct hd_guard *g, int fd, const struct sockaddr *addr) {
        struct hd_conn *c = calloc(1, sizeof(*c));
        if (!c)
                return NULL;
        c->guard = g;
        c->fd = fd;
        addr_parse(addr, &c->addr, c->peer, sizeof(c->peer));
        c->phase = CONN_RECEIVING;
        c->deadline_ms = now_ms() + g->request_timeout_ms;
        pthread_mutex_lock(&g->lock);
        c->next = g->conns;
        if (g->conns)
                g->conns->prev = c;
        g->conns = c;
        pthread_mutex_unlock(&g->lock);
        if (g->events.connections)
                g->events.connections(1);
        return c;
}

void hd_guard_closed(struct hd_guard *g, struct hd_conn *c) {
        if (!c)
                return;
        pthread_mutex_lock(&g->lock);
        if (c->prev)
                c->prev->next = c->next;
        else
                g->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        pthread_mutex_unlock(&g->lock);
        if (g->events.connections)
                g->events.connections(-1);
        free(c);
}

void hd_guard_answering(struct hd_conn *c) {
        if (!c)
                return;
        struct hd_guard *g = c->guard;
        pthread_mutex_lock(&g->lock);
        /* also from CONN_IDLE: a request may arrive whole before the guard
         * notices its first byte */
        c->phase = CONN_ANSWERING;
        pthread_mutex_unlock(&g->lock);
}

void hd_guard_answered(struct hd_conn *c) {
        if (!c)
                return;
        struct hd_guard *g = c->guard;
        /* whatever arrives after this is the next request */
        unsigned long long n = 0;
        bool known = bytes_received(c->fd, &n);
        pthread_mutex_lock(&g->lock);
        c->phase = CONN_IDLE;
        c->idle_bytes = n;
        c->idle_bytes_known = known;
        pthread_mutex_unlock(&g->lock);
}
