/* kaasctl cache commands (io.kaas.Admin): drop cached Keystone identities,
 * of one user or all, so the next lookup asks Keystone. For root and
 * kaasd's admin_group. Depends on kaasctl.h, kaasctl_output.h and
 * kaasctl_token.h (error messages). */
#include "config.h"

#include <stdio.h>

#include "kaasctl.h"
#include "kaasctl_output.h"
#include "kaasctl_token.h"

static int cmd_invalidate(struct kaasctl *ctx, int argc, char **argv) {
        bool all = kaasctl_flag(ctx, "all");
        if (all == (argc == 1))
                return kaasctl_usage_error("give either a user (name or ID) or --all");
        KAASCTL_JSON_AUTO json_t *params = all ? json_object() : json_pack("{s:s}", "user", argv[0]);
        if (!params)
                return kaasctl_usage_error("the user must be UTF-8 text");
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = kaasctl_call_explained(ctx, all ? "io.kaas.Admin.FlushCache" : "io.kaas.Admin.InvalidateUser", params,
                                       &reply, NULL, NULL);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        json_int_t n = json_integer_value(json_object_get(reply, "removed"));
        if (all) {
                printf("removed %" JSON_INTEGER_FORMAT " cached entr%s\n", n, n == 1 ? "y" : "ies");
                return KAASCTL_EXIT_OK;
        }
        if (n == 0)
                fputs("nothing cached for ", stdout);
        else
                printf("removed %" JSON_INTEGER_FORMAT " cached entr%s of ", n, n == 1 ? "y" : "ies");
        kaasctl_put(stdout, argv[0], false);
        fputc('\n', stdout);
        return KAASCTL_EXIT_OK;
}

static const struct kaasctl_option invalidate_options[] = {
        { "all", NULL, "drop every cached identity and remembered unknown name" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command cache_commands[] = {
        { "invalidate", "USER|--all", "Drop cached identities so kaasd asks Keystone again", 0, 1, invalidate_options,
          cmd_invalidate },
};

const struct kaasctl_group kaasctl_cache_group = {
        .name = "cache",
        .summary = "The identity cache (io.kaas.Admin)",
        .commands = cache_commands,
        .n_commands = sizeof(cache_commands) / sizeof(cache_commands[0]),
};
