/* Packing passwd and group entries into the caller's buffer: every size
 * below the needed one fails with -ERANGE (so glibc retries larger), the
 * needed one succeeds, and all strings live inside the buffer. Also the
 * gid list of initgroups_dyn. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nss_pack.h"
#include "nss_scan.h"

static bool inside(const char *p, const char *buf, size_t len) {
        return p >= buf && p + strlen(p) < buf + len;
}

static void test_passwd_sizes(void **state) {
        struct nss_passwd_src src = { .name = "alice", .uid = 200001, .gid = 200001, .gecos = "Alice",
                                      .dir = "/home/alice", .shell = "/bin/bash" };
        size_t need = strlen("alice") + strlen("*") + strlen("Alice") + strlen("/home/alice") +
                      strlen("/bin/bash") + 5;
        char *buf = malloc(need);
        struct passwd pw;
        for (size_t len = 0; len < need; len++)
                assert_int_equal(nss_pack_passwd(&src, &pw, buf, len), -ERANGE);
        assert_int_equal(nss_pack_passwd(&src, &pw, buf, need), 0);
        assert_string_equal(pw.pw_name, "alice");
        /* no password, not "see shadow": pam_unix's account stage would
         * look for a shadow entry a Keystone user never has */
        assert_string_equal(pw.pw_passwd, "*");
        assert_int_equal(pw.pw_uid, 200001);
        assert_int_equal(pw.pw_gid, 200001);
        assert_string_equal(pw.pw_gecos, "Alice");
        assert_string_equal(pw.pw_dir, "/home/alice");
        assert_string_equal(pw.pw_shell, "/bin/bash");
        assert_true(inside(pw.pw_name, buf, need) && inside(pw.pw_shell, buf, need) &&
                    inside(pw.pw_dir, buf, need));
        free(buf);
}

static void test_group_sizes_and_alignment(void **state) {
        const char *members[] = { "alice", "carol@partners", "zo\xc3\xab" };
        struct nss_group_src src = { .name = "k8s-admins-alpha", .gid = 300007, .members = members, .n_members = 3 };
        /* every misalignment of the caller's buffer */
        for (size_t off = 0; off < sizeof(char *); off++) {
                char *mem = malloc(512 + off);
                char *buf = mem + off;
                struct group gr;
                size_t len = 0;
                while (nss_pack_group(&src, &gr, buf, len) == -ERANGE) {
                        len++;
                        assert_true(len <= 512);
                }
                assert_int_equal((uintptr_t)gr.gr_mem % _Alignof(char *), 0);
                assert_true((char *)gr.gr_mem >= buf && (char *)(gr.gr_mem + 4) <= buf + len);
                assert_string_equal(gr.gr_name, "k8s-admins-alpha");
                assert_string_equal(gr.gr_passwd, "x");
                assert_int_equal(gr.gr_gid, 300007);
                for (size_t i = 0; i < 3; i++) {
                        assert_string_equal(gr.gr_mem[i], members[i]);
                        assert_true(inside(gr.gr_mem[i], buf, len));
                }
                assert_null(gr.gr_mem[3]);
                /* one byte less never fits */
                assert_int_equal(nss_pack_group(&src, &gr, buf, len - 1), -ERANGE);
                free(mem);
        }
}

static void test_group_without_members(void **state) {
        struct nss_group_src src = { .name = "alice", .gid = 200001 };
        char buf[64];
        struct group gr;
        assert_int_equal(nss_pack_group(&src, &gr, buf, sizeof(buf)), 0);
        assert_null(gr.gr_mem[0]);
        assert_int_equal(nss_pack_group(&src, &gr, buf, 0), -ERANGE);
}

static void test_add_gids(void **state) {
        long start = 1, size = 1;
        gid_t *groups = malloc(sizeof(gid_t));
        groups[0] = 200001;  /* the primary group, as initgroups passes it */
        uint32_t gids[] = { 300001, 200001, 300002, 300001, 300003 };
        assert_int_equal(nss_add_gids(200001, gids, 5, &start, &size, &groups, 0), 0);
        assert_int_equal(start, 4);  /* primary and duplicate skipped */
        assert_true(size >= 4);
        assert_int_equal(groups[1], 300001);
        assert_int_equal(groups[2], 300002);
        assert_int_equal(groups[3], 300003);
        /* again: all listed already */
        assert_int_equal(nss_add_gids(200001, gids, 5, &start, &size, &groups, 0), 0);
        assert_int_equal(start, 4);
        free(groups);

        /* a limit stops it and the array never grows past it */
        start = 1, size = 1;
        groups = malloc(sizeof(gid_t));
        groups[0] = 1;
        assert_int_equal(nss_add_gids(1, gids, 5, &start, &size, &groups, 2), 0);
        assert_int_equal(start, 2);
        assert_int_equal(size, 2);
        free(groups);
}


static int scan(const char *text, struct nss_scan_group *g) {
        return nss_scan_group(text, strlen(text), 1000, 1048576, g);
}

/* kaasd's reply, read from its text: packed as nss_pack_group() packs the
 * same entry, byte for byte. */
static void test_scan_group(void **state) {
        const char *text = "{\"parameters\":{\"group\":{\"name\":\"kaas-developer\",\"gid\":200001,"
                           "\"members\":[\"alice\",\"bob\",\"c.d-e_f\"]}}}";
        struct nss_scan_group g;
        assert_int_equal(scan(text, &g), 0);
        assert_int_equal(g.gid, 200001);
        assert_int_equal(g.n_members, 3);

        static const char *const members[] = { "alice", "bob", "c.d-e_f" };
        struct nss_group_src src = { .name = "kaas-developer", .gid = 200001, .members = members, .n_members = 3 };
        char a[512], b[512];
        struct group ga, gb;
        memset(a, 0x55, sizeof(a));
        memset(b, 0x55, sizeof(b));
        assert_int_equal(nss_scan_group_pack(&g, &ga, a, sizeof(a)), 0);
        assert_int_equal(nss_pack_group(&src, &gb, b, sizeof(b)), 0);
        assert_string_equal(ga.gr_name, "kaas-developer");
        assert_string_equal(ga.gr_passwd, "x");
        for (size_t i = 0; i < 3; i++) {
                assert_string_equal(ga.gr_mem[i], members[i]);
                assert_int_equal(ga.gr_mem[i] - a, gb.gr_mem[i] - b);
        }
        assert_null(ga.gr_mem[3]);
        assert_memory_equal(a + sizeof(char *) * 4, b + sizeof(char *) * 4, sizeof(a) - sizeof(char *) * 4);

        /* ERANGE exactly when nss_pack_group() says so, and before a
         * byte of the buffer is written */
        char untouched[sizeof(a)];
        memset(untouched, 0x55, sizeof(untouched));
        for (size_t len = 0; len < 200; len++) {
                memset(a, 0x55, sizeof(a));
                int r = nss_scan_group_pack(&g, &ga, a, len);
                if (r == -ERANGE)
                        assert_memory_equal(a, untouched, sizeof(a));
                assert_int_equal(r, nss_pack_group(&src, &gb, b, len));
        }

        /* the keys in another order, no members */
        assert_int_equal(scan("{\"parameters\":{\"group\":{\"members\":[],\"gid\":1000,\"name\":\"g\"}}}", &g), 0);
        assert_int_equal(g.n_members, 0);
        assert_int_equal(nss_scan_group_pack(&g, &ga, a, sizeof(a)), 0);
        assert_null(ga.gr_mem[0]);
}

/* One pass with the size told beforehand (a group file's header): the
 * entry nss_scan_group_pack() gives, byte for byte; a size that is not
 * the entry's, never an entry. */
static void test_scan_group_sized(void **state) {
        const char *text = "{\"parameters\":{\"group\":{\"name\":\"kaas-developer\",\"gid\":200001,"
                           "\"members\":[\"alice\",\"bob\",\"c.d-e_f\"]}}}";
        size_t len = strlen(text), n = 3, bytes = 6 + 4 + 8 + 15 + 2;
        struct nss_scan_group g, gs;
        assert_int_equal(scan(text, &g), 0);
        _Alignas(char *) char a[512];
        _Alignas(char *) char b[512];
        struct group ga, gb;
        memset(a, 0x55, sizeof(a));
        memset(b, 0x55, sizeof(b));
        assert_int_equal(nss_scan_group_sized(text, len, 1000, 1048576, n, bytes, &ga, a, sizeof(a), &gs), 0);
        assert_int_equal(nss_scan_group_pack(&g, &gb, b, sizeof(b)), 0);
        /* the same layout: the same strings, pointers at the same offsets */
        for (size_t i = 0; i < n; i++)
                assert_int_equal(ga.gr_mem[i] - a, gb.gr_mem[i] - b);
        assert_int_equal((char *)ga.gr_mem - a, (char *)gb.gr_mem - b);
        assert_memory_equal(a + sizeof(char *) * 4, b + sizeof(char *) * 4, sizeof(a) - sizeof(char *) * 4);
        assert_string_equal(ga.gr_name, "kaas-developer");
        assert_string_equal(ga.gr_passwd, "x");
        assert_int_equal(ga.gr_gid, 200001);
        assert_int_equal(gs.gid, 200001);
        assert_string_equal(ga.gr_mem[2], "c.d-e_f");
        assert_null(ga.gr_mem[3]);

        /* ERANGE exactly when the two passes say so, before a byte is written */
        char untouched[sizeof(a)];
        memset(untouched, 0x55, sizeof(untouched));
        for (size_t buflen = 0; buflen < 200; buflen++) {
                memset(a, 0x55, sizeof(a));
                int r = nss_scan_group_sized(text, len, 1000, 1048576, n, bytes, &ga, a, buflen, &gs);
                if (r == -ERANGE)
                        assert_memory_equal(a, untouched, sizeof(a));
                assert_int_equal(r, nss_scan_group_pack(&g, &gb, b, buflen));
        }

        /* a header that lies, either way: no entry, in a buffer of ample
         * size or of just the size the lie needs, with nothing written past
         * that (a guard after it) */
        const size_t wrong[][2] = { { 0, bytes }, { 1, bytes }, { 2, bytes }, { 4, bytes }, { n, bytes - 1 },
                                    { n, bytes + 1 }, { n, 6 }, { n, 17 }, { n, 18 }, { 0, 1 } };
        for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
                assert_int_equal(nss_scan_group_sized(text, len, 1000, 1048576, wrong[i][0], wrong[i][1], &ga, a,
                                                      sizeof(a), &gs),
                                 -ENOTSUP);
                size_t need = nss_pack_group_size(a, wrong[i][0], wrong[i][1]);
                assert_true(need + 16 <= sizeof(a));
                memset(a, 0x55, sizeof(a));
                assert_int_equal(nss_scan_group_sized(text, len, 1000, 1048576, wrong[i][0], wrong[i][1], &ga, a,
                                                      need, &gs),
                                 -ENOTSUP);
                assert_memory_equal(a + need, untouched, sizeof(a) - need);
        }
        /* refused as nss_scan_group() refuses it */
        const char *empty_member = "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"\"]}}}";
        assert_int_equal(nss_scan_group_sized(empty_member, strlen(empty_member), 1000, 1048576, 1, 1 + 2 + 2, &ga, a,
                                              sizeof(a), &gs),
                         -EBADMSG);
        assert_int_equal(nss_scan_group_sized(text, len - 1, 1000, 1048576, n, bytes, &ga, a, sizeof(a), &gs),
                         -ENOTSUP);
}

/* The one-pass reader against the two passes on the text of a group
 * reply: the same verdict, and for an entry the same one. The text is
 * copied into an allocation of its exact length (no NUL), so that
 * AddressSanitizer sees any byte read past it, and each entry goes into
 * an allocation of exactly the size it needs. The one pass is given the
 * two passes' sizes when they take the text, else N_MEMBERS and BYTES.
 * Returns the verdict; *ret_gr (when not NULL) gets the entry, in memory
 * the caller frees with free(*ret_buf). */
static int sized_against_two_passes(const char *text, size_t len, size_t n_members, size_t bytes,
                                    struct group *ret_gr, char **ret_buf) {
        char *exact = malloc(len ? len : 1);
        assert_non_null(exact);
        memcpy(exact, text, len);

        struct nss_scan_group g, gs;
        int r = nss_scan_group(exact, len, 1000, 1048576, &g);
        if (r == 0) {
                n_members = g.n_members;
                bytes = g.member_bytes + g.name_len + 3;
        }
        struct group ga, gb;
        size_t need = nss_pack_group_size(NULL, n_members, bytes);  /* malloc()'s memory needs no padding */
        char *a = malloc(need), *b = malloc(need);
        assert_non_null(a);
        assert_non_null(b);
        int rs = nss_scan_group_sized(exact, len, 1000, 1048576, n_members, bytes, &ga, a, need, &gs);
        assert_int_equal(rs, r);
        if (r == 0) {
                assert_int_equal(nss_scan_group_pack(&g, &gb, b, need), 0);
                for (size_t i = 0; i < n_members; i++)
                        assert_string_equal(ga.gr_mem[i], gb.gr_mem[i]);
                assert_null(ga.gr_mem[n_members]);
                assert_null(gb.gr_mem[n_members]);
                assert_string_equal(ga.gr_name, gb.gr_name);
                assert_string_equal(ga.gr_passwd, gb.gr_passwd);
                assert_int_equal(ga.gr_gid, gb.gr_gid);
        }
        free(b);
        free(exact);
        if (r == 0 && ret_gr) {
                *ret_gr = ga;
                *ret_buf = a;
        } else {
                free(a);
        }
        return r;
}

/* The text of group "g" (gid 1000) with these members, in memory the
 * caller frees; *ret_len its length, *ret_bytes the strings' bytes of its
 * entry (each member, "g" and "x" with their NULs). */
static char *group_text(const char *const *members, size_t n_members, size_t *ret_len, size_t *ret_bytes) {
        static const char head[] = "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[";
        size_t cap = sizeof(head) + 8, bytes = 2 + 2;
        for (size_t i = 0; i < n_members; i++)
                cap += strlen(members[i]) + 3;
        char *text = malloc(cap);
        assert_non_null(text);
        size_t len = (size_t)snprintf(text, cap, "%s", head);
        for (size_t i = 0; i < n_members; i++) {
                len += (size_t)snprintf(text + len, cap - len, "%s\"%s\"", i ? "," : "", members[i]);
                bytes += strlen(members[i]) + 1;
        }
        len += (size_t)snprintf(text + len, cap - len, "]}}}");
        assert_true(len < cap);
        *ret_len = len;
        *ret_bytes = bytes;
        return text;
}

/* The one-pass reader against the two passes for a group whose members
 * are given: the same verdict, and for an entry these members. */
static void sized_as_two_passes(const char *const *members, size_t n_members) {
        size_t len, bytes;
        char *text = group_text(members, n_members, &len, &bytes);
        struct group gr;
        char *buf = NULL;
        if (sized_against_two_passes(text, len, n_members, bytes, &gr, &buf) == 0) {
                for (size_t i = 0; i < n_members; i++)
                        assert_string_equal(gr.gr_mem[i], members[i]);
                assert_string_equal(gr.gr_name, "g");
        }
        free(buf);
        free(text);
}

/* Members of every length around the 16 bytes that the reader checks at
 * once, first, in the middle and last (where fewer than 16 bytes are left
 * of the text or of the entry's room), and each byte the plain form
 * refuses or a member may not hold at every place in such a member. */
static void test_scan_group_sized_member_lengths(void **state) {
        char m[40];
        for (size_t n = 1; n <= 33; n++) {
                memset(m, 'a', n);
                m[n] = '\0';
                m[0] = (char)('a' + n % 26);
                const char *first[] = { m, "bob", "carol" }, *mid[] = { "bob", m, "carol" },
                           *last[] = { "bob", "carol", m }, *alone[] = { m };
                sized_as_two_passes(first, 3);
                sized_as_two_passes(mid, 3);
                sized_as_two_passes(last, 3);
                sized_as_two_passes(alone, 1);
        }
        static const char odd[] = { ':', ',', '\\', 0x7f, 0x01, 0x1f, (char)0x80, (char)0xc3, (char)0xff, ' ', '~' };
        for (size_t o = 0; o < sizeof(odd); o++)
                for (size_t n = 1; n <= 17; n++)
                        for (size_t at = 0; at < n; at++) {
                                memset(m, 'x', n);
                                m[n] = '\0';
                                m[at] = odd[o];
                                const char *mid[] = { "bob", m, "carol" };
                                sized_as_two_passes(mid, 3);
                        }
}

/* Long runs of members, as a large group has, where the reader's steps
 * follow each other without the byte loop between them: lengths from 1
 * to 70 in every order and before a last member of every length (the
 * text ends at every place after a step); then, in a text of 24 members,
 * every byte of the members and their separators replaced by each byte
 * that breaks the form, left out, or with such a byte put before it; an
 * empty member at each place; and sizes given members or bytes short,
 * so that AddressSanitizer sees any write past the entry. */
static void test_scan_group_sized_runs(void **state) {
        enum { N = 120 };
        char names[N][72];
        const char *members[N];
        unsigned x = 12345;
        for (size_t i = 0; i < N; i++) {
                x = x * 1103515245u + 12345u;
                size_t n = i < 70 ? i + 1 : 1 + (x >> 16) % 70;   /* every length, then any */
                for (size_t j = 0; j < n; j++)
                        names[i][j] = (char)('a' + (i + j) % 26);
                names[i][n] = '\0';
                members[i] = names[i];
        }
        sized_as_two_passes(members, N);
        for (size_t n = 1; n <= N; n++)
                sized_as_two_passes(members + N - n, n);
        /* members of 11 to 15 bytes, as the large groups have: many in a block */
        for (size_t i = 0; i < N; i++) {
                size_t n = 11 + i % 5;
                memset(names[i], 'u', n);
                names[i][n] = '\0';
                names[i][n - 1] = (char)('0' + i % 10);
        }
        sized_as_two_passes(members, N);
        /* a last member of every length after them: the text ends at every
         * place in and after a block */
        char tail[72];
        const char *with_tail[8];
        for (size_t n = 1; n <= 70; n++) {
                memset(tail, 't', n);
                tail[n] = '\0';
                for (size_t i = 0; i < 7; i++)
                        with_tail[i] = members[i];
                with_tail[7] = tail;
                sized_as_two_passes(with_tail, 8);
                sized_as_two_passes(with_tail + 4, 4);
        }

        size_t len, bytes;
        const size_t n_text = 24;
        char *text = group_text(members, n_text, &len, &bytes);
        const char *first = strchr(text, '[') + 1;
        size_t from = (size_t)(first - text), to = len - 4;   /* the members and their separators */
        static const char breaks[] = { ':', ',', '\\', '"', ' ', ']', 0x7f, 0x01, (char)0x80, (char)0xff, 'z' };
        struct nss_scan_group g;
        for (size_t at = from; at < to; at++)
                for (size_t b = 0; b < sizeof(breaks); b++) {
                        char keep = text[at];
                        text[at] = breaks[b];
                        sized_against_two_passes(text, len, n_text, bytes, NULL, NULL);
                        text[at] = keep;
                }
        /* and each of these bytes put in before every byte */
        static const char puts[] = { ',', '"', ' ', ']' };
        char *more = malloc(len + 1);
        assert_non_null(more);
        for (size_t at = from; at <= to; at++)
                for (size_t b = 0; b < sizeof(puts); b++) {
                        memcpy(more, text, at);
                        more[at] = puts[b];
                        memcpy(more + at + 1, text + at, len - at);
                        sized_against_two_passes(more, len + 1, n_text, bytes, NULL, NULL);
                }
        free(more);
        /* and every byte left out */
        char *less = malloc(len);
        assert_non_null(less);
        for (size_t at = from; at < to; at++) {
                memcpy(less, text, at);
                memcpy(less + at, text + at + 1, len - at - 1);
                sized_against_two_passes(less, len - 1, n_text, bytes, NULL, NULL);
        }
        free(less);
        /* the text as it is: taken by both */
        assert_int_equal(sized_against_two_passes(text, len, n_text, bytes, NULL, NULL), 0);
        assert_int_equal(nss_scan_group(text, len, 1000, 1048576, &g), 0);
        assert_int_equal(g.n_members, n_text);

        /* sizes one member or some bytes short: refused, nothing written past
         * the entry (the allocation is exact) */
        char *exact = malloc(len);
        assert_non_null(exact);
        memcpy(exact, text, len);
        struct group gr;
        struct nss_scan_group gs;
        size_t short_members = nss_pack_group_size(NULL, n_text - 1, bytes);
        char *a = malloc(short_members);
        assert_non_null(a);
        assert_int_equal(nss_scan_group_sized(exact, len, 1000, 1048576, n_text - 1, bytes, &gr, a, short_members, &gs),
                         -ENOTSUP);
        free(a);
        for (size_t cut = 1; cut <= 40; cut++) {
                size_t short_bytes = nss_pack_group_size(NULL, n_text, bytes - cut);
                a = malloc(short_bytes);
                assert_non_null(a);
                assert_int_equal(nss_scan_group_sized(exact, len, 1000, 1048576, n_text, bytes - cut, &gr, a,
                                                      short_bytes, &gs),
                                 -ENOTSUP);
                free(a);
        }
        free(exact);
        free(text);

        /* an empty member anywhere among short ones: refused by both */
        for (size_t i = 0; i < 40; i++) {
                size_t n = 1 + i % 15;
                memset(names[i], 'e', n);
                names[i][n] = '\0';
        }
        for (size_t i = 0; i < 40; i++) {
                char keep = names[i][0];
                names[i][0] = '\0';
                size_t blen, bbytes;
                char *btext = group_text(members, 40, &blen, &bbytes);
                assert_int_equal(sized_against_two_passes(btext, blen, 40, bbytes, NULL, NULL), -EBADMSG);
                free(btext);
                names[i][0] = keep;
        }

        /* members of one byte, many more than the member array given has
         * room for: its pointers would run past the entry first */
        for (size_t i = 0; i < N; i++)
                strcpy(names[i], "m");
        text = group_text(members, N, &len, &bytes);
        exact = malloc(len);
        assert_non_null(exact);
        memcpy(exact, text, len);
        for (size_t given = 0; given < N; given += 9) {
                size_t need = nss_pack_group_size(NULL, given, bytes);
                a = malloc(need);
                assert_non_null(a);
                assert_int_equal(nss_scan_group_sized(exact, len, 1000, 1048576, given, bytes, &gr, a, need, &gs),
                                 -ENOTSUP);
                free(a);
        }
        free(exact);
        free(text);
}

/* What this reader leaves to the JSON parser, and what it refuses as
 * the JSON path refuses it. */
static void test_scan_group_not_plain(void **state) {
        static const char *const other[] = {
                "{\"error\":\"io.kaas.Nss.NotFound\",\"parameters\":{}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\\u0062\"]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\\u00e9\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\xc3\xa9\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[],\"x\":1}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"name\":\"h\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":01000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000.0,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":-1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000000000000000000000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\",]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\"]}}} ",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\"]}},\"continues\":true}",
                "{\"parameters\": {\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\"",
                "{\"parameters\":{\"group\":{}}}",
                "",
        };
        struct nss_scan_group g;
        for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
                assert_int_equal(scan(other[i], &g), -ENOTSUP);

        static const char *const refused[] = {
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":999,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":4294967295,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"a:b\",\"gid\":1000,\"members\":[]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"\"]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a,b\"]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\",\"b:c\"]}}}",
                "{\"parameters\":{\"group\":{\"name\":\"g\",\"members\":[]}}}",
        };
        for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
                assert_int_equal(scan(refused[i], &g), -EBADMSG);

        /* more members than the module takes */
        const char *three = "{\"parameters\":{\"group\":{\"name\":\"g\",\"gid\":1000,\"members\":[\"a\",\"b\",\"c\"]}}}";
        assert_int_equal(nss_scan_group(three, strlen(three), 1000, 2, &g), -EBADMSG);
        assert_int_equal(nss_scan_group(three, strlen(three), 1000, 3, &g), 0);
        /* never read past len */
        assert_int_equal(nss_scan_group(three, strlen(three) - 1, 1000, 3, &g), -ENOTSUP);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_passwd_sizes),
                cmocka_unit_test(test_group_sizes_and_alignment),
                cmocka_unit_test(test_group_without_members),
                cmocka_unit_test(test_scan_group_sized),
                cmocka_unit_test(test_scan_group_sized_member_lengths),
                cmocka_unit_test(test_scan_group_sized_runs),
                cmocka_unit_test(test_add_gids),
                cmocka_unit_test(test_scan_group),
                cmocka_unit_test(test_scan_group_not_plain),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
