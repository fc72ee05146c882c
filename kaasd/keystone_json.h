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

/* The body of POST or GET /v3/auth/tokens: who the token is for and its
 * lifetime. The token itself travels in a header and is not parsed here. */
struct ks_token_info {
        struct ks_user user;      /* domain_name filled, enabled = true */
        int64_t issued_at;        /* unix seconds */
        int64_t expires_at;
        bool system_scope;        /* "system": {"all": true} */
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
/* GET /v3/users?name=N&domain_id=D: the one user named exactly name, or
 * -ENOENT when there is none. */
int ks_json_parse_user_list(const char *body, size_t len, const char *name, struct ks_user *ret,
                            char *err, size_t err_size);
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
