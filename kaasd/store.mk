# kaasd storage: the token format (also used by the PAM module, the webhook and the client),
# the token hashing key and the Berkeley DB store, with their unit tests.

noinst_LTLIBRARIES += common/libkaas-token.la
common_libkaas_token_la_SOURCES = common/token_format.c common/token_format.h
common_libkaas_token_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
common_libkaas_token_la_LIBADD = $(SODIUM_LIBS)

noinst_LTLIBRARIES += kaasd/libkaasd-store.la
kaasd_libkaasd_store_la_SOURCES = \
	kaasd/store.c kaasd/store.h kaasd/store_internal.h \
	kaasd/store_record.c kaasd/store_record.h \
	kaasd/store_token.c kaasd/store_identity.c kaasd/store_uid.c \
	kaasd/store_replica.c kaasd/store_warm.c \
	kaasd/token_key.c kaasd/token_key.h
kaasd_libkaasd_store_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
kaasd_libkaasd_store_la_LIBADD = common/libkaas-token.la $(BDB_LIBS) $(SODIUM_LIBS)

store_test_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd

check_PROGRAMS += tests/unit/test_token_format tests/unit/test_token_key \
	tests/unit/test_store tests/unit/test_store_crash
TESTS += tests/unit/test_token_format tests/unit/test_token_key \
	tests/unit/test_store tests/unit/test_store_crash

tests_unit_test_token_format_SOURCES = tests/unit/test_token_format.c
tests_unit_test_token_format_CFLAGS = $(store_test_cflags)
tests_unit_test_token_format_LDADD = common/libkaas-token.la $(CMOCKA_LIBS) $(SODIUM_LIBS)

tests_unit_test_token_key_SOURCES = tests/unit/test_token_key.c
tests_unit_test_token_key_CFLAGS = $(store_test_cflags)
tests_unit_test_token_key_LDADD = kaasd/libkaasd-store.la $(CMOCKA_LIBS) $(SODIUM_LIBS)

tests_unit_test_store_SOURCES = tests/unit/test_store.c
tests_unit_test_store_CFLAGS = $(store_test_cflags)
tests_unit_test_store_LDADD = kaasd/libkaasd-store.la $(CMOCKA_LIBS) $(BDB_LIBS) $(SODIUM_LIBS)

tests_unit_test_store_crash_SOURCES = tests/unit/test_store_crash.c
tests_unit_test_store_crash_CFLAGS = $(store_test_cflags)
tests_unit_test_store_crash_LDADD = kaasd/libkaasd-store.la $(CMOCKA_LIBS) $(BDB_LIBS) $(SODIUM_LIBS)
