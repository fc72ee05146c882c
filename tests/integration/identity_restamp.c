/* identity_restamp: moves the fetch time of one cached identity ahead of
 * the clock, as a clock stepped back since the fetch leaves it. Used by
 * test_identity.sh; kaasd must not have the store open.
 *
 *   identity_restamp STATE_DIR USER_ID SECONDS
 *
 * The identity's fetch time becomes now + SECONDS. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "identity.h"
#include "store.h"

static int restamp(struct store *s, const char *user_id, long seconds) {
        struct identity_record rec = { 0 };
        struct identity *id = NULL;
        char *blob = NULL;
        size_t size;
        int r = store_identity_get(s, user_id, &rec);
        if (r < 0)
                return r;
        if ((r = identity_from_blob(rec.blob, rec.blob_size, &id)) < 0)
                goto out;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        id->fetched_at_ms = ((int64_t)ts.tv_sec + seconds) * 1000;
        if ((r = identity_to_blob(id, &blob, &size)) < 0)
                goto out;
        free(rec.blob);
        rec.blob = blob;
        rec.blob_size = size;
        blob = NULL;
        rec.fetched_at = id->fetched_at_ms / 1000;
        r = store_identity_put(s, &rec);
out:
        identity_free(id);
        identity_record_free(&rec);
        return r;
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: %s STATE_DIR USER_ID SECONDS\n", argv[0]);
                return 2;
        }
        char errbuf[512];
        struct store *s = NULL;
        int r = store_open(argv[1], &s, errbuf, sizeof(errbuf));
        if (r < 0) {
                fprintf(stderr, "%s: cannot open the store in %s: %s\n", argv[0], argv[1], errbuf);
                return 1;
        }
        r = restamp(s, argv[2], strtol(argv[3], NULL, 10));
        store_close(s);
        if (r < 0) {
                fprintf(stderr, "%s: %s: %s\n", argv[0], argv[2], strerror(-r));
                return 1;
        }
        return 0;
}
