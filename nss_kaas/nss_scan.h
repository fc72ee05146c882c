/* Reading a group entry straight from the text of kaasd's reply, without
 * building a JSON tree of it: for a role held by 100,000 users the tree
 * of its 1.4 MB reply (100,000 strings) cost the module more than
 * everything else in the lookup.
 *
 * Only the plain form kaasd writes is read here:
 *   {"parameters":{"group":{"name":"N","gid":G,"members":["a",...]}}}
 * with the three keys once each in any order, no white space, strings of
 * printable ASCII without escapes and a gid of digits. Anything else (an
 * error reply, an escape, a byte outside ASCII, another key) is
 * -ENOTSUP, and the caller parses the text as JSON and decides as before:
 * this reader never accepts what the JSON path refuses, and refuses
 * (-EBADMSG) only what it refuses too.
 *
 * Pure functions over the caller's memory: the text is hostile and is
 * never read past len. */
#pragma once

#include <grp.h>
#include <stddef.h>
#include <stdint.h>

struct nss_scan_group {
        const char *name;               /* into the text */
        size_t name_len;
        uint32_t gid;
        size_t n_members;
        size_t member_bytes;            /* the members packed, each with its NUL */
        const char *members, *end;      /* the members' array after its '[', the text's end */
};

/* 0 and *ret (pointing into text) for an entry in the plain form that
 * checks out: a name without ':', a gid in [min_id, UINT32_MAX), at most
 * max_members members, each non-empty and without ':' or ','. -EBADMSG
 * for the plain form with an entry that does not; -ENOTSUP for anything
 * else. */
int nss_scan_group(const char *text, size_t len, uint32_t min_id, size_t max_members, struct nss_scan_group *ret);

/* Packs what nss_scan_group() found in text, unchanged since, as
 * nss_pack_group() does, byte for byte: 0, or -ERANGE when buf is too
 * small, told before anything is written (glibc's retries with a buffer
 * too small then cost the scan only); -EINVAL for a text that is not the
 * one scanned. */
int nss_scan_group_pack(const struct nss_scan_group *g, struct group *gr, char *buf, size_t buflen);

/* nss_scan_group() and nss_scan_group_pack() in one pass, for an entry
 * whose size is known before its text is read (a group file's header:
 * n_members members whose strings take string_bytes, the members, the
 * name and "x" each with its NUL): the members are copied into buf as
 * they are checked. 0 with the entry in gr and buf and *ret as
 * nss_scan_group() gives it; -ERANGE, told before anything is written,
 * when buf is too small; otherwise -EBADMSG or -ENOTSUP, never 0, for a
 * text that nss_scan_group() refuses or whose entry is not of the size
 * given (which of the two may differ from nss_scan_group()'s answer:
 * the size is checked as the members are read). On failure buf holds
 * nothing of use, and nothing is written past the bytes the counts need. */
int nss_scan_group_sized(const char *text, size_t len, uint32_t min_id, size_t max_members, size_t n_members,
                         size_t string_bytes, struct group *gr, char *buf, size_t buflen, struct nss_scan_group *ret);
