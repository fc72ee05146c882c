/* kaasctl: what the token commands (kaasctl_token.c) share with the other
 * command groups — proving an OpenStack identity the way the openstack
 * CLI does (OS_* variables, prompts on the terminal, stdin on request),
 * handling secrets, and readable messages for kaasd's errors.
 *
 * Secrets (passwords, Keystone and KaaS tokens) never come from argv.
 * They live in fixed buffers wiped with explicit_bzero() and in JSON
 * values released with kaasctl_secret_free(); once
 * kaasctl_secure_memory() ran, every block jansson frees is wiped too. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "kaasctl.h"

/* Largest secret read from a terminal or stdin, without the newline:
 * Keystone's Fernet tokens are ~250 bytes, passwords shorter still. */
#define KAASCTL_SECRET_MAX 4096

/* Option names the credentials flow reads from the running command (a
 * command that does not declare one simply never has it set). */
#define KAASCTL_OPT_PASSWORD_STDIN "password-stdin"
#define KAASCTL_OPT_KAAS_TOKEN_STDIN "kaas-token-stdin"
#define KAASCTL_OPT_DESCRIPTION "description"
#define KAASCTL_OPT_EXPIRES_IN "expires-in"

/* The options of the credentials flow, for command option tables. */
#define KAASCTL_CREDENTIAL_OPTIONS                                                                  \
        { KAASCTL_OPT_PASSWORD_STDIN, NULL, "read the OpenStack password from standard input" },   \
        { KAASCTL_OPT_KAAS_TOKEN_STDIN, NULL, "authenticate with a KaaS token read from standard input" }

/* Makes jansson wipe every block it frees (process-wide; libkaas's
 * messages included). Idempotent. */
void kaasctl_secure_memory(void);

/* Wipes every string inside v in place, then drops the reference. */
void kaasctl_secret_free(json_t *v);

/* Reads one secret line: from stdin when from_stdin, else (or when stdin
 * is a terminal) from the terminal (/dev/tty) after showing prompt,
 * without echo (no_tty_hint says what to do instead when there is no
 * terminal). The terminal is
 * restored however the read ends, a signal included. Fills buf
 * (NUL-terminated, without the line end) and returns its length, or the
 * negative of an exit code after printing why. */
int kaasctl_read_secret(const char *prompt, bool from_stdin, const char *no_tty_hint, char *buf, size_t size);

/* Collects io.kaas.Token credentials for the running command: a KaaS
 * token from stdin (--kaas-token-stdin); else $OS_TOKEN, a Keystone
 * token; else a user name ($OS_USERNAME, or asked on the terminal), its
 * domain ($OS_USER_DOMAIN_NAME, default "Default") and password
 * (--password-stdin, $OS_PASSWORD, or asked on the terminal without
 * echo). Returns 0 and the Credentials object in *ret (release it with
 * kaasctl_secret_free()), or an exit code after printing why. */
int kaasctl_credentials(struct kaasctl *ctx, json_t **ret);

/* Whether the user named a credential source on the command line
 * (--password-stdin, --kaas-token-stdin). */
bool kaasctl_credentials_explicit(const struct kaasctl *ctx);

/* Like kaasctl_call(), but a varlink error of io.kaas.Token,
 * io.kaas.Identity or io.kaas.Admin is explained in words, followed by its
 * short name in parentheses ("authentication failed: ...
 * (AuthenticationFailed)"). When kaasd answers with the error named
 * quiet_error (may be NULL), nothing is printed and *ret_quiet_hit (not
 * NULL then) is set, so the caller can try something else. */
int kaasctl_call_explained(struct kaasctl *ctx, const char *method, json_t *parameters, json_t **ret,
                           const char *quiet_error, bool *ret_quiet_hit);

/* Creates a KaaS token with the credentials flow and the running
 * command's --description and --expires-in. Returns 0 and Create's reply
 * in *ret (it holds the token: release with kaasctl_secret_free()), or
 * an exit code after printing why. */
int kaasctl_token_create(struct kaasctl *ctx, json_t **ret);

/* "2026-11-25 15:01" in local time; "-" for 0 or less. */
void kaasctl_format_time(char *buf, size_t size, json_int_t t);
