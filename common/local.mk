# common/: code shared by the daemon and every client — varlink framing,
# message envelopes, IDL parsing and checking. Built once as a convenience
# library; it never logs and holds no global state, so the PAM and NSS
# modules can link it too.
noinst_LTLIBRARIES += common/libkaas-common.la
common_libkaas_common_la_SOURCES = \
	common/varlink_frame.c common/varlink_frame.h \
	common/varlink_message.c common/varlink_message.h \
	common/varlink_idl.c common/varlink_idl.h \
	common/cleanup.h
common_libkaas_common_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -fPIC
common_libkaas_common_la_LIBADD = $(JANSSON_LIBS)
