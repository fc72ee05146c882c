/* varlink message shapes: parsing calls and replies, building replies and
 * errors. Pure functions over jansson values; no I/O, no logging. */
#pragma once

#include <jansson.h>
#include <stdbool.h>

#define VL_ERROR_METHOD_NOT_FOUND "org.varlink.service.MethodNotFound"
#define VL_ERROR_INTERFACE_NOT_FOUND "org.varlink.service.InterfaceNotFound"
#define VL_ERROR_INVALID_PARAMETER "org.varlink.service.InvalidParameter"
#define VL_ERROR_METHOD_NOT_IMPLEMENTED "org.varlink.service.MethodNotImplemented"
#define VL_ERROR_EXPECTED_MORE "org.varlink.service.ExpectedMore"
#define VL_ERROR_PERMISSION_DENIED "org.varlink.service.PermissionDenied"

#define VL_NAME_MAX 255

struct vl_call {
        const char *method;  /* "io.kaas.Admin.Status"; borrowed from msg */
        json_t *parameters;  /* borrowed; an empty object when absent or null */
        bool more;
        bool oneway;
        bool upgrade;
};

struct vl_reply {
        const char *error;   /* NULL on success; borrowed */
        json_t *parameters;  /* borrowed; an empty object when absent or null */
        bool continues;
};

/* Checks the call envelope. On failure returns -EBADMSG and points
 * *ret_field at the offending member name (static string). The parsed call
 * borrows from msg, which must outlive it. */
int vl_call_parse(json_t *msg, struct vl_call *ret, const char **ret_field);

/* Splits "a.b.C.Method" into interface "a.b.C" and member "Method";
 * -EINVAL when the name is not a well-formed qualified member name. */
int vl_method_split(const char *method, char iface[static VL_NAME_MAX + 1],
                    const char **ret_member);

bool vl_interface_name_valid(const char *name);
bool vl_member_name_valid(const char *name);

int vl_reply_parse(json_t *msg, struct vl_reply *ret);

/* Zeroes, in place, every string inside v that nobody else references (v
 * and the path to the string all have a reference count of 1), so a
 * message that carried a token or password leaves no copy when freed.
 * Shared values, such as cached identities, are left alone. */
void vl_json_wipe(json_t *v);

/* Constructors steal the parameters reference (NULL means empty). They
 * return NULL only when out of memory. */
json_t *vl_call_new(const char *method, json_t *parameters, bool more, bool oneway);
json_t *vl_reply_new(json_t *parameters, bool continues);
json_t *vl_error_new(const char *error, json_t *parameters);
