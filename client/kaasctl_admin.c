/* kaasctl commands about kaasd itself: status (io.kaas.Admin.Status), raw
 * varlink calls, and introspection (org.varlink.service). They are
 * top-level verbs: kaasctl status, kaasctl call, kaasctl introspect. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kaasctl.h"
#include "kaasctl_output.h"

/* ------------------------------------------------------------- status */

static void format_duration(char *buf, size_t size, json_int_t sec) {
        if (sec < 0)
                sec = 0;
        json_int_t d = sec / 86400, h = sec / 3600 % 24, m = sec / 60 % 60, s = sec % 60;
        if (d > 0)
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT "d %" JSON_INTEGER_FORMAT "h %" JSON_INTEGER_FORMAT "min", d, h, m);
        else if (h > 0)
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT "h %" JSON_INTEGER_FORMAT "min %" JSON_INTEGER_FORMAT "s", h, m, s);
        else if (m > 0)
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT "min %" JSON_INTEGER_FORMAT "s", m, s);
        else
                snprintf(buf, size, "%" JSON_INTEGER_FORMAT "s", s);
}

static json_int_t get_int(json_t *o, const char *key) {
        return json_integer_value(json_object_get(o, key));
}

/* Fields shown by name; any other field kaasd adds later is still shown,
 * generically, so a newer kaasd never hides information. */
static bool is_known_status_field(const char *key) {
        static const char *const known[] = {
                "version", "uptime_seconds", "connections", "connections_total", "connections_refused",
                "calls", "errors", "calls_in_flight", "methods",
        };
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (strcmp(key, known[i]) == 0)
                        return true;
        return false;
}

/* "connections_refused" -> "Connections refused" */
static void field_label(char *buf, size_t size, const char *key) {
        snprintf(buf, size, "%s:", key);
        for (char *p = buf; *p; p++)
                if (*p == '_')
                        *p = ' ';
        if (buf[0] >= 'a' && buf[0] <= 'z')
                buf[0] = (char)(buf[0] - 'a' + 'A');
}

/* A field this kaasctl does not know: "Label: value", objects as an
 * indented block of their fields. */
static int add_generic_field(struct kaasctl_table *t, const char *key, json_t *v, unsigned depth) {
        char label[160];
        field_label(label, sizeof(label), key);
        int r = depth ? kaasctl_table_addf(t, "%*s%s:", (int)depth * 2, "", key) : kaasctl_table_add(t, label);
        if (r < 0)
                return r;
        if (!json_is_object(v) || depth >= 3)
                return kaasctl_table_add_json(t, v);
        if ((r = kaasctl_table_add(t, "")) < 0)
                return r;
        const char *k;
        json_t *sub;
        json_object_foreach(v, k, sub)
                if ((r = add_generic_field(t, k, sub, depth + 1)) < 0)
                        return r;
        return 0;
}

static int print_status(json_t *st) {
        KAASCTL_TABLE_AUTO struct kaasctl_table *t = kaasctl_table_new(2, NULL);
        if (!t)
                return -ENOMEM;
        char uptime[64];
        format_duration(uptime, sizeof(uptime), get_int(st, "uptime_seconds"));
        int r;
        if ((r = kaasctl_table_add(t, "Version:")) < 0 ||
            (r = kaasctl_table_add_json(t, json_object_get(st, "version"))) < 0 ||
            (r = kaasctl_table_add(t, "Uptime:")) < 0 || (r = kaasctl_table_add(t, uptime)) < 0 ||
            (r = kaasctl_table_add(t, "Connections:")) < 0 ||
            (r = kaasctl_table_addf(t, "%" JSON_INTEGER_FORMAT " open, %" JSON_INTEGER_FORMAT " total, %" JSON_INTEGER_FORMAT " refused",
                                    get_int(st, "connections"), get_int(st, "connections_total"),
                                    get_int(st, "connections_refused"))) < 0 ||
            (r = kaasctl_table_add(t, "Calls:")) < 0)
                return r;
        /* errors are shown to administrators only (null otherwise) */
        if (json_is_integer(json_object_get(st, "errors")))
                r = kaasctl_table_addf(t, "%" JSON_INTEGER_FORMAT " total, %" JSON_INTEGER_FORMAT " errors, %" JSON_INTEGER_FORMAT " in flight",
                                       get_int(st, "calls"), get_int(st, "errors"), get_int(st, "calls_in_flight"));
        else
                r = kaasctl_table_addf(t, "%" JSON_INTEGER_FORMAT " total, %" JSON_INTEGER_FORMAT " in flight",
                                       get_int(st, "calls"), get_int(st, "calls_in_flight"));
        if (r < 0)
                return r;
        const char *key;
        json_t *v;
        json_object_foreach(st, key, v) {
                if (!is_known_status_field(key) && (r = add_generic_field(t, key, v, 0)) < 0)
                        return r;
        }
        kaasctl_table_print(t, stdout);

        json_t *methods = json_object_get(st, "methods");
        if (json_array_size(methods) == 0)
                return 0;
        static const char *const headers[] = { "METHOD", "CALLS", "ERRORS" };
        KAASCTL_TABLE_AUTO struct kaasctl_table *m = kaasctl_table_new(3, headers);
        if (!m)
                return -ENOMEM;
        kaasctl_table_align_right(m, 1);
        kaasctl_table_align_right(m, 2);
        size_t i;
        json_array_foreach(methods, i, v) {
                if ((r = kaasctl_table_add_json(m, json_object_get(v, "method"))) < 0 ||
                    (r = kaasctl_table_addf(m, "%" JSON_INTEGER_FORMAT, get_int(v, "calls"))) < 0 ||
                    (r = json_is_integer(json_object_get(v, "errors"))
                                 ? kaasctl_table_addf(m, "%" JSON_INTEGER_FORMAT, get_int(v, "errors"))
                                 : kaasctl_table_add(m, "-")) < 0)
                        return r;
        }
        fputc('\n', stdout);
        kaasctl_table_print(m, stdout);
        return 0;
}

static int cmd_status(struct kaasctl *ctx, int argc, char **argv) {
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r = kaasctl_call(ctx, "io.kaas.Admin.Status", NULL, &reply);
        if (r != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        if ((r = print_status(reply)) < 0) {
                kaasctl_log("%s", kaas_strerror(r));
                return KAASCTL_EXIT_LOCAL;
        }
        return KAASCTL_EXIT_OK;
}

/* --------------------------------------------------------------- call */

/* Prints one reply of a streamed call; on a failed write it stores errno
 * in *userdata and stops the stream. */
static int print_reply(json_t *parameters, bool continues, void *userdata) {
        int *write_error = userdata;
        kaasctl_print_json(stdout, parameters);
        /* a stream can be long: show each reply as it comes */
        if (fflush(stdout) != 0) {
                *write_error = errno;
                return -ECANCELED;
        }
        return 0;
}

static int parse_parameters(const char *arg, json_t **ret) {
        json_error_t err;
        json_t *v = strcmp(arg, "-") == 0 ? json_loadf(stdin, JSON_REJECT_DUPLICATES, &err)
                                          : json_loads(arg, JSON_REJECT_DUPLICATES, &err);
        if (!v)
                return kaasctl_usage_error("invalid JSON parameters: %s (at %d:%d)", err.text, err.line, err.column);
        if (!json_is_object(v)) {
                json_decref(v);
                return kaasctl_usage_error("parameters must be a JSON object, such as '{\"interface\":\"io.kaas.Admin\"}'");
        }
        *ret = v;
        return 0;
}

static int cmd_call(struct kaasctl *ctx, int argc, char **argv) {
        const char *method = argv[0];
        bool more = kaasctl_flag(ctx, "more"), oneway = kaasctl_flag(ctx, "oneway");
        if (more && oneway)
                return kaasctl_usage_error("--more and --oneway exclude each other");
        KAASCTL_JSON_AUTO json_t *parameters = NULL;
        int r;
        if (argc > 1 && (r = parse_parameters(argv[1], &parameters)) != 0)
                return r;
        if ((r = kaasctl_connect(ctx)) != 0)
                return r;

        struct kaas_error e = KAAS_ERROR_INIT;
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int write_error = 0;
        if (oneway)
                r = kaas_call_oneway(ctx->client, method, parameters);
        else if (more)
                r = kaas_call_more(ctx->client, method, parameters, print_reply, &write_error, &e);
        else if ((r = kaas_call(ctx->client, method, parameters, &reply, &e)) == 0)
                kaasctl_print_json(stdout, reply);
        if (write_error) {
                kaasctl_log("cannot write the output: %s", strerror(write_error));
                return KAASCTL_EXIT_LOCAL;
        }
        if (r < 0)
                r = kaasctl_report_failure(ctx, r, &e, true);
        kaas_error_clear(&e);
        return r;
}

/* --------------------------------------------------------- introspect */

static int cmd_introspect(struct kaasctl *ctx, int argc, char **argv) {
        KAASCTL_JSON_AUTO json_t *reply = NULL;
        int r;
        if (argc == 0) {
                if ((r = kaasctl_call(ctx, "org.varlink.service.GetInfo", NULL, &reply)) != 0)
                        return r;
                if (ctx->json) {
                        kaasctl_print_json(stdout, reply);
                        return KAASCTL_EXIT_OK;
                }
                size_t i;
                json_t *v;
                json_array_foreach(json_object_get(reply, "interfaces"), i, v)
                        if (json_is_string(v)) {
                                kaasctl_put(stdout, json_string_value(v), false);
                                fputc('\n', stdout);
                        }
                return KAASCTL_EXIT_OK;
        }

        KAASCTL_JSON_AUTO json_t *params = json_pack("{s:s}", "interface", argv[0]);
        if (!params) {
                kaasctl_log("out of memory");
                return KAASCTL_EXIT_LOCAL;
        }
        if ((r = kaasctl_call(ctx, "org.varlink.service.GetInterfaceDescription", params, &reply)) != 0)
                return r;
        if (ctx->json) {
                kaasctl_print_json(stdout, reply);
                return KAASCTL_EXIT_OK;
        }
        const char *text = json_string_value(json_object_get(reply, "description"));
        if (!text) {
                kaasctl_log("kaasd sent no interface description");
                return KAASCTL_EXIT_LOCAL;
        }
        /* the text kaasd checks calls against, but for terminal controls */
        kaasctl_put(stdout, text, true);
        size_t len = strlen(text);
        if (len > 0 && text[len - 1] != '\n')
                fputc('\n', stdout);
        return KAASCTL_EXIT_OK;
}

/* -------------------------------------------------------------- table */

static const struct kaasctl_option call_options[] = {
        { "more", NULL, "accept several replies, printing each as it arrives" },
        { "oneway", NULL, "send the call without waiting for a reply" },
        { NULL, NULL, NULL },
};

static const struct kaasctl_command admin_commands[] = {
        { "status", "", "Show kaasd's version, uptime and call counters", 0, 0, NULL, cmd_status },
        { "call", "METHOD [JSON]", "Call a varlink method and print its reply", 1, 2,
          call_options, cmd_call },
        { "introspect", "[INTERFACE]", "List kaasd's interfaces, or print one's definition", 0, 1, NULL, cmd_introspect },
};

const struct kaasctl_group kaasctl_admin_group = {
        .name = NULL,
        .summary = "Commands",
        .commands = admin_commands,
        .n_commands = sizeof(admin_commands) / sizeof(admin_commands[0]),
};
