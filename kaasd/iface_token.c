/* io.kaas.Token: create, list, delete and validate KaaS tokens. The access
 * class in methods.c lets every local user in for Create/List/Delete/
 * RevokeUser; these handlers then act only for the OpenStack identity the
 * call's credentials prove, or for anyone when the peer is a local
 * administrator or the proven user holds a cluster admin role. Validate is
 * limited to root and the validator group by its access class. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "credentials.h"
#include "daemon.h"
#include "environment.h"
#include "keystone_json.h"
#include "log.h"
#include "methods.h"
#include "store_record.h"
#include "token_format.h"
#include "tokens.h"
#include "unix_names.h"

#define ERR(name) "io.kaas.Token." name

enum op_kind { OP_CREATE, OP_LIST, OP_DELETE, OP_REVOKE };

/* One call waiting for its credentials to be checked. */
struct op {
        enum op_kind kind;
        struct call *call;
        struct daemon *d;
        json_t *params;
        int64_t expires_limit;  /* 0, or what a new token may not outlive */
};

static void op_free(struct op *op) {
        call_unref(op->call);
        json_decref(op->params);
        free(op);
}

static bool is_cluster_admin(const struct daemon *d, const struct identity *id) {
        if (!id)
                return false;
        for (size_t i = 0; i < d->config->n_clusters; i++)
                if (identity_is_admin_of(id, &d->config->clusters[i]))
                        return true;
        return false;
}

static void audit_peer(char *buf, size_t size, struct call *call) {
        const struct peer *p = call_peer(call);
        snprintf(buf, size, "peer uid %u pid %d", (unsigned)p->uid, (int)p->pid);
}

/* Replies with the error a failed credential check deserves. */
static void reply_credentials_failure(struct call *call, const struct credential_outcome *o) {
        char peer[64];
        audit_peer(peer, sizeof(peer), call);
        if (o->status != -EINVAL)
                log_audit(call_id(call), "%s: authentication by %s failed (%s), %s", call_method(call), o->method,
                          o->error ? o->error : "-", peer);
        switch (o->status) {
        case -EINVAL:
                call_error_reason(call, ERR("CredentialsRequired"), o->error);
                break;
        case -EACCES:
                call_error_reason(call, ERR("AuthenticationFailed"), o->error);
                break;
        case -ENOTSUP:
                call_error_reason(call, ERR("ProofNotAccepted"), o->error);
                break;
        case -EPERM:    /* no token_id: what failed is a proof, not a token's check */
                call_error(call, ERR("UserDisabled"), json_pack("{s:s}", "user_id", o->id ? o->id->user_id : ""));
                break;
        case -EKEYREJECTED:
                call_error(call, ERR("UserRefused"), json_pack("{s:s,s:s}", "user_id", o->id ? o->id->user_id : "",
                                                               "reason", o->error ? o->error : "user name refused"));
                break;
        case -EBUSY:
                call_error(call, ERR("RateLimited"), json_pack("{s:i}", "retry_after", (int)o->retry_after));
                break;
        case -EHOSTUNREACH:
        case -ECANCELED:
                call_error_reason(call, ERR("Unavailable"), o->error ? o->error : "identity service unavailable");
                break;
        default:
                call_error_reason(call, "io.kaas.InternalError", o->error ? o->error : "credential check failed");
                break;
        }
}

/* ------------------------------------------------------------ Create */

/* Descriptions end up on other people's terminals (kaasctl token list of
 * an administrator): no control characters, C0, DEL or C1. C1 controls
 * (U+0080..U+009F; CSI U+009B starts an escape sequence as ESC [ does)
 * are 0xc2 0x80..0x9f in UTF-8, which jansson has checked s is. */
static bool description_valid(const char *s) {
        if (strlen(s) > STORE_DESCRIPTION_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                if (*p < 0x20 || *p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
                        return false;
        return true;
}

static int count_cb(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec, void *userdata) {
        (*(uint64_t *)userdata)++;
        return 0;
}

static void do_create(struct op *op, const struct identity *id) {
        struct daemon *d = op->d;
        struct call *call = op->call;
        const struct config *c = d->config;
        char peer[64];
        audit_peer(peer, sizeof(peer), call);
        if (strncmp(id->name, "system:", 7) == 0) {
                call_error(call, ERR("UserRefused"), json_pack("{s:s, s:s}", "user_id", id->user_id, "reason",
                                                               "user names starting with system: are reserved in Kubernetes"));
                return;
        }
        json_t *days_j = json_object_get(op->params, "expires_in_days");
        json_int_t days = json_is_integer(days_j) ? json_integer_value(days_j) : (json_int_t)c->token_default_days;
        if (days < 1 || days > (json_int_t)c->token_max_days) {
                char why[128];
                snprintf(why, sizeof(why), "expires_in_days must be between 1 and %u", c->token_max_days);
                call_error_reason(call, ERR("InvalidArgument"), why);
                return;
        }
        const char *desc = json_string_value(json_object_get(op->params, "description"));
        if (desc && !description_valid(desc)) {
                call_error_reason(call, ERR("InvalidArgument"),
                                  "description: at most 256 bytes, no control characters (U+0000-U+001F, "
                                  "U+007F-U+009F)");
                return;
        }
        if (c->token_max_per_user > 0) {
                uint64_t n = 0;
                if (store_token_list_by_owner(d->store, id->user_id, count_cb, &n) < 0) {
                        call_error_reason(call, "io.kaas.InternalError", "token store error");
                        return;
                }
                if (n >= c->token_max_per_user) {
                        call_error(call, ERR("TooManyTokens"), json_pack("{s:i}", "limit", (int)c->token_max_per_user));
                        return;
                }
        }

        char token[TOKEN_STRING_SIZE];
        uint8_t hash[TOKEN_HASH_SIZE];
        int64_t now = (int64_t)time(NULL);
        struct token_record rec = {
                .owner_id = id->user_id,
                .owner_name = id->name,
                .owner_domain_id = id->domain_id ? id->domain_id : (char *)"",
                .description = (char *)(desc ? desc : ""),
                .created = now,
                .expires = now + (int64_t)days * 86400,
        };
        /* proven by a KaaS token: a stolen token must not renew itself
         * by minting successors */
        if (op->expires_limit > 0 && rec.expires > op->expires_limit)
                rec.expires = op->expires_limit;
        if (environment_enabled(d)) {
                environment_token_create(d, call, &rec, id);  /* replies once replicated here */
                return;
        }
        int r = -EEXIST;
        /* a collision of 238 random bits will not happen; of token IDs
         * (131 bits) neither — but a retry costs nothing */
        for (int attempt = 0; attempt < 3 && r == -EEXIST; attempt++) {
                if (token_generate(token) < 0 || token_id_generate(rec.token_id) < 0 ||
                    token_service_hash(d->tokens, token, TOKEN_LENGTH, hash) < 0) {
                        r = -EIO;
                        break;
                }
                r = store_token_put(d->store, hash, &rec);  /* durable before we answer */
        }
        sodium_memzero(hash, sizeof(hash));
        if (r < 0) {
                sodium_memzero(token, sizeof(token));
                log_err(call_id(call), "storing a new token failed: %s", store_last_error(d->store));
                call_error_reason(call, "io.kaas.InternalError",
                                  r == -ENOSPC ? "the token store is full (no space left on device)" : "token store error");
                return;
        }
        token_service_stats_mut(d->tokens)->created++;
        log_audit(call_id(call), "token created: token_id=%s user=%s user_id=%s expires=%lld, %s", rec.token_id,
                  id->name, id->user_id, (long long)rec.expires, peer);
        json_t *reply = json_pack("{s:s, s:s, s:s, s:s, s:I}", "token", token, "id", rec.token_id, "user_id",
                                  id->user_id, "user_name", id->name, "expires", (json_int_t)rec.expires);
        sodium_memzero(token, sizeof(token));
        if (!reply) {
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
                return;
        }
        call_reply(call, reply);  /* the server wipes the reply once sent */
}

/* -------------------------------------------------- List and Delete */

struct list_ctx {
        json_t *tokens;
};

static int list_cb(const uint8_t hash[STORE_HASH_SIZE], const struct token_record *rec, void *userdata) {
        struct list_ctx *ctx = userdata;
        return json_array_append_new(ctx->tokens, token_info_json(rec)) < 0 ? -ENOMEM : 0;
}

static void reply_list(struct op *op, const char *owner_id) {
        struct list_ctx ctx = { .tokens = json_array() };
        if (!ctx.tokens) {
                call_error_reason(op->call, "io.kaas.InternalError", "out of memory");
                return;
        }
        int r = owner_id ? store_token_list_by_owner(op->d->store, owner_id, list_cb, &ctx)
                         : store_token_list_all(op->d->store, list_cb, &ctx);
        if (r < 0) {
                json_decref(ctx.tokens);
                call_error_reason(op->call, "io.kaas.InternalError", "token store error");
                return;
        }
        call_reply(op->call, json_pack("{s:o}", "tokens", ctx.tokens));
}

/* Resolving a user named by an administrator: a name (in domain) first,
 * else taken as a Keystone user ID. */
struct resolve {
        struct op *op;
        char *user;
};

static void finish_for_user(struct op *op, const char *user_id) {
        char peer[64];
        audit_peer(peer, sizeof(peer), op->call);
        /* a string no token's owner can have (empty, longer than an ID):
         * nobody's tokens, not a failure of the store */
        bool no_owner = !store_user_id_valid(user_id, strlen(user_id));
        if (op->kind == OP_LIST) {
                if (no_owner)
                        call_reply(op->call, json_pack("{s:[]}", "tokens"));
                else
                        reply_list(op, user_id);
                return;
        }
        if (no_owner) {
                log_audit(call_id(op->call), "tokens revoked: user_id=(not a user ID) count=0, %s", peer);
                call_reply(op->call, json_pack("{s:I}", "deleted", (json_int_t)0));
                return;
        }
        if (environment_enabled(op->d)) {
                environment_token_revoke(op->d, op->call, user_id);
                return;
        }
        uint64_t n = 0;
        int r = store_token_delete_by_owner(op->d->store, user_id, &n);
        token_service_stats_mut(op->d->tokens)->deleted += n;
        log_audit(call_id(op->call), "tokens revoked: user_id=%s count=%llu%s, %s", user_id, (unsigned long long)n,
                  r < 0 ? " (stopped by an error)" : "", peer);
        if (r < 0)
                call_error_reason(op->call, "io.kaas.InternalError", "token store error");
        else
                call_reply(op->call, json_pack("{s:I}", "deleted", (json_int_t)n));
}

static void on_resolved(int status, const struct identity *id, enum identity_source source, const char *error,
                        void *userdata) {
        struct resolve *rs = userdata;
        struct op *op = rs->op;
        if (status == 0)
                finish_for_user(op, id->user_id);
        else if (status == -ENOENT)
                finish_for_user(op, rs->user);  /* not a name: an ID (perhaps of a deleted user) */
        else
                call_error_reason(op->call, ERR("Unavailable"), error ? error : "identity service unavailable");
        free(rs->user);
        free(rs);
        op_free(op);
}

/* Whether RevokeUser's user (an ID, or a name with an optional domain ID
 * or name) is the proven caller. */
static bool names_actor(const struct identity *actor, const char *user, const char *domain) {
        if (strcmp(user, actor->user_id) != 0 && !(actor->name && strcmp(user, actor->name) == 0))
                return false;
        return !domain || (actor->domain_id && strcmp(domain, actor->domain_id) == 0) ||
               (actor->domain_name && strcmp(domain, actor->domain_name) == 0);
}

static void act_for_named_user(struct op *op, const char *user) {
        const char *domain = json_string_value(json_object_get(op->params, "domain"));
        if (domain && !ks_valid_name(domain)) {
                call_error_reason(op->call, ERR("InvalidArgument"), "domain: not a Keystone domain name");
                op_free(op);
                return;
        }
        struct resolve *rs = calloc(1, sizeof(*rs));
        if (!rs || !(rs->user = strdup(user))) {
                free(rs);
                call_error_reason(op->call, "io.kaas.InternalError", "out of memory");
                op_free(op);
                return;
        }
        rs->op = op;
        struct identity_query q = { .name = user, .domain = domain };
        int r = identity_lookup(op->d->identities, &q, call_id(op->call), on_resolved, rs, NULL);
        if (r == 0)
                return;
        if (r == -EINVAL)
                finish_for_user(op, user);      /* not something Keystone could hold as a name: an ID */
        else    /* never "nobody's tokens" for a name that was not looked up */
                call_error_reason(op->call, ERR("Unavailable"),
                                  r == -EBUSY ? "too many identity lookups waiting for Keystone" : strerror(-r));
        free(rs->user);
        free(rs);
        op_free(op);
}

static void do_delete(struct op *op, const struct identity *actor, bool admin) {
        struct daemon *d = op->d;
        json_t *ids = json_object_get(op->params, "ids");
        size_t i;
        json_t *v;
        char peer[64];
        audit_peer(peer, sizeof(peer), op->call);
        /* all or nothing: every ID must be the caller's (or the caller an
         * administrator) before anything is deleted */
        json_array_foreach(ids, i, v) {
                const char *tid = json_string_value(v);
                struct token_record rec = { 0 };
                int r = token_id_check_format(tid, strlen(tid)) < 0 ? -ENOENT
                                                                     : store_token_get_by_id(d->store, tid, NULL, &rec);
                bool visible = r == 0 && (admin || (actor && strcmp(rec.owner_id, actor->user_id) == 0));
                token_record_free(&rec);
                if (r < 0 && r != -ENOENT) {
                        call_error_reason(op->call, "io.kaas.InternalError", "token store error");
                        return;
                }
                if (!visible) {
                        call_error(op->call, ERR("NotFound"), json_pack("{s:s}", "id", tid));
                        return;
                }
        }
        if (environment_enabled(d)) {
                environment_token_delete(d, op->call, ids, actor ? actor->name : "local administrator");
                return;
        }
        json_t *deleted = json_array();
        json_array_foreach(ids, i, v) {
                const char *tid = json_string_value(v);
                int r = store_token_delete_by_id(d->store, tid);
                if (r == 0) {
                        token_service_stats_mut(d->tokens)->deleted++;
                        json_array_append_new(deleted, json_string(tid));
                        log_audit(call_id(op->call), "token deleted: token_id=%s by %s, %s", tid,
                                  actor ? actor->name : "local administrator", peer);
                } else if (r != -ENOENT) {
                        json_decref(deleted);
                        call_error_reason(op->call, "io.kaas.InternalError", "token store error");
                        return;
                }
        }
        call_reply(op->call, json_pack("{s:o}", "deleted", deleted));
}

/* Runs an operation once the actor is known (NULL: a local administrator
 * without credentials). */
static void perform(struct op *op, const struct identity *actor) {
        bool admin = call_peer_is_admin(op->call) || is_cluster_admin(op->d, actor);
        const char *user = json_string_value(json_object_get(op->params, "user"));
        switch (op->kind) {
        case OP_CREATE:
                do_create(op, actor);
                break;
        case OP_LIST:
                if (json_is_true(json_object_get(op->params, "all")) || user) {
                        if (!admin) {
                                call_error_reason(op->call, ERR("PermissionDenied"),
                                                  "only administrators may list other users' tokens");
                                break;
                        }
                        if (user) {
                                act_for_named_user(op, user);
                                return;  /* owns op now */
                        }
                        reply_list(op, NULL);
                        break;
                }
                if (!actor) {
                        call_error_reason(op->call, ERR("CredentialsRequired"),
                                          "a local administrator must name a user or ask for all");
                        break;
                }
                reply_list(op, actor->user_id);
                break;
        case OP_DELETE:
                do_delete(op, actor, admin);
                break;
        case OP_REVOKE:
                if (admin) {
                        act_for_named_user(op, user);
                        return;
                }
                /* owners end all of their own tokens at once: after a theft,
                 * that includes whatever the stolen token made */
                if (actor && names_actor(actor, user, json_string_value(json_object_get(op->params, "domain")))) {
                        finish_for_user(op, actor->user_id);
                        break;
                }
                call_error_reason(op->call, ERR("PermissionDenied"),
                                  "only administrators may revoke another user's tokens");
                break;
        }
        op_free(op);
}

static void on_credentials(const struct credential_outcome *o, void *userdata) {
        struct op *op = userdata;
        if (o->status < 0) {
                reply_credentials_failure(op->call, o);
                op_free(op);
                return;
        }
        op->expires_limit = o->expires_limit;
        perform(op, o->id);
}

static unsigned credential_flags(const struct call *call) {
        return call_peer_is_frontend(call) ? CREDENTIALS_FRONTEND : 0;
}

static int start(enum op_kind kind, struct call *call, json_t *parameters, struct daemon *d) {
        struct op *op = calloc(1, sizeof(*op));
        if (!op)
                return -ENOMEM;
        op->kind = kind;
        op->call = call_ref(call);
        op->d = d;
        op->params = json_incref(parameters);
        if (kind != OP_LIST && environment_refuse_write(d, call)) {
                op_free(op);
                return 0;
        }
        json_t *cred = json_object_get(parameters, "credentials");
        if (!cred || json_is_null(cred)) {
                if (kind == OP_CREATE || !call_peer_is_admin(call)) {
                        call_error_reason(call, ERR("CredentialsRequired"),
                                          "prove an OpenStack identity: user and password, keystone_token or kaas_token");
                        op_free(op);
                        return 0;
                }
                perform(op, NULL);
                return 0;
        }
        int r = credentials_verify(d->credentials, cred, call_peer(call), credential_flags(call), call_id(call),
                                   on_credentials, op);
        if (r < 0)
                op_free(op);
        return r;
}

int token_create(struct call *call, json_t *parameters, void *context) {
        return start(OP_CREATE, call, parameters, context);
}

/* A user named to List or RevokeUser: a user ID or name as Keystone keeps
 * them, else nobody's, said as such, not as a failure of the store it
 * was looked for in. */
static bool user_param_valid(struct call *call, json_t *parameters) {
        json_t *user = json_object_get(parameters, "user");
        size_t n = json_string_length(user);
        if (user && (n == 0 || n > STORE_NAME_MAX)) {
                call_error_reason(call, ERR("InvalidArgument"), "user: a Keystone user ID or name, 1 to 255 bytes");
                return false;
        }
        return true;
}

int token_list(struct call *call, json_t *parameters, void *context) {
        if (!user_param_valid(call, parameters))
                return 0;
        return start(OP_LIST, call, parameters, context);
}

int token_delete(struct call *call, json_t *parameters, void *context) {
        return start(OP_DELETE, call, parameters, context);
}

int token_revoke_user(struct call *call, json_t *parameters, void *context) {
        if (!user_param_valid(call, parameters))        /* user is required: the interface checked it is there */
                return 0;
        return start(OP_REVOKE, call, parameters, context);
}

/* ------------------------------------------------------ Authenticate */

/* A password exchanged for the unscoped Keystone token of its own
 * authentication: the proof a front end (kaas-panel) keeps for a session
 * instead of the password, and presents as keystone_token afterwards.
 * Throttled as Create is; the identity must be enabled. */
static void on_authenticated(const struct credential_outcome *o, void *userdata) {
        struct call *call = userdata;
        if (o->status < 0) {
                reply_credentials_failure(call, o);
                call_unref(call);
                return;
        }
        char peer[64];
        audit_peer(peer, sizeof(peer), call);
        log_audit(call_id(call), "authenticated user=%s user_id=%s by password for a session until %lld, %s",
                  o->id->name, o->id->user_id, (long long)o->keystone_expires, peer);
        json_t *reply = json_pack("{s:s, s:I, s:s, s:s, s:s}", "keystone_token", o->keystone_token, "expires",
                                  (json_int_t)o->keystone_expires, "user_id", o->id->user_id, "user_name",
                                  o->id->name, "domain_id", o->id->domain_id ? o->id->domain_id : "");
        if (reply)
                call_reply(call, reply);  /* the server wipes the reply once sent */
        else
                call_error_reason(call, "io.kaas.InternalError", "out of memory");
        call_unref(call);
}

int token_authenticate(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        json_t *cred = json_object_get(parameters, "credentials");
        if (!json_is_object(cred)) {
                call_error_reason(call, ERR("CredentialsRequired"), "Authenticate takes a user name and password");
                return 0;
        }
        call_ref(call);
        int r = credentials_authenticate(d->credentials, cred, call_peer(call), credential_flags(call), call_id(call),
                                         on_authenticated, call);
        if (r < 0)
                call_unref(call);
        return r;
}

/* ---------------------------------------------------- Unauthenticate */

static void on_session_ended(int status, const char *user_id, const char *error, void *userdata) {
        struct call *call = userdata;
        char peer[64];
        audit_peer(peer, sizeof(peer), call);
        const char *who = user_id[0] ? user_id : "-";
        if (status == 0 || status == -ENOENT) {
                log_audit(call_id(call), "session ended: user_id=%s, its Keystone token %s, %s", who,
                          status == 0 ? "revoked" : "no longer valid in Keystone", peer);
                call_reply(call, json_object());
        } else if (status == -EACCES) {
                log_audit(call_id(call), "session ended: user_id=%s, Keystone refused to revoke its token (%s), %s", who,
                          error ? error : "-", peer);
                call_error_reason(call, ERR("AuthenticationFailed"), error ? error : "Keystone refused the revocation");
        } else {
                log_audit(call_id(call), "session ended: user_id=%s, its Keystone token not revoked (%s), %s", who,
                          error ? error : "-", peer);
                call_error_reason(call, ERR("Unavailable"), error ? error : "identity service unavailable");
        }
        call_unref(call);
}

int token_unauthenticate(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        const char *kt = json_string_value(json_object_get(parameters, "keystone_token"));
        if (!kt || !*kt) {
                call_error_reason(call, ERR("InvalidArgument"), "keystone_token: the token Authenticate gave");
                return 0;
        }
        call_ref(call);
        int r = credentials_end_session(d->credentials, kt, on_session_ended, call);
        if (r == 0)
                return 0;
        call_unref(call);
        if (r == -EINVAL)
                call_error_reason(call, ERR("InvalidArgument"), "keystone_token: not a Keystone token");
        else if (r == -ENXIO)
                call_error_reason(call, ERR("Unavailable"), "no Keystone is configured");
        else if (r == -EBUSY)
                call_error_reason(call, ERR("Unavailable"), "too many revocations or calls to Keystone in flight");
        else
                return r;
        return 0;
}

/* ---------------------------------------------------------- Validate */

struct validation {
        struct call *call;
        struct daemon *d;
        char *user;  /* expected owner, or NULL */
};

/* The expected user is a Unix login name: the token's owner must map to
 * exactly that name under the NSS module's rules (unix_names.h), so PAM
 * and NSS never disagree about who a token belongs to. */
static bool user_matches(const struct daemon *d, const struct identity *id, const char *user) {
        char *mine = NULL;
        if (unix_user_name(id->name, id->domain_id, id->domain_name, d->config->default_domain,
                           d->config->domain_separator[0], &mine) < 0)
                return false;
        bool same = strcmp(mine, user) == 0;
        free(mine);
        return same;
}

static void on_validated(enum token_verdict v, const uint8_t *hash, const struct token_record *rec,
                         const struct identity *id, const char *error, void *userdata) {
        struct validation *val = userdata;
        struct call *call = val->call;
        if (v == TOKEN_OK && val->user && !user_matches(val->d, id, val->user)) {
                v = TOKEN_INVALID;
                error = "the token belongs to another user";
        }
        if (v != TOKEN_OK) {
                char peer[64];
                audit_peer(peer, sizeof(peer), call);
                /* a token typed as the user name too (user and password
                 * of a Basic header) is not written down */
                const char *expected = !val->user                        ? "-"
                                       : token_is_token_shaped(val->user) ? "<a KaaS token>"
                                                                          : val->user;
                log_audit(call_id(call), "validation failed: %s (%s) token_id=%s expected_user=%s, %s",
                          token_verdict_name(v), error ? error : "-", rec ? rec->token_id : "-", expected, peer);
        }
        switch (v) {
        case TOKEN_OK: {
                json_t *ident = token_kube_identity(id);
                json_t *reply = ident ? json_pack("{s:o, s:s, s:s, s:I, s:b}", "identity", ident, "token_id", rec->token_id,
                                                  "user_id", rec->owner_id, "expires", (json_int_t)rec->expires,
                                                  "enabled", id->enabled)
                                      : NULL;
                if (reply)
                        call_reply(call, reply);
                else
                        call_error_reason(call, "io.kaas.InternalError", "out of memory");
                break;
        }
        case TOKEN_INVALID:
                call_error(call, ERR("InvalidToken"), NULL);
                break;
        case TOKEN_EXPIRED:
                call_error(call, ERR("Expired"), json_pack("{s:s, s:I}", "token_id", rec->token_id, "expired",
                                                           (json_int_t)rec->expires));
                break;
        /* the token ID lets a validator's log name the token as the audit line above does */
        case TOKEN_USER_DISABLED:
                call_error(call, ERR("UserDisabled"), json_pack("{s:s, s:s}", "user_id", rec ? rec->owner_id : "",
                                                                "token_id", rec ? rec->token_id : ""));
                break;
        case TOKEN_USER_REFUSED:
                call_error(call, ERR("UserRefused"), json_pack("{s:s, s:s, s:s}", "user_id", rec ? rec->owner_id : "",
                                                               "token_id", rec ? rec->token_id : "",
                                                               "reason", error ? error : "reserved name"));
                break;
        case TOKEN_UNAVAILABLE:
                call_error_reason(call, ERR("Unavailable"), error ? error : "identity service unavailable");
                break;
        case TOKEN_FAILED:
                call_error_reason(call, "io.kaas.InternalError", error ? error : "token check failed");
                break;
        }
        call_unref(call);
        free(val->user);
        free(val);
}

int token_validate(struct call *call, json_t *parameters, void *context) {
        struct daemon *d = context;
        json_t *tok = json_object_get(parameters, "token");
        const char *user = json_string_value(json_object_get(parameters, "user"));
        struct validation *val = calloc(1, sizeof(*val));
        if (!val || (user && !(val->user = strdup(user)))) {
                free(val);
                return -ENOMEM;
        }
        val->call = call_ref(call);
        val->d = d;
        int r = token_service_check(d->tokens, json_string_value(tok), json_string_length(tok), call_id(call),
                                    on_validated, val, NULL);
        if (r < 0) {
                call_unref(call);
                free(val->user);
                free(val);
        }
        return r;
}
