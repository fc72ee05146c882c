# webhook/: kaas-webhook, kube-apiserver's TokenReview webhook (HTTPS with
# libmicrohttpd and GnuTLS, asking kaasd through libkaas). The TokenReview
# parser and renderer is a library of its own, so the unit tests (and fuzz
# targets) link exactly the code the server runs.
noinst_LTLIBRARIES += webhook/libkaas-tokenreview.la
webhook_libkaas_tokenreview_la_SOURCES = webhook/tokenreview.c webhook/tokenreview.h
webhook_libkaas_tokenreview_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
webhook_libkaas_tokenreview_la_LIBADD = $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_tokenreview
TESTS += tests/unit/test_tokenreview

tests_unit_test_tokenreview_SOURCES = tests/unit/test_tokenreview.c
tests_unit_test_tokenreview_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/webhook
tests_unit_test_tokenreview_LDADD = webhook/libkaas-tokenreview.la $(JANSSON_LIBS) $(CMOCKA_LIBS)
