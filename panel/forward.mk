# panel/forward.mk: the forward-auth endpoint's decisions that need no
# session or kaasd (Authorization header, return_to, hosts, roles), a
# library of their own so the unit tests link exactly what the panel runs.
noinst_LTLIBRARIES += panel/libkaas-forward.la
panel_libkaas_forward_la_SOURCES = panel/forward_rules.c panel/forward_rules.h
panel_libkaas_forward_la_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
panel_libkaas_forward_la_LIBADD = common/libkaas-token.la $(SODIUM_LIBS)

check_PROGRAMS += tests/unit/test_forward_rules
TESTS += tests/unit/test_forward_rules
tests_unit_test_forward_rules_SOURCES = tests/unit/test_forward_rules.c
tests_unit_test_forward_rules_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/panel
tests_unit_test_forward_rules_LDADD = panel/libkaas-forward.la $(SODIUM_LIBS) $(CMOCKA_LIBS)

# A real nginx with auth_request in front of two echoing services, as
# docs/managed-services.md sets it up; chromium for the browser's sign-in.
TESTS += tests/forward/test_forward_auth.sh
EXTRA_DIST += tests/forward/test_forward_auth.sh tests/forward/forward.test.js tests/forward/echo_upstream.py \
	docs/managed-services.md
