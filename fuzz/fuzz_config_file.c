/* Fuzz target: kaasd.conf parsing (kaasd/config_file.c over libinih),
 * which runs at start and at every SIGHUP on a file an administrator
 * wrote.
 *
 * Input: the file's contents. config_load() wants a path, so the input is
 * written to one memfd (created once) and read back through
 * /proc/self/fd/N; nothing touches the disk and no descriptor leaks per
 * input. Properties: the error message is set, NUL-terminated and inside
 * its buffer on failure; a loaded configuration validates; and (under
 * LeakSanitizer) nothing allocated while loading outlives config_free(). */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "kaasd/config_file.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fd = memfd_create("kaasd.conf", MFD_CLOEXEC);
        if (fd < 0) {
                /* kernels without memfd: an unlinked temporary file */
                FILE *f = tmpfile();
                if (!f || (fd = dup(fileno(f))) < 0)
                        abort();
                fclose(f);
        }
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        return 0;
}

static void write_input(const uint8_t *data, size_t size) {
        if (ftruncate(fd, 0) < 0)
                abort();
        size_t off = 0;
        while (off < size) {
                ssize_t n = pwrite(fd, data + off, size - off, (off_t)off);
                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (fd < 0)
                LLVMFuzzerInitialize(NULL, NULL);
        write_input(data, size);

        struct config *c = NULL;
        char err[512];
        memset(err, 'x', sizeof(err));
        int r = config_load(path, &c, err, sizeof(err));
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
