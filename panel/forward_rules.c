/* SPDX-License-Identifier: MIT */
#include "config.h"

#include "forward_rules.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#define RETURN_TO_MAX 2048
#define HEADER_VALUE_MAX 4096
#define HOST_MAX 253

/* Basic's base64 of "user:token": the user's limit, the colon, the token */
#define BASIC_DECODED_MAX (FA_MAX_USER + 1 + TOKEN_LENGTH)

void fa_credentials_wipe(struct fa_credentials *c) {
        if (c)
                sodium_memzero(c, sizeof(*c));
}

/* The scheme is case-insensitive (RFC 9110 11.1); one or more spaces follow it. */
static const char *after_scheme(const char *value, const char *scheme) {
        size_t n = strlen(scheme);

        if (strncasecmp(value, scheme, n) != 0 || value[n] != ' ')
                return NULL;
        value += n;
        while (*value == ' ')
                value++;
        return value;
}

static bool has_control(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
                        return true;
        return false;
}

static int copy_token(const char *s, size_t n, struct fa_credentials *ret) {
        int r = token_check_format(s, n);

        if (r < 0)
                return -EBADMSG;
        memcpy(ret->token, s, n);
        ret->token[n] = '\0';
        return 0;
}

static int parse_basic(const char *b64, struct fa_credentials *ret) {
        unsigned char decoded[BASIC_DECODED_MAX + 1];
        size_t n = 0, len = strlen(b64);
        const char *end = NULL;
        int r = -EINVAL;

        /* base64 of BASIC_DECODED_MAX bytes is at most this long */
        if (len == 0 || len > (BASIC_DECODED_MAX + 2) / 3 * 4)
                return -EINVAL;
        if (sodium_base642bin(decoded, sizeof(decoded) - 1, b64, len, NULL, &n, &end,
                              sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0')
                goto out;
        decoded[n] = '\0';
        const unsigned char *colon = memchr(decoded, ':', n);
        if (!colon || colon == decoded || (size_t)(colon - decoded) > FA_MAX_USER ||
            has_control((const char *)decoded, n))
                goto out;
        size_t user_len = (size_t)(colon - decoded);
        memcpy(ret->user, decoded, user_len);
        ret->user[user_len] = '\0';
        ret->basic = true;
        r = copy_token((const char *)colon + 1, n - user_len - 1, ret);
out:
        sodium_memzero(decoded, sizeof(decoded));
        return r;
}

int fa_parse_authorization(const char *value, struct fa_credentials *ret) {
        const char *rest;
        int r;

        sodium_memzero(ret, sizeof(*ret));
        if ((rest = after_scheme(value, "Bearer"))) {
                size_t n = strlen(rest);
                while (n > 0 && rest[n - 1] == ' ')
                        n--;
                r = copy_token(rest, n, ret);
        } else if ((rest = after_scheme(value, "Basic")))
                r = parse_basic(rest, ret);
        else
                return -ENOENT;
        if (r < 0)
                fa_credentials_wipe(ret);
        return r;
}

static bool is_dns_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* host (n bytes, no port) is want, without case; trailing dots of either
 * are ignored. Exactly: a subdomain of a service's host may be anyone's
 * (a user's own ingress under a wildcard), so it is no place to send a
 * browser that has just logged in. */
static bool host_is(const char *host, size_t n, const char *want) {
        size_t w = strlen(want);

        while (n > 0 && host[n - 1] == '.')
                n--;
        while (w > 0 && want[w - 1] == '.')
                w--;
        return w > 0 && n == w && strncasecmp(host, want, w) == 0;
}

/* Splits "host[:port]" (bracketed IPv6 literals refused: the environment's
 * services have names) at its end; returns the host's length or -EINVAL. */
static int host_length(const char *authority, size_t n) {
        size_t h = 0;

        while (h < n && authority[h] != ':')
                h++;
        if (h == 0 || h > HOST_MAX)
                return -EINVAL;
        for (size_t i = 0; i < h; i++)
                if (!is_dns_char(authority[i]))
                        return -EINVAL;
        if (authority[0] == '.' || authority[0] == '-')
                return -EINVAL;
        for (size_t i = 1; i < h; i++)
                if (authority[i] == '.' && authority[i - 1] == '.')
                        return -EINVAL;
        if (h < n) {
                size_t digits = n - h - 1;
                if (digits == 0 || digits > 5)
                        return -EINVAL;
                for (size_t i = h + 1; i < n; i++)
                        if (authority[i] < '0' || authority[i] > '9')
                                return -EINVAL;
        }
        return (int)h;
}

int fa_check_return_to(const char *url, const char *const *hosts, size_t n_hosts) {
        static const char scheme[] = "https://";
        size_t len = strnlen(url, RETURN_TO_MAX + 1);

        if (len > RETURN_TO_MAX || has_control(url, len) || strchr(url, '\\'))
                return -EINVAL;
        if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0)
                return -EINVAL;
        const char *authority = url + sizeof(scheme) - 1;
        size_t a = strcspn(authority, "/?#");
        if (memchr(authority, '@', a))
                return -EINVAL; /* user information: https://trusted@evil/ */
        int h = host_length(authority, a);
        if (h < 0)
                return h;
        if (authority[a] != '\0' && authority[a] != '/')
                return -EINVAL; /* a query or fragment straight after the host */
        for (size_t i = 0; i < n_hosts; i++)
                if (host_is(authority, (size_t)h, hosts[i]))
                        return 0;
        return -EPERM;
}

int fa_normalize_host(const char *value, char *ret, size_t size) {
        size_t n = strnlen(value, HOST_MAX + 7);
        int h = host_length(value, n);

        if (h < 0)
                return h;
        while (h > 0 && value[h - 1] == '.')
                h--;
        if (h == 0 || (size_t)h >= size)
                return -EINVAL;
        for (int i = 0; i < h; i++)
                ret[i] = (value[i] >= 'A' && value[i] <= 'Z') ? (char)(value[i] - 'A' + 'a') : value[i];
        ret[h] = '\0';
        return 0;
}

bool fa_roles_allow(const char *const *required, size_t n_required, const char *const *role_ids,
                    const char *const *role_names, size_t n_roles) {
        if (n_required == 0)
                return true;
        for (size_t i = 0; i < n_required; i++)
                for (size_t j = 0; j < n_roles; j++)
                        if ((role_ids[j] && strcmp(required[i], role_ids[j]) == 0) ||
                            (role_names[j] && strcmp(required[i], role_names[j]) == 0))
                                return true;
        return false;
}

bool fa_header_value_ok(const char *s) {
        size_t n = strnlen(s, HEADER_VALUE_MAX + 1);

        if (n > HEADER_VALUE_MAX || has_control(s, n))
                return false;
        /* C1 controls, U+0080-U+009F, are C2 80-C2 9F in UTF-8 */
        for (size_t i = 0; i + 1 < n; i++)
                if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
                    (unsigned char)s[i + 1] <= 0x9f)
                        return false;
        return true;
}

int fa_url_host(const char *url, char *ret, size_t size) {
        const char *authority;

        if (strncasecmp(url, "https://", 8) == 0)
                authority = url + 8;
        else if (strncasecmp(url, "http://", 7) == 0)
                authority = url + 7;
        else
                return -EINVAL;
        size_t a = strcspn(authority, "/?#");
        char buf[HOST_MAX + 8];
        if (a == 0 || a >= sizeof(buf) || memchr(authority, '@', a))
                return -EINVAL;
        memcpy(buf, authority, a);
        buf[a] = '\0';
        return fa_normalize_host(buf, ret, size);
}

int fa_original_url(const char *original_url, const char *forwarded_host, const char *forwarded_uri,
                    const char *forwarded_proto, char *ret, size_t size) {
        char host[HOST_MAX + 1], original_host[HOST_MAX + 1];
        int n;

        if (size > 0)
                ret[0] = '\0';
        if (forwarded_host && *forwarded_host) {
                /* a client's own X-Forwarded-Host must not pick another service than the one it asked for */
                if (original_url && (fa_normalize_host(forwarded_host, host, sizeof(host)) < 0 ||
                                     fa_url_host(original_url, original_host, sizeof(original_host)) < 0 ||
                                     strcmp(host, original_host) != 0))
                        return -EPERM;
                n = snprintf(ret, size, "%s://%s%s",
                             forwarded_proto && strcmp(forwarded_proto, "http") == 0 ? "http" : "https", forwarded_host,
                             forwarded_uri && forwarded_uri[0] == '/' ? forwarded_uri : "/");
        } else if (original_url)
                n = snprintf(ret, size, "%s", original_url);
        else
                return -ENOENT;
        if (n < 0 || (size_t)n >= size) {
                if (size > 0)
                        ret[0] = '\0';
                return -ENOBUFS;
        }
        return 0;
}

static bool is_unreserved(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
               c == '_' || c == '~';
}

int fa_login_url(const char *origin, const char *return_to, char *ret, size_t size) {
        static const char hex[] = "0123456789ABCDEF";
        int n = snprintf(ret, size, "%s/login?return_to=", origin);

        if (n < 0 || (size_t)n >= size)
                return -ENOBUFS;
        size_t o = (size_t)n;
        for (const unsigned char *s = (const unsigned char *)return_to; *s; s++) {
                if (o + 4 > size)
                        return -ENOBUFS;
                if (is_unreserved(*s))
                        ret[o++] = (char)*s;
                else {
                        ret[o++] = '%';
                        ret[o++] = hex[*s >> 4];
                        ret[o++] = hex[*s & 15];
                }
        }
        ret[o] = '\0';
        return 0;
}
