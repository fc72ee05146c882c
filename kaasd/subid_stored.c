/* Stored ids inside subordinate ranges; see subid_stored.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config_file.h"
#include "store.h"
#include "subid.h"
#include "subid_stored.h"
#include "unix_names.h"

static bool has_prefix(const char *key, const char *prefix) {
        return strncmp(key, prefix, strlen(prefix)) == 0;
}

/* uids are Keystone users' only; local accounts' reserved ids are theirs */
static bool user_key(const char *key) {
        return !has_prefix(key, UNIX_ROLE_KEY_PREFIX) && !has_prefix(key, UNIX_LOCAL_KEY_PREFIX);
}

/* gids: users' private groups (gid = uid) and role groups */
static bool group_key(const char *key) {
        return !has_prefix(key, UNIX_LOCAL_KEY_PREFIX);
}

struct walk {
        struct store *store;
        const char *path;
        store_uid_key_filter want;
        const char *id_name;            /* "uid" or "gid" */
        uint64_t count;                 /* in this file */
        char shown[SUBID_STORED_SHOWN][200];
        size_t n_shown;
        int error;
};

static int range_cb(uint32_t start, uint32_t count, unsigned lineno, const char *line, void *userdata) {
        struct walk *w = userdata;
        struct store_uid_entry first[SUBID_STORED_SHOWN];
        uint64_t last = (uint64_t)start + count - 1, n = 0;
        int r = store_uid_in_range(w->store, start, last > UINT32_MAX ? UINT32_MAX : (uint32_t)last, w->want,
                                   first, SUBID_STORED_SHOWN, &n);
        if (r < 0) {
                w->error = r;
                return r;
        }
        w->count += n;
        for (uint64_t i = 0; i < n && i < SUBID_STORED_SHOWN && w->n_shown < SUBID_STORED_SHOWN; i++) {
                const char *key = first[i].key;
                bool role = has_prefix(key, UNIX_ROLE_KEY_PREFIX);
                /* keys come from Keystone: printed with %.64s, never as a format */
                snprintf(w->shown[w->n_shown++], sizeof(w->shown[0]), "%s %.64s %s %u (%s line %u)",
                         role ? "role" : "user ID", role ? key + strlen(UNIX_ROLE_KEY_PREFIX) : key, w->id_name,
                         first[i].uid, w->path, lineno);
        }
        (void)line;
        return 0;
}

__attribute__((format(printf, 4, 5)))
static void append(char *msg, size_t size, size_t *used, const char *fmt, ...) {
        if (*used >= size)
                return;
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(msg + *used, size - *used, fmt, ap);
        va_end(ap);
        if (k > 0)
                *used += (size_t)k;
}

int subid_stored_check(struct store *s, const struct config *c, uint64_t *ret_count, char *msg,
                       size_t msg_size) {
        struct walk w[2] = {
                { .store = s, .path = c->subuid_file, .want = user_key, .id_name = "uid" },
                { .store = s, .path = c->subgid_file, .want = group_key, .id_name = "gid" },
        };
        char err[300] = "";
        uint64_t total = 0;
        for (size_t i = 0; i < 2; i++) {
                int r = subid_each_range(w[i].path, range_cb, &w[i], err, sizeof(err));
                if (r < 0) {
                        if (w[i].error < 0)
                                snprintf(msg, msg_size, "cannot read the uid map of the store: %s", strerror(-r));
                        else
                                snprintf(msg, msg_size, "%s", err);
                        return r;
                }
                total += w[i].count;
        }
        *ret_count = total;
        if (msg_size > 0)
                msg[0] = '\0';
        if (total == 0)
                return 0;
        size_t used = 0;
        append(msg, msg_size, &used, "%" PRIu64 " stored ids lie in subordinate ranges (%" PRIu64 " in %s, %" PRIu64
               " in %s); first:", total, w[0].count, w[0].path, w[1].count, w[1].path);
        size_t shown = 0;
        for (size_t i = 0; i < 2; i++)
                for (size_t j = 0; j < w[i].n_shown && shown < SUBID_STORED_SHOWN; j++, shown++)
                        append(msg, msg_size, &used, "%s %s", shown == 0 ? "" : ",", w[i].shown[j]);
        return 0;
}
