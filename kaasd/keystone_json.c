/* Field-by-field checking of Keystone v3 replies; see keystone_json.h.
 * Depends on jansson only. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cleanup.h"
#include "keystone_json.h"

static int bad(char *err, size_t err_size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t err_size, const char *fmt, ...) {
        if (err && err_size) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err, err_size < KS_ERROR_SIZE ? err_size : KS_ERROR_SIZE, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

bool ks_valid_id(const char *s) {
        if (!s)
                return false;
        size_t n = 0;
        for (; s[n]; n++)
                if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
                        return false;
        return n >= 1 && n <= KS_ID_MAX;
}

/* jansson has already checked that strings are valid UTF-8 without NUL. */
bool ks_valid_name(const char *s) {
        if (!s)
                return false;
        size_t n = 0;
        for (; s[n]; n++)
                if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] == 0x7f)
                        return false;
        return n >= 1 && n <= KS_NAME_MAX;
}

const char *ks_scope_kind_name(enum ks_scope_kind k) {
        switch (k) {
        case KS_SCOPE_PROJECT:
                return "project";
        case KS_SCOPE_DOMAIN:
                return "domain";
        case KS_SCOPE_SYSTEM:
                return "system";
        }
        return "unknown";
}

void ks_user_clear(struct ks_user *u) {
        if (!u)
                return;
        free(u->id);
        free(u->name);
        free(u->domain_id);
        free(u->domain_name);
        *u = (struct ks_user){ 0 };
}

void ks_domain_clear(struct ks_domain *d) {
        if (!d)
                return;
        free(d->id);
        free(d->name);
        *d = (struct ks_domain){ 0 };
}

static void assignment_clear(struct ks_assignment *a) {
        free(a->role_id);
        free(a->role_name);
        free(a->scope_id);
        free(a->scope_name);
        free(a->scope_domain_id);
        free(a->scope_domain_name);
        *a = (struct ks_assignment){ 0 };
}

void ks_assignments_clear(struct ks_assignments *a) {
        if (!a)
                return;
        for (size_t i = 0; i < a->n; i++)
                assignment_clear(&a->items[i]);
        free(a->items);
        free(a->user_domain_name);
        *a = (struct ks_assignments){ 0 };
}

void ks_token_info_clear(struct ks_token_info *t) {
        if (!t)
                return;
        ks_user_clear(&t->user);
        *t = (struct ks_token_info){ 0 };
}

static int load(const char *body, size_t len, json_t **ret, char *err, size_t err_size) {
        if (!body || len == 0)
                return bad(err, err_size, "empty reply");
        json_error_t e;
        json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
        if (!j)
                return bad(err, err_size, "reply is not JSON (line %d: %.80s)", e.line, e.text);
        if (!json_is_object(j)) {
                json_decref(j);
                return bad(err, err_size, "reply is not a JSON object");
        }
        *ret = j;
        return 0;
}

static const char *json_type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "a number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "unknown";
}

/* A member that must be an object. */
static int get_object(const json_t *o, const char *key, const char *path, json_t **ret, char *err,
                      size_t err_size) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return bad(err, err_size, "%s.%s is missing", path, key);
        if (!json_is_object(v))
                return bad(err, err_size, "%s.%s is %s, not an object", path, key, json_type_name(v));
        *ret = v;
        return 0;
}

enum str_kind { STR_ID, STR_NAME };

/* A member that must be a string of the given kind; the copy is the caller's. */
static int get_string(const json_t *o, const char *key, const char *path, enum str_kind kind,
                      char **ret, char *err, size_t err_size) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return bad(err, err_size, "%s.%s is missing", path, key);
        if (!json_is_string(v))
                return bad(err, err_size, "%s.%s is %s, not a string", path, key, json_type_name(v));
        const char *s = json_string_value(v);
        if (strlen(s) != json_string_length(v))
                return bad(err, err_size, "%s.%s holds a NUL byte", path, key);
        if (kind == STR_ID ? !ks_valid_id(s) : !ks_valid_name(s))
                return bad(err, err_size, "%s.%s is not a valid %s (empty, too long or bad characters)",
                           path, key, kind == STR_ID ? "ID" : "name");
        char *c = strdup(s);
        if (!c)
                return -ENOMEM;
        *ret = c;
        return 0;
}

/* Optional string: NULL when absent or null. */
static int get_string_opt(const json_t *o, const char *key, const char *path, enum str_kind kind,
                          char **ret, char *err, size_t err_size) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                *ret = NULL;
                return 0;
        }
        return get_string(o, key, path, kind, ret, err, err_size);
}

static int get_bool(const json_t *o, const char *key, const char *path, bool *ret, char *err,
                    size_t err_size) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return bad(err, err_size, "%s.%s is missing", path, key);
        if (!json_is_boolean(v))
                return bad(err, err_size, "%s.%s is %s, not a boolean", path, key, json_type_name(v));
        *ret = json_is_true(v);
        return 0;
}

static int get_array(const json_t *o, const char *key, const char *path, json_t **ret, char *err,
                     size_t err_size) {
        json_t *v = json_object_get(o, key);
        if (!v)
                return bad(err, err_size, "%s.%s is missing", path, key);
        if (!json_is_array(v))
                return bad(err, err_size, "%s.%s is %s, not an array", path, key, json_type_name(v));
        *ret = v;
        return 0;
}

static int days_from_civil(int y, int m, int d, int64_t *ret) {
        /* Howard Hinnant's algorithm: days since 1970-01-01, proleptic Gregorian */
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        *ret = era * 146097 + doe - 719468;
        return 0;
}

static bool digits(const char *s, int n, int *ret) {
        int v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

int ks_parse_time(const char *s, int64_t *ret) {
        int y, mo, d, h, mi, se;
        if (!s || strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
            s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != 'T' || !digits(s + 11, 2, &h) ||
            s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' || !digits(s + 17, 2, &se))
                return -EINVAL;
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
                return -EINVAL;
        const char *p = s + 19;
        if (*p == '.') {
                p++;
                const char *f = p;
                while (*p >= '0' && *p <= '9')
                        p++;
                if (p == f || p - f > 9)
                        return -EINVAL;
        }
        if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0 && *p != '\0')
                return -EINVAL;
        int64_t days;
        days_from_civil(y, mo, d, &days);
        *ret = days * 86400 + h * 3600 + mi * 60 + se;
        return 0;
}

/* {"id", "name", "domain_id", "enabled"} as in /v3/users. */
static int parse_user_object(const json_t *u, const char *path, struct ks_user *ret, char *err,
                             size_t err_size) {
        struct ks_user x = { 0 };
        int r;
        if ((r = get_string(u, "id", path, STR_ID, &x.id, err, err_size)) < 0 ||
            (r = get_string(u, "name", path, STR_NAME, &x.name, err, err_size)) < 0 ||
            (r = get_string(u, "domain_id", path, STR_ID, &x.domain_id, err, err_size)) < 0 ||
            (r = get_bool(u, "enabled", path, &x.enabled, err, err_size)) < 0) {
                ks_user_clear(&x);
                return r;
        }
        *ret = x;
        return 0;
}

int ks_json_parse_user(const char *body, size_t len, struct ks_user *ret, char *err, size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *u;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_object(j, "user", "reply", &u, err, err_size)) < 0)
                return r;
        return parse_user_object(u, "user", ret, err, err_size);
}

int ks_json_parse_user_list(const char *body, size_t len, const char *name, const char *domain_id,
                            struct ks_user *ret, char *err, size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *list;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_array(j, "users", "reply", &list, err, err_size)) < 0)
                return r;
        if (json_array_size(list) > KS_ASSIGNMENTS_MAX)
                return bad(err, err_size, "reply.users has %zu entries", json_array_size(list));
        struct ks_user found = { 0 };
        size_t n_found = 0, i;
        json_t *v;
        json_array_foreach(list, i, v) {
                char path[32];
                snprintf(path, sizeof(path), "users[%zu]", i);
                if (!json_is_object(v)) {
                        ks_user_clear(&found);
                        return bad(err, err_size, "%s is %s, not an object", path, json_type_name(v));
                }
                struct ks_user u;
                if ((r = parse_user_object(v, path, &u, err, err_size)) < 0) {
                        ks_user_clear(&found);
                        return r;
                }
                /* the filter may be case-insensitive (MySQL collations),
                 * or not applied at all: only an exact match in the domain
                 * asked for is this user */
                if (strcmp(u.name, name) != 0 || strcmp(u.domain_id, domain_id) != 0) {
                        ks_user_clear(&u);
                        continue;
                }
                if (n_found++ == 0)
                        found = u;
                else
                        ks_user_clear(&u);
        }
        if (n_found == 0)
                return -ENOENT;
        if (n_found > 1) {
                ks_user_clear(&found);
                return bad(err, err_size, "%zu users named '%.64s' in one domain", n_found, name);
        }
        *ret = found;
        return 0;
}

static int parse_domain_object(const json_t *o, const char *path, struct ks_domain *ret, char *err,
                               size_t err_size) {
        struct ks_domain d = { 0 };
        int r;
        if ((r = get_string(o, "id", path, STR_ID, &d.id, err, err_size)) < 0 ||
            (r = get_string(o, "name", path, STR_NAME, &d.name, err, err_size)) < 0 ||
            (r = get_bool(o, "enabled", path, &d.enabled, err, err_size)) < 0) {
                ks_domain_clear(&d);
                return r;
        }
        *ret = d;
        return 0;
}

int ks_json_parse_domain(const char *body, size_t len, struct ks_domain *ret, char *err,
                         size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *o;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_object(j, "domain", "reply", &o, err, err_size)) < 0)
                return r;
        return parse_domain_object(o, "domain", ret, err, err_size);
}

int ks_json_parse_domain_list(const char *body, size_t len, const char *name, struct ks_domain *ret,
                              char *err, size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *list;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_array(j, "domains", "reply", &list, err, err_size)) < 0)
                return r;
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
                char path[32];
                snprintf(path, sizeof(path), "domains[%zu]", i);
                if (!json_is_object(v))
                        return bad(err, err_size, "%s is %s, not an object", path, json_type_name(v));
                struct ks_domain d;
                if ((r = parse_domain_object(v, path, &d, err, err_size)) < 0)
                        return r;
                if (strcmp(d.name, name) == 0) {
                        *ret = d;
                        return 0;
                }
                ks_domain_clear(&d);
        }
        return -ENOENT;
}

static bool same(const char *a, const char *b) {
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int parse_assignment(const json_t *a, const char *path, const char *user_id,
                            struct ks_assignment *ret, char **user_domain_name, char *err,
                            size_t err_size) {
        struct ks_assignment x = { 0 };
        json_t *role, *scope, *user, *o;
        char sub[128];
        int r;
        if ((r = get_object(a, "role", path, &role, err, err_size)) < 0 ||
            (r = get_object(a, "scope", path, &scope, err, err_size)) < 0 ||
            (r = get_object(a, "user", path, &user, err, err_size)) < 0)
                return r;
        snprintf(sub, sizeof(sub), "%s.user", path);
        _cleanup_free_ char *uid = NULL;
        if ((r = get_string(user, "id", sub, STR_ID, &uid, err, err_size)) < 0)
                return r;
        if (strcmp(uid, user_id) != 0)
                return bad(err, err_size, "%s is for another user", path);
        json_t *ud = json_object_get(user, "domain");
        if (json_is_object(ud) && !*user_domain_name) {
                snprintf(sub, sizeof(sub), "%s.user.domain", path);
                if ((r = get_string_opt(ud, "name", sub, STR_NAME, user_domain_name, err, err_size)) < 0)
                        return r;
        }

        snprintf(sub, sizeof(sub), "%s.role", path);
        if ((r = get_string(role, "id", sub, STR_ID, &x.role_id, err, err_size)) < 0 ||
            (r = get_string(role, "name", sub, STR_NAME, &x.role_name, err, err_size)) < 0)
                goto fail;

        int kinds = !!json_object_get(scope, "project") + !!json_object_get(scope, "domain") +
                    !!json_object_get(scope, "system");
        if (kinds != 1) {
                r = bad(err, err_size, "%s.scope must name exactly one of project, domain, system", path);
                goto fail;
        }
        if (json_object_get(scope, "project")) {
                x.scope = KS_SCOPE_PROJECT;
                snprintf(sub, sizeof(sub), "%s.scope", path);
                if ((r = get_object(scope, "project", sub, &o, err, err_size)) < 0)
                        goto fail;
                snprintf(sub, sizeof(sub), "%s.scope.project", path);
                json_t *pd;
                if ((r = get_string(o, "id", sub, STR_ID, &x.scope_id, err, err_size)) < 0 ||
                    (r = get_string(o, "name", sub, STR_NAME, &x.scope_name, err, err_size)) < 0 ||
                    (r = get_object(o, "domain", sub, &pd, err, err_size)) < 0)
                        goto fail;
                snprintf(sub, sizeof(sub), "%s.scope.project.domain", path);
                if ((r = get_string(pd, "id", sub, STR_ID, &x.scope_domain_id, err, err_size)) < 0 ||
                    (r = get_string_opt(pd, "name", sub, STR_NAME, &x.scope_domain_name, err, err_size)) < 0)
                        goto fail;
        } else if (json_object_get(scope, "domain")) {
                x.scope = KS_SCOPE_DOMAIN;
                snprintf(sub, sizeof(sub), "%s.scope", path);
                if ((r = get_object(scope, "domain", sub, &o, err, err_size)) < 0)
                        goto fail;
                snprintf(sub, sizeof(sub), "%s.scope.domain", path);
                if ((r = get_string(o, "id", sub, STR_ID, &x.scope_id, err, err_size)) < 0 ||
                    (r = get_string_opt(o, "name", sub, STR_NAME, &x.scope_name, err, err_size)) < 0)
                        goto fail;
        } else {
                x.scope = KS_SCOPE_SYSTEM;
                snprintf(sub, sizeof(sub), "%s.scope", path);
                if ((r = get_object(scope, "system", sub, &o, err, err_size)) < 0)
                        goto fail;
                json_t *all = json_object_get(o, "all");
                if (!json_is_true(all)) {
                        r = bad(err, err_size, "%s.scope.system.all must be true", path);
                        goto fail;
                }
                if (!(x.scope_id = strdup("all"))) {
                        r = -ENOMEM;
                        goto fail;
                }
        }
        *ret = x;
        return 0;
fail:
        assignment_clear(&x);
        return r;
}

int ks_json_parse_assignments(const char *body, size_t len, const char *user_id,
                              struct ks_assignments *ret, char *err, size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *list;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_array(j, "role_assignments", "reply", &list, err, err_size)) < 0)
                return r;
        size_t n = json_array_size(list);
        if (n > KS_ASSIGNMENTS_MAX)
                return bad(err, err_size, "reply.role_assignments has %zu entries (at most %d)", n,
                           KS_ASSIGNMENTS_MAX);
        struct ks_assignments out = { 0 };
        if (n > 0 && !(out.items = calloc(n, sizeof(*out.items))))
                return -ENOMEM;
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v) {
                char path[48];
                snprintf(path, sizeof(path), "role_assignments[%zu]", i);
                if (!json_is_object(v)) {
                        r = bad(err, err_size, "%s is %s, not an object", path, json_type_name(v));
                        goto fail;
                }
                struct ks_assignment a;
                if ((r = parse_assignment(v, path, user_id, &a, &out.user_domain_name, err, err_size)) < 0)
                        goto fail;
                bool dup = false;
                for (size_t k = 0; k < out.n && !dup; k++)
                        dup = strcmp(out.items[k].role_id, a.role_id) == 0 && out.items[k].scope == a.scope &&
                              same(out.items[k].scope_id, a.scope_id);
                if (dup)
                        assignment_clear(&a);
                else
                        out.items[out.n++] = a;
        }
        *ret = out;
        return 0;
fail:
        ks_assignments_clear(&out);
        return r;
}

/* Methods a token can name: more than this is not a reply we believe. */
#define KS_METHODS_MAX 16

static unsigned method_bit(const char *m, const char *protocol) {
        static const struct {
                const char *name;
                unsigned bit;
        } known[] = {
                { "password", KS_METHOD_PASSWORD },
                { "totp", KS_METHOD_TOTP },
                { "external", KS_METHOD_EXTERNAL },
                { "kerberos", KS_METHOD_EXTERNAL },
                { "x509", KS_METHOD_EXTERNAL },
                { "mapped", KS_METHOD_FEDERATED },
                { "openid", KS_METHOD_FEDERATED },
                { "saml2", KS_METHOD_FEDERATED },
                { "token", KS_METHOD_TOKEN },
                { "application_credential", KS_METHOD_APPLICATION_CREDENTIAL },
                { "oauth1", KS_METHOD_OAUTH1 },
        };
        for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
                if (strcmp(m, known[i].name) == 0)
                        return known[i].bit;
        /* a federated token names the protocol its user came through */
        if (protocol && strcmp(m, protocol) == 0)
                return KS_METHOD_FEDERATED;
        return KS_METHOD_OTHER;
}

/* token.methods, the delegation sections and user.OS-FEDERATION: how the
 * token was obtained. */
static int parse_token_origin(const json_t *tok, const json_t *user, struct ks_token_info *t, char *err,
                              size_t err_size) {
        _cleanup_free_ char *protocol = NULL;
        int r;
        json_t *fed = json_object_get(user, "OS-FEDERATION");
        if (fed) {
                json_t *proto;
                if (!json_is_object(fed))
                        return bad(err, err_size, "token.user.OS-FEDERATION is %s, not an object",
                                   json_type_name(fed));
                t->federated = true;
                if (json_object_get(fed, "protocol") &&
                    ((r = get_object(fed, "protocol", "token.user.OS-FEDERATION", &proto, err, err_size)) < 0 ||
                     (r = get_string(proto, "id", "token.user.OS-FEDERATION.protocol", STR_ID, &protocol, err,
                                     err_size)) < 0))
                        return r;
        }
        json_t *methods = json_object_get(tok, "methods");
        if (methods) {
                if (!json_is_array(methods))
                        return bad(err, err_size, "token.methods is %s, not an array", json_type_name(methods));
                if (json_array_size(methods) > KS_METHODS_MAX)
                        return bad(err, err_size, "token.methods has %zu entries (at most %d)",
                                   json_array_size(methods), KS_METHODS_MAX);
                size_t i;
                json_t *m;
                json_array_foreach(methods, i, m) {
                        const char *s = json_string_value(m);
                        if (!s || strlen(s) != json_string_length(m) || !ks_valid_id(s))
                                return bad(err, err_size, "token.methods[%zu] is not a method name", i);
                        t->methods |= method_bit(s, protocol);
                }
        }
        static const struct {
                const char *key;
                enum ks_delegation kind;
        } sections[] = {
                { "application_credential", KS_DELEGATION_APPLICATION_CREDENTIAL },
                { "OS-TRUST:trust", KS_DELEGATION_TRUST },
                { "OS-OAUTH1", KS_DELEGATION_OAUTH1 },
        };
        /* present at all counts, whatever it holds: null or a malformed
         * section must not read as "no delegation" */
        for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]) && !t->delegation; i++)
                if (json_object_get(tok, sections[i].key))
                        t->delegation = sections[i].kind;
        return 0;
}

int ks_json_parse_token(const char *body, size_t len, struct ks_token_info *ret, char *err,
                        size_t err_size) {
        _cleanup_json_ json_t *j = NULL;
        json_t *tok, *user, *dom;
        int r;
        if ((r = load(body, len, &j, err, err_size)) < 0 ||
            (r = get_object(j, "token", "reply", &tok, err, err_size)) < 0 ||
            (r = get_object(tok, "user", "token", &user, err, err_size)) < 0 ||
            (r = get_object(user, "domain", "token.user", &dom, err, err_size)) < 0)
                return r;
        struct ks_token_info t = { .user.enabled = true };
        _cleanup_free_ char *issued = NULL, *expires = NULL;
        if ((r = get_string(user, "id", "token.user", STR_ID, &t.user.id, err, err_size)) < 0 ||
            (r = get_string(user, "name", "token.user", STR_NAME, &t.user.name, err, err_size)) < 0 ||
            (r = get_string(dom, "id", "token.user.domain", STR_ID, &t.user.domain_id, err, err_size)) < 0 ||
            (r = get_string(dom, "name", "token.user.domain", STR_NAME, &t.user.domain_name, err, err_size)) < 0 ||
            (r = get_string(tok, "expires_at", "token", STR_NAME, &expires, err, err_size)) < 0 ||
            (r = get_string(tok, "issued_at", "token", STR_NAME, &issued, err, err_size)) < 0)
                goto fail;
        if (ks_parse_time(expires, &t.expires_at) < 0) {
                r = bad(err, err_size, "token.expires_at is not a time: '%.40s'", expires);
                goto fail;
        }
        if (ks_parse_time(issued, &t.issued_at) < 0) {
                r = bad(err, err_size, "token.issued_at is not a time: '%.40s'", issued);
                goto fail;
        }
        if (t.expires_at <= t.issued_at) {
                r = bad(err, err_size, "token expires before it was issued");
                goto fail;
        }
        json_t *sys = json_object_get(tok, "system");
        t.system_scope = json_is_object(sys) && json_is_true(json_object_get(sys, "all"));
        if ((r = parse_token_origin(tok, user, &t, err, err_size)) < 0)
                goto fail;
        *ret = t;
        return 0;
fail:
        ks_token_info_clear(&t);
        return r;
}

void ks_json_error_message(const char *body, size_t len, char *out, size_t out_size) {
        if (!out_size)
                return;
        out[0] = '\0';
        if (!body || !len)
                return;
        _cleanup_json_ json_t *j = json_loadb(body, len, 0, NULL);
        const char *m = json_string_value(json_object_get(json_object_get(j, "error"), "message"));
        if (!m)
                return;
        size_t o = 0;
        for (; *m && o + 1 < out_size; m++)
                out[o++] = (*m >= 0x20 && *m < 0x7f) ? *m : '?';
        out[o] = '\0';
}
