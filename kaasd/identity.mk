# Keystone identities: the libcurl-multi Keystone client, reply checking,
# and the identity cache, with their unit and integration tests. The
# integration test runs kaasd against a real Keystone (tests/keystone/).

noinst_LTLIBRARIES += kaasd/libkaasd-identity.la
kaasd_libkaasd_identity_la_SOURCES = \
	kaasd/curl_loop.c kaasd/curl_loop.h \
	kaasd/secret_file.c kaasd/secret_file.h \
	kaasd/keystone.c kaasd/keystone.h \
	kaasd/keystone_json.c kaasd/keystone_json.h \
	kaasd/domain_map.c kaasd/domain_map.h \
	kaasd/identity.c kaasd/identity.h \
	kaasd/identity_record.c
kaasd_libkaasd_identity_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(SODIUM_CFLAGS)
kaasd_libkaasd_identity_la_LIBADD = $(CURL_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

identity_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) -I$(top_srcdir)/kaasd

check_PROGRAMS += tests/unit/test_keystone_json tests/unit/test_identity_record tests/unit/test_domain_map
TESTS += tests/unit/test_keystone_json tests/unit/test_identity_record tests/unit/test_domain_map

tests_unit_test_domain_map_SOURCES = tests/unit/test_domain_map.c kaasd/domain_map.c
tests_unit_test_domain_map_CFLAGS = $(identity_test_cflags)
tests_unit_test_domain_map_LDADD = $(CMOCKA_LIBS)

tests_unit_test_keystone_json_SOURCES = tests/unit/test_keystone_json.c kaasd/keystone_json.c
tests_unit_test_keystone_json_CFLAGS = $(identity_test_cflags)
tests_unit_test_keystone_json_LDADD = $(CMOCKA_LIBS) $(JANSSON_LIBS)

tests_unit_test_identity_record_SOURCES = tests/unit/test_identity_record.c \
	kaasd/identity_record.c kaasd/keystone_json.c
tests_unit_test_identity_record_CFLAGS = $(identity_test_cflags)
tests_unit_test_identity_record_LDADD = $(CMOCKA_LIBS) $(JANSSON_LIBS)

TESTS += tests/integration/test_identity.sh
EXTRA_DIST += tests/integration/test_identity.sh tests/lib/keystone-env.sh tests/lib/varlink.py

# puts a cached identity's fetch time ahead of the clock for test_identity.sh
check_PROGRAMS += tests/integration/identity_restamp
tests_integration_identity_restamp_SOURCES = tests/integration/identity_restamp.c
tests_integration_identity_restamp_CFLAGS = $(identity_test_cflags)
tests_integration_identity_restamp_LDADD = kaasd/libkaasd-identity.la kaasd/libkaasd-store.la \
	$(BDB_LIBS) $(CURL_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

# runs one Keystone client call for test_identity.sh
check_PROGRAMS += tests/integration/keystone_call
tests_integration_keystone_call_SOURCES = tests/integration/keystone_call.c
tests_integration_keystone_call_CFLAGS = $(identity_test_cflags) $(CURL_CFLAGS)
tests_integration_keystone_call_LDADD = kaasd/libkaasd-identity.la kaasd/libkaasd-core.la \
	$(CURL_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS) $(INIH_LIBS)
