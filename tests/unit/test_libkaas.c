/* Unit tests of libkaas against scripted servers: each test forks a child
 * listening on an AF_UNIX socket in a fresh temporary directory, which
 * plays exactly the bytes the test needs (split replies, pipelined
 * replies, errors, silence, truncation, oversized replies) and exits with
 * a status the test checks. Nothing here depends on kaasd. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "kaas.h"
#include "libkaas_internal.h"

#define TIMEOUT_MS 5000
/* a server child that outlives its test is killed by this alarm */
#define SERVER_ALARM_SEC 30

struct server {
        char dir[PATH_MAX];
        char path[PATH_MAX];
        pid_t pid;
        int sync_fd;  /* the test's end of a pipe the script writes to */
};

typedef int (*script_fn)(int listen_fd, int sync_fd);

/* ------------------------------------------------ the server side */

static int accept_one(int lfd) {
        int fd;
        do
                fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        while (fd < 0 && errno == EINTR);
        return fd;
}

/* Reads one NUL-terminated message; NULL on EOF or error. */
static json_t *read_call(int fd) {
        char buf[65536];
        size_t len = 0;
        for (;;) {
                char ch;
                ssize_t n = read(fd, &ch, 1);
                if (n <= 0)
                        return NULL;
                if (ch == '\0')
                        break;
                if (len + 1 >= sizeof(buf))
                        return NULL;
                buf[len++] = ch;
        }
        return json_loadb(buf, len, 0, NULL);
}

static int send_all(int fd, const void *data, size_t n) {
        const char *p = data;
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t)k;
        }
        return 0;
}

/* Sends s including its terminating NUL, the varlink delimiter. */
static int send_msg(int fd, const char *s) {
        return send_all(fd, s, strlen(s) + 1);
}

static int send_json(int fd, json_t *msg) {
        char *s = json_dumps(msg, JSON_COMPACT);
        json_decref(msg);
        if (!s)
                return -ENOMEM;
        int r = send_msg(fd, s);
        free(s);
        return r;
}

/* Blocks until the peer closes; returns the number of bytes it sent. */
static size_t drain_until_eof(int fd) {
        char buf[4096];
        size_t total = 0;
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
                if (n > 0)
                        total += (size_t)n;
        return total;
}

static void sync_signal(int sync_fd, char what) {
        (void)!write(sync_fd, &what, 1);
}

/* ------------------------------------------------- the test side */

static void server_start(struct server *s, script_fn script) {
        const char *tmp = getenv("TMPDIR");
        snprintf(s->dir, sizeof(s->dir), "%s/test_libkaas.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(s->dir));
        assert_true(snprintf(s->path, sizeof(s->path), "%s/kaasd.sock", s->dir) < (int)sizeof(s->path));

        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(s->path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, s->path);
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 16), 0);
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);

        fflush(NULL);
        s->pid = fork();
        assert_true(s->pid >= 0);
        if (s->pid == 0) {
                close(p[0]);
                alarm(SERVER_ALARM_SEC);
                _exit(script(lfd, p[1]));
        }
        close(lfd);
        close(p[1]);
        s->sync_fd = p[0];
}

static char server_wait_sync(struct server *s) {
        char ch = 0;
        assert_int_equal(read(s->sync_fd, &ch, 1), 1);
        return ch;
}

/* Waits for the script and returns its exit status (-1: killed). */
static int server_finish(struct server *s) {
        int status;
        assert_int_equal(waitpid(s->pid, &status, 0), s->pid);
        close(s->sync_fd);
        unlink(s->path);
        rmdir(s->dir);
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void server_kill(struct server *s) {
        kill(s->pid, SIGKILL);
        (void)server_finish(s);
}

static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct kaas_client *connect_to(const struct server *s) {
        struct kaas_client *c = NULL;
        assert_int_equal(kaas_connect(s->path, TIMEOUT_MS, &c), 0);
        assert_non_null(c);
        return c;
}

/* -------------------------------------------------- scripts + tests */

/* Answers with the method it got and its parameters, one byte per write,
 * so the client has to assemble the reply from many reads. */
static int script_split_reply(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        if (!call)
                return 1;
        json_t *reply = json_pack("{s:{s:O, s:O}}", "parameters", "method", json_object_get(call, "method"),
                                  "echo", json_object_get(call, "parameters"));
        json_decref(call);
        char *s = json_dumps(reply, JSON_COMPACT);
        json_decref(reply);
        for (size_t i = 0; i <= strlen(s); i++) {
                if (send_all(fd, s + i, 1) < 0)
                        return 2;
                struct timespec pause = { 0, 200000 };  /* make separate reads likely */
                nanosleep(&pause, NULL);
        }
        free(s);
        drain_until_eof(fd);
        return 0;
}

static void test_reply_split_into_single_bytes(void **state) {
        struct server s;
        server_start(&s, script_split_reply);
        struct kaas_client *c = connect_to(&s);
        json_t *params = json_pack("{s:s, s:i}", "name", "alice", "n", 7);
        json_t *reply = NULL;
        struct kaas_error e = KAAS_ERROR_INIT;
        assert_int_equal(kaas_call(c, "io.kaas.Test.Echo", params, &reply, &e), 0);
        assert_null(e.name);
        assert_string_equal(json_string_value(json_object_get(reply, "method")), "io.kaas.Test.Echo");
        assert_true(json_equal(json_object_get(reply, "echo"), params));
        /* the caller's reference is untouched */
        assert_int_equal(params->refcount, 1);
        json_decref(reply);
        json_decref(params);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Reads two calls, answers both with a single write. */
static int script_pipelined(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *a = read_call(fd), *b = read_call(fd);
        if (!a || !b)
                return 1;
        int ok = strcmp(json_string_value(json_object_get(a, "method")), "io.kaas.Test.First") == 0 &&
                 strcmp(json_string_value(json_object_get(b, "method")), "io.kaas.Test.Second") == 0;
        json_decref(a);
        json_decref(b);
        static const char both[] = "{\"parameters\":{\"n\":1}}\0{\"parameters\":{\"n\":2}}";
        if (send_all(fd, both, sizeof(both)) < 0)
                return 2;
        drain_until_eof(fd);
        return ok ? 0 : 3;
}

static void test_two_replies_in_one_write(void **state) {
        struct server s;
        server_start(&s, script_pipelined);
        struct kaas_client *c = connect_to(&s);
        assert_int_equal(kaas_send(c, "io.kaas.Test.First", NULL, 0), 0);
        assert_int_equal(kaas_send(c, "io.kaas.Test.Second", NULL, 0), 0);
        /* a plain call would take the first call's reply */
        assert_int_equal(kaas_call(c, "io.kaas.Test.Third", NULL, NULL, NULL), -EBUSY);
        json_t *r1 = NULL, *r2 = NULL;
        assert_int_equal(kaas_receive(c, &r1, NULL), 0);
        assert_int_equal(kaas_receive(c, &r2, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(r1, "n")), 1);
        assert_int_equal(json_integer_value(json_object_get(r2, "n")), 2);
        assert_int_equal(kaas_receive(c, NULL, NULL), -ENOMSG);
        json_decref(r1);
        json_decref(r2);
        assert_int_equal(kaas_send(c, "io.kaas.Test.Bad", NULL, KAAS_CALL_MORE | KAAS_CALL_ONEWAY), -EINVAL);
        assert_int_equal(kaas_call(c, "io.kaas.Test.\xff", NULL, NULL, NULL), -EINVAL);
        json_t *array = json_array();
        assert_int_equal(kaas_call(c, "io.kaas.Test.Array", array, NULL, NULL), -EINVAL);
        json_decref(array);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Answers three calls on one connection: two errors, then a success. */
static int script_errors(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call;
        if (!(call = read_call(fd)))
                return 1;
        json_decref(call);
        if (send_msg(fd, "{\"error\":\"io.kaas.Token.NotFound\",\"parameters\":{\"token_id\":\"tid_1\",\"n\":3}}") < 0)
                return 2;
        if (!(call = read_call(fd)))
                return 1;
        json_decref(call);
        if (send_msg(fd, "{\"error\":\"org.varlink.service.MethodNotFound\",\"parameters\":{\"method\":\"a.b.C\"}}") < 0)
                return 2;
        if (!(call = read_call(fd)))
                return 1;
        json_decref(call);
        if (send_msg(fd, "{\"parameters\":{\"ok\":true}}") < 0)
                return 2;
        drain_until_eof(fd);
        return 0;
}

static void test_varlink_error_reply(void **state) {
        struct server s;
        server_start(&s, script_errors);
        struct kaas_client *c = connect_to(&s);
        struct kaas_error e = KAAS_ERROR_INIT;
        json_t *reply = NULL;

        assert_int_equal(kaas_call(c, "io.kaas.Token.Delete", NULL, &reply, &e), KAAS_ERROR_REMOTE);
        assert_null(reply);
        assert_string_equal(e.name, "io.kaas.Token.NotFound");
        assert_true(kaas_error_is(&e, "io.kaas.Token.NotFound"));
        assert_string_equal(json_string_value(json_object_get(e.parameters, "token_id")), "tid_1");
        assert_non_null(strstr(e.message, "io.kaas.Token.NotFound"));
        assert_non_null(strstr(e.message, "token_id: tid_1"));

        /* the connection stays usable after an error; e is cleared first */
        assert_int_equal(kaas_call(c, "a.b.C", NULL, &reply, &e), KAAS_ERROR_REMOTE);
        assert_string_equal(e.name, "org.varlink.service.MethodNotFound");
        assert_string_equal(e.message, "kaasd does not know the method a.b.C");

        assert_int_equal(kaas_call(c, "io.kaas.Test.Ok", NULL, &reply, &e), 0);
        assert_null(e.name);
        assert_true(json_is_true(json_object_get(reply, "ok")));
        json_decref(reply);
        kaas_error_clear(&e);
        kaas_error_clear(&e);  /* idempotent */
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* What kaasd sends in an error ends up on a terminal: its message keeps
 * no control code, C0, DEL or C1 (U+009B is CSI), and other text whole. */
static void test_error_message_without_controls(void **state) {
        struct kaas_error e = KAAS_ERROR_INIT;
        json_t *p = json_pack("{s:s}", "reason", "a\x1b[2Jb\xc2\x9b" "2Jc\x7f" "d\xc2\x80\xc2\xa0\xc3\xa9\tx");

        assert_non_null(p);
        assert_int_equal(libkaas_error_set(&e, "io.kaas.Test.Broken", p), 0);
        assert_string_equal(e.message, "io.kaas.Test.Broken: a?[2Jb?2Jc?d?\xc2\xa0\xc3\xa9?x");
        json_decref(p);
        kaas_error_clear(&e);
}

/* Reads the call and never answers. */
static int script_silent(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        if (!call)
                return 1;
        json_decref(call);
        drain_until_eof(fd);
        return 0;
}

static void test_server_never_answers(void **state) {
        struct server s;
        server_start(&s, script_silent);
        struct kaas_client *c = NULL;
        assert_int_equal(kaas_connect(s.path, 300, &c), 0);
        int64_t start = now_ms();
        assert_int_equal(kaas_call(c, "io.kaas.Test.Hang", NULL, NULL, NULL), -ETIMEDOUT);
        int64_t elapsed = now_ms() - start;
        /* not before the timeout, and the timeout given, not libkaas's
         * default (the bound leaves a busy machine 9 s) */
        assert_true(elapsed >= 290 && elapsed < KAAS_DEFAULT_TIMEOUT_MS - 1000);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Sends half a reply without its NUL, then closes. */
static int script_truncated(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        if (!call)
                return 1;
        json_decref(call);
        static const char partial[] = "{\"parameters\":{}}";
        return send_all(fd, partial, sizeof(partial) - 1) < 0 ? 2 : 0;
}

/* Closes right after reading the call. */
static int script_hangup(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        json_decref(call);
        return call ? 0 : 1;
}

static void test_reply_without_nul_before_eof(void **state) {
        struct server s;
        server_start(&s, script_truncated);
        struct kaas_client *c = connect_to(&s);
        assert_int_equal(kaas_call(c, "io.kaas.Test.Truncated", NULL, NULL, NULL), -EPROTO);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);

        server_start(&s, script_hangup);
        c = connect_to(&s);
        assert_int_equal(kaas_call(c, "io.kaas.Test.Hangup", NULL, NULL, NULL), -ECONNRESET);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Answers with malformed replies, one per connection. */
static int script_malformed(int lfd, int sync_fd) {
        static const char *const replies[] = {
                "not json",
                "[1,2]",
                "{\"parameters\":[1]}",
                "{\"error\":42}",
                "{\"error\":\"no-dots\"}",
                "{\"parameters\":{},\"continues\":true}",  /* to a call without "more" */
        };
        for (size_t i = 0; i < sizeof(replies) / sizeof(replies[0]); i++) {
                int fd = accept_one(lfd);
                json_t *call = read_call(fd);
                if (!call)
                        return 1;
                json_decref(call);
                if (send_msg(fd, replies[i]) < 0)
                        return 2;
                drain_until_eof(fd);
                close(fd);
        }
        return 0;
}

static void test_malformed_replies(void **state) {
        struct server s;
        server_start(&s, script_malformed);
        struct kaas_client *c = connect_to(&s);
        /* each failure closes the connection; the next call reconnects */
        for (int i = 0; i < 6; i++)
                assert_int_equal(kaas_call(c, "io.kaas.Test.Bad", NULL, NULL, NULL), -EPROTO);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Sends an unterminated reply far over any limit. */
static int script_oversized(int lfd, int sync_fd) {
        for (int conn = 0; conn < 2; conn++) {
                int fd = accept_one(lfd);
                json_t *call = read_call(fd);
                if (!call)
                        return 1;
                json_decref(call);
                static char junk[65536];
                memset(junk, 'x', sizeof(junk));
                static const char head[] = "{\"parameters\":{\"s\":\"";
                if (send_all(fd, head, sizeof(head) - 1) < 0)
                        return 2;
                /* 2 MiB, or until the client gives up and closes */
                for (int i = 0; i < 32; i++)
                        if (send_all(fd, junk, sizeof(junk)) < 0)
                                break;
                close(fd);
        }
        return 0;
}

static void test_oversized_reply(void **state) {
        struct server s;
        server_start(&s, script_oversized);
        struct kaas_client *c = connect_to(&s);
        /* the default limit, 1 MiB */
        assert_int_equal(kaas_call(c, "io.kaas.Test.Big", NULL, NULL, NULL), -EMSGSIZE);
        /* a smaller one, set on the client */
        assert_int_equal(kaas_client_set_max_message_size(c, 1024), 0);
        assert_int_equal(kaas_call(c, "io.kaas.Test.Big", NULL, NULL, NULL), -EMSGSIZE);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Checks that an oversized call is refused before anything is sent. */
static int script_small_call_only(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        if (!call)
                return 1;
        int ok = strcmp(json_string_value(json_object_get(call, "method")), "io.kaas.Test.Small") == 0;
        json_decref(call);
        if (send_msg(fd, "{\"parameters\":{}}") < 0)
                return 2;
        drain_until_eof(fd);
        return ok ? 0 : 3;
}

static void test_oversized_call(void **state) {
        struct server s;
        server_start(&s, script_small_call_only);
        struct kaas_client *c = connect_to(&s);
        assert_int_equal(kaas_client_set_max_message_size(c, 100), 0);
        char big[200];
        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        json_t *params = json_pack("{s:s}", "s", big);
        assert_int_equal(kaas_call(c, "io.kaas.Test.Big", params, NULL, NULL), -EMSGSIZE);
        json_decref(params);
        /* nothing was written, so the connection still works */
        assert_int_equal(kaas_call(c, "io.kaas.Test.Small", NULL, NULL, NULL), 0);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

static void test_socket_missing(void **state) {
        char dir[PATH_MAX], path[PATH_MAX + 32];
        snprintf(dir, sizeof(dir), "/tmp/test_libkaas.XXXXXX");
        assert_non_null(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/none.sock", dir);
        struct kaas_client *c = NULL;
        assert_int_equal(kaas_connect(path, TIMEOUT_MS, &c), -ENOENT);
        assert_null(c);
        char msg[512];
        kaas_strerror_path(-ENOENT, path, msg, sizeof(msg));
        assert_non_null(strstr(msg, "kaasd is not running (no socket at "));
        assert_non_null(strstr(msg, path));

        /* a socket file nobody listens on */
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/dead.sock", dir) < (int)sizeof(sa.sun_path));
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        close(fd);
        assert_int_equal(kaas_connect(sa.sun_path, TIMEOUT_MS, &c), -ECONNREFUSED);
        unlink(sa.sun_path);

        char longpath[300];
        memset(longpath, 'a', sizeof(longpath) - 1);
        longpath[0] = '/';
        longpath[sizeof(longpath) - 1] = '\0';
        assert_int_equal(kaas_connect(longpath, TIMEOUT_MS, &c), -ENAMETOOLONG);
        rmdir(dir);
}

/* kaasd too busy to accept: its listen backlog is full, so connect()
 * would fail with EAGAIN at once; libkaas retries until its deadline. */
static void test_connect_timeout_when_backlog_full(void **state) {
        char dir[128];
        snprintf(dir, sizeof(dir), "/tmp/test_libkaas.XXXXXX");
        assert_non_null(mkdtemp(dir));
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/busy.sock", dir) < (int)sizeof(sa.sun_path));
        int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 0), 0);
        int fill[64];
        size_t n_fill = 0;
        for (; n_fill < 64; n_fill++) {
                fill[n_fill] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (connect(fill[n_fill], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        assert_int_equal(errno, EAGAIN);
                        break;
                }
        }
        assert_true(n_fill < 64);

        struct kaas_client *c = NULL;
        int64_t start = now_ms();
        assert_int_equal(kaas_connect(sa.sun_path, 300, &c), -ETIMEDOUT);
        int64_t elapsed = now_ms() - start;
        assert_true(elapsed >= 290 && elapsed < KAAS_DEFAULT_TIMEOUT_MS - 1000);

        for (size_t i = 0; i <= n_fill; i++)
                close(fill[i]);
        close(lfd);
        unlink(sa.sun_path);
        rmdir(dir);
}

/* Accepts any number of connections and reads each until EOF, then
 * reports on the sync pipe whether the client sent nothing ('0') or
 * something ('1'): a client that must not talk must report '0'. */
static int script_accept_quietly(int lfd, int sync_fd) {
        for (;;) {
                int fd = accept_one(lfd);
                if (fd < 0)
                        return 1;
                size_t n = drain_until_eof(fd);
                close(fd);
                sync_signal(sync_fd, n > 0 ? '1' : '0');
        }
}

static void test_fd_above_stdio_and_cloexec(void **state) {
        struct server s;
        server_start(&s, script_accept_quietly);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* a daemon with closed stdio: socket() would return 0 */
                close(0);
                close(1);
                close(2);
                struct kaas_client *c = NULL;
                if (kaas_connect(s.path, TIMEOUT_MS, &c) < 0)
                        _exit(10);
                int found = 0;
                for (int fd = 0; fd < 1024; fd++) {
                        struct stat st;
                        if (fstat(fd, &st) < 0 || !S_ISSOCK(st.st_mode))
                                continue;
                        if (fd < 3)
                                _exit(11);
                        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
                                _exit(12);
                        found++;
                }
                kaas_client_free(c);
                _exit(found == 1 ? 0 : 13);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(server_wait_sync(&s), '0');
        server_kill(&s);
}

static void test_require_peer_uid(void **state) {
        struct server s;
        server_start(&s, script_accept_quietly);
        uid_t other = getuid() + 4242;

        /* required before connecting: nothing is exchanged at all */
        struct kaas_client *c = NULL;
        assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
        assert_int_equal(kaas_client_require_peer_uid(c, other), 0);
        assert_int_equal(kaas_client_connect(c), -EPERM);
        assert_int_equal(kaas_call(c, "io.kaas.Secret.Check", NULL, NULL, NULL), -EPERM);
        kaas_client_free(c);

        /* required on a connected client: checked at once, then closed */
        c = connect_to(&s);
        assert_int_equal(kaas_client_require_peer_uid(c, other), -EPERM);
        kaas_client_free(c);
        assert_int_equal(server_wait_sync(&s), '0');

        /* the right uid passes */
        assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
        assert_int_equal(kaas_client_require_peer_uid(c, getuid()), 0);
        assert_int_equal(kaas_client_connect(c), 0);
        kaas_client_free(c);
        assert_int_equal(server_wait_sync(&s), '0');

        /* a socket file owned by the required user but served by another
         * one fails on SO_PEERCRED (needs root to chown) */
        if (geteuid() == 0 && chown(s.path, other, (gid_t)-1) == 0) {
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_peer_uid(c, other), 0);
                assert_int_equal(kaas_client_connect(c), -EPERM);
                kaas_client_free(c);
                /* it connected, then closed without a byte */
                assert_int_equal(server_wait_sync(&s), '0');
        }
        server_kill(&s);
}

/* kaas_client_require_kaasd(): root or kaasd's user, for the socket file's
 * owner and for the server process alike. */
static void test_require_kaasd(void **state) {
        struct server s;
        server_start(&s, script_accept_quietly);
        uid_t me = getuid(), other = getuid() + 4242, third = getuid() + 4243;
        struct kaas_client *c = NULL;

        /* served by this process's user, named as kaasd's: accepted */
        assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
        assert_int_equal(kaas_client_require_kaasd(c, me), 0);
        assert_int_equal(kaas_client_connect(c), 0);
        kaas_client_free(c);
        assert_int_equal(server_wait_sync(&s), '0');

        if (geteuid() != 0) {
                /* neither root nor kaasd's user: refused before anything is sent */
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_kaasd(c, other), 0);
                assert_int_equal(kaas_client_connect(c), -EPERM);
                assert_int_equal(kaas_call(c, "io.kaas.Secret.Check", NULL, NULL, NULL), -EPERM);
                kaas_client_free(c);
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_kaasd(c, KAAS_UID_INVALID), 0);
                assert_int_equal(kaas_client_connect(c), -EPERM);
                kaas_client_free(c);
        } else if (chown(s.path, third, (gid_t)-1) == 0) {
                /* root serves: trusted whoever kaasd's user is, unless the
                 * socket file belongs to a third user */
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_kaasd(c, other), 0);
                assert_int_equal(kaas_client_connect(c), -EPERM);
                kaas_client_free(c);
                /* a socket file of kaasd's user, served by root: accepted */
                assert_int_equal(chown(s.path, other, (gid_t)-1), 0);
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_kaasd(c, other), 0);
                assert_int_equal(kaas_client_connect(c), 0);
                kaas_client_free(c);
                assert_int_equal(server_wait_sync(&s), '0');
                /* root only: kaasd's user's socket file is refused */
                assert_int_equal(kaas_client_new(s.path, TIMEOUT_MS, &c), 0);
                assert_int_equal(kaas_client_require_kaasd(c, KAAS_UID_INVALID), 0);
                assert_int_equal(kaas_client_connect(c), -EPERM);
                kaas_client_free(c);
        }
        server_kill(&s);

        uid_t uid = 1;
        assert_int_equal(kaas_kaasd_uid("0", &uid), 0);
        assert_int_equal(uid, 0);
        uid = 1;
        assert_int_equal(kaas_kaasd_uid("root", &uid), 0);
        assert_int_equal(uid, 0);
        assert_int_equal(kaas_kaasd_uid("4242", &uid), 0);
        assert_int_equal(uid, 4242);
        assert_int_equal(kaas_kaasd_uid("", &uid), -EINVAL);
        assert_int_equal(kaas_kaasd_uid("no-such-user-kaas-test", &uid), -ENOENT);
        assert_int_equal(kaas_kaasd_uid("4294967295", &uid), -ENOENT);
}

/* The parent's connection is accepted first, the child's second; each is
 * answered with its number, the child's first. */
static int script_two_connections(int lfd, int sync_fd) {
        int a = accept_one(lfd);
        int b = accept_one(lfd);
        json_t *call;
        if (!(call = read_call(b)))
                return 1;
        json_decref(call);
        if (send_msg(b, "{\"parameters\":{\"conn\":2}}") < 0)
                return 2;
        if (!(call = read_call(a)))
                return 3;
        json_decref(call);
        if (send_msg(a, "{\"parameters\":{\"conn\":1}}") < 0)
                return 4;
        drain_until_eof(a);
        drain_until_eof(b);
        return 0;
}

static void test_use_after_fork_reconnects(void **state) {
        struct server s;
        server_start(&s, script_two_connections);
        struct kaas_client *c = connect_to(&s);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                json_t *reply = NULL;
                int r = kaas_call(c, "io.kaas.Test.Who", NULL, &reply, NULL);
                int conn = r == 0 ? (int)json_integer_value(json_object_get(reply, "conn")) : r;
                json_decref(reply);
                kaas_client_free(c);
                _exit(conn == 2 ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        /* the parent's connection was left alone by the child */
        json_t *reply = NULL;
        assert_int_equal(kaas_call(c, "io.kaas.Test.Who", NULL, &reply, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(reply, "conn")), 1);
        json_decref(reply);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Answers one call, closes the connection as an idle kaasd does, and
 * answers the next call on a new connection. */
static int script_idle_close(int lfd, int sync_fd) {
        int a = accept_one(lfd);
        json_t *call;
        if (!(call = read_call(a)))
                return 1;
        json_decref(call);
        if (send_msg(a, "{\"parameters\":{\"conn\":1}}") < 0)
                return 2;
        close(a);
        sync_signal(sync_fd, '0');
        int b = accept_one(lfd);
        if (!(call = read_call(b)))
                return 3;
        json_decref(call);
        if (send_msg(b, "{\"parameters\":{\"conn\":2}}") < 0)
                return 4;
        drain_until_eof(b);
        return 0;
}

static void test_reconnect_after_idle_close(void **state) {
        struct server s;
        server_start(&s, script_idle_close);
        struct kaas_client *c = connect_to(&s);
        json_t *reply = NULL;
        assert_int_equal(kaas_call(c, "io.kaas.Test.Who", NULL, &reply, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(reply, "conn")), 1);
        json_decref(reply);
        server_wait_sync(&s);
        assert_int_equal(kaas_call(c, "io.kaas.Test.Who", NULL, &reply, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(reply, "conn")), 2);
        json_decref(reply);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Refuses every connection the way kaasd does at its connection limit:
 * an error right after accept, then close. */
static int script_refuse(int lfd, int sync_fd) {
        for (int i = 0; i < 3; i++) {
                int fd = accept_one(lfd);
                if (fd < 0)
                        return 1;
                (void)send_msg(fd, "{\"error\":\"io.kaas.ConnectionLimit\",\"parameters\":{\"reason\":\"too many connections\"}}");
                close(fd);
        }
        return 0;
}

static void test_connection_refused_with_error(void **state) {
        struct server s;
        server_start(&s, script_refuse);
        struct kaas_client *c = connect_to(&s);
        struct kaas_error e = KAAS_ERROR_INIT;
        assert_int_equal(kaas_call(c, "io.kaas.Test.Any", NULL, NULL, &e), KAAS_ERROR_REMOTE);
        assert_string_equal(e.name, "io.kaas.ConnectionLimit");
        assert_string_equal(e.message, "kaasd refused the connection: too many connections");
        kaas_error_clear(&e);
        kaas_client_free(c);
        server_kill(&s);
}

/* Streams three replies to a "more" call, then serves a second stream
 * that ends in an error. */
static int script_stream(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *call = read_call(fd);
        if (!call || !json_is_true(json_object_get(call, "more")))
                return 1;
        json_decref(call);
        for (int i = 1; i <= 3; i++)
                if (send_json(fd, json_pack("{s:{s:i}, s:b}", "parameters", "i", i, "continues", i < 3)) < 0)
                        return 2;
        if (!(call = read_call(fd)))
                return 3;
        json_decref(call);
        if (send_msg(fd, "{\"parameters\":{\"i\":1},\"continues\":true}") < 0 ||
            send_msg(fd, "{\"error\":\"io.kaas.Test.Broken\",\"parameters\":{\"reason\":\"gone\"}}") < 0)
                return 4;
        drain_until_eof(fd);
        return 0;
}

struct collected {
        int n;
        int values[8];
        bool continues[8];
};

static int collect(json_t *parameters, bool continues, void *userdata) {
        struct collected *col = userdata;
        if (col->n >= 8)
                return -E2BIG;
        col->values[col->n] = (int)json_integer_value(json_object_get(parameters, "i"));
        col->continues[col->n++] = continues;
        return 0;
}

static void test_call_more_streams(void **state) {
        struct server s;
        server_start(&s, script_stream);
        struct kaas_client *c = connect_to(&s);
        struct collected col = { 0 };
        assert_int_equal(kaas_call_more(c, "io.kaas.Test.Stream", NULL, collect, &col, NULL), 0);
        assert_int_equal(col.n, 3);
        for (int i = 0; i < 3; i++) {
                assert_int_equal(col.values[i], i + 1);
                assert_int_equal(col.continues[i], i < 2);
        }
        struct kaas_error e = KAAS_ERROR_INIT;
        col = (struct collected){ 0 };
        assert_int_equal(kaas_call_more(c, "io.kaas.Test.Stream", NULL, collect, &col, &e), KAAS_ERROR_REMOTE);
        assert_int_equal(col.n, 1);
        assert_string_equal(e.name, "io.kaas.Test.Broken");
        assert_string_equal(e.message, "io.kaas.Test.Broken: gone");
        kaas_error_clear(&e);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

/* Checks a oneway call arrives marked, and answers the call after it. */
static int script_oneway(int lfd, int sync_fd) {
        int fd = accept_one(lfd);
        json_t *first = read_call(fd), *second = read_call(fd);
        if (!first || !second)
                return 1;
        bool ok = json_is_true(json_object_get(first, "oneway")) && !json_object_get(second, "oneway");
        json_decref(first);
        json_decref(second);
        if (send_json(fd, json_pack("{s:{s:b}}", "parameters", "saw_oneway", ok)) < 0)
                return 2;
        drain_until_eof(fd);
        return 0;
}

static void test_call_oneway(void **state) {
        struct server s;
        server_start(&s, script_oneway);
        struct kaas_client *c = connect_to(&s);
        assert_int_equal(kaas_call_oneway(c, "io.kaas.Test.Fire", NULL), 0);
        json_t *reply = NULL;
        assert_int_equal(kaas_call(c, "io.kaas.Test.After", NULL, &reply, NULL), 0);
        assert_true(json_is_true(json_object_get(reply, "saw_oneway")));
        json_decref(reply);
        kaas_client_free(c);
        assert_int_equal(server_finish(&s), 0);
}

static void test_socket_path_resolution(void **state) {
        assert_int_equal(setenv(KAAS_SOCKET_ENV, "/from/env.sock", 1), 0);
        assert_string_equal(kaas_socket_path(NULL), "/from/env.sock");
        assert_string_equal(kaas_socket_path(""), "/from/env.sock");
        assert_string_equal(kaas_socket_path("/given.sock"), "/given.sock");
        struct kaas_client *c = NULL;
        assert_int_equal(kaas_client_new(NULL, 0, &c), 0);
        assert_string_equal(kaas_client_get_socket_path(c), "/from/env.sock");
        kaas_client_free(c);
        assert_int_equal(unsetenv(KAAS_SOCKET_ENV), 0);
        const char *def = kaas_socket_path(NULL);
        assert_string_equal(def + strlen(def) - strlen("/kaas/kaasd.sock"), "/kaas/kaasd.sock");
        assert_null(kaas_client_free(NULL));
}

static void test_strerror(void **state) {
        assert_string_equal(kaas_strerror(-ETIMEDOUT), "kaasd did not answer in time");
        assert_string_equal(kaas_strerror(-ECONNREFUSED), "kaasd is not running (connection refused)");
        assert_non_null(kaas_strerror(-EIO));
        assert_non_null(kaas_strerror(-99999));
        assert_non_null(kaas_strerror(12345));
        char small[16];
        kaas_strerror_path(-ENOENT, "/run/kaas/kaasd.sock", small, sizeof(small));
        assert_int_equal(strlen(small), sizeof(small) - 1);
        char big[256];
        assert_string_equal(kaas_strerror_path(-EPROTO, "/x", big, sizeof(big)), "malformed reply from kaasd");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_reply_split_into_single_bytes),
                cmocka_unit_test(test_two_replies_in_one_write),
                cmocka_unit_test(test_varlink_error_reply),
                cmocka_unit_test(test_error_message_without_controls),
                cmocka_unit_test(test_server_never_answers),
                cmocka_unit_test(test_reply_without_nul_before_eof),
                cmocka_unit_test(test_malformed_replies),
                cmocka_unit_test(test_oversized_reply),
                cmocka_unit_test(test_oversized_call),
                cmocka_unit_test(test_socket_missing),
                cmocka_unit_test(test_connect_timeout_when_backlog_full),
                cmocka_unit_test(test_fd_above_stdio_and_cloexec),
                cmocka_unit_test(test_require_peer_uid),
                cmocka_unit_test(test_require_kaasd),
                cmocka_unit_test(test_use_after_fork_reconnects),
                cmocka_unit_test(test_reconnect_after_idle_close),
                cmocka_unit_test(test_connection_refused_with_error),
                cmocka_unit_test(test_call_more_streams),
                cmocka_unit_test(test_call_oneway),
                cmocka_unit_test(test_socket_path_resolution),
                cmocka_unit_test(test_strerror),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
