/* Keystone v3 reply parsing: every reply body kaasd reads from Keystone
 * goes through here and is checked field by field (presence, JSON type,
 * length, characters) before any other code sees it. A reply that does not
 * match is refused with -EBADMSG and a message naming the field; nothing
 * here trusts Keystone enough to crash on what it sends.
 *
 * Pure functions on (body, length): no I/O, no logging, no global state,
 * so the cmocka tests and the fuzz target drive them directly. Results own
 * their strings; free them with the matching *_clear() / *_free(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Keystone's column sizes: ids String(64), names String(255). */
#define KS_ID_MAX 64
#define KS_NAME_MAX 255
/* More effective assignments than this is not a user we can represent. */
#define KS_ASSIGNMENTS_MAX 4096
#define KS_ERROR_SIZE 256

struct ks_user {
        char *id;
        char *name;
        char *domain_id;
        char *domain_name;      /* NULL when the reply does not carry it */
        bool enabled;
};

struct ks_domain {
        char *id;
        char *name;
        bool enabled;
};

enum ks_scope_kind { KS_SCOPE_PROJECT, KS_SCOPE_DOMAIN, KS_SCOPE_SYSTEM };

struct ks_assignment {
        char *role_id;
        char *role_name;
        enum ks_scope_kind scope;
        char *scope_id;           /* project or domain ID; "all" for the system */
        char *scope_name;         /* project or domain name; NULL for the system */
        char *scope_domain_id;    /* the project's domain; NULL otherwise */
        char *scope_domain_name;
};

struct ks_assignments {
        struct ks_assignment *items;
        size_t n;
        /* user.domain.name as the listing reports it, when any entry has it */
        char *user_domain_name;
};

/* token.methods, as bits: how the token was obtained. Rescoping a token
 * adds "token" and keeps the methods it came from. */
enum {
        KS_METHOD_PASSWORD = 1u << 0,
        KS_METHOD_TOTP = 1u << 1,
        KS_METHOD_EXTERNAL = 1u << 2,               /* external, kerberos, x509 */
        KS_METHOD_FEDERATED = 1u << 3,              /* mapped, openid, saml2, or user.OS-FEDERATION's protocol */
        KS_METHOD_TOKEN = 1u << 4,
        KS_METHOD_APPLICATION_CREDENTIAL = 1u << 5,
        KS_METHOD_OAUTH1 = 1u << 6,
        KS_METHOD_OTHER = 1u << 7,                  /* any other name (ec2credential, a plugin's) */
};

/* A section that says the token acts for someone under a delegation. */
enum ks_delegation {
        KS_DELEGATION_NONE,
        KS_DELEGATION_APPLICATION_CREDENTIAL,  /* token.application_credential */
        KS_DELEGATION_TRUST,                   /* token.OS-TRUST:trust */
        KS_DELEGATION_OAUTH1,                  /* token.OS-OAUTH1 */
};

/* The body of POST or GET /v3/auth/tokens: who the token is for, its
 * lifetime and how it was obtained. The token itself travels in a header
 * and is not parsed here. */
struct ks_token_info {
        struct ks_user user;      /* domain_name filled, enabled = true */
        int64_t issued_at;        /* unix seconds */
        int64_t expires_at;
        bool system_scope;        /* "system": {"all": true} */
        unsigned methods;         /* KS_METHOD_* of token.methods; 0 when absent or empty */
        enum ks_delegation delegation;  /* the first of the sections present, in enum order */
        bool federated;           /* user.OS-FEDERATION present */
};

void ks_user_clear(struct ks_user *u);
void ks_domain_clear(struct ks_domain *d);
void ks_assignments_clear(struct ks_assignments *a);
void ks_token_info_clear(struct ks_token_info *t);
const char *ks_scope_kind_name(enum ks_scope_kind k);

/* Each returns 0, -EBADMSG with a message in err (never holding more than
 * KS_ERROR_SIZE bytes), or -ENOMEM. Outputs are untouched on failure. */
int ks_json_parse_token(const char *body, size_t len, struct ks_token_info *ret, char *err,
                        size_t err_size);
/* GET /v3/users/{id} */
int ks_json_parse_user(const char *body, size_t len, struct ks_user *ret, char *err, size_t err_size);
/* GET /v3/users?name=N&domain_id=D: the one user named exactly name in
 * the domain domain_id, or -ENOENT when there is none. */
int ks_json_parse_user_list(const char *body, size_t len, const char *name, const char *domain_id,
                            struct ks_user *ret, char *err, size_t err_size);
/* GET /v3/domains/{id} */
int ks_json_parse_domain(const char *body, size_t len, struct ks_domain *ret, char *err,
                         size_t err_size);
/* GET /v3/domains?name=N: the domain named exactly name, or -ENOENT. */
int ks_json_parse_domain_list(const char *body, size_t len, const char *name, struct ks_domain *ret,
                              char *err, size_t err_size);
/* GET /v3/role_assignments?user.id=U&effective&include_names: assignments
 * of user_id only (others are an error), duplicates removed (an implied
 * role is listed once per path). Group and inherited assignments arrive
 * already expanded to the user by "effective". */
int ks_json_parse_assignments(const char *body, size_t len, const char *user_id,
                              struct ks_assignments *ret, char *err, size_t err_size);

/* The "error": {"message": ...} of an error reply, for logs, sanitised to
 * printable ASCII; writes "" when the body has none. */
void ks_json_error_message(const char *body, size_t len, char *out, size_t out_size);

/* "2026-11-25T15:40:57.000000Z" (fraction optional, Z or +00:00) to unix
 * seconds. -EINVAL for anything else. */
int ks_parse_time(const char *s, int64_t *ret);

/* Checks on strings used in URLs and keys: IDs are 1..KS_ID_MAX printable
 * ASCII without spaces; names 1..KS_NAME_MAX bytes of UTF-8 without control
 * characters. */
bool ks_valid_id(const char *s);
bool ks_valid_name(const char *s);
