/* The state every handler reaches through its context pointer: the
 * configuration in force, the server, and (as they are added) the store,
 * the Keystone client and the identity cache. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "config_file.h"
#include "loop.h"
#include "server.h"

struct keystone;
struct identity_cache;
struct store;
struct token_service;
struct credential_checker;
struct unix_ids;
struct replica;

struct daemon {
        const char *config_path;
        bool config_optional;           /* the default path: run on defaults when absent */
        const char *socket_override;    /* --socket, kept across reloads */
        const char *state_dir_override; /* --state-dir, kept across reloads */
        struct config *config;
        struct loop *loop;
        struct server *server;
        struct registry *registry;
        uint64_t started_usec;
        char *socket_path;      /* as bound at start; NULL when activated */
        int exit_code;
        struct store *store;
        struct keystone *keystone;              /* NULL: no [keystone] url */
        struct identity_cache *identities;
        struct token_service *tokens;
        struct credential_checker *credentials;
        struct loop_timer *maintenance;
        struct loop_timer *warm;        /* reading the store into its cache after start */
        uint64_t warm_bytes, warm_since_usec;
        struct unix_ids *unix_ids;              /* NSS and userdb; made on first use */
        struct replica *replica;                /* NULL: standalone (no [etcd]) */
        uint64_t stored_ids_in_subid;           /* at the last start or reload; see subid_stored.h */
};

struct identity_caller;
/* Whom Keystone work started for call counts against: ordinary local users
 * (neither root, nor validator_group, nor admin_group) are bounded. NULL:
 * kaasd's own work. */
void daemon_identity_caller(const struct call *call, struct identity_caller *ret);

int daemon_policy_from_config(const struct config *c, struct access_policy *ret, char *err,
                              size_t err_size);
void daemon_limits_from_config(const struct config *c, struct server_limits *ret);

/* Re-reads the configuration file. On error keeps the running one and
 * writes the reason to err. */
/* Reads the configuration file (or the defaults, when the file is optional
 * and absent) and applies the command-line overrides. */
int daemon_read_config(const struct daemon *d, struct config **ret, char *err, size_t err_size);
int daemon_reload(struct daemon *d, char *err, size_t err_size);

/* Checks the ids remembered in the store against the subordinate-id files
 * and logs a warning naming those inside a range (subid_stored.h). At
 * start, once the store is open, and at every reload. */
void daemon_check_stored_ids(struct daemon *d);
