/* keystone_call: runs one call of kaasd's Keystone client (kaasd/keystone.c)
 * in an event loop, as kaasd does, and prints the result as one JSON line.
 * Used by test_identity.sh against a real Keystone.
 *
 *   keystone_call CONF password NAME DOMAIN_NAME    (password on stdin)
 *   keystone_call CONF password-id NAME DOMAIN_ID   (password on stdin)
 *   keystone_call CONF token                        (token on stdin)
 *   keystone_call CONF user ID | find NAME DOMAIN_ID | roles ID | domain ID
 *
 * Output: {"status": 0 or -errno, "error": ..., "http": N, "ms": N,
 *          "user": {...}, "roles": N}; exit 0 whenever a result came. */
#include "config.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_file.h"
#include "keystone.h"
#include "loop.h"

static struct loop *loop;

static void on_done(const struct ks_result *res, void *userdata) {
        json_t *out = json_pack("{s:i, s:s?, s:I, s:I}", "status", res->status, "error", res->error, "http",
                                (json_int_t)res->http_status, "ms", (json_int_t)(res->elapsed_usec / 1000));
        if (res->user)
                json_object_set_new(out, "user",
                                    json_pack("{s:s, s:s, s:s, s:s?, s:b}", "id", res->user->id, "name", res->user->name,
                                              "domain_id", res->user->domain_id, "domain_name", res->user->domain_name,
                                              "enabled", res->user->enabled));
        if (res->assignments)
                json_object_set_new(out, "roles", json_integer((json_int_t)res->assignments->n));
        if (res->domain)
                json_object_set_new(out, "domain", json_string(res->domain->name));
        char *s = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
        puts(s ? s : "{}");
        free(s);
        json_decref(out);
        loop_quit(loop, 0);
}

static void on_timeout(struct loop_timer *t, void *userdata) {
        fprintf(stderr, "keystone_call: no result within 60 s\n");
        loop_quit(loop, 3);
}

static char *read_stdin_line(void) {
        static char buf[8192];
        if (!fgets(buf, sizeof(buf), stdin))
                return NULL;
        buf[strcspn(buf, "\r\n")] = '\0';
        return buf;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: keystone_call CONF KIND ARGS...\n");
                return 2;
        }
        char err[512];
        struct config *c;
        struct keystone *ks;
        if (config_load(argv[1], &c, err, sizeof(err)) < 0 || loop_new(&loop) < 0 ||
            keystone_new(loop, c, &ks, err, sizeof(err)) < 0) {
                fprintf(stderr, "keystone_call: %s\n", err);
                return 2;
        }
        const char *kind = argv[2];
        int r = -EINVAL;
        if ((strcmp(kind, "password") == 0 || strcmp(kind, "password-id") == 0) && argc == 5) {
                char *pw = read_stdin_line();
                r = keystone_check_password(ks, argv[3], argv[4], kind[8] == '-', pw ? pw : "", on_done, NULL, NULL);
        } else if (strcmp(kind, "token") == 0 && argc == 3) {
                char *tok = read_stdin_line();
                r = keystone_check_token(ks, tok ? tok : "", on_done, NULL, NULL);
        } else if (strcmp(kind, "user") == 0 && argc == 4) {
                r = keystone_get_user(ks, argv[3], on_done, NULL, NULL);
        } else if (strcmp(kind, "find") == 0 && argc == 5) {
                r = keystone_find_user(ks, argv[3], argv[4], on_done, NULL, NULL);
        } else if (strcmp(kind, "roles") == 0 && argc == 4) {
                r = keystone_list_roles(ks, argv[3], on_done, NULL, NULL);
        } else if (strcmp(kind, "domain") == 0 && argc == 4) {
                r = keystone_get_domain(ks, argv[3], on_done, NULL, NULL);
        }
        if (r < 0) {
                printf("{\"status\": %d, \"start_failed\": true}\n", r);
                return 0;
        }
        (void)loop_timer_add(loop, loop_now_usec() + 60000000u, on_timeout, NULL, NULL);
        r = loop_run(loop);
        keystone_free(ks);
        loop_free(loop);
        config_free(c);
        return r;
}
