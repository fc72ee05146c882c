# httpd/: what the HTTPS daemons (kaas-webhook, kaas-panel) share:
# libmicrohttpd with GnuTLS started from PEM files, the listen address, the
# connection guard (per-client limit, request deadline), answers with
# their security headers, bounded request bodies, the log, and the pool of
# libkaas connections to kaasd.
noinst_LTLIBRARIES += httpd/libkaas-httpd.la
httpd_libkaas_httpd_la_SOURCES = \
	httpd/server.c httpd/server.h \
	httpd/listen.c httpd/listen.h \
	httpd/guard.c httpd/guard.h \
	httpd/respond.c httpd/respond.h \
	httpd/body.c httpd/body.h \
	httpd/pool.c httpd/pool.h \
	httpd/log.c httpd/log.h \
	httpd/daemon.c httpd/daemon.h
httpd_libkaas_httpd_la_CFLAGS = $(AM_CFLAGS) -pthread $(MHD_CFLAGS) $(GNUTLS_CFLAGS) $(INIH_CFLAGS) $(JANSSON_CFLAGS)
httpd_libkaas_httpd_la_LIBADD = common/libkaas-config.la $(MHD_LIBS) $(GNUTLS_LIBS) $(INIH_LIBS) $(JANSSON_LIBS)

check_PROGRAMS += tests/unit/test_guard
TESTS += tests/unit/test_guard
tests_unit_test_guard_SOURCES = tests/unit/test_guard.c
tests_unit_test_guard_CFLAGS = $(AM_CFLAGS) -pthread $(CMOCKA_CFLAGS) -I$(top_srcdir)/httpd
tests_unit_test_guard_LDADD = httpd/libkaas-httpd.la $(CMOCKA_LIBS)
