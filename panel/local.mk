# panel/: kaas-panel, the KaaS Control Panel (HTTPS with httpd/, asking
# kaasd through libkaas). The template layer, form decoder, sessions and
# settings are a library of their own, so the unit tests and the fuzz
# target link exactly the code the server runs.
noinst_LTLIBRARIES += panel/libkaas-panel.la
panel_libkaas_panel_la_SOURCES = \
	panel/html.c panel/html.h \
	panel/form.c panel/form.h \
	panel/session.c panel/session.h \
	panel/login_form.c panel/login_form.h \
	panel/settings.c panel/settings.h \
	panel/kubeconfig.c panel/kubeconfig.h
panel_libkaas_panel_la_CFLAGS = $(AM_CFLAGS) -pthread $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(INIH_CFLAGS)
panel_libkaas_panel_la_LIBADD = panel/libkaas-forward.la httpd/libkaas-httpd.la common/libkaas-kube.la common/libkaas-token.la \
	common/libkaas-config.la $(JANSSON_LIBS) $(SODIUM_LIBS) $(INIH_LIBS)

sbin_PROGRAMS += panel/kaas-panel
panel_kaas_panel_SOURCES = \
	panel/main.c \
	panel/panel.h \
	panel/server.c panel/server.h \
	panel/page.c \
	panel/calls.c \
	panel/route_session.c \
	panel/route_tokens.c \
	panel/route_admin.c \
	panel/route_forward.c panel/route_forward.h \
	panel/static.c
panel_kaas_panel_CPPFLAGS = $(AM_CPPFLAGS) -DPANEL_STATIC_DIR=\"$(top_srcdir)/panel/static\"
panel_kaas_panel_CFLAGS = $(AM_CFLAGS) -pthread $(JANSSON_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS) \
	$(SYSTEMD_CFLAGS) $(SODIUM_CFLAGS)
panel_kaas_panel_LDFLAGS = $(AM_LDFLAGS) -pthread
# libkaas-static.la carries common/libkaas-common.la: not linked again here
panel_kaas_panel_LDADD = panel/libkaas-panel.la httpd/libkaas-httpd.la client/libkaas-static.la \
	common/libkaas-kube.la common/libkaas-token.la common/libkaas-config.la \
	$(MHD_LIBS) $(GNUTLS_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS)
EXTRA_DIST += panel/static/panel.css panel/static/panel.js
# the assembler includes them: rebuild when they change
panel/kaas_panel-static.$(OBJEXT): $(top_srcdir)/panel/static/panel.css $(top_srcdir)/panel/static/panel.js

# Tests: the library alone (templates, forms, sessions, documents); the
# whole panel over HTTPS is tests/integration/test_panel.sh (tests/local.mk)
check_PROGRAMS += tests/unit/test_panel
TESTS += tests/unit/test_panel
tests_unit_test_panel_SOURCES = tests/unit/test_panel.c
tests_unit_test_panel_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_panel_LDADD = panel/libkaas-panel.la $(JANSSON_LIBS) $(SODIUM_LIBS) $(CMOCKA_LIBS)
