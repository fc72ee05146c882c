/* libcurl's multi interface on kaasd's event loop; see curl_loop.h. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "curl_loop.h"

struct curl_socket {
        struct curl_loop *cl;
        struct loop_io *io;
        curl_socket_t fd;
        struct curl_socket *prev, *next;
};

struct curl_loop {
        struct loop *loop;
        CURLM *multi;
        struct loop_timer *timer;
        struct curl_socket *sockets;
        curl_loop_done_fn done;
        void *userdata;
        bool global;
};

static void process_done(struct curl_loop *cl) {
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(cl->multi, &left)))
                if (m->msg == CURLMSG_DONE)
                        cl->done(m->easy_handle, m->data.result, cl->userdata);
}

static void on_socket_event(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct curl_loop *cl = userdata;
        int mask = 0, running;
        if (events & EPOLLIN)
                mask |= CURL_CSELECT_IN;
        if (events & EPOLLOUT)
                mask |= CURL_CSELECT_OUT;
        if (events & (EPOLLERR | EPOLLHUP))
                mask |= CURL_CSELECT_ERR;
        curl_multi_socket_action(cl->multi, fd, mask, &running);
        process_done(cl);
}

static void socket_free(struct curl_loop *cl, struct curl_socket *sock) {
        loop_io_remove(sock->io);
        if (sock->prev)
                sock->prev->next = sock->next;
        else
                cl->sockets = sock->next;
        if (sock->next)
                sock->next->prev = sock->prev;
        free(sock);
}

static int on_curl_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp) {
        struct curl_loop *cl = userp;
        struct curl_socket *sock = socketp;
        if (what == CURL_POLL_REMOVE) {
                if (sock) {
                        socket_free(cl, sock);
                        curl_multi_assign(cl->multi, s, NULL);
                }
                return 0;
        }
        uint32_t events = 0;
        if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
                events |= EPOLLIN;
        if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
                events |= EPOLLOUT;
        if (!sock) {
                sock = calloc(1, sizeof(*sock));
                if (!sock)
                        return -1;
                sock->cl = cl;
                sock->fd = s;
                if (loop_io_add(cl->loop, s, events, on_socket_event, cl, &sock->io) < 0) {
                        free(sock);
                        return -1;
                }
                sock->next = cl->sockets;
                if (cl->sockets)
                        cl->sockets->prev = sock;
                cl->sockets = sock;
                curl_multi_assign(cl->multi, s, sock);
                return 0;
        }
        return loop_io_set_events(sock->io, events) < 0 ? -1 : 0;
}

static void on_timer_fired(struct loop_timer *t, void *userdata) {
        struct curl_loop *cl = userdata;
        int running;
        cl->timer = NULL;  /* the loop frees it after this callback */
        curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        process_done(cl);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp) {
        struct curl_loop *cl = userp;
        loop_timer_cancel(cl->timer);
        cl->timer = NULL;
        if (timeout_ms < 0)
                return 0;
        return loop_timer_add(cl->loop, loop_now_usec() + (uint64_t)timeout_ms * 1000u, on_timer_fired, cl,
                              &cl->timer) < 0 ? -1 : 0;
}

int curl_loop_new(struct loop *loop, long max_connections, curl_loop_done_fn done, void *userdata,
                  struct curl_loop **ret) {
        struct curl_loop *cl = calloc(1, sizeof(*cl));
        if (!cl)
                return -ENOMEM;
        cl->loop = loop;
        cl->done = done;
        cl->userdata = userdata;
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                free(cl);
                return -EIO;
        }
        cl->global = true;
        if (!(cl->multi = curl_multi_init())) {
                curl_loop_free(cl);
                return -ENOMEM;
        }
        curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
        curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
        curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
        curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
        curl_multi_setopt(cl->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, max_connections);
        curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, max_connections);
        *ret = cl;
        return 0;
}

struct curl_loop *curl_loop_free(struct curl_loop *cl) {
        if (!cl)
                return NULL;
        if (cl->multi)
                curl_multi_cleanup(cl->multi);
        while (cl->sockets)
                socket_free(cl, cl->sockets);
        loop_timer_cancel(cl->timer);
        if (cl->global)
                curl_global_cleanup();
        free(cl);
        return NULL;
}

int curl_loop_add(struct curl_loop *cl, CURL *easy) {
        return curl_multi_add_handle(cl->multi, easy) == CURLM_OK ? 0 : -ENOMEM;
}

void curl_loop_remove(struct curl_loop *cl, CURL *easy) {
        curl_multi_remove_handle(cl->multi, easy);
}

size_t curl_body_append(struct curl_body *body, const char *data, size_t n, size_t max) {
        if (body->len + n > max) {
                body->too_big = true;
                return 0;  /* aborts the transfer with CURLE_WRITE_ERROR */
        }
        if (body->len + n + 1 > body->cap) {
                size_t cap = body->cap ? body->cap : 4096;
                while (cap < body->len + n + 1)
                        cap *= 2;
                char *p = realloc(body->data, cap);
                if (!p)
                        return 0;
                body->data = p;
                body->cap = cap;
        }
        memcpy(body->data + body->len, data, n);
        body->len += n;
        body->data[body->len] = '\0';
        return n;
}

void curl_slist_free_wiped(struct curl_slist *l) {
        for (struct curl_slist *i = l; i; i = i->next)
                if (i->data)
                        sodium_memzero(i->data, strlen(i->data));
        curl_slist_free_all(l);
}
