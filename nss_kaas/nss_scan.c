/* See nss_scan.h. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "decimal.h"
#include "nss_pack.h"
#include "nss_scan.h"

#define GID_MAX_PLAIN UINT64_C(999999999999999999)  /* 18 digits */

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

/* Digits, no sign, no leading zero, at most 18 of them (GID_MAX_PLAIN):
 * always a JSON integer jansson takes. */
static bool plain_number(struct scan *s, uint64_t *ret) {
        if (!decimal_parse(&s->p, s->end, GID_MAX_PLAIN, ret))
                return false;
        /* a fraction or an exponent makes it a real: not this reader's */
        return !(s->p < s->end && (*s->p == '.' || *s->p == 'e' || *s->p == 'E'));
}

/* Where the members go as they are read, when the entry's size is known
 * before the text is (nss_scan_group_sized()): the member array and the
 * strings' room in the caller's buffer. */
struct member_sink {
        char **members;
        size_t n, next;                 /* the array's room, the next slot */
        char *d, *end;                  /* the strings' room */
};

#ifdef __SSE2__
/* member_copied() for a member of at most 15 bytes of which none is
 * refused or of a class, when 16 bytes can be read after its opening
 * quote and written at the sink: one load, the checks on all 16 bytes at
 * once, one store (what follows the member's NUL in it is written over by
 * the next member or is room the entry does not use). False, with nothing
 * written, for anything else: the byte loop then decides. A large group is
 * mostly such members, and the byte loop costs a lookup of 100,000 of
 * them more than everything else (docs/PERFORMANCE.md). */
static bool member_copied_16(struct scan *s, struct member_sink *k, size_t *ret_len) {
        const char *start = s->p + 1;
        if (s->end - start < 16 || k->end - k->d < 16)
                return false;
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)start);
        unsigned quote = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
        if (!quote)
                return false;   /* 16 bytes or more */
        /* byte_class[] in lanes: below ' ' or past '~' (as signed bytes,
         * 0x80-0xff are negative), DEL, '\\', and a member's ':' and ',' */
        __m128i odd = _mm_or_si128(
                _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f))),
                _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\\')),
                             _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(':')),
                                          _mm_cmpeq_epi8(v, _mm_set1_epi8(',')))));
        unsigned len = (unsigned)__builtin_ctz(quote);
        if ((unsigned)_mm_movemask_epi8(odd) & ((1u << len) - 1))
                return false;
        _mm_storeu_si128((__m128i *)(void *)k->d, v);
        k->d[len] = '\0';
        k->members[k->next++] = k->d;
        k->d += len + 1;
        *ret_len = len;
        s->p = start + len + 1;
        return true;
}
#endif

/* plain_string() for a member, copied into the sink with its NUL in the
 * same pass: false for what plain_string() refuses, and for a member
 * past the sink's room (the size given was not this text's). */
static bool member_copied(struct scan *s, struct member_sink *k, size_t *ret_len, unsigned *ret_class) {
        if (s->p >= s->end || *s->p != '"' || k->next >= k->n)
                return false;
#ifdef __SSE2__
        if (member_copied_16(s, k, ret_len))
                return true;    /* no byte of a class: nothing for *ret_class */
#endif
        const char *start = s->p + 1, *q = start;
        size_t room = (size_t)(k->end - k->d), avail = (size_t)(s->end - start);
        const char *stop = start + (room < avail ? room : avail);  /* room: the NUL needs one more */
        char *d = k->d;
        unsigned cls = 0;
        while (q < stop && *q != '"') {
                cls |= byte_class[(unsigned char)*q];
                *d++ = *q++;
        }
        if (q >= stop || (cls & NOT_PLAIN))
                return false;
        *d++ = '\0';
        k->members[k->next++] = k->d;
        k->d = d;
        *ret_len = (size_t)(q - start);
        *ret_class |= cls;
        s->p = q + 1;
        return true;
}

/* The members' array after its '[': counts the members, adds up the
 * bytes they take packed (each with its NUL) and checks them, copying
 * them into sink when there is one; *bad when one is refused (the scan
 * goes on, the form decides first). */
static bool members_array(struct scan *s, struct member_sink *sink, size_t *ret_n, size_t *ret_bytes, bool *bad) {
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
                if (sink ? !member_copied(s, sink, &len, &cls) : !plain_string(s, &m, &len, &cls))
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

static int scan_group(const char *text, size_t len, uint32_t min_id, size_t max_members, struct member_sink *sink,
                      struct nss_scan_group *ret) {
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
                        if (!members_array(&s, sink, &g.n_members, &g.member_bytes, &bad))
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

int nss_scan_group(const char *text, size_t len, uint32_t min_id, size_t max_members, struct nss_scan_group *ret) {
        return scan_group(text, len, min_id, max_members, NULL, ret);
}

/* The name and the password field after the members' strings, and gr. */
static void pack_rest(const struct nss_scan_group *g, char **members, char *d, struct group *gr) {
        members[g->n_members] = NULL;
        memcpy(d, g->name, g->name_len);
        d[g->name_len] = '\0';
        char *name = d;
        d += g->name_len + 1;
        memcpy(d, "x", 2);
        *gr = (struct group){ .gr_name = name, .gr_passwd = d, .gr_gid = g->gid, .gr_mem = members };
}

int nss_scan_group_sized(const char *text, size_t len, uint32_t min_id, size_t max_members, size_t n_members,
                         size_t string_bytes, struct group *gr, char *buf, size_t buflen, struct nss_scan_group *ret) {
        size_t used = nss_pack_group_size(buf, n_members, 0);
        if (nss_pack_group_size(buf, n_members, string_bytes) > buflen)
                return -ERANGE;
        char **members = (char **)(void *)(buf + (used - (n_members + 1) * sizeof(char *)));
        struct member_sink sink = { .members = members, .n = n_members, .d = buf + used,
                                    .end = buf + used + string_bytes };
        struct nss_scan_group g;
        int r = scan_group(text, len, min_id, max_members, &sink, &g);
        if (r < 0)
                return r;
        /* the size given is this entry's: its members, then room for the
         * name and "x" exactly */
        if (g.n_members != n_members || g.name_len > SIZE_MAX - 3 - g.member_bytes ||
            g.member_bytes + g.name_len + 3 != string_bytes)
                return -ENOTSUP;
        pack_rest(&g, members, sink.d, gr);
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
        pack_rest(g, members, d, gr);
        return 0;
}
