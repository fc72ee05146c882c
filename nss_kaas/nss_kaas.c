/* libnss_kaas.so.2: Keystone users and roles as Unix users and groups,
 * asked from kaasd's io.kaas.Nss interface (nss_kaas(8)).
 *
 * Every lookup opens its own connection through the embedded libkaas and
 * closes it, so the module keeps no connection, is thread-safe without a
 * lock and needs nothing after fork(). The only global state is the list
 * of a running getpwent()/getgrent() enumeration, under a mutex that the
 * child of a fork() re-initialises.
 *
 * kaasd is asked within a short timeout (2 s): a missing socket fails at
 * once and a hung kaasd within the timeout, both as NSS_STATUS_UNAVAIL, so
 * that no process on the node hangs on a user lookup. With the default
 * socket, kaasd must run as root (socket file and SO_PEERCRED), as for the
 * PAM module; KAAS_SOCKET (and KAAS_NSS_TIMEOUT_MS) are read with
 * secure_getenv(), so set-user-ID programs ignore them. KAAS_NSS_BYPASS=1
 * (set by kaasd for itself) makes every function answer UNAVAIL.
 *
 * Exports only the _nss_kaas_* functions (nss_kaas.sym). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <grp.h>
#include <jansson.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include "kaas.h"
#include "group_file_name.h"
#include "libkaas_internal.h"
#include "nss_group_file.h"
#include "nss_pack.h"
#include "nss_scan.h"
#include "passwd_file.h"
#include "utf8.h"

#define NSS_KAAS_EXPORT __attribute__((visibility("default")))

/* The entry points glibc (or nss_wrapper) looks up by name. */
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                                     size_t buflen, int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
                                                     int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrnam_r(const char *name, struct group *gr, char *buf,
                                                     size_t buflen, int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
                                                     int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_initgroups_dyn(const char *user, gid_t group, long int *start,
                                                         long int *size, gid_t **groupsp, long int limit,
                                                         int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_setpwent(int stayopen);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_endpwent(void);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_setgrent(int stayopen);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop);
NSS_KAAS_EXPORT enum nss_status _nss_kaas_endgrent(void);

#define DEFAULT_TIMEOUT_MS 2000
#define MAX_TIMEOUT_MS 60000
/* kaasd never hands out ids below this ([nss] uid_min/gid_min): an answer
 * that does is not believed, whoever sent it */
#define MIN_ID 1000u
/* The largest group taken (nss_kaas(8)): beyond it the lookup fails as
 * UNAVAIL, and [nss] max_group_members on kaasd is the remedy. Up to it,
 * a buffer too small is ERANGE and glibc asks again with a larger one. */
#define MAX_MEMBERS 1048576
#define MAX_REPLY_SIZE (16u * 1024u * 1024u)

/* The largest reply whose group entry could fit in buflen bytes: a
 * member costs the entry its name, a NUL and a pointer, the reply its
 * name, two quotes and a comma, and both hold the group's name once, so
 * an entry that fits comes in a reply shorter than this (the reply's
 * fixed part, under 100 bytes, within the 4 KiB). A longer reply is
 * refused unread as ERANGE: glibc doubles its buffer at each ERANGE from
 * 1 KiB, and a 100,000-member group would otherwise be received and
 * parsed whole at each doubling. */
static size_t group_reply_max(size_t buflen) {
        return buflen >= MAX_REPLY_SIZE - 4096 ? MAX_REPLY_SIZE : buflen + 4096;
}

/* ------------------------------------------------------------ calling kaasd */

static bool bypassed(void) {
        const char *b = secure_getenv("KAAS_NSS_BYPASS");
        return b && strcmp(b, "1") == 0;
}

static int timeout_ms(void) {
        const char *s = secure_getenv("KAAS_NSS_TIMEOUT_MS");
        if (s && *s) {
                char *end;
                long v = strtol(s, &end, 10);
                if (!*end && v > 0 && v <= MAX_TIMEOUT_MS)
                        return (int)v;
        }
        return DEFAULT_TIMEOUT_MS;
}

/* Calls method; SUCCESS with *ret set, NOTFOUND, or UNAVAIL with *errnop
 * saying why (ENOENT no socket, ETIMEDOUT, EHOSTUNREACH Keystone...);
 * TRYAGAIN with ERANGE for a reply longer than max_reply (less than
 * MAX_REPLY_SIZE), left unread. The reply's text is offered to take
 * first (when not NULL): SUCCESS with *ret NULL when it took it. */
static enum nss_status call_kaasd(const char *method, json_t *params, size_t max_reply, vl_take_fn take,
                                  void *userdata, json_t **ret, int *errnop) {
        if (bypassed()) {
                *errnop = ENOENT;
                return NSS_STATUS_UNAVAIL;
        }
        struct kaas_client *c = NULL;
        struct kaas_error err = KAAS_ERROR_INIT;
        bool own_path = secure_getenv(KAAS_SOCKET_ENV) && *secure_getenv(KAAS_SOCKET_ENV);
        int r = kaas_client_new(NULL, timeout_ms(), &c);
        /* the compiled-in socket is root's, as kaasd's under systemd; a path
         * from the environment is the caller's own business */
        if (r >= 0 && !own_path)
                r = kaas_client_require_peer_uid(c, 0);
        if (r >= 0)
                r = kaas_client_set_max_message_size(c, max_reply);
        *ret = NULL;
        if (r >= 0)
                r = libkaas_call_take(c, method, params, take, userdata, ret, &err);
        kaas_client_free(c);
        enum nss_status status = NSS_STATUS_SUCCESS;
        if (r == LIBKAAS_TAKEN)
                r = 0;
        if (r == -EMSGSIZE && max_reply < MAX_REPLY_SIZE) {
                *errnop = ERANGE;
                status = NSS_STATUS_TRYAGAIN;
        } else if (r == KAAS_ERROR_REMOTE) {
                if (kaas_error_is(&err, "io.kaas.Nss.NotFound")) {
                        *errnop = ENOENT;
                        status = NSS_STATUS_NOTFOUND;
                } else if (kaas_error_is(&err, "io.kaas.Nss.TooLarge")) {
                        *errnop = ERANGE;  /* longer than the max_size asked for */
                        status = NSS_STATUS_TRYAGAIN;
                } else if (kaas_error_is(&err, "org.varlink.service.InvalidParameter")) {
                        *errnop = EINVAL;  /* a kaasd that knows no max_size */
                        status = NSS_STATUS_UNAVAIL;
                } else {
                        *errnop = EHOSTUNREACH;
                        status = NSS_STATUS_UNAVAIL;
                }
        } else if (r < 0) {
                *errnop = r == -ENOMEM ? ENOMEM : -r;
                status = r == -ENOMEM ? NSS_STATUS_TRYAGAIN : NSS_STATUS_UNAVAIL;
        }
        kaas_error_clear(&err);
        return status;
}

/* ------------------------------------------------------------ reading replies */

/* A field that can go into a passwd or group line. */
static const char *field_str(json_t *o, const char *key) {
        const char *s = json_string_value(json_object_get(o, key));
        if (!s || strpbrk(s, ":\n"))
                return NULL;
        return s;
}

static bool field_id(json_t *o, const char *key, uint32_t *ret) {
        json_t *v = json_object_get(o, key);
        if (!json_is_integer(v) || json_integer_value(v) < MIN_ID || json_integer_value(v) >= UINT32_MAX)
                return false;
        *ret = (uint32_t)json_integer_value(v);
        return true;
}

static bool passwd_src(json_t *o, struct nss_passwd_src *src) {
        *src = (struct nss_passwd_src){ .name = field_str(o, "name"), .gecos = field_str(o, "gecos"),
                                        .dir = field_str(o, "home"), .shell = field_str(o, "shell") };
        return src->name && *src->name && src->gecos && src->dir && src->shell && field_id(o, "uid", &src->uid) &&
               field_id(o, "gid", &src->gid);
}

/* Packs passwd object o; the NSS status and errno for it. */
static enum nss_status fill_passwd(json_t *o, struct passwd *pw, char *buf, size_t buflen, int *errnop) {
        struct nss_passwd_src src;
        if (!passwd_src(o, &src)) {
                *errnop = EBADMSG;
                return NSS_STATUS_UNAVAIL;
        }
        if (nss_pack_passwd(&src, pw, buf, buflen) < 0) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        return NSS_STATUS_SUCCESS;
}

static enum nss_status fill_group(json_t *o, struct group *gr, char *buf, size_t buflen, int *errnop) {
        json_t *members = json_object_get(o, "members");
        size_t n = json_array_size(members);
        struct nss_group_src src = { .name = field_str(o, "name"), .n_members = n };
        if (!src.name || !*src.name || !field_id(o, "gid", &src.gid) || !json_is_array(members) ||
            n > MAX_MEMBERS) {
                *errnop = EBADMSG;
                return NSS_STATUS_UNAVAIL;
        }
        const char **m = calloc(n + 1, sizeof(*m));
        if (!m) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        for (size_t i = 0; i < n; i++)
                if (!(m[i] = json_string_value(json_array_get(members, i))) || !*m[i] || strpbrk(m[i], ":,\n")) {
                        free(m);
                        *errnop = EBADMSG;
                        return NSS_STATUS_UNAVAIL;
                }
        src.members = m;
        int r = nss_pack_group(&src, gr, buf, buflen);
        free(m);
        if (r < 0) {
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        return NSS_STATUS_SUCCESS;
}

static enum nss_status lookup(const char *method, json_t *params, size_t max_reply, const char *key, json_t **ret,
                              int *errnop) {
        json_t *reply = NULL;
        if (!params) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        enum nss_status s = call_kaasd(method, params, max_reply, NULL, NULL, &reply, errnop);
        json_decref(params);
        if (s != NSS_STATUS_SUCCESS)
                return s;
        json_t *o = json_object_get(reply, key);
        if (!o) {
                json_decref(reply);
                *errnop = EBADMSG;
                return NSS_STATUS_UNAVAIL;
        }
        *ret = json_incref(o);
        json_decref(reply);
        return NSS_STATUS_SUCCESS;
}

typedef enum nss_status (*fill_fn)(json_t *o, void *result, char *buf, size_t buflen, int *errnop);

static enum nss_status fill_passwd_any(json_t *o, void *result, char *buf, size_t buflen, int *errnop) {
        return fill_passwd(o, result, buf, buflen, errnop);
}

static enum nss_status fill_group_any(json_t *o, void *result, char *buf, size_t buflen, int *errnop) {
        return fill_group(o, result, buf, buflen, errnop);
}

/* Looks one entry up (the object key of the reply) and packs it into
 * result with fill. */
static enum nss_status lookup_fill(const char *method, json_t *params, const char *key, fill_fn fill,
                                   void *result, char *buf, size_t buflen, int *errnop) {
        json_t *o = NULL;
        enum nss_status s = lookup(method, params, MAX_REPLY_SIZE, key, &o, errnop);
        if (s == NSS_STATUS_SUCCESS)
                s = fill(o, result, buf, buflen, errnop);
        json_decref(o);
        return s;
}

/* A group's entry read straight from the text of kaasd's reply
 * (nss_scan.h), when in the plain form kaasd writes. */
struct group_take {
        struct group *gr;
        char *buf;
        size_t buflen;
        int result;     /* of reading and packing it, once taken */
};

static bool take_group(const char *text, size_t len, void *userdata) {
        struct group_take *t = userdata;
        struct nss_scan_group g;
        int r = nss_scan_group(text, len, MIN_ID, MAX_MEMBERS, &g);
        if (r == -ENOTSUP)
                return false;   /* the JSON path decides */
        t->result = r < 0 ? r : nss_scan_group_pack(&g, t->gr, t->buf, t->buflen);
        return true;
}

/* A role group from the file kaasd left for it (nss_group_file.h): 1 and
 * the entry packed, -ERANGE, or 0 when there is none to take. The files
 * beside the compiled-in socket are trusted through their owners; beside
 * one named by the environment, as that socket is, without. */
static int group_from_file(const char *name, uint32_t gid, struct group *gr, char *buf, size_t buflen) {
        char dir[PATH_MAX], file[NAME_MAX + 1];
        const char *env = secure_getenv(KAAS_SOCKET_ENV);
        if (bypassed() || group_file_dir(kaas_socket_path(NULL), dir, sizeof(dir)) < 0 ||
            (name ? group_file_by_name(name, file, sizeof(file)) : group_file_by_gid(gid, file, sizeof(file))) < 0)
                return 0;
        struct nss_group_file_query q = { .dir = dir, .check_owners = !(env && *env), .file = file, .name = name,
                                          .gid = gid, .min_id = MIN_ID, .max_members = MAX_MEMBERS,
                                          .max_file = MAX_REPLY_SIZE + GROUP_FILE_HEADER_MAX,
                                          .now = time(NULL) };
        return nss_group_file_get(&q, gr, buf, buflen);
}

/* lookup_fill() for a group: its reply is taken only as long as its entry
 * could fit in buflen, kaasd told so (max_size: it answers TooLarge
 * rather than send a longer one), and offered to take_group() before
 * the JSON path. */
static enum nss_status lookup_group(const char *method, json_t *params, const char *name, uint32_t gid,
                                    struct group *gr, char *buf, size_t buflen, int *errnop) {
        int f = group_from_file(name, gid, gr, buf, buflen);
        if (f != 0) {
                json_decref(params);
                if (f > 0)
                        return NSS_STATUS_SUCCESS;
                *errnop = ERANGE;
                return NSS_STATUS_TRYAGAIN;
        }
        struct group_take t = { .gr = gr, .buf = buf, .buflen = buflen };
        json_t *reply = NULL;
        size_t max_reply = group_reply_max(buflen);
        bool sized = max_reply < MAX_REPLY_SIZE;
        if (params && sized && json_object_set_new(params, "max_size", json_integer((json_int_t)max_reply)) < 0) {
                json_decref(params);
                params = NULL;
        }
        if (!params) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        enum nss_status s = call_kaasd(method, params, max_reply, take_group, &t, &reply, errnop);
        if (s == NSS_STATUS_UNAVAIL && *errnop == EINVAL && sized) {
                /* a kaasd older than max_size: ask again without it */
                json_object_del(params, "max_size");
                s = call_kaasd(method, params, max_reply, take_group, &t, &reply, errnop);
        }
        json_decref(params);
        if (s != NSS_STATUS_SUCCESS)
                return s;
        if (!reply) {
                if (t.result == -ERANGE) {
                        *errnop = ERANGE;
                        return NSS_STATUS_TRYAGAIN;
                }
                if (t.result < 0) {
                        *errnop = EBADMSG;
                        return NSS_STATUS_UNAVAIL;
                }
                return NSS_STATUS_SUCCESS;
        }
        json_t *o = json_object_get(reply, "group");
        if (!o) {
                json_decref(reply);
                *errnop = EBADMSG;
                return NSS_STATUS_UNAVAIL;
        }
        s = fill_group(o, gr, buf, buflen, errnop);
        json_decref(reply);
        return s;
}

/* The answer to a name or id kaasd is not asked about (empty, or below
 * MIN_ID): not found, or unavailable like every call while bypassed. */
static enum nss_status not_asked(int *errnop) {
        *errnop = ENOENT;
        return bypassed() ? NSS_STATUS_UNAVAIL : NSS_STATUS_NOTFOUND;
}

/* A name that is not UTF-8 is nobody's in Keystone (and no JSON string):
 * not found, without asking. */
static bool name_askable(const char *name) {
        return name && *name && utf8_valid(name, strlen(name)) && !bypassed();
}

static bool id_askable(uint32_t id) {
        return id >= MIN_ID && id != UINT32_MAX;
}

/* ------------------------------------------------------------ passwd */

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwnam_r(const char *name, struct passwd *pw, char *buf,
                                                     size_t buflen, int *errnop) {
        if (!name_askable(name))
                return not_asked(errnop);
        return lookup_fill("io.kaas.Nss.GetPasswdByName", json_pack("{s:s}", "name", name), "passwd",
                           fill_passwd_any, pw, buf, buflen, errnop);
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
                                                     int *errnop) {
        if (!id_askable(uid))
                return not_asked(errnop);
        return lookup_fill("io.kaas.Nss.GetPasswdByUid", json_pack("{s:I}", "uid", (json_int_t)uid), "passwd",
                           fill_passwd_any, pw, buf, buflen, errnop);
}

/* ------------------------------------------------------------ group */

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrnam_r(const char *name, struct group *gr, char *buf,
                                                     size_t buflen, int *errnop) {
        if (!name_askable(name))
                return not_asked(errnop);
        return lookup_group("io.kaas.Nss.GetGroupByName", json_pack("{s:s}", "name", name), name, 0, gr, buf, buflen,
                            errnop);
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
                                                     int *errnop) {
        if (!id_askable(gid))
                return not_asked(errnop);
        return lookup_group("io.kaas.Nss.GetGroupByGid", json_pack("{s:I}", "gid", (json_int_t)gid), NULL, gid, gr,
                            buf, buflen, errnop);
}

/* ------------------------------------------------------------ initgroups */

/* A user of the local passwd file is never kaasd's (kaasd serves no local
 * name), so its groups are asked of nobody. glibc asks every module's
 * initgroups_dyn, the files module's answer notwithstanding: without this,
 * each login of a local user would wait on kaasd, and systemd, setting up
 * kaasd's own User= before kaasd can answer, would wait for the whole
 * timeout at every start of kaasd.service. A file that cannot be read
 * proves nothing: kaasd is asked. */
static bool local_user(const char *name) {
        return passwd_file_find(PASSWD_FILE_DEFAULT, name, NULL) == 1;
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_initgroups_dyn(const char *user, gid_t group, long int *start,
                                                         long int *size, gid_t **groupsp, long int limit,
                                                         int *errnop) {
        if (!name_askable(user) || local_user(user))
                return not_asked(errnop);
        json_t *list = NULL;
        enum nss_status s = lookup("io.kaas.Nss.GetGroupList", json_pack("{s:s}", "name", user), MAX_REPLY_SIZE,
                                   "gids", &list, errnop);
        if (s != NSS_STATUS_SUCCESS)
                return s;
        size_t n = json_array_size(list);
        uint32_t *gids = calloc(n ? n : 1, sizeof(*gids));
        size_t k = 0;
        if (!gids) {
                json_decref(list);
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_array_get(list, i);
                /* ids kaasd cannot have given are dropped, not believed */
                if (json_is_integer(v) && json_integer_value(v) >= MIN_ID && json_integer_value(v) < UINT32_MAX)
                        gids[k++] = (uint32_t)json_integer_value(v);
        }
        json_decref(list);
        int r = nss_add_gids(group, gids, k, start, size, groupsp, limit);
        free(gids);
        if (r < 0) {
                *errnop = ENOMEM;
                return NSS_STATUS_TRYAGAIN;
        }
        return NSS_STATUS_SUCCESS;
}

/* ------------------------------------------------------------ enumeration */

/* The list of a running enumeration and the position in it. Fetched
 * without the lock (a kaasd call takes time), swapped in under it. */
struct ent_state {
        json_t *list;
        size_t next;
};

static pthread_mutex_t ent_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ent_state pw_ent, gr_ent;

/* A fork() while another thread held the lock would leave the child's
 * copy locked for ever. */
static void ent_after_fork_child(void) {
        pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
        memcpy(&ent_lock, &fresh, sizeof(fresh));
}

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static void register_atfork(void) {
        (void)pthread_atfork(NULL, NULL, ent_after_fork_child);
}

static void ent_replace(struct ent_state *e, json_t *list) {
        pthread_once(&atfork_once, register_atfork);
        pthread_mutex_lock(&ent_lock);
        json_t *old = e->list;
        e->list = list;
        e->next = 0;
        pthread_mutex_unlock(&ent_lock);
        json_decref(old);
}

static enum nss_status ent_set(struct ent_state *e, const char *method, const char *key) {
        json_t *list = NULL;
        int err = 0;
        enum nss_status s = lookup(method, json_object(), MAX_REPLY_SIZE, key, &list, &err);
        ent_replace(e, s == NSS_STATUS_SUCCESS && json_is_array(list) ? list : NULL);
        if (s == NSS_STATUS_SUCCESS && !json_is_array(list)) {
                json_decref(list);
                return NSS_STATUS_UNAVAIL;
        }
        return s;
}

static enum nss_status ent_get(struct ent_state *e, fill_fn fill, void *result, char *buf, size_t buflen,
                               int *errnop) {
        enum nss_status s;
        pthread_once(&atfork_once, register_atfork);
        pthread_mutex_lock(&ent_lock);
        for (;;) {
                if (!e->list || e->next >= json_array_size(e->list)) {
                        *errnop = ENOENT;
                        s = NSS_STATUS_NOTFOUND;
                        break;
                }
                s = fill(json_array_get(e->list, e->next), result, buf, buflen, errnop);
                if (s == NSS_STATUS_TRYAGAIN)
                        break;  /* the same entry again, with a bigger buffer */
                e->next++;
                if (s == NSS_STATUS_SUCCESS)
                        break;
                /* an entry that does not check out is skipped */
        }
        pthread_mutex_unlock(&ent_lock);
        return s;
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_setpwent(int stayopen) {
        (void)stayopen;
        return ent_set(&pw_ent, "io.kaas.Nss.ListPasswd", "passwd");
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getpwent_r(struct passwd *pw, char *buf, size_t buflen, int *errnop) {
        return ent_get(&pw_ent, fill_passwd_any, pw, buf, buflen, errnop);
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_endpwent(void) {
        ent_replace(&pw_ent, NULL);
        return NSS_STATUS_SUCCESS;
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_setgrent(int stayopen) {
        (void)stayopen;
        return ent_set(&gr_ent, "io.kaas.Nss.ListGroups", "groups");
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop) {
        return ent_get(&gr_ent, fill_group_any, gr, buf, buflen, errnop);
}

NSS_KAAS_EXPORT enum nss_status _nss_kaas_endgrent(void) {
        ent_replace(&gr_ent, NULL);
        return NSS_STATUS_SUCCESS;
}
