/* kaasctl: command line, dispatch through the command table
 * (KAASCTL_GROUPS in kaasctl.h) and the connection helpers the commands
 * share. The commands themselves live in kaasctl_<group>.c. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kaasctl.h"
#include "kaasctl_output.h"

#define KAASCTL_GROUP_ROW(g) &kaasctl_##g##_group,
static const struct kaasctl_group *const groups[] = { KAASCTL_GROUPS(KAASCTL_GROUP_ROW) };
#define N_GROUPS (sizeof(groups) / sizeof(groups[0]))

enum {
        OPT_SOCKET = 0x100,
        OPT_KAASD_USER,
        OPT_TIMEOUT,
        OPT_JSON,
        OPT_COMMAND = 0x200,  /* + index in the command's option table */
};

static const struct option global_options[] = {
        { "socket", required_argument, NULL, OPT_SOCKET },
        { "kaasd-user", required_argument, NULL, OPT_KAASD_USER },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "json", no_argument, NULL, OPT_JSON },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
};
#define N_GLOBAL_OPTIONS (sizeof(global_options) / sizeof(global_options[0]))

/* ------------------------------------------------------------ helpers */

int kaasctl_exit_code(int r) {
        switch (r) {
        case 0:
                return KAASCTL_EXIT_OK;
        case KAAS_ERROR_REMOTE:
                return KAASCTL_EXIT_REMOTE;
        case -ENOENT:
        case -ENOTDIR:
        case -ENAMETOOLONG:
        case -ECONNREFUSED:
        case -ECONNRESET:
        case -EPIPE:
        case -EACCES:
        case -EPERM:
        case -ETIMEDOUT:
                return KAASCTL_EXIT_UNREACHABLE;
        default:
                return KAASCTL_EXIT_LOCAL;
        }
}

static size_t option_count(const struct kaasctl_command *cmd) {
        size_t n = 0;
        while (cmd->options && cmd->options[n].name)
                n++;
        return n;
}

static const char *option_value(const struct kaasctl *ctx, const char *name) {
        for (size_t i = 0; ctx->command && i < option_count(ctx->command); i++)
                if (strcmp(ctx->command->options[i].name, name) == 0)
                        return ctx->option_values[i];
        return NULL;
}

bool kaasctl_flag(const struct kaasctl *ctx, const char *name) {
        return option_value(ctx, name) != NULL;
}

const char *kaasctl_option(const struct kaasctl *ctx, const char *name) {
        return option_value(ctx, name);
}

/* Passwords and tokens go only to a kaasd of root's or of kaasd's own
 * user: the socket file and the process listening on it are checked
 * before the first byte is sent. The default user is optional (a kaasd
 * run as root needs none); one named with --kaasd-user must exist. */
int kaasctl_connect(struct kaasctl *ctx) {
        if (ctx->client)
                return 0;
        const char *user = ctx->kaasd_user ? ctx->kaasd_user : KAAS_KAASD_USER;
        uid_t kaasd_uid = KAAS_UID_INVALID;
        int r = kaas_kaasd_uid(user, &kaasd_uid);
        if (r < 0 && ctx->kaasd_user)
                return kaasctl_usage_error("--kaasd-user: no user '%s'", ctx->kaasd_user);
        struct kaas_client *c = NULL;
        if ((r = kaas_client_new(ctx->socket_path, ctx->timeout_ms, &c)) < 0 ||
            (r = kaas_client_require_kaasd(c, kaasd_uid)) < 0 || (r = kaas_client_connect(c)) < 0) {
                if (r == -EPERM) {
                        kaasctl_log("refusing to talk to %s: the socket or the process listening on it belongs to "
                                    "neither root nor kaasd's user '%s' (see --kaasd-user)",
                                    kaas_client_get_socket_path(c), user);
                        kaas_client_free(c);
                        return kaasctl_exit_code(r);
                }
                kaas_client_free(c);
                return kaasctl_report_failure(ctx, r, NULL, false);
        }
        ctx->client = c;
        return 0;
}

int kaasctl_call(struct kaasctl *ctx, const char *method, json_t *parameters, json_t **ret) {
        int r = kaasctl_connect(ctx);
        if (r != 0)
                return r;
        struct kaas_error e = KAAS_ERROR_INIT;
        r = kaas_call(ctx->client, method, parameters, ret, &e);
        if (r < 0)
                r = kaasctl_report_failure(ctx, r, &e, false);
        kaas_error_clear(&e);
        return r;
}

/* --------------------------------------------------------------- help */

static void print_command_line(FILE *f, const struct kaasctl_group *g, const struct kaasctl_command *c) {
        char head[128];
        snprintf(head, sizeof(head), "%s%s%s%s%s", g->name ? g->name : "", g->name ? " " : "", c->name,
                 *c->args ? " " : "", c->args);
        fprintf(f, "  %-28s %s\n", head, c->summary);
}

static void print_options(FILE *f, const struct kaasctl_option *opts) {
        for (size_t i = 0; opts && opts[i].name; i++) {
                char head[64];
                snprintf(head, sizeof(head), "--%s%s%s", opts[i].name, opts[i].arg ? "=" : "",
                         opts[i].arg ? opts[i].arg : "");
                fprintf(f, "      %-22s %s\n", head, opts[i].help);
        }
}

static void print_global_options(FILE *f) {
        fputs("Options:\n"
              "      --socket=PATH          kaasd's socket (default: $KAAS_SOCKET, else\n"
              "                             the compiled-in path)\n"
              "      --kaasd-user=USER      kaasd may run as root or USER (default: " KAAS_KAASD_USER ")\n"
              "      --timeout=SEC          give up after SEC seconds (0: wait forever)\n"
              "      --json                 print results as JSON\n"
              "  -h, --help                 show this help and exit\n"
              "  -V, --version              show the version and exit\n",
              f);
}

static void usage(FILE *f) {
        fprintf(f, "Usage: kaasctl [OPTION]... COMMAND [ARG]...\n"
                   "Query and administer kaasd, the KaaS identity daemon, over its varlink socket.\n"
                   "Default socket: %s\n",
                kaas_socket_path(NULL));
        for (size_t i = 0; i < N_GROUPS; i++) {
                fprintf(f, "\n%s:\n", groups[i]->summary);
                for (size_t j = 0; j < groups[i]->n_commands; j++)
                        print_command_line(f, groups[i], &groups[i]->commands[j]);
        }
        fputc('\n', f);
        print_global_options(f);
        bool heading = false;
        for (size_t i = 0; i < N_GROUPS; i++)
                for (size_t j = 0; j < groups[i]->n_commands; j++) {
                        const struct kaasctl_command *c = &groups[i]->commands[j];
                        if (!option_count(c))
                                continue;
                        if (!heading)
                                fputs("\nCommand options:\n", f);
                        heading = true;
                        fprintf(f, "  %s%s%s:\n", groups[i]->name ? groups[i]->name : "",
                                groups[i]->name ? " " : "", c->name);
                        print_options(f, c->options);
                }
        fputs("\nExit status: 0 success, 1 kaasd answered with an error, 2 usage error,\n"
              "3 kaasd not reachable or timed out, 4 other failure. See kaasctl(1).\n",
              f);
}

static void command_usage(FILE *f, const struct kaasctl_group *g, const struct kaasctl_command *c) {
        fprintf(f, "Usage: kaasctl [OPTION]... %s%s%s%s%s\n%s.\n", g->name ? g->name : "", g->name ? " " : "",
                c->name, *c->args ? " " : "", c->args, c->summary);
        if (option_count(c)) {
                fputs("\nCommand options:\n", f);
                print_options(f, c->options);
        }
        fputc('\n', f);
        print_global_options(f);
}

/* ------------------------------------------------------------ parsing */

/* Returns 0 to go on, or an exit code + 1 to stop with. */
static int handle_global_option(struct kaasctl *ctx, int opt, const char *arg) {
        switch (opt) {
        case OPT_SOCKET:
                if (!*arg)
                        return kaasctl_usage_error("--socket needs a path") + 1;
                ctx->socket_path = arg;
                return 0;
        case OPT_KAASD_USER:
                if (!*arg)
                        return kaasctl_usage_error("--kaasd-user needs a user name or uid") + 1;
                ctx->kaasd_user = arg;
                return 0;
        case OPT_TIMEOUT: {
                char *end;
                errno = 0;
                double sec = strtod(arg, &end);
                if (errno || end == arg || *end || !isfinite(sec) || sec < 0 || sec > INT_MAX / 1000)
                        return kaasctl_usage_error("invalid --timeout '%s': expected seconds, such as 5 or 0.5", arg) + 1;
                /* 0 means forever on the command line; libkaas spells it -1 */
                int ms = (int)ceil(sec * 1000);
                ctx->timeout_ms = sec == 0 ? -1 : ms;
                return 0;
        }
        case OPT_JSON:
                ctx->json = true;
                return 0;
        case 'V':
                printf("kaasctl %s\n", PACKAGE_VERSION);
                return kaasctl_finish_output(KAASCTL_EXIT_OK) + 1;
        default:
                return KAASCTL_EXIT_USAGE + 1;  /* getopt printed why */
        }
}

static bool find_command(const char *word, const char *next, const struct kaasctl_group **ret_group,
                         const struct kaasctl_command **ret_command, bool *ret_uses_next) {
        for (size_t i = 0; i < N_GROUPS; i++) {
                const struct kaasctl_group *g = groups[i];
                const char *name = word;
                if (g->name) {
                        if (strcmp(g->name, word) != 0 || !next)
                                continue;
                        name = next;
                }
                for (size_t j = 0; j < g->n_commands; j++)
                        if (strcmp(g->commands[j].name, name) == 0) {
                                *ret_group = g;
                                *ret_command = &g->commands[j];
                                *ret_uses_next = g->name != NULL;
                                return true;
                        }
        }
        return false;
}

static bool is_group(const char *word) {
        for (size_t i = 0; i < N_GROUPS; i++)
                if (groups[i]->name && strcmp(groups[i]->name, word) == 0)
                        return true;
        return false;
}

/* Parses the command's arguments: its own options and the global ones,
 * in any order (a lone "--" ends the options). */
static int parse_command(struct kaasctl *ctx, const struct kaasctl_group *g, int argc, char **argv,
                         int *ret_first_arg) {
        const struct kaasctl_command *c = ctx->command;
        size_t n = option_count(c);
        if (n > KAASCTL_MAX_OPTIONS) {
                kaasctl_log("internal error: command '%s' has too many options", c->name);
                return KAASCTL_EXIT_LOCAL + 1;
        }
        struct option longopts[N_GLOBAL_OPTIONS + KAASCTL_MAX_OPTIONS + 1];
        memcpy(longopts, global_options, sizeof(global_options));
        for (size_t i = 0; i < n; i++)
                longopts[N_GLOBAL_OPTIONS + i] = (struct option){
                        c->options[i].name, c->options[i].arg ? required_argument : no_argument, NULL,
                        OPT_COMMAND + (int)i };
        longopts[N_GLOBAL_OPTIONS + n] = (struct option){ NULL, 0, NULL, 0 };

        optind = 0;  /* glibc: restart scanning for the new argument vector */
        int opt;
        while ((opt = getopt_long(argc, argv, "hV", longopts, NULL)) != -1) {
                if (opt == 'h') {
                        command_usage(stdout, g, c);
                        return kaasctl_finish_output(KAASCTL_EXIT_OK) + 1;
                }
                if (opt >= OPT_COMMAND && opt < OPT_COMMAND + (int)n) {
                        ctx->option_values[opt - OPT_COMMAND] = optarg ? optarg : "";
                        continue;
                }
                if (opt == '?') {
                        fputs("Try 'kaasctl --help' for more information.\n", stderr);
                        return KAASCTL_EXIT_USAGE + 1;
                }
                int stop = handle_global_option(ctx, opt, optarg);
                if (stop)
                        return stop;
        }
        unsigned n_args = (unsigned)(argc - optind);
        if (n_args < c->min_args || n_args > c->max_args)
                return kaasctl_usage_error("usage: kaasctl %s%s%s%s%s", g->name ? g->name : "", g->name ? " " : "",
                                           c->name, *c->args ? " " : "", c->args) + 1;
        *ret_first_arg = optind;
        return 0;
}

int main(int argc, char **argv) {
        struct kaasctl ctx = { .timeout_ms = 0 };
        struct option longopts[N_GLOBAL_OPTIONS + 1];
        memcpy(longopts, global_options, sizeof(global_options));
        longopts[N_GLOBAL_OPTIONS] = (struct option){ NULL, 0, NULL, 0 };

        /* global options up to the command word */
        int opt;
        while ((opt = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
                if (opt == 'h') {
                        usage(stdout);
                        return kaasctl_finish_output(KAASCTL_EXIT_OK);
                }
                if (opt == '?') {
                        fputs("Try 'kaasctl --help' for more information.\n", stderr);
                        return KAASCTL_EXIT_USAGE;
                }
                int stop = handle_global_option(&ctx, opt, optarg);
                if (stop)
                        return stop - 1;
        }
        if (optind >= argc)
                return kaasctl_usage_error("missing command");

        const char *word = argv[optind];
        const char *next = optind + 1 < argc ? argv[optind + 1] : NULL;
        const struct kaasctl_group *group;
        bool uses_next;
        if (!find_command(word, next, &group, &ctx.command, &uses_next)) {
                if (is_group(word))
                        return next ? kaasctl_usage_error("unknown command '%s %s'", word, next)
                                    : kaasctl_usage_error("'%s' needs a command", word);
                return kaasctl_usage_error("unknown command '%s'", word);
        }
        /* the command word becomes argv[0] of the command's own parse */
        int cmd_index = optind + (uses_next ? 1 : 0);
        int first = 0;
        int stop = parse_command(&ctx, group, argc - cmd_index, argv + cmd_index, &first);
        if (stop)
                return stop - 1;

        int r = ctx.command->run(&ctx, argc - cmd_index - first, argv + cmd_index + first);
        kaas_client_free(ctx.client);
        return kaasctl_finish_output(r);
}
