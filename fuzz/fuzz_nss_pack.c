/* Fuzz target: the NSS module's packing of entries into the caller's
 * buffer (nss_kaas/nss_pack.c), which runs inside every process that
 * resolves a user, with strings that come from Keystone through kaasd and a
 * buffer size the application chose.
 *
 * Input: [buflen: 2 bytes] [misalignment: 1 byte] [limit: 1 byte] then
 * NUL-separated strings: name, gecos, home, shell, then group members.
 * The gid list for initgroups is taken from the bytes of the strings.
 *
 * Properties: packing succeeds exactly when the entry fits (the size is
 * computed here independently); on success every pointer lies inside the
 * buffer and the strings are equal to the sources; the buffer is exactly
 * buflen bytes, so AddressSanitizer catches any write past it. initgroups:
 * no duplicates, never the primary group, never past the limit, nothing
 * lost below it.
 *
 * The bytes after the header, up to the first NUL, are also taken as the
 * text of a reply of kaasd's and read by nss_scan_group() (a group's
 * entry straight from the text), against jansson and the JSON path's
 * rules as the reference: what the reader takes is exactly the entry the
 * JSON path takes, what it refuses the JSON path refuses too, and packed
 * into the buffer it is the entry nss_pack_group() packs. Read in one
 * pass with its size told (nss_scan_group_sized(), a group file's way),
 * it is the entry the two passes give, and with any other size, or when
 * the scan refuses the text, it is no entry at all. The same bytes
 * are read as the header of a group file (common/group_file_name.c):
 * what it takes, written again from its counts, is the very same text. */
#include "config.h"

#include <errno.h>
#include <stdalign.h>
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "common/group_file_name.h"
#include "fuzz.h"
#include "nss_kaas/nss_pack.h"
#include "nss_kaas/nss_scan.h"

#define MAX_MEMBERS 64

static bool inside(const char *p, const char *buf, size_t len) {
        return p >= buf && p + strlen(p) < buf + len;
}

#define MIN_ID 1000u
#define MAX_SCAN_MEMBERS 32

/* The JSON path's verdict on a reply (nss_kaas.c): 0 with the entry in
 * *src (strings into the tree, members in m), -EBADMSG when it refuses
 * the entry, -EPROTO when the message is not a reply it reads at all. */
static int reference(json_t *msg, struct nss_group_src *src, const char **m) {
        if (!json_is_object(msg) || json_object_get(msg, "error") || json_object_get(msg, "continues"))
                return -EPROTO;
        json_t *params = json_object_get(msg, "parameters");
        if (!json_is_object(params))
                return -EPROTO;
        json_t *o = json_object_get(params, "group");
        if (!o)
                return -EBADMSG;
        json_t *name = json_object_get(o, "name"), *gid = json_object_get(o, "gid"),
               *members = json_object_get(o, "members");
        const char *n = json_string_value(name);
        if (!n || !*n || strpbrk(n, ":\n") || !json_is_integer(gid) || json_integer_value(gid) < MIN_ID ||
            json_integer_value(gid) >= UINT32_MAX || !json_is_array(members) ||
            json_array_size(members) > MAX_SCAN_MEMBERS)
                return -EBADMSG;
        for (size_t i = 0; i < json_array_size(members); i++)
                if (!(m[i] = json_string_value(json_array_get(members, i))) || !*m[i] || strpbrk(m[i], ":,\n"))
                        return -EBADMSG;
        *src = (struct nss_group_src){ .name = n, .gid = (uint32_t)json_integer_value(gid), .members = m,
                                       .n_members = json_array_size(members) };
        return 0;
}

/* nss_scan_group_sized() of text with counts n and bytes into a buffer
 * of exactly the size they need (AddressSanitizer catches a byte past
 * it): its result, the entry checked to lie in that buffer. */
static int sized_tight(const char *text, size_t len, size_t n, size_t bytes) {
        static _Alignas(16) const char aligned[16];
        size_t need = nss_pack_group_size(aligned, n, bytes);
        if (need > (1u << 20))
                return -ERANGE;  /* no text of the fuzzer's is that large */
        char *b = malloc(need ? need : 1);  /* malloc's alignment: as aligned's */
        FUZZ_ASSERT(b);
        struct group gr;
        struct nss_scan_group gs;
        int r = nss_scan_group_sized(text, len, MIN_ID, MAX_SCAN_MEMBERS, n, bytes, &gr, b, need, &gs);
        if (r == 0) {
                FUZZ_ASSERT(inside(gr.gr_name, b, need) && inside(gr.gr_passwd, b, need));
                for (size_t i = 0; i < n; i++)
                        FUZZ_ASSERT(inside(gr.gr_mem[i], b, need));
                FUZZ_ASSERT(gr.gr_mem[n] == NULL);
        }
        free(b);
        return r;
}

/* nss_scan_group_sized() against the two passes: with the entry's own
 * size (r == 0), what nss_scan_group_pack() packs; with any other size,
 * or for a text the scan refused, never an entry, and never a byte
 * written past a buffer of just the size claimed. skew picks sizes. */
static void check_sized(const char *text, size_t len, int r, const struct nss_scan_group *g, unsigned skew,
                        char *buf, size_t buflen) {
        struct nss_scan_group gs;
        struct group gr;
        if (r != 0) {
                FUZZ_ASSERT(sized_tight(text, len, skew % 8, skew * 3) != 0);
                FUZZ_ASSERT(sized_tight(text, len, skew % 8, len) != 0);
                return;
        }
        size_t n = g->n_members, bytes = g->member_bytes + g->name_len + 3;
        FUZZ_ASSERT(sized_tight(text, len, n, bytes) == 0);
        int rs = nss_scan_group_sized(text, len, MIN_ID, MAX_SCAN_MEMBERS, n, bytes, &gr, buf, buflen, &gs);
        FUZZ_ASSERT(rs == 0 || rs == -ERANGE);
        if (rs == 0) {
                FUZZ_ASSERT(gs.gid == g->gid && gs.n_members == n && gr.gr_gid == g->gid);
                FUZZ_ASSERT(inside(gr.gr_name, buf, buflen) && strlen(gr.gr_name) == g->name_len &&
                            memcmp(gr.gr_name, g->name, g->name_len) == 0);
                FUZZ_ASSERT(inside(gr.gr_passwd, buf, buflen) && strcmp(gr.gr_passwd, "x") == 0);
                FUZZ_ASSERT((char *)gr.gr_mem >= buf && (char *)(gr.gr_mem + n + 1) <= buf + buflen &&
                            gr.gr_mem[n] == NULL);
                /* member for member what the two passes give */
                const char *p = g->members;
                for (size_t i = 0; i < n; i++) {
                        size_t m = strcspn(p + 1, "\"");
                        FUZZ_ASSERT(inside(gr.gr_mem[i], buf, buflen) && strlen(gr.gr_mem[i]) == m &&
                                    memcmp(gr.gr_mem[i], p + 1, m) == 0);
                        p += m + 3;
                }
        }
        struct group gp;
        FUZZ_ASSERT(nss_scan_group_pack(g, &gp, buf, buflen) == rs);
        /* a header that lies, each way: no entry, nothing written past
         * the buffer its counts would need */
        FUZZ_ASSERT(sized_tight(text, len, n + 1 + skew / 2, bytes) != 0);
        FUZZ_ASSERT(sized_tight(text, len, n, bytes + 1 + skew / 2) != 0);
        FUZZ_ASSERT(sized_tight(text, len, 0, skew % 8) != 0 || n == 0);
        if (n > 0) {
                FUZZ_ASSERT(sized_tight(text, len, n - 1, bytes) != 0);
                FUZZ_ASSERT(sized_tight(text, len, n / 2, bytes) != 0);
                FUZZ_ASSERT(sized_tight(text, len, 0, bytes) != 0);
                /* room that ends inside the members, or right after them */
                FUZZ_ASSERT(sized_tight(text, len, n, g->member_bytes) != 0);
                FUZZ_ASSERT(sized_tight(text, len, n, g->member_bytes - 1) != 0);
                FUZZ_ASSERT(sized_tight(text, len, n, (skew * 7) % g->member_bytes) != 0);
        }
        if (bytes > skew % 4 + 1)
                FUZZ_ASSERT(sized_tight(text, len, n, bytes - skew % 4 - 1) != 0);
}

static void check_scan(const char *text0, size_t len, unsigned skew, char *buf, size_t buflen) {
        /* a copy with nothing after it: a read past len is caught */
        char *text = malloc(len ? len : 1);
        FUZZ_ASSERT(text);
        memcpy(text, text0, len);
        struct nss_scan_group g;
        int r = nss_scan_group(text, len, MIN_ID, MAX_SCAN_MEMBERS, &g);
        FUZZ_ASSERT(r == 0 || r == -EBADMSG || r == -ENOTSUP);
        check_sized(text, len, r, &g, skew, buf, buflen);
        if (r == -ENOTSUP) {
                free(text);
                return;  /* left to the JSON path */
        }
        json_error_t error;
        json_t *msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
        FUZZ_ASSERT(msg);  /* the reader's form is JSON jansson takes */
        const char *m[MAX_SCAN_MEMBERS];
        struct nss_group_src src;
        int ref = reference(msg, &src, m);
        FUZZ_ASSERT(ref == r);
        if (r == 0) {
                FUZZ_ASSERT(g.gid == src.gid && g.n_members == src.n_members);
                struct group ga, gb;
                /* the same buffer twice, at the same alignment */
                int ra = nss_scan_group_pack(&g, &ga, buf, buflen);
                if (ra == 0) {
                        FUZZ_ASSERT(strcmp(ga.gr_name, src.name) == 0 && ga.gr_gid == src.gid);
                        for (size_t i = 0; i < src.n_members; i++)
                                FUZZ_ASSERT(inside(ga.gr_mem[i], buf, buflen) && strcmp(ga.gr_mem[i], m[i]) == 0);
                        FUZZ_ASSERT(ga.gr_mem[src.n_members] == NULL);
                }
                int rb = nss_pack_group(&src, &gb, buf, buflen);
                FUZZ_ASSERT(ra == rb);
        }
        json_decref(msg);
        free(text);
}

static void check_header(const char *text, size_t len) {
        size_t n, bytes;
        int r = group_file_header_parse(text, len, &n, &bytes);
        FUZZ_ASSERT(r == -EBADMSG || (r > 0 && (size_t)r <= len && r <= GROUP_FILE_HEADER_MAX));
        if (r > 0) {
                char again[GROUP_FILE_HEADER_MAX];
                FUZZ_ASSERT(group_file_header(n, bytes, again, sizeof(again)) == r);
                FUZZ_ASSERT(memcmp(again, text, (size_t)r) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 4)
                return 0;
        size_t buflen = (size_t)data[0] << 8 | data[1];
        size_t misalign = data[2] % 8;
        long int limit = data[3] % 32;
        char *copy = fuzz_strndup(data + 4, size - 4);
        const char *f[4 + MAX_MEMBERS];
        size_t n = 0;
        for (const char *p = copy, *end = copy + size - 4; p < end && n < 4 + MAX_MEMBERS; p += strlen(p) + 1)
                f[n++] = p;
        while (n < 4)
                f[n++] = "";

        /* the buffer at a chosen misalignment, with nothing usable after it */
        char *block = malloc(buflen + misalign + 1);
        FUZZ_ASSERT(block);
        char *buf = block + misalign;

        struct nss_passwd_src ps = { .name = f[0], .uid = 200000, .gid = 200000, .gecos = f[1], .dir = f[2],
                                     .shell = f[3] };
        size_t need = strlen(f[0]) + strlen(f[1]) + strlen(f[2]) + strlen(f[3]) + 4 + 2;
        struct passwd pw;
        int r = nss_pack_passwd(&ps, &pw, buf, buflen);
        FUZZ_ASSERT(r == 0 || r == -ERANGE);
        FUZZ_ASSERT((r == 0) == (need <= buflen));
        if (r == 0) {
                FUZZ_ASSERT(inside(pw.pw_name, buf, buflen) && strcmp(pw.pw_name, f[0]) == 0);
                FUZZ_ASSERT(inside(pw.pw_passwd, buf, buflen) && strcmp(pw.pw_passwd, NSS_PACK_PASSWD_FIELD) == 0);
                FUZZ_ASSERT(inside(pw.pw_gecos, buf, buflen) && strcmp(pw.pw_gecos, f[1]) == 0);
                FUZZ_ASSERT(inside(pw.pw_dir, buf, buflen) && strcmp(pw.pw_dir, f[2]) == 0);
                FUZZ_ASSERT(inside(pw.pw_shell, buf, buflen) && strcmp(pw.pw_shell, f[3]) == 0);
                FUZZ_ASSERT(pw.pw_uid == 200000 && pw.pw_gid == 200000);
        }

        struct nss_group_src gs = { .name = f[0], .gid = 300000, .members = f + 4, .n_members = n - 4 };
        size_t pad = (alignof(char *) - (uintptr_t)buf % alignof(char *)) % alignof(char *);
        need = pad + (gs.n_members + 1) * sizeof(char *) + strlen(f[0]) + 1 + 2;
        for (size_t i = 0; i < gs.n_members; i++)
                need += strlen(gs.members[i]) + 1;
        struct group gr;
        r = nss_pack_group(&gs, &gr, buf, buflen);
        FUZZ_ASSERT(r == 0 || r == -ERANGE);
        FUZZ_ASSERT((r == 0) == (need <= buflen));
        if (r == 0) {
                FUZZ_ASSERT((uintptr_t)gr.gr_mem % alignof(char *) == 0);
                FUZZ_ASSERT((char *)gr.gr_mem >= buf &&
                            (char *)(gr.gr_mem + gs.n_members + 1) <= buf + buflen);
                for (size_t i = 0; i < gs.n_members; i++)
                        FUZZ_ASSERT(inside(gr.gr_mem[i], buf, buflen) && strcmp(gr.gr_mem[i], gs.members[i]) == 0);
                FUZZ_ASSERT(gr.gr_mem[gs.n_members] == NULL);
                FUZZ_ASSERT(inside(gr.gr_name, buf, buflen) && strcmp(gr.gr_name, f[0]) == 0);
                FUZZ_ASSERT(gr.gr_gid == 300000);
        }
        check_scan(copy, strlen(copy), data[3], buf, buflen);
        check_header(copy, size - 4);
        free(block);

        /* initgroups: gids from the input bytes, 4 at a time */
        size_t n_gids = (size - 4) / 4;
        uint32_t *gids = malloc((n_gids ? n_gids : 1) * sizeof(*gids));
        FUZZ_ASSERT(gids);
        for (size_t i = 0; i < n_gids; i++)
                gids[i] = (uint32_t)data[4 + 4 * i] % 16;  /* small values: many repeats */
        gid_t skip = (gid_t)(data[2] % 16);
        long int start = 1, sz = 1;
        gid_t *groups = malloc(sizeof(*groups));
        FUZZ_ASSERT(groups);
        groups[0] = skip;  /* glibc lists the primary group first */
        r = nss_add_gids(skip, gids, n_gids, &start, &sz, &groups, limit);
        FUZZ_ASSERT(r == 0 || r == -ENOMEM);
        FUZZ_ASSERT(start <= sz && (limit == 0 || start <= (limit > 1 ? limit : 1)));
        for (long int i = 1; i < start; i++) {
                FUZZ_ASSERT(groups[i] != skip);
                for (long int k = 0; k < i; k++)
                        FUZZ_ASSERT(groups[i] != groups[k]);
        }
        if (r == 0 && (limit == 0 || start < limit))
                for (size_t i = 0; i < n_gids; i++) {
                        bool found = false;
                        for (long int k = 0; k < start && !found; k++)
                                found = groups[k] == (gid_t)gids[i];
                        FUZZ_ASSERT(found);
                }
        free(groups);
        free(gids);
        free(copy);
        return 0;
}
