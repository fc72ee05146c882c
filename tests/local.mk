# Tests of the shared protocol code and the daemon core. Other parts add
# their own tests in their fragments. cmocka unit tests are check_PROGRAMS;
# shell integration tests (.sh) run kaasd from the build tree.
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)

check_PROGRAMS += tests/unit/test_varlink_frame tests/unit/test_varlink_idl tests/unit/test_config_file
TESTS += tests/unit/test_varlink_frame tests/unit/test_varlink_idl tests/unit/test_config_file

tests_unit_test_varlink_frame_SOURCES = tests/unit/test_varlink_frame.c
tests_unit_test_varlink_frame_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_varlink_frame_LDADD = common/libkaas-common.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

tests_unit_test_varlink_idl_SOURCES = tests/unit/test_varlink_idl.c
tests_unit_test_varlink_idl_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_varlink_idl_LDADD = common/libkaas-common.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

tests_unit_test_config_file_SOURCES = tests/unit/test_config_file.c
tests_unit_test_config_file_CFLAGS = $(UNIT_CFLAGS) $(INIH_CFLAGS)
tests_unit_test_config_file_LDADD = kaasd/libkaasd-core.la $(CMOCKA_LIBS) $(INIH_LIBS)

check_PROGRAMS += tests/unit/test_subid
TESTS += tests/unit/test_subid
tests_unit_test_subid_SOURCES = tests/unit/test_subid.c
tests_unit_test_subid_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_subid_LDADD = kaasd/libkaasd-core.la $(CMOCKA_LIBS)

# the stored ids against the subordinate ranges: a real store
check_PROGRAMS += tests/unit/test_subid_stored
TESTS += tests/unit/test_subid_stored
tests_unit_test_subid_stored_SOURCES = tests/unit/test_subid_stored.c kaasd/subid_stored.c
tests_unit_test_subid_stored_CFLAGS = $(UNIT_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_subid_stored_LDADD = kaasd/libkaasd-store.la kaasd/libkaasd-core.la $(CMOCKA_LIBS) \
	$(BDB_LIBS) $(SODIUM_LIBS)

check_PROGRAMS += tests/integration/test_server
TESTS += tests/integration/test_server
tests_integration_test_server_SOURCES = tests/integration/test_server.c
tests_integration_test_server_CFLAGS = $(UNIT_CFLAGS)
tests_integration_test_server_LDADD = common/libkaas-common.la $(CMOCKA_LIBS) $(JANSSON_LIBS)

TESTS += tests/integration/test_tokens.sh tests/integration/test_startup.sh
# the control panel without a browser (curl); its helpers serve the browser tests too
TESTS += tests/integration/test_panel.sh tests/integration/test_authenticate.sh
EXTRA_DIST += tests/integration/test_authenticate.sh
EXTRA_DIST += tests/integration/test_panel.sh tests/lib/panel-env.sh
EXTRA_DIST += tests/integration/test_startup.sh
EXTRA_DIST += tests/packages/test_packages.sh tests/lib/machine.sh
EXTRA_DIST += tests/integration/test_tokens.sh tests/integration/crash_creations.py \
	tests/lib/check.sh tests/lib/sanitizer.sh

# What may prove an identity: delegated Keystone tokens, KaaS token chains.
TESTS += tests/integration/test_proof.sh
EXTRA_DIST += tests/integration/test_proof.sh tests/integration/delegated_tokens.py

check_PROGRAMS += tests/unit/test_ratelimit
TESTS += tests/unit/test_ratelimit
tests_unit_test_ratelimit_SOURCES = tests/unit/test_ratelimit.c kaasd/ratelimit.c kaasd/ratelimit.h
tests_unit_test_ratelimit_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_ratelimit_LDADD = $(CMOCKA_LIBS)

# The real-Keystone harness every Keystone-facing test stands on.
TESTS += tests/integration/test_keystone_harness.sh
EXTRA_DIST += tests/integration/test_keystone_harness.sh \
	tests/keystone/keystone-up.sh tests/keystone/keystone-down.sh \
	tests/keystone/fixtures.py tests/keystone/README.md

# hostile input, failures, load, permissions, privileges, valgrind
include tests/hardening.mk

# varlink interoperability: a client built (offline) with the varlink
# project's Go library calls kaasd; skipped without golang-go and
# golang-github-varlink-go-dev
TESTS += tests/interop/test_varlink_go.sh
EXTRA_DIST += tests/interop/test_varlink_go.sh tests/interop/varlink_client.go

check_PROGRAMS += tests/unit/test_membership
TESTS += tests/unit/test_membership
tests_unit_test_membership_SOURCES = tests/unit/test_membership.c kaasd/membership.c kaasd/unix_names.c \
	kaasd/group_reply.c
tests_unit_test_membership_CFLAGS = $(UNIT_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_membership_LDADD = common/libkaas-common.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
