/* bench-fill-store: makes a kaasd state directory holding N tokens and M
 * cached identities for the benchmarks, without kaasd (which would check
 * a Keystone password for every token) and without Keystone.
 *
 *   bench-fill-store STATE_DIR TOKENS IDENTITIES [ROLE]
 *
 * STATE_DIR must not hold a store yet. Identities are built as the
 * identity cache builds them (struct identity) and stored in its blob
 * format (identity_to_blob()), fetched now, so a kaasd configured with a
 * long cache_ttl (and even without a Keystone) serves them from its cache.
 * Each has four roles on one of 100 projects, like a typical developer,
 * and ROLE as a fifth when given (the role a login requires, say).
 * Tokens are made as io.kaas.Token.Create makes them (token_generate(),
 * the state directory's own key, a one-year expiry) and spread round-robin
 * over the first min(TOKENS, IDENTITIES) identities.
 *
 * Writes STATE_DIR/../tokens.txt: "TOKEN USER_NAME" per line, mode 0600.
 *
 * Records go in through the store's own encoders and transaction runner
 * (store_internal.h), a few hundred per transaction without a sync each:
 * store_token_put() syncs every commit, which for a million tokens would
 * take hours of fsync. store_close() checkpoints, so the store is on disk
 * and consistent when this returns. The output is a bench fixture only. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "identity.h"
#include "store.h"
#include "store_internal.h"
#include "store_record.h"
#include "token_format.h"
#include "token_key.h"

#define BATCH 256
#define PROJECTS 100

struct item {
        DBT key;
        uint8_t *data;
        size_t size;
};

struct batch {
        DB *db;
        struct item items[BATCH];
        size_t n;
};

static int put_batch_fn(struct store *s, DB_TXN *txn, void *userdata) {
        struct batch *b = userdata;
        for (size_t i = 0; i < b->n; i++) {
                DBT data = store_dbt(b->items[i].data, b->items[i].size);
                int r = b->db->put(b->db, txn, &b->items[i].key, &data, DB_NOOVERWRITE);
                if (r != 0)
                        return store_error(s, r);
        }
        return 0;
}

static int flush(struct store *s, struct batch *b) {
        int r = b->n ? store_txn_run(s, STORE_TXN_NOSYNC, put_batch_fn, b) : 0;
        for (size_t i = 0; i < b->n; i++) {
                free(b->items[i].key.data);
                free(b->items[i].data);
        }
        b->n = 0;
        return r;
}

static void user_id_of(unsigned i, char out[33]) {
        /* 32 hex digits, as Keystone's IDs */
        snprintf(out, 33, "be4c%028x", i);
}

static void user_name_of(unsigned i, char *out, size_t size) {
        snprintf(out, size, "bench%06u", i);
}

static int make_identity(unsigned i, int64_t now_ms, const char *extra_role, struct identity **ret) {
        const char *const role_names[] = { "member", "reader", "developer", "k8s-viewers", extra_role };
        unsigned n_roles = extra_role ? 5 : 4;
        struct identity *id = calloc(1, sizeof(*id));
        char uid[33], name[32], pid[33], pname[48];
        if (!id)
                return -ENOMEM;
        user_id_of(i, uid);
        user_name_of(i, name, sizeof(name));
        snprintf(pid, sizeof(pid), "9e0c%028x", i % PROJECTS);
        snprintf(pname, sizeof(pname), "bench-project-%02u", i % PROJECTS);
        id->enabled = true;
        id->fetched_at_ms = now_ms;
        id->n_roles = n_roles;
        id->n_projects = 1;
        if (!(id->user_id = strdup(uid)) || !(id->name = strdup(name)) || !(id->domain_id = strdup("default")) ||
            !(id->domain_name = strdup("Default")) || !(id->roles = calloc(n_roles, sizeof(*id->roles))) ||
            !(id->projects = calloc(1, sizeof(*id->projects))))
                goto oom;
        for (unsigned k = 0; k < n_roles; k++) {
                struct identity_role *r = &id->roles[k];
                char rid[33];
                snprintf(rid, sizeof(rid), "7201%028x", k);
                r->scope = KS_SCOPE_PROJECT;
                if (!(r->id = strdup(rid)) || !(r->name = strdup(role_names[k])) || !(r->project_id = strdup(pid)) ||
                    !(r->project_name = strdup(pname)) || !(r->domain_id = strdup("default")) ||
                    !(r->domain_name = strdup("Default")))
                        goto oom;
        }
        if (!(id->projects[0].id = strdup(pid)) || !(id->projects[0].name = strdup(pname)) ||
            !(id->projects[0].domain_id = strdup("default")) || !(id->projects[0].domain_name = strdup("Default")))
                goto oom;
        *ret = id;
        return 0;
oom:
        identity_free(id);
        return -ENOMEM;
}

static int fill_identities(struct store *s, unsigned n, const char *extra_role) {
        struct batch b = { .db = s->identities };
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        int64_t now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
        for (unsigned i = 0; i < n; i++) {
                struct identity *id = NULL;
                char *blob = NULL;
                size_t blob_size;
                int r = make_identity(i, now_ms, extra_role, &id);
                if (r < 0 || (r = identity_to_blob(id, &blob, &blob_size)) < 0) {
                        identity_free(id);
                        return r;
                }
                struct identity_record rec = {
                        .user_id = id->user_id,
                        .name = id->name,
                        .domain_id = id->domain_id,
                        .blob_version = IDENTITY_BLOB_VERSION,
                        .fetched_at = now_ms / 1000,
                        .blob = blob,
                        .blob_size = blob_size,
                };
                struct item *it = &b.items[b.n];
                r = identity_record_encode(&rec, &it->data, &it->size);
                it->key = store_dbt(strdup(id->user_id), strlen(id->user_id));
                free(blob);
                identity_free(id);
                if (r < 0 || !it->key.data)
                        return r < 0 ? r : -ENOMEM;
                if (++b.n == BATCH && (r = flush(s, &b)) < 0)
                        return r;
        }
        return flush(s, &b);
}

static int fill_tokens(struct store *s, const struct token_key *key, unsigned n, unsigned n_owners, FILE *out) {
        struct batch b = { .db = s->tokens };
        int64_t now = (int64_t)time(NULL);
        for (unsigned i = 0; i < n; i++) {
                unsigned owner = i % n_owners;
                char uid[33], name[32], token[TOKEN_STRING_SIZE];
                user_id_of(owner, uid);
                user_name_of(owner, name, sizeof(name));
                struct token_record rec = {
                        .owner_id = uid,
                        .owner_name = name,
                        .owner_domain_id = (char *)"default",
                        .description = (char *)"bench",
                        .created = now,
                        .expires = now + 365 * 86400,
                };
                struct item *it = &b.items[b.n];
                uint8_t *hash = malloc(TOKEN_HASH_SIZE);
                it->data = malloc(TOKEN_RECORD_SIZE_MAX);
                if (!hash || !it->data) {
                        free(hash);
                        return -ENOMEM;
                }
                int r;
                if ((r = token_generate(token)) < 0 || (r = token_id_generate(rec.token_id)) < 0 ||
                    (r = token_key_hash(key, token, TOKEN_LENGTH, hash)) < 0 ||
                    (r = token_record_encode(&rec, it->data, &it->size)) < 0) {
                        free(hash);
                        return r;
                }
                it->key = store_dbt(hash, TOKEN_HASH_SIZE);
                fprintf(out, "%s %s\n", token, name);
                sodium_memzero(token, sizeof(token));
                if (++b.n == BATCH && (r = flush(s, &b)) < 0)
                        return r;
        }
        return flush(s, &b);
}

int main(int argc, char **argv) {
        if (argc != 4 && argc != 5) {
                fprintf(stderr, "usage: %s STATE_DIR TOKENS IDENTITIES [ROLE]\n", argv[0]);
                return 2;
        }
        const char *dir = argv[1];
        unsigned long n_tokens = strtoul(argv[2], NULL, 10), n_ids = strtoul(argv[3], NULL, 10);
        if (n_ids < 1 || n_ids > 10000000 || n_tokens > 100000000) {
                fprintf(stderr, "%s: IDENTITIES must be 1..10M and TOKENS at most 100M\n", argv[0]);
                return 2;
        }
        if (sodium_init() < 0)
                return 1;
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/tokens.db", dir);
        if (access(path, F_OK) == 0) {
                fprintf(stderr, "%s: %s already holds a store\n", argv[0], dir);
                return 1;
        }
        char errbuf[512];
        struct store *s = NULL;
        int r = store_open(dir, &s, errbuf, sizeof(errbuf));
        if (r < 0) {
                fprintf(stderr, "%s: cannot open the store in %s: %s\n", argv[0], dir, errbuf);
                return 1;
        }
        struct token_key key = { 0 };
        snprintf(path, sizeof(path), "%s/token.key", dir);
        if ((r = token_key_load(path, false, &key)) < 0) {
                fprintf(stderr, "%s: token key %s: %s\n", argv[0], path, token_key_strerror(r));
                store_close(s);
                return 1;
        }
        snprintf(path, sizeof(path), "%s/../tokens.txt", dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *out = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!out) {
                fprintf(stderr, "%s: cannot write %s: %m\n", argv[0], path);
                store_close(s);
                return 1;
        }
        time_t t0 = time(NULL);
        r = fill_identities(s, (unsigned)n_ids, argc == 5 ? argv[4] : NULL);
        if (r < 0)
                fprintf(stderr, "%s: storing identities: %s\n", argv[0], store_last_error(s));
        else if ((r = fill_tokens(s, &key, (unsigned)n_tokens, (unsigned)(n_tokens < n_ids ? n_tokens : n_ids), out)) < 0)
                fprintf(stderr, "%s: storing tokens: %s\n", argv[0], strerror(-r));
        token_key_clear(&key);
        if (fclose(out) != 0 && r >= 0) {
                fprintf(stderr, "%s: writing %s: %m\n", argv[0], path);
                r = -EIO;
        }
        store_close(s);
        if (r < 0)
                return 1;
        printf("%s: %lu tokens, %lu identities in %lld s\n", dir, n_tokens, n_ids, (long long)(time(NULL) - t0));
        return 0;
}
