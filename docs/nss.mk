# The NSS module's man page.
dist_man_MANS += docs/nss_kaas.8
