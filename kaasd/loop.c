/* epoll event loop; see loop.h. Watchers and timers removed while a batch of
 * events is being dispatched are only unlinked then and freed after the
 * batch, so a callback may remove any watcher without use-after-free. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "loop.h"

#define MAX_EVENTS 64
#define MAX_SIGNALS 8

struct loop_io {
        struct loop *loop;
        int fd;
        uint32_t events;
        loop_io_fn fn;
        void *userdata;
        bool dead;
        bool first;                      /* its input before other input */
        struct loop_io *next_dead;
};

struct loop_timer {
        struct loop *loop;
        uint64_t at;
        loop_timer_fn fn;
        void *userdata;
        bool firing;                     /* detached, callback running */
        struct loop_timer *prev, *next;  /* sorted by at */
};

struct signal_handler {
        int signo;
        loop_signal_fn fn;
        void *userdata;
};

struct loop {
        int epfd;
        /* the input of the fds marked first, asked between the handlers of
         * a turn: a call come in on one of them meanwhile is served then */
        int first_epfd;
        unsigned n_first;
        int sigfd;
        struct loop_io *sig_io;
        sigset_t sigmask;
        struct signal_handler signals[MAX_SIGNALS];
        unsigned n_signals;
        struct loop_timer *timers;
        struct loop_io *dead;
        uint64_t timers_now;             /* while timers fire: the time they are due by */
        bool quit;
        int exit_code;
};

uint64_t loop_now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int loop_new(struct loop **ret) {
        struct loop *l = calloc(1, sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->sigfd = -1;
        sigemptyset(&l->sigmask);
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        l->first_epfd = l->epfd < 0 ? -1 : epoll_create1(EPOLL_CLOEXEC);
        if (l->first_epfd < 0) {
                int r = -errno;
                if (l->epfd >= 0)
                        close(l->epfd);
                free(l);
                return r;
        }
        *ret = l;
        return 0;
}

static void free_dead(struct loop *l) {
        while (l->dead) {
                struct loop_io *io = l->dead;
                l->dead = io->next_dead;
                free(io);
        }
}

struct loop *loop_free(struct loop *l) {
        if (!l)
                return NULL;
        if (l->sig_io)
                loop_io_remove(l->sig_io);
        free_dead(l);
        while (l->timers)
                loop_timer_cancel(l->timers);
        if (l->sigfd >= 0)
                close(l->sigfd);
        close(l->epfd);
        close(l->first_epfd);
        free(l);
        return NULL;
}

int loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
                struct loop_io **ret) {
        struct loop_io *io = calloc(1, sizeof(*io));
        if (!io)
                return -ENOMEM;
        *io = (struct loop_io){ .loop = l, .fd = fd, .events = events, .fn = fn, .userdata = userdata };
        struct epoll_event ev = { .events = events, .data.ptr = io };
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int r = -errno;
                free(io);
                return r;
        }
        if (ret)
                *ret = io;
        return 0;
}

int loop_io_set_events(struct loop_io *io, uint32_t events) {
        if (io->events == events)
                return 0;
        struct epoll_event ev = { .events = events, .data.ptr = io };
        if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
                return -errno;
        io->events = events;
        return 0;
}

int loop_io_set_first(struct loop_io *io, bool first) {
        if (io->first == first || io->dead)
                return 0;
        struct loop *l = io->loop;
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = io };
        if (epoll_ctl(l->first_epfd, first ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, io->fd, &ev) < 0)
                return -errno;
        io->first = first;
        if (first)
                l->n_first++;
        else
                l->n_first--;
        return 0;
}

/* Serves the input come in on fds marked first since the turn began. */
static void serve_first(struct loop *l) {
        struct epoll_event events[8];
        int n = epoll_wait(l->first_epfd, events, 8, 0);
        for (int i = 0; i < n; i++) {
                struct loop_io *io = events[i].data.ptr;
                if (!io->dead && io->first && (io->events & EPOLLIN))
                        io->fn(io, io->fd, events[i].events, io->userdata);
        }
}

void loop_io_remove(struct loop_io *io) {
        if (!io || io->dead)
                return;
        /* the fd may already be closed by its owner; ignore the error */
        (void)epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
        if (io->first) {
                (void)epoll_ctl(io->loop->first_epfd, EPOLL_CTL_DEL, io->fd, NULL);
                io->first = false;
                io->loop->n_first--;
        }
        io->dead = true;
        io->next_dead = io->loop->dead;
        io->loop->dead = io;
}

int loop_timer_add(struct loop *l, uint64_t at_usec, loop_timer_fn fn, void *userdata,
                   struct loop_timer **ret) {
        struct loop_timer *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        /* added by a timer's callback: due only after the firing ones, at the next turn */
        if (l->timers_now && at_usec <= l->timers_now)
                at_usec = l->timers_now + 1;
        *t = (struct loop_timer){ .loop = l, .at = at_usec, .fn = fn, .userdata = userdata };
        struct loop_timer **pp = &l->timers, *prev = NULL;
        while (*pp && (*pp)->at <= at_usec) {
                prev = *pp;
                pp = &(*pp)->next;
        }
        t->next = *pp;
        t->prev = prev;
        if (*pp)
                (*pp)->prev = t;
        *pp = t;
        if (ret)
                *ret = t;
        return 0;
}

void loop_timer_cancel(struct loop_timer *t) {
        if (!t || t->firing)
                return;
        if (t->prev)
                t->prev->next = t->next;
        else
                t->loop->timers = t->next;
        if (t->next)
                t->next->prev = t->prev;
        free(t);
}

static void on_signal(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct loop *l = userdata;
        struct signalfd_siginfo si;
        while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si))
                for (unsigned i = 0; i < l->n_signals; i++)
                        if ((int)si.ssi_signo == l->signals[i].signo)
                                l->signals[i].fn(l, (int)si.ssi_signo, l->signals[i].userdata);
}

int loop_signal_add(struct loop *l, int signo, loop_signal_fn fn, void *userdata) {
        if (l->n_signals >= MAX_SIGNALS)
                return -ENOSPC;
        sigaddset(&l->sigmask, signo);
        if (sigprocmask(SIG_BLOCK, &l->sigmask, NULL) < 0)
                return -errno;
        int fd = signalfd(l->sigfd, &l->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (l->sigfd < 0) {
                l->sigfd = fd;
                int r = loop_io_add(l, fd, EPOLLIN, on_signal, l, &l->sig_io);
                if (r < 0)
                        return r;
        }
        l->signals[l->n_signals++] = (struct signal_handler){ signo, fn, userdata };
        return 0;
}

static void run_timers(struct loop *l) {
        uint64_t now = loop_now_usec();
        /* Detach due timers first, so a callback cancelling another is
         * safe; timers added by callbacks are due later than now (see
         * loop_timer_add()), so they wait for the next iteration and the
         * input that came meanwhile. */
        l->timers_now = now;
        while (l->timers && l->timers->at <= now) {
                struct loop_timer *t = l->timers;
                l->timers = t->next;
                if (l->timers)
                        l->timers->prev = NULL;
                loop_timer_fn fn = t->fn;
                void *userdata = t->userdata;
                t->next = t->prev = NULL;
                t->firing = true;  /* a cancel from inside fn is a no-op */
                fn(t, userdata);
                free(t);
        }
        l->timers_now = 0;
}

int loop_run(struct loop *l) {
        struct epoll_event events[MAX_EVENTS];
        while (!l->quit) {
                int timeout = -1;
                if (l->timers) {
                        uint64_t now = loop_now_usec();
                        uint64_t at = l->timers->at;
                        /* a timer a timer's callback added is due 1 us after
                         * that pass (loop_timer_add()): not a reason to sleep
                         * a whole millisecond */
                        uint64_t ms = at <= now + 1 ? 0 : (at - now + 999) / 1000;
                        timeout = ms > 60000 ? 60000 : (int)ms;
                }
                int n = epoll_wait(l->epfd, events, MAX_EVENTS, timeout);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                /* input first: a call that has just come in (a token check) is
                 * answered before the bulk output ready beside it (the slices of
                 * large replies), rather than behind it in epoll's order; and
                 * the input of fds marked first before the rest of the input,
                 * and again before each later handler of the turn, so that a
                 * call come in on one meanwhile waits for one handler, not for
                 * the rest of the turn */
                unsigned served = 0;
                for (int pass = 0; pass < 3; pass++)
                        for (int i = 0; i < n; i++) {
                                struct loop_io *io = events[i].data.ptr;
                                if (io->dead)
                                        continue;
                                bool output_only = !(events[i].events & ~(uint32_t)EPOLLOUT);
                                int want = output_only ? 2 : io->first ? 0 : 1;
                                if (want != pass)
                                        continue;
                                if (pass > 0 && served++ > 0 && l->n_first > 0)
                                        serve_first(l);
                                if (!io->dead)
                                        io->fn(io, io->fd, events[i].events, io->userdata);
                        }
                free_dead(l);
                run_timers(l);
                free_dead(l);
        }
        return l->exit_code;
}

void loop_quit(struct loop *l, int code) {
        l->quit = true;
        l->exit_code = code;
}
