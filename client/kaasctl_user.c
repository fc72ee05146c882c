/* kaasctl user commands (io.kaas.Identity): show a Keystone user as kaasd
 * knows it — roles with their scope, projects, the clusters the user
 * administers, and whether the answer came from kaasd's cache. Depends on
 * kaasctl.h, kaasctl_output.h and kaasctl_token.h (error messages). */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kaasctl.h"
#include "kaasctl_output.h"
#include "kaasctl_token.h"

/* Keystone generates user IDs as 32 lowercase hex digits (uuid4 hex). */
static bool looks_like_user_id(const char *s) {
        if (strlen(s) != 32)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static const char *str(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        return s && *s ? s : NULL;
}

/* "project demo (Default)", "domain Default", "system" */
static int add_scope_cell(struct kaasctl_table *t, json_t *role) {
        const char *scope = str(role, "scope");
        if (scope && strcmp(scope, "project") == 0) {
                const char *p = str(role, "project_name") ? str(role, "project_name") : str(role, "project_id");
                const char *dn = str(role, "domain_name") ? str(role, "domain_name") : str(role, "domain_id");
                return dn ? kaasctl_table_addf(t, "project %s (%s)", p ? p : "?", dn)
                          : kaasctl_table_addf(t, "project %s", p ? p : "?");
        }
        if (scope && strcmp(scope, "domain") == 0) {
                const char *dn = str(role, "domain_name") ? str(role, "domain_name") : str(role, "domain_id");
                return kaasctl_table_addf(t, "domain %s", dn ? dn : "?");
        }
        return kaasctl_table_add(t, scope ? scope : "-");
}

static int add_list_cell(struct kaasctl_table *t, json_t *array) {
        if (json_array_size(array) == 0)
                return kaasctl_table_add(t, "-");
        char buf[1024] = "";
        size_t len = 0, i;
        json_t *v;
        json_array_foreach(array, i, v) {
                int n = snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? ", " : "",
                                 json_is_string(v) ? json_string_value(v) : "?");
                if (n < 0 || (size_t)n >= sizeof(buf) - len)
                        break;
                len += (size_t)n;
        }
        return kaasctl_table_add(t, buf);
}

static int print_user(json_t *u) {
        KAASCTL_TABLE_AUTO struct kaasctl_table *t = kaasctl_table_new(2, NULL);
        if (!t)
                return -ENOMEM;
        char fetched[64];
        kaasctl_format_time(fetched, sizeof(fetched), json_integer_value(json_object_get(u, "fetched_at")));
        const char *dn = str(u, "domain_name"), *did = str(u, "domain_id");
        const char *source = str(u, "source");
        int r;
        if ((r = kaasctl_table_add(t, "ID:")) < 0 || (r = kaasctl_table_add_json(t, json_object_get(u, "id"))) < 0 ||
            (r = kaasctl_table_add(t, "Name:")) < 0 ||
            (r = kaasctl_table_add_json(t, json_object_get(u, "name"))) < 0 ||
            (r = kaasctl_table_add(t, "Domain:")) < 0 ||
            (r = kaasctl_table_addf(t, "%s (%s)", dn ? dn : "?", did ? did : "?")) < 0 ||
            (r = kaasctl_table_add(t, "Enabled:")) < 0 ||
            (r = kaasctl_table_add(t, json_is_true(json_object_get(u, "enabled")) ? "yes" : "NO (disabled in Keystone)")) < 0 ||
            (r = kaasctl_table_add(t, "Admin of clusters:")) < 0 ||
            (r = add_list_cell(t, json_object_get(u, "admin_of_clusters"))) < 0 ||
            (r = kaasctl_table_add(t, "Source:")) < 0 ||
            (r = kaasctl_table_addf(t, "%s (read from Keystone %s)",
                                    source && strcmp(source, "cache") == 0 ? "kaasd's cache" : "keystone", fetched)) < 0)
                return r;
        kaasctl_table_print(t, stdout);

        size_t i;
        json_t *v;
        json_t *roles = json_object_get(u, "roles");
        fputs("\nRoles:\n", stdout);
        if (json_array_size(roles) == 0) {
                fputs("  (none)\n", stdout);
        } else {
                static const char *const headers[] = { "ROLE", "ID", "SCOPE" };
                KAASCTL_TABLE_AUTO struct kaasctl_table *rt = kaasctl_table_new(3, headers);
                if (!rt)
                        return -ENOMEM;
                json_array_foreach(roles, i, v) {
                        if ((r = kaasctl_table_add_json(rt, json_object_get(v, "name"))) < 0 ||
                            (r = kaasctl_table_add_json(rt, json_object_get(v, "id"))) < 0 ||
                            (r = add_scope_cell(rt, v)) < 0)
                                return r;
                }
                kaasctl_table_print(rt, stdout);
        }

        json_t *projects = json_object_get(u, "projects");
        fputs("\nProjects:\n", stdout);
        if (json_array_size(projects) == 0) {
                fputs("  (none)\n", stdout);
                return 0;
        }
        static const char *const pheaders[] = { "PROJECT", "ID", "DOMAIN" };
        KAASCTL_TABLE_AUTO struct kaasctl_table *pt = kaasctl_table_new(3, pheaders);
        if (!pt)
                return -ENOMEM;
        json_array_foreach(projects, i, v) {
                const char *pdn = str(v, "domain_name") ? str(v, "domain_name") : str(v, "domain_id");
                if ((r = kaasctl_table_add_json(pt, json_object_get(v, "name"))) < 0 ||
                    (r = kaasctl_table_add_json(pt, json_object_get(v, "id"))) < 0 ||
                    (r = kaasctl_table_add(pt, pdn ? pdn : "-")) < 0)
                        return r;
        }
        kaasctl_table_print(pt, stdout);
        return 0;
}

static int cmd_show(struct kaasctl *ctx, int argc, char **argv) {
        const char *who = argv[0], *domain = kaasctl_option(ctx, "domain");
        /* an ID-shaped argument is asked as an ID first, then as a name */
        bool by_id = !domain && looks_like_user_id(who);
        KAASCTL_JSON_AUTO json_t *params = json_pack("{s:s}", by_id ? "id" : "name", who);
        if (!params || (domain && json_object_set_new(params, "domain", json_string(domain)) < 0))
                return kaasctl_usage_error("the user and the domain must be UTF-8 text");
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        bool not_found = false;
        int r = kaasctl_call_explained(ctx, "io.kaas.Identity.GetUser", params, &reply,
                                       by_id ? "io.kaas.Identity.UserNotFound" : NULL, &not_found);
        if (not_found) {
                json_object_del(params, "id");
                if (json_object_set_new(params, "name", json_string(who)) < 0) {
                        kaasctl_log("out of memory");
                        return KAASCTL_EXIT_LOCAL;
                }
                r = kaasctl_call_explained(ctx, "io.kaas.Identity.GetUser", params, &reply, NULL, NULL);
        }
        if (r != 0)
                return r;
        json_t *user = json_object_get(reply, "user");
        if (ctx->json) {
                kaasctl_print_json(stdout, user);
                return KAASCTL_EXIT_OK;
        }
        if (print_user(user) < 0) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        return KAASCTL_EXIT_OK;
}

static const struct kaasctl_option show_options[] = {
        { "domain", "DOMAIN", "the domain of NAME, by name or ID (default: Default)" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command user_commands[] = {
        { "show", "NAME|ID", "Show a Keystone user: roles, projects, clusters administered", 1, 1, show_options,
          cmd_show },
};

const struct kaasctl_group kaasctl_user_group = {
        .name = "user",
        .summary = "Keystone users (io.kaas.Identity)",
        .commands = user_commands,
        .n_commands = sizeof(user_commands) / sizeof(user_commands[0]),
};
