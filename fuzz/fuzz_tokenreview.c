/* Fuzz target: the webhook's TokenReview code (webhook/tokenreview.c) —
 * the parser of the bodies kube-apiserver (or anyone who reaches the
 * webhook's port) POSTs, the audience match, the conversion of kaasd's
 * identity into a Kubernetes user, and the rendering of the reply.
 *
 * Input: a request body. The same bytes, read as JSON, are also used as
 * the identity kaasd would return, so seeds of either shape work.
 *
 * Properties: a parsed request has a non-empty token and at most
 * TOKENREVIEW_MAX_AUDIENCES audiences; the reply echoes the request's
 * apiVersion, is JSON, and never contains the token; error messages never
 * quote the token; a user never gets a "system:" name. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "webhook/tokenreview.h"

static const char *const accepted[] = { "https://kubernetes.default.svc", "kaas", "" };

/* spec.token of body when it is JSON holding a token-like one: at least
 * 24 characters of [A-Za-z0-9._-] (KaaS tokens, JWTs). The fixed texts of
 * replies and messages hold no run that long ("authentication.k8s.io" is
 * 21), so finding it there means it was copied. */
static char *token_of(const uint8_t *data, size_t size) {
        json_t *j = json_loadb((const char *)data, size, 0, NULL);
        const char *t = json_string_value(json_object_get(json_object_get(j, "spec"), "token"));
        char *copy = NULL;
        if (t && strlen(t) >= 24 &&
            strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == strlen(t))
                copy = strdup(t);
        json_decref(j);
        return copy;
}

static void check_no_token(const char *text, const char *token) {
        if (text && token)
                FUZZ_ASSERT(!strstr(text, token));
}

static json_t *user_from(const uint8_t *data, size_t size, const struct tokenreview_user_options *o) {
        json_t *identity = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!identity)
                return NULL;
        json_t *user = NULL;
        char err[256] = "";
        int r = tokenreview_user_from_identity(identity, o, &user, err, sizeof(err));
        if (r == 0) {
                const char *name = json_string_value(json_object_get(user, "username"));
                FUZZ_ASSERT(name && *name && strncmp(name, "system:", 7) != 0);
                FUZZ_ASSERT(json_is_array(json_object_get(user, "groups")));
                if (o->group_prefix && *o->group_prefix) {
                        size_t i;
                        json_t *g;
                        json_array_foreach(json_object_get(user, "groups"), i, g)
                                FUZZ_ASSERT(strncmp(json_string_value(g), o->group_prefix,
                                                    strlen(o->group_prefix)) == 0);
                }
        } else {
                FUZZ_ASSERT((r == -EBADMSG || r == -EPERM || r == -ENOMEM) && err[0]);
                FUZZ_ASSERT(!user);
        }
        json_decref(identity);
        return user;
}

static void render(const struct tokenreview_request *req, const json_t *user, const char *token) {
        const char *aud[TOKENREVIEW_MAX_AUDIENCES];
        size_t n_aud = 0;
        bool ok = tokenreview_match_audiences(req, accepted, sizeof(accepted) / sizeof(accepted[0]), aud, &n_aud);
        FUZZ_ASSERT(n_aud <= req->n_audiences);
        FUZZ_ASSERT(ok == (req->n_audiences == 0 || n_aud > 0));
        for (size_t i = 0; i < n_aud; i++)
                for (size_t k = 0; k < i; k++)
                        FUZZ_ASSERT(strcmp(aud[i], aud[k]) != 0);

        struct tokenreview_status st = {
                .authenticated = ok && user,
                .user = user,
                .audiences = aud,
                .n_audiences = n_aud,
                .error = user ? NULL : "identity service unavailable",
        };
        size_t len = 0;
        char *out = tokenreview_render(req->version, &st, &len);
        FUZZ_ASSERT(out && strlen(out) == len);
        json_t *reply = json_loadb(out, len, JSON_REJECT_DUPLICATES, NULL);
        FUZZ_ASSERT(reply);
        FUZZ_ASSERT(strcmp(json_string_value(json_object_get(reply, "apiVersion")),
                           tokenreview_api_version(req->version)) == 0);
        /* typed clients need a spec; nothing of the request goes back */
        FUZZ_ASSERT(json_is_object(json_object_get(reply, "spec")));
        FUZZ_ASSERT(json_object_size(json_object_get(reply, "spec")) == 0);
        json_decref(reply);
        /* the token may coincide with a user field the reply carries by
         * design; only check when it is not part of one. An audience is
         * never echoed: the accepted ones the reply names hold ':' and '/'
         * or are shorter than a token. */
        char *u = user ? json_dumps(user, JSON_COMPACT) : NULL;
        if (!(u && token && strstr(u, token)))
                check_no_token(out, token);
        free(u);
        free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *token = token_of(data, size);

        static const struct tokenreview_user_options plain = { 0 }, prefixed = { "kaas:", true };
        json_t *user = user_from(data, size, size % 2 ? &prefixed : &plain);

        struct tokenreview_request req;
        memset(&req, 0, sizeof(req));
        char err[256];
        memset(err, 'x', sizeof(err));
        int r = tokenreview_parse((const char *)data, size, &req, err, sizeof(err));
        if (r < 0) {
                FUZZ_ASSERT(r == -EINVAL || r == -ENOMEM);
                FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) && err[0]);
                check_no_token(err, token);
                FUZZ_ASSERT(!req.root && !req.token);
        } else {
                FUZZ_ASSERT(req.token && req.token_len > 0 && req.root);
                FUZZ_ASSERT(req.n_audiences <= TOKENREVIEW_MAX_AUDIENCES);
                for (size_t i = 0; i < req.n_audiences; i++)
                        FUZZ_ASSERT(strlen(req.audiences[i]) <= TOKENREVIEW_MAX_AUDIENCE_LENGTH);
                render(&req, user, token);
                render(&req, NULL, token);
                tokenreview_request_clear(&req);
                FUZZ_ASSERT(!req.root && !req.token);
        }

        size_t len = 0;
        char *failure = tokenreview_render_failure(400, "BadRequest", r < 0 ? err : "ok", &len);
        FUZZ_ASSERT(failure && strlen(failure) == len);
        free(failure);

        json_decref(user);
        free(token);
        return 0;
}
