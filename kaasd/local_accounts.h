/* The names and ids of the local passwd and group files, which kaasd never
 * serves (DESIGN §10). The files are read with fgetpwent_r/fgetgrent_r,
 * never through NSS (that could ask kaasd itself), and read again only
 * when their inode, size or modification time changed.
 *
 * Depends on libc only; single-threaded use (kaasd's loop). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct local_accounts;

int local_accounts_new(struct local_accounts **ret);
struct local_accounts *local_accounts_free(struct local_accounts *la);

/* Makes the snapshot current for these paths. A file that cannot be read
 * is an error (-errno): kaasd then serves nothing rather than something
 * that may shadow a local account. The previous snapshot stays on error. */
int local_accounts_refresh(struct local_accounts *la, const char *passwd_path, const char *group_path);

/* Changes whenever the snapshot may have: what was decided from an
 * earlier one is to be decided again. */
uint64_t local_accounts_generation(const struct local_accounts *la);

bool local_accounts_has_user(const struct local_accounts *la, const char *name);
bool local_accounts_has_uid(const struct local_accounts *la, uint32_t uid);
bool local_accounts_has_group(const struct local_accounts *la, const char *name);
bool local_accounts_has_gid(const struct local_accounts *la, uint32_t gid);

/* A name that is a local user or group name. */
static inline bool local_accounts_has_name(const struct local_accounts *la, const char *name) {
        return local_accounts_has_user(la, name) || local_accounts_has_group(la, name);
}

/* Every local uid and gid in [min, max], ascending, without duplicates;
 * the caller frees *ret. */
int local_accounts_ids_in_range(const struct local_accounts *la, uint32_t min, uint32_t max,
                                uint32_t **ret, size_t *ret_n);
