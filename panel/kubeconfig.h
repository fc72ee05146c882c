/* The documents kaas-panel hands out, written by common/kube_doc.h (the
 * same quoting as kaasctl's): a user's kubeconfig for a cluster, and the
 * cluster-admin ClusterRoleBinding of a cluster's admin roles. */
#pragma once

#include <jansson.h>
#include <stddef.h>

#include "settings.h"

/* A kubeconfig for cluster c carrying token (a KaaS token: anything else
 * is -EINVAL) for user_name: the cluster's server and CA data, a user
 * "kaas-CLUSTER", a context named after the cluster, current. *ret is
 * malloc()ed YAML (a secret: the caller wipes it, hd_respond() does). */
int panel_kubeconfig(const struct panel_cluster *c, const char *user_name, const char *token, char **ret,
                     size_t *ret_len) __attribute__((warn_unused_result, nonnull));

/* The ClusterRoleBinding YAML for cluster of role_ids (a JSON array of
 * strings), as kaasctl rbac cluster-admin writes it. */
int panel_rbac_yaml(const char *cluster, json_t *role_ids, char **ret, size_t *ret_len)
        __attribute__((warn_unused_result, nonnull(1, 3, 4)));
