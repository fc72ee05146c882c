/* bench-scale: group lookups through the real NSS module, and Validate
 * with and without a storm of group lookups beside it, against one kaasd.
 *
 *   bench-scale MODULE.so SOCKET TOKENS_FILE
 *
 * TOKENS_FILE is bench-fill-store's ("TOKEN USER_NAME" per line): users
 * are picked from it at random, so lookups spread over the cache. Each
 * operation runs for BENCH_SECONDS (default 2) and prints its p50 and p99
 * in microseconds: getpwnam (the baseline), getgrnam of a user's private
 * group, getgrnam of the role group every bench user holds
 * (kaas-developer), initgroups, and an id-equivalent (initgroups, then
 * getgrgid of every group). Group entries go into a buffer that starts at
 * 1 KiB and doubles on ERANGE, as glibc's getgrnam() does; one id keeps
 * its grown buffer for its next groups, as glibc's getgrgid() does
 * within the id process.
 *
 * Then Validate (one connection, one call at a time) alone, and again
 * while STORM threads (BENCH_STORM, default 2) run getgrnam of private
 * groups, of the role group and initgroups in a loop; its p50/p99 both
 * times and their ratio. The two alternate for BENCH_ROUNDS rounds.
 * With BENCH_ECHO_SERVER (bench-echo-server) and BENCH_WORKDIR set, the
 * raw ping-pong of a Validate's size (bench/bench.h) is timed the same
 * way, alone and during the same storm, in the same rounds: what the
 * storm costs a round trip that does no work, the floor of the ratio on
 * a machine whose CPUs the storm keeps busy. Each storm's two p99s are
 * printed as well (the kernel can let one storm's threads hold a CPU for
 * a whole tick against every wakeup, and not the next one's), and
 * Validate's figures over the raw round trip's in the same storms: what
 * kaasd adds to the machine's own queue.
 *
 *   bench-scale MODULE.so SOCKET TOKENS_FILE BASE_SOCKET BASE_TOKENS_FILE
 *
 * compares Validate on two stores instead (a large one against a small
 * baseline, each behind its own kaasd): rounds of Validate on the
 * baseline and on SOCKET alternate, BENCH_ROUNDS of each, and the ratio
 * of the two (baseline time / this time, so 1 is as fast and below 1
 * slower) is printed by the median and by the rate. The group lookups are
 * skipped.
 *
 * BENCH_SCALE_ONLY="0 2" times only those parts (0 getpwnam, 1 private
 * group, 2 role group, 3 initgroups, 4 id, 5 Validate beside the storm).
 * BENCH_STORM_OPS="1 3" makes the storm run only those lookups, and
 * BENCH_STORM_PROCS=1 runs it in processes of its own instead of threads
 * beside the Validate client, as other programs' lookups would be.
 * BENCH_VALIDATE_CPU=N and BENCH_STORM_CPU=M pin the Validate client
 * (and the raw ping-pong's) and the storm to those CPUs: with kaasd
 * pinned beside the client (bench/run.sh's KAASD_BENCH_CPU), what is left
 * of the storm's cost is what kaasd makes a token check wait, without
 * the two CPUs' queue. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <jansson.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "kaas.h"

typedef enum nss_status (*pw_name_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*gr_name_fn)(const char *, struct group *, char *, size_t, int *);
typedef enum nss_status (*gr_gid_fn)(gid_t, struct group *, char *, size_t, int *);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long *, long *, gid_t **, long, int *);

static pw_name_fn getpwnam_p;
static gr_name_fn getgrnam_p;
static gr_gid_fn getgrgid_p;
static initgroups_fn initgroups_p;

struct token_set {
        char **names, **tokens;
        size_t n;
};

static struct token_set set, base_set;
static char **names;
static size_t n_names;
static const char *socket_path;
static atomic_bool storm_stop;

#define ROLE_GROUP "kaas-developer"
#define MAX_BUF (64u * 1024 * 1024)

static void *sym(void *h, const char *fn) {
        char name[128];
        snprintf(name, sizeof(name), "_nss_kaas_%s", fn);
        void *p = dlsym(h, name);
        if (!p) {
                fprintf(stderr, "bench-scale: %s not exported\n", name);
                exit(2);
        }
        return p;
}

/* getgrnam/getgrgid as glibc's non-reentrant ones do them: one buffer per
 * process, 1 KiB at first (NSS_BUFLEN_GROUP), doubled on ERANGE and kept
 * at that size for the process's later lookups. *size is that buffer's
 * size: 1024 for each lookup by a new process (getent group), the same
 * variable across the lookups of one (id's getgrgid of each group). */
static int group_by(const char *name, gid_t gid, size_t *size) {
        for (;;) {
                char *buf = malloc(*size);
                struct group gr;
                int err = 0;
                if (!buf)
                        return -ENOMEM;
                enum nss_status s = name ? getgrnam_p(name, &gr, buf, *size, &err) : getgrgid_p(gid, &gr, buf, *size, &err);
                free(buf);
                if (s == NSS_STATUS_TRYAGAIN && err == ERANGE && *size < MAX_BUF) {
                        *size *= 2;
                        continue;
                }
                return s == NSS_STATUS_SUCCESS ? 0 : -EIO;
        }
}

static int initgroups_of(const char *name, gid_t **ret, long *ret_n) {
        long start = 0, size = 16;
        gid_t *groups = malloc(size * sizeof(*groups));
        int err = 0;
        if (!groups)
                return -ENOMEM;
        enum nss_status s = initgroups_p(name, 1, &start, &size, &groups, 0, &err);
        if (s != NSS_STATUS_SUCCESS) {
                free(groups);
                return -EIO;
        }
        *ret = groups;
        *ret_n = start;
        return 0;
}

enum op { OP_PASSWD, OP_PRIVATE, OP_ROLE, OP_INITGROUPS, OP_ID };
static const char *const op_names[] = { "getpwnam", "getgrnam private group", "getgrnam " ROLE_GROUP,
                                        "initgroups", "id (initgroups + getgrgid each)" };

static int run_op(enum op op, const char *name) {
        char buf[4096];
        struct passwd pw;
        int err = 0;
        gid_t *groups;
        long n;
        size_t size = 1024;
        switch (op) {
        case OP_PASSWD:
                return getpwnam_p(name, &pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS ? 0 : -EIO;
        case OP_PRIVATE:
                return group_by(name, 0, &size);
        case OP_ROLE:
                return group_by(ROLE_GROUP, 0, &size);
        case OP_INITGROUPS:
                if (initgroups_of(name, &groups, &n) < 0)
                        return -EIO;
                free(groups);
                return 0;
        case OP_ID: {
                if (initgroups_of(name, &groups, &n) < 0)
                        return -EIO;
                int r = 0;
                for (long i = 0; i < n && r == 0; i++)
                        r = group_by(NULL, groups[i], &size);
                free(groups);
                return r;
        }
        }
        return -EINVAL;
}

static void measure_op(enum op op, double seconds) {
        struct bench_samples s = { 0 };
        uint64_t end = bench_now_ns() + (uint64_t)(seconds * 1e9), errors = 0;
        unsigned seed = 1;
        while (bench_now_ns() < end) {
                const char *name = names[rand_r(&seed) % n_names];
                uint64_t t0 = bench_now_ns();
                if (run_op(op, name) < 0)
                        errors++;
                bench_samples_add(&s, bench_now_ns() - t0);
        }
        size_t calls = s.n;
        double p50 = bench_samples_quantile_us(&s, 0.5), p99 = bench_samples_quantile_us(&s, 0.99);
        printf("%-34s calls=%-7zu errors=%-4llu p50=%10.1f us  p99=%10.1f us\n", op_names[op], calls,
               (unsigned long long)errors, p50, p99);
        bench_samples_free(&s);
}

/* Pins the calling thread to the CPU named by environment variable env,
 * when set; exits on failure (the figures would not be what was asked). */
static void pin_to_cpu(const char *env) {
        const char *v = getenv(env);
        if (!v || !*v)
                return;
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(atoi(v), &cpus);
        if (sched_setaffinity(0, sizeof(cpus), &cpus) < 0) {
                fprintf(stderr, "bench-scale: %s=%s: %s\n", env, v, strerror(errno));
                exit(2);
        }
}

static void *storm_main(void *arg) {
        unsigned seed = (unsigned)(uintptr_t)arg;
        pin_to_cpu("BENCH_STORM_CPU");
        uint64_t *count = calloc(1, sizeof(*count));
        enum op ops[3];
        unsigned n_ops = 0;
        const char *pick = getenv("BENCH_STORM_OPS");
        for (enum op op = OP_PRIVATE; op <= OP_INITGROUPS; op++)
                if (!pick || !*pick || strchr(pick, '0' + (int)op))
                        ops[n_ops++] = op;
        if (n_ops == 0)
                ops[n_ops++] = OP_PRIVATE;
        while (!atomic_load(&storm_stop)) {
                const char *name = names[rand_r(&seed) % n_names];
                (void)run_op(ops[rand_r(&seed) % n_ops], name);
                if (count)
                        (*count)++;
        }
        return count;
}

/* The storm: n threads of this process, or n processes (procs) as the
 * lookups of other programs would be, each with its own memory. */
struct storm {
        unsigned n;
        bool procs;
        pthread_t tids[64];
        pid_t pids[64];
        int fds[64];
};

static void storm_child_stop(int sig) {
        (void)sig;
        atomic_store(&storm_stop, true);
}

static uint64_t storm_end(struct storm *st);

/* Starts the storm; on failure, stops what was started. */
static int storm_start(struct storm *st, unsigned n, unsigned round, bool procs) {
        *st = (struct storm){ .procs = procs };
        atomic_store(&storm_stop, false);
        fflush(stdout);
        for (unsigned i = 0; i < n; i++) {
                void *seed = (void *)(uintptr_t)(i + 1 + round * 64);
                if (!procs) {
                        if (pthread_create(&st->tids[i], NULL, storm_main, seed) != 0)
                                goto fail;
                        st->n++;
                        continue;
                }
                int p[2];
                if (pipe(p) < 0)
                        goto fail;
                st->pids[i] = fork();
                if (st->pids[i] < 0) {
                        close(p[0]);
                        close(p[1]);
                        goto fail;
                }
                if (st->pids[i] == 0) {
                        close(p[0]);
                        signal(SIGTERM, storm_child_stop);
                        uint64_t *count = storm_main(seed);
                        uint64_t v = count ? *count : 0;
                        _exit(write(p[1], &v, sizeof(v)) == sizeof(v) ? 0 : 1);
                }
                close(p[1]);
                st->fds[i] = p[0];
                st->n++;
        }
        return 0;
fail:
        fprintf(stderr, "bench-scale: cannot start the storm: %s\n", strerror(errno));
        (void)storm_end(st);
        return -1;
}

/* Stops the storm; the lookups it made. */
static uint64_t storm_end(struct storm *st) {
        uint64_t total = 0;
        atomic_store(&storm_stop, true);
        for (unsigned i = 0; i < st->n; i++) {
                if (!st->procs) {
                        void *count = NULL;
                        pthread_join(st->tids[i], &count);
                        if (count)
                                total += *(uint64_t *)count;
                        free(count);
                        continue;
                }
                uint64_t v = 0;
                kill(st->pids[i], SIGTERM);
                if (read(st->fds[i], &v, sizeof(v)) == sizeof(v))
                        total += v;
                close(st->fds[i]);
                waitpid(st->pids[i], NULL, 0);
        }
        return total;
}

static int validate_round(struct kaas_client *c, const struct token_set *ts, double seconds, struct bench_samples *s,
                          uint64_t *errors) {
        static unsigned rounds_run;
        uint64_t end = bench_now_ns() + (uint64_t)(seconds * 1e9);
        /* each round its own tokens: a replayed sequence would find, in a
         * large store, the pages and last uses of the round before */
        unsigned seed = 7 + 7919 * rounds_run++;
        while (bench_now_ns() < end) {
                json_t *params = json_pack("{s:s}", "token", ts->tokens[rand_r(&seed) % ts->n]), *reply = NULL;
                struct kaas_error err = KAAS_ERROR_INIT;
                uint64_t t0 = bench_now_ns();
                int r = kaas_call(c, "io.kaas.Token.Validate", params, &reply, &err);
                bench_samples_add(s, bench_now_ns() - t0);
                if (r < 0)
                        (*errors)++;
                json_decref(params);
                json_decref(reply);
                kaas_error_clear(&err);
        }
        return 0;
}

static int read_tokens(const char *path, struct token_set *ts) {
        FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char tok[512], name[256];
        size_t cap = 0;
        while (fscanf(f, "%511s %255s", tok, name) == 2) {
                if (ts->n == cap) {
                        cap = cap ? cap * 2 : 1024;
                        ts->names = realloc(ts->names, cap * sizeof(*ts->names));
                        ts->tokens = realloc(ts->tokens, cap * sizeof(*ts->tokens));
                        if (!ts->names || !ts->tokens)
                                return -ENOMEM;
                }
                ts->names[ts->n] = strdup(name);
                ts->tokens[ts->n++] = strdup(tok);
        }
        fclose(f);
        return ts->n > 0 ? 0 : -ENODATA;
}

/* Raw ping-pong round trips for seconds, into s. */
static void raw_round(const struct bench_side *raw, void *state, double seconds, struct bench_samples *s,
                      uint64_t *errors) {
        uint64_t end = bench_now_ns() + (uint64_t)(seconds * 1e9);
        while (bench_now_ns() < end) {
                uint64_t t0 = bench_now_ns();
                if (raw->op(state) < 0)
                        (*errors)++;
                bench_samples_add(s, bench_now_ns() - t0);
        }
}

static void print_validate(const char *what, struct bench_samples *s, uint64_t errors, double *ret_p50) {
        size_t n = s->n;
        double p50 = bench_samples_quantile_us(s, 0.5), p99 = bench_samples_quantile_us(s, 0.99);
        printf("%-34s calls=%-7zu errors=%-4llu p50=%10.1f us  p99=%10.1f us\n", what, n,
               (unsigned long long)errors, p50, p99);
        *ret_p50 = p50;
}

/* Validate on this store against the baseline store, in alternating
 * rounds of the same run. */
static int compare_stores(const char *base_socket) {
        struct kaas_client *c, *b;
        if (kaas_client_new(socket_path, 60000, &c) < 0 || kaas_client_new(base_socket, 60000, &b) < 0) {
                fprintf(stderr, "bench-scale: cannot connect\n");
                return 1;
        }
        double seconds = bench_seconds(2);
        unsigned rounds = bench_rounds(3);
        struct bench_samples this_all = { 0 }, base_all = { 0 };
        uint64_t this_err = 0, base_err = 0;
        double ratios[64];
        unsigned n_ratios = 0;
        for (unsigned round = 0; round < rounds; round++) {
                struct bench_samples t = { 0 }, bs = { 0 };
                validate_round(b, &base_set, seconds, &bs, &base_err);
                validate_round(c, &set, seconds, &t, &this_err);
                if (n_ratios < 64 && t.n > 0)
                        ratios[n_ratios++] = (double)t.n / (double)bs.n;
                printf("round %u: baseline %zu calls, this store %zu calls (%.2fx)\n", round + 1, bs.n, t.n,
                       bs.n ? (double)t.n / (double)bs.n : 0);
                bench_samples_merge(&this_all, &t);
                bench_samples_merge(&base_all, &bs);
                bench_samples_free(&t);
                bench_samples_free(&bs);
        }
        double p50_base, p50_this;
        size_t n_base = base_all.n, n_this = this_all.n;
        print_validate("Validate, baseline store", &base_all, base_err, &p50_base);
        print_validate("Validate, this store", &this_all, this_err, &p50_this);
        double lo = bench_min(ratios, n_ratios), hi = bench_max(ratios, n_ratios);
        printf("this/baseline: by the median %.2fx, by the rate %.2fx (rounds %.2f-%.2fx, median round %.2fx)\n",
               p50_this > 0 ? p50_base / p50_this : 0, n_base ? (double)n_this / (double)n_base : 0, lo, hi,
               bench_median(ratios, n_ratios));
        kaas_client_free(c);
        kaas_client_free(b);
        bench_samples_free(&this_all);
        bench_samples_free(&base_all);
        return 0;
}

int main(int argc, char **argv) {
        if (argc != 4 && argc != 6) {
                fprintf(stderr, "usage: bench-scale MODULE.so SOCKET TOKENS_FILE [BASE_SOCKET BASE_TOKENS_FILE]\n");
                return 2;
        }
        socket_path = argv[2];
        setenv("KAAS_SOCKET", socket_path, 1);
        if (!getenv("KAAS_NSS_TIMEOUT_MS"))
                setenv("KAAS_NSS_TIMEOUT_MS", "60000", 1);
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                fprintf(stderr, "bench-scale: %s\n", dlerror());
                return 2;
        }
        getpwnam_p = (pw_name_fn)sym(h, "getpwnam_r");
        getgrnam_p = (gr_name_fn)sym(h, "getgrnam_r");
        getgrgid_p = (gr_gid_fn)sym(h, "getgrgid_r");
        initgroups_p = (initgroups_fn)sym(h, "initgroups_dyn");
        if (read_tokens(argv[3], &set) < 0 || (argc == 6 && read_tokens(argv[5], &base_set) < 0)) {
                fprintf(stderr, "bench-scale: cannot read %s\n", argv[argc == 6 ? 5 : 3]);
                return 2;
        }
        names = set.names;
        n_names = set.n;
        bench_print_header(stdout, "bench-scale", argc, argv);
        if (argc == 6) {
                int r = compare_stores(argv[4]);
                dlclose(h);
                return r;
        }
        double seconds = bench_seconds(2);
        /* BENCH_SCALE_ONLY="N ...": only these parts (0 getpwnam ... 4 id,
         * 5 Validate beside the storm) */
        const char *only = getenv("BENCH_SCALE_ONLY");
        for (enum op op = OP_PASSWD; op <= OP_ID; op++)
                if (!only || !*only || strchr(only, '0' + (int)op))
                        measure_op(op, seconds);
        if (only && *only && !strchr(only, '5')) {
                dlclose(h);
                return 0;
        }

        struct kaas_client *c;
        if (kaas_client_new(socket_path, 60000, &c) < 0) {
                fprintf(stderr, "bench-scale: cannot connect to %s\n", socket_path);
                return 1;
        }
        unsigned n_storm = getenv("BENCH_STORM") ? (unsigned)atoi(getenv("BENCH_STORM")) : 2;
        if (n_storm > 64)
                n_storm = 64;
        bool storm_procs = getenv("BENCH_STORM_PROCS") && strcmp(getenv("BENCH_STORM_PROCS"), "1") == 0;
        /* the raw ping-pong of a Validate's size, when asked for */
        const char *echo = getenv("BENCH_ECHO_SERVER"), *workdir = getenv("BENCH_WORKDIR");
        struct bench_raw raw = { 0 };
        struct bench_side raw_side = { 0 };
        void *raw_state = NULL;
        pid_t echo_pid = -1;
        if (echo && *echo && workdir && *workdir) {
                char req[1024];
                snprintf(req, sizeof(req), "{\"method\":\"io.kaas.Token.Validate\",\"parameters\":{\"token\":\"%s\"}}",
                         set.tokens[0]);
                if (bench_probe(socket_path, req, &raw) < 0 || (echo_pid = bench_echo_start(echo, workdir, &raw)) < 0)
                        return 1;
                raw_side = bench_raw_side("raw", &raw);
                if (raw_side.init(raw_side.arg, 0, &raw_state) < 0)
                        return 1;
        }
        pin_to_cpu("BENCH_VALIDATE_CPU");
        struct bench_samples quiet = { 0 }, storm = { 0 }, raw_quiet = { 0 }, raw_storm = { 0 };
        uint64_t quiet_err = 0, storm_err = 0, storm_lookups = 0, raw_err = 0;
        for (unsigned round = 0; round < bench_rounds(3); round++) {
                validate_round(c, &set, seconds, &quiet, &quiet_err);
                if (raw_state)
                        raw_round(&raw_side, raw_state, seconds, &raw_quiet, &raw_err);
                struct storm st;
                if (storm_start(&st, n_storm, round, storm_procs) < 0)
                        return 1;
                /* this storm's own figures too: the scheduler can treat
                 * one storm's threads unlike the next one's */
                struct bench_samples v_round = { 0 }, r_round = { 0 };
                validate_round(c, &set, seconds, &v_round, &storm_err);
                if (raw_state)
                        raw_round(&raw_side, raw_state, seconds, &r_round, &raw_err);
                storm_lookups += storm_end(&st);
                bench_samples_merge(&storm, &v_round);
                bench_samples_merge(&raw_storm, &r_round);
                if (raw_state)
                        printf("# storm %u: Validate p99 %.1f us, raw ping-pong p99 %.1f us\n", round + 1,
                               bench_samples_quantile_us(&v_round, 0.99), bench_samples_quantile_us(&r_round, 0.99));
                bench_samples_free(&v_round);
                bench_samples_free(&r_round);
        }
        size_t nq = quiet.n, ns = storm.n;
        double q50 = bench_samples_quantile_us(&quiet, 0.5), q99 = bench_samples_quantile_us(&quiet, 0.99);
        double s50 = bench_samples_quantile_us(&storm, 0.5), s99 = bench_samples_quantile_us(&storm, 0.99);
        printf("%-34s calls=%-7zu errors=%-4llu p50=%10.1f us  p99=%10.1f us\n", "Validate alone", nq,
               (unsigned long long)quiet_err, q50, q99);
        printf("%-34s calls=%-7zu errors=%-4llu p50=%10.1f us  p99=%10.1f us  (%llu group lookups by %u %s)\n",
               "Validate during a group storm", ns, (unsigned long long)storm_err, s50, s99,
               (unsigned long long)storm_lookups, n_storm, storm_procs ? "processes" : "threads");
        printf("storm/alone: p50 %.2fx  p99 %.2fx\n", q50 > 0 ? s50 / q50 : 0, q99 > 0 ? s99 / q99 : 0);
        if (raw_state) {
                double rq50, rs50;
                double rq99 = bench_samples_quantile_us(&raw_quiet, 0.99), rs99 = bench_samples_quantile_us(&raw_storm, 0.99);
                print_validate("raw ping-pong alone", &raw_quiet, raw_err, &rq50);
                print_validate("raw ping-pong during the storm", &raw_storm, raw_err, &rs50);
                printf("raw storm/alone: p50 %.2fx  p99 %.2fx\n", rq50 > 0 ? rs50 / rq50 : 0, rq99 > 0 ? rs99 / rq99 : 0);
                /* what kaasd adds during the storm beyond the machine's own
                 * queue: Validate against the round trip that does no work,
                 * both in the same storms */
                printf("storm, Validate/raw: p50 %.2fx  p99 %.2fx\n", rs50 > 0 ? s50 / rs50 : 0, rs99 > 0 ? s99 / rs99 : 0);
                raw_side.fini(raw_state);
                bench_stop(echo_pid, 1000);
        }
        bench_samples_free(&raw_quiet);
        bench_samples_free(&raw_storm);
        kaas_client_free(c);
        bench_samples_free(&quiet);
        bench_samples_free(&storm);
        dlclose(h);
        return 0;
}
