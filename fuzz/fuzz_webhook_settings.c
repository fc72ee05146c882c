/* Fuzz target: kaas-webhook's settings file (webhook/settings.c over
 * libinih), read at start from a file an administrator wrote.
 *
 * Input: the file's contents, read through a memfd (fuzz_file.h).
 * Properties: on failure the message is set and NUL-terminated inside its
 * buffer; a loaded file keeps every number inside its documented range,
 * at most WH_MAX_AUDIENCES audiences, and strings without control
 * characters; validation either passes, with a listen address that parses,
 * or says why; and (under LeakSanitizer) nothing outlives
 * wh_settings_free(). */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "fuzz_file.h"
#include "httpd/listen.h"
#include "webhook/settings.h"

static struct fuzz_file file;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc, (void)argv;
        fuzz_file_open(&file, "webhook.conf");
        return 0;
}

static void assert_no_control_chars(const char *s) {
        for (; s && *s; s++)
                FUZZ_ASSERT((unsigned char)*s >= 0x20 && *s != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_file_open(&file, "webhook.conf");
        fuzz_file_write(&file, data, size);

        struct wh_settings *s = NULL;
        if (wh_settings_new(&s) < 0)
                return 0;
        char err[512];
        memset(err, 'x', sizeof(err));
        int r = wh_settings_load(s, file.path, err, sizeof(err));
        if (r < 0) {
                FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL);
                FUZZ_ASSERT(err[0] != '\0');
                wh_settings_free(s);
                return 0;
        }
        FUZZ_ASSERT(s->max_connections >= 1 && s->max_connections <= 10000);
        FUZZ_ASSERT(s->max_body_size >= 1024 && s->max_body_size <= 1024 * 1024);
        FUZZ_ASSERT(s->connection_timeout_sec >= 1 && s->connection_timeout_sec <= 3600);
        FUZZ_ASSERT(s->shutdown_timeout_sec <= 300);
        FUZZ_ASSERT(s->kaasd_connections >= 1 && s->kaasd_connections <= 64);
        FUZZ_ASSERT(s->kaasd_timeout_sec >= 1 && s->kaasd_timeout_sec <= 300);
        FUZZ_ASSERT(s->n_audiences <= WH_MAX_AUDIENCES);
        assert_no_control_chars(s->listen);
        assert_no_control_chars(s->cert_file);
        assert_no_control_chars(s->key_file);
        assert_no_control_chars(s->group_prefix);
        for (size_t i = 0; i < s->n_audiences; i++)
                FUZZ_ASSERT(s->audiences[i] && s->audiences[i][0]);

        memset(err, 'x', sizeof(err));
        if (wh_settings_validate(s, err, sizeof(err)) == 0) {
                struct sockaddr_storage ss;
                socklen_t len = 0;
                FUZZ_ASSERT(hd_parse_listen(s->listen, &ss, &len) == 0 && len > 0);
        } else {
                FUZZ_ASSERT(memchr(err, '\0', sizeof(err)) != NULL && err[0] != '\0');
        }
        wh_settings_free(s);
        return 0;
}
