# The webhook's documentation: kaas-webhook(8), and the guide to wiring it
# into kube-apiserver (flags, certificates, RBAC).
dist_man_MANS += docs/kaas-webhook.8
EXTRA_DIST += docs/kubernetes.md

# The man page and the example configuration against the code's tables.
TESTS += tests/integration/test_webhook_docs.sh
EXTRA_DIST += tests/integration/test_webhook_docs.sh
