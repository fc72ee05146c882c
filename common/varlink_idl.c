/* Recursive-descent parser for the varlink IDL and a JSON type checker;
 * see varlink_idl.h and https://varlink.org/Interface-Definition. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "varlink_idl.h"
#include "varlink_message.h"

#define NESTING_MAX 32

struct parser {
        const char *p;
        unsigned line;
        int depth;
};

static void skip_space(struct parser *ps) {
        for (;;) {
                char c = *ps->p;
                if (c == '\n') {
                        ps->line++;
                        ps->p++;
                } else if (c == ' ' || c == '\t' || c == '\r') {
                        ps->p++;
                } else if (c == '#') {
                        while (*ps->p && *ps->p != '\n')
                                ps->p++;
                } else {
                        return;
                }
        }
}

static bool accept(struct parser *ps, const char *tok) {
        skip_space(ps);
        size_t n = strlen(tok);
        if (strncmp(ps->p, tok, n) != 0)
                return false;
        ps->p += n;
        return true;
}

static bool ident_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Reads a word of identifier characters (and dots and dashes when
 * dotted is set, for the interface name). */
static char *read_word(struct parser *ps, bool dotted) {
        skip_space(ps);
        const char *s = ps->p;
        while (ident_char(*ps->p) || (dotted && (*ps->p == '.' || *ps->p == '-')))
                ps->p++;
        if (ps->p == s || (size_t)(ps->p - s) > VL_NAME_MAX)
                return NULL;
        return strndup(s, (size_t)(ps->p - s));
}

/* A keyword must be followed by a non-identifier character. */
static bool accept_keyword(struct parser *ps, const char *kw) {
        skip_space(ps);
        size_t n = strlen(kw);
        if (strncmp(ps->p, kw, n) != 0 || ident_char(ps->p[n]))
                return false;
        ps->p += n;
        return true;
}

static void type_free(struct vl_type *t) {
        if (!t)
                return;
        type_free(t->element);
        free(t->alias);
        for (size_t i = 0; i < t->n_fields; i++) {
                free(t->fields[i].name);
                type_free(t->fields[i].type);
        }
        free(t->fields);
        free(t);
}

static struct vl_type *parse_type(struct parser *ps);

/* "(" [field ("," field)*] ")" for a struct, or names only for an enum. */
static struct vl_type *parse_struct_or_enum(struct parser *ps) {
        if (!accept(ps, "("))
                return NULL;
        struct vl_type *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->kind = VL_STRUCT;
        if (accept(ps, ")"))
                return t;
        for (;;) {
                char *name = read_word(ps, false);
                if (!name)
                        goto fail;
                struct vl_field *f = realloc(t->fields, (t->n_fields + 1) * sizeof(*f));
                if (!f) {
                        free(name);
                        goto fail;
                }
                t->fields = f;
                f = &t->fields[t->n_fields++];
                f->name = name;
                f->type = NULL;
                for (size_t i = 0; i + 1 < t->n_fields; i++)
                        if (strcmp(t->fields[i].name, name) == 0)
                                goto fail;
                bool is_field = accept(ps, ":");
                if (t->n_fields == 1)
                        t->kind = is_field ? VL_STRUCT : VL_ENUM;
                else if (is_field != (t->kind == VL_STRUCT))
                        goto fail;
                if (is_field && !(f->type = parse_type(ps)))
                        goto fail;
                if (accept(ps, ")"))
                        return t;
                if (!accept(ps, ","))
                        goto fail;
        }
fail:
        type_free(t);
        return NULL;
}

static struct vl_type *parse_type(struct parser *ps) {
        if (++ps->depth > NESTING_MAX)
                return NULL;
        bool nullable = accept(ps, "?");
        struct vl_type *t = NULL;
        skip_space(ps);
        if (*ps->p == '(') {
                t = parse_struct_or_enum(ps);
        } else if (*ps->p == '[') {
                bool array = accept(ps, "[]");
                if (!array && !accept(ps, "[string]")) {
                        ps->depth--;
                        return NULL;
                }
                t = calloc(1, sizeof(*t));
                if (t) {
                        t->kind = array ? VL_ARRAY : VL_MAP;
                        t->element = parse_type(ps);
                        if (!t->element) {
                                type_free(t);
                                t = NULL;
                        }
                }
        } else {
                static const struct { const char *word; enum vl_kind kind; } builtin[] = {
                        { "bool", VL_BOOL }, { "int", VL_INT }, { "float", VL_FLOAT },
                        { "string", VL_STRING }, { "object", VL_OBJECT },
                };
                char *word = read_word(ps, false);
                if (word) {
                        t = calloc(1, sizeof(*t));
                        if (t) {
                                t->kind = VL_ALIAS;
                                for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
                                        if (strcmp(word, builtin[i].word) == 0)
                                                t->kind = builtin[i].kind;
                                if (t->kind == VL_ALIAS && vl_member_name_valid(word)) {
                                        t->alias = word;
                                        word = NULL;
                                } else if (t->kind == VL_ALIAS) {
                                        type_free(t);
                                        t = NULL;
                                }
                        }
                        free(word);
                }
        }
        ps->depth--;
        if (t && nullable) {
                /* "??T" is not a type */
                if (t->nullable) {
                        type_free(t);
                        return NULL;
                }
                t->nullable = true;
        }
        return t;
}

struct vl_interface *vl_interface_free(struct vl_interface *iface) {
        if (!iface)
                return NULL;
        for (size_t i = 0; i < iface->n_members; i++) {
                free(iface->members[i].name);
                type_free(iface->members[i].type);
                type_free(iface->members[i].output);
        }
        free(iface->members);
        free(iface->name);
        free(iface->description);
        free(iface);
        return NULL;
}

const struct vl_member *vl_interface_find(const struct vl_interface *iface,
                                          enum vl_member_kind kind, const char *name) {
        for (size_t i = 0; i < iface->n_members; i++)
                if (iface->members[i].kind == kind && strcmp(iface->members[i].name, name) == 0)
                        return &iface->members[i];
        return NULL;
}

static bool aliases_resolve(const struct vl_interface *iface, const struct vl_type *t) {
        if (!t)
                return true;
        if (t->kind == VL_ALIAS && !vl_interface_find(iface, VL_MEMBER_TYPE, t->alias))
                return false;
        if (!aliases_resolve(iface, t->element))
                return false;
        for (size_t i = 0; i < t->n_fields; i++)
                if (!aliases_resolve(iface, t->fields[i].type))
                        return false;
        return true;
}

static int parse_member(struct parser *ps, struct vl_interface *iface) {
        struct vl_member m = { 0 };
        skip_space(ps);
        m.line = ps->line;
        if (accept_keyword(ps, "type"))
                m.kind = VL_MEMBER_TYPE;
        else if (accept_keyword(ps, "method"))
                m.kind = VL_MEMBER_METHOD;
        else if (accept_keyword(ps, "error"))
                m.kind = VL_MEMBER_ERROR;
        else
                return -EINVAL;
        m.name = read_word(ps, false);
        if (!m.name || !vl_member_name_valid(m.name))
                goto fail;
        skip_space(ps);
        m.type = parse_struct_or_enum(ps);
        if (!m.type || (m.kind != VL_MEMBER_TYPE && m.type->kind != VL_STRUCT))
                goto fail;
        if (m.kind == VL_MEMBER_METHOD) {
                if (!accept(ps, "->"))
                        goto fail;
                skip_space(ps);
                m.output = parse_struct_or_enum(ps);
                if (!m.output || m.output->kind != VL_STRUCT)
                        goto fail;
        }
        for (size_t i = 0; i < iface->n_members; i++)
                if (strcmp(iface->members[i].name, m.name) == 0)
                        goto fail;
        struct vl_member *ms = realloc(iface->members, (iface->n_members + 1) * sizeof(*ms));
        if (!ms)
                goto fail;
        iface->members = ms;
        iface->members[iface->n_members++] = m;
        return 0;
fail:
        free(m.name);
        type_free(m.type);
        type_free(m.output);
        return -EINVAL;
}

int vl_idl_parse(const char *text, struct vl_interface **ret, unsigned *ret_line) {
        struct parser ps = { .p = text, .line = 1 };
        struct vl_interface *iface = calloc(1, sizeof(*iface));
        if (!iface)
                return -ENOMEM;
        if (!accept_keyword(&ps, "interface"))
                goto fail;
        iface->name = read_word(&ps, true);
        if (!iface->name || !vl_interface_name_valid(iface->name))
                goto fail;
        for (;;) {
                skip_space(&ps);
                if (!*ps.p)
                        break;
                if (parse_member(&ps, iface) < 0)
                        goto fail;
        }
        if (iface->n_members == 0)
                goto fail;
        /* types may be used before their definition: resolve names last */
        for (size_t i = 0; i < iface->n_members; i++)
                if (!aliases_resolve(iface, iface->members[i].type) ||
                    !aliases_resolve(iface, iface->members[i].output)) {
                        ps.line = iface->members[i].line;
                        goto fail;
                }
        iface->description = strdup(text);
        if (!iface->description) {
                vl_interface_free(iface);
                return -ENOMEM;
        }
        *ret = iface;
        return 0;
fail:
        if (ret_line)
                *ret_line = ps.line;
        vl_interface_free(iface);
        return -EINVAL;
}

static int validate(const struct vl_interface *iface, const struct vl_type *t,
                    json_t *v, const char *name, const char **ret_field, int depth) {
        if (depth > NESTING_MAX) {
                *ret_field = name;
                return -EINVAL;
        }
        if (json_is_null(v)) {
                if (t->nullable)
                        return 0;
                *ret_field = name;
                return -EINVAL;
        }
        bool ok = true;
        switch (t->kind) {
        case VL_BOOL:
                ok = json_is_boolean(v);
                break;
        case VL_INT:
                ok = json_is_integer(v);
                break;
        case VL_FLOAT:
                ok = json_is_number(v);
                break;
        case VL_STRING:
                ok = json_is_string(v);
                break;
        case VL_OBJECT:
                break;
        case VL_ENUM:
                ok = false;
                if (json_is_string(v))
                        for (size_t i = 0; i < t->n_fields; i++)
                                if (strcmp(t->fields[i].name, json_string_value(v)) == 0)
                                        ok = true;
                break;
        case VL_ALIAS: {
                const struct vl_member *m = vl_interface_find(iface, VL_MEMBER_TYPE, t->alias);
                if (!m) {
                        ok = false;
                        break;
                }
                return validate(iface, m->type, v, name, ret_field, depth + 1);
        }
        case VL_ARRAY: {
                if (!json_is_array(v)) {
                        ok = false;
                        break;
                }
                size_t i;
                json_t *e;
                json_array_foreach(v, i, e) {
                        int r = validate(iface, t->element, e, name, ret_field, depth + 1);
                        if (r < 0)
                                return r;
                }
                break;
        }
        case VL_MAP: {
                if (!json_is_object(v)) {
                        ok = false;
                        break;
                }
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e) {
                        int r = validate(iface, t->element, e, k, ret_field, depth + 1);
                        if (r < 0)
                                return r;
                }
                break;
        }
        case VL_STRUCT: {
                if (!json_is_object(v)) {
                        ok = false;
                        break;
                }
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e) {
                        const struct vl_field *f = NULL;
                        for (size_t i = 0; i < t->n_fields; i++)
                                if (strcmp(t->fields[i].name, k) == 0)
                                        f = &t->fields[i];
                        if (!f) {
                                *ret_field = k;
                                return -EINVAL;
                        }
                        int r = validate(iface, f->type, e, f->name, ret_field, depth + 1);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < t->n_fields; i++)
                        if (!t->fields[i].type->nullable && !json_object_get(v, t->fields[i].name)) {
                                *ret_field = t->fields[i].name;
                                return -EINVAL;
                        }
                break;
        }
        }
        if (!ok) {
                *ret_field = name;
                return -EINVAL;
        }
        return 0;
}

int vl_validate(const struct vl_interface *iface, const struct vl_type *type,
                json_t *value, const char **ret_field) {
        return validate(iface, type, value, "", ret_field, 0);
}
