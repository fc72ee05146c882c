/* Counts the heap allocations an NSS module makes for one group lookup:
 * the executable's malloc, calloc and realloc, to which the module and
 * the libraries it calls (jansson) bind, count and hand over to glibc's.
 * usage: nss_allocs MODULE.so GROUP BUFFER_BYTES
 * prints "STATUS allocs=N members=M"; exit 0 when the lookup succeeded,
 * 1 otherwise, 2 usage, 77 in a build with AddressSanitizer (which owns
 * malloc: nothing to count). Linked with -rdynamic, the functions
 * exported (the build hides symbols by default). */
#include "config.h"

#include <dlfcn.h>
#include <grp.h>
#include <nss.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef __SANITIZE_ADDRESS__
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);
static unsigned long allocs;
#define EXPORTED __attribute__((visibility("default")))
EXPORTED void *malloc(size_t n) {
        __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
        return __libc_malloc(n);
}
EXPORTED void *calloc(size_t n, size_t size) {
        __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
        return __libc_calloc(n, size);
}
EXPORTED void *realloc(void *p, size_t n) {
        __atomic_add_fetch(&allocs, 1, __ATOMIC_RELAXED);
        return __libc_realloc(p, n);
}
EXPORTED void free(void *p) {
        __libc_free(p);
}
#endif

typedef enum nss_status (*gr_name_fn)(const char *, struct group *, char *, size_t, int *);

int main(int argc, char **argv) {
#ifdef __SANITIZE_ADDRESS__
        (void)argc;
        (void)argv;
        printf("SKIP allocs=unknown (AddressSanitizer)\n");
        return 77;
#else
        if (argc != 4)
                return 2;
        void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
        gr_name_fn fn = h ? (gr_name_fn)dlsym(h, "_nss_kaas_getgrnam_r") : NULL;
        size_t buflen = (size_t)atol(argv[3]);
        char *buf = malloc(buflen);
        if (!fn || !buf)
                return 2;
        struct group gr;
        int err = 0;
        unsigned long before = __atomic_load_n(&allocs, __ATOMIC_RELAXED);
        enum nss_status s = fn(argv[2], &gr, buf, buflen, &err);
        unsigned long n = __atomic_load_n(&allocs, __ATOMIC_RELAXED) - before;
        size_t members = 0;
        if (s == NSS_STATUS_SUCCESS)
                while (gr.gr_mem[members])
                        members++;
        printf("%s allocs=%lu members=%zu\n", s == NSS_STATUS_SUCCESS ? "SUCCESS" : "FAILED", n, members);
        free(buf);
        dlclose(h);
        return s == NSS_STATUS_SUCCESS ? 0 : 1;
#endif
}
