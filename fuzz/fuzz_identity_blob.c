/* Fuzz target: the identity blob reader (identity_from_blob in
 * kaasd/identity_record.c). The blob is kaasd's own JSON, but it comes
 * back from the database, which may be damaged: every field is checked.
 *
 * Input: the blob as stored.
 *
 * Properties: what is accepted holds only valid IDs and names; writing it
 * back (identity_to_blob) gives a blob that is accepted again and is a
 * fixed point (writing that one back gives the same bytes); the varlink
 * User built from it (identity_to_user_json) is an object; the cluster
 * admin check never grants a disabled user anything. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kaasd/config_file.h"
#include "kaasd/identity.h"

static struct config *config;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        if (config_new(&config) < 0)
                abort();
        /* clusters whose admin roles the seeds' users hold, by name and by ID */
        static const char *const roles[][2] = {
                { "k8s-admins-alpha", "member" },
                { "e83ed07bc4304fc1a175949562057e04", "admin" },
        };
        for (size_t i = 0; i < 2; i++) {
                struct config_cluster *cl = &config->clusters[config->n_clusters++];
                cl->name = strdup(i ? "beta" : "alpha");
                for (size_t k = 0; k < 2; k++)
                        cl->admin_roles[cl->n_admin_roles++] = strdup(roles[i][k]);
                if (!cl->name || !cl->admin_roles[0] || !cl->admin_roles[1])
                        abort();
        }
        return 0;
}

static void check_identity(const struct identity *id) {
        FUZZ_ASSERT(ks_valid_id(id->user_id) && ks_valid_name(id->name) && ks_valid_id(id->domain_id));
        FUZZ_ASSERT(!id->domain_name || ks_valid_name(id->domain_name));
        for (size_t i = 0; i < id->n_roles; i++) {
                const struct identity_role *r = &id->roles[i];
                FUZZ_ASSERT(ks_valid_id(r->id) && ks_valid_name(r->name));
                FUZZ_ASSERT(!r->project_id || ks_valid_id(r->project_id));
                FUZZ_ASSERT(!r->domain_id || ks_valid_id(r->domain_id));
        }
        for (size_t i = 0; i < id->n_projects; i++)
                FUZZ_ASSERT(ks_valid_id(id->projects[i].id) && ks_valid_name(id->projects[i].name));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (!config)
                LLVMFuzzerInitialize(NULL, NULL);
        struct identity *id = NULL;
        int r = identity_from_blob((const char *)data, size, &id);
        if (r < 0) {
                FUZZ_ASSERT(r == -EBADMSG || r == -ENOMEM);
                FUZZ_ASSERT(id == NULL);
                return 0;
        }
        check_identity(id);

        for (size_t i = 0; i < config->n_clusters; i++)
                if (identity_is_admin_of(id, &config->clusters[i]))
                        FUZZ_ASSERT(id->enabled);
        json_t *user = identity_to_user_json(id, config, IDENTITY_FROM_CACHE);
        FUZZ_ASSERT(json_is_object(user));
        json_decref(user);

        char *blob = NULL, *blob2 = NULL;
        size_t n = 0, n2 = 0;
        struct identity *again = NULL;
        FUZZ_ASSERT(identity_to_blob(id, &blob, &n) == 0);
        FUZZ_ASSERT(identity_from_blob(blob, n, &again) == 0);
        FUZZ_ASSERT(identity_to_blob(again, &blob2, &n2) == 0);
        FUZZ_ASSERT(n == n2 && memcmp(blob, blob2, n) == 0);
        FUZZ_ASSERT(again->n_roles == id->n_roles && again->n_projects == id->n_projects &&
                    again->enabled == id->enabled && again->fetched_at_ms == id->fetched_at_ms);
        free(blob);
        free(blob2);
        identity_free(again);
        identity_free(id);
        return 0;
}
