/* SPDX-License-Identifier: MIT */
/*
 * The decisions of the forward-auth endpoint (nginx auth_request, Traefik
 * ForwardAuth) that need no session or kaasd: reading the credentials of an
 * Authorization header, telling whether a return_to URL stays inside the
 * environment, matching a service by host and its required roles, and
 * whether a value may go into a response header.
 *
 * Pure functions: no I/O, no global state, thread-safe.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "token_format.h"

/* The longest user name accepted in HTTP Basic (Keystone's limit is 255). */
#define FA_MAX_USER 255

/* What an Authorization header carried: a KaaS token as Bearer, or as the
 * password of Basic with the user's name. token is a secret: the holder
 * wipes it with fa_credentials_wipe(). */
struct fa_credentials {
        bool basic;
        char user[FA_MAX_USER + 1]; /* Basic only; "" for Bearer */
        char token[TOKEN_STRING_SIZE];
};

/* Reads an Authorization header value into ret. Returns 0; -ENOENT when the
 * scheme is neither Bearer nor Basic (the request carries no KaaS
 * credentials: a session cookie may still decide); -EINVAL when the header
 * is malformed (bad base64, no colon, control characters, a user name too
 * long); -EBADMSG when the token is not a KaaS token by format. ret is wiped
 * on every failure. */
int fa_parse_authorization(const char *value, struct fa_credentials *ret)
        __attribute__((warn_unused_result, nonnull));

/* Wipes c. Accepts NULL. */
void fa_credentials_wipe(struct fa_credentials *c);

/* Whether url may be a return_to target: an absolute https URL without
 * user information whose host is one of hosts, not a subdomain of one
 * (compared without case, a trailing dot ignored), with an optional port
 * and a path that starts with "/". Returns 0; -EPERM when well-formed but
 * outside the environment; -EINVAL when malformed (another scheme, control
 * characters, backslashes, over 2048 bytes, ...). */
int fa_check_return_to(const char *url, const char *const *hosts, size_t n_hosts)
        __attribute__((warn_unused_result, nonnull(1)));

/* Copies the host of a Host header (or X-Forwarded-Host) value, lower-cased,
 * port and a trailing dot removed, into ret (size bytes). Returns 0, or
 * -EINVAL when it is not a DNS name or IP literal or does not fit. */
int fa_normalize_host(const char *value, char *ret, size_t size) __attribute__((warn_unused_result, nonnull));

/* Whether a user holding the roles (IDs and names, n each) may use a
 * service that requires any one of required (IDs or names; none: every
 * authenticated user). */
bool fa_roles_allow(const char *const *required, size_t n_required, const char *const *role_ids,
                    const char *const *role_names, size_t n_roles);

/* Whether s may be sent as a response header value: printable ASCII and
 * UTF-8 only, no control characters (CR, LF, NUL, C1), at most 4096 bytes. */
bool fa_header_value_ok(const char *s) __attribute__((nonnull));

/* The host of an http:// or https:// URL, as fa_normalize_host() writes
 * it. Returns 0 or -EINVAL. */
int fa_url_host(const char *url, char *ret, size_t size) __attribute__((warn_unused_result, nonnull));

/* The URL of the request an ingress asks about, into ret (size bytes):
 * "PROTO://HOST URI" from X-Forwarded-Host, X-Forwarded-Uri and
 * X-Forwarded-Proto (nginx as docs/managed-services.md sets it up,
 * Traefik), else X-Original-URL (ingress-nginx); NULL for a header not
 * sent. Each ingress sets one of them and passes the client's own copy of
 * the other on unchanged, so when both name a host they must name the
 * same one. Returns 0; -ENOENT when neither names the request; -EPERM
 * when they name different hosts (or X-Original-URL none that can be
 * read); -ENOBUFS when it does not fit. ret is "" on every failure. */
int fa_original_url(const char *original_url, const char *forwarded_host, const char *forwarded_uri,
                    const char *forwarded_proto, char *ret, size_t size)
        __attribute__((warn_unused_result, nonnull(5)));

/* origin "/login?return_to=" and return_to percent-encoded (every byte but
 * unreserved characters), into ret (size bytes). Returns 0, or -ENOBUFS
 * when it does not fit. */
int fa_login_url(const char *origin, const char *return_to, char *ret, size_t size)
        __attribute__((warn_unused_result, nonnull));
