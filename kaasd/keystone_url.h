/* Which Keystone URLs kaasd may use. kaasd sends the service password,
 * users' passwords and Keystone tokens to that URL: https:// always; plain
 * http:// only to this machine (localhost, 127.0.0.0/8, ::1), or
 * elsewhere when the operator says so with [keystone] insecure_http.
 * Pure functions over the string: no I/O, no name resolution. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* 0 when url may be used, or -EINVAL with the reason in err: a scheme
 * other than https:// or http://, user information ("user@host"), no
 * host, or http:// to a host that is not a loopback one without
 * allow_plain_remote. */
int keystone_url_check(const char *url, bool allow_plain_remote, char *err, size_t err_size)
        __attribute__((warn_unused_result, nonnull(1)));

/* Whether url is http:// to a host other than a loopback one: what
 * keystone_url_check() refuses unless allow_plain_remote is set. */
bool keystone_url_is_plain_remote(const char *url) __attribute__((nonnull));
