/* Helpers shared by the fuzz targets (fuzz/fuzz_*.c). Each target defines
 * LLVMFuzzerTestOneInput, and LLVMFuzzerInitialize when it needs set-up; the
 * same file links against libFuzzer (make fuzz) or fuzz/replay.c (make
 * check), so nothing here may depend on libFuzzer. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property of the code under test that does not hold: report it and
 * abort, which libFuzzer (and the replay driver) count as a crash. */
#define FUZZ_ASSERT(cond)                                                              \
        do {                                                                           \
                if (!(cond)) {                                                         \
                        fprintf(stderr, "%s:%d: property violated: %s\n", __FILE__,   \
                                __LINE__, #cond);                                      \
                        abort();                                                       \
                }                                                                      \
        } while (0)

/* A NUL-terminated copy of the input, for APIs that take C strings. */
static inline char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                abort();
        for (size_t i = 0; i < size; i++)
                s[i] = (char)data[i];
        s[size] = '\0';
        return s;
}
