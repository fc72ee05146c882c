/* Replays saved inputs through a fuzz target's entry point without
 * libFuzzer, so that every build (gcc included) runs the seed corpus and
 * every crash ever found as an ordinary test.
 *
 *   replay_NAME                 replays $srcdir/fuzz/corpus/NAME and
 *                               $srcdir/fuzz/regressions/NAME (make check)
 *   replay_NAME FILE|DIR...     replays the files given, or the files in
 *                               the directories given
 *
 * A crash, a sanitizer report or an abort() in the target fails the test
 * with the file's name on stderr just before it. Depends on nothing but the
 * target's LLVMFuzzerTestOneInput (and LLVMFuzzerInitialize when it has
 * one). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target (fuzz/local.mk sets it)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

/* Inputs larger than this are not seeds; libFuzzer's own default cap is
 * far below it too. */
#define REPLAY_MAX_INPUT (16u * 1024u * 1024u)

static unsigned n_replayed;

static int replay_file(const char *path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
                fprintf(stderr, "%s: cannot open: %s\n", path, strerror(errno));
                return -1;
        }
        uint8_t *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
                if (cap - len < 4096) {
                        cap = cap ? cap * 2 : 8192;
                        uint8_t *b = cap <= REPLAY_MAX_INPUT ? realloc(buf, cap) : NULL;
                        if (!b) {
                                fprintf(stderr, "%s: too large or out of memory\n", path);
                                free(buf);
                                fclose(f);
                                return -1;
                        }
                        buf = b;
                }
                size_t n = fread(buf + len, 1, cap - len, f);
                len += n;
                if (n == 0)
                        break;
        }
        int failed = ferror(f);
        fclose(f);
        if (failed) {
                fprintf(stderr, "%s: read error\n", path);
                free(buf);
                return -1;
        }
        /* an exact-size copy, so ASan sees reads past the input's end */
        uint8_t *input = malloc(len ? len : 1);
        if (!input) {
                free(buf);
                return -1;
        }
        if (len)
                memcpy(input, buf, len);
        free(buf);
        fprintf(stderr, "replay %s (%zu bytes)\n", path, len);
        LLVMFuzzerTestOneInput(input, len);
        free(input);
        n_replayed++;
        return 0;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays the regular files of dir in name order. missing_ok: a target
 * without regressions has no directory. */
static int replay_dir(const char *dir, int missing_ok) {
        DIR *d = opendir(dir);
        if (!d) {
                if (missing_ok && errno == ENOENT)
                        return 0;
                fprintf(stderr, "%s: cannot open: %s\n", dir, strerror(errno));
                return -1;
        }
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        char **x = realloc(names, cap * sizeof(*names));
                        if (!x) {
                                r = -1;
                                break;
                        }
                        names = x;
                }
                if (!(names[n] = strdup(de->d_name))) {
                        r = -1;
                        break;
                }
                n++;
        }
        closedir(d);
        if (n)
                qsort(names, n, sizeof(*names), cmp_names);
        for (size_t i = 0; i < n; i++) {
                char path[4096];
                struct stat st;
                if (r == 0 && snprintf(path, sizeof(path), "%s/%s", dir, names[i]) < (int)sizeof(path) &&
                    stat(path, &st) == 0 && S_ISREG(st.st_mode) && replay_file(path) < 0)
                        r = -1;
                free(names[i]);
        }
        free(names);
        return r;
}

static int replay_path(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        return S_ISDIR(st.st_mode) ? replay_dir(path, 0) : replay_file(path);
}

int main(int argc, char **argv) {
        int r = 0;
        if (LLVMFuzzerInitialize)
                LLVMFuzzerInitialize(&argc, &argv);
        if (argc > 1) {
                for (int i = 1; i < argc; i++)
                        if (replay_path(argv[i]) < 0)
                                r = 1;
        } else {
                const char *top = getenv("srcdir");
                char corpus[4096], regressions[4096];
                if (!top || !*top)
                        top = ".";
                snprintf(corpus, sizeof(corpus), "%s/fuzz/corpus/%s", top, FUZZ_NAME);
                snprintf(regressions, sizeof(regressions), "%s/fuzz/regressions/%s", top, FUZZ_NAME);
                if (replay_dir(corpus, 0) < 0 || replay_dir(regressions, 1) < 0)
                        r = 1;
                if (n_replayed == 0) {
                        fprintf(stderr, "%s: no inputs found under %s\n", FUZZ_NAME, top);
                        r = 1;
                }
        }
        printf("%s: %u inputs replayed%s\n", FUZZ_NAME, n_replayed, r ? ", with errors" : "");
        return r;
}
