/* An identity as kaasd serves and stores it: conversion to the varlink
 * User shape and to/from the versioned JSON blob kept in the store, and
 * the cluster admin check. The blob is read back as untrusted input (a
 * damaged database must not crash kaasd): every field is checked. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "identity.h"

static void role_clear(struct identity_role *r) {
        free(r->id);
        free(r->name);
        free(r->project_id);
        free(r->project_name);
        free(r->domain_id);
        free(r->domain_name);
}

static void project_clear(struct identity_project *p) {
        free(p->id);
        free(p->name);
        free(p->domain_id);
        free(p->domain_name);
}

struct identity *identity_free(struct identity *id) {
        if (!id)
                return NULL;
        free(id->user_id);
        free(id->name);
        free(id->domain_id);
        free(id->domain_name);
        for (size_t i = 0; i < id->n_roles; i++)
                role_clear(&id->roles[i]);
        free(id->roles);
        for (size_t i = 0; i < id->n_projects; i++)
                project_clear(&id->projects[i]);
        free(id->projects);
        free(id);
        return NULL;
}

static json_t *str_or_null(const char *s) {
        return s ? json_string(s) : json_null();
}

static json_t *role_to_json(const struct identity_role *r) {
        return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o}", "id", r->id, "name", r->name, "scope",
                         ks_scope_kind_name(r->scope), "project_id", str_or_null(r->project_id), "project_name",
                         str_or_null(r->project_name), "domain_id", str_or_null(r->domain_id), "domain_name",
                         str_or_null(r->domain_name));
}

static json_t *project_to_json(const struct identity_project *p) {
        return json_pack("{s:s, s:s, s:o, s:o}", "id", p->id, "name", p->name, "domain_id",
                         str_or_null(p->domain_id), "domain_name", str_or_null(p->domain_name));
}

json_t *identity_to_json(const struct identity *id) {
        _cleanup_json_ json_t *roles = json_array(), *projects = json_array();
        if (!roles || !projects)
                return NULL;
        for (size_t i = 0; i < id->n_roles; i++)
                if (json_array_append_new(roles, role_to_json(&id->roles[i])) < 0)
                        return NULL;
        for (size_t i = 0; i < id->n_projects; i++)
                if (json_array_append_new(projects, project_to_json(&id->projects[i])) < 0)
                        return NULL;
        return json_pack("{s:s, s:s, s:s, s:s, s:b, s:O, s:O, s:I}", "id", id->user_id, "name", id->name,
                         "domain_id", id->domain_id, "domain_name", id->domain_name ? id->domain_name : "",
                         "enabled", id->enabled, "roles", roles, "projects", projects, "fetched_at",
                         (json_int_t)(id->fetched_at_ms / 1000));
}

int identity_to_blob(const struct identity *id, char **ret, size_t *ret_size) {
        _cleanup_json_ json_t *j = identity_to_json(id);
        if (!j || json_object_set_new(j, "format", json_integer(IDENTITY_BLOB_VERSION)) < 0 ||
            json_object_set_new(j, "fetched_at_ms", json_integer((json_int_t)id->fetched_at_ms)) < 0)
                return -ENOMEM;
        char *s = json_dumps(j, JSON_COMPACT);
        if (!s)
                return -ENOMEM;
        *ret = s;
        *ret_size = strlen(s);
        return 0;
}

/* ---- parsing the stored blob */

static int take_str(json_t *o, const char *key, bool id_kind, bool optional, char **ret) {
        json_t *v = json_object_get(o, key);
        if (!v || json_is_null(v)) {
                if (!optional)
                        return -EBADMSG;
                *ret = NULL;
                return 0;
        }
        const char *s = json_string_value(v);
        if (!s || !(id_kind ? ks_valid_id(s) : ks_valid_name(s)))
                return -EBADMSG;
        return (*ret = strdup(s)) ? 0 : -ENOMEM;
}

static int parse_scope(const char *s, enum ks_scope_kind *ret) {
        if (!s)
                return -EBADMSG;
        if (strcmp(s, "project") == 0)
                *ret = KS_SCOPE_PROJECT;
        else if (strcmp(s, "domain") == 0)
                *ret = KS_SCOPE_DOMAIN;
        else if (strcmp(s, "system") == 0)
                *ret = KS_SCOPE_SYSTEM;
        else
                return -EBADMSG;
        return 0;
}

int identity_from_blob(const char *blob, size_t size, struct identity **ret) {
        _cleanup_json_ json_t *j = json_loadb(blob, size, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(j) || json_integer_value(json_object_get(j, "format")) != IDENTITY_BLOB_VERSION)
                return -EBADMSG;
        struct identity *id = calloc(1, sizeof(*id));
        if (!id)
                return -ENOMEM;
        int r;
        json_t *enabled = json_object_get(j, "enabled"), *fetched = json_object_get(j, "fetched_at_ms");
        json_t *roles = json_object_get(j, "roles"), *projects = json_object_get(j, "projects");
        const char *dn = json_string_value(json_object_get(j, "domain_name"));
        if ((r = take_str(j, "id", true, false, &id->user_id)) < 0 ||
            (r = take_str(j, "name", false, false, &id->name)) < 0 ||
            (r = take_str(j, "domain_id", true, false, &id->domain_id)) < 0)
                goto fail;
        if (dn && *dn && (r = take_str(j, "domain_name", false, false, &id->domain_name)) < 0)
                goto fail;
        r = -EBADMSG;
        if (!json_is_boolean(enabled) || !json_is_integer(fetched) || !json_is_array(roles) ||
            !json_is_array(projects) || json_array_size(roles) > KS_ASSIGNMENTS_MAX ||
            json_array_size(projects) > KS_ASSIGNMENTS_MAX)
                goto fail;
        id->enabled = json_is_true(enabled);
        id->fetched_at_ms = json_integer_value(fetched);
        if (json_array_size(roles) && !(id->roles = calloc(json_array_size(roles), sizeof(*id->roles))))
                goto nomem;
        if (json_array_size(projects) && !(id->projects = calloc(json_array_size(projects), sizeof(*id->projects))))
                goto nomem;
        size_t i;
        json_t *v;
        json_array_foreach(roles, i, v) {
                struct identity_role *x = &id->roles[id->n_roles++];
                if (!json_is_object(v) || (r = take_str(v, "id", true, false, &x->id)) < 0 ||
                    (r = take_str(v, "name", false, false, &x->name)) < 0 ||
                    (r = parse_scope(json_string_value(json_object_get(v, "scope")), &x->scope)) < 0 ||
                    (r = take_str(v, "project_id", true, true, &x->project_id)) < 0 ||
                    (r = take_str(v, "project_name", false, true, &x->project_name)) < 0 ||
                    (r = take_str(v, "domain_id", true, true, &x->domain_id)) < 0 ||
                    (r = take_str(v, "domain_name", false, true, &x->domain_name)) < 0) {
                        r = r < 0 ? r : -EBADMSG;
                        goto fail;
                }
        }
        json_array_foreach(projects, i, v) {
                struct identity_project *x = &id->projects[id->n_projects++];
                if (!json_is_object(v) || (r = take_str(v, "id", true, false, &x->id)) < 0 ||
                    (r = take_str(v, "name", false, false, &x->name)) < 0 ||
                    (r = take_str(v, "domain_id", true, true, &x->domain_id)) < 0 ||
                    (r = take_str(v, "domain_name", false, true, &x->domain_name)) < 0) {
                        r = r < 0 ? r : -EBADMSG;
                        goto fail;
                }
        }
        *ret = id;
        return 0;
nomem:
        r = -ENOMEM;
fail:
        identity_free(id);
        return r;
}

bool identity_is_admin_of(const struct identity *id, const struct config_cluster *cluster) {
        if (!id->enabled)
                return false;
        for (size_t i = 0; i < id->n_roles; i++)
                for (size_t k = 0; k < cluster->n_admin_roles; k++)
                        if (strcmp(id->roles[i].name, cluster->admin_roles[k]) == 0 ||
                            strcmp(id->roles[i].id, cluster->admin_roles[k]) == 0)
                                return true;
        return false;
}

/* The varlink User: the identity plus what depends on this daemon's
 * configuration (cluster admin roles) and on how it was answered. */
json_t *identity_to_user_json(const struct identity *id, const struct config *config, enum identity_source src) {
        json_t *u = identity_to_json(id);
        json_t *clusters = json_array();
        if (!u || !clusters)
                goto fail;
        for (size_t i = 0; i < config->n_clusters; i++)
                if (identity_is_admin_of(id, &config->clusters[i]) &&
                    json_array_append_new(clusters, json_string(config->clusters[i].name)) < 0)
                        goto fail;
        if (json_object_set_new(u, "admin_of_clusters", clusters) < 0) {
                clusters = NULL;
                goto fail;
        }
        /* which of the user's roles make them each cluster's
         * administrator: the groups a ClusterRoleBinding names */
        json_t *by_cluster = json_object();
        if (!by_cluster || json_object_set_new(u, "admin_roles", by_cluster) < 0) {
                clusters = NULL;
                goto fail;
        }
        for (size_t c = 0; c < config->n_clusters && id->enabled; c++) {
                const struct config_cluster *cl = &config->clusters[c];
                json_t *ids = NULL;
                for (size_t i = 0; i < id->n_roles; i++)
                        for (size_t k = 0; k < cl->n_admin_roles; k++) {
                                if (strcmp(id->roles[i].name, cl->admin_roles[k]) != 0 &&
                                    strcmp(id->roles[i].id, cl->admin_roles[k]) != 0)
                                        continue;
                                if ((!ids && (!(ids = json_array()) ||
                                              json_object_set_new(by_cluster, cl->name, ids) < 0)) ||
                                    json_array_append_new(ids, json_string(id->roles[i].id)) < 0) {
                                        clusters = NULL;
                                        goto fail;
                                }
                                break;
                        }
        }
        if (json_object_set_new(u, "source", json_string(src == IDENTITY_FROM_CACHE ? "cache" : "keystone")) < 0)
                goto fail;
        return u;
fail:
        json_decref(clusters);
        json_decref(u);
        return NULL;
}
