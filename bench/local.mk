# bench/: benchmarks, each with its baseline run side by side in the same
# run (docs/PERFORMANCE.md). Never part of `make check`: the programs are
# EXTRA_PROGRAMS, built only by the bench targets, and nothing here is in
# TESTS. `make bench` runs them all; `make bench-NAME` one of them.
# BENCH_SECONDS (seconds per round and side) and BENCH_ROUNDS lengthen a
# run; filled stores are kept in bench-data/ of the build tree for reuse.

BENCH_BINARIES = \
	bench/bench-echo-server \
	bench/bench-validate \
	bench/bench-fill-store \
	bench/bench-const-https-server \
	bench/bench-nss \
	bench/bench-pam \
	bench/bench-create \
	bench/bench-startup \
	bench/bench-scale \
	bench/bench-group-file
EXTRA_PROGRAMS = $(BENCH_BINARIES)
CLEANFILES += $(BENCH_BINARIES)

bench_common = bench/bench.c bench/bench.h
bench_cflags = $(AM_CFLAGS) -pthread $(JANSSON_CFLAGS)

bench_bench_echo_server_SOURCES = bench/echo_server.c

bench_bench_validate_SOURCES = bench/bench_validate.c $(bench_common)
bench_bench_validate_CFLAGS = $(bench_cflags)
bench_bench_validate_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_validate_LDADD = client/libkaas-static.la $(JANSSON_LIBS)

bench_bench_fill_store_SOURCES = bench/fill_store.c
bench_bench_fill_store_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) -I$(top_srcdir)/kaasd
bench_bench_fill_store_LDADD = kaasd/libkaasd-identity.la kaasd/libkaasd-store.la common/libkaas-token.la \
	$(BDB_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS) $(CURL_LIBS)

bench_bench_const_https_server_SOURCES = bench/const_https_server.c
bench_bench_const_https_server_CFLAGS = $(AM_CFLAGS) $(MHD_CFLAGS) $(GNUTLS_CFLAGS)
bench_bench_const_https_server_LDADD = $(MHD_LIBS) $(GNUTLS_LIBS)

bench_bench_nss_SOURCES = bench/bench_nss.c $(bench_common)
bench_bench_nss_CFLAGS = $(bench_cflags)
bench_bench_nss_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_nss_LDADD = common/libkaas-common.la $(JANSSON_LIBS) -ldl

bench_bench_pam_SOURCES = bench/bench_pam.c $(bench_common)
bench_bench_pam_CFLAGS = $(bench_cflags)
bench_bench_pam_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_pam_LDADD = client/libkaas-static.la $(PAM_LIBS) $(JANSSON_LIBS)

bench_bench_create_SOURCES = bench/bench_create.c $(bench_common)
bench_bench_create_CFLAGS = $(bench_cflags)
bench_bench_create_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_create_LDADD = client/libkaas-static.la $(JANSSON_LIBS)

bench_bench_startup_SOURCES = bench/bench_startup.c $(bench_common)
bench_bench_startup_CFLAGS = $(bench_cflags)
bench_bench_startup_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_startup_LDADD = client/libkaas-static.la $(JANSSON_LIBS)

bench_bench_group_file_SOURCES = bench/bench_group_file.c $(bench_common)
bench_bench_group_file_CFLAGS = $(bench_cflags)
bench_bench_group_file_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_group_file_LDADD = common/libkaas-common.la -ldl

bench_bench_scale_SOURCES = bench/bench_scale.c $(bench_common)
bench_bench_scale_CFLAGS = $(bench_cflags)
bench_bench_scale_LDFLAGS = $(AM_LDFLAGS) -pthread
bench_bench_scale_LDADD = client/libkaas-static.la $(JANSSON_LIBS) -ldl

EXTRA_DIST += bench/run.sh bench/lib.sh bench/http.sh bench/environment.sh bench/env_latency.py bench/tokenreview.lua docs/PERFORMANCE.md \
	bench/panel.sh bench/panel_client.py bench/forward.sh bench/bearer.lua

BENCH_RUN = top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	$(SHELL) $(top_srcdir)/bench/run.sh
BENCH_DEPS = $(BENCH_BINARIES) kaasd/kaasd client/kaasctl

bench: $(BENCH_DEPS) webhook/kaas-webhook nss_kaas/libnss_kaas.la pam_kaas/pam_kaas.la
	$(BENCH_RUN) all
bench-validate: $(BENCH_DEPS)
	$(BENCH_RUN) validate
bench-webhook: $(BENCH_DEPS) webhook/kaas-webhook
	$(BENCH_RUN) webhook
bench-nss: $(BENCH_DEPS) nss_kaas/libnss_kaas.la
	$(BENCH_RUN) nss
bench-pam: $(BENCH_DEPS) pam_kaas/pam_kaas.la
	$(BENCH_RUN) pam
bench-create: $(BENCH_DEPS)
	$(BENCH_RUN) create
bench-scale: $(BENCH_DEPS) nss_kaas/libnss_kaas.la
	$(BENCH_RUN) scale
bench-group-file: bench/bench-group-file nss_kaas/libnss_kaas.la
	$(BENCH_RUN) group-file
bench-memory: $(BENCH_DEPS)
	$(BENCH_RUN) memory
bench-environment: $(BENCH_DEPS)
	$(BENCH_RUN) environment
bench-panel: $(BENCH_DEPS) panel/kaas-panel webhook/kaas-webhook
	$(BENCH_RUN) panel
bench-forward-auth: $(BENCH_DEPS) panel/kaas-panel
	$(BENCH_RUN) forward-auth
# the filled stores are slow to make and kept across runs; this drops them
bench-clean-data:
	rm -rf bench-data
.PHONY: bench bench-panel bench-forward-auth bench-validate bench-webhook bench-nss bench-pam bench-create bench-memory bench-scale bench-group-file bench-environment bench-clean-data
