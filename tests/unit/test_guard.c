/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of httpd/guard.c's per-client limit: what counts as one
 * client. An IPv4 address is one, whether it arrives as AF_INET or
 * IPv4-mapped on a dual-stack socket; an IPv6 host is its /64, so fresh
 * addresses from one /64 do not each get the full allowance. No packet is
 * sent: the guard is given socket addresses as libmicrohttpd would.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "guard.h"

#define MAX_PER_CLIENT 2

static struct sockaddr_in v4(const char *a) {
        struct sockaddr_in in;
        memset(&in, 0, sizeof(in));
        in.sin_family = AF_INET;
        in.sin_port = htons(40000);
        assert_int_equal(inet_pton(AF_INET, a, &in.sin_addr), 1);
        return in;
}

static struct sockaddr_in6 v6(const char *a) {
        struct sockaddr_in6 in6;
        memset(&in6, 0, sizeof(in6));
        in6.sin6_family = AF_INET6;
        in6.sin6_port = htons(40000);
        assert_int_equal(inet_pton(AF_INET6, a, &in6.sin6_addr), 1);
        return in6;
}

static socklen_t len_of(const void *sa) {
        return ((const struct sockaddr *)sa)->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                     : sizeof(struct sockaddr_in);
}

static int setup(void **state) {
        struct hd_guard *g = NULL;
        if (hd_guard_new(MAX_PER_CLIENT, 60, NULL, &g) < 0)
                return -1;
        *state = g;
        return 0;
}

static int teardown(void **state) {
        hd_guard_free(*state);
        return 0;
}

/* Opens MAX_PER_CLIENT connections from sa (fd -1: the guard's clock
 * never reaches them within a test). */
static void fill(struct hd_guard *g, const void *sa, struct hd_conn **conns) {
        for (int i = 0; i < MAX_PER_CLIENT; i++) {
                assert_true(hd_guard_admit(g, sa, len_of(sa)));
                conns[i] = hd_guard_opened(g, -1, sa);
                assert_non_null(conns[i]);
        }
}

static void close_all(struct hd_guard *g, struct hd_conn **conns) {
        for (int i = 0; i < MAX_PER_CLIENT; i++)
                hd_guard_closed(g, conns[i]);
}

/* Fills the allowance from first: same is then refused, other is not,
 * and same is let in again once first's connections are closed. */
static void one_client(struct hd_guard *g, const void *first, const void *same, const void *other) {
        struct hd_conn *c[MAX_PER_CLIENT];
        fill(g, first, c);
        assert_false(hd_guard_admit(g, same, len_of(same)));
        assert_true(hd_guard_admit(g, other, len_of(other)));
        close_all(g, c);
        assert_true(hd_guard_admit(g, same, len_of(same)));
}

static void test_ipv4_address(void **state) {
        struct sockaddr_in a = v4("192.0.2.10"), same = v4("192.0.2.10"), other = v4("192.0.2.11");
        one_client(*state, &a, &same, &other);
}

static void test_ipv4_mapped_is_ipv4(void **state) {
        struct hd_guard *g = *state;
        struct hd_conn *c[MAX_PER_CLIENT];
        struct sockaddr_in a = v4("192.0.2.10");
        struct sockaddr_in6 mapped = v6("::ffff:192.0.2.10"), mapped_other = v6("::ffff:192.0.2.11");
        fill(g, &a, c);
        assert_false(hd_guard_admit(g, (struct sockaddr *)&mapped, sizeof(mapped)));
        /* mapped addresses all share ::/64's first half: they must not count as one client */
        assert_true(hd_guard_admit(g, (struct sockaddr *)&mapped_other, sizeof(mapped_other)));
        close_all(g, c);

        fill(g, &mapped, c);
        assert_false(hd_guard_admit(g, (struct sockaddr *)&a, sizeof(a)));
        close_all(g, c);
}

static void test_ipv6_slash64(void **state) {
        struct sockaddr_in6 a = v6("2001:db8:1:2::10");
        struct sockaddr_in6 same64 = v6("2001:db8:1:2:abcd:ef01:2345:6789");
        struct sockaddr_in6 next64 = v6("2001:db8:1:3::10");
        one_client(*state, &a, &same64, &next64);
}

static void test_unknown_family_not_limited(void **state) {
        struct hd_guard *g = *state;
        struct sockaddr_un_like {
                sa_family_t family;
                char path[14];
        } u = {AF_UNIX, "x"};
        struct hd_conn *c[MAX_PER_CLIENT + 1];
        for (int i = 0; i < MAX_PER_CLIENT + 1; i++) {
                assert_true(hd_guard_admit(g, (struct sockaddr *)&u, sizeof(u)));
                c[i] = hd_guard_opened(g, -1, (struct sockaddr *)&u);
                assert_non_null(c[i]);
        }
        for (int i = 0; i < MAX_PER_CLIENT + 1; i++)
                hd_guard_closed(g, c[i]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_ipv4_address, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ipv4_mapped_is_ipv4, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ipv6_slash64, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unknown_family_not_limited, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
