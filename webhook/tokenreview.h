/* TokenReview (authentication.k8s.io/v1 and v1beta1) as kube-apiserver's
 * webhook token authenticator sends and reads it: parsing a request body,
 * matching its audiences, turning the identity kaasd returns into a
 * Kubernetes user, and writing the reply.
 *
 * Pure functions over jansson: no I/O, no logging, no global state, so the
 * unit tests and fuzz targets call exactly what the server runs. Error
 * messages never quote the request: a token must not reach a log through
 * them. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* spec.audiences of one request, and the length of each entry */
#define TOKENREVIEW_MAX_AUDIENCES       64
#define TOKENREVIEW_MAX_AUDIENCE_LENGTH 1024
/* JSON values in a body, counted before it is parsed: a review has a few
 * dozen, 64 audiences included; a body of tiny values ([{},{},...]) would
 * otherwise cost jansson 75 times its size for the whole review */
#define TOKENREVIEW_MAX_VALUES          1024

#define TOKENREVIEW_KIND          "TokenReview"
#define TOKENREVIEW_API_V1        "authentication.k8s.io/v1"
#define TOKENREVIEW_API_V1BETA1   "authentication.k8s.io/v1beta1"

enum tokenreview_version { TOKENREVIEW_V1, TOKENREVIEW_V1BETA1 };

/* A parsed request. token and audiences point into root; release with
 * tokenreview_request_clear(), which wipes the token. */
struct tokenreview_request {
        enum tokenreview_version version;
        const char *token;          /* spec.token, NUL-free, not empty */
        size_t token_len;
        const char *audiences[TOKENREVIEW_MAX_AUDIENCES];  /* spec.audiences, in request order */
        size_t n_audiences;
        json_t *root;
};

/* The apiVersion string of v. */
const char *tokenreview_api_version(enum tokenreview_version v);

/*
 * Parses the len bytes at body (no NUL needed) as a TokenReview request:
 * a JSON object without duplicate keys, kind "TokenReview", apiVersion one
 * of the two above, spec an object with a non-empty string token, and
 * spec.audiences absent, null or an array of at most
 * TOKENREVIEW_MAX_AUDIENCES strings. metadata, status and unknown members
 * are ignored, as kube's own decoder does.
 *
 * Returns 0 and fills ret, or -EINVAL (malformed JSON, wrong kind or
 * apiVersion, missing or mistyped field) with a message for the client in
 * err that names the field but never quotes the body, or -ENOMEM.
 */
int tokenreview_parse(const char *body, size_t len, struct tokenreview_request *ret, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull(3, 4)));

/* Wipes the token, drops the JSON and zeroes r. Accepts a zeroed r. */
void tokenreview_request_clear(struct tokenreview_request *r);

/*
 * Decides spec.audiences against the audiences this webhook accepts.
 *   - none configured (n_accepted == 0): KaaS tokens are not bound to an
 *     audience here; true, and *ret_n = 0 (status.audiences is left out,
 *     so kube-apiserver checks its own API audiences);
 *   - the request names no audience (the API server's own is meant): true,
 *     *ret_n = 0;
 *   - otherwise the intersection, in request order and without repeats,
 *     goes to ret (pointers into req); true when it is not empty.
 * ret has room for TOKENREVIEW_MAX_AUDIENCES entries.
 */
bool tokenreview_match_audiences(const struct tokenreview_request *req, const char *const *accepted,
                                 size_t n_accepted, const char *ret[static TOKENREVIEW_MAX_AUDIENCES],
                                 size_t *ret_n) __attribute__((nonnull(1, 4, 5)));

struct tokenreview_user_options {
        const char *group_prefix;   /* put before every group; NULL or "" for none */
        bool role_names;            /* role names as groups too, after the role IDs */
};

/*
 * Builds status.user from the identity io.kaas.Token.Validate returned
 * ({username, uid, groups, extra}): username and uid as they are, groups the
 * role IDs (then, with role_names, the names from extra
 * "alpha.kubernetes.io/identity/roles"), prefixed and without repeats,
 * extra copied. A group starting with "system:", before or after the
 * prefix, is dropped: Kubernetes reserves those names ("system:masters" is
 * cluster-admin) and no Keystone role may grant them.
 *
 * Returns 0 and a new object in *ret; -EBADMSG when the identity is not of
 * that shape (a string where a string belongs, arrays of strings in
 * groups and extra); -EPERM when the username is empty or starts with
 * "system:" (reserved by Kubernetes: kaasd refuses them, this is the
 * second line); -ENOMEM. err says which.
 */
int tokenreview_user_from_identity(const json_t *identity, const struct tokenreview_user_options *o, json_t **ret,
                                   char *err, size_t err_size) __attribute__((warn_unused_result, nonnull(2, 3, 4)));

/* What a reply says. */
struct tokenreview_status {
        bool authenticated;
        const char *error;                  /* status.error, or NULL */
        const json_t *user;                 /* status.user when authenticated (borrowed) */
        const char *const *audiences;       /* status.audiences; left out when n_audiences is 0 */
        size_t n_audiences;
};

/* The reply as compact JSON text (malloc'd; the caller frees it), with the
 * request's apiVersion, kind TokenReview, a spec and the status. The spec
 * (which typed clients require, as kube-apiserver's own replies carry one)
 * is empty: nothing the request sent is echoed (status.audiences names
 * configured audiences only). NULL when out of memory. */
char *tokenreview_render(enum tokenreview_version v, const struct tokenreview_status *st, size_t *ret_len)
        __attribute__((warn_unused_result, nonnull(2, 3)));

/* A Kubernetes Status object for a refused request ({"kind":"Status",
 * "status":"Failure", code, reason, message}), as compact JSON text. NULL
 * when out of memory. */
char *tokenreview_render_failure(unsigned code, const char *reason, const char *message, size_t *ret_len)
        __attribute__((warn_unused_result, nonnull(2, 3, 4)));
