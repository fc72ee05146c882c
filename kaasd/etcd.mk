# kaasd's replica of the environment's token store in etcd: the etcd v3
# JSON-gateway client, the replica, and their tests (a real 3-member etcd
# cluster with TLS and RBAC, tests/etcd/).

EXTRA_DIST += docs/environment.md \
	tests/etcd/etcd-up.sh tests/etcd/etcd-down.sh tests/etcd/guide.sh

noinst_LTLIBRARIES += kaasd/libkaasd-etcd.la
kaasd_libkaasd_etcd_la_SOURCES = \
	kaasd/etcd_json.c kaasd/etcd_json.h \
	kaasd/etcd_client.c kaasd/etcd_client.h
kaasd_libkaasd_etcd_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CURL_CFLAGS) $(SODIUM_CFLAGS)
kaasd_libkaasd_etcd_la_LIBADD = $(CURL_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

noinst_LTLIBRARIES += kaasd/libkaasd-replica.la
kaasd_libkaasd_replica_la_SOURCES = \
	kaasd/replica.c kaasd/replica.h \
	kaasd/replica_record.c kaasd/replica_record.h
kaasd_libkaasd_replica_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS)

TESTS += tests/integration/test_environment.sh
EXTRA_DIST += tests/integration/test_environment.sh

check_PROGRAMS += tests/unit/test_etcd_json
TESTS += tests/unit/test_etcd_json
tests_unit_test_etcd_json_SOURCES = tests/unit/test_etcd_json.c
tests_unit_test_etcd_json_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_etcd_json_LDADD = kaasd/libkaasd-replica.la kaasd/libkaasd-etcd.la kaasd/libkaasd-store.la \
	$(CMOCKA_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS) $(BDB_LIBS)

check_PROGRAMS += tests/unit/test_store_replica
TESTS += tests/unit/test_store_replica
tests_unit_test_store_replica_SOURCES = tests/unit/test_store_replica.c
tests_unit_test_store_replica_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd
tests_unit_test_store_replica_LDADD = kaasd/libkaasd-store.la $(CMOCKA_LIBS) $(BDB_LIBS) $(SODIUM_LIBS)

TESTS += tests/integration/test_environment_load.sh
EXTRA_DIST += tests/integration/test_environment_load.sh tests/etcd/etcd-fill.py \
	tests/etcd/etcd-budget-proxy.py

TESTS += tests/integration/test_environment_watch.sh
EXTRA_DIST += tests/integration/test_environment_watch.sh
