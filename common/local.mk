# common/: code shared by the daemon and every client — varlink framing,
# message envelopes, IDL parsing and checking. Built once as a convenience
# library; it never logs and holds no global state, so the PAM and NSS
# modules can link it too.
noinst_LTLIBRARIES += common/libkaas-common.la
common_libkaas_common_la_SOURCES = \
	common/varlink_frame.c common/varlink_frame.h \
	common/varlink_message.c common/varlink_message.h \
	common/varlink_idl.c common/varlink_idl.h \
	common/passwd_file.c common/passwd_file.h \
	common/group_file_name.c common/group_file_name.h \
	common/json_values.c common/json_values.h \
	common/cleanup.h common/decimal.h common/utf8.h
common_libkaas_common_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) -fPIC
common_libkaas_common_la_LIBADD = $(JANSSON_LIBS)

# The values of kaasd's and kaas-webhook's INI files (numbers, sizes,
# booleans, log levels, and the first error with its file and line). A
# library of its own: only those two programs link libinih.
noinst_LTLIBRARIES += common/libkaas-config.la
common_libkaas_config_la_SOURCES = common/config_value.c common/config_value.h
common_libkaas_config_la_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS)
common_libkaas_config_la_LIBADD = $(INIH_LIBS)

# Kubernetes documents (YAML, kubeconfig, ClusterRoleBinding) for kaasctl
# and kaas-panel: one quoting of values, one place.
noinst_LTLIBRARIES += common/libkaas-kube.la
common_libkaas_kube_la_SOURCES = common/kube_doc.c common/kube_doc.h
common_libkaas_kube_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
common_libkaas_kube_la_LIBADD = $(JANSSON_LIBS)
