# client/: libkaas, the public client library of kaasd (header, pkg-config
# file, shared library exporting only kaas_*), and kaasctl, the command
# line client built on it.
LIBKAAS_SOURCES = \
	client/kaas.h \
	client/libkaas_internal.h \
	client/libkaas.c \
	client/libkaas_call.c \
	client/libkaas_error.c

lib_LTLIBRARIES += client/libkaas.la
include_HEADERS += client/kaas.h
pkgconfig_DATA += client/kaas.pc
client_libkaas_la_SOURCES = $(LIBKAAS_SOURCES)
client_libkaas_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
client_libkaas_la_LIBADD = common/libkaas-common.la $(JANSSON_LIBS)
client_libkaas_la_LDFLAGS = $(AM_LDFLAGS) -no-undefined \
	-version-info $(LIBKAAS_LT_VERSION) \
	-Wl,--version-script=$(top_srcdir)/client/libkaas.sym
EXTRA_client_libkaas_la_DEPENDENCIES = client/libkaas.sym
EXTRA_DIST += client/libkaas.sym

# The same client embedded in the PAM and NSS modules, so they do not
# depend on libkaas.so's soname and export nothing of it (KAAS_EMBEDDED
# keeps kaas_* hidden). It carries common/libkaas-common.la's objects:
# link it instead of, not next to, that library.
noinst_LTLIBRARIES += client/libkaas-static.la
client_libkaas_static_la_SOURCES = $(LIBKAAS_SOURCES)
client_libkaas_static_la_CPPFLAGS = $(AM_CPPFLAGS) -DKAAS_EMBEDDED
client_libkaas_static_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -fPIC
client_libkaas_static_la_LIBADD = common/libkaas-common.la $(JANSSON_LIBS)

bin_PROGRAMS += client/kaasctl
client_kaasctl_SOURCES = \
	client/kaasctl.c client/kaasctl.h \
	client/kaasctl_output.c client/kaasctl_output.h \
	client/kaasctl_admin.c \
	client/kaasctl_token.c client/kaasctl_token.h \
	client/kaasctl_user.c \
	client/kaasctl_cache.c \
	client/kaasctl_store.c \
	client/kaasctl_kube.c
client_kaasctl_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
client_kaasctl_LDADD = client/libkaas.la common/libkaas-kube.la common/libkaas-common.la $(JANSSON_LIBS) -lm

# Tests: the library against scripted in-test servers, kaasctl against
# the real kaasd.
check_PROGRAMS += tests/unit/test_libkaas
tests_unit_test_libkaas_SOURCES = tests/unit/test_libkaas.c
tests_unit_test_libkaas_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_libkaas_LDADD = client/libkaas-static.la $(JANSSON_LIBS) $(CMOCKA_LIBS)
TESTS += tests/unit/test_libkaas tests/integration/test_kaasctl.sh \
	tests/integration/test_kaasctl_token.sh tests/integration/test_kaasctl_controls.sh
EXTRA_DIST += tests/integration/test_kaasctl.sh tests/integration/test_kaasctl_token.sh \
	tests/integration/test_kaasctl_controls.sh
