/* A small epoll event loop: fd watchers, one-shot timers on the monotonic
 * clock, and signals through signalfd. Nothing here knows about varlink;
 * the server, the Keystone client (libcurl multi) and housekeeping all sit
 * on top of these three primitives. Single-threaded: call only from the
 * thread that runs loop_run(). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct loop;
struct loop_io;
struct loop_timer;

typedef void (*loop_io_fn)(struct loop_io *io, int fd, uint32_t events, void *userdata);
typedef void (*loop_timer_fn)(struct loop_timer *t, void *userdata);
typedef void (*loop_signal_fn)(struct loop *l, int signo, void *userdata);

int loop_new(struct loop **ret);
struct loop *loop_free(struct loop *l);

/* Watches fd for events (EPOLLIN, EPOLLOUT...). The loop never closes fd. */
int loop_io_add(struct loop *l, int fd, uint32_t events, loop_io_fn fn, void *userdata,
                struct loop_io **ret);
int loop_io_set_events(struct loop_io *io, uint32_t events);
/* Input on io is handled before other input ready in the same turn of the
 * loop (and all input before output-only events), and input that comes in
 * on io while a turn is being served is handled before the turn's next
 * handler. */
int loop_io_set_first(struct loop_io *io, bool first);
/* Stops watching; safe to call from any callback, including io's own. */
void loop_io_remove(struct loop_io *io);

/* Monotonic microseconds. */
uint64_t loop_now_usec(void);

/* Fires fn once at monotonic time at_usec (or at once if in the past).
 * loop_timer_cancel() is safe from any callback; a fired timer is freed
 * by the loop after its callback returns. */
int loop_timer_add(struct loop *l, uint64_t at_usec, loop_timer_fn fn, void *userdata,
                   struct loop_timer **ret);
void loop_timer_cancel(struct loop_timer *t);

/* Blocks signo for the process and delivers it through the loop. */
int loop_signal_add(struct loop *l, int signo, loop_signal_fn fn, void *userdata);

int loop_run(struct loop *l);
void loop_quit(struct loop *l, int code);
