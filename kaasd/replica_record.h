/* The token record as etcd holds it: key PREFIX "tokens/" + 64 hex digits
 * of the keyed hash, value a JSON object (owner_id, owner_name,
 * owner_domain_id, token_id, description, created, expires). Pure
 * functions, so that what etcd sends can be tested and fuzzed on its own;
 * a value that is not a valid record is -EBADMSG. Never a hash in logs. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define REPLICA_TOKENS_DIR "tokens/"
#define REPLICA_UIDS_DIR "uids/"
/* the keys of a node's reservations of its local accounts' ids
 * (UNIX_LOCAL_KEY_PREFIX): never shared */
#define REPLICA_UID_LOCAL_PREFIX "local:"
/* PREFIX uids/ "number:" N holds the key that has number N: created in the
 * same txn as the entry, only if both are absent, so that two nodes never
 * give one number to two keys (UNIX_NUMBER_KEY_PREFIX) */
#define REPLICA_UID_NUMBER_PREFIX "number:"
#define REPLICA_HASH_HEX (2 * STORE_HASH_SIZE)

/* PREFIX tokens/ HEX, NUL-terminated, into a malloc()ed string. */
char *replica_token_key(const char *prefix, const uint8_t hash[static STORE_HASH_SIZE]);
/* The hash of a key under PREFIX tokens/; -ENOENT for a key elsewhere,
 * -EBADMSG for a malformed one. */
int replica_token_key_parse(const char *prefix, const char *key, size_t key_len,
                            uint8_t ret_hash[static STORE_HASH_SIZE]);
/* The JSON value of rec (malloc()ed); NULL when out of memory. */
char *replica_token_value(const struct token_record *rec);
/* Parses and checks a value (bounds as store_token_put()); the record owns
 * its strings (token_record_free()). */
int replica_token_value_parse(const char *value, size_t len, struct token_record *ret);

/* Last uses: key PREFIX "last-used/" NODE "/" + 64 hex digits of the
 * keyed hash, value unix seconds in decimal; each node writes only under
 * its own NODE. */
#define REPLICA_LAST_USED_DIR "last-used/"
char *replica_last_used_key(const char *prefix, const char *node, const uint8_t hash[static STORE_HASH_SIZE]);
/* The hash of a key under PREFIX last-used/ (any node); -ENOENT for a key
 * elsewhere, -EBADMSG for a malformed one. */
int replica_last_used_key_parse(const char *prefix, const char *key, size_t key_len,
                                uint8_t ret_hash[static STORE_HASH_SIZE]);

/* The shared uid/gid map: key PREFIX "uids/" + the map's key (a Keystone
 * user ID, or "role:" + a role ID for a role's group), value the number in
 * decimal. Entries are created once and never change. */
char *replica_uid_key(const char *prefix, const char *id_key);
/* PREFIX uids/ number: N (malloc()ed), whose value is the key holding N. */
char *replica_uid_number_key(const char *prefix, uint32_t id);
/* The map key of an etcd key under PREFIX uids/ (malloc()ed); -ENOENT for a
 * key elsewhere or a number's key, -EBADMSG for one that is not a valid map key or is a
 * node's own local reservation. */
int replica_uid_key_parse(const char *prefix, const char *key, size_t key_len, char **ret_id_key);
/* The decimal value of id (malloc()ed); NULL when out of memory. */
char *replica_uid_value(uint32_t id);
/* A last use's value: unix seconds, 1..2^53, in decimal; else -EBADMSG. */
int replica_time_value_parse(const char *value, size_t len, int64_t *ret);
/* 1..UINT32_MAX in decimal, no sign, no leading zero; else -EBADMSG. */
int replica_uid_value_parse(const char *value, size_t len, uint32_t *ret);
