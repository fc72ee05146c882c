/* Framing: messages survive any split of the byte stream, pipelined
 * messages come out in order, and every malformed or oversized input is
 * an error rather than a crash or unbounded memory. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "decimal.h"
#include "varlink_frame.h"
#include "varlink_message.h"

static const char two_calls[] =
        "{\"method\":\"org.varlink.service.GetInfo\"}\0"
        "{\"method\":\"io.kaas.Admin.Status\",\"parameters\":{\"a\":\"\xc3\xa9\"}}";
/* sizeof includes the final NUL: both messages are terminated */

static void expect_method(struct vl_reader *r, const char *method) {
        json_t *m = NULL;
        assert_int_equal(vl_reader_next(r, &m), 1);
        assert_string_equal(json_string_value(json_object_get(m, "method")), method);
        json_decref(m);
}

static void test_split_at_every_byte(void **state) {
        size_t n = sizeof(two_calls);
        for (size_t cut = 0; cut <= n; cut++) {
                struct vl_reader *r;
                assert_int_equal(vl_reader_new(0, &r), 0);
                json_t *m = NULL;
                assert_int_equal(vl_reader_feed(r, two_calls, cut), 0);
                int got = 0;
                while (vl_reader_next(r, &m) == 1) {
                        got++;
                        json_decref(m);
                }
                assert_int_equal(vl_reader_feed(r, two_calls + cut, n - cut), 0);
                while (vl_reader_next(r, &m) == 1) {
                        got++;
                        json_decref(m);
                }
                assert_int_equal(got, 2);
                assert_false(vl_reader_has_partial(r));
                vl_reader_free(r);
        }
}

static void test_byte_by_byte(void **state) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        json_t *m;
        int got = 0;
        for (size_t i = 0; i < sizeof(two_calls); i++) {
                assert_int_equal(vl_reader_feed(r, two_calls + i, 1), 0);
                int k = vl_reader_next(r, &m);
                assert_true(k >= 0);
                if (k == 1) {
                        got++;
                        json_decref(m);
                }
        }
        assert_int_equal(got, 2);
        vl_reader_free(r);
}

static void test_pipelined_in_order(void **state) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_int_equal(vl_reader_feed(r, two_calls, sizeof(two_calls)), 0);
        expect_method(r, "org.varlink.service.GetInfo");
        expect_method(r, "io.kaas.Admin.Status");
        json_t *m;
        assert_int_equal(vl_reader_next(r, &m), 0);
        vl_reader_free(r);
}

static void test_oversized(void **state) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(64, &r), 0);
        char big[100];
        memset(big, ' ', sizeof(big));
        /* an unterminated tail over the limit is refused at once */
        assert_int_equal(vl_reader_feed(r, big, sizeof(big)), -EMSGSIZE);
        vl_reader_free(r);

        /* a terminated message over the limit, fed in one piece */
        assert_int_equal(vl_reader_new(16, &r), 0);
        const char msg[] = "{\"method\":\"aaaaaaaaaaaaaaaaaaaa.B\"}";
        (void)vl_reader_feed(r, msg, sizeof(msg));
        json_t *m;
        assert_int_equal(vl_reader_next(r, &m), -EMSGSIZE);
        vl_reader_free(r);

        /* exactly at the limit is fine */
        assert_int_equal(vl_reader_new(strlen("{}"), &r), 0);
        assert_int_equal(vl_reader_feed(r, "{}", 3), 0);
        assert_int_equal(vl_reader_next(r, &m), 1);
        json_decref(m);
        vl_reader_free(r);
}

/* sizeof a string literal counts its NUL: the message terminator */
#define expect_bad(lit) expect_bad_n(lit, sizeof(lit))
static void expect_bad_n(const char *data, size_t len) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_int_equal(vl_reader_feed(r, data, len), 0);
        json_t *m = NULL;
        assert_int_equal(vl_reader_next(r, &m), -EBADMSG);
        assert_null(m);
        vl_reader_free(r);
}

static void test_invalid_json(void **state) {
        expect_bad("{bad");
        expect_bad("[1,2]");            /* not an object */
        expect_bad("\"str\"");
        expect_bad("{} {}");            /* trailing garbage */
        expect_bad("");                 /* empty message */
        expect_bad("{\"a\":1,\"a\":2}"); /* duplicate keys are ambiguous */
}

/* The bounded decimal reader every hand-written parser shares. */
static void test_decimal_parse(void **state) {
        static const struct {
                const char *text;
                uint64_t max;
                bool ok;
                uint64_t value;
                size_t used;    /* bytes read, when ok */
        } cases[] = {
                { "0", 10, true, 0, 1 },
                { "7,", 10, true, 7, 1 },
                { "10", 10, true, 10, 2 },
                { "11", 10, false, 0, 0 },
                { "100", 10, false, 0, 0 },
                { "0", 0, true, 0, 1 },
                { "1", 0, false, 0, 0 },
                { "00", 10, false, 0, 0 },
                { "01", 10, false, 0, 0 },
                { "", 10, false, 0, 0 },
                { "-1", 10, false, 0, 0 },
                { "+1", 10, false, 0, 0 },
                { " 1", 10, false, 0, 0 },
                { "18446744073709551615", UINT64_MAX, true, UINT64_MAX, 20 },
                { "18446744073709551616", UINT64_MAX, false, 0, 0 },
                { "99999999999999999999", UINT64_MAX, false, 0, 0 },
                { "999999999999999999", UINT64_C(999999999999999999), true, UINT64_C(999999999999999999), 18 },
                { "1000000000000000000", UINT64_C(999999999999999999), false, 0, 0 },
                { "123abc", 1000, true, 123, 3 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const char *p = cases[i].text, *end = p + strlen(p);
                uint64_t v = 4242;
                assert_int_equal(decimal_parse(&p, end, cases[i].max, &v), cases[i].ok);
                if (cases[i].ok) {
                        assert_true(v == cases[i].value);
                        assert_ptr_equal(p, cases[i].text + cases[i].used);
                } else
                        assert_true(v == 4242);
        }
        /* never a byte past end: "12" cut to "1" */
        const char *p = "12";
        uint64_t v;
        assert_true(decimal_parse(&p, p + 1, 100, &v));
        assert_true(v == 1);
}

/* Integers as the fast parser reads them are what jansson would make of
 * them; what it leaves (more than 18 digits) jansson reads, and a leading
 * zero is refused either way. */
static void test_integers(void **state) {
        static const struct {
                const char *text;
                json_int_t value;
        } cases[] = {
                { "{\"a\":0}", 0 },
                { "{\"a\":-0}", 0 },
                { "{\"a\":42}", 42 },
                { "{\"a\":-42}", -42 },
                { "{\"a\":999999999999999999}", 999999999999999999LL },
                { "{\"a\":-999999999999999999}", -999999999999999999LL },
                { "{\"a\":1000000000000000000}", 1000000000000000000LL },
                { "{\"a\":9223372036854775807}", 9223372036854775807LL },
                { "{\"a\":-9223372036854775807}", -9223372036854775807LL },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct vl_reader *r;
                assert_int_equal(vl_reader_new(0, &r), 0);
                assert_int_equal(vl_reader_feed(r, cases[i].text, strlen(cases[i].text) + 1), 0);
                json_t *m = NULL;
                assert_int_equal(vl_reader_next(r, &m), 1);
                json_t *a = json_object_get(m, "a");
                assert_true(json_is_integer(a));
                assert_true(json_integer_value(a) == cases[i].value);
                json_decref(m);
                vl_reader_free(r);
        }
        expect_bad("{\"a\":01}");
        expect_bad("{\"a\":-01}");
        expect_bad("{\"a\":-}");
}

static void test_invalid_utf8(void **state) {
        expect_bad("{\"a\":\"\xff\xfe\"}");
        expect_bad("{\"a\":\"\xc3\"}");          /* truncated sequence */
        expect_bad("{\"a\":\"\xed\xa0\x80\"}"); /* surrogate */
}

/* A message trickling in a byte at a time is accounted incrementally, and
 * the limit still applies to the whole message. */
static void test_trickle(void **state) {
        struct vl_reader *r;
        enum { LIMIT = 64 * 1024 };
        assert_int_equal(vl_reader_new(LIMIT, &r), 0);
        assert_int_equal(vl_reader_feed(r, "{\"a\":\"", 6), 0);
        for (size_t i = 0; i < LIMIT - 8; i++)
                assert_int_equal(vl_reader_feed(r, "x", 1), 0);
        assert_int_equal(vl_reader_feed(r, "\"}", 2), 0);
        assert_int_equal(vl_reader_feed(r, "", 1), 0);
        json_t *m;
        assert_int_equal(vl_reader_next(r, &m), 1);
        assert_int_equal(json_string_length(json_object_get(m, "a")), LIMIT - 8);
        json_decref(m);
        /* one byte over the limit in a trickle is refused */
        for (size_t i = 0; i < LIMIT; i++)
                assert_int_equal(vl_reader_feed(r, "y", 1), 0);
        assert_int_equal(vl_reader_feed(r, "y", 1), -EMSGSIZE);
        vl_reader_free(r);
}

static void test_eof_before_nul(void **state) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_int_equal(vl_reader_feed(r, "{\"method\":", 10), 0);
        json_t *m;
        assert_int_equal(vl_reader_next(r, &m), 0);
        assert_true(vl_reader_has_partial(r));
        vl_reader_free(r);
}

/* Complete messages a server has not taken yet (it stops taking them while
 * a client's replies back up) are no message in progress: kaasd's timeout
 * for a message that never completes must not count them. */
static void test_complete_messages_are_not_partial(void **state) {
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        static const char two[] = "{\"a\":1}\0{\"b\":2}";  /* and the final NUL */
        assert_int_equal(vl_reader_feed(r, two, sizeof(two)), 0);
        assert_false(vl_reader_has_partial(r));
        json_t *m;
        assert_int_equal(vl_reader_next(r, &m), 1);
        json_decref(m);
        assert_false(vl_reader_has_partial(r));
        assert_int_equal(vl_reader_feed(r, "{\"c\":", 5), 0);
        assert_true(vl_reader_has_partial(r));  /* the second still untaken, a third begun */
        assert_int_equal(vl_reader_next(r, &m), 1);
        json_decref(m);
        assert_true(vl_reader_has_partial(r));
        assert_int_equal(vl_reader_feed(r, "3}", 3), 0);
        assert_false(vl_reader_has_partial(r));
        assert_int_equal(vl_reader_next(r, &m), 1);
        json_decref(m);
        assert_int_equal(vl_reader_next(r, &m), 0);
        assert_false(vl_reader_has_partial(r));
        vl_reader_free(r);
}

static void test_fill_from_socket(void **state) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_int_equal(vl_reader_fill(r, sv[0]), -EAGAIN);
        assert_int_equal(write(sv[1], two_calls, sizeof(two_calls)), (ssize_t)sizeof(two_calls));
        assert_int_equal(vl_reader_fill(r, sv[0]), (ssize_t)sizeof(two_calls));
        expect_method(r, "org.varlink.service.GetInfo");
        expect_method(r, "io.kaas.Admin.Status");
        close(sv[1]);
        assert_int_equal(vl_reader_fill(r, sv[0]), 0);
        close(sv[0]);
        vl_reader_free(r);
}

static void test_writer_roundtrip_and_limit(void **state) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        struct vl_writer *w;
        assert_int_equal(vl_writer_new(64, &w), 0);
        json_t *m = json_pack("{s:s}", "method", "a.b.C");
        assert_int_equal(vl_writer_queue(w, m), 0);
        assert_int_equal(vl_writer_pending(w), strlen("{\"method\":\"a.b.C\"}") + 1);
        assert_int_equal(vl_writer_flush(w, sv[0]), 0);
        assert_int_equal(vl_writer_pending(w), 0);

        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_true(vl_reader_fill(r, sv[1]) > 0);
        expect_method(r, "a.b.C");

        /* a queue over its limit refuses more rather than growing */
        json_t *big = json_pack("{s:s}", "method", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.B");
        assert_int_equal(vl_writer_queue(w, big), -ENOBUFS);
        json_decref(big);
        json_decref(m);
        vl_reader_free(r);
        vl_writer_free(w);
        close(sv[0]);
        close(sv[1]);
}

static void test_writer_peer_not_reading(void **state) {
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        struct vl_writer *w;
        assert_int_equal(vl_writer_new(0, &w), 0);
        char *s = malloc(200000);
        memset(s, 'x', 199999);
        s[199999] = 0;
        json_t *m = json_pack("{s:s}", "p", s);
        int r = 0;
        for (int i = 0; i < 100 && r == 0; i++) {
                assert_int_equal(vl_writer_queue(w, m), 0);
                r = vl_writer_flush(w, sv[0]);
        }
        assert_int_equal(r, -EAGAIN);  /* the socket filled up; nothing blocked */
        assert_true(vl_writer_pending(w) > 0);
        json_decref(m);
        free(s);
        vl_writer_free(w);
        close(sv[0]);
        close(sv[1]);
}

/* "parameters": null means no parameters, whichever parser reads the
 * message: the fast one (plain ASCII) or jansson (an escape, non-ASCII). */
static void test_null_parameters(void **state) {
        static const char calls[] =
                "{\"method\":\"org.varlink.service.GetInfo\",\"parameters\":null}\0"
                "{\"method\":\"org.varlink.service.Get\\u0049nfo\",\"parameters\":null}\0"
                "{\"parameters\" : null, \"method\":\"io.kaas.Admin.Status\",\"more\":true}";
        static const char *const methods[] = {
                "org.varlink.service.GetInfo", "org.varlink.service.GetInfo", "io.kaas.Admin.Status",
        };
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        assert_int_equal(vl_reader_feed(r, calls, sizeof(calls)), 0);
        for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
                json_t *m = NULL;
                struct vl_call c;
                const char *field = NULL;
                assert_int_equal(vl_reader_next(r, &m), 1);
                assert_int_equal(vl_call_parse(m, &c, &field), 0);
                assert_string_equal(c.method, methods[i]);
                assert_true(json_is_object(c.parameters));
                assert_int_equal(json_object_size(c.parameters), 0);
                json_decref(m);
        }
        vl_reader_free(r);

        json_t *reply = json_loads("{\"parameters\":null}", 0, NULL);
        struct vl_reply rp;
        assert_non_null(reply);
        assert_int_equal(vl_reply_parse(reply, &rp), 0);
        assert_true(json_is_object(rp.parameters));
        json_decref(reply);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_split_at_every_byte),
                cmocka_unit_test(test_byte_by_byte),
                cmocka_unit_test(test_pipelined_in_order),
                cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_invalid_json),
                cmocka_unit_test(test_decimal_parse),
                cmocka_unit_test(test_integers),
                cmocka_unit_test(test_invalid_utf8),
                cmocka_unit_test(test_trickle),
                cmocka_unit_test(test_eof_before_nul),
                cmocka_unit_test(test_complete_messages_are_not_partial),
                cmocka_unit_test(test_fill_from_socket),
                cmocka_unit_test(test_writer_roundtrip_and_limit),
                cmocka_unit_test(test_writer_peer_not_reading),
                cmocka_unit_test(test_null_parameters),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
