/* kaasd's varlink server against hostile and careless peers: a real kaasd
 * from the build tree on a temporary socket, driven over raw sockets.
 * Whatever one client does, the others keep being served and kaasd keeps
 * running; at the end SIGTERM must make it exit cleanly. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
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

#include "varlink_frame.h"

static char dir[] = "/tmp/kaas-server-test-XXXXXX";
static char sock_path[256];
static char conf_path[256];
static pid_t kaasd_pid;

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int connect_to(const char *path) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        strcpy(sa.sun_path, path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

static int connect_kaasd(void) {
        return connect_to(sock_path);
}

static void send_all(int fd, const void *data, size_t n) {
        const char *p = data;
        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                assert_true(k > 0);
                p += k;
                n -= (size_t)k;
        }
}

static void send_call(int fd, const char *json) {
        send_all(fd, json, strlen(json) + 1);
}

/* Reads one reply within timeout_ms; NULL on EOF or timeout. */
static json_t *read_reply(int fd, struct vl_reader *r, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        for (;;) {
                json_t *m = NULL;
                int k = vl_reader_next(r, &m);
                assert_true(k >= 0);
                if (k == 1)
                        return m;
                long long left = deadline - now_ms();
                if (left <= 0)
                        return NULL;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, (int)left) <= 0)
                        return NULL;
                ssize_t n = vl_reader_fill(r, fd);
                if (n == -EAGAIN)
                        continue;
                if (n <= 0)
                        return NULL;
        }
}

static json_t *call(const char *json) {
        int fd = connect_kaasd();
        assert_true(fd >= 0);
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        send_call(fd, json);
        json_t *m = read_reply(fd, r, 5000);
        vl_reader_free(r);
        close(fd);
        return m;
}

static const char *error_of(json_t *m) {
        return json_string_value(json_object_get(m, "error"));
}

/* True when the peer closes within timeout_ms (EOF or reset). */
static bool closed_within(int fd, int timeout_ms) {
        long long deadline = now_ms() + timeout_ms;
        char buf[4096];
        for (;;) {
                long long left = deadline - now_ms();
                if (left <= 0)
                        return false;
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, (int)left) <= 0)
                        return false;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        return true;
        }
}

static void assert_alive(void) {
        assert_int_equal(waitpid(kaasd_pid, NULL, WNOHANG), 0);
        json_t *m = call("{\"method\":\"io.kaas.Admin.Status\"}");
        assert_non_null(m);
        assert_null(error_of(m));
        json_decref(m);
}

static void write_conf(const char *extra) {
        FILE *f = fopen(conf_path, "w");
        assert_non_null(f);
        fprintf(f, "[kaasd]\nmax_connections = 400\nmax_connections_per_uid = 5\n"
                   "max_message_size = 64K\nmax_output_buffer = 256K\nidle_timeout = 2\n"
                   "log_level = debug\n%s", extra);
        fclose(f);
}

/* Starts a kaasd on conf listening on sock, with its state and log in
 * dir (state_dir, log), and waits until it accepts connections. */
static pid_t spawn_kaasd(const char *conf, const char *sock, const char *state, const char *log) {
        const char *builddir = getenv("top_builddir");
        char kaasd[4096], state_dir[300], log_path[300];
        snprintf(kaasd, sizeof(kaasd), "%s/kaasd/kaasd", builddir ? builddir : ".");
        snprintf(state_dir, sizeof(state_dir), "%s/%s", dir, state);
        snprintf(log_path, sizeof(log_path), "%s/%s", dir, log);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
                dup2(fd, 2);
                /* make check-valgrind runs kaasd under $KAASD_WRAPPER */
                const char *wrapper = getenv("KAASD_WRAPPER");
                if (wrapper && *wrapper)
                        execl("/bin/sh", "sh", "-c", "exec $KAASD_WRAPPER \"$@\"", "sh", kaasd, "-f", "-c",
                              conf, "--socket", sock, "--state-dir", state_dir, (char *)NULL);
                else
                        execl(kaasd, kaasd, "-f", "-c", conf, "--socket", sock, "--state-dir", state_dir,
                              (char *)NULL);
                _exit(127);
        }
        for (long long deadline = now_ms() + (getenv("KAASD_WRAPPER") ? 60000 : 10000); now_ms() < deadline;) {
                int fd = connect_to(sock);
                if (fd >= 0) {
                        close(fd);
                        return pid;
                }
                assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
                poll(NULL, 0, 20);
        }
        fail_msg("kaasd did not start listening on %s", sock);
        return -1;
}

/* SIGTERM: kaasd drains, exits 0 and removes its socket. */
static void terminate_kaasd(pid_t pid, const char *sock) {
        kill(pid, SIGTERM);
        int status = 0;
        long long deadline = now_ms() + (getenv("KAASD_WRAPPER") ? 60000 : 10000);
        pid_t p;
        while ((p = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline)
                poll(NULL, 0, 20);
        if (p == 0) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                fail_msg("kaasd did not exit in time after SIGTERM");
        }
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        struct stat st;
        assert_int_equal(stat(sock, &st), -1);  /* socket removed */
}

static int start_kaasd(void **state) {
        signal(SIGPIPE, SIG_IGN);
        assert_non_null(mkdtemp(dir));
        chmod(dir, 0755);
        snprintf(sock_path, sizeof(sock_path), "%s/kaasd.sock", dir);
        snprintf(conf_path, sizeof(conf_path), "%s/kaasd.conf", dir);
        write_conf("");
        kaasd_pid = spawn_kaasd(conf_path, sock_path, "state", "kaasd.log");
        return 0;
}

static int stop_kaasd(void **state) {
        terminate_kaasd(kaasd_pid, sock_path);
        char cmd[400];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        return system(cmd);
}

static void test_concurrent_clients(void **state) {
        enum { N = 200 };
        int fds[N];
        struct vl_reader *readers[N];
        for (int i = 0; i < N; i++) {
                fds[i] = connect_kaasd();
                assert_true(fds[i] >= 0);
                assert_int_equal(vl_reader_new(0, &readers[i]), 0);
        }
        for (int i = 0; i < N; i++)
                send_call(fds[i], "{\"method\":\"io.kaas.Admin.Status\"}");
        for (int i = 0; i < N; i++) {
                json_t *m = read_reply(fds[i], readers[i], 5000);
                assert_non_null(m);
                assert_null(error_of(m));
                json_t *conns = json_object_get(json_object_get(m, "parameters"), "connections");
                assert_true(json_integer_value(conns) >= 1);
                json_decref(m);
        }
        for (int i = 0; i < N; i++) {
                close(fds[i]);
                vl_reader_free(readers[i]);
        }
        assert_alive();
}

static void test_pipelined_replies_in_order(void **state) {
        static const char *const ifaces[] = { "io.kaas.Admin", "org.varlink.service", "io.kaas" };
        char buf[8192] = "";
        size_t len = 0;
        for (int i = 0; i < 30; i++) {
                len += (size_t)snprintf(buf + len, sizeof(buf) - len,
                                        "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                                        "\"parameters\":{\"interface\":\"%s\"}}",
                                        ifaces[i % 3]) + 1;  /* keep the NUL */
        }
        /* plus a oneway call, which gets no reply, and a final Status */
        const char oneway[] = "{\"method\":\"io.kaas.Admin.Status\",\"oneway\":true}";
        memcpy(buf + len, oneway, sizeof(oneway));
        len += sizeof(oneway);
        const char last[] = "{\"method\":\"io.kaas.Admin.Status\"}";
        memcpy(buf + len, last, sizeof(last));
        len += sizeof(last);

        int fd = connect_kaasd();
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        send_all(fd, buf, len);
        for (int i = 0; i < 30; i++) {
                json_t *m = read_reply(fd, r, 5000);
                assert_non_null(m);
                const char *desc = json_string_value(json_object_get(json_object_get(m, "parameters"), "description"));
                assert_non_null(desc);
                char want[100];
                snprintf(want, sizeof(want), "interface %s\n", ifaces[i % 3]);
                assert_non_null(strstr(desc, want));
                json_decref(m);
        }
        json_t *m = read_reply(fd, r, 5000);
        assert_non_null(json_object_get(json_object_get(m, "parameters"), "uptime_seconds"));
        json_decref(m);
        vl_reader_free(r);
        close(fd);
}

static void test_standard_errors(void **state) {
        static const struct { const char *call; const char *error; const char *param; const char *value; } cases[] = {
                { "{\"method\":\"org.example.Nothing.Call\"}", "org.varlink.service.InterfaceNotFound", "interface", "org.example.Nothing" },
                { "{\"method\":\"io.kaas.Admin.Nothing\"}", "org.varlink.service.MethodNotFound", "method", "io.kaas.Admin.Nothing" },
                { "{\"method\":\"io.kaas.Admin.Status\",\"parameters\":{\"x\":1}}", "org.varlink.service.InvalidParameter", "parameter", "x" },
                { "{\"method\":\"org.varlink.service.GetInterfaceDescription\"}", "org.varlink.service.InvalidParameter", "parameter", "interface" },
                { "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":7}}", "org.varlink.service.InvalidParameter", "parameter", "interface" },
                { "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"a.b\"}}", "org.varlink.service.InterfaceNotFound", "interface", "a.b" },
                { "{\"method\":7}", "org.varlink.service.InvalidParameter", "parameter", "method" },
                { "{\"method\":\"io.kaas.Admin.Status\",\"bogus\":true}", "org.varlink.service.InvalidParameter", "parameter", "message" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                json_t *m = call(cases[i].call);
                assert_non_null(m);
                assert_string_equal(error_of(m), cases[i].error);
                const char *v = json_string_value(json_object_get(json_object_get(m, "parameters"), cases[i].param));
                assert_non_null(v);
                assert_string_equal(v, cases[i].value);
                json_decref(m);
        }
}

static void test_garbage_gets_error_then_close(void **state) {
        int fd = connect_kaasd();
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        /* a good call first: it is answered before the error */
        send_call(fd, "{\"method\":\"io.kaas.Admin.Status\"}");
        send_all(fd, "\x01\x02garbage{{{\0", 13);
        json_t *m = read_reply(fd, r, 5000);
        assert_null(error_of(m));
        json_decref(m);
        m = read_reply(fd, r, 5000);
        assert_non_null(m);
        assert_string_equal(error_of(m), "io.kaas.ProtocolError");
        json_decref(m);
        assert_true(closed_within(fd, 5000));
        vl_reader_free(r);
        close(fd);
        assert_alive();
}

static void test_oversized_message(void **state) {
        int fd = connect_kaasd();
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        size_t n = 200 * 1024;  /* max_message_size is 64K */
        char *big = malloc(n);
        memset(big, ' ', n);
        memcpy(big, "{\"method\":\"io.kaas.Admin.Status\",\"parameters\":{\"x\":\"", 52);
        /* kaasd may close while we still write: ignore EPIPE */
        size_t sent = 0;
        while (sent < n) {
                ssize_t k = send(fd, big + sent, n - sent, MSG_NOSIGNAL);
                if (k <= 0)
                        break;
                sent += (size_t)k;
        }
        free(big);
        json_t *m = read_reply(fd, r, 5000);
        assert_non_null(m);
        assert_string_equal(error_of(m), "io.kaas.MessageTooLarge");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(m, "parameters"), "limit")), 65536);
        json_decref(m);
        assert_true(closed_within(fd, 5000));
        vl_reader_free(r);
        close(fd);
        assert_alive();
}

/* n values in one message: "[0,0,...]" as a parameter of Status */
static char *message_with_values(size_t n) {
        const char head[] = "{\"method\":\"io.kaas.Admin.Status\",\"parameters\":{\"x\":[";
        char *m = malloc(sizeof(head) + 2 * n + 4);
        assert_non_null(m);
        size_t len = sizeof(head) - 1;
        memcpy(m, head, len);
        for (size_t i = 0; i < n; i++) {
                m[len++] = '0';
                m[len++] = i + 1 < n ? ',' : ']';
        }
        memcpy(m + len, "}}", 3);
        return m;
}

/* What a message costs once parsed stays near its size: one of many tiny
 * values is refused unparsed (a 1 MiB one held 16 MiB while in flight). */
static void test_too_many_values(void **state) {
        int fd = connect_kaasd();
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        char *ok = message_with_values(4000), *big = message_with_values(20000);  /* 40 KB < 64K */
        send_call(fd, ok);
        send_call(fd, big);
        free(ok);
        free(big);
        json_t *m = read_reply(fd, r, 5000);
        assert_non_null(m);
        assert_string_equal(error_of(m), "org.varlink.service.InvalidParameter");  /* parsed, checked */
        json_decref(m);
        m = read_reply(fd, r, 5000);
        assert_non_null(m);
        assert_string_equal(error_of(m), "io.kaas.ProtocolError");
        assert_non_null(strstr(json_string_value(json_object_get(json_object_get(m, "parameters"), "reason")),
                               "4096 JSON values"));
        json_decref(m);
        assert_true(closed_within(fd, 5000));
        vl_reader_free(r);
        close(fd);
        assert_alive();
}

static void test_disconnect_mid_message(void **state) {
        for (int i = 0; i < 20; i++) {
                int fd = connect_kaasd();
                send_all(fd, "{\"method\":\"io.kaas.Adm", 22);
                close(fd);
        }
        /* and with a call in flight whose reply cannot be delivered */
        for (int i = 0; i < 20; i++) {
                int fd = connect_kaasd();
                send_call(fd, "{\"method\":\"io.kaas.Admin.Status\"}");
                close(fd);
        }
        assert_alive();
}

static void test_peer_that_never_reads(void **state) {
        int fd = connect_kaasd();
        /* small receive buffer so kaasd's output backs up quickly */
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        char one[256];
        int len = snprintf(one, sizeof(one),
                           "{\"method\":\"org.varlink.service.GetInterfaceDescription\",\"parameters\":{\"interface\":\"io.kaas.Admin\"}}") + 1;
        fcntl(fd, F_SETFL, O_NONBLOCK);
        /* keep sending calls without reading any reply; kaasd must stop
         * reading from us (back-pressure) or drop us, never buffer forever */
        long long deadline = now_ms() + 60000;  /* a hang guard: it fills in ms */
        bool dropped = false;
        int sent = 0;
        while (now_ms() < deadline && !dropped) {
                ssize_t k = send(fd, one, (size_t)len, MSG_NOSIGNAL);
                if (k < 0 && errno == EAGAIN) {
                        /* kaasd stopped reading us: meanwhile others are served */
                        assert_alive();
                        break;
                }
                if (k < 0) {
                        dropped = true;
                        break;
                }
                sent++;
        }
        assert_true(sent > 0);
        assert_true(now_ms() < deadline);
        /* the stuck peer is dropped once idle_timeout (2 s) passes without
         * progress; the wait only guards against a hang */
        assert_true(closed_within(fd, 30000));
        close(fd);
        assert_alive();
}

/* A client that pipelines more than its replies' room (max_output_buffer
 * 256K) in one write is served to the end: the calls kaasd read while it
 * held the client back are taken once the replies drain, although no
 * more input comes. Read steadily, if slowly, too: its calls wait whole
 * in kaasd's buffer, none is a message that never completes, so
 * idle_timeout (2 s) does not apply while it reads. */
static void read_many_replies(int pause_ms) {
        enum { N = 400 };  /* 6 KB each: 2.4 MB; with 20 ms pauses read at 0.8 MB/s */
        static const char one[] = "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                                  "\"parameters\":{\"interface\":\"io.kaas.Token\"}}";
        char *all = malloc(N * sizeof(one));
        assert_non_null(all);
        for (int i = 0; i < N; i++)
                memcpy(all + i * sizeof(one), one, sizeof(one));
        int fd = connect_kaasd();
        send_all(fd, all, N * sizeof(one));
        free(all);
        int replies = 0;
        long long deadline = now_ms() + 30000;
        char buf[16384];
        while (replies < N && now_ms() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 5000) <= 0)
                        break;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n; i++)
                        replies += buf[i] == '\0';
                if (pause_ms)
                        poll(NULL, 0, pause_ms);
        }
        close(fd);
        assert_int_equal(replies, N);
        assert_alive();
}

static void test_many_replies_read_at_once(void **state) {
        read_many_replies(0);
}

static void test_many_replies_read_slowly(void **state) {
        read_many_replies(20);
}

static void test_idle_and_slow_clients_dropped(void **state) {
        int idle = connect_kaasd();
        int slow = connect_kaasd();
        /* one byte a second never completes a message within idle_timeout
         * (2 s): dropped although it never goes a second without sending
         * (30 tries: a hang guard, however slow the machine) */
        bool slow_closed = false;
        for (int i = 0; i < 30 && !slow_closed; i++) {
                if (send(slow, "{", 1, MSG_NOSIGNAL) < 0)
                        slow_closed = true;
                else
                        slow_closed = closed_within(slow, 1000);
        }
        assert_true(slow_closed);
        assert_true(closed_within(idle, 30000));
        close(idle);
        close(slow);
        assert_alive();
}

static void test_connection_limit_per_uid(void **state) {
        if (geteuid() != 0)
                skip();
        int pipefd[2];
        assert_int_equal(pipe(pipefd), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                /* an ordinary user: limited to 5 connections, and no admin */
                if (setgid(65534) < 0 || setuid(65534) < 0)
                        _exit(10);
                int fds[5];
                for (int i = 0; i < 5; i++)
                        if ((fds[i] = connect_kaasd()) < 0)
                                _exit(11);
                int extra = connect_kaasd();
                struct vl_reader *r;
                if (vl_reader_new(0, &r) < 0)
                        _exit(12);
                json_t *m = read_reply(extra, r, 5000);
                if (!m || strcmp(error_of(m) ? error_of(m) : "", "io.kaas.ConnectionLimit") != 0)
                        _exit(13);
                json_decref(m);
                vl_reader_free(r);
                /* a method for administrators only, on a connection already
                 * open: a new one could race kaasd's noticing the close of
                 * an old one and meet the limit again */
                if (vl_reader_new(0, &r) < 0)
                        _exit(12);
                send_call(fds[0], "{\"method\":\"io.kaas.Admin.Reload\"}");
                m = read_reply(fds[0], r, 5000);
                if (!m || strcmp(error_of(m) ? error_of(m) : "", "org.varlink.service.PermissionDenied") != 0)
                        _exit(14);
                json_decref(m);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        close(pipefd[0]);
        close(pipefd[1]);
        /* root is exempt from the per-uid limit */
        int fds[10];
        for (int i = 0; i < 10; i++)
                assert_true((fds[i] = connect_kaasd()) >= 0);
        json_t *m = call("{\"method\":\"io.kaas.Admin.Status\"}");
        assert_null(error_of(m));
        json_decref(m);
        for (int i = 0; i < 10; i++)
                close(fds[i]);
}

static void test_reload(void **state) {
        /* a broken file is refused and the running configuration kept */
        write_conf("bogus = 1\n");
        json_t *m = call("{\"method\":\"io.kaas.Admin.Reload\"}");
        assert_string_equal(error_of(m), "io.kaas.Admin.ConfigError");
        const char *reason = json_string_value(json_object_get(json_object_get(m, "parameters"), "reason"));
        assert_non_null(strstr(reason, "unknown key 'bogus'"));
        json_decref(m);
        assert_alive();

        /* a valid one applies: a smaller message limit shows at once */
        write_conf("");
        FILE *f = fopen(conf_path, "a");
        fclose(f);
        write_conf("[keystone]\ncache_ttl = 60\n");
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "sed -i 's/max_message_size = 64K/max_message_size = 2K/' '%s'", conf_path);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(kill(kaasd_pid, SIGHUP), 0);
        /* wait until the new limit is in force */
        char big[4096];
        snprintf(big, sizeof(big), "{\"method\":\"io.kaas.Admin.Status\",\"parameters\":{\"x\":\"%03000d\"}}", 0);
        bool limited = false;
        for (long long deadline = now_ms() + 5000; now_ms() < deadline && !limited;) {
                m = call(big);
                limited = m && error_of(m) && strcmp(error_of(m), "io.kaas.MessageTooLarge") == 0;
                json_decref(m);
                if (!limited)
                        poll(NULL, 0, 50);
        }
        assert_true(limited);
        write_conf("");
        m = call("{\"method\":\"io.kaas.Admin.Reload\"}");
        assert_null(error_of(m));
        json_decref(m);

        /* --socket and --state-dir survive reloads: no false "restart
         * needed" warning, and the socket is where it was */
        char log_path[300], line[1024];
        snprintf(log_path, sizeof(log_path), "%s/kaasd.log", dir);
        FILE *log = fopen(log_path, "r");
        assert_non_null(log);
        while (fgets(line, sizeof(line), log))
                if (strstr(line, "take effect at the next restart"))
                        fail_msg("reload lost the command-line overrides: %s", line);
        fclose(log);
        assert_alive();
}

/* The process state letter of pid from /proc ('T' when stopped). */
static char proc_state(pid_t pid) {
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return '?';
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        return p && p[1] == ' ' ? p[2] : '?';
}

/* The line number in kaasd's log of the last line holding text, or 0. */
static unsigned last_log_line(const char *text) {
        char path[300], line[4096];
        snprintf(path, sizeof(path), "%s/kaasd.log", dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        unsigned n = 0, found = 0;
        while (fgets(line, sizeof(line), f)) {
                n++;
                if (strstr(line, text))
                        found = n;
        }
        fclose(f);
        return found;
}

/* Two clients' lookups and a validator's token check become ready in that
 * order while kaasd is stopped: in the turn that finds all three, the
 * validator's call is dispatched first (kaasd logs each dispatch at
 * debug level, in order). */
static void test_validator_served_first(void **state) {
        if (geteuid() != 0)
                skip();  /* only root (or kaas-validators) may call Validate */
        static const char validate[] = "{\"method\":\"io.kaas.Token.Validate\",\"parameters\":{\"token\":\"not-a-token\"}}";
        static const char lookup[] = "{\"method\":\"io.kaas.Nss.GetPasswdByName\",\"parameters\":{\"name\":\"kaas-nobody\"}}";
        int v = connect_kaasd(), a = connect_kaasd(), b = connect_kaasd();
        assert_true(v >= 0 && a >= 0 && b >= 0);
        struct vl_reader *rv, *ra, *rb;
        assert_int_equal(vl_reader_new(0, &rv), 0);
        assert_int_equal(vl_reader_new(0, &ra), 0);
        assert_int_equal(vl_reader_new(0, &rb), 0);
        /* one call each first, so that all three are accepted and v has
         * made a validator's call */
        int fds[3] = { v, a, b };
        struct vl_reader *rs[3] = { rv, ra, rb };
        for (int i = 0; i < 3; i++) {
                send_call(fds[i], i == 0 ? validate : lookup);
                json_t *m = read_reply(fds[i], rs[i], 5000);
                assert_non_null(m);
                json_decref(m);
        }

        assert_int_equal(kill(kaasd_pid, SIGSTOP), 0);
        long long deadline = now_ms() + 10000;
        while (proc_state(kaasd_pid) != 'T' && now_ms() < deadline)
                poll(NULL, 0, 5);
        assert_int_equal(proc_state(kaasd_pid), 'T');
        send_call(a, lookup);
        send_call(b, lookup);
        send_call(v, validate);
        assert_int_equal(kill(kaasd_pid, SIGCONT), 0);
        for (int i = 0; i < 3; i++) {
                json_t *m = read_reply(fds[i], rs[i], 5000);
                assert_non_null(m);
                json_decref(m);
        }

        /* both lookups were dispatched after the last token check: the
         * check went first although it came in last */
        unsigned checked = last_log_line("io.kaas.Token.Validate from uid");
        assert_true(checked > 0);
        char path[300], line[4096];
        snprintf(path, sizeof(path), "%s/kaasd.log", dir);
        FILE *f = fopen(path, "re");
        assert_non_null(f);
        unsigned n = 0, lookups_after = 0;
        while (fgets(line, sizeof(line), f))
                if (++n > checked && strstr(line, "io.kaas.Nss.GetPasswdByName from uid"))
                        lookups_after++;
        fclose(f);
        assert_int_equal(lookups_after, 2);
        for (int i = 0; i < 3; i++) {
                close(fds[i]);
                vl_reader_free(rs[i]);
        }
        assert_alive();
}

/* Calls behind one that waits for Keystone hold their messages and
 * replies until it is answered: they count against max_output_buffer
 * (256K), so kaasd stops reading a peer that sends 127 calls of 60 KB
 * (7.6 MB, and as much in replies) behind a lookup, rather than holding
 * them all; once the lookup is answered the peer gets every reply, in
 * order. A reply that comes late, from a Keystone call that timed out
 * rather than from the peer's own input, lets a peer held back at 128
 * calls in flight go on: the calls it sent beyond those, read meanwhile,
 * are answered too. A second kaasd, its Keystone a port that accepts and
 * never answers. */
static void test_late_replies(void **state) {
        int hole = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(hole >= 0);
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sin_len = sizeof(sin);
        assert_int_equal(bind(hole, (struct sockaddr *)&sin, sizeof(sin)), 0);
        assert_int_equal(listen(hole, 16), 0);
        assert_int_equal(getsockname(hole, (struct sockaddr *)&sin, &sin_len), 0);

        char conf[300], pw[300], sock[300];
        snprintf(conf, sizeof(conf), "%s/late.conf", dir);
        snprintf(pw, sizeof(pw), "%s/late.password", dir);
        snprintf(sock, sizeof(sock), "%s/late.sock", dir);
        int fd = open(pw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "secret\n", 7), 7);
        close(fd);
        FILE *f = fopen(conf, "w");
        assert_non_null(f);
        fprintf(f, "[kaasd]\nmax_message_size = 64K\nmax_output_buffer = 256K\nidle_timeout = 30\n"
                   "log_level = debug\n[keystone]\nurl = http://127.0.0.1:%u\nuser = kaasd\n"
                   "password_file = %s\nconnect_timeout = 1\ntimeout = 1\n",
                (unsigned)ntohs(sin.sin_port), pw);
        fclose(f);
        pid_t pid = spawn_kaasd(conf, sock, "late-state", "late.log");

        /* a lookup that waits for Keystone (1 s), then 127 calls of 60 KB
         * answered at once with as much (the unknown interface's name) */
        static const char lookup[] = "{\"method\":\"io.kaas.Identity.GetUser\",\"parameters\":{\"name\":\"nobody\"}}";
        enum { BIG = 127, NAME = 60000 };
        static const char head[] = "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                                   "\"parameters\":{\"interface\":\"";
        size_t one = sizeof(head) - 1 + NAME + 4, total = sizeof(lookup) + BIG * one;
        char *calls = malloc(total);
        assert_non_null(calls);
        memcpy(calls, lookup, sizeof(lookup));
        for (int i = 0; i < BIG; i++) {
                char *m = calls + sizeof(lookup) + i * one;
                memcpy(m, head, sizeof(head) - 1);
                memset(m + sizeof(head) - 1, 'a' + i % 26, NAME);
                memcpy(m + sizeof(head) - 1 + NAME, "\"}}", 4);  /* with the NUL */
        }
        fd = connect_to(sock);
        assert_true(fd >= 0);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        size_t sent = 0;
        long long start = now_ms(), last_progress = start;
        while (sent < total && now_ms() - last_progress < 300 && now_ms() - start < 700) {
                ssize_t k = send(fd, calls + sent, total - sent, MSG_NOSIGNAL);
                if (k > 0) {
                        sent += (size_t)k;
                        last_progress = now_ms();
                } else {
                        assert_true(k < 0 && errno == EAGAIN);
                        poll(NULL, 0, 5);
                }
        }
        /* held back while the lookup waits: not 7.6 MB read */
        if (sent > total / 4)
                fail_msg("kaasd read %zu of %zu bytes of calls queued behind a lookup", sent, total);
        /* then everything is answered, in order, as the peer reads */
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        int replies = 0;
        for (long long deadline = now_ms() + 20000; replies < 1 + BIG && now_ms() < deadline;) {
                struct pollfd p = { .fd = fd, .events = POLLIN | (sent < total ? POLLOUT : 0) };
                if (poll(&p, 1, 1000) <= 0)
                        continue;
                if (p.revents & POLLOUT) {
                        ssize_t k = send(fd, calls + sent, total - sent, MSG_NOSIGNAL);
                        if (k > 0)
                                sent += (size_t)k;
                }
                if (!(p.revents & (POLLIN | POLLHUP)))
                        continue;
                ssize_t n = vl_reader_fill(r, fd);
                if (n == 0 || (n < 0 && n != -EAGAIN))
                        fail_msg("kaasd closed the connection after %d replies", replies);
                json_t *m;
                while (vl_reader_next(r, &m) > 0) {
                        if (replies == 0) {
                                assert_string_equal(error_of(m), "io.kaas.Identity.Unavailable");
                        } else {
                                assert_string_equal(error_of(m), "org.varlink.service.InterfaceNotFound");
                                const char *name = json_string_value(
                                        json_object_get(json_object_get(m, "parameters"), "interface"));
                                assert_non_null(name);
                                assert_int_equal(strlen(name), NAME);
                                assert_int_equal(name[0], 'a' + (replies - 1) % 26);
                        }
                        json_decref(m);
                        replies++;
                }
        }
        assert_int_equal(replies, 1 + BIG);
        vl_reader_free(r);
        free(calls);
        close(fd);

        /* the same lookup, then 300 pings in one write, all read */
        enum { PINGS = 300 };
        static const char ping[] = "{\"method\":\"io.kaas.Ping\"}";
        char *pings = malloc(PINGS * sizeof(ping));
        assert_non_null(pings);
        for (int i = 0; i < PINGS; i++)
                memcpy(pings + i * sizeof(ping), ping, sizeof(ping));
        int reader = connect_to(sock);
        assert_true(reader >= 0);
        send_call(reader, lookup);
        send_all(reader, pings, PINGS * sizeof(ping));
        free(pings);

        assert_int_equal(vl_reader_new(0, &r), 0);
        json_t *m = read_reply(reader, r, 10000);
        assert_non_null(m);
        assert_string_equal(error_of(m), "io.kaas.Identity.Unavailable");
        json_decref(m);
        for (int i = 0; i < PINGS; i++) {
                m = read_reply(reader, r, 5000);
                if (!m)
                        fail_msg("no reply to ping %d of %d", i + 1, PINGS);
                assert_null(error_of(m));
                json_decref(m);
        }
        vl_reader_free(r);
        close(reader);

        assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
        fd = connect_to(sock);
        assert_true(fd >= 0);
        assert_int_equal(vl_reader_new(0, &r), 0);
        send_call(fd, "{\"method\":\"io.kaas.Admin.Status\"}");
        m = read_reply(fd, r, 5000);
        assert_non_null(m);
        assert_null(error_of(m));
        json_decref(m);
        vl_reader_free(r);
        close(fd);
        terminate_kaasd(pid, sock);
        close(hole);
}

/* SIGTERM ends the calls in flight with their replies sent whole: a reply
 * larger than the socket's buffers, still partly queued when the last
 * call is answered, is not cut off. A third kaasd, stopped here. */
static void test_drain_sends_whole_replies(void **state) {
        char conf[300], sock[300];
        snprintf(conf, sizeof(conf), "%s/drain.conf", dir);
        snprintf(sock, sizeof(sock), "%s/drain.sock", dir);
        FILE *f = fopen(conf, "w");
        assert_non_null(f);
        fprintf(f, "[kaasd]\nmax_message_size = 1M\nshutdown_timeout = 10\nlog_level = debug\n");
        fclose(f);
        pid_t pid = spawn_kaasd(conf, sock, "drain-state", "drain.log");

        /* a reply of 900 KB (the unknown interface's name), not read yet */
        enum { NAME = 900000 };
        static const char head[] = "{\"method\":\"org.varlink.service.GetInterfaceDescription\","
                                   "\"parameters\":{\"interface\":\"";
        size_t len = sizeof(head) - 1 + NAME + 4;
        char *msg = malloc(len);
        assert_non_null(msg);
        memcpy(msg, head, sizeof(head) - 1);
        memset(msg + sizeof(head) - 1, 'x', NAME);
        memcpy(msg + sizeof(head) - 1 + NAME, "\"}}", 4);
        int fd = connect_to(sock);
        assert_true(fd >= 0);
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
        send_all(fd, msg, len);
        free(msg);
        /* answered (the first bytes are here, so kaasd has read the whole
         * call): most of it waits in kaasd */
        struct pollfd in = { .fd = fd, .events = POLLIN };
        assert_int_equal(poll(&in, 1, 30000), 1);

        kill(pid, SIGTERM);
        struct vl_reader *r;
        assert_int_equal(vl_reader_new(0, &r), 0);
        json_t *m = read_reply(fd, r, 10000);
        if (!m)
                fail_msg("the reply was cut off at shutdown");
        assert_string_equal(error_of(m), "org.varlink.service.InterfaceNotFound");
        assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(m, "parameters"), "interface"))),
                         NAME);
        json_decref(m);
        vl_reader_free(r);
        assert_true(closed_within(fd, 5000));
        close(fd);
        terminate_kaasd(pid, sock);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_concurrent_clients),
                cmocka_unit_test(test_pipelined_replies_in_order),
                cmocka_unit_test(test_standard_errors),
                cmocka_unit_test(test_garbage_gets_error_then_close),
                cmocka_unit_test(test_oversized_message),
                cmocka_unit_test(test_too_many_values),
                cmocka_unit_test(test_disconnect_mid_message),
                cmocka_unit_test(test_peer_that_never_reads),
                cmocka_unit_test(test_idle_and_slow_clients_dropped),
                cmocka_unit_test(test_many_replies_read_at_once),
                cmocka_unit_test(test_many_replies_read_slowly),
                cmocka_unit_test(test_connection_limit_per_uid),
                cmocka_unit_test(test_reload),
                cmocka_unit_test(test_validator_served_first),
                cmocka_unit_test(test_late_replies),
                cmocka_unit_test(test_drain_sends_whole_replies),
        };
        return cmocka_run_group_tests(tests, start_kaasd, stop_kaasd);
}
