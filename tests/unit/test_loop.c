/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of kaasd's event loop (kaasd/loop.c): the order in which one
 * batch of ready descriptors is served.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

struct order {
        struct loop *loop;
        char seen[8];
        unsigned n;
};

struct watcher {
        struct order *order;
        char name;
        struct loop_io *io;
};

static void on_io(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct watcher *w = userdata;
        if (w->order->n < sizeof(w->order->seen))
                w->order->seen[w->order->n++] = w->name;
        loop_io_remove(io);
        if (w->order->n == 3)
                loop_quit(w->order->loop, 0);
}

/* n socket pairs, the first `readable` of them with a byte waiting on
 * their end [0]. */
static void pairs_open(int p[][2], int n, int readable) {
        for (int i = 0; i < n; i++) {
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p[i]), 0);
                if (i < readable)
                        assert_int_equal(write(p[i][1], "x", 1), 1);
        }
}

static void pairs_close(int p[][2], int n) {
        for (int i = 0; i < n; i++) {
                close(p[i][0]);
                close(p[i][1]);
        }
}

/* Two descriptors only writable (bulk output waiting), registered and
 * ready first, and one with input (a call come in): the input is served
 * first, then the output in epoll's order. */
static void test_input_before_output(void **state) {
        struct order o = { 0 };
        int out[2][2], in[1][2];
        assert_int_equal(loop_new(&o.loop), 0);
        pairs_open(out, 2, 0);
        struct watcher a = { &o, 'a', NULL }, b = { &o, 'b', NULL }, c = { &o, 'c', NULL };
        assert_int_equal(loop_io_add(o.loop, out[0][0], EPOLLIN | EPOLLOUT, on_io, &a, &a.io), 0);
        assert_int_equal(loop_io_add(o.loop, out[1][0], EPOLLIN | EPOLLOUT, on_io, &b, &b.io), 0);
        pairs_open(in, 1, 1);
        assert_int_equal(loop_io_add(o.loop, in[0][0], EPOLLIN, on_io, &c, &c.io), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_memory_equal(o.seen, "cab", 3);
        pairs_close(out, 2);
        pairs_close(in, 1);
        loop_free(o.loop);
}

/* Three descriptors with input, ready in the order a, b, c, and c marked
 * first (a validator's connection): c is served first, then a and b in
 * epoll's order. */
static void test_first_input_before_other_input(void **state) {
        struct order o = { 0 };
        int p[3][2];
        struct watcher w[3] = { { &o, 'a', NULL }, { &o, 'b', NULL }, { &o, 'c', NULL } };
        assert_int_equal(loop_new(&o.loop), 0);
        pairs_open(p, 3, 3);
        for (int i = 0; i < 3; i++)
                assert_int_equal(loop_io_add(o.loop, p[i][0], EPOLLIN, on_io, &w[i], &w[i].io), 0);
        assert_int_equal(loop_io_set_first(w[2].io, true), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_memory_equal(o.seen, "cab", 3);
        pairs_close(p, 3);
        loop_free(o.loop);
}

/* Input that comes in on a descriptor marked first while a turn is being
 * served (a validator's call arriving during a storm): a and b ready with
 * input, v marked first and quiet; whichever of a and b is served first
 * writes to v. v is served before the other of a and b, in the same turn,
 * not after it. */
struct wake_first {
        struct watcher w;
        int wake_fd;            /* v's other end, written once */
};

static void on_io_wake(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct wake_first *wf = userdata;
        if (wf->wake_fd >= 0 && wf->w.order->n == 0)
                assert_int_equal(write(wf->wake_fd, "v", 1), 1);
        on_io(io, fd, events, &wf->w);
}

static void test_first_input_during_turn(void **state) {
        struct order o = { 0 };
        int p[3][2];  /* a, b, v */
        assert_int_equal(loop_new(&o.loop), 0);
        pairs_open(p, 3, 2);
        struct wake_first a = { { &o, 'a', NULL }, p[2][1] }, b = { { &o, 'b', NULL }, p[2][1] };
        struct watcher v = { &o, 'v', NULL };
        assert_int_equal(loop_io_add(o.loop, p[0][0], EPOLLIN, on_io_wake, &a, &a.w.io), 0);
        assert_int_equal(loop_io_add(o.loop, p[1][0], EPOLLIN, on_io_wake, &b, &b.w.io), 0);
        assert_int_equal(loop_io_add(o.loop, p[2][0], EPOLLIN, on_io, &v, &v.io), 0);
        assert_int_equal(loop_io_set_first(v.io, true), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_true(o.seen[0] == 'a' || o.seen[0] == 'b');
        assert_int_equal(o.seen[1], 'v');
        assert_true(o.seen[2] == 'a' || o.seen[2] == 'b');
        assert_true(o.seen[0] != o.seen[2]);
        pairs_close(p, 3);
        loop_free(o.loop);
}

/* A watcher marked first and removed is not served, and one unmarked
 * loses its place: only the one marked last comes first. */
static void test_first_removed(void **state) {
        struct order o = { 0 };
        int p[3][2];
        struct watcher w[3] = { { &o, 'a', NULL }, { &o, 'b', NULL }, { &o, 'c', NULL } };
        assert_int_equal(loop_new(&o.loop), 0);
        pairs_open(p, 3, 3);
        struct loop_io *gone;
        assert_int_equal(loop_io_add(o.loop, p[0][0], EPOLLIN, on_io, &w[0], &gone), 0);
        assert_int_equal(loop_io_set_first(gone, true), 0);
        loop_io_remove(gone);
        /* the same fd watched again, not first: served in epoll's order */
        for (int i = 0; i < 3; i++)
                assert_int_equal(loop_io_add(o.loop, p[i][0], EPOLLIN, on_io, &w[i], &w[i].io), 0);
        assert_int_equal(loop_io_set_first(w[2].io, true), 0);
        assert_int_equal(loop_io_set_first(w[2].io, false), 0);
        assert_int_equal(loop_io_set_first(w[1].io, true), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_memory_equal(o.seen, "bac", 3);
        pairs_close(p, 3);
        loop_free(o.loop);
}

static void on_timer_wake(struct loop_timer *t, void *userdata) {
        const int *fds = userdata;
        for (int i = 0; i < 3; i++)
                assert_int_equal(write(fds[i], "x", 1), 1);
}

/* A watcher marked first and removed leaves the second epoll set too: in
 * a later turn, its descriptor still open and readable, the loop asks
 * that set between handlers (v, marked first and quiet, keeps it asked)
 * and must not find it, whose memory is freed by then (the sanitizer
 * build reports the use). The first turn only runs a timer, which makes
 * a, b and c readable. */
static void test_first_removed_leaves_no_trace(void **state) {
        struct order o = { 0 };
        int p[5][2];  /* the removed watcher's, then a, b, c and v */
        assert_int_equal(loop_new(&o.loop), 0);
        pairs_open(p, 5, 1);
        struct watcher gone = { &o, 'g', NULL }, v = { &o, 'v', NULL };
        struct watcher w[3] = { { &o, 'a', NULL }, { &o, 'b', NULL }, { &o, 'c', NULL } };
        assert_int_equal(loop_io_add(o.loop, p[0][0], EPOLLIN, on_io, &gone, &gone.io), 0);
        assert_int_equal(loop_io_set_first(gone.io, true), 0);
        loop_io_remove(gone.io);
        for (int i = 0; i < 3; i++)
                assert_int_equal(loop_io_add(o.loop, p[i + 1][0], EPOLLIN, on_io, &w[i], &w[i].io), 0);
        assert_int_equal(loop_io_add(o.loop, p[4][0], EPOLLIN, on_io, &v, &v.io), 0);
        assert_int_equal(loop_io_set_first(v.io, true), 0);
        int wake[3] = { p[1][1], p[2][1], p[3][1] };
        assert_int_equal(loop_timer_add(o.loop, loop_now_usec(), on_timer_wake, wake, NULL), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_null(memchr(o.seen, 'g', o.n));
        assert_null(memchr(o.seen, 'v', o.n));
        loop_io_remove(v.io);
        pairs_close(p, 5);
        loop_free(o.loop);
}

/* A job in slices, each scheduling the next with a zero-delay timer (a
 * large group's reply): input that comes in meanwhile is served between
 * two slices, not after the whole job. */
struct sliced {
        struct loop *loop;
        int wake;               /* written by the first slice */
        unsigned slices;        /* run so far */
        unsigned seen_at;       /* slices run when the input was served */
};

static void on_slice(struct loop_timer *t, void *userdata) {
        struct sliced *j = userdata;
        if (j->slices++ == 0)
                assert_int_equal(write(j->wake, "x", 1), 1);
        if (j->slices < 100)
                assert_int_equal(loop_timer_add(j->loop, 0, on_slice, j, NULL), 0);
        else
                loop_quit(j->loop, 0);
}

static void on_input_between_slices(struct loop_io *io, int fd, uint32_t events, void *userdata) {
        struct sliced *j = userdata;
        char c;
        assert_int_equal(read(fd, &c, 1), 1);
        j->seen_at = j->slices;
        loop_io_remove(io);
}

static void test_timer_added_by_timer_waits_a_turn(void **state) {
        struct sliced j = { 0 };
        int p[1][2];
        assert_int_equal(loop_new(&j.loop), 0);
        pairs_open(p, 1, 0);
        j.wake = p[0][1];
        struct loop_io *io;
        assert_int_equal(loop_io_add(j.loop, p[0][0], EPOLLIN, on_input_between_slices, &j, &io), 0);
        assert_int_equal(loop_timer_add(j.loop, 0, on_slice, &j, NULL), 0);
        assert_int_equal(loop_run(j.loop), 0);
        assert_int_equal(j.slices, 100);
        assert_int_equal(j.seen_at, 1);
        pairs_close(p, 1);
        loop_free(j.loop);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_input_before_output),
                cmocka_unit_test(test_first_input_before_other_input),
                cmocka_unit_test(test_first_input_during_turn),
                cmocka_unit_test(test_first_removed),
                cmocka_unit_test(test_first_removed_leaves_no_trace),
                cmocka_unit_test(test_timer_added_by_timer_waits_a_turn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
