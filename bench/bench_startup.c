/* bench-startup: how long kaasd takes from exec to answering on its socket,
 * and how much memory it holds, for a large store next to the same kaasd
 * on an empty store (the baseline, in the same run).
 *
 *   bench-startup wait SOCKET [TIMEOUT_MS]
 *       Waits until kaasd answers org.varlink.service.GetInfo on SOCKET.
 *   bench-startup measure KAASD CONFIG SOCKET TOKENS_FILE BASE_CONFIG BASE_SOCKET
 *       Starts "KAASD -f -c CONFIG" (then "-c BASE_CONFIG") several times
 *       (BENCH_ROUNDS, default 3), alternating, and prints per start: time
 *       to the first answered call, VmRSS then; for the large store also
 *       VmRSS and VmHWM after validating every token of TOKENS_FILE once
 *       (up to 200,000, in random order).
 *
 * Ready means answering a call, not the socket file existing: kaasd binds
 * its socket before it opens the store. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "kaas.h"

#define MAX_ROUNDS 20
#define TOUCH_MAX 200000

/* One GetInfo on a fresh connection; 0 when kaasd answered. */
static int ping(const char *socket) {
        struct kaas_client *c = NULL;
        int r = kaas_connect(socket, 2000, &c);
        if (r >= 0)
                r = kaas_call(c, "org.varlink.service.GetInfo", NULL, NULL, NULL);
        kaas_client_free(c);
        return r;
}

static int wait_ready(const char *socket, int timeout_ms, pid_t pid) {
        uint64_t until = bench_now_ns() + (uint64_t)timeout_ms * 1000000u;
        for (;;) {
                if (ping(socket) == 0)
                        return 0;
                if (pid > 0 && waitpid(pid, NULL, WNOHANG) == pid)
                        return -ECHILD;
                if (bench_now_ns() > until)
                        return -ETIMEDOUT;
                (void)poll(NULL, 0, 1);
        }
}

/* VmRSS / VmHWM of pid in KiB. */
static long proc_kib(pid_t pid, const char *field) {
        char path[64], line[256];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        long v = -1;
        if (!f)
                return -1;
        size_t n = strlen(field);
        while (fgets(line, sizeof(line), f))
                if (strncmp(line, field, n) == 0 && line[n] == ':') {
                        v = strtol(line + n + 1, NULL, 10);
                        break;
                }
        fclose(f);
        return v;
}

static int validate_all(const char *socket, char **tokens, size_t n) {
        struct kaas_client *c = NULL;
        int r = kaas_connect(socket, 10000, &c);
        if (r < 0)
                return r;
        uint64_t rnd = 0x2545f4914f6cdd1dull;
        size_t count = n < TOUCH_MAX ? n : TOUCH_MAX;
        for (size_t i = 0; i < count && r >= 0; i++) {
                const char *t = tokens[n <= TOUCH_MAX ? i : bench_random(&rnd) % n];
                json_t *p = json_pack("{s:s}", "token", t);
                r = kaas_call(c, "io.kaas.Token.Validate", p, NULL, NULL);
                json_decref(p);
        }
        kaas_client_free(c);
        return r;
}

struct start {
        double ready_ms;
        long rss_ready, rss_after, hwm_after;
};

static int one_start(const char *kaasd, const char *config, const char *socket, char **tokens, size_t n_tokens,
                     const char *log, struct start *ret) {
        char *argv[] = { (char *)kaasd, (char *)"-f", (char *)"-c", (char *)config, NULL };
        unlink(socket);
        uint64_t t0 = bench_now_ns();
        pid_t pid = bench_spawn(argv, log);
        if (pid < 0)
                return (int)pid;
        int r = wait_ready(socket, 120000, pid);
        uint64_t t1 = bench_now_ns();
        if (r < 0) {
                fprintf(stderr, "bench-startup: %s did not become ready: %s (see %s)\n", kaasd, strerror(-r), log);
                bench_stop(pid, 10000);
                return r;
        }
        *ret = (struct start){ .ready_ms = (double)(t1 - t0) / 1e6, .rss_ready = proc_kib(pid, "VmRSS") };
        if (tokens) {
                r = validate_all(socket, tokens, n_tokens);
                if (r < 0)
                        fprintf(stderr, "bench-startup: validating: %s\n", kaas_strerror(r));
                ret->rss_after = proc_kib(pid, "VmRSS");
                ret->hwm_after = proc_kib(pid, "VmHWM");
        }
        bench_stop(pid, 20000);
        return r;
}

int main(int argc, char **argv) {
        if (argc >= 3 && strcmp(argv[1], "wait") == 0) {
                int timeout = argc > 3 ? atoi(argv[3]) : 30000;
                int r = wait_ready(argv[2], timeout, 0);
                if (r < 0)
                        fprintf(stderr, "bench-startup: nothing answers on %s: %s\n", argv[2], strerror(-r));
                return r < 0;
        }
        if (argc != 8 || strcmp(argv[1], "measure") != 0) {
                fprintf(stderr, "usage: %s wait SOCKET [TIMEOUT_MS]\n"
                                "       %s measure KAASD CONFIG SOCKET TOKENS_FILE BASE_CONFIG BASE_SOCKET\n",
                        argv[0], argv[0]);
                return 2;
        }
        const char *kaasd = argv[2], *config = argv[3], *socket = argv[4], *tokens_path = argv[5],
                   *base_config = argv[6], *base_socket = argv[7];
        bench_print_header(stdout, "bench-startup", argc, argv);
        char **tokens;
        size_t n_tokens;
        int r = bench_read_lines(tokens_path, &tokens, &n_tokens);
        if (r < 0) {
                fprintf(stderr, "bench-startup: %s: %s\n", tokens_path, strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < n_tokens; i++)
                tokens[i][strcspn(tokens[i], " \t")] = '\0';
        unsigned rounds = bench_rounds(3);
        if (rounds > MAX_ROUNDS)
                rounds = MAX_ROUNDS;
        char log[4096];
        snprintf(log, sizeof(log), "%s.log", socket);
        double big_ms[MAX_ROUNDS], base_ms[MAX_ROUNDS], big_rss[MAX_ROUNDS], base_rss[MAX_ROUNDS];
        double after_rss[MAX_ROUNDS], after_hwm[MAX_ROUNDS];
        printf("%-5s | %-14s %12s | %-14s %12s %14s %14s\n", "round", "empty: ready", "VmRSS", "large: ready",
               "VmRSS", "VmRSS after", "VmHWM after");
        for (unsigned i = 0; i < rounds; i++) {
                struct start big, base;
                if ((r = one_start(kaasd, base_config, base_socket, NULL, 0, log, &base)) < 0 ||
                    (r = one_start(kaasd, config, socket, tokens, n_tokens, log, &big)) < 0)
                        return 1;
                printf("%-5u | %11.1f ms %9.1f MB | %11.1f ms %9.1f MB %11.1f MB %11.1f MB\n", i + 1, base.ready_ms,
                       base.rss_ready / 1024.0, big.ready_ms, big.rss_ready / 1024.0, big.rss_after / 1024.0,
                       big.hwm_after / 1024.0);
                fflush(stdout);
                big_ms[i] = big.ready_ms;
                base_ms[i] = base.ready_ms;
                big_rss[i] = big.rss_ready / 1024.0;
                base_rss[i] = base.rss_ready / 1024.0;
                after_rss[i] = big.rss_after / 1024.0;
                after_hwm[i] = big.hwm_after / 1024.0;
        }
        printf("%-5s | %11.1f ms %9.1f MB | %11.1f ms %9.1f MB %11.1f MB %11.1f MB\n", "median",
               bench_median(base_ms, rounds), bench_median(base_rss, rounds), bench_median(big_ms, rounds),
               bench_median(big_rss, rounds), bench_median(after_rss, rounds), bench_median(after_hwm, rounds));
        printf("# large store validated %zu tokens before the second figures\n",
               n_tokens < TOUCH_MAX ? n_tokens : (size_t)TOUCH_MAX);
        return 0;
}
