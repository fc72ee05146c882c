/* See nss_scan.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "nss_pack.h"
#include "nss_scan.h"

#define GID_DIGITS_MAX 18

struct scan {
        const char *p, *end;
};

static bool literal(struct scan *s, const char *lit) {
        size_t n = strlen(lit);
        if ((size_t)(s->end - s->p) < n || memcmp(s->p, lit, n) != 0)
                return false;
        s->p += n;
        return true;
}

/* What a byte is inside a string: not of the plain form (a control byte,
 * a quote, a backslash, anything past ASCII), or refused in a member
 * (BAD_MEMBER: ':' and ',') or a name (BAD_NAME: ':'). */
enum { NOT_PLAIN = 1, BAD_MEMBER = 2, BAD_NAME = 4 };

static const unsigned char byte_class[256] = {
        [0 ... 0x1f] = NOT_PLAIN, ['"'] = NOT_PLAIN, ['\\'] = NOT_PLAIN, [0x7f ... 0xff] = NOT_PLAIN,
        [':'] = BAD_MEMBER | BAD_NAME, [','] = BAD_MEMBER,
};

/* A string of printable ASCII without escapes: its bytes between the
 * quotes, and the classes of its bytes or'ed in *ret_class. */
static bool plain_string(struct scan *s, const char **ret, size_t *ret_len, unsigned *ret_class) {
        if (s->p >= s->end || *s->p != '"')
                return false;
        const char *start = s->p + 1, *close = start;
        unsigned cls = 0;
        /* names are short: a loop beats a call to memchr() per string */
        while (close < s->end && *close != '"')
                cls |= byte_class[(unsigned char)*close++];
        if (close >= s->end || (cls & NOT_PLAIN))
                return false;
        *ret = start;
        *ret_len = (size_t)(close - start);
        if (ret_class)
                *ret_class |= cls;
        s->p = close + 1;
        return true;
}

/* Digits, no sign, no leading zero, at most GID_DIGITS_MAX: always a JSON integer jansson takes. */
static bool plain_number(struct scan *s, uint64_t *ret) {
        const char *start = s->p;
        uint64_t v = 0;
        while (s->p < s->end && *s->p >= '0' && *s->p <= '9' && s->p - start < GID_DIGITS_MAX + 1) {
                v = v * 10 + (uint64_t)(*s->p - '0');
                s->p++;
        }
        size_t n = (size_t)(s->p - start);
        if (n == 0 || n > GID_DIGITS_MAX || (n > 1 && *start == '0'))
                return false;
        /* a fraction or an exponent makes it a real: not this reader's */
        if (s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E' || (*s->p >= '0' && *s->p <= '9')))
                return false;
        *ret = v;
        return true;
}

/* The members' array after its '[': counts the members, adds up the
 * bytes they take packed (each with its NUL) and checks them; *bad when
 * one is refused (the scan goes on, the form decides first). */
static bool members_array(struct scan *s, size_t *ret_n, size_t *ret_bytes, bool *bad) {
        size_t n = 0, bytes = 0;
        if (literal(s, "]")) {
                *ret_n = 0;
                *ret_bytes = 0;
                return true;
        }
        for (;;) {
                const char *m;
                size_t len;
                unsigned cls = 0;
                if (!plain_string(s, &m, &len, &cls))
                        return false;
                if (len == 0 || (cls & BAD_MEMBER))
                        *bad = true;
                n++;
                bytes += len + 1;       /* bounded by the text's length */
                if (literal(s, "]"))
                        break;
                if (!literal(s, ","))
                        return false;
        }
        *ret_n = n;
        *ret_bytes = bytes;
        return true;
}

int nss_scan_group(const char *text, size_t len, uint32_t min_id, size_t max_members, struct nss_scan_group *ret) {
        struct scan s = { text, text + len };
        struct nss_scan_group g = { .end = text + len };
        bool seen_name = false, seen_gid = false, seen_members = false, bad = false;
        unsigned name_class = 0;
        uint64_t gid = 0;

        if (!literal(&s, "{\"parameters\":{\"group\":{"))
                return -ENOTSUP;
        for (;;) {
                const char *key;
                size_t key_len;
                if (!plain_string(&s, &key, &key_len, NULL) || !literal(&s, ":"))
                        return -ENOTSUP;
                if (key_len == 4 && memcmp(key, "name", 4) == 0 && !seen_name) {
                        seen_name = true;
                        if (!plain_string(&s, &g.name, &g.name_len, &name_class))
                                return -ENOTSUP;
                } else if (key_len == 3 && memcmp(key, "gid", 3) == 0 && !seen_gid) {
                        seen_gid = true;
                        if (!plain_number(&s, &gid))
                                return -ENOTSUP;
                } else if (key_len == 7 && memcmp(key, "members", 7) == 0 && !seen_members) {
                        seen_members = true;
                        if (!literal(&s, "["))
                                return -ENOTSUP;
                        g.members = s.p;
                        if (!members_array(&s, &g.n_members, &g.member_bytes, &bad))
                                return -ENOTSUP;
                } else
                        return -ENOTSUP;        /* another key, or one again */
                if (literal(&s, "}"))
                        break;
                if (!literal(&s, ","))
                        return -ENOTSUP;
        }
        if (!literal(&s, "}}") || s.p != s.end)
                return -ENOTSUP;
        if (!seen_name || !seen_gid || !seen_members)
                return -EBADMSG;
        if (bad || g.name_len == 0 || (name_class & BAD_NAME) || gid < min_id || gid >= UINT32_MAX ||
            g.n_members > max_members)
                return -EBADMSG;
        g.gid = (uint32_t)gid;
        *ret = g;
        return 0;
}

int nss_scan_group_pack(const struct nss_scan_group *g, struct group *gr, char *buf, size_t buflen) {
        /* nss_pack_group()'s layout, its size known before a byte is written:
         * the strings are the members, the name and "x", each with its NUL */
        size_t n = g->n_members, used = nss_pack_group_size(buf, n, 0);
        if (g->name_len > SIZE_MAX - 3 - g->member_bytes ||
            nss_pack_group_size(buf, n, g->member_bytes + g->name_len + 3) > buflen)
                return -ERANGE;
        char **members = (char **)(void *)(buf + (used - (n + 1) * sizeof(char *)));
        char *d = buf + used, *names_end = d + g->member_bytes;
        const char *p = g->members;
        for (size_t i = 0; i < n; i++) {
                /* p is at a member's opening quote (nss_scan_group() checked
                 * the form); names are short: a loop beats memchr() and memcpy() */
                members[i] = d;
                for (p++; p < g->end && *p != '"' && d < names_end; p++)
                        *d++ = *p;
                if (p >= g->end || *p != '"' || d >= names_end)
                        return -EINVAL;  /* not the text nss_scan_group() read */
                *d++ = '\0';
                p += 2;  /* past the quote and the ',' or ']' */
        }
        members[n] = NULL;
        memcpy(d, g->name, g->name_len);
        d[g->name_len] = '\0';
        char *name = d;
        d += g->name_len + 1;
        memcpy(d, "x", 2);
        *gr = (struct group){ .gr_name = name, .gr_passwd = d, .gr_gid = g->gid, .gr_mem = members };
        return 0;
}
