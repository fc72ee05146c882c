/* TokenReview parsing and rendering; see tokenreview.h. Depends on jansson
 * and libc only. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_values.h"
#include "tokenreview.h"

#define ROLES_EXTRA_KEY "alpha.kubernetes.io/identity/roles"
#define RESERVED_PREFIX "system:"

static int fail(int r, char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(int r, char *err, size_t err_size, const char *fmt, ...) {
        if (err && err_size) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err, err_size, fmt, ap);
                va_end(ap);
        }
        return r;
}

const char *tokenreview_api_version(enum tokenreview_version v) {
        return v == TOKENREVIEW_V1BETA1 ? TOKENREVIEW_API_V1BETA1 : TOKENREVIEW_API_V1;
}

/* jansson's own messages quote the text near the error, which may be part
 * of the token: say what kind of error it is and where, nothing more. */
static const char *json_error_kind(const json_error_t *e) {
        switch (json_error_code(e)) {
        case json_error_premature_end_of_input:
                return "unexpected end of input";
        case json_error_end_of_input_expected:
                return "text after the JSON value";
        case json_error_invalid_utf8:
                return "invalid UTF-8";
        case json_error_null_character:
        case json_error_null_byte_in_key:
                return "NUL character";
        case json_error_duplicate_key:
                return "duplicate object key";
        case json_error_wrong_type:
                return "not a JSON object";
        case json_error_stack_overflow:
                return "nested too deeply";
        case json_error_out_of_memory:
                return "out of memory";
        default:
                return "invalid JSON";
        }
}

int tokenreview_parse(const char *body, size_t len, struct tokenreview_request *ret, char *err, size_t err_size) {
        if (body && json_values_exceed(body, len, TOKENREVIEW_MAX_VALUES))
                return fail(-EINVAL, err, err_size, "more than %d JSON values", TOKENREVIEW_MAX_VALUES);
        json_error_t je;
        json_t *root = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, &je);
        if (!root) {
                if (json_error_code(&je) == json_error_out_of_memory)
                        return fail(-ENOMEM, err, err_size, "out of memory");
                return fail(-EINVAL, err, err_size, "malformed JSON: %s at line %d, column %d", json_error_kind(&je),
                            je.line, je.column);
        }
        struct tokenreview_request r = { .root = root };
        int rc = -EINVAL;
        if (!json_is_object(root)) {
                fail(rc, err, err_size, "the body is not a JSON object");
                goto bad;
        }
        json_t *kind = json_object_get(root, "kind");
        json_t *api = json_object_get(root, "apiVersion");
        if (!json_is_string(kind) || strcmp(json_string_value(kind), TOKENREVIEW_KIND) != 0) {
                fail(rc, err, err_size, "kind must be \"" TOKENREVIEW_KIND "\"");
                goto bad;
        }
        if (!json_is_string(api)) {
                fail(rc, err, err_size, "apiVersion must be \"" TOKENREVIEW_API_V1 "\" or \"" TOKENREVIEW_API_V1BETA1 "\"");
                goto bad;
        }
        if (strcmp(json_string_value(api), TOKENREVIEW_API_V1) == 0)
                r.version = TOKENREVIEW_V1;
        else if (strcmp(json_string_value(api), TOKENREVIEW_API_V1BETA1) == 0)
                r.version = TOKENREVIEW_V1BETA1;
        else {
                fail(rc, err, err_size, "apiVersion must be \"" TOKENREVIEW_API_V1 "\" or \"" TOKENREVIEW_API_V1BETA1 "\"");
                goto bad;
        }
        json_t *spec = json_object_get(root, "spec");
        if (!json_is_object(spec)) {
                fail(rc, err, err_size, spec && !json_is_null(spec) ? "spec must be an object" : "spec.token is missing");
                goto bad;
        }
        json_t *token = json_object_get(spec, "token");
        if (!token || json_is_null(token)) {
                fail(rc, err, err_size, "spec.token is missing");
                goto bad;
        }
        if (!json_is_string(token)) {
                fail(rc, err, err_size, "spec.token must be a string");
                goto bad;
        }
        if (json_string_length(token) == 0) {
                fail(rc, err, err_size, "spec.token is empty");
                goto bad;
        }
        r.token = json_string_value(token);
        r.token_len = json_string_length(token);

        json_t *auds = json_object_get(spec, "audiences");
        if (auds && !json_is_null(auds)) {
                if (!json_is_array(auds)) {
                        fail(rc, err, err_size, "spec.audiences must be an array of strings");
                        goto bad;
                }
                if (json_array_size(auds) > TOKENREVIEW_MAX_AUDIENCES) {
                        fail(rc, err, err_size, "spec.audiences has more than %d entries", TOKENREVIEW_MAX_AUDIENCES);
                        goto bad;
                }
                size_t i;
                json_t *a;
                json_array_foreach(auds, i, a) {
                        if (!json_is_string(a)) {
                                fail(rc, err, err_size, "spec.audiences[%zu] must be a string", i);
                                goto bad;
                        }
                        if (json_string_length(a) > TOKENREVIEW_MAX_AUDIENCE_LENGTH) {
                                fail(rc, err, err_size, "spec.audiences[%zu] is longer than %d bytes", i,
                                     TOKENREVIEW_MAX_AUDIENCE_LENGTH);
                                goto bad;
                        }
                        /* an audience with a NUL inside could not be compared as a C string */
                        if (strlen(json_string_value(a)) != json_string_length(a)) {
                                fail(rc, err, err_size, "spec.audiences[%zu] contains a NUL character", i);
                                goto bad;
                        }
                        r.audiences[r.n_audiences++] = json_string_value(a);
                }
        }
        *ret = r;
        return 0;
bad:
        tokenreview_request_clear(&r);
        return rc;
}

void tokenreview_request_clear(struct tokenreview_request *r) {
        if (!r)
                return;
        /* jansson owns the buffer: erasing it in place is the only way */
        if (r->token)
                explicit_bzero((char *)r->token, r->token_len);
        else if (r->root) {
                /* a request refused before its token was taken may still hold one */
                json_t *tok = json_object_get(json_object_get(r->root, "spec"), "token");
                if (json_is_string(tok))
                        explicit_bzero((char *)json_string_value(tok), json_string_length(tok));
        }
        json_decref(r->root);
        memset(r, 0, sizeof(*r));
}

bool tokenreview_match_audiences(const struct tokenreview_request *req, const char *const *accepted,
                                 size_t n_accepted, const char *ret[static TOKENREVIEW_MAX_AUDIENCES],
                                 size_t *ret_n) {
        *ret_n = 0;
        if (n_accepted == 0 || req->n_audiences == 0)
                return true;
        size_t n = 0;
        for (size_t i = 0; i < req->n_audiences && i < TOKENREVIEW_MAX_AUDIENCES; i++) {
                const char *a = req->audiences[i];
                bool ok = false, seen = false;
                for (size_t j = 0; j < n_accepted && !ok; j++)
                        ok = accepted[j] && strcmp(a, accepted[j]) == 0;
                for (size_t j = 0; j < n && !seen; j++)
                        seen = strcmp(a, ret[j]) == 0;
                if (ok && !seen)
                        ret[n++] = a;
        }
        *ret_n = n;
        return n > 0;
}

static bool is_reserved(const char *name) {
        return strncmp(name, RESERVED_PREFIX, strlen(RESERVED_PREFIX)) == 0;
}

/* Appends prefix+name to groups unless already there. A name in
 * Kubernetes' reserved "system:" space, before or after the prefix, is
 * dropped: a Keystone role called "system:masters" must not make its
 * holders cluster administrators. */
static int add_group(json_t *groups, const char *prefix, const char *name) {
        size_t plen = prefix ? strlen(prefix) : 0, nlen = strlen(name);
        char buf[1024];
        if (plen + nlen >= sizeof(buf))
                return -EBADMSG;
        memcpy(buf, prefix ? prefix : "", plen);
        memcpy(buf + plen, name, nlen + 1);
        if (is_reserved(name) || is_reserved(buf))
                return 0;
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
                if (strcmp(json_string_value(g), buf) == 0)
                        return 0;
        return json_array_append_new(groups, json_string(buf)) < 0 ? -ENOMEM : 0;
}

static bool is_string_array(const json_t *a) {
        if (!json_is_array(a))
                return false;
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
                if (!json_is_string(e) || strlen(json_string_value(e)) != json_string_length(e))
                        return false;
        return true;
}

static bool is_plain_string(const json_t *s) {
        return json_is_string(s) && strlen(json_string_value(s)) == json_string_length(s);
}

int tokenreview_user_from_identity(const json_t *identity, const struct tokenreview_user_options *o, json_t **ret,
                                   char *err, size_t err_size) {
        if (!json_is_object(identity))
                return fail(-EBADMSG, err, err_size, "the identity is not an object");
        const json_t *username = json_object_get(identity, "username");
        const json_t *uid = json_object_get(identity, "uid");
        const json_t *groups = json_object_get(identity, "groups");
        const json_t *extra = json_object_get(identity, "extra");
        if (!is_plain_string(username) || !is_plain_string(uid) || json_string_length(uid) == 0)
                return fail(-EBADMSG, err, err_size, "the identity lacks a username or uid");
        if (groups && !is_string_array(groups))
                return fail(-EBADMSG, err, err_size, "the identity's groups are not an array of strings");
        if (extra && !json_is_null(extra)) {
                if (!json_is_object(extra))
                        return fail(-EBADMSG, err, err_size, "the identity's extra is not an object");
                const char *k;
                json_t *v;
                json_object_foreach((json_t *)extra, k, v)
                        if (!is_string_array(v))
                                return fail(-EBADMSG, err, err_size, "the identity's extra values are not arrays of strings");
        } else
                extra = NULL;
        const char *name = json_string_value(username);
        if (!*name)
                return fail(-EPERM, err, err_size, "the user name is empty");
        if (is_reserved(name))
                return fail(-EPERM, err, err_size, "user names starting with \"" RESERVED_PREFIX "\" are reserved");

        json_t *out_groups = json_array();
        json_t *out_extra = extra ? json_deep_copy(extra) : NULL;
        json_t *user = NULL;
        int r = -ENOMEM;
        if (!out_groups || (extra && !out_extra))
                goto out;
        size_t i;
        json_t *g;
        if (groups)
                json_array_foreach(groups, i, g)
                        if ((r = add_group(out_groups, o->group_prefix, json_string_value(g))) < 0)
                                goto out;
        const json_t *roles = extra ? json_object_get(extra, ROLES_EXTRA_KEY) : NULL;
        if (o->role_names && roles)
                json_array_foreach(roles, i, g)
                        if ((r = add_group(out_groups, o->group_prefix, json_string_value(g))) < 0)
                                goto out;
        user = json_pack("{s:s, s:s, s:O}", "username", name, "uid", json_string_value(uid), "groups", out_groups);
        if (!user || (out_extra && json_object_set(user, "extra", out_extra) < 0)) {
                r = -ENOMEM;
                goto out;
        }
        *ret = user;
        user = NULL;
        r = 0;
out:
        if (r == -EBADMSG)
                fail(r, err, err_size, "a group name is too long");
        else if (r == -ENOMEM)
                fail(r, err, err_size, "out of memory");
        json_decref(user);
        json_decref(out_groups);
        json_decref(out_extra);
        return r;
}

static char *dump(json_t *j, size_t *ret_len) {
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        if (s)
                *ret_len = strlen(s);
        return s;
}

char *tokenreview_render(enum tokenreview_version v, const struct tokenreview_status *st, size_t *ret_len) {
        json_t *status = json_pack("{s:b}", "authenticated", st->authenticated && st->user);
        /* an empty spec: typed clients need one, and nothing of the request
         * comes back, so neither the token nor a token a client put in
         * another field by mistake (spec.audiences) reaches the logs and
         * caches replies go to */
        json_t *spec = json_object();
        json_t *reply = status && spec ? json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", tokenreview_api_version(v),
                                                   "kind", TOKENREVIEW_KIND, "spec", spec, "status", status)
                                       : NULL;
        if (!reply) {
                if (!status || !spec) {
                        json_decref(status);
                        json_decref(spec);
                }
                return NULL;
        }
        if (st->authenticated && st->user &&
            json_object_set_new(status, "user", json_deep_copy(st->user)) < 0)
                goto oom;
        if (st->authenticated && st->user && st->n_audiences > 0) {
                json_t *a = json_array();
                if (json_object_set_new(status, "audiences", a) < 0)
                        goto oom;
                for (size_t i = 0; i < st->n_audiences; i++)
                        if (json_array_append_new(a, json_string(st->audiences[i])) < 0)
                                goto oom;
        }
        if (st->error && json_object_set_new(status, "error", json_string(st->error)) < 0)
                goto oom;
        return dump(reply, ret_len);
oom:
        json_decref(reply);
        return NULL;
}

char *tokenreview_render_failure(unsigned code, const char *reason, const char *message, size_t *ret_len) {
        return dump(json_pack("{s:s, s:s, s:{}, s:s, s:s, s:s, s:i}", "kind", "Status", "apiVersion", "v1", "metadata",
                              "status", "Failure", "message", message, "reason", reason, "code", (int)code),
                    ret_len);
}
