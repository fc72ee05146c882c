# nss_kaas/: libnss_kaas.so.2, the NSS module that makes Keystone users and
# roles Unix users and groups by asking kaasd (io.kaas.Nss). Built as a
# libtool module whose file is libnss_kaas.so.2 (the name glibc and
# nss_wrapper load), exporting only the _nss_kaas_* entry points. It embeds
# libkaas (client/libkaas-static.la) so it depends on no libkaas soname.
nssmoddir = $(libdir)
nssmod_LTLIBRARIES = nss_kaas/libnss_kaas.la
nss_kaas_libnss_kaas_la_SOURCES = nss_kaas/nss_kaas.c nss_kaas/nss_pack.c nss_kaas/nss_pack.h \
	nss_kaas/nss_scan.c nss_kaas/nss_scan.h \
	nss_kaas/nss_group_file.c nss_kaas/nss_group_file.h
nss_kaas_libnss_kaas_la_CPPFLAGS = $(AM_CPPFLAGS) -DKAAS_EMBEDDED
# Functions start on a 64-byte line, so that a loop keeps its place in a
# line whatever is linked before it: when an unrelated change moved the
# loop over a large group's members (nss_scan.c) across a line of the
# CPU's decoded-instruction cache, a 100,000-member lookup took a sixth
# longer (docs/PERFORMANCE.md, "The ninth round").
nss_kaas_libnss_kaas_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -falign-functions=64
nss_kaas_libnss_kaas_la_LIBADD = client/libkaas-static.la $(JANSSON_LIBS)
nss_kaas_libnss_kaas_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shrext .so.2 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/nss_kaas/nss_kaas.sym
EXTRA_nss_kaas_libnss_kaas_la_DEPENDENCIES = nss_kaas/nss_kaas.sym
EXTRA_DIST += nss_kaas/nss_kaas.sym

# Unit tests: the mapping rules of kaasd (names, ids, local files) and the
# buffer packing of the module.
nss_unit_cflags = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -I$(top_srcdir)/kaasd -I$(top_srcdir)/nss_kaas
check_PROGRAMS += tests/unit/test_nss_pack tests/unit/test_unix_names
TESTS += tests/unit/test_nss_pack tests/unit/test_unix_names
tests_unit_test_nss_pack_SOURCES = tests/unit/test_nss_pack.c nss_kaas/nss_pack.c nss_kaas/nss_scan.c
tests_unit_test_nss_pack_CFLAGS = $(nss_unit_cflags)
tests_unit_test_nss_pack_LDADD = $(CMOCKA_LIBS)
tests_unit_test_unix_names_SOURCES = tests/unit/test_unix_names.c kaasd/unix_names.c kaasd/local_accounts.c
tests_unit_test_unix_names_CFLAGS = $(nss_unit_cflags)
tests_unit_test_unix_names_LDADD = $(CMOCKA_LIBS)

# Integration: the module under nss_wrapper against a real kaasd and a real
# Keystone; two small programs drive glibc and the module directly.
check_PROGRAMS += tests/integration/nss_erange tests/integration/nss_probe tests/integration/nss_allocs
tests_integration_nss_erange_SOURCES = tests/integration/nss_erange.c
tests_integration_nss_probe_SOURCES = tests/integration/nss_probe.c
tests_integration_nss_probe_LDADD = -ldl -lpthread
tests_integration_nss_allocs_SOURCES = tests/integration/nss_allocs.c
tests_integration_nss_allocs_LDADD = -ldl
# the allocation functions exported, so that the module and jansson bind to them
tests_integration_nss_allocs_LDFLAGS = $(AM_LDFLAGS) -rdynamic
TESTS += tests/integration/test_nss.sh
EXTRA_DIST += tests/integration/test_nss.sh

# kaasd at the size of a real environment: 100,000 cached identities made
# by bench-fill-store (built for this test as for the benchmarks).
check_PROGRAMS += bench/bench-fill-store
TESTS += tests/integration/test_scale.sh
EXTRA_DIST += tests/integration/test_scale.sh

# The group files: kaasd's writer and the module's reader, against each
# other and against files that must not be taken.
check_PROGRAMS += tests/unit/test_group_files
TESTS += tests/unit/test_group_files
tests_unit_test_group_files_SOURCES = tests/unit/test_group_files.c kaasd/group_files.c \
	nss_kaas/nss_group_file.c nss_kaas/nss_scan.c nss_kaas/nss_pack.c
tests_unit_test_group_files_CFLAGS = $(nss_unit_cflags)
tests_unit_test_group_files_LDADD = common/libkaas-common.la $(CMOCKA_LIBS)
