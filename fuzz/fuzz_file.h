/* For fuzz targets whose parser wants a path (config files): the input is
 * written to one memfd created once and read back through /proc/self/fd/N,
 * so nothing touches the disk and no descriptor leaks per input. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

struct fuzz_file {
        int fd;
        char path[64];
};

/* Opens f (zero-initialised) once; aborts when neither a memfd nor a temporary file can be
 * had (the target could test nothing). */
static inline void fuzz_file_open(struct fuzz_file *f, const char *name) {
        if (f->path[0])
                return;
        f->fd = memfd_create(name, MFD_CLOEXEC);
        if (f->fd < 0) {
                /* kernels without memfd: an unlinked temporary file */
                FILE *t = tmpfile();
                if (!t || (f->fd = dup(fileno(t))) < 0)
                        abort();
                fclose(t);
        }
        snprintf(f->path, sizeof(f->path), "/proc/self/fd/%d", f->fd);
}

/* Makes the file's contents exactly data[0..size). */
static inline void fuzz_file_write(struct fuzz_file *f, const uint8_t *data, size_t size) {
        if (ftruncate(f->fd, 0) < 0)
                abort();
        size_t off = 0;
        while (off < size) {
                ssize_t n = pwrite(f->fd, data + off, size - off, (off_t)off);
                if (n <= 0)
                        abort();
                off += (size_t)n;
        }
}
