/* Token records as etcd holds them; see replica_record.h. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replica_record.h"
#include "store_record.h"

char *replica_token_key(const char *prefix, const uint8_t hash[static STORE_HASH_SIZE]) {
        size_t n = strlen(prefix) + strlen(REPLICA_TOKENS_DIR) + REPLICA_HASH_HEX + 1;
        char *k = malloc(n);
        if (!k)
                return NULL;
        size_t p = (size_t)snprintf(k, n, "%s%s", prefix, REPLICA_TOKENS_DIR);
        sodium_bin2hex(k + p, n - p, hash, STORE_HASH_SIZE);
        return k;
}

/* The hash of 64 lower-case hex digits. */
static int hash_parse(const char *hex, size_t n, uint8_t ret_hash[static STORE_HASH_SIZE]);

int replica_token_key_parse(const char *prefix, const char *key, size_t key_len,
                            uint8_t ret_hash[static STORE_HASH_SIZE]) {
        size_t pl = strlen(prefix), dl = strlen(REPLICA_TOKENS_DIR);
        if (key_len < pl + dl || memcmp(key, prefix, pl) != 0 || memcmp(key + pl, REPLICA_TOKENS_DIR, dl) != 0)
                return -ENOENT;
        return hash_parse(key + pl + dl, key_len - pl - dl, ret_hash);
}

char *replica_last_used_key(const char *prefix, const char *node, const uint8_t hash[static STORE_HASH_SIZE]) {
        size_t n = strlen(prefix) + strlen(REPLICA_LAST_USED_DIR) + strlen(node) + 1 + REPLICA_HASH_HEX + 1;
        char *k = malloc(n);
        if (!k)
                return NULL;
        size_t p = (size_t)snprintf(k, n, "%s%s%s/", prefix, REPLICA_LAST_USED_DIR, node);
        sodium_bin2hex(k + p, n - p, hash, STORE_HASH_SIZE);
        return k;
}

int replica_last_used_key_parse(const char *prefix, const char *key, size_t key_len,
                                uint8_t ret_hash[static STORE_HASH_SIZE]) {
        size_t pl = strlen(prefix), dl = strlen(REPLICA_LAST_USED_DIR);
        if (key_len < pl + dl || memcmp(key, prefix, pl) != 0 || memcmp(key + pl, REPLICA_LAST_USED_DIR, dl) != 0)
                return -ENOENT;
        const char *node = key + pl + dl, *end = key + key_len;
        const char *slash = memchr(node, '/', (size_t)(end - node));
        if (!slash || slash == node)
                return -EBADMSG;
        return hash_parse(slash + 1, (size_t)(end - slash - 1), ret_hash);
}

static int hash_parse(const char *hex, size_t n, uint8_t ret_hash[static STORE_HASH_SIZE]) {
        size_t bin_len = 0;
        if (n != REPLICA_HASH_HEX)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)  /* key is not NUL-terminated: no str*() */
                if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                        return -EBADMSG;
        uint8_t hash[STORE_HASH_SIZE];
        if (sodium_hex2bin(hash, sizeof(hash), hex, n, NULL, &bin_len, NULL) != 0 || bin_len != sizeof(hash))
                return -EBADMSG;
        memcpy(ret_hash, hash, sizeof(hash));
        return 0;
}

char *replica_token_value(const struct token_record *rec) {
        json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I}", "owner_id", rec->owner_id, "owner_name",
                              rec->owner_name, "owner_domain_id", rec->owner_domain_id ? rec->owner_domain_id : "",
                              "token_id", rec->token_id, "description", rec->description ? rec->description : "",
                              "created", (json_int_t)rec->created, "expires", (json_int_t)rec->expires);
        char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        return s;
}

static int take(json_t *j, const char *name, char **ret) {
        const char *v = json_string_value(json_object_get(j, name));
        if (!v || strlen(v) != json_string_length(json_object_get(j, name)))
                return -EBADMSG;  /* missing, or with a NUL inside */
        return (*ret = strdup(v)) ? 0 : -ENOMEM;
}

int replica_token_value_parse(const char *value, size_t len, struct token_record *ret) {
        json_error_t je;
        json_t *j = json_loadb(value, len, JSON_REJECT_DUPLICATES, &je);
        struct token_record rec = { 0 };
        char *token_id = NULL;
        /* out of memory is not a malformed record: the caller must not
         * pass it (nor delete what it holds for it) */
        int r = json_is_object(j) ? 0 : !j && json_error_code(&je) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
        json_t *created = json_object_get(j, "created"), *expires = json_object_get(j, "expires");
        if (r == 0 && (!json_is_integer(created) || !json_is_integer(expires)))
                r = -EBADMSG;
        if (r == 0 && ((r = take(j, "owner_id", &rec.owner_id)) < 0 || (r = take(j, "owner_name", &rec.owner_name)) < 0 ||
                       (r = take(j, "owner_domain_id", &rec.owner_domain_id)) < 0 ||
                       (r = take(j, "description", &rec.description)) < 0 || (r = take(j, "token_id", &token_id)) < 0))
                goto out;
        if (r == 0 && strlen(token_id) != TOKEN_ID_LENGTH)
                r = -EBADMSG;
        if (r < 0)
                goto out;
        memcpy(rec.token_id, token_id, TOKEN_ID_LENGTH + 1);
        rec.created = (int64_t)json_integer_value(created);
        rec.expires = (int64_t)json_integer_value(expires);
        /* the store's own bounds decide what a valid record is */
        uint8_t buf[TOKEN_RECORD_SIZE_MAX];
        size_t size;
        if (token_record_encode(&rec, buf, &size) < 0 ||
            token_id_check_format(rec.token_id, TOKEN_ID_LENGTH) < 0) {
                r = -EBADMSG;
                goto out;
        }
        *ret = rec;
        rec = (struct token_record){ 0 };
out:
        free(token_id);
        token_record_free(&rec);
        json_decref(j);
        return r;
}

/* ------------------------------------------------------------ the shared uid/gid map */

char *replica_uid_key(const char *prefix, const char *id_key) {
        size_t n = strlen(prefix) + strlen(REPLICA_UIDS_DIR) + strlen(id_key) + 1;
        char *k = malloc(n);
        if (k)
                snprintf(k, n, "%s%s%s", prefix, REPLICA_UIDS_DIR, id_key);
        return k;
}

char *replica_uid_number_key(const char *prefix, uint32_t id) {
        size_t n = strlen(prefix) + strlen(REPLICA_UIDS_DIR) + strlen(REPLICA_UID_NUMBER_PREFIX) + 11;
        char *k = malloc(n);
        if (k)
                snprintf(k, n, "%s%s%s%" PRIu32, prefix, REPLICA_UIDS_DIR, REPLICA_UID_NUMBER_PREFIX, id);
        return k;
}

int replica_uid_key_parse(const char *prefix, const char *key, size_t key_len, char **ret_id_key) {
        size_t pl = strlen(prefix), dl = strlen(REPLICA_UIDS_DIR), ll = strlen(REPLICA_UID_LOCAL_PREFIX);
        size_t nl = strlen(REPLICA_UID_NUMBER_PREFIX);
        if (key_len < pl + dl || memcmp(key, prefix, pl) != 0 || memcmp(key + pl, REPLICA_UIDS_DIR, dl) != 0)
                return -ENOENT;
        const char *id = key + pl + dl;
        size_t n = key_len - pl - dl;
        if (n >= nl && memcmp(id, REPLICA_UID_NUMBER_PREFIX, nl) == 0)
                return -ENOENT;  /* a number's holder: the entry beside it says the same */
        /* a node's own reservations of its local accounts' ids never leave it */
        if (!store_user_id_valid(id, n) || (n >= ll && memcmp(id, REPLICA_UID_LOCAL_PREFIX, ll) == 0))
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)  /* Keystone IDs: printable, no space (they end up in logs) */
                if (id[i] <= ' ' || id[i] > '~')
                        return -EBADMSG;
        char *s = strndup(id, n);
        if (!s)
                return -ENOMEM;
        *ret_id_key = s;
        return 0;
}

char *replica_uid_value(uint32_t id) {
        char *v = malloc(11);
        if (v)
                snprintf(v, 11, "%" PRIu32, id);
        return v;
}

/* A positive decimal number of at most 16 digits, no sign, no leading zero. */
static int decimal_parse(const char *value, size_t len, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        if (len == 0 || len > 16 || (len > 1 && value[0] == '0'))
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {  /* not NUL-terminated: no strto*() */
                if (value[i] < '0' || value[i] > '9')
                        return -EBADMSG;
                v = v * 10 + (uint64_t)(value[i] - '0');
        }
        if (v == 0 || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

int replica_uid_value_parse(const char *value, size_t len, uint32_t *ret) {
        uint64_t v;
        int r = decimal_parse(value, len, UINT32_MAX, &v);
        if (r == 0)
                *ret = (uint32_t)v;
        return r;
}

int replica_time_value_parse(const char *value, size_t len, int64_t *ret) {
        uint64_t v;
        int r = decimal_parse(value, len, UINT64_C(1) << 53, &v);
        if (r == 0)
                *ret = (int64_t)v;
        return r;
}
