/* What every benchmark driver in bench/ shares: clocks, latency samples
 * and their percentiles, the run length (BENCH_SECONDS), the description
 * of the machine printed above each result, connecting to AF_UNIX
 * sockets, and starting and stopping the baseline servers.
 *
 * Benchmarks measure a subject and its baseline side by side in the same
 * run, alternating rounds of each, so that the load other processes put on
 * the machine falls on both and the ratio stays meaningful. Depends on
 * POSIX only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* Seconds per measured round: BENCH_SECONDS when set (a positive number,
 * fractions allowed), else def. */
double bench_seconds(double def);
/* Rounds of each side: BENCH_ROUNDS when set, else def. */
unsigned bench_rounds(unsigned def);

/* Latency samples in nanoseconds. */
struct bench_samples {
        uint32_t *ns;
        size_t n, cap;
};

void bench_samples_add(struct bench_samples *s, uint64_t ns);
/* Appends every sample of from to to. */
void bench_samples_merge(struct bench_samples *to, const struct bench_samples *from);
void bench_samples_clear(struct bench_samples *s);
void bench_samples_free(struct bench_samples *s);
/* The q-quantile (0..1) in microseconds; sorts the samples. 0 when empty. */
double bench_samples_quantile_us(struct bench_samples *s, double q);

/* One measured round: calls completed, wall time, latencies. */
struct bench_result {
        uint64_t calls;
        uint64_t errors;
        double seconds;
        double p50_us, p99_us;
};

static inline double bench_rate(const struct bench_result *r) {
        return r->seconds > 0 ? (double)r->calls / r->seconds : 0;
}

/* Median of n doubles (n >= 1); reorders v. */
double bench_median(double *v, size_t n);
double bench_min(const double *v, size_t n);
double bench_max(const double *v, size_t n);

/* "# machine: 2 x AMD EPYC (Linux 6.1.0), load 1.23 0.98 0.70" and the
 * command line, so that a pasted result says where it came from. */
void bench_print_header(FILE *f, const char *name, int argc, char **argv);

/* Connects a blocking AF_UNIX stream socket (close-on-exec). -errno. */
int bench_unix_connect(const char *path);
/* Waits up to timeout_ms for something to accept connections at path. */
int bench_wait_socket(const char *path, int timeout_ms);

/* Writes all n bytes / reads until a NUL byte arrives (the NUL included),
 * into buf of size cap. Returns bytes read or -errno (-EPROTO: no NUL
 * within cap, -ECONNRESET: end of stream). */
int bench_write_all(int fd, const void *buf, size_t n);
ssize_t bench_read_message(int fd, char *buf, size_t cap);

/* Starts argv[0] (a path) with argv, stdout and stderr to log (NULL: the
 * parent's); returns its pid or -errno. */
pid_t bench_spawn(char *const argv[], const char *log);
/* SIGTERM, then SIGKILL after timeout_ms; reaps. */
void bench_stop(pid_t pid, int timeout_ms);

/* Parses "1,4,16" into at most max unsigned values; returns the count or
 * -EINVAL. */
int bench_parse_list(const char *s, unsigned *ret, int max);

/* Reads a file of one item per line into a NULL-terminated array of
 * strings (the newline removed) and the count. -errno. */
int bench_read_lines(const char *path, char ***ret, size_t *ret_n);

/* A per-thread random number (xorshift64*); seed it with anything but 0. */
static inline uint64_t bench_random(uint64_t *state) {
        uint64_t x = *state;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * UINT64_C(2685821657736338717);
}

/* ------------------------------------------------------------ runner */

/* One side of a comparison: an operation run in a loop by each of n
 * threads. init makes a thread's state (a connection ...), op does one
 * operation (0 ok, negative errno counted as an error), fini frees. */
struct bench_side {
        const char *name;
        int (*init)(void *arg, unsigned thread, void **ret_state);
        int (*op)(void *state);
        void (*fini)(void *state);
        void *arg;
};

/* Runs side with threads threads: warm-up for warmup seconds, then
 * measures for seconds. -errno when a thread cannot start. */
int bench_run(const struct bench_side *side, unsigned threads, double warmup, double seconds,
              struct bench_result *ret);

/* Runs subject and baseline alternately, rounds times each, for each
 * thread count, and prints one line per thread count: median rate, p50
 * and p99 of each side, and the ratios (subject/baseline: rate, p99) with
 * their spread over the rounds. Returns 0, or the first error. When
 * ret_rate_ratio is not NULL it receives the median rate ratio per
 * thread count. */
int bench_compare(FILE *f, const struct bench_side *subject, const struct bench_side *baseline,
                  const unsigned *threads, int n_threads, double seconds, unsigned rounds,
                  double *ret_rate_ratio, double *ret_subject_rate);

/* ------------------------------------------------------------ raw ping-pong */

/* The baseline of the varlink benchmarks: one NUL-framed message of
 * request_size bytes (NUL included) to bench-echo-server, one reply of
 * reply_size bytes back. With connect_per_call, every round trip opens and
 * closes its own connection, as the NSS module does. */
struct bench_raw {
        const char *socket;
        char *request;
        size_t request_size;
        size_t reply_size;
        bool connect_per_call;
};

struct bench_side bench_raw_side(const char *name, struct bench_raw *raw);

/* Sends request (a JSON text, a NUL is added) to the varlink server at
 * socket over a fresh connection and reads one reply; fills raw's request
 * and sizes. Fails with -EREMOTEIO (printing the reply) when the reply is
 * an error. */
int bench_probe(const char *socket, const char *request, struct bench_raw *raw);

/* Starts bench-echo-server (path echo) on DIR/echo.sock answering
 * raw->reply_size bytes; sets raw->socket. Returns its pid or -errno. */
pid_t bench_echo_start(const char *echo, const char *dir, struct bench_raw *raw);
