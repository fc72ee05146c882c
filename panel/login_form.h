/* The login form's CSRF token, kept by the browser, not the panel: the
 * login cookie holds a random nonce, and the form's csrf field is the
 * nonce's MAC under a key the panel draws at start (the double-submit
 * pattern, bound to this panel). Nothing is stored per visitor, so no
 * flood of GET /login can push a real user's form out of a table, and the
 * cookie has a name of its own, so the login page never overwrites the
 * session cookie (a link from another site arrives without it: SameSite).
 * A restart makes forms already shown expire. */
#pragma once

#include <stdbool.h>
#include <sodium.h>

#define LOGIN_COOKIE "__Host-kaas-login"
#define LOGIN_NONCE_CHARS 43   /* 32 random bytes, base64url without padding */

struct login_key {
        unsigned char k[crypto_auth_KEYBYTES];
};

/* A new key, random. */
void login_key_new(struct login_key *key);
/* A new nonce for the login cookie. */
void login_nonce_new(char ret[LOGIN_NONCE_CHARS + 1]);
/* Whether s is a nonce login_nonce_new() could have made (from a cookie). */
bool login_nonce_valid(const char *s);
/* The csrf field of a form shown with this (valid) nonce. */
void login_csrf_of(const struct login_key *key, const char *nonce, char ret[LOGIN_NONCE_CHARS + 1]);
/* Whether csrf is the field for nonce; false when either is NULL or not of
 * their form. Constant time in their contents. */
bool login_csrf_ok(const struct login_key *key, const char *nonce, const char *csrf);
