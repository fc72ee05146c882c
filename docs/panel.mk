# The panel's manual page, kaas-panel(8). The operators' and users' guide
# (docs/panel.md, with screenshots the browser tests take) is distributed
# with the browser tests.
dist_man_MANS += docs/kaas-panel.8
