# webhook/: kaas-webhook, kube-apiserver's TokenReview webhook (HTTPS with
# libmicrohttpd and GnuTLS, asking kaasd through libkaas). The TokenReview
# parser and renderer is a library of its own, so the unit tests (and fuzz
# targets) link exactly the code the server runs; it needs
# common/libkaas-common.la (json_values_exceed()), which the server gets
# through libkaas-static.la.
noinst_LTLIBRARIES += webhook/libkaas-tokenreview.la
webhook_libkaas_tokenreview_la_SOURCES = webhook/tokenreview.c webhook/tokenreview.h
webhook_libkaas_tokenreview_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
webhook_libkaas_tokenreview_la_LIBADD = $(JANSSON_LIBS)

sbin_PROGRAMS += webhook/kaas-webhook
webhook_kaas_webhook_SOURCES = \
	webhook/main.c \
	webhook/settings.c webhook/settings.h \
	webhook/server.c webhook/server.h \
	webhook/review.c webhook/review.h \
	webhook/metrics.c webhook/metrics.h
webhook_kaas_webhook_CFLAGS = $(AM_CFLAGS) -pthread $(JANSSON_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS) \
	$(INIH_CFLAGS) $(SYSTEMD_CFLAGS) $(SODIUM_CFLAGS)
webhook_kaas_webhook_LDFLAGS = $(AM_LDFLAGS) -pthread
# libkaas-static.la carries common/libkaas-common.la: not linked again here
webhook_kaas_webhook_LDADD = webhook/libkaas-tokenreview.la httpd/libkaas-httpd.la client/libkaas-static.la \
	common/libkaas-token.la common/libkaas-config.la \
	$(MHD_LIBS) $(GNUTLS_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS)

# Tests: the parser and renderer alone; the whole webhook over real HTTPS
# against a real kaasd and Keystone. kaas-store-put-expired plants an
# expired token in a stopped kaasd's store (kaasd cannot make one).
check_PROGRAMS += tests/unit/test_tokenreview tests/tools/kaas-store-put-expired
TESTS += tests/unit/test_tokenreview tests/e2e/test_webhook.sh
EXTRA_DIST += tests/e2e/test_webhook.sh tests/lib/webhook-env.sh
# kaasctl and the webhook talk only to a kaasd of root's or kaasd's user
TESTS += tests/integration/test_peer_check.sh
EXTRA_DIST += tests/integration/test_peer_check.sh

tests_unit_test_tokenreview_SOURCES = tests/unit/test_tokenreview.c
tests_unit_test_tokenreview_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/webhook
tests_unit_test_tokenreview_LDADD = webhook/libkaas-tokenreview.la common/libkaas-common.la $(JANSSON_LIBS) $(CMOCKA_LIBS)

tests_tools_kaas_store_put_expired_SOURCES = tests/tools/kaas-store-put-expired.c
tests_tools_kaas_store_put_expired_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd
tests_tools_kaas_store_put_expired_LDADD = kaasd/libkaasd-store.la common/libkaas-token.la $(BDB_LIBS) $(SODIUM_LIBS)
