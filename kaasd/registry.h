/* The methods kaasd serves: the parsed interface definitions (compiled in
 * from the .varlink files in docs/) joined with the one table of handlers and access
 * classes in methods.c. Counters per method feed io.kaas.Admin.Status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "peer.h"
#include "varlink_idl.h"
#include "varlink_message.h"

struct call;

/* Who may call a method, decided from the peer's kernel credentials before
 * the handler runs (DESIGN §4). */
enum access_class {
        ACCESS_ANYONE,     /* every local user */
        ACCESS_VALIDATOR,  /* root and the validator group */
        ACCESS_USER,       /* every local user; the handler demands proof of an
                              OpenStack identity and acts only for it */
        ACCESS_ADMIN,      /* root and the admin group */
        ACCESS_FRONTEND,   /* root and the frontend group: services that log
                              many people in (kaas-panel) */
};

/* A handler replies through call_reply()/call_error(), now or later (then
 * holding a call_ref()). A negative return means it could not reply: the
 * server answers io.kaas.InternalError for it. */
typedef int (*method_fn)(struct call *call, json_t *parameters, void *context);

struct method_def {
        const char *method;     /* fully qualified, e.g. "io.kaas.Admin.Status" */
        enum access_class access;
        bool needs_more;        /* must be called with "more": true */
        method_fn fn;
        bool needs_reply;       /* "oneway" refused: the answer is the point, or the
                                   call costs Keystone work nobody would wait for */
};

struct access_policy {
        bool has_validator_gid;
        gid_t validator_gid;
        bool has_admin_gid;
        gid_t admin_gid;
        bool has_frontend_gid;
        gid_t frontend_gid;
};

bool access_allowed(enum access_class access, const struct peer *peer,
                    const struct access_policy *policy);
const char *access_class_name(enum access_class access);

struct method_entry {
        const struct method_def *def;          /* NULL: defined but not implemented */
        const struct vl_interface *iface;
        const struct vl_member *member;
        char name[VL_NAME_MAX * 2 + 2];
        uint64_t calls;
        uint64_t errors;
};

struct registry;

/* Parses every IDL text and binds the handlers. Fails (with a message) when
 * an IDL text does not parse or a handler names a method no IDL defines. */
int registry_new(const char *const *idl_texts, size_t n_idl, const struct method_def *defs,
                 size_t n_defs, struct registry **ret, char *err, size_t err_size);
struct registry *registry_free(struct registry *r);

size_t registry_n_interfaces(const struct registry *r);
const struct vl_interface *registry_interface_at(const struct registry *r, size_t i);
const struct vl_interface *registry_find_interface(const struct registry *r, const char *name);

/* Looks up "iface.Method": NULL with *ret_iface_known telling whether the
 * interface exists, for the right standard error. */
struct method_entry *registry_find_method(struct registry *r, const char *method,
                                          bool *ret_iface_known);
size_t registry_n_methods(const struct registry *r);
const struct method_entry *registry_method_at(const struct registry *r, size_t i);
