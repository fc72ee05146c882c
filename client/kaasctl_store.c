/* kaasctl store commands (io.kaas.Admin): the environment's shared token
 * store (docs/environment.md). For root and kaasd's admin_group. Depends
 * on kaasctl.h, kaasctl_output.h and kaasctl_token.h (error messages). */
#include "config.h"

#include <stdio.h>

#include "kaasctl.h"
#include "kaasctl_output.h"
#include "kaasctl_token.h"

static int cmd_migrate(struct kaasctl *ctx, int argc, char **argv) {
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = kaasctl_call_explained(ctx, "io.kaas.Admin.MigrateStore", NULL, &reply, NULL, NULL);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        json_int_t moved = json_integer_value(json_object_get(reply, "moved"));
        json_int_t present = json_integer_value(json_object_get(reply, "present"));
        printf("moved %" JSON_INTEGER_FORMAT " token%s into etcd; %" JSON_INTEGER_FORMAT " %s there already\n", moved,
               moved == 1 ? "" : "s", present, present == 1 ? "was" : "were");
        return KAASCTL_EXIT_OK;
}

static const struct kaasctl_command store_commands[] = {
        { "migrate", "", "Put this writer's stored tokens into etcd, each unless there already", 0, 0, NULL,
          cmd_migrate },
};

const struct kaasctl_group kaasctl_store_group = {
        .name = "store",
        .summary = "The environment's shared token store (io.kaas.Admin)",
        .commands = store_commands,
        .n_commands = sizeof(store_commands) / sizeof(store_commands[0]),
};
