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
EXTRA_DIST += tests/integration/test_load.sh tests/integration/load_clients.py
