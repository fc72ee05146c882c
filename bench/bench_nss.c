/* bench-nss: getpwnam and getgrnam through libnss_kaas.so.2, called
 * directly (the module is dlopen()ed and _nss_kaas_getpwnam_r /
 * _nss_kaas_getgrnam_r are called as glibc would, without nss_wrapper in
 * between), next to two baselines in the same run:
 *   - a bare varlink round trip: bench-echo-server ping-pong with the same
 *     request and reply sizes as the module's call, on a new connection
 *     per lookup as the module makes (and, for reference, on one kept
 *     connection);
 *   - nss_files: getpwnam_r("root") through glibc, which /etc/nsswitch.conf
 *     sends to files first (root is found there).
 *
 *   bench-nss --module PATH --socket SOCK --names FILE --group NAME
 *             --echo-server PATH --workdir DIR [--threads 1,4]
 *
 * FILE: user names, first word per line (bench-fill-store's tokens.txt);
 * lookups draw from its first 1,000 distinct names, which are resolved once
 * before measuring (the first lookup of a user assigns its uid, a
 * durable write). KAAS_SOCKET is set to SOCK for the module. */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <jansson.h>
#include <nss.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "varlink_message.h"

#define MAX_THREADS 16
#define MAX_NAMES 1000
#define BUF_SIZE 65536

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *, size_t, int *);
typedef enum nss_status (*getgrnam_fn)(const char *, struct group *, char *, size_t, int *);

static getpwnam_fn kaas_getpwnam;
static getgrnam_fn kaas_getgrnam;
static char *names[MAX_NAMES];
static size_t n_names;
static const char *group_name;

struct nss_thread {
        char buf[BUF_SIZE];
        uint64_t rnd;
};

static int thread_init(void *arg, unsigned index, void **ret) {
        struct nss_thread *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->rnd = 0x9e3779b97f4a7c15ull * (index + 1);
        *ret = t;
        return 0;
}

static void thread_fini(void *state) {
        free(state);
}

static int op_getpwnam(void *state) {
        struct nss_thread *t = state;
        struct passwd pw;
        int err = 0;
        const char *name = names[bench_random(&t->rnd) % n_names];
        enum nss_status s = kaas_getpwnam(name, &pw, t->buf, sizeof(t->buf), &err);
        return s == NSS_STATUS_SUCCESS ? 0 : -(err ? err : EIO);
}

static int op_getgrnam(void *state) {
        struct nss_thread *t = state;
        struct group gr;
        int err = 0;
        enum nss_status s = kaas_getgrnam(group_name, &gr, t->buf, sizeof(t->buf), &err);
        return s == NSS_STATUS_SUCCESS ? 0 : -(err ? err : EIO);
}

static int op_files_root(void *state) {
        struct nss_thread *t = state;
        struct passwd pw, *res = NULL;
        int r = getpwnam_r("root", &pw, t->buf, sizeof(t->buf), &res);
        return r == 0 && res ? 0 : -EIO;
}

static int probe_call(const char *socket, const char *method, const char *key, const char *value,
                      struct bench_raw *raw) {
        json_t *msg = vl_call_new(method, json_pack("{s:s}", key, value), false, false);
        char *req = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
        if (!req)
                return -ENOMEM;
        int r = bench_probe(socket, req, raw);
        free(req);
        return r;
}

static void usage(void) {
        fprintf(stderr, "usage: bench-nss --module PATH --socket SOCK --names FILE --group NAME\n"
                        "                 --echo-server PATH --workdir DIR [--threads 1,4]\n");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "module", required_argument, NULL, 'm' },
                { "socket", required_argument, NULL, 's' },
                { "names", required_argument, NULL, 'n' },
                { "group", required_argument, NULL, 'g' },
                { "echo-server", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "threads", required_argument, NULL, 't' },
                { NULL, 0, NULL, 0 },
        };
        const char *module = NULL, *socket = NULL, *names_path = NULL, *echo = NULL, *workdir = NULL;
        unsigned threads[MAX_THREADS] = { 1, 4 };
        int n_threads = 2, c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 'm': module = optarg; break;
                case 's': socket = optarg; break;
                case 'n': names_path = optarg; break;
                case 'g': group_name = optarg; break;
                case 'e': echo = optarg; break;
                case 'w': workdir = optarg; break;
                case 't':
                        if ((n_threads = bench_parse_list(optarg, threads, MAX_THREADS)) < 0) {
                                usage();
                                return 2;
                        }
                        break;
                default: usage(); return 2;
                }
        }
        if (!module || !socket || !names_path || !group_name || !echo || !workdir) {
                usage();
                return 2;
        }
        double seconds = bench_seconds(1.0);
        unsigned rounds = bench_rounds(3);
        bench_print_header(stdout, "bench-nss", argc, argv);
        setenv("KAAS_SOCKET", socket, 1);
        void *h = dlopen(module, RTLD_NOW | RTLD_LOCAL);
        if (!h || !(kaas_getpwnam = (getpwnam_fn)dlsym(h, "_nss_kaas_getpwnam_r")) ||
            !(kaas_getgrnam = (getgrnam_fn)dlsym(h, "_nss_kaas_getgrnam_r"))) {
                fprintf(stderr, "bench-nss: %s: %s\n", module, dlerror());
                return 1;
        }
        char **lines;
        size_t n_lines;
        int r = bench_read_lines(names_path, &lines, &n_lines);
        if (r < 0) {
                fprintf(stderr, "bench-nss: %s: %s\n", names_path, strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < n_lines && n_names < MAX_NAMES; i++) {
                char *name = strrchr(lines[i], ' ');
                name = name ? name + 1 : lines[i];
                bool seen = false;
                for (size_t j = 0; j < n_names && !seen; j++)
                        seen = strcmp(names[j], name) == 0;
                if (!seen)
                        names[n_names++] = name;
        }
        /* first lookups assign uids (durable writes): not what is measured */
        struct nss_thread *warm;
        if (thread_init(NULL, 0, (void **)&warm) < 0)
                return 1;
        uint64_t t0 = bench_now_ns();
        for (size_t i = 0; i < n_names; i++) {
                struct passwd pw;
                int err = 0;
                if (kaas_getpwnam(names[i], &pw, warm->buf, sizeof(warm->buf), &err) != NSS_STATUS_SUCCESS) {
                        fprintf(stderr, "bench-nss: the module does not resolve %s: %s\n", names[i], strerror(err));
                        return 1;
                }
        }
        printf("# %zu user names resolved once first (uids assigned) in %.2f s\n", n_names,
               (double)(bench_now_ns() - t0) / 1e9);
        /* getgrnam is timed on its own first: it may take seconds */
        struct group gr;
        int err = 0;
        double group_ms[3];
        size_t members = 0;
        bool group_ok = true;
        for (int i = 0; i < 3 && group_ok; i++) {
                t0 = bench_now_ns();
                group_ok = kaas_getgrnam(group_name, &gr, warm->buf, sizeof(warm->buf), &err) == NSS_STATUS_SUCCESS;
                group_ms[i] = (double)(bench_now_ns() - t0) / 1e6;
        }
        if (group_ok) {
                while (gr.gr_mem && gr.gr_mem[members])
                        members++;
                printf("# getgrnam(\"%s\"): %zu members; 3 lookups: %.1f, %.1f, %.1f ms\n", group_name, members,
                       group_ms[0], group_ms[1], group_ms[2]);
        } else {
                printf("# getgrnam(\"%s\") failed after %.1f ms: %s (KAAS_NSS_TIMEOUT_MS is %s)\n", group_name,
                       group_ms[0], strerror(err), getenv("KAAS_NSS_TIMEOUT_MS") ? getenv("KAAS_NSS_TIMEOUT_MS") : "unset");
        }
        thread_fini(warm);

        struct bench_raw raw_pw = { .connect_per_call = true }, raw_pw_kept, raw_gr = { .connect_per_call = true };
        if (probe_call(socket, "io.kaas.Nss.GetPasswdByName", "name", names[0], &raw_pw) < 0 ||
            probe_call(socket, "io.kaas.Nss.GetGroupByName", "name", group_name, &raw_gr) < 0)
                return 1;
        raw_pw_kept = raw_pw;
        raw_pw_kept.connect_per_call = false;
        pid_t echo_pw = bench_echo_start(echo, workdir, &raw_pw);
        if (echo_pw < 0)
                return 1;
        raw_pw_kept.socket = raw_pw.socket;
        printf("# GetPasswdByName: call %zu bytes, reply %zu; GetGroupByName: call %zu bytes, reply %zu\n",
               raw_pw.request_size, raw_pw.reply_size, raw_gr.request_size, raw_gr.reply_size);

        struct bench_side pw = { .name = "getpwnam via libnss_kaas", .init = thread_init, .op = op_getpwnam,
                                 .fini = thread_fini };
        struct bench_side files = { .name = "nss_files getpwnam(root)", .init = thread_init, .op = op_files_root,
                                    .fini = thread_fini };
        struct bench_side raw_new = bench_raw_side("varlink round trip, new conn", &raw_pw);
        struct bench_side raw_kept = bench_raw_side("varlink round trip, kept conn", &raw_pw_kept);
        printf("\n## getpwnam through libnss_kaas against a bare varlink round trip (a connection per call, as the module)\n");
        r = bench_compare(stdout, &pw, &raw_new, threads, n_threads, seconds, rounds, NULL, NULL);
        if (r >= 0) {
                printf("\n## getpwnam through libnss_kaas against a bare varlink round trip on one kept connection\n");
                r = bench_compare(stdout, &pw, &raw_kept, threads, n_threads, seconds, rounds, NULL, NULL);
        }
        if (r >= 0) {
                printf("\n## getpwnam through libnss_kaas against nss_files (getpwnam_r(\"root\") through glibc)\n");
                r = bench_compare(stdout, &pw, &files, threads, n_threads, seconds, rounds, NULL, NULL);
        }
        bench_stop(echo_pw, 2000);
        if (r >= 0 && group_ok && group_ms[2] < 100) {
                pid_t echo_gr = bench_echo_start(echo, workdir, &raw_gr);
                if (echo_gr < 0)
                        return 1;
                struct bench_side gr_side = { .name = "getgrnam via libnss_kaas", .init = thread_init,
                                              .op = op_getgrnam, .fini = thread_fini };
                struct bench_side raw_gr_side = bench_raw_side("varlink round trip, new conn", &raw_gr);
                printf("\n## getgrnam(\"%s\") through libnss_kaas against a bare varlink round trip of its sizes\n",
                       group_name);
                r = bench_compare(stdout, &gr_side, &raw_gr_side, threads, 1, seconds, rounds, NULL, NULL);
                bench_stop(echo_gr, 2000);
        }
        else if (r >= 0 && group_ok)
                printf("\n## getgrnam(\"%s\"): %.2f lookups/s (the third timed lookup above); too slow to run "
                       "next to its baseline in rounds\n", group_name, 1000.0 / group_ms[2]);
        if (r < 0) {
                fprintf(stderr, "bench-nss: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
