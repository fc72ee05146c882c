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

/* Two descriptors only writable (bulk output waiting), registered and
 * ready first, and one with input (a call come in): the input is served
 * first, then the output in epoll's order. */
static void test_input_before_output(void **state) {
        struct order o = { 0 };
        int out1[2], out2[2], in[2];
        assert_int_equal(loop_new(&o.loop), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out1), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out2), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in), 0);
        struct watcher a = { &o, 'a', NULL }, b = { &o, 'b', NULL }, c = { &o, 'c', NULL };
        assert_int_equal(loop_io_add(o.loop, out1[0], EPOLLIN | EPOLLOUT, on_io, &a, &a.io), 0);
        assert_int_equal(loop_io_add(o.loop, out2[0], EPOLLIN | EPOLLOUT, on_io, &b, &b.io), 0);
        assert_int_equal(write(in[1], "x", 1), 1);
        assert_int_equal(loop_io_add(o.loop, in[0], EPOLLIN, on_io, &c, &c.io), 0);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_memory_equal(o.seen, "cab", 3);
        for (int i = 0; i < 2; i++) {
                close(out1[i]);
                close(out2[i]);
                close(in[i]);
        }
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
        for (int i = 0; i < 3; i++) {
                assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p[i]), 0);
                assert_int_equal(write(p[i][1], "x", 1), 1);
                assert_int_equal(loop_io_add(o.loop, p[i][0], EPOLLIN, on_io, &w[i], &w[i].io), 0);
        }
        loop_io_set_first(w[2].io, true);
        assert_int_equal(loop_run(o.loop), 0);
        assert_int_equal(o.n, 3);
        assert_memory_equal(o.seen, "cab", 3);
        for (int i = 0; i < 3; i++) {
                close(p[i][0]);
                close(p[i][1]);
        }
        loop_free(o.loop);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_input_before_output),
                cmocka_unit_test(test_first_input_before_other_input),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
