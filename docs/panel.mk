# The panel's manual page, kaas-panel(8). The operators' and users' guide
# (docs/panel.md, with screenshots the browser tests take) is distributed
# with the browser tests.
dist_man_MANS += docs/kaas-panel.8

# The man page and the example configuration against the code's table.
TESTS += tests/integration/test_panel_docs.sh
EXTRA_DIST += tests/integration/test_panel_docs.sh
