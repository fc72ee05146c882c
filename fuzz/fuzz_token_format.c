/* Fuzz target: the token format checks (common/token_format.c) that every
 * component runs on a string a user or kube-apiserver handed it, before
 * any lookup.
 *
 * Input: the candidate string (no NUL needed, as the callers pass it).
 *
 * Properties:
 *   - a string that passes token_check_format is exactly TOKEN_LENGTH
 *     bytes, starts with TOKEN_PREFIX and is base62 after it; -EBADMSG
 *     (checksum) is only returned for strings of that shape;
 *   - likewise token_id_check_format and TOKEN_ID_LENGTH / TOKEN_ID_PREFIX;
 *   - a token built here from the input as token_format.h describes it
 *     (prefix, 40 base62 characters, CRC-32 of both in 6 base62 digits,
 *     most significant first) passes, and changing any one character of
 *     it to another base62 character makes it fail. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "fuzz.h"
#include "token_format.h"

static const char alphabet[] = TOKEN_BASE62_ALPHABET;

static bool base62(const uint8_t *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!s[i] || !memchr(alphabet, s[i], 62))
                        return false;
        return true;
}

static bool token_shaped(const uint8_t *s, size_t n) {
        return n == TOKEN_LENGTH && memcmp(s, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH) == 0 &&
               base62(s + TOKEN_PREFIX_LENGTH, TOKEN_LENGTH - TOKEN_PREFIX_LENGTH);
}

/* The token whose body is derived from the input bytes. */
static void build_token(const uint8_t *data, size_t size, char t[static TOKEN_LENGTH]) {
        memcpy(t, TOKEN_PREFIX, TOKEN_PREFIX_LENGTH);
        for (size_t i = 0; i < TOKEN_BODY_LENGTH; i++)
                t[TOKEN_PREFIX_LENGTH + i] = alphabet[(i < size ? data[i] : i) % 62];
        uint32_t crc = token_crc32(t, TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH);
        for (int i = TOKEN_CHECKSUM_LENGTH - 1; i >= 0; i--) {
                t[TOKEN_PREFIX_LENGTH + TOKEN_BODY_LENGTH + i] = alphabet[crc % 62];
                crc /= 62;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *)data;

        int r = token_check_format(size ? s : NULL, size);
        FUZZ_ASSERT(r == 0 || r == -EINVAL || r == -EBADMSG);
        if (r == 0 || r == -EBADMSG)
                FUZZ_ASSERT(token_shaped(data, size));
        else
                FUZZ_ASSERT(!token_shaped(data, size));

        r = token_id_check_format(size ? s : NULL, size);
        FUZZ_ASSERT(r == 0 || r == -EINVAL);
        if (r == 0)
                FUZZ_ASSERT(size == TOKEN_ID_LENGTH && memcmp(s, TOKEN_ID_PREFIX, TOKEN_ID_PREFIX_LENGTH) == 0 &&
                            base62(data + TOKEN_ID_PREFIX_LENGTH, TOKEN_ID_BODY_LENGTH));

        char t[TOKEN_LENGTH];
        build_token(data, size, t);
        FUZZ_ASSERT(token_check_format(t, TOKEN_LENGTH) == 0);
        /* every single-character change is caught; which ones to try come
         * from the input's last bytes (position, then a shift of 1..61) */
        for (size_t i = 0; i + 1 < size && i < 16; i += 2) {
                size_t pos = TOKEN_PREFIX_LENGTH + data[size - 1 - i] % (TOKEN_LENGTH - TOKEN_PREFIX_LENGTH);
                size_t shift = 1 + data[size - 2 - i] % 61;
                char saved = t[pos];
                const char *at = memchr(alphabet, saved, 62);
                t[pos] = alphabet[((size_t)(at - alphabet) + shift) % 62];
                FUZZ_ASSERT(token_check_format(t, TOKEN_LENGTH) != 0);
                t[pos] = saved;
        }
        /* a good token cut short is not one */
        FUZZ_ASSERT(token_check_format(t, TOKEN_LENGTH - 1) == -EINVAL);
        return 0;
}
