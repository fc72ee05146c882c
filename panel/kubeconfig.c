/* See kubeconfig.h. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kube_doc.h"
#include "kubeconfig.h"
#include "token_format.h"

#define MAX_ROLES 64

static int to_yaml(json_t *doc, char **ret, size_t *ret_len) {
        struct kube_buf out = { 0 };
        if (kube_yaml(doc, &out) < 0 || !out.p) {
                kube_buf_wipe(&out);
                return -ENOMEM;
        }
        *ret = out.p;
        *ret_len = out.len;
        return 0;
}

int panel_kubeconfig(const struct panel_cluster *c, const char *user_name, const char *token, char **ret,
                     size_t *ret_len) {
        if (token_check_format(token, strlen(token)) < 0)
                return -EINVAL;
        char kube_user[KUBE_NAME_MAX + 8];
        snprintf(kube_user, sizeof(kube_user), "kaas-%s", c->name);
        json_t *cluster = json_pack("{s:s, s:s}", "server", c->server, "certificate-authority-data", c->ca_data);
        json_t *user = json_pack("{s:s}", "token", token);
        if (!cluster || !user) {
                json_decref(cluster);
                json_decref(user);
                return -ENOMEM;
        }
        json_t *doc = kube_kubeconfig_new(c->name, cluster, kube_user, user);  /* steals both */
        if (!doc)
                return -ENOMEM;
        int r = to_yaml(doc, ret, ret_len);
        json_decref(doc);  /* wiped: main.c's allocator */
        return r;
}

int panel_rbac_yaml(const char *cluster, json_t *role_ids, char **ret, size_t *ret_len) {
        const char *ids[MAX_ROLES];
        size_t n = 0, i;
        json_t *v;
        json_array_foreach(role_ids, i, v) {
                if (n < MAX_ROLES && json_is_string(v))
                        ids[n++] = json_string_value(v);
        }
        json_t *doc = kube_cluster_admin_binding(cluster, ids, n, "kaas-panel");
        if (!doc)
                return -ENOMEM;
        int r = to_yaml(doc, ret, ret_len);
        json_decref(doc);
        return r;
}
