/* A password file kaasd reads: a regular file, not reachable by group or
 * others, owned by root or by the user kaasd runs as. Used for the
 * Keystone service account and the etcd user. Depends on libsodium only. */
#pragma once

#include <stddef.h>

/* Reads path into buf (NUL-terminated, trailing newlines dropped), read
 * afresh on every call so a rotated password needs no restart. On failure
 * returns a negative errno, wipes buf and writes a message naming the file
 * (as "password_file PATH ...") into err. */
int secret_file_read(const char *path, char *buf, size_t size, char *err, size_t err_size);

/* Wipes a NUL-terminated secret and frees it; accepts NULL. */
void secret_free(char *s);
