/* Fuzz target: what kaasd reads from etcd (kaasd/etcd_json.c) and the
 * token records it keeps there (kaasd/replica_record.c). etcd is the
 * environment's authority but not trusted to be well-formed: a proxy, a
 * bug or a compromised writer must not crash a reader.
 *
 * Input: a reply body, a watch message or a record value. Each input goes
 * through every parser.
 *
 * Properties: decoded keys and values stay within their bounds and are
 * NUL-terminated; revisions are positive where etcd always sends one;
 * events have a revision; a record that parses encodes for the store and
 * has a well-formed token ID; a key that parses is rebuilt identically;
 * error messages are printable; and (under LeakSanitizer) the clear
 * functions free everything. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "fuzz.h"
#include "kaasd/etcd_json.h"
#include "kaasd/replica_record.h"
#include "kaasd/store_record.h"

static void check_kv(const struct etcd_kv *kv, bool value) {
        /* a key comes whole, whatever its length; a value past the limit
         * comes as "" (one record ignored, etcd_json.c parse_kv()) */
        FUZZ_ASSERT(kv->key && kv->key[kv->key_len] == '\0');
        if (value)
                FUZZ_ASSERT(kv->value && kv->value_len <= ETCD_VALUE_MAX && kv->value[kv->value_len] == '\0' &&
                            (kv->key_len <= ETCD_KEY_MAX || kv->value_len == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *body = (const char *)data;

        struct etcd_range_reply rr;
        if (etcd_json_range_reply(body, size, 1000, &rr) == 0) {
                FUZZ_ASSERT(rr.revision > 0 && rr.n_kvs <= 1000);
                for (size_t i = 0; i < rr.n_kvs; i++)
                        check_kv(&rr.kvs[i], true);
                etcd_range_reply_clear(&rr);
        }
        struct etcd_watch_reply w;
        if (etcd_json_watch_reply(body, size, 1000, &w) == 0) {
                FUZZ_ASSERT(w.revision > 0 || w.canceled);
                for (size_t i = 0; i < w.n_events; i++) {
                        check_kv(&w.events[i].kv, !w.events[i].deleted);
                        FUZZ_ASSERT(w.events[i].kv.mod_revision > 0);
                }
                etcd_watch_reply_clear(&w);
        }
        struct etcd_txn_reply t;
        if (etcd_json_txn_reply(body, size, &t) == 0) {
                FUZZ_ASSERT(t.revision > 0 && t.deleted >= 0 && t.n_kvs <= ETCD_TXN_MAX_KVS);
                for (size_t i = 0; i < t.n_kvs; i++)
                        check_kv(&t.kvs[i], true);
                etcd_txn_reply_clear(&t);
        }
        char *token = NULL;
        if (etcd_json_auth_reply(body, size, 64, &token) == 0) {
                FUZZ_ASSERT(token && *token && strlen(token) <= 64 && !strpbrk(token, "\r\n"));
                free(token);
        }
        int code;
        char msg[32];
        if (etcd_json_error(body, size, &code, msg, sizeof(msg)))
                for (const char *p = msg; *p; p++)
                        FUZZ_ASSERT((unsigned char)*p >= 0x20 && *p != 0x7f);

        struct token_record rec;
        if (replica_token_value_parse(body, size, &rec) == 0) {
                uint8_t buf[TOKEN_RECORD_SIZE_MAX];
                size_t n;
                FUZZ_ASSERT(token_record_encode(&rec, buf, &n) == 0);
                FUZZ_ASSERT(token_id_check_format(rec.token_id, strlen(rec.token_id)) == 0);
                token_record_free(&rec);
        }
        uint8_t hash[STORE_HASH_SIZE];
        if (replica_token_key_parse("/kaas/", body, size, hash) == 0) {
                char *key = replica_token_key("/kaas/", hash);
                FUZZ_ASSERT(key && strlen(key) == size && memcmp(key, body, size) == 0);
                free(key);
        }
        return 0;
}
