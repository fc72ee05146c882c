/* varlink interface definitions: a parser for the IDL text and a checker
 * that validates JSON parameters against a method's input or output type.
 * kaasd compiles its .varlink files in and checks every call before it
 * reaches a handler; tests use the same checker on replies. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum vl_kind {
        VL_BOOL,
        VL_INT,
        VL_FLOAT,
        VL_STRING,
        VL_OBJECT,  /* any JSON value, as the varlink spec's "object" */
        VL_ARRAY,   /* []T */
        VL_MAP,     /* [string]T */
        VL_STRUCT,  /* (name: T, ...) */
        VL_ENUM,    /* (a, b, c) */
        VL_ALIAS,   /* a named type defined with "type" */
};

struct vl_type;

struct vl_field {
        char *name;
        struct vl_type *type;  /* NULL for enum members */
};

struct vl_type {
        enum vl_kind kind;
        bool nullable;
        struct vl_type *element;   /* VL_ARRAY, VL_MAP */
        char *alias;               /* VL_ALIAS */
        struct vl_field *fields;   /* VL_STRUCT, VL_ENUM */
        size_t n_fields;
};

enum vl_member_kind { VL_MEMBER_TYPE, VL_MEMBER_METHOD, VL_MEMBER_ERROR };

struct vl_member {
        enum vl_member_kind kind;
        char *name;
        struct vl_type *type;   /* type definition, method input, error parameters */
        struct vl_type *output; /* method output */
        unsigned line;          /* where the member starts, for errors */
};

struct vl_interface {
        char *name;
        char *description;      /* the IDL text it was parsed from */
        struct vl_member *members;
        size_t n_members;
};

/* Parses IDL text. On a syntax error returns -EINVAL and, when ret_line is
 * not NULL, the 1-based line of the error. Undefined type names and
 * duplicate members are errors too. */
int vl_idl_parse(const char *text, struct vl_interface **ret, unsigned *ret_line);
struct vl_interface *vl_interface_free(struct vl_interface *iface);

const struct vl_member *vl_interface_find(const struct vl_interface *iface,
                                          enum vl_member_kind kind, const char *name);

/* Validates value against type (a struct type for parameters). Returns 0,
 * or -EINVAL with *ret_field naming the first offending field (a pointer
 * into the interface or the value, valid while both live; the top-level
 * object is named ""). Unknown fields, missing non-nullable fields and
 * wrong JSON types are all errors. */
int vl_validate(const struct vl_interface *iface, const struct vl_type *type,
                json_t *value, const char **ret_field);
