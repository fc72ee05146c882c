/* bench-pam: whole PAM authentications — pam_start, pam_authenticate with
 * a KaaS token as the password, pam_end — through pam_kaas.so under
 * pam_wrapper, next to two baselines in the same run: the same
 * transaction with a stack of pam_permit.so only (what libpam and
 * pam_wrapper cost), and the call pam_kaas makes, io.kaas.Token.Validate
 * with the user, through libkaas on a new connection.
 *
 *   bench-pam --service NAME --permit-service NAME --socket SOCK --tokens FILE
 *             [--threads 1]
 *
 * Run under LD_PRELOAD=libpam_wrapper.so PAM_WRAPPER=1
 * PAM_WRAPPER_SERVICE_DIR=DIR (bench/run.sh sets it up). FILE holds
 * "TOKEN USER" lines; each authentication draws one. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "kaas.h"

#define MAX_THREADS 16

struct pair {
        const char *token;
        const char *user;
};

static struct pair *pairs;
static size_t n_pairs;
static const char *socket_path;

struct pam_side {
        const char *service;
};

struct pam_thread {
        const char *service;
        uint64_t rnd;
        const struct pair *current;
};

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data) {
        const struct pair *p = data;
        struct pam_response *r = calloc((size_t)n, sizeof(*r));
        if (!r)
                return PAM_BUF_ERR;
        for (int i = 0; i < n; i++)
                if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
                        r[i].resp = strdup(p->token);
        *resp = r;
        return PAM_SUCCESS;
}

static int pam_init(void *arg, unsigned index, void **ret) {
        const struct pam_side *s = arg;
        struct pam_thread *t = calloc(1, sizeof(*t));
        if (!t)
                return -ENOMEM;
        t->service = s->service;
        t->rnd = 0x9e3779b97f4a7c15ull * (index + 1);
        *ret = t;
        return 0;
}

static int pam_op(void *state) {
        struct pam_thread *t = state;
        const struct pair *p = &pairs[bench_random(&t->rnd) % n_pairs];
        struct pam_conv c = { conv, (void *)p };
        pam_handle_t *h = NULL;
        int r = pam_start(t->service, p->user, &c, &h);
        if (r == PAM_SUCCESS)
                r = pam_authenticate(h, PAM_SILENT);
        if (h)
                pam_end(h, r);
        if (r != PAM_SUCCESS) {
                static bool said;
                if (!said) {
                        said = true;
                        fprintf(stderr, "bench-pam: %s: %s for %s\n", t->service, pam_strerror(NULL, r), p->user);
                }
                return -EACCES;
        }
        return 0;
}

static void pam_fini(void *state) {
        free(state);
}

static int validate_init(void *arg, unsigned index, void **ret) {
        return pam_init(arg, index, ret);
}

static int validate_op(void *state) {
        struct pam_thread *t = state;
        const struct pair *p = &pairs[bench_random(&t->rnd) % n_pairs];
        struct kaas_client *c = NULL;
        int r = kaas_client_new(socket_path, 5000, &c);
        if (r >= 0)
                r = kaas_client_require_peer_uid(c, 0);
        if (r >= 0) {
                json_t *params = json_pack("{s:s, s:s}", "token", p->token, "user", p->user);
                r = kaas_call(c, "io.kaas.Token.Validate", params, NULL, NULL);
                json_decref(params);
        }
        kaas_client_free(c);
        return r;
}

int main(int argc, char **argv) {
        static const struct option longopts[] = {
                { "service", required_argument, NULL, 's' },
                { "permit-service", required_argument, NULL, 'p' },
                { "socket", required_argument, NULL, 'k' },
                { "tokens", required_argument, NULL, 't' },
                { "threads", required_argument, NULL, 'n' },
                { NULL, 0, NULL, 0 },
        };
        const char *service = NULL, *permit = NULL, *tokens = NULL;
        unsigned threads[MAX_THREADS] = { 1 };
        int n_threads = 1, c;
        while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
                switch (c) {
                case 's': service = optarg; break;
                case 'p': permit = optarg; break;
                case 'k': socket_path = optarg; break;
                case 't': tokens = optarg; break;
                case 'n':
                        if ((n_threads = bench_parse_list(optarg, threads, MAX_THREADS)) < 0)
                                return 2;
                        break;
                default: return 2;
                }
        }
        if (!service || !permit || !socket_path || !tokens) {
                fprintf(stderr, "usage: bench-pam --service NAME --permit-service NAME --socket SOCK --tokens FILE "
                                "[--threads 1]\n");
                return 2;
        }
        bench_print_header(stdout, "bench-pam", argc, argv);
        char **lines;
        size_t n_lines;
        int r = bench_read_lines(tokens, &lines, &n_lines);
        if (r < 0) {
                fprintf(stderr, "bench-pam: %s: %s\n", tokens, strerror(-r));
                return 1;
        }
        if (!(pairs = calloc(n_lines, sizeof(*pairs))))
                return 1;
        for (size_t i = 0; i < n_lines; i++) {
                char *sp = strchr(lines[i], ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                pairs[n_pairs++] = (struct pair){ lines[i], sp + 1 };
        }
        if (n_pairs == 0) {
                fprintf(stderr, "bench-pam: no \"TOKEN USER\" lines in %s\n", tokens);
                return 1;
        }
        double seconds = bench_seconds(1.0);
        unsigned rounds = bench_rounds(3);
        struct pam_side kaas = { service }, perm = { permit };
        struct bench_side subject = { .name = "pam_kaas authentication", .init = pam_init, .op = pam_op,
                                      .fini = pam_fini, .arg = &kaas };
        struct bench_side permit_side = { .name = "pam_permit.so stack", .init = pam_init, .op = pam_op,
                                          .fini = pam_fini, .arg = &perm };
        struct bench_side validate = { .name = "Validate, new libkaas conn", .init = validate_init, .op = validate_op,
                                       .fini = pam_fini, .arg = &kaas };
        printf("# %zu token/user pairs; pam_start + pam_authenticate + pam_end per operation\n", n_pairs);
        printf("\n## pam_kaas against the same PAM transaction with pam_permit.so\n");
        r = bench_compare(stdout, &subject, &permit_side, threads, n_threads, seconds, rounds, NULL, NULL);
        if (r >= 0) {
                printf("\n## pam_kaas against the varlink call it makes (Validate with the user, new connection)\n");
                r = bench_compare(stdout, &subject, &validate, threads, n_threads, seconds, rounds, NULL, NULL);
        }
        if (r < 0) {
                fprintf(stderr, "bench-pam: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
