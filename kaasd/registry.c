/* See registry.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "varlink_message.h"

struct registry {
        struct vl_interface **ifaces;
        size_t n_ifaces;
        struct method_entry *methods;
        size_t n_methods;
};

bool access_allowed(enum access_class access, const struct peer *peer,
                    const struct access_policy *policy) {
        switch (access) {
        case ACCESS_ANYONE:
        case ACCESS_USER:
                return true;
        case ACCESS_VALIDATOR:
                return peer->uid == 0 ||
                       (policy->has_validator_gid && peer_in_group(peer, policy->validator_gid));
        case ACCESS_ADMIN:
                return peer->uid == 0 ||
                       (policy->has_admin_gid && peer_in_group(peer, policy->admin_gid));
        case ACCESS_FRONTEND:
                return peer->uid == 0 ||
                       (policy->has_frontend_gid && peer_in_group(peer, policy->frontend_gid));
        }
        return false;
}

const char *access_class_name(enum access_class access) {
        switch (access) {
        case ACCESS_ANYONE:
                return "anyone";
        case ACCESS_VALIDATOR:
                return "validator";
        case ACCESS_USER:
                return "user";
        case ACCESS_ADMIN:
                return "admin";
        case ACCESS_FRONTEND:
                return "frontend";
        }
        return "?";
}

struct registry *registry_free(struct registry *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_ifaces; i++)
                vl_interface_free(r->ifaces[i]);
        free(r->ifaces);
        free(r->methods);
        free(r);
        return NULL;
}

int registry_new(const char *const *idl_texts, size_t n_idl, const struct method_def *defs,
                 size_t n_defs, struct registry **ret, char *err, size_t err_size) {
        struct registry *r = calloc(1, sizeof(*r));
        if (!r || !(r->ifaces = calloc(n_idl, sizeof(*r->ifaces)))) {
                free(r);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        size_t n_methods = 0;
        for (size_t i = 0; i < n_idl; i++) {
                unsigned line = 0;
                int k = vl_idl_parse(idl_texts[i], &r->ifaces[i], &line);
                if (k < 0) {
                        snprintf(err, err_size, "interface definition #%zu does not parse (line %u)", i, line);
                        registry_free(r);
                        return k;
                }
                r->n_ifaces++;
                for (size_t m = 0; m < r->ifaces[i]->n_members; m++)
                        if (r->ifaces[i]->members[m].kind == VL_MEMBER_METHOD)
                                n_methods++;
        }
        r->methods = calloc(n_methods ? n_methods : 1, sizeof(*r->methods));
        if (!r->methods) {
                registry_free(r);
                snprintf(err, err_size, "out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < r->n_ifaces; i++) {
                const struct vl_interface *iface = r->ifaces[i];
                for (size_t m = 0; m < iface->n_members; m++) {
                        if (iface->members[m].kind != VL_MEMBER_METHOD)
                                continue;
                        struct method_entry *e = &r->methods[r->n_methods++];
                        e->iface = iface;
                        e->member = &iface->members[m];
                        snprintf(e->name, sizeof(e->name), "%s.%s", iface->name, e->member->name);
                }
        }
        for (size_t d = 0; d < n_defs; d++) {
                struct method_entry *e = NULL;
                for (size_t m = 0; m < r->n_methods; m++)
                        if (strcmp(r->methods[m].name, defs[d].method) == 0)
                                e = &r->methods[m];
                if (!e || e->def) {
                        snprintf(err, err_size, "handler for %s: %s", defs[d].method,
                                 e ? "bound twice" : "no interface defines it");
                        registry_free(r);
                        return -EINVAL;
                }
                e->def = &defs[d];
        }
        *ret = r;
        return 0;
}

size_t registry_n_interfaces(const struct registry *r) {
        return r->n_ifaces;
}

const struct vl_interface *registry_interface_at(const struct registry *r, size_t i) {
        return i < r->n_ifaces ? r->ifaces[i] : NULL;
}

const struct vl_interface *registry_find_interface(const struct registry *r, const char *name) {
        for (size_t i = 0; i < r->n_ifaces; i++)
                if (strcmp(r->ifaces[i]->name, name) == 0)
                        return r->ifaces[i];
        return NULL;
}

struct method_entry *registry_find_method(struct registry *r, const char *method,
                                          bool *ret_iface_known) {
        char iface[VL_NAME_MAX + 1];
        const char *member;
        *ret_iface_known = false;
        if (vl_method_split(method, iface, &member) < 0)
                return NULL;
        *ret_iface_known = registry_find_interface(r, iface) != NULL;
        for (size_t m = 0; m < r->n_methods; m++)
                if (strcmp(r->methods[m].name, method) == 0)
                        return &r->methods[m];
        return NULL;
}

size_t registry_n_methods(const struct registry *r) {
        return r->n_methods;
}

const struct method_entry *registry_method_at(const struct registry *r, size_t i) {
        return i < r->n_methods ? &r->methods[i] : NULL;
}
