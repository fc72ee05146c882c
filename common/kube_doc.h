/* Kubernetes documents written by kaas's own code (kaasctl, kaas-panel):
 * a growing buffer that wipes what it drops (documents carry tokens and
 * keys), base64, JSON values written as small, fully quoted YAML (every
 * string a double-quoted scalar in plain ASCII, so no value can change
 * the document's structure), PEM checks, the kubeconfig skeleton and the
 * ClusterRoleBinding that makes a cluster's admin roles cluster-admin.
 * Depends on jansson only; never logs, holds no global state. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define KUBE_NAME_MAX 200

/* A NUL-terminated buffer; zero it to start, kube_buf_wipe() to end. */
struct kube_buf {
        char *p;
        size_t len, cap;
};

void kube_buf_wipe(struct kube_buf *b);
static inline void kube_buf_wipep(struct kube_buf *b) {
        kube_buf_wipe(b);
}
#define KUBE_BUF_AUTO __attribute__((cleanup(kube_buf_wipep)))

/* Room for more bytes and the NUL; 0 or -ENOMEM. Never realloc(): the
 * old copy is wiped. */
int kube_buf_reserve(struct kube_buf *b, size_t more) __attribute__((warn_unused_result));
int kube_buf_put(struct kube_buf *b, const char *s, size_t n) __attribute__((warn_unused_result));
int kube_buf_puts(struct kube_buf *b, const char *s) __attribute__((warn_unused_result));

/* Appends the standard base64 of in. */
int kube_base64(const unsigned char *in, size_t len, struct kube_buf *out) __attribute__((warn_unused_result));

/* Appends doc (an object) as YAML. Keys are the caller's own identifiers,
 * written as they are; every string value is quoted and escaped. */
int kube_yaml(json_t *doc, struct kube_buf *out) __attribute__((warn_unused_result));

enum kube_pem_kind { KUBE_PEM_CERTIFICATES, KUBE_PEM_PRIVATE_KEY };

/* NULL when text is PEM of the kind (expected labels, base64 bodies, no
 * headers; at least one certificate, exactly one key), else why not. */
const char *kube_pem_check(const char *text, size_t len, enum kube_pem_kind kind);

/* Letters, digits, '-', '_' and '.', 1 to KUBE_NAME_MAX, not "." or "..". */
bool kube_name_valid(const char *s);

/* The Config skeleton: one cluster, one user, one context using both and
 * current. Steals cluster and user. NULL when out of memory. */
json_t *kube_kubeconfig_new(const char *cluster_name, json_t *cluster, const char *user_name, json_t *user);

/* The ClusterRoleBinding "kaas:cluster-admin[:CLUSTER]" of cluster-admin
 * to the groups role_ids (duplicates dropped), labelled managed-by. */
json_t *kube_cluster_admin_binding(const char *cluster, const char *const *role_ids, size_t n_role_ids,
                                   const char *managed_by);
