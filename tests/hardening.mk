# Hardening: hostile input, failures and load must not crash kaasd, lose
# tokens or let anyone in. Shell tests run kaasd from the build tree; the
# ones that need a real Keystone start one (tests/keystone/) or use the
# shared one. Fuzzing is fuzz/'s.

TESTS += tests/integration/test_faults_store.sh
EXTRA_DIST += tests/integration/test_faults_store.sh

TESTS += tests/integration/test_permissions.sh
EXTRA_DIST += tests/integration/test_permissions.sh

TESTS += tests/integration/test_privdrop.sh
EXTRA_DIST += tests/integration/test_privdrop.sh

TESTS += tests/integration/test_load.sh
EXTRA_DIST += tests/integration/test_load.sh tests/integration/load_clients.py tests/lib/load_client.py

TESTS += tests/integration/test_faults_keystone.sh
EXTRA_DIST += tests/integration/test_faults_keystone.sh tests/lib/keystone_fault_proxy.py
# the panel's revocations of ended sessions through a Keystone outage
TESTS += tests/integration/test_panel_outage.sh
EXTRA_DIST += tests/integration/test_panel_outage.sh

# one ordinary user's flood of lookups keeps to its share of Keystone;
# root's lookups still get through
TESTS += tests/integration/test_keystone_share.sh
EXTRA_DIST += tests/integration/test_keystone_share.sh

# kaasd stopped while token checks wait for Keystone answers them and
# exits cleanly
TESTS += tests/integration/test_stop_in_flight.sh
EXTRA_DIST += tests/integration/test_stop_in_flight.sh

# kaas-webhook's counterpart: 5,000 held connections, trickling,
# non-reading and oversized clients from other addresses, while
# kube-apiserver's reviews all succeed
TESTS += tests/integration/test_webhook_load.sh
EXTRA_DIST += tests/integration/test_webhook_load.sh tests/integration/webhook_load_clients.py

# 10,000 calls through pam_kaas and libnss_kaas in one process, RSS compared
check_PROGRAMS += tests/integration/client_loop
tests_integration_client_loop_SOURCES = tests/integration/client_loop.c
tests_integration_client_loop_LDADD = $(PAM_LIBS) -ldl
TESTS += tests/integration/test_client_loop.sh
EXTRA_DIST += tests/integration/test_client_loop.sh

# make check-valgrind: integration suites with kaasd under valgrind (through
# $KAASD_WRAPPER, which tests/lib/keystone-env.sh and test_server honour).
# Fails on any memory error or definite leak in any kaasd they start. The
# suppressions cover Berkeley DB's own uninitialised bytes and one leak on
# its error path, nothing of kaasd's. Needs a build without
# --enable-sanitizers.
VALGRIND_SUITES = tests/integration/test_server tests/integration/test_tokens.sh \
	tests/integration/test_permissions.sh tests/integration/test_faults_store.sh \
	tests/integration/test_faults_keystone.sh tests/integration/test_client_loop.sh
VALGRIND_LOG_DIR = $(abs_top_builddir)/valgrind-logs
KAASD_VALGRIND = valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \
	--errors-for-leak-kinds=definite --num-callers=40 \
	--suppressions=$(abs_top_srcdir)/tests/valgrind.supp --log-file=$(VALGRIND_LOG_DIR)/kaasd.%p.log
EXTRA_DIST += tests/valgrind.supp

# the threat model and what the tests above show
EXTRA_DIST += docs/SECURITY.md

check-valgrind:
	@command -v valgrind >/dev/null || { echo "check-valgrind: valgrind is not installed"; exit 1; }
	@if ldd kaasd/kaasd 2>/dev/null | grep -q libasan; then \
	  echo "check-valgrind: kaasd is built with sanitizers; configure without --enable-sanitizers"; exit 1; fi
	rm -rf $(VALGRIND_LOG_DIR) && $(MKDIR_P) $(VALGRIND_LOG_DIR)
	@st=0; KAASD_WRAPPER='$(KAASD_VALGRIND)' $(MAKE) $(AM_MAKEFLAGS) check TESTS='$(VALGRIND_SUITES)' || st=1; \
	logs=`ls $(VALGRIND_LOG_DIR)/*.log 2>/dev/null | wc -l`; \
	bad=`grep -l -E 'ERROR SUMMARY: [1-9]' $(VALGRIND_LOG_DIR)/*.log 2>/dev/null`; \
	for f in $$bad; do echo "=== $$f"; cat "$$f"; done; \
	echo "check-valgrind: $$logs kaasd processes ran under valgrind, `echo $$bad | wc -w` with errors or definite leaks"; \
	test "$$st" = 0 && test "$$logs" -gt 0 && test -z "$$bad"
.PHONY: check-valgrind

clean-local: hardening-clean-local
hardening-clean-local:
	rm -rf $(VALGRIND_LOG_DIR)
.PHONY: hardening-clean-local
