/* Fuzz target: kaasd.conf parsing (kaasd/config_file.c over libinih),
 * which runs at start and at every SIGHUP on a file an administrator
 * wrote.
 *
 * Input: the file's contents, read through a memfd (fuzz_file.h).
 * Properties: the error message is set, NUL-terminated and inside
 * its buffer on failure; a loaded configuration validates; and (under
 * LeakSanitizer) nothing allocated while loading outlives config_free(). */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "kaasd/config_file.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc, (void)argv;
        fuzz_file_open(&file, "kaasd.conf");
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_file_open(&file, "kaasd.conf");
        fuzz_file_write(&file, data, size);

        struct config *c = NULL;
        char err[512];
        memset(err, 'x', sizeof(err));
        int r = config_load(file.path, &c, err, sizeof(err));
        if (r < 0) {
                FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
                FUZZ_ASSERT(err[0] != '\0');
                FUZZ_ASSERT(c == NULL);
                return 0;
        }
        FUZZ_ASSERT(c != NULL);
        char why[512];
        FUZZ_ASSERT(config_validate(c, why, sizeof(why)) == 0);
        FUZZ_ASSERT(c->n_clusters <= CONFIG_MAX_CLUSTERS);
        for (size_t i = 0; i < c->n_clusters; i++)
                FUZZ_ASSERT(c->clusters[i].name && c->clusters[i].n_admin_roles <= CONFIG_MAX_ROLES);
        config_free(c);
        return 0;
}
