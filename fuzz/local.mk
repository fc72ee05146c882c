# fuzz/: libFuzzer targets for every parser of untrusted input (see
# fuzz/README.md). Each fuzz/fuzz_NAME.c is linked twice:
#   fuzz/fuzz_NAME    with libFuzzer, only with ./configure CC=clang
#                     --enable-fuzzing --enable-sanitizers; run by
#                     `make fuzz-smoke` (a short run each) and `make fuzz`
#   fuzz/replay_NAME  with fuzz/replay.c, in every build: `make check`
#                     replays fuzz/corpus/NAME and fuzz/regressions/NAME
# configure adds -fsanitize=fuzzer-no-link to every object of a fuzzing
# build, so coverage reaches into the libraries; libFuzzer itself and its
# flags go to the targets' own objects only.

FUZZ_NAMES = varlink_frame varlink_message varlink_validate varlink_idl token_format config_file \
	keystone_json store_record identity_blob tokenreview unix_names nss_pack webhook_settings webhook_http \
	etcd_json panel_form

# how long `make fuzz-smoke` runs each target, and `make fuzz` (seconds);
# FUZZ_TARGETS="a b" runs only those
FUZZ_SMOKE_SECONDS = 15
FUZZ_SECONDS = 300
FUZZ_TARGETS = $(FUZZ_NAMES)

fuzz_cflags = $(AM_CFLAGS) -I$(top_srcdir)/kaasd $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(INIH_CFLAGS) $(CURL_CFLAGS)
fuzz_engine_cflags = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz_engine_ldflags = $(AM_LDFLAGS) -fsanitize=fuzzer,address,undefined

EXTRA_DIST += fuzz/README.md fuzz/run.sh fuzz/corpus fuzz/regressions \
	fuzz/varlink.dict fuzz/config_file.dict fuzz/webhook_settings.dict fuzz/keystone_json.dict fuzz/tokenreview.dict \
	fuzz/webhook_http.dict

if ENABLE_FUZZING
noinst_PROGRAMS += \
	fuzz/fuzz_varlink_frame \
	fuzz/fuzz_varlink_message \
	fuzz/fuzz_varlink_validate \
	fuzz/fuzz_varlink_idl \
	fuzz/fuzz_token_format \
	fuzz/fuzz_config_file \
	fuzz/fuzz_keystone_json \
	fuzz/fuzz_store_record \
	fuzz/fuzz_identity_blob \
	fuzz/fuzz_tokenreview \
	fuzz/fuzz_unix_names \
	fuzz/fuzz_nss_pack \
	fuzz/fuzz_webhook_settings \
	fuzz/fuzz_webhook_http \
	fuzz/fuzz_etcd_json \
	fuzz/fuzz_panel_form

# every target for FUZZ_SMOKE_SECONDS over its seed corpus; fails on any crash
fuzz-smoke: all
	$(AM_V_at)$(SHELL) $(top_srcdir)/fuzz/run.sh $(top_srcdir) $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)
fuzz: all
	$(AM_V_at)$(SHELL) $(top_srcdir)/fuzz/run.sh $(top_srcdir) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
else
fuzz fuzz-smoke:
	@echo "fuzz targets are not built: configure with ./configure CC=clang --enable-fuzzing --enable-sanitizers" >&2; exit 1
endif
.PHONY: fuzz fuzz-smoke clean-fuzz
# what the fuzzer found and its logs (fuzz/run.sh)
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/work fuzz/artifacts

check_PROGRAMS += \
	fuzz/replay_varlink_frame \
	fuzz/replay_varlink_message \
	fuzz/replay_varlink_validate \
	fuzz/replay_varlink_idl \
	fuzz/replay_token_format \
	fuzz/replay_config_file \
	fuzz/replay_keystone_json \
	fuzz/replay_store_record \
	fuzz/replay_identity_blob \
	fuzz/replay_tokenreview \
	fuzz/replay_unix_names \
	fuzz/replay_nss_pack \
	fuzz/replay_webhook_settings \
	fuzz/replay_webhook_http \
	fuzz/replay_etcd_json \
	fuzz/replay_panel_form
TESTS += \
	fuzz/replay_varlink_frame \
	fuzz/replay_varlink_message \
	fuzz/replay_varlink_validate \
	fuzz/replay_varlink_idl \
	fuzz/replay_token_format \
	fuzz/replay_config_file \
	fuzz/replay_keystone_json \
	fuzz/replay_store_record \
	fuzz/replay_identity_blob \
	fuzz/replay_tokenreview \
	fuzz/replay_unix_names \
	fuzz/replay_nss_pack \
	fuzz/replay_webhook_settings \
	fuzz/replay_webhook_http \
	fuzz/replay_etcd_json \
	fuzz/replay_panel_form

# varlink_frame
fuzz_varlink_frame_libs = common/libkaas-common.la $(JANSSON_LIBS)
fuzz_fuzz_varlink_frame_SOURCES = fuzz/fuzz_varlink_frame.c fuzz/fuzz.h
fuzz_fuzz_varlink_frame_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_varlink_frame_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_varlink_frame_LDADD = $(fuzz_varlink_frame_libs)
fuzz_replay_varlink_frame_SOURCES = fuzz/replay.c fuzz/fuzz_varlink_frame.c fuzz/fuzz.h
fuzz_replay_varlink_frame_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"varlink_frame"'
fuzz_replay_varlink_frame_LDADD = $(fuzz_varlink_frame_libs)

# varlink_message
fuzz_varlink_message_libs = kaasd/libkaasd-core.la common/libkaas-common.la $(JANSSON_LIBS)
fuzz_fuzz_varlink_message_SOURCES = fuzz/fuzz_varlink_message.c fuzz/fuzz.h
nodist_fuzz_fuzz_varlink_message_SOURCES = kaasd/interfaces.c
fuzz_fuzz_varlink_message_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_varlink_message_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_varlink_message_LDADD = $(fuzz_varlink_message_libs)
fuzz_replay_varlink_message_SOURCES = fuzz/replay.c fuzz/fuzz_varlink_message.c fuzz/fuzz.h
nodist_fuzz_replay_varlink_message_SOURCES = kaasd/interfaces.c
fuzz_replay_varlink_message_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"varlink_message"'
fuzz_replay_varlink_message_LDADD = $(fuzz_varlink_message_libs)

# varlink_validate
fuzz_varlink_validate_libs = common/libkaas-common.la $(JANSSON_LIBS)
fuzz_fuzz_varlink_validate_SOURCES = fuzz/fuzz_varlink_validate.c fuzz/fuzz.h
nodist_fuzz_fuzz_varlink_validate_SOURCES = kaasd/interfaces.c
fuzz_fuzz_varlink_validate_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_varlink_validate_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_varlink_validate_LDADD = $(fuzz_varlink_validate_libs)
fuzz_replay_varlink_validate_SOURCES = fuzz/replay.c fuzz/fuzz_varlink_validate.c fuzz/fuzz.h
nodist_fuzz_replay_varlink_validate_SOURCES = kaasd/interfaces.c
fuzz_replay_varlink_validate_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"varlink_validate"'
fuzz_replay_varlink_validate_LDADD = $(fuzz_varlink_validate_libs)

# varlink_idl
fuzz_varlink_idl_libs = common/libkaas-common.la $(JANSSON_LIBS)
fuzz_fuzz_varlink_idl_SOURCES = fuzz/fuzz_varlink_idl.c fuzz/fuzz.h
fuzz_fuzz_varlink_idl_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_varlink_idl_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_varlink_idl_LDADD = $(fuzz_varlink_idl_libs)
fuzz_replay_varlink_idl_SOURCES = fuzz/replay.c fuzz/fuzz_varlink_idl.c fuzz/fuzz.h
fuzz_replay_varlink_idl_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"varlink_idl"'
fuzz_replay_varlink_idl_LDADD = $(fuzz_varlink_idl_libs)

# token_format
fuzz_token_format_libs = common/libkaas-token.la $(SODIUM_LIBS)
fuzz_fuzz_token_format_SOURCES = fuzz/fuzz_token_format.c fuzz/fuzz.h
fuzz_fuzz_token_format_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_token_format_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_token_format_LDADD = $(fuzz_token_format_libs)
fuzz_replay_token_format_SOURCES = fuzz/replay.c fuzz/fuzz_token_format.c fuzz/fuzz.h
fuzz_replay_token_format_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"token_format"'
fuzz_replay_token_format_LDADD = $(fuzz_token_format_libs)

# config_file
fuzz_config_file_libs = kaasd/libkaasd-core.la $(INIH_LIBS)
fuzz_fuzz_config_file_SOURCES = fuzz/fuzz_config_file.c fuzz/fuzz.h fuzz/fuzz_file.h
fuzz_fuzz_config_file_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_config_file_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_config_file_LDADD = $(fuzz_config_file_libs)
fuzz_replay_config_file_SOURCES = fuzz/replay.c fuzz/fuzz_config_file.c fuzz/fuzz.h fuzz/fuzz_file.h
fuzz_replay_config_file_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"config_file"'
fuzz_replay_config_file_LDADD = $(fuzz_config_file_libs)

# keystone_json
fuzz_keystone_json_libs = kaasd/libkaasd-identity.la $(JANSSON_LIBS)
fuzz_fuzz_keystone_json_SOURCES = fuzz/fuzz_keystone_json.c fuzz/fuzz.h
fuzz_fuzz_keystone_json_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_keystone_json_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_keystone_json_LDADD = $(fuzz_keystone_json_libs)
fuzz_replay_keystone_json_SOURCES = fuzz/replay.c fuzz/fuzz_keystone_json.c fuzz/fuzz.h
fuzz_replay_keystone_json_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"keystone_json"'
fuzz_replay_keystone_json_LDADD = $(fuzz_keystone_json_libs)

# store_record
fuzz_store_record_libs = kaasd/libkaasd-store.la common/libkaas-token.la $(BDB_LIBS) $(SODIUM_LIBS)
fuzz_fuzz_store_record_SOURCES = fuzz/fuzz_store_record.c fuzz/fuzz.h
fuzz_fuzz_store_record_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_store_record_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_store_record_LDADD = $(fuzz_store_record_libs)
fuzz_replay_store_record_SOURCES = fuzz/replay.c fuzz/fuzz_store_record.c fuzz/fuzz.h
fuzz_replay_store_record_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"store_record"'
fuzz_replay_store_record_LDADD = $(fuzz_store_record_libs)

# identity_blob
fuzz_identity_blob_libs = kaasd/libkaasd-identity.la kaasd/libkaasd-core.la $(JANSSON_LIBS) $(INIH_LIBS)
fuzz_fuzz_identity_blob_SOURCES = fuzz/fuzz_identity_blob.c fuzz/fuzz.h
fuzz_fuzz_identity_blob_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_identity_blob_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_identity_blob_LDADD = $(fuzz_identity_blob_libs)
fuzz_replay_identity_blob_SOURCES = fuzz/replay.c fuzz/fuzz_identity_blob.c fuzz/fuzz.h
fuzz_replay_identity_blob_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"identity_blob"'
fuzz_replay_identity_blob_LDADD = $(fuzz_identity_blob_libs)

# tokenreview
fuzz_tokenreview_libs = webhook/libkaas-tokenreview.la common/libkaas-common.la $(JANSSON_LIBS)
fuzz_fuzz_tokenreview_SOURCES = fuzz/fuzz_tokenreview.c fuzz/fuzz.h
fuzz_fuzz_tokenreview_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_tokenreview_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_tokenreview_LDADD = $(fuzz_tokenreview_libs)
fuzz_replay_tokenreview_SOURCES = fuzz/replay.c fuzz/fuzz_tokenreview.c fuzz/fuzz.h
fuzz_replay_tokenreview_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"tokenreview"'
fuzz_replay_tokenreview_LDADD = $(fuzz_tokenreview_libs)

# unix_names and nss_pack: built into kaasd and the NSS module themselves,
# not into a library; compiled in as their unit tests do
fuzz_unix_names_sources = kaasd/unix_names.c kaasd/unix_names.h
fuzz_fuzz_unix_names_SOURCES = fuzz/fuzz_unix_names.c fuzz/fuzz.h $(fuzz_unix_names_sources)
fuzz_fuzz_unix_names_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_unix_names_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_replay_unix_names_SOURCES = fuzz/replay.c fuzz/fuzz_unix_names.c fuzz/fuzz.h $(fuzz_unix_names_sources)
fuzz_replay_unix_names_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"unix_names"'

fuzz_nss_pack_sources = nss_kaas/nss_pack.c nss_kaas/nss_pack.h nss_kaas/nss_scan.c nss_kaas/nss_scan.h \
	common/group_file_name.c common/group_file_name.h
fuzz_fuzz_nss_pack_SOURCES = fuzz/fuzz_nss_pack.c fuzz/fuzz.h $(fuzz_nss_pack_sources)
fuzz_fuzz_nss_pack_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_nss_pack_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_nss_pack_LDADD = $(JANSSON_LIBS)
fuzz_replay_nss_pack_SOURCES = fuzz/replay.c fuzz/fuzz_nss_pack.c fuzz/fuzz.h $(fuzz_nss_pack_sources)
fuzz_replay_nss_pack_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"nss_pack"'
fuzz_replay_nss_pack_LDADD = $(JANSSON_LIBS)

# webhook_settings: kaas-webhook's settings file, compiled in as above,
# with the value parsing it shares with kaasd
fuzz_webhook_settings_sources = webhook/settings.c webhook/settings.h httpd/listen.c httpd/listen.h
fuzz_webhook_settings_libs = common/libkaas-config.la $(INIH_LIBS) $(JANSSON_LIBS)
fuzz_fuzz_webhook_settings_SOURCES = fuzz/fuzz_webhook_settings.c fuzz/fuzz.h fuzz/fuzz_file.h $(fuzz_webhook_settings_sources)
fuzz_fuzz_webhook_settings_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_webhook_settings_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_webhook_settings_LDADD = $(fuzz_webhook_settings_libs)
fuzz_replay_webhook_settings_SOURCES = fuzz/replay.c fuzz/fuzz_webhook_settings.c fuzz/fuzz.h fuzz/fuzz_file.h \
	$(fuzz_webhook_settings_sources)
fuzz_replay_webhook_settings_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"webhook_settings"'
fuzz_replay_webhook_settings_LDADD = $(fuzz_webhook_settings_libs)

# webhook_http: kaas-webhook's HTTP handling through libmicrohttpd, in
# plaintext mode on socketpairs; its sources compiled in as kaas-webhook
# builds them (webhook/local.mk), main.c aside
fuzz_webhook_http_sources = \
	webhook/settings.c webhook/settings.h \
	webhook/server.c webhook/server.h \
	webhook/review.c webhook/review.h \
	webhook/metrics.c webhook/metrics.h
fuzz_webhook_http_cflags = $(fuzz_cflags) -pthread $(MHD_CFLAGS) $(GNUTLS_CFLAGS) $(SYSTEMD_CFLAGS)
fuzz_webhook_http_libs = webhook/libkaas-tokenreview.la httpd/libkaas-httpd.la client/libkaas-static.la \
	common/libkaas-token.la common/libkaas-config.la \
	$(MHD_LIBS) $(GNUTLS_LIBS) $(INIH_LIBS) $(SYSTEMD_LIBS) $(JANSSON_LIBS) $(SODIUM_LIBS)
fuzz_fuzz_webhook_http_SOURCES = fuzz/fuzz_webhook_http.c fuzz/fuzz.h $(fuzz_webhook_http_sources)
fuzz_fuzz_webhook_http_CFLAGS = $(fuzz_webhook_http_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_webhook_http_LDFLAGS = $(fuzz_engine_ldflags) -pthread
fuzz_fuzz_webhook_http_LDADD = $(fuzz_webhook_http_libs)
fuzz_replay_webhook_http_SOURCES = fuzz/replay.c fuzz/fuzz_webhook_http.c fuzz/fuzz.h $(fuzz_webhook_http_sources)
fuzz_replay_webhook_http_CFLAGS = $(fuzz_webhook_http_cflags) -DFUZZ_NAME='"webhook_http"'
fuzz_replay_webhook_http_LDFLAGS = $(AM_LDFLAGS) -pthread
fuzz_replay_webhook_http_LDADD = $(fuzz_webhook_http_libs)

# etcd_json
fuzz_etcd_json_libs = kaasd/libkaasd-replica.la kaasd/libkaasd-etcd.la kaasd/libkaasd-store.la \
	common/libkaas-token.la $(JANSSON_LIBS) $(BDB_LIBS) $(SODIUM_LIBS)
fuzz_fuzz_etcd_json_SOURCES = fuzz/fuzz_etcd_json.c fuzz/fuzz.h
fuzz_fuzz_etcd_json_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_etcd_json_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_etcd_json_LDADD = $(fuzz_etcd_json_libs)
fuzz_replay_etcd_json_SOURCES = fuzz/replay.c fuzz/fuzz_etcd_json.c fuzz/fuzz.h
fuzz_replay_etcd_json_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"etcd_json"'
fuzz_replay_etcd_json_LDADD = $(fuzz_etcd_json_libs)

# panel_form: kaas-panel's decoder of POST bodies and the escaping of what
# it decoded, from the library the panel links (panel/local.mk)
fuzz_panel_form_libs = panel/libkaas-panel.la $(JANSSON_LIBS) $(SODIUM_LIBS)
fuzz_fuzz_panel_form_SOURCES = fuzz/fuzz_panel_form.c fuzz/fuzz.h
fuzz_fuzz_panel_form_CFLAGS = $(fuzz_cflags) $(fuzz_engine_cflags)
fuzz_fuzz_panel_form_LDFLAGS = $(fuzz_engine_ldflags)
fuzz_fuzz_panel_form_LDADD = $(fuzz_panel_form_libs)
fuzz_replay_panel_form_SOURCES = fuzz/replay.c fuzz/fuzz_panel_form.c fuzz/fuzz.h
fuzz_replay_panel_form_CFLAGS = $(fuzz_cflags) -DFUZZ_NAME='"panel_form"'
fuzz_replay_panel_form_LDADD = $(fuzz_panel_form_libs)
