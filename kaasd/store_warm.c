/* SPDX-License-Identifier: MIT */
/*
 * Reading the databases that every Validate and identity lookup reads (tokens.db,
 * identities.db) into the Berkeley DB cache after open, page by page through the cache's own
 * handle, a few pages per call, so that the caller (kaasd's loop) serves calls in between.
 * Without it, a freshly started kaasd on a large store reads a page from the file for nearly
 * every Validate until the cache has filled by use, which at 1,000,000 tokens took minutes and
 * halved the rate meanwhile.
 *
 * Only when the cache holds those databases whole: in a smaller cache (store_cache_max), the
 * pages read would only push each other out.
 */
#include "config.h"

#include <errno.h>

#include "store_internal.h"

static DB *warm_db(struct store *s, unsigned i) {
        DB *const dbs[] = { s->tokens, s->identities };
        return i < sizeof(dbs) / sizeof(dbs[0]) ? dbs[i] : NULL;
}

/* Bytes of the databases warmed, from their last page numbers. */
static int warm_bytes(struct store *s, uint64_t *ret) {
        uint64_t total = 0;
        for (unsigned i = 0; warm_db(s, i); i++) {
                DB *db = warm_db(s, i);
                DB_MPOOLFILE *mpf = db->get_mpf(db);
                db_pgno_t last;
                u_int32_t page_size;
                int r = mpf->get_last_pgno(mpf, &last);
                if (r == 0)
                        r = db->get_pagesize(db, &page_size);
                if (r != 0)
                        return store_error(s, r);
                total += ((uint64_t)last + 1) * page_size;
        }
        *ret = total;
        return 0;
}

int store_warm_step(struct store *s, unsigned max_pages, uint64_t *ret_bytes) {
        int r;

        if (s->warm_done)
                return 1;
        if (!s->warm_started) {
                uint64_t bytes = 0;
                if ((r = warm_bytes(s, &bytes)) < 0)
                        return r;
                s->warm_started = true;
                /* the other databases and the writes need room too */
                if (bytes > s->cache_size - s->cache_size / 8) {
                        s->warm_done = true;
                        return 1;
                }
        }
        for (unsigned n = 0; n < max_pages;) {
                DB *db = warm_db(s, s->warm_db);
                if (!db) {
                        s->warm_done = true;
                        return 1;
                }
                DB_MPOOLFILE *mpf = db->get_mpf(db);
                db_pgno_t last;
                u_int32_t page_size;
                if ((r = mpf->get_last_pgno(mpf, &last)) != 0 || (r = db->get_pagesize(db, &page_size)) != 0)
                        return store_error(s, r);
                for (; n < max_pages && s->warm_next <= last; n++) {
                        db_pgno_t pgno = s->warm_next++;
                        void *page;
                        /* read into the cache and let go at once: no lock, nothing kept pinned */
                        r = mpf->get(mpf, &pgno, NULL, 0, &page);
                        if (r != 0)
                                return store_error(s, r);
                        if ((r = mpf->put(mpf, page, DB_PRIORITY_UNCHANGED, 0)) != 0)
                                return store_error(s, r);
                        if (ret_bytes)
                                *ret_bytes += page_size;
                }
                if (s->warm_next > last) {
                        s->warm_db++;
                        s->warm_next = 0;
                }
        }
        return 0;
}
