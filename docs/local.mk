# docs/: man pages, guides and the drift test that keeps them true to the
# code. The interface definitions (*.varlink) are distributed by
# kaasd/local.mk, which compiles them into kaasd.
dist_man_MANS += docs/kaasd.8 docs/kaasd.conf.5
EXTRA_DIST += docs/ARCHITECTURE.md docs/varlink.md

TESTS += tests/integration/test_docs.sh
EXTRA_DIST += tests/integration/test_docs.sh
include docs/client.mk
include docs/nss.mk
include docs/webhook.mk
include docs/pam.mk
include docs/panel.mk
