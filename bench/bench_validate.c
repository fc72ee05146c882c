/* bench-validate: io.kaas.Token.Validate through libkaas against a running
 * kaasd, next to its baseline in the same run: a raw AF_UNIX ping-pong
 * (bench-echo-server) moving exactly the bytes of one Validate call and
 * its reply. With --other, also Validate on a second kaasd (another store,
 * e.g. 1,000 tokens against 1,000,000) as a second baseline.
 *
 *   bench-validate --socket SOCK --tokens FILE --echo-server PATH --workdir DIR
 *                  [--threads 1,4,16] [--seconds S] [--rounds R]
 *                  [--other SOCK2 --other-tokens FILE2] [--label TEXT]
 *
 * FILE holds one token per line (first word of the line), as
 * bench-fill-store writes it; each call validates a token drawn at random
 * from it, so a large store is read all over, not through one hot page.
 * Each thread has its own connection. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "kaas.h"
#include "varlink_message.h"

#define MAX_THREADS 16
#define METHOD "io.kaas.Token.Validate"

struct token_set {
        char **tokens;
        size_t n;
};

struct kaas_side {
        const char *socket;
        const struct token_set *set;
};

struct kaas_thread {
        struct kaas_client *client;
        const struct token_set *set;
        uint64_t rnd;
};

static int kaas_init(void *arg, unsigned index, void **ret) {
        const struct kaas_side *k = arg;
        struct kaas_thread *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->set = k->set;
        t->rnd = 0x9e3779b97f4a7c15ull * (index + 1) ^ (uint64_t)getpid();
        int r = kaas_connect(k->socket, 10000, &t->client);
        if (r < 0) {
                fprintf(stderr, "bench-validate: connecting to %s: %s\n", k->socket, kaas_strerror(r));
                free(t);
                return r;
        }
        *ret = t;
        return 0;
}

static int kaas_op(void *state) {
        struct kaas_thread *t = state;
        const char *token = t->set->tokens[bench_random(&t->rnd) % t->set->n];
        json_t *params = json_pack("{s:s}", "token", token);
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = kaas_call(t->client, METHOD, params, &reply, &err);
        if (r == KAAS_ERROR_REMOTE) {
                static bool said;
                if (!said) {
                        said = true;
                        fprintf(stderr, "bench-validate: kaasd answered %s\n", err.message);
                }
        }
        json_decref(params);
        json_decref(reply);
        kaas_error_clear(&err);
        return r;
}

static void kaas_fini(void *state) {
        struct kaas_thread *t = state;
        kaas_client_free(t->client);
        free(t);
}

/* ---- set-up */

static int load_tokens(const char *path, struct token_set *ret) {
        int r = bench_read_lines(path, &ret->tokens, &ret->n);
        if (r < 0) {
                fprintf(stderr, "bench-validate: reading %s: %s\n", path, strerror(-r));
                return r;
        }
        for (size_t i = 0; i < ret->n; i++)
                ret->tokens[i][strcspn(ret->tokens[i], " \t")] = '\0';
        return 0;
}

/* One Validate over a raw socket: the exact bytes libkaas sends (the
 * request of the baseline) and the size of kaasd's reply. */
static int probe(const char *socket, const char *token, struct bench_raw *raw) {
        json_t *msg = vl_call_new(METHOD, json_pack("{s:s}", "token", token), false, false);
        char *req = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        json_decref(msg);
        if (!req)
                return -ENOMEM;
        int r = bench_probe(socket, req, raw);
        free(req);
        return r;
}

static void usage(void) {
        fprintf(stderr,
                "usage: bench-validate --socket SOCK --tokens FILE --echo-server PATH --workdir DIR\n"
                "                      [--threads 1,4,16] [--seconds S] [--rounds R]\n"
                "                      [--other SOCK2 --other-tokens FILE2] [--label TEXT] [--other-label TEXT]\n");
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, 's' },
                { "tokens", required_argument, NULL, 't' },
                { "echo-server", required_argument, NULL, 'e' },
                { "workdir", required_argument, NULL, 'w' },
                { "threads", required_argument, NULL, 'n' },
                { "seconds", required_argument, NULL, 'S' },
                { "rounds", required_argument, NULL, 'R' },
                { "other", required_argument, NULL, 'o' },
                { "other-tokens", required_argument, NULL, 'O' },
                { "label", required_argument, NULL, 'l' },
                { "other-label", required_argument, NULL, 'L' },
                { NULL, 0, NULL, 0 },
        };
        const char *socket = NULL, *tokens_path = NULL, *echo = NULL, *workdir = NULL, *other = NULL,
                   *other_tokens = NULL, *label = "Validate", *other_label = "Validate (other store)";
        unsigned threads[MAX_THREADS] = { 1, 4, 16 };
        int n_threads = 3;
        double seconds = bench_seconds(1.0);
        unsigned rounds = bench_rounds(3);
        int c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 's': socket = optarg; break;
                case 't': tokens_path = optarg; break;
                case 'e': echo = optarg; break;
                case 'w': workdir = optarg; break;
                case 'n':
                        if ((n_threads = bench_parse_list(optarg, threads, MAX_THREADS)) < 0) {
                                usage();
                                return 2;
                        }
                        break;
                case 'S': seconds = atof(optarg); break;
                case 'R': rounds = (unsigned)atoi(optarg); break;
                case 'o': other = optarg; break;
                case 'O': other_tokens = optarg; break;
                case 'l': label = optarg; break;
                case 'L': other_label = optarg; break;
                default: usage(); return 2;
                }
        }
        if (!socket || !tokens_path || !echo || !workdir || (other && !other_tokens) || seconds <= 0 || rounds < 1) {
                usage();
                return 2;
        }
        bench_print_header(stdout, "bench-validate", argc, argv);

        struct token_set set, other_set;
        if (load_tokens(tokens_path, &set) < 0 || (other && load_tokens(other_tokens, &other_set) < 0))
                return 1;
        struct bench_raw raw = { 0 };
        if (probe(socket, set.tokens[0], &raw) < 0)
                return 1;
        pid_t echo_pid = bench_echo_start(echo, workdir, &raw);
        if (echo_pid < 0)
                return 1;
        printf("# %zu tokens to draw from; call %zu bytes, reply %zu bytes (NUL included)\n", set.n,
               raw.request_size, raw.reply_size);

        struct kaas_side ks = { .socket = socket, .set = &set };
        struct bench_side subject = { .name = label, .init = kaas_init, .op = kaas_op, .fini = kaas_fini, .arg = &ks };
        struct bench_side baseline = bench_raw_side("raw AF_UNIX ping-pong", &raw);
        int r = bench_compare(stdout, &subject, &baseline, threads, n_threads, seconds, rounds, NULL, NULL);
        if (r >= 0 && other) {
                struct kaas_side ko = { .socket = other, .set = &other_set };
                struct bench_side second = { .name = other_label, .init = kaas_init, .op = kaas_op, .fini = kaas_fini,
                                             .arg = &ko };
                printf("\n");
                r = bench_compare(stdout, &subject, &second, threads, n_threads, seconds, rounds, NULL, NULL);
        }
        bench_stop(echo_pid, 2000);
        if (r < 0) {
                fprintf(stderr, "bench-validate: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
