/* kaas-store-put-expired: a test tool that stores a KaaS token which has
 * already expired, something kaasd itself never creates (the shortest
 * lifetime it grants is one day). Run it while kaasd is stopped (the
 * store allows one process at a time) as the user kaasd runs as, then
 * start kaasd again and the token validates as io.kaas.Token.Expired.
 *
 *   kaas-store-put-expired STATE_DIR USER_ID USER_NAME DOMAIN_ID [SECONDS_AGO]
 *
 * Prints the token on stdout and its token ID on stderr. The token
 * expired SECONDS_AGO seconds ago (default 3600). kaasd purges expired
 * tokens a minute after its start and every minute after that, so use the
 * token soon. Depends on kaasd's store and token key only. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store.h"
#include "token_format.h"
#include "token_key.h"

int main(int argc, char **argv) {
        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: %s STATE_DIR USER_ID USER_NAME DOMAIN_ID [SECONDS_AGO]\n", argv[0]);
                return 2;
        }
        const char *dir = argv[1];
        long long ago = 3600;
        if (argc == 6) {
                char *end;
                ago = strtoll(argv[5], &end, 10);
                if (*end || ago < 1) {
                        fprintf(stderr, "%s: SECONDS_AGO must be a positive number\n", argv[0]);
                        return 2;
                }
        }
        char errbuf[512];
        struct store *s = NULL;
        int r = store_open(dir, &s, errbuf, sizeof(errbuf));
        if (r < 0) {
                fprintf(stderr, "%s: cannot open the store in %s (is kaasd still running?): %s\n", argv[0], dir,
                        errbuf);
                return 1;
        }
        bool any = false;
        char key_path[PATH_MAX];
        snprintf(key_path, sizeof(key_path), "%s/token.key", dir);
        struct token_key key = { 0 };
        if ((r = store_token_any(s, &any)) < 0 || (r = token_key_load(key_path, any, &key)) < 0) {
                fprintf(stderr, "%s: token key %s: %s\n", argv[0], key_path,
                        r == -EIO ? store_last_error(s) : token_key_strerror(r));
                store_close(s);
                return 1;
        }
        char token[TOKEN_STRING_SIZE];
        uint8_t hash[TOKEN_HASH_SIZE];
        int64_t now = (int64_t)time(NULL);
        struct token_record rec = {
                .owner_id = argv[2],
                .owner_name = argv[3],
                .owner_domain_id = argv[4],
                .description = (char *)"expired on purpose (kaas-store-put-expired)",
                .created = now - ago - 86400,
                .expires = now - ago,
        };
        if (token_generate(token) < 0 || token_id_generate(rec.token_id) < 0 ||
            token_key_hash(&key, token, strlen(token), hash) < 0) {
                fprintf(stderr, "%s: cannot make a token\n", argv[0]);
                r = -EIO;
        } else if ((r = store_token_put(s, hash, &rec)) < 0)
                fprintf(stderr, "%s: storing the token failed: %s\n", argv[0], store_last_error(s));
        token_key_clear(&key);
        store_close(s);
        if (r < 0)
                return 1;
        printf("%s\n", token);
        fprintf(stderr, "%s\n", rec.token_id);
        sodium_memzero(token, sizeof(token));
        return 0;
}
