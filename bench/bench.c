/* See bench.h. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t bench_now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double bench_seconds(double def) {
        const char *s = getenv("BENCH_SECONDS");
        if (s && *s) {
                char *end;
                double v = strtod(s, &end);
                if (!*end && v > 0)
                        return v;
        }
        return def;
}

unsigned bench_rounds(unsigned def) {
        const char *s = getenv("BENCH_ROUNDS");
        if (s && *s) {
                char *end;
                long v = strtol(s, &end, 10);
                if (!*end && v > 0 && v < 1000)
                        return (unsigned)v;
        }
        return def;
}

void bench_samples_add(struct bench_samples *s, uint64_t ns) {
        if (s->n == s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 65536;
                uint32_t *p = realloc(s->ns, cap * sizeof(*p));
                if (!p)
                        return;  /* a lost sample, not a lost benchmark */
                s->ns = p;
                s->cap = cap;
        }
        s->ns[s->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

void bench_samples_merge(struct bench_samples *to, const struct bench_samples *from) {
        for (size_t i = 0; i < from->n; i++)
                bench_samples_add(to, from->ns[i]);
}

void bench_samples_clear(struct bench_samples *s) {
        s->n = 0;
}

void bench_samples_free(struct bench_samples *s) {
        free(s->ns);
        *s = (struct bench_samples){ 0 };
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

double bench_samples_quantile_us(struct bench_samples *s, double q) {
        if (s->n == 0)
                return 0;
        qsort(s->ns, s->n, sizeof(*s->ns), cmp_u32);
        size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);
        return s->ns[i] / 1000.0;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

double bench_median(double *v, size_t n) {
        qsort(v, n, sizeof(*v), cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

double bench_min(const double *v, size_t n) {
        double m = v[0];
        for (size_t i = 1; i < n; i++)
                if (v[i] < m)
                        m = v[i];
        return m;
}

double bench_max(const double *v, size_t n) {
        double m = v[0];
        for (size_t i = 1; i < n; i++)
                if (v[i] > m)
                        m = v[i];
        return m;
}

void bench_print_header(FILE *f, const char *name, int argc, char **argv) {
        char model[256] = "unknown CPU";
        FILE *c = fopen("/proc/cpuinfo", "re");
        if (c) {
                char line[512];
                while (fgets(line, sizeof(line), c))
                        if (strncmp(line, "model name", 10) == 0) {
                                char *p = strchr(line, ':');
                                if (p) {
                                        p += strspn(p + 1, " \t") + 1;
                                        p[strcspn(p, "\n")] = '\0';
                                        snprintf(model, sizeof(model), "%s", p);
                                }
                                break;
                        }
                fclose(c);
        }
        struct utsname u;
        if (uname(&u) < 0)
                snprintf(u.release, sizeof(u.release), "?");
        double load[3] = { 0, 0, 0 };
        if (getloadavg(load, 3) < 0)
                load[0] = load[1] = load[2] = -1;
        fprintf(f, "# %s\n# machine: %ld x %s, Linux %s, load %.2f %.2f %.2f\n# command:", name,
                sysconf(_SC_NPROCESSORS_ONLN), model, u.release, load[0], load[1], load[2]);
        for (int i = 0; i < argc; i++)
                fprintf(f, " %s", argv[i]);
        fprintf(f, "\n");
        fflush(f);
}

int bench_unix_connect(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

int bench_wait_socket(const char *path, int timeout_ms) {
        uint64_t until = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
        for (;;) {
                int fd = bench_unix_connect(path);
                if (fd >= 0) {
                        close(fd);
                        return 0;
                }
                if (bench_now_ns() > until)
                        return fd;
                (void)poll(NULL, 0, 5);
        }
}

int bench_write_all(int fd, const void *buf, size_t n) {
        const char *p = buf;
        while (n > 0) {
                ssize_t k = write(fd, p, n);
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

ssize_t bench_read_message(int fd, char *buf, size_t cap) {
        size_t len = 0;
        for (;;) {
                if (len == cap)
                        return -EPROTO;
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -ECONNRESET;
                /* one call, one reply: the NUL ends what this peer sent */
                if (memchr(buf + len, '\0', (size_t)k))
                        return (ssize_t)(len + (size_t)k);
                len += (size_t)k;
        }
}

pid_t bench_spawn(char *const argv[], const char *log) {
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (log) {
                        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                        if (fd >= 0) {
                                dup2(fd, 1);
                                dup2(fd, 2);
                        }
                }
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

void bench_stop(pid_t pid, int timeout_ms) {
        if (pid <= 0)
                return;
        kill(pid, SIGTERM);
        uint64_t until = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
        for (;;) {
                pid_t r = waitpid(pid, NULL, WNOHANG);
                if (r == pid || (r < 0 && errno != EINTR))
                        return;
                if (bench_now_ns() > until) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return;
                }
                (void)poll(NULL, 0, 5);
        }
}

int bench_parse_list(const char *s, unsigned *ret, int max) {
        int n = 0;
        while (*s) {
                char *end;
                long v = strtol(s, &end, 10);
                if (end == s || v <= 0 || v > 100000 || n == max)
                        return -EINVAL;
                ret[n++] = (unsigned)v;
                s = end;
                if (*s == ',')
                        s++;
                else if (*s)
                        return -EINVAL;
        }
        return n ? n : -EINVAL;
}

int bench_read_lines(const char *path, char ***ret, size_t *ret_n) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char **v = NULL;
        size_t n = 0, cap = 0;
        char *line = NULL;
        size_t lcap = 0;
        ssize_t len;
        while ((len = getline(&line, &lcap, f)) >= 0) {
                if (len > 0 && line[len - 1] == '\n')
                        line[--len] = '\0';
                if (len == 0)
                        continue;
                if (n + 1 >= cap) {
                        size_t c = cap ? cap * 2 : 1024;
                        char **p = realloc(v, c * sizeof(*p));
                        if (!p)
                                goto oom;
                        v = p;
                        cap = c;
                }
                if (!(v[n] = strdup(line)))
                        goto oom;
                v[++n] = NULL;
        }
        free(line);
        fclose(f);
        if (n == 0) {
                free(v);
                return -ENODATA;
        }
        *ret = v;
        *ret_n = n;
        return 0;
oom:
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
        free(line);
        fclose(f);
        return -ENOMEM;
}

/* ------------------------------------------------------------ runner */

struct run_ctl {
        atomic_int phase;  /* 0 warm-up, 1 measuring, 2 stop */
        pthread_barrier_t ready;
};

struct worker {
        const struct bench_side *side;
        struct run_ctl *ctl;
        unsigned index;
        pthread_t thread;
        int init_r;
        uint64_t calls, errors;
        struct bench_samples samples;
};

static void *worker_main(void *p) {
        struct worker *w = p;
        void *state = NULL;
        w->init_r = w->side->init ? w->side->init(w->side->arg, w->index, &state) : 0;
        pthread_barrier_wait(&w->ctl->ready);
        if (w->init_r < 0)
                return NULL;
        int phase;
        while ((phase = atomic_load_explicit(&w->ctl->phase, memory_order_relaxed)) != 2) {
                uint64_t t0 = bench_now_ns();
                int r = w->side->op(state);
                uint64_t t1 = bench_now_ns();
                if (phase != 1)
                        continue;
                if (r < 0) {
                        w->errors++;
                        continue;
                }
                w->calls++;
                bench_samples_add(&w->samples, t1 - t0);
        }
        if (w->side->fini)
                w->side->fini(state);
        return NULL;
}

static void sleep_seconds(double s) {
        struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int bench_run(const struct bench_side *side, unsigned threads, double warmup, double seconds,
              struct bench_result *ret) {
        struct run_ctl ctl;
        atomic_init(&ctl.phase, 0);
        pthread_barrier_init(&ctl.ready, NULL, threads + 1);
        struct worker *w = calloc(threads, sizeof(*w));
        if (!w)
                return -ENOMEM;
        unsigned started = 0;
        int r = 0;
        for (; started < threads; started++) {
                w[started] = (struct worker){ .side = side, .ctl = &ctl, .index = started };
                if ((r = -pthread_create(&w[started].thread, NULL, worker_main, &w[started])) < 0)
                        break;
        }
        if (started < threads) {
                /* the barrier counts every thread: release the started ones */
                fprintf(stderr, "bench: cannot start thread %u: %s\n", started, strerror(-r));
                exit(1);
        }
        pthread_barrier_wait(&ctl.ready);
        sleep_seconds(warmup);
        uint64_t t0 = bench_now_ns();
        atomic_store(&ctl.phase, 1);
        sleep_seconds(seconds);
        atomic_store(&ctl.phase, 2);
        uint64_t t1 = bench_now_ns();
        struct bench_samples all = { 0 };
        struct bench_result res = { .seconds = (double)(t1 - t0) / 1e9 };
        for (unsigned i = 0; i < threads; i++) {
                pthread_join(w[i].thread, NULL);
                if (w[i].init_r < 0 && r == 0)
                        r = w[i].init_r;
                res.calls += w[i].calls;
                res.errors += w[i].errors;
                bench_samples_merge(&all, &w[i].samples);
                bench_samples_free(&w[i].samples);
        }
        pthread_barrier_destroy(&ctl.ready);
        free(w);
        res.p50_us = bench_samples_quantile_us(&all, 0.50);
        res.p99_us = bench_samples_quantile_us(&all, 0.99);
        bench_samples_free(&all);
        if (r < 0)
                return r;
        *ret = res;
        return 0;
}

#define MAX_ROUNDS 100

int bench_compare(FILE *f, const struct bench_side *subject, const struct bench_side *baseline,
                  const unsigned *threads, int n_threads, double seconds, unsigned rounds,
                  double *ret_rate_ratio, double *ret_subject_rate) {
        if (rounds > MAX_ROUNDS)
                rounds = MAX_ROUNDS;
        fprintf(f, "# %u rounds of %.1f s per side and thread count, alternating; medians over rounds\n", rounds,
                seconds);
        fprintf(f, "%-7s | %-28s %9s %8s %8s | %9s %8s %8s | %-22s %s\n", "threads", "subject", "calls/s", "p50 us",
                "p99 us", "calls/s", "p50 us", "p99 us", "rate ratio (min-max)", "p99 ratio");
        fprintf(f, "%-7s | %-28s %9s %8s %8s | %-26s | %s\n", "", "", "", "", "", baseline->name, "subject/baseline");
        for (int t = 0; t < n_threads; t++) {
                double s_rate[MAX_ROUNDS], s_p50[MAX_ROUNDS], s_p99[MAX_ROUNDS];
                double b_rate[MAX_ROUNDS], b_p50[MAX_ROUNDS], b_p99[MAX_ROUNDS];
                double ratio[MAX_ROUNDS], p99_ratio[MAX_ROUNDS];
                uint64_t errors = 0;
                for (unsigned round = 0; round < rounds; round++) {
                        struct bench_result s = { 0 }, b = { 0 };
                        int r;
                        /* alternate which side goes first, so a drift in the
                         * machine's load falls on both */
                        if (round % 2 == 0) {
                                if ((r = bench_run(baseline, threads[t], 0.2, seconds, &b)) < 0 ||
                                    (r = bench_run(subject, threads[t], 0.2, seconds, &s)) < 0)
                                        return r;
                        } else {
                                if ((r = bench_run(subject, threads[t], 0.2, seconds, &s)) < 0 ||
                                    (r = bench_run(baseline, threads[t], 0.2, seconds, &b)) < 0)
                                        return r;
                        }
                        errors += s.errors + b.errors;
                        s_rate[round] = bench_rate(&s);
                        s_p50[round] = s.p50_us;
                        s_p99[round] = s.p99_us;
                        b_rate[round] = bench_rate(&b);
                        b_p50[round] = b.p50_us;
                        b_p99[round] = b.p99_us;
                        ratio[round] = b_rate[round] > 0 ? s_rate[round] / b_rate[round] : 0;
                        p99_ratio[round] = b.p99_us > 0 ? s.p99_us / b.p99_us : 0;
                }
                double lo = bench_min(ratio, rounds), hi = bench_max(ratio, rounds);
                double rr = bench_median(ratio, rounds);
                double sr = bench_median(s_rate, rounds);
                fprintf(f, "%-7u | %-28s %9.0f %8.1f %8.1f | %9.0f %8.1f %8.1f | %5.3f (%5.3f-%5.3f)    %5.2f%s\n",
                        threads[t], subject->name, sr, bench_median(s_p50, rounds), bench_median(s_p99, rounds),
                        bench_median(b_rate, rounds), bench_median(b_p50, rounds), bench_median(b_p99, rounds), rr,
                        lo, hi, bench_median(p99_ratio, rounds), errors ? "  (errors!)" : "");
                if (errors)
                        fprintf(f, "#   %llu operations failed\n", (unsigned long long)errors);
                fflush(f);
                if (ret_rate_ratio)
                        ret_rate_ratio[t] = rr;
                if (ret_subject_rate)
                        ret_subject_rate[t] = sr;
        }
        return 0;
}

/* ------------------------------------------------------------ raw ping-pong */

struct raw_thread {
        const struct bench_raw *raw;
        int fd;
        char *buf;
};

static int raw_init(void *arg, unsigned index, void **ret) {
        const struct bench_raw *raw = arg;
        struct raw_thread *t = calloc(1, sizeof(*t));
        if (!t || !(t->buf = malloc(raw->reply_size + 1))) {
                free(t);
                return -ENOMEM;
        }
        t->raw = raw;
        t->fd = -1;
        if (!raw->connect_per_call && (t->fd = bench_unix_connect(raw->socket)) < 0) {
                int r = t->fd;
                free(t->buf);
                free(t);
                return r;
        }
        *ret = t;
        return 0;
}

static int raw_op(void *state) {
        struct raw_thread *t = state;
        if (t->raw->connect_per_call && (t->fd = bench_unix_connect(t->raw->socket)) < 0)
                return t->fd;
        int r = bench_write_all(t->fd, t->raw->request, t->raw->request_size);
        ssize_t n = r < 0 ? r : bench_read_message(t->fd, t->buf, t->raw->reply_size + 1);
        if (t->raw->connect_per_call) {
                close(t->fd);
                t->fd = -1;
        }
        return n < 0 ? (int)n : 0;
}

static void raw_fini(void *state) {
        struct raw_thread *t = state;
        if (t->fd >= 0)
                close(t->fd);
        free(t->buf);
        free(t);
}

struct bench_side bench_raw_side(const char *name, struct bench_raw *raw) {
        return (struct bench_side){ .name = name, .init = raw_init, .op = raw_op, .fini = raw_fini, .arg = raw };
}

int bench_probe(const char *socket, const char *request, struct bench_raw *raw) {
        static char buf[1 << 20];
        int fd = bench_unix_connect(socket);
        if (fd < 0) {
                fprintf(stderr, "bench: cannot connect to %s: %s\n", socket, strerror(-fd));
                return fd;
        }
        size_t size = strlen(request) + 1;
        int r = bench_write_all(fd, request, size);
        ssize_t n = r < 0 ? r : bench_read_message(fd, buf, sizeof(buf));
        close(fd);
        if (n < 0) {
                fprintf(stderr, "bench: probing %s: %s\n", socket, strerror((int)-n));
                return (int)n;
        }
        if (strstr(buf, "\"error\"")) {
                fprintf(stderr, "bench: %s answered an error to %s: %s\n", socket, request, buf);
                return -EREMOTEIO;
        }
        if (!(raw->request = strdup(request)))
                return -ENOMEM;
        raw->request_size = size;
        raw->reply_size = (size_t)n;
        return 0;
}

pid_t bench_echo_start(const char *echo, const char *dir, struct bench_raw *raw) {
        static char path[4096];
        char size[32];
        snprintf(path, sizeof(path), "%s/echo.sock", dir);
        snprintf(size, sizeof(size), "%zu", raw->reply_size);
        char *argv[] = { (char *)echo, path, size, NULL };
        unlink(path);
        pid_t pid = bench_spawn(argv, NULL);
        if (pid < 0 || bench_wait_socket(path, 5000) < 0) {
                fprintf(stderr, "bench: %s did not start\n", echo);
                bench_stop(pid, 1000);
                return pid < 0 ? pid : -ETIMEDOUT;
        }
        raw->socket = path;
        return pid;
}
