/* See login_form.h. */
#include "config.h"

#include <string.h>

#include "login_form.h"

void login_key_new(struct login_key *key) {
        crypto_auth_keygen(key->k);
}

static void encode(const unsigned char raw[32], char ret[LOGIN_NONCE_CHARS + 1]) {
        sodium_bin2base64(ret, LOGIN_NONCE_CHARS + 1, raw, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void login_nonce_new(char ret[LOGIN_NONCE_CHARS + 1]) {
        unsigned char raw[32];
        randombytes_buf(raw, sizeof(raw));
        encode(raw, ret);
        sodium_memzero(raw, sizeof(raw));
}

bool login_nonce_valid(const char *s) {
        if (!s || strlen(s) != LOGIN_NONCE_CHARS)
                return false;
        unsigned char raw[32];
        size_t n = 0;
        return sodium_base642bin(raw, sizeof(raw), s, LOGIN_NONCE_CHARS, NULL, &n, NULL,
                                 sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
               n == sizeof(raw);
}

void login_csrf_of(const struct login_key *key, const char *nonce, char ret[LOGIN_NONCE_CHARS + 1]) {
        unsigned char mac[crypto_auth_BYTES];
        _Static_assert(crypto_auth_BYTES == 32, "a MAC of 32 bytes, 43 characters");
        crypto_auth(mac, (const unsigned char *)nonce, strlen(nonce), key->k);
        encode(mac, ret);
        sodium_memzero(mac, sizeof(mac));
}

bool login_csrf_ok(const struct login_key *key, const char *nonce, const char *csrf) {
        if (!login_nonce_valid(nonce) || !csrf || strlen(csrf) != LOGIN_NONCE_CHARS)
                return false;
        char want[LOGIN_NONCE_CHARS + 1];
        login_csrf_of(key, nonce, want);
        bool ok = sodium_memcmp(want, csrf, LOGIN_NONCE_CHARS) == 0;
        sodium_memzero(want, sizeof(want));
        return ok;
}
