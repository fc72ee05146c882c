/* Fuzz target: every Keystone reply parser (kaasd/keystone_json.c) and the
 * identity blob reader (kaasd/identity_record.c) on the same bytes. These
 * read what Keystone, or a damaged database, hands kaasd. Links
 * keystone_json.c, identity_record.c and jansson. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "identity.h"
#include "keystone_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *body = (const char *)data;
        char err[KS_ERROR_SIZE];
        struct ks_token_info t;
        struct ks_user u;
        struct ks_domain d;
        struct ks_assignments a;
        struct identity *id;
        char msg[128];

        if (ks_json_parse_token(body, size, &t, err, sizeof(err)) == 0)
                ks_token_info_clear(&t);
        if (ks_json_parse_user(body, size, &u, err, sizeof(err)) == 0)
                ks_user_clear(&u);
        if (ks_json_parse_user_list(body, size, "alice", &u, err, sizeof(err)) == 0)
                ks_user_clear(&u);
        if (ks_json_parse_domain(body, size, &d, err, sizeof(err)) == 0)
                ks_domain_clear(&d);
        if (ks_json_parse_domain_list(body, size, "Default", &d, err, sizeof(err)) == 0)
                ks_domain_clear(&d);
        if (ks_json_parse_assignments(body, size, "a0cba8b7ca3046da8375b62192fe10ca", &a, err, sizeof(err)) == 0)
                ks_assignments_clear(&a);
        ks_json_error_message(body, size, msg, sizeof(msg));
        if (identity_from_blob(body, size, &id) == 0) {
                json_t *j = identity_to_json(id);
                json_decref(j);
                identity_free(id);
        }
        return 0;
}
