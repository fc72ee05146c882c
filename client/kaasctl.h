/* kaasctl: what the command files share — the command table types, the
 * invocation context, exit codes and the call helper. A command group is
 * one file, client/kaasctl_<group>.c, defining kaasctl_<group>_group; it
 * becomes part of kaasctl through one row in KAASCTL_GROUPS below (and its
 * file in client/local.mk). Commands use libkaas only through this header
 * and print only through kaasctl_output.h. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kaas.h"

/* A json_t * variable released when it leaves scope. */
static inline void kaasctl_json_decrefp(json_t **j) {
        json_decref(*j);
}
#define KAASCTL_JSON_AUTO __attribute__((cleanup(kaasctl_json_decrefp)))

/* Exit codes, documented in kaasctl(1). */
enum {
        KAASCTL_EXIT_OK = 0,
        KAASCTL_EXIT_REMOTE = 1,       /* kaasd answered with a varlink error */
        KAASCTL_EXIT_USAGE = 2,        /* bad command line */
        KAASCTL_EXIT_UNREACHABLE = 3,  /* kaasd not running, not reachable, timed out */
        KAASCTL_EXIT_LOCAL = 4,        /* any other local failure */
};

#define KAASCTL_MAX_OPTIONS 16

/* A command's own long option: a flag (arg == NULL) or one taking a value
 * named arg in the help text. Read them with kaasctl_flag() and
 * kaasctl_option(). */
struct kaasctl_option {
        const char *name;
        const char *arg;
        const char *help;
};

struct kaasctl;

struct kaasctl_command {
        const char *name;                      /* "status", or "list" in group "token" */
        const char *args;                      /* synopsis of the arguments, "" for none */
        const char *summary;                   /* one line for --help */
        unsigned min_args, max_args;
        const struct kaasctl_option *options;  /* ends with { NULL }; NULL for none */
        /* Returns an exit code; errors are already printed. */
        int (*run)(struct kaasctl *ctx, int argc, char **argv);
};

struct kaasctl_group {
        const char *name;                      /* "token"; NULL: commands are top-level verbs */
        const char *summary;                   /* heading in --help */
        const struct kaasctl_command *commands;
        size_t n_commands;
};

/* The command table: one row per group, in --help order. */
#define KAASCTL_GROUPS(X) \
        X(admin)           \
        X(token)           \
        X(user)            \
        X(cache)           \
        X(store)           \
        X(kube)            \
        X(webhook)         \
        X(rbac)

#define KAASCTL_DECLARE_GROUP(g) extern const struct kaasctl_group kaasctl_##g##_group;
KAASCTL_GROUPS(KAASCTL_DECLARE_GROUP)

/* One invocation: global options, the chosen command and its options. */
struct kaasctl {
        const char *socket_path;  /* NULL: $KAAS_SOCKET or the default */
        const char *kaasd_user;   /* besides root, kaasd may run as this user; NULL: KAAS_KAASD_USER */
        int timeout_ms;           /* as libkaas takes it: 0 default, < 0 forever */
        bool json;
        const struct kaasctl_command *command;
        const char *option_values[KAASCTL_MAX_OPTIONS];  /* by index in command->options */
        struct kaas_client *client;                      /* opened by the first call */
};

/* Whether the command's flag --name was given. */
bool kaasctl_flag(const struct kaasctl *ctx, const char *name);
/* The value of the command's option --name, NULL when not given. */
const char *kaasctl_option(const struct kaasctl *ctx, const char *name);

/* Connects on first use. Returns 0, or prints why it failed and returns
 * the exit code. */
int kaasctl_connect(struct kaasctl *ctx);

/* Calls method and stores the reply parameters (a new reference) in *ret
 * when ret is not NULL. Returns 0, or prints the failure and returns the
 * exit code. parameters is borrowed. */
int kaasctl_call(struct kaasctl *ctx, const char *method, json_t *parameters, json_t **ret);

/* The exit code for a libkaas return value. */
int kaasctl_exit_code(int r);
