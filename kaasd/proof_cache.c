/* See proof_cache.h. */
#include "config.h"

#include <errno.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proof_cache.h"

#define SETS 1024
#define WAYS 4
#define HASH_BYTES 32

struct entry {
        uint8_t hash[HASH_BYTES];
        char user_id[PROOF_CACHE_USER_ID_MAX + 1];
        int64_t inserted;
        int64_t valid_until;  /* 0: empty */
};

struct proof_cache {
        uint8_t key[crypto_generichash_KEYBYTES];
        unsigned ttl_sec;
        struct entry entries[SETS * WAYS];
};

int proof_cache_new(struct proof_cache **ret) {
        struct proof_cache *pc = calloc(1, sizeof(*pc));
        if (!pc)
                return -ENOMEM;
        randombytes_buf(pc->key, sizeof(pc->key));
        pc->ttl_sec = 60;
        *ret = pc;
        return 0;
}

struct proof_cache *proof_cache_free(struct proof_cache *pc) {
        if (!pc)
                return NULL;
        sodium_memzero(pc, sizeof(*pc));
        free(pc);
        return NULL;
}

void proof_cache_set_ttl(struct proof_cache *pc, unsigned ttl_sec) {
        pc->ttl_sec = ttl_sec;
        if (ttl_sec == 0)
                sodium_memzero(pc->entries, sizeof(pc->entries));
}

static struct entry *set_of(struct proof_cache *pc, const char *token, size_t len, uint8_t hash[HASH_BYTES]) {
        crypto_generichash(hash, HASH_BYTES, (const unsigned char *)token, len, pc->key, sizeof(pc->key));
        uint32_t n;
        memcpy(&n, hash, sizeof(n));
        return &pc->entries[(n % SETS) * WAYS];
}

/* token's entry, or NULL */
static struct entry *find(struct proof_cache *pc, const char *token, size_t len) {
        uint8_t hash[HASH_BYTES];
        struct entry *set = set_of(pc, token, len, hash);
        for (int w = 0; w < WAYS; w++)
                if (set[w].valid_until != 0 && sodium_memcmp(set[w].hash, hash, HASH_BYTES) == 0)
                        return &set[w];
        return NULL;
}

int proof_cache_get(struct proof_cache *pc, const char *token, size_t len, int64_t now, char *ret_user_id) {
        if (pc->ttl_sec == 0)
                return -ENOENT;
        struct entry *e = find(pc, token, len);
        if (!e)
                return -ENOENT;
        /* a lowered ttl bounds entries made before it */
        if (now >= e->valid_until || now >= e->inserted + (int64_t)pc->ttl_sec) {
                sodium_memzero(e, sizeof(*e));
                return -ENOENT;
        }
        memcpy(ret_user_id, e->user_id, sizeof(e->user_id));
        return 0;
}

int proof_cache_forget(struct proof_cache *pc, const char *token, size_t len, char *ret_user_id) {
        struct entry *e = find(pc, token, len);
        if (!e)
                return -ENOENT;
        if (ret_user_id)
                memcpy(ret_user_id, e->user_id, sizeof(e->user_id));
        sodium_memzero(e, sizeof(*e));
        return 0;
}

void proof_cache_put(struct proof_cache *pc, const char *token, size_t len, const char *user_id, int64_t now,
                     int64_t token_expires) {
        if (pc->ttl_sec == 0 || token_expires <= now || strlen(user_id) > PROOF_CACHE_USER_ID_MAX)
                return;
        uint8_t hash[HASH_BYTES];
        struct entry *set = set_of(pc, token, len, hash), *slot = NULL;
        /* the token's own entry, else a free or expired one, else the oldest */
        for (int w = 0; w < WAYS && !slot; w++)
                if (set[w].valid_until != 0 && sodium_memcmp(set[w].hash, hash, HASH_BYTES) == 0)
                        slot = &set[w];
        for (int w = 0; w < WAYS && !slot; w++)
                if (set[w].valid_until == 0 || now >= set[w].valid_until)
                        slot = &set[w];
        if (!slot) {
                slot = &set[0];
                for (int w = 1; w < WAYS; w++)
                        if (set[w].inserted < slot->inserted)
                                slot = &set[w];
        }
        sodium_memzero(slot, sizeof(*slot));
        memcpy(slot->hash, hash, HASH_BYTES);
        snprintf(slot->user_id, sizeof(slot->user_id), "%s", user_id);
        slot->inserted = now;
        int64_t until = now + (int64_t)pc->ttl_sec;
        slot->valid_until = token_expires < until ? token_expires : until;
}
