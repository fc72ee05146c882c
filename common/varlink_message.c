/* varlink call and reply envelopes; see varlink_message.h. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "varlink_message.h"

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* Interface names as the varlink spec defines them:
 * [A-Za-z]([-]*[A-Za-z0-9])*(\.[A-Za-z0-9]([-]*[A-Za-z0-9])*)+ */
bool vl_interface_name_valid(const char *name) {
        size_t len = strlen(name);
        if (len == 0 || len > VL_NAME_MAX)
                return false;
        unsigned labels = 0;
        const char *p = name;
        for (;;) {
                bool letter = is_lower(*p) || is_upper(*p);
                if (!letter && !(labels > 0 && is_digit(*p)))
                        return false;
                p++;
                while (is_lower(*p) || is_upper(*p) || is_digit(*p) || *p == '-')
                        p++;
                if (p[-1] == '-')
                        return false;
                labels++;
                if (*p == '\0')
                        break;
                if (*p != '.')
                        return false;
                p++;
        }
        return labels >= 2;
}

bool vl_member_name_valid(const char *name) {
        if (!is_upper(name[0]))
                return false;
        size_t i;
        for (i = 1; name[i]; i++)
                if (!is_lower(name[i]) && !is_upper(name[i]) && !is_digit(name[i]))
                        return false;
        return i <= VL_NAME_MAX;
}

int vl_method_split(const char *method, char iface[static VL_NAME_MAX + 1],
                    const char **ret_member) {
        const char *dot = strrchr(method, '.');
        if (!dot || (size_t)(dot - method) > VL_NAME_MAX)
                return -EINVAL;
        memcpy(iface, method, (size_t)(dot - method));
        iface[dot - method] = '\0';
        if (!vl_interface_name_valid(iface) || !vl_member_name_valid(dot + 1))
                return -EINVAL;
        *ret_member = dot + 1;
        return 0;
}

static int optional_bool(json_t *msg, const char *key, bool *ret) {
        json_t *v = json_object_get(msg, key);
        if (!v) {
                *ret = false;
                return 0;
        }
        if (!json_is_boolean(v))
                return -EBADMSG;
        *ret = json_is_true(v);
        return 0;
}

/* The parameters member must be an object, or absent or null: both mean
 * "no parameters" (the varlink reference library in Go sends null for a
 * method without parameters). */
static bool parameters_valid(json_t *msg) {
        json_t *p = json_object_get(msg, "parameters");
        return !p || json_is_null(p) || json_is_object(p);
}

static json_t *parameters_or_empty(json_t *msg, const char *key) {
        json_t *p = json_object_get(msg, key);
        if (json_is_object(p))
                return p;
        /* absent or null: store an empty object in the message (replacing
         * the null) so the borrowed pointer stays valid */
        p = json_object();
        if (!p || json_object_set_new(msg, key, p) < 0)
                return NULL;
        return p;
}

int vl_call_parse(json_t *msg, struct vl_call *ret, const char **ret_field) {
        static const char *const allowed[] = { "method", "parameters", "more", "oneway", "upgrade" };
        const char *key;
        json_t *value;
        json_object_foreach(msg, key, value) {
                bool ok = false;
                for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
                        if (strcmp(key, allowed[i]) == 0)
                                ok = true;
                if (!ok) {
                        *ret_field = "message";
                        return -EBADMSG;
                }
        }
        struct vl_call c = { 0 };
        json_t *m = json_object_get(msg, "method");
        if (!json_is_string(m)) {
                *ret_field = "method";
                return -EBADMSG;
        }
        c.method = json_string_value(m);
        if (!parameters_valid(msg)) {
                *ret_field = "parameters";
                return -EBADMSG;
        }
        if (optional_bool(msg, "more", &c.more) < 0) {
                *ret_field = "more";
                return -EBADMSG;
        }
        if (optional_bool(msg, "oneway", &c.oneway) < 0) {
                *ret_field = "oneway";
                return -EBADMSG;
        }
        if (optional_bool(msg, "upgrade", &c.upgrade) < 0) {
                *ret_field = "upgrade";
                return -EBADMSG;
        }
        if (c.more && c.oneway) {
                *ret_field = "oneway";
                return -EBADMSG;
        }
        c.parameters = parameters_or_empty(msg, "parameters");
        if (!c.parameters)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int vl_reply_parse(json_t *msg, struct vl_reply *ret) {
        struct vl_reply r = { 0 };
        json_t *e = json_object_get(msg, "error");
        if (e) {
                if (!json_is_string(e))
                        return -EBADMSG;
                r.error = json_string_value(e);
        }
        if (!parameters_valid(msg))
                return -EBADMSG;
        if (optional_bool(msg, "continues", &r.continues) < 0)
                return -EBADMSG;
        r.parameters = parameters_or_empty(msg, "parameters");
        if (!r.parameters)
                return -ENOMEM;
        *ret = r;
        return 0;
}

json_t *vl_call_new(const char *method, json_t *parameters, bool more, bool oneway) {
        json_t *m = json_object();
        if (!m) {
                json_decref(parameters);
                return NULL;
        }
        if (json_object_set_new(m, "method", json_string(method)) < 0 ||
            json_object_set_new(m, "parameters", parameters ? parameters : json_object()) < 0 ||
            (more && json_object_set_new(m, "more", json_true()) < 0) ||
            (oneway && json_object_set_new(m, "oneway", json_true()) < 0)) {
                json_decref(m);
                return NULL;
        }
        return m;
}

json_t *vl_reply_new(json_t *parameters, bool continues) {
        json_t *m = json_object();
        if (!m) {
                json_decref(parameters);
                return NULL;
        }
        if (json_object_set_new(m, "parameters", parameters ? parameters : json_object()) < 0 ||
            (continues && json_object_set_new(m, "continues", json_true()) < 0)) {
                json_decref(m);
                return NULL;
        }
        return m;
}

json_t *vl_error_new(const char *error, json_t *parameters) {
        json_t *m = json_object();
        if (!m) {
                json_decref(parameters);
                return NULL;
        }
        if (json_object_set_new(m, "error", json_string(error)) < 0 ||
            json_object_set_new(m, "parameters", parameters ? parameters : json_object()) < 0) {
                json_decref(m);
                return NULL;
        }
        return m;
}

void vl_json_wipe(json_t *v) {
        if (!v || v->refcount != 1)
                return;
        switch (json_typeof(v)) {
        case JSON_STRING:
                /* jansson owns the buffer; zeroing it in place before the
                 * value is freed is the only way to erase it */
                explicit_bzero((char *)json_string_value(v), json_string_length(v));
                break;
        case JSON_OBJECT: {
                const char *key;
                json_t *member;
                json_object_foreach(v, key, member)
                        vl_json_wipe(member);
                break;
        }
        case JSON_ARRAY: {
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e)
                        vl_json_wipe(e);
                break;
        }
        default:
                break;
        }
}
