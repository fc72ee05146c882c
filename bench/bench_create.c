/* bench-create: io.kaas.Token.Create per second from several clients at
 * once. kaasd answers a Create only once its commit is durable (synced to
 * disk), so the baseline in the same run is the disk itself: each thread
 * appending one small record to its own file in the state directory's file
 * system and calling fdatasync(), as many threads as clients.
 *
 *   bench-create --socket SOCK --tokens FILE --dir DIR [--threads 1,4,16]
 *
 * The credentials are an existing KaaS token (the first of FILE), so the
 * proof of identity is kaasd's own token check and Keystone takes no part:
 * the figures are kaasd's and the disk's. Each thread has its own
 * connection. Every created token stays in the store. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "kaas.h"

#define MAX_THREADS 16

struct create_side {
        const char *socket;
        const char *token;
};

static int create_init(void *arg, unsigned index, void **ret) {
        const struct create_side *s = arg;
        struct kaas_client *c = NULL;
        int r = kaas_connect(s->socket, 30000, &c);
        if (r < 0)
                return r;
        *ret = c;
        return 0;
}

static const struct create_side *the_side;

static int create_op(void *state) {
        struct kaas_client *c = state;
        json_t *params = json_pack("{s:{s:s}, s:s}", "credentials", "kaas_token", the_side->token, "description",
                                   "bench-create");
        json_t *reply = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        int r = kaas_call(c, "io.kaas.Token.Create", params, &reply, &err);
        if (r == KAAS_ERROR_REMOTE) {
                static bool said;
                if (!said) {
                        said = true;
                        fprintf(stderr, "bench-create: kaasd answered %s\n", err.message);
                }
        }
        json_decref(params);
        json_decref(reply);
        kaas_error_clear(&err);
        return r;
}

static void create_fini(void *state) {
        kaas_client_free(state);
}

/* ---- the baseline: a small append and fdatasync() per operation */

static const char *sync_dir;

struct sync_thread {
        int fd;
};

static int sync_init(void *arg, unsigned index, void **ret) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/bench-sync.%u", sync_dir, index);
        struct sync_thread *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
        if (t->fd < 0) {
                int r = -errno;
                free(t);
                return r;
        }
        unlink(path);  /* gone when closed */
        *ret = t;
        return 0;
}

static int sync_op(void *state) {
        struct sync_thread *t = state;
        static const char record[256] = "a token record and its index entries, more or less";
        if (write(t->fd, record, sizeof(record)) != (ssize_t)sizeof(record))
                return -EIO;
        return fdatasync(t->fd) < 0 ? -errno : 0;
}

static void sync_fini(void *state) {
        struct sync_thread *t = state;
        close(t->fd);
        free(t);
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, 's' },
                { "tokens", required_argument, NULL, 't' },
                { "dir", required_argument, NULL, 'd' },
                { "threads", required_argument, NULL, 'n' },
                { NULL, 0, NULL, 0 },
        };
        const char *socket = NULL, *tokens = NULL;
        unsigned threads[MAX_THREADS] = { 1, 4, 16 };
        int n_threads = 3, c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 's': socket = optarg; break;
                case 't': tokens = optarg; break;
                case 'd': sync_dir = optarg; break;
                case 'n':
                        if ((n_threads = bench_parse_list(optarg, threads, MAX_THREADS)) < 0)
                                return 2;
                        break;
                default: return 2;
                }
        }
        if (!socket || !tokens || !sync_dir) {
                fprintf(stderr, "usage: bench-create --socket SOCK --tokens FILE --dir DIR [--threads 1,4,16]\n");
                return 2;
        }
        bench_print_header(stdout, "bench-create", argc, argv);
        char **lines;
        size_t n;
        int r = bench_read_lines(tokens, &lines, &n);
        if (r < 0) {
                fprintf(stderr, "bench-create: %s: %s\n", tokens, strerror(-r));
                return 1;
        }
        lines[0][strcspn(lines[0], " ")] = '\0';
        struct create_side cs = { .socket = socket, .token = lines[0] };
        the_side = &cs;
        struct bench_side subject = { .name = "Token.Create (durable)", .init = create_init, .op = create_op,
                                      .fini = create_fini, .arg = &cs };
        struct bench_side baseline = { .name = "256 B append + fdatasync", .init = sync_init, .op = sync_op,
                                       .fini = sync_fini };
        printf("# credentials: an existing KaaS token (no Keystone call); one connection per client\n");
        r = bench_compare(stdout, &subject, &baseline, threads, n_threads, bench_seconds(2.0), bench_rounds(3), NULL,
                          NULL);
        if (r < 0) {
                fprintf(stderr, "bench-create: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
