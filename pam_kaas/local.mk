# pam_kaas/: the PAM module pam_kaas.so — SSH and host login with KaaS
# tokens. One file per PAM stage around support.c, as pam_unix does. It
# embeds libkaas (client/libkaas-static.la, which carries the common
# code) and the token format check, so it depends on no library of ours,
# and its version script exports only pam_sm_*.
pammod_LTLIBRARIES += pam_kaas/pam_kaas.la
pam_kaas_pam_kaas_la_SOURCES = \
	pam_kaas/support.c pam_kaas/support.h \
	pam_kaas/pam_kaas_auth.c \
	pam_kaas/pam_kaas_acct.c \
	pam_kaas/pam_kaas_sess.c \
	pam_kaas/pam_kaas_passwd.c
pam_kaas_pam_kaas_la_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
pam_kaas_pam_kaas_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared -no-undefined \
	-Wl,--version-script=$(top_srcdir)/pam_kaas/pam_kaas.sym
pam_kaas_pam_kaas_la_LIBADD = client/libkaas-static.la common/libkaas-token.la \
	$(JANSSON_LIBS) $(SODIUM_LIBS) $(PAM_LIBS)
EXTRA_pam_kaas_pam_kaas_la_DEPENDENCIES = pam_kaas/pam_kaas.sym
EXTRA_DIST += pam_kaas/pam_kaas.sym

# PAM loads pam_kaas.so by itself: libtool's .la is of no use there.
# (A prerequisite, not a recipe, so other fragments can hook in too.)
install-data-hook: pam-kaas-install-data-hook
pam-kaas-install-data-hook:
	rm -f $(DESTDIR)$(pammoddir)/pam_kaas.la
# without its .la, libtool cannot uninstall the module: remove it here
uninstall-local: pam-kaas-uninstall-local
pam-kaas-uninstall-local:
	rm -f $(DESTDIR)$(pammoddir)/pam_kaas.so

# Tests: the module through libpamtest and pam_wrapper against a real
# kaasd and Keystone (test_pam.sh drives test_pam), and a real sshd.
check_PROGRAMS += tests/integration/test_pam
tests_integration_test_pam_SOURCES = tests/integration/test_pam.c
tests_integration_test_pam_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_integration_test_pam_LDADD = $(PAMTEST_LIBS) $(PAM_LIBS) $(CMOCKA_LIBS)
TESTS += tests/integration/test_pam.sh tests/e2e/test_sshd.sh tests/e2e/test_sshd_scale.sh
EXTRA_DIST += tests/integration/test_pam.sh tests/e2e/test_sshd.sh tests/e2e/test_sshd_scale.sh \
	tests/lib/sshd-host.sh
