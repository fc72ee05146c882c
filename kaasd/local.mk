# kaasd/: the daemon. Its parts are convenience libraries so unit tests
# link exactly the code the daemon runs.
noinst_LTLIBRARIES += kaasd/libkaasd-core.la
kaasd_libkaasd_core_la_SOURCES = \
	kaasd/loop.c kaasd/loop.h \
	kaasd/log.c kaasd/log.h \
	kaasd/peer.c kaasd/peer.h \
	kaasd/config_file.c kaasd/config_file.h \
	kaasd/keystone_url.c kaasd/keystone_url.h \
	kaasd/subid.c kaasd/subid.h \
	kaasd/registry.c kaasd/registry.h \
	kaasd/server.c kaasd/server.h
kaasd_libkaasd_core_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(INIH_CFLAGS)
kaasd_libkaasd_core_la_LIBADD = common/libkaas-common.la common/libkaas-config.la $(JANSSON_LIBS) $(INIH_LIBS)

sbin_PROGRAMS += kaasd/kaasd
kaasd_kaasd_SOURCES = \
	kaasd/main.c \
	kaasd/daemon.c kaasd/daemon.h \
	kaasd/methods.c kaasd/methods.h \
	kaasd/iface_service.c \
	kaasd/iface_admin.c \
	kaasd/iface_identity.c \
	kaasd/iface_token.c \
	kaasd/iface_nss.c kaasd/iface_userdb.c \
	kaasd/unix_identity.c kaasd/unix_identity.h \
	kaasd/membership.c kaasd/membership.h \
	kaasd/group_reply.c kaasd/group_reply.h \
	kaasd/group_files.c kaasd/group_files.h \
	kaasd/unix_names.c kaasd/unix_names.h \
	kaasd/local_accounts.c kaasd/local_accounts.h \
	kaasd/tokens.c kaasd/tokens.h \
	kaasd/credentials.c kaasd/credentials.h \
	kaasd/proof_cache.c kaasd/proof_cache.h \
	kaasd/ratelimit.c kaasd/ratelimit.h \
	kaasd/state_check.c kaasd/state_check.h \
	kaasd/environment.c kaasd/environment.h \
	kaasd/subid_stored.c kaasd/subid_stored.h \
	kaasd/interfaces.h
nodist_kaasd_kaasd_SOURCES = kaasd/interfaces.c
kaasd_kaasd_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SYSTEMD_CFLAGS) $(CURL_CFLAGS) $(SODIUM_CFLAGS)
kaasd_kaasd_LDADD = kaasd/libkaasd-replica.la kaasd/libkaasd-etcd.la kaasd/libkaasd-identity.la kaasd/libkaasd-store.la kaasd/libkaasd-core.la \
	$(JANSSON_LIBS) $(SYSTEMD_LIBS) $(CURL_LIBS) $(SODIUM_LIBS) $(BDB_LIBS)

# The interface definitions in docs/ are the source of truth: kaasd serves
# and checks calls against exactly these texts.
KAASD_INTERFACES = \
	docs/org.varlink.service.varlink \
	docs/io.kaas.varlink \
	docs/io.kaas.Admin.varlink \
	docs/io.kaas.Identity.varlink \
	docs/io.kaas.Token.varlink \
	docs/io.kaas.Nss.varlink \
	docs/io.systemd.UserDatabase.varlink
EXTRA_DIST += $(KAASD_INTERFACES) tools/varlink-to-c.sh
BUILT_SOURCES += kaasd/interfaces.c
CLEANFILES += kaasd/interfaces.c
kaasd/interfaces.c: $(KAASD_INTERFACES) $(top_srcdir)/tools/varlink-to-c.sh Makefile
	$(AM_V_GEN)$(MKDIR_P) kaasd && $(SHELL) $(top_srcdir)/tools/varlink-to-c.sh $@ $(top_srcdir) $(KAASD_INTERFACES)
include kaasd/store.mk
include kaasd/identity.mk
include kaasd/etcd.mk

# The cache of Keystone-token proofs, alone (kaasd links the same file)
check_PROGRAMS += tests/unit/test_loop
TESTS += tests/unit/test_loop
tests_unit_test_loop_SOURCES = tests/unit/test_loop.c kaasd/loop.c kaasd/loop.h
tests_unit_test_loop_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_loop_LDADD = $(CMOCKA_LIBS)

check_PROGRAMS += tests/unit/test_proof_cache
TESTS += tests/unit/test_proof_cache
tests_unit_test_proof_cache_SOURCES = tests/unit/test_proof_cache.c kaasd/proof_cache.c kaasd/proof_cache.h
tests_unit_test_proof_cache_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_proof_cache_LDADD = $(SODIUM_LIBS) $(CMOCKA_LIBS)
